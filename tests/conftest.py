"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
REFERENCE = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT

"""File names of a review: every cell and fit has a key, the stem of its files (posterior,
figures), made of its names by :func:`file_id`; :func:`check_keys` refuses a plan whose
keys would coincide, before any fit runs."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from bayes_msc.errors import InputError, Problem

if TYPE_CHECKING:
    from bayes_msc.workflow.plan import Cell, FitTask
    from bayes_msc.workflow.spec import Spec


PART_MAX = 40
"""Longest name kept whole in a file name (an outcome, a prior set, a covariate term)."""
KEY_MAX = 120
"""Longest key: with a figure's prefix and suffix a file name stays far below 255 bytes."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def file_id(text: str) -> str:
    """A name as part of a file name, distinct for distinct names.

    A name of ASCII letters and digits, single underscores between them, and at most
    :data:`PART_MAX` characters is kept as it is (``vas``, ``weakly_informative``). Any other
    name is written with its other characters as ``_``, shortened, and followed by ``-`` and
    8 hex digits of its SHA-256 (``pain-1`` -> ``pain_1-5d41402a``). Kept names never hold
    ``-``, so a changed name never equals a kept one, and two changed names differ by their
    hashes; :func:`make_plan` still checks the keys of a plan (they join several names).
    """
    text = str(text)
    plain = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
    if plain == text and 0 < len(text) <= PART_MAX:
        return text
    return f"{plain[: PART_MAX - 9]}-{_digest(text)}".lstrip("-") if plain else _digest(text)


def capped(key: str) -> str:
    """A key longer than :data:`KEY_MAX`, shortened and made distinct by its hash."""
    return key if len(key) <= KEY_MAX else f"{key[: KEY_MAX - 9]}-{_digest(key)}"


def month_id(month: float) -> str:
    return str(int(month)) if float(month).is_integer() else str(month).replace(".", "p")


def check_keys(spec: Spec, cells: list[Cell], fits: list[FitTask]) -> None:
    """Refuse two cells or two fits whose files would share a name (also on a filesystem
    that ignores case), before any fit runs."""
    problems = []
    for items, key in ((cells, "analysis.outcomes"), (fits, "bayes.priors")):
        seen: dict[str, Any] = {}
        for item in items:
            other = seen.setdefault(item.key.casefold(), item)
            if other is not item:
                problems.append(
                    Problem(
                        f"{describe(other)} and {describe(item)} would write files of one name "
                        f"('{item.key}', letter case aside); rename one of them",
                        file=str(spec.path),
                        key=key,
                    )
                )
    if problems:
        raise InputError(problems)


def describe(item: Cell | FitTask) -> str:
    text = f"outcome '{item.outcome}' month {item.month:g}"
    from bayes_msc.workflow.plan import FitTask  # here: plan imports this module

    if isinstance(item, FitTask):
        text += f" model {item.model} prior set '{item.prior}'" + (
            f" covariates {', '.join(item.covariates)}" if item.covariates else ""
        )
    return text

"""A study's output folder: checked before any work, resumable, never someone else's.

The folder holds ``study.json`` (written first: the study as run, its fingerprint and
the format marker :data:`STUDY_FORMAT`), ``chunks/`` (each finished chunk, written as it
completes) and, at the end, the summary and report files. :func:`check_folder` refuses
a folder this command did not write (or the working folder) and, with ``resume``, a
folder of another study (another fingerprint); it reads the finished chunks and writes
nothing. :func:`start_folder` then writes ``study.json``, and without ``resume`` first
removes what an earlier study left there, so that the study starts over.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_msc.errors import InputError, Problem
from bayes_msc.simstudy.chunks import finished_chunks
from bayes_msc.simstudy.spec import Study

STUDY_FORMAT = "bayes-msc simulation-study 1"
"""The ``format`` field of study.json: only a folder that carries it is replaced or resumed."""

OUTPUTS = ("chunks", "figures", "summary.csv", "summary.json", "index.html", "study.json")
"""What this command writes into the folder (what starting over removes)."""


def fingerprint(study: Study) -> str:
    """SHA-256 of everything that determines the results (:meth:`Study.to_dict`) and the
    package version: equal fingerprints, equal chunks."""
    from bayes_msc import __version__

    text = json.dumps({"study": study.to_dict(), "version": __version__}, sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _marker(out: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads((out / "study.json").read_text("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == STUDY_FORMAT else None


def check_folder(out: Path, study: Study, resume: bool) -> dict[int, pd.DataFrame]:
    """Check ``out`` (see the module docstring); return the chunks already finished there
    (none unless ``resume``).

    Raises
    ------
    InputError
        Naming ``out`` (``--out``) or ``resume`` (``--resume``).
    """
    here = Path.cwd().resolve()
    if out.exists() and (out.resolve() == here or out.resolve() in here.parents):
        raise InputError(Problem(f"output folder '{out}' is the working folder or contains it", argument="out"))
    if out.exists() and not out.is_dir():
        raise InputError(Problem(f"output folder '{out}' exists and is not a folder", argument="out"))
    if not out.exists() or not any(out.iterdir()):
        return {}
    marker = _marker(out)
    if marker is None:
        raise InputError(
            Problem(
                f"output folder '{out}' exists and is not a simulation-study folder (no study.json written by "
                "'bayes-msc simulation-study'); refusing to touch it: choose another output folder",
                argument="out",
            )
        )
    if not resume:
        return {}
    if marker.get("fingerprint") != fingerprint(study):
        raise InputError(
            Problem(
                f"output folder '{out}' holds another study (its study.json differs from this study file, or "
                "another version of bayes-msc wrote it); start it over instead of resuming",
                argument="resume",
            )
        )
    return finished_chunks(out / "chunks", study)


def start_folder(out: Path, study: Study, resume: bool) -> None:
    """Write ``study.json`` (atomically), after removing an earlier study's files unless
    ``resume`` (call :func:`check_folder` first)."""
    if not resume and out.exists():
        for name in OUTPUTS:
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out.mkdir(parents=True, exist_ok=True)
    doc = {"format": STUDY_FORMAT, "fingerprint": fingerprint(study), "study": study.to_dict()}
    write_text(out / "study.json", json.dumps(doc, indent=2, allow_nan=True) + "\n")


def write_text(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` atomically (a temporary file beside it, then
    :func:`os.replace`), readable as the umask allows."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise

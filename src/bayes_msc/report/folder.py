"""The report folder: checked before any work, written complete or not at all.

:func:`check_out` refuses a folder the package did not write (or the working folder)
before the review starts. :func:`write_report_folder` writes everything (posterior files,
figures, tables, summary.json, index.html) into a temporary sibling of the target and
moves it into place only at the end (:func:`os.replace`), so an interrupted or failed
run leaves the previous report intact and no partial one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bayes_msc.errors import InputError, Problem
from bayes_msc.report.writer import SUMMARY_FORMAT, write_report
from bayes_msc.workflow.results import RunResults


def check_out(out: Path) -> None:
    """Refuse to replace a folder this package did not write (or the working folder).

    Raises
    ------
    InputError
        Naming the folder (``--out`` on the command line, ``out`` in Python).
    """
    if not out.exists():
        return
    problem = None
    here = Path.cwd().resolve()
    if out.resolve() == here or out.resolve() in here.parents:
        problem = "is the working folder or contains it; choose a folder for the report"
    elif not out.is_dir():
        problem = "exists and is not a folder"
    elif any(out.iterdir()):
        summary = out / "summary.json"
        try:
            ours = summary.is_file() and json.loads(summary.read_text("utf-8")).get("format") == SUMMARY_FORMAT
        except (ValueError, UnicodeDecodeError, AttributeError):
            ours = False  # an unreadable summary.json is not one this command wrote
        if not ours:
            problem = (
                "exists and is not a bayes-msc report folder (no summary.json written by "
                "'bayes-msc run'); refusing to replace it: choose another folder"
            )
    if problem:
        raise InputError(Problem(f"output folder '{out}' {problem}", argument="out"))


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Move the finished folder ``tmp`` to ``out``, replacing a previous report."""
    if not out.exists():
        os.replace(tmp, out)
        return
    holder = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.replace(out, holder / out.name)
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(holder / out.name, out)  # put the previous report back, then fail
        holder.rmdir()
        raise
    shutil.rmtree(holder)


def save_posteriors(res: RunResults, folder: Path) -> None:
    """Each fit's posterior (its DataTree) to ``folder / record.posterior`` (netCDF), in
    parallel where that is safe (:func:`bayes_msc.bayes.saved.save_results`)."""
    from bayes_msc.bayes.saved import save_results

    items = [(rec.result, folder / rec.posterior) for rec in res.fits if rec.posterior is not None]
    for _, path in items:
        path.parent.mkdir(parents=True, exist_ok=True)
    save_results(items)


def write_report_folder(res: RunResults, out: Path, timer: Callable[[str], Any]) -> None:
    """Write the whole report of ``res`` to ``out``, atomically (see the module docstring).

    Parameters
    ----------
    res : RunResults
    out : Path
        The report folder (checked by :func:`check_out` first).
    timer : callable
        ``timer(step)`` returns a context manager timing a step (a
        :class:`~bayes_msc.workflow.profile.Profile`).
    """
    check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp's 0700 would make the finished report private
    try:
        with timer("posterior files"):
            save_posteriors(res, tmp)
        write_report(res, tmp, timer)
        _swap_into_place(tmp, out)
    finally:
        if tmp.exists():  # the run failed or was interrupted: no partial report stays
            shutil.rmtree(tmp)

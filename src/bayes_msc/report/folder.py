"""The report folder: checked and claimed before any work, written complete or not at all.

:func:`check_out` refuses, before the review starts, any ``out`` that is not a fit place
for a report (:func:`bayes_msc.guard.targets.check_folder_target`: an input of the run or
a folder holding one, the working folder, a folder this package did not write, a link,
a mount point, an unwritable or full location, an empty string). :func:`claim_out` then
locks it against a second run and makes the temporary sibling (:mod:`bayes_msc.guard.claims`:
stale temporaries of a killed run are removed first). :func:`write_report_folder` writes
everything (posterior files, figures, tables, summary.json, index.html) into that
temporary folder and swaps it into place only at the end, so an interrupted or failed run
leaves the previous report intact and no partial one; a write that fails because the
location failed (disk full, read-only) is an :class:`~bayes_msc.errors.InputError` saying
so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bayes_msc.guard.claims import Claim, claim, output_error
from bayes_msc.guard.targets import check_folder_target, is_environment_error
from bayes_msc.report.writer import SUMMARY_FORMAT, write_report
from bayes_msc.workflow.results import RunResults

FOREIGN = (
    "exists and is not a bayes-msc report folder (no summary.json written by "
    "'bayes-msc run'); refusing to replace it: choose another folder"
)


def is_report(folder: Path) -> bool:
    """Whether ``folder`` holds a report this package wrote (its summary.json says so)."""
    summary = folder / "summary.json"
    try:
        return summary.is_file() and json.loads(summary.read_text("utf-8")).get("format") == SUMMARY_FORMAT
    except (OSError, ValueError, UnicodeDecodeError, AttributeError):
        return False  # an unreadable summary.json is not one this command wrote


def check_out(out: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """Refuse an output folder a report must not be written to (see the module docstring).

    Raises
    ------
    InputError
        Naming the folder (``--out`` on the command line, ``out`` in Python).
    """
    return check_folder_target(
        out, argument="out", inputs=inputs, owned=is_report, what="report folder", foreign=FOREIGN
    )


def claim_out(out: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]] = ()) -> Claim:
    """Check ``out`` and claim it for this run (lock, stale temporaries, temporary folder)."""
    return claim(check_out(out, inputs), argument="out", folder=True, what="report folder")


def save_posteriors(res: RunResults, folder: Path) -> None:
    """Each fit's posterior (its DataTree) to ``folder / record.posterior`` (netCDF), in
    parallel where that is safe (:func:`bayes_msc.bayes.saved.save_results`)."""
    from bayes_msc.bayes.saved import save_results

    items = [(rec.result, folder / rec.posterior) for rec in res.fits if rec.posterior is not None]
    for _, path in items:
        path.parent.mkdir(parents=True, exist_ok=True)
    save_results(items)


def write_report_folder(res: RunResults, out: Path, timer: Callable[[str], Any], claimed: Claim | None = None) -> None:
    """Write the whole report of ``res`` to ``out``, atomically (see the module docstring).

    Parameters
    ----------
    res : RunResults
    out : Path
        The report folder.
    timer : callable
        ``timer(step)`` returns a context manager timing a step (a
        :class:`~bayes_msc.workflow.profile.Profile`).
    claimed : Claim, optional
        ``out`` as claimed before the work (:func:`claim_out`); without it the folder is
        checked and claimed here, and released at the end.

    Raises
    ------
    InputError
        ``out`` is not a fit place for a report, or writing failed because of the
        location (the previous report is then unchanged).
    """
    own = claimed is None
    held = claim_out(out) if claimed is None else claimed
    try:
        try:
            with timer("posterior files"):
                save_posteriors(res, held.tmp)
            write_report(res, held.tmp, timer)
        except OSError as err:
            if not is_environment_error(err):
                raise
            kept = "the previous report is unchanged" if out.exists() else "no report was written"
            raise output_error(err, out, "out", kept) from err
        held.commit()
    finally:
        if own:
            held.release()

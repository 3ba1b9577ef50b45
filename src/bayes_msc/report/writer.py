"""Write a run's report folder: index.html, summary.json, tables/*.csv, figures/.

The caller (``bayes-msc run``) points :func:`write_report` at a fresh temporary folder
and moves it into place when everything is written; this module only writes files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_msc.guard.csvcells import neutral_frame
from bayes_msc.report import tables as tb
from bayes_msc.report.figures import render_figures
from bayes_msc.report.sections import build_page
from bayes_msc.results.serialise import to_json
from bayes_msc.workflow.results import RunResults

SUMMARY_FORMAT = "bayes-msc run summary 1"
"""The ``format`` field of summary.json; ``bayes-msc run`` only replaces an existing
output folder whose summary.json carries it (so it never deletes a folder it did not
write)."""


def build_tables(res: RunResults) -> dict[str, pd.DataFrame]:
    """Every table of the report, by the CSV file name it is written to."""
    frames = {
        "data_summary": tb.data_summary(res),
        "skipped": tb.skipped(res),
        "effects": tb.effects(res),
        "frequentist": tb.frequentist(res),
        "leave_one_out": tb.leave_one_out(res),
        "metareg": tb.metareg(res),
        "bayes": tb.bayes(res),
        "slopes": tb.slopes(res),
        "diagnostics": tb.diagnostics(res),
    }
    if res.reproduction is not None:
        frames["reproduction"] = res.reproduction.summary()
    from bayes_msc.report import toolbox

    frames.update(toolbox.tables(res))  # small_study, influence, cumulative, bayes_factors
    return frames


def summary(res: RunResults) -> dict[str, Any]:
    """summary.json: the run's identity, options and every fit; deterministic except each
    fit's ``seconds``."""
    return {"format": SUMMARY_FORMAT, **res.to_dict()}


def write_report(res: RunResults, out: Path, timer: Callable[[str], Any]) -> None:
    """Write figures, tables, summary.json and index.html into the folder ``out``.

    Posterior files are written by the caller as the fits come in (``out/posteriors``).
    ``timer(step)`` times a step for the run's profile (see :func:`render_figures` for
    its optional ``add``).
    """
    figures = render_figures(res, out, timer)
    with timer("tables and html"):
        frames = build_tables(res)
        (out / "tables").mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            # text that a spreadsheet would run as a formula gets a leading ' (numbers unchanged)
            neutral_frame(frame).to_csv(out / "tables" / f"{name}.csv", index=False, lineterminator="\n")
        (out / "summary.json").write_text(to_json(summary(res)), encoding="utf-8")
        (out / "index.html").write_text(build_page(res, frames, figures), encoding="utf-8")

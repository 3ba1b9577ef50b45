"""The report of a simulation study: summary.csv, summary.json, figures/ and index.html.

Written into the study folder after every chunk is in, each file atomically (a temporary
file beside it, then :func:`os.replace`); ``study.json`` and ``chunks/`` were written by
the study itself (:mod:`bayes_msc.simstudy.folder`). The tables and the JSON hold no
timings, paths or worker counts: the same study file gives the same bytes however it ran.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from bayes_msc.report.html import esc, figure, page, table
from bayes_msc.results.serialise import to_json
from bayes_msc.simstudy.folder import write_text
from bayes_msc.simstudy.result import SimulationStudyResult

FIGURES = ("coverage", "width", "bias", "power")
"""The measures drawn in the report, one figure each."""


def summary_csv(result: SimulationStudyResult) -> str:
    """summary.csv: :meth:`SimulationStudyResult.summary`, floats as Python writes them
    (shortest round-trip text), LF line ends."""
    buf = io.StringIO()
    result.summary().to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def write_study_report(result: SimulationStudyResult, out: Path) -> dict[str, Path]:
    """Write summary.csv, summary.json, the figures and index.html into ``out``; return the
    paths written by name."""
    from bayes_msc.plots.simstudy import performance_figure
    from bayes_msc.plots.style import save_figure

    out.mkdir(parents=True, exist_ok=True)
    written = {"summary.csv": out / "summary.csv", "summary.json": out / "summary.json"}
    write_text(written["summary.csv"], summary_csv(result))
    write_text(written["summary.json"], to_json(result.to_dict()))
    for measure in FIGURES:
        png, _ = save_figure(performance_figure(result, measure), out / "figures" / measure)
        written[measure] = png
    written["index.html"] = out / "index.html"
    write_text(written["index.html"], study_page(result))
    return written


def _shown(result: SimulationStudyResult) -> pd.DataFrame:
    t = result.summary()
    shown = t[["design", "method", "n_reps"]].copy()
    for m in ("coverage", "bias", "rmse", "width", "power"):
        shown[m] = [f"{v:.3f} ({e:.3f})" for v, e in zip(t[m], t[f"{m}_mcse"], strict=True)]
    for extra in ("n_failed", "n_unconverged"):
        if (t[extra] > 0).any():
            shown[extra] = t[extra]
    return shown


def _designs(result: SimulationStudyResult) -> pd.DataFrame:
    rows = []
    for d in result.study.designs:
        rows.append(
            {
                "design": d.name,
                "k": d.k,
                "n per arm": "/".join(str(n) for n in d.n),
                "sd": d.sd,
                "mu": d.mu,
                "tau": d.tau,
                "doses": "" if d.doses is None else "/".join(f"{x:g}" for x in d.doses),
                "dose slope": d.dose_slope,
                "missing": d.missing,
                "missing if": d.missing_if,
            }
        )
    return pd.DataFrame(rows)


def _methods(result: SimulationStudyResult) -> pd.DataFrame:
    rows = []
    for m in result.study.methods:
        if m.kind == "frequentist":
            what = f"{m.estimator.upper()} tau^2" + (", Knapp-Hartung" if m.hksj else ", z")
            what += " (truncated scale)" if m.hksj_truncate else ""
        else:
            assert m.prior_set is not None
            what = f"prior set '{m.prior_set.name}', {m.engine} engine"
            if m.engine == "mcmc":
                what += f" ({m.chains} x {m.draws} draws, {m.tune} tuning)"
        rows.append({"method": m.name, "kind": m.kind, "analysis": what, "dose regression": m.dose})
    return pd.DataFrame(rows)


def _how_to_read(result: SimulationStudyResult) -> str:
    level = f"{100 * result.study.level:g}%"
    items = [
        "Every number on this page comes from simulated meta-analyses; none from a real trial.",
        f"Each replication simulates one meta-analysis per design; every method analyses the same data. "
        f"Coverage: the share of {level} intervals (confidence, or equal-tailed credible) that hold the true mu.",
        "Bias and RMSE of the point estimate of mu: the pooled estimate (frequentist), the posterior median (Bayesian).",
        "Power: the share of replications that reject mu = 0: p < 1 - level for a frequentist test, a credible "
        "interval that excludes 0 for a Bayesian method. Where the true mu is 0 it is the type I error rate.",
        "(In brackets) and the bars of the figures: Monte Carlo standard errors (Morris, White & Crowther 2019, "
        "Stat Med 38:2074, Table 6); a measure is known to about +/- 2 of them.",
        "n_reps counts the replications a method analysed; n_failed those it could not (too few trials reporting, "
        "see the replications' error column); n_unconverged the analyses whose quadrature or MCMC diagnostics failed.",
    ]
    return "<ul>" + "".join(f"<li>{esc(t)}</li>" for t in items) + "</ul>\n"


def study_page(result: SimulationStudyResult) -> str:
    """index.html of a simulation study."""
    s = result.study
    intro = (
        f"<p>Study <code>{esc(s.name)}</code>: {len(s.designs)} design(s) x {len(s.methods)} method(s), "
        f"{s.replications} replications each, seed {s.seed}, intervals and tests at level {s.level:g}. "
        'Tables: <a href="summary.csv">summary.csv</a>, <a href="summary.json">summary.json</a>; every '
        'replication: <a href="chunks/">chunks/</a>.</p>\n'
    )
    figures = "".join(figure(f"figures/{m}.png", f"{m} by design and method", link=f"figures/{m}.svg") for m in FIGURES)
    sections = [
        ("summary", "Performance by design and method", table(_shown(result), text_columns=("design", "method"))),
        ("figures", "Figures", figures),
        ("designs", "Designs", table(_designs(result))),
        ("methods", "Methods", table(_methods(result))),
        ("reading", "How to read this page", _how_to_read(result)),
    ]
    return page(s.title, intro, sections, simulated=True)

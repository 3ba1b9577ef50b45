"""The report's toolbox parts (issue 15): the heterogeneity intervals of the frequentist
table, the small-study / influence / cumulative section with its figures (funnel, Baujat,
cumulative), and the Bayes factors beside the prior comparison."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

import pandas as pd

from bayes_msc.report.html import esc, figure, month_text, table
from bayes_msc.workflow.results import RunResults


def _title(outcome: str, month: float) -> str:
    return f"{outcome} at {month_text(month)} months"


def heterogeneity_columns(cr: Any) -> dict[str, float]:
    """The Q-profile interval of tau^2 and I^2 of one cell (NaN when not computed)."""
    ci = getattr(cr.toolbox, "confint", None)
    nan = float("nan")
    return {
        "tau2_ci_low": ci.tau2_ci_low if ci else nan,
        "tau2_ci_high": ci.tau2_ci_high if ci else nan,
        "i2_ci_low": ci.i2_ci_low if ci else nan,
        "i2_ci_high": ci.i2_ci_high if ci else nan,
    }


def tables(res: RunResults) -> dict[str, pd.DataFrame]:
    """``small_study``, ``influence``, ``cumulative`` and ``bayes_factors`` tables (only
    those with rows)."""
    small, infl, cumul, bfs, groups = [], [], [], [], []
    for cr in res.cells:
        tb, where = cr.toolbox, {"outcome": cr.cell.outcome, "month": cr.cell.month}
        if tb is None:
            continue
        groups += [where | row for sg in tb.subgroups for row in subgroup_rows(sg)]
        if tb.regtest is not None:
            small.append(
                where
                | {"k": tb.regtest.k, "egger_z": tb.regtest.zval, "egger_p": tb.regtest.pval}
                | {"egger_limit": tb.regtest.est, "begg_tau": tb.ranktest.tau, "begg_p": tb.ranktest.pval}
                | {"trimfill_k0": tb.trimfill.k0, "trimfill_side": tb.trimfill.side}
                | {"trimfill_estimate": tb.trimfill.filled.estimate, "estimate": tb.trimfill.original.estimate}
            )
        if tb.influence is not None:
            s = tb.influence.summary()
            infl.append(pd.concat([pd.DataFrame([where] * len(s)), s], axis=1))
        if tb.cumulative is not None:
            s = tb.cumulative.summary()
            cumul.append(pd.concat([pd.DataFrame([where] * len(s)), s], axis=1))
    for rec in res.fits:
        if rec.bayes_factors is not None:
            b = rec.bayes_factors
            bfs.append(
                {"outcome": rec.task.outcome, "month": rec.task.month, "model": rec.task.model, "prior": rec.task.prior}
                | {"engine": b.engine, "bf01_mu0": b.bf01["mu=0"], "bf01_tau0": b.bf01["tau=0"]}
                | {"prior_density_mu0": b.prior_density["mu=0"], "prior_density_tau0": b.prior_density["tau=0"]}
            )
    out = {
        "small_study": pd.DataFrame(small),
        "influence": pd.concat(infl, ignore_index=True) if infl else pd.DataFrame(),
        "cumulative": pd.concat(cumul, ignore_index=True) if cumul else pd.DataFrame(),
        "bayes_factors": pd.DataFrame(bfs),
        "subgroups": pd.DataFrame(groups),
    }
    return {k: v for k, v in out.items() if not v.empty}


def subgroup_rows(sg: Any) -> list[dict[str, Any]]:
    """One row per level of a subgroup result, the test for subgroup differences repeated on
    each (the report's and ``tables/subgroups.csv``'s layout)."""
    test = {"q_between": sg.q_between, "q_between_df": sg.q_between_df, "q_between_p": sg.q_between_p}
    return [
        {"by": sg.by, "tau2_mode": sg.tau2_mode, "method": lv.method, "level": lv.level, "k": lv.k}
        | {"studies": lv.n_studies, "pooled": "yes" if lv.pooled else "no: 1 study", "estimate": lv.estimate}
        | {"ci_low": lv.ci_low, "ci_high": lv.ci_high, "p": lv.p, "tau2": lv.tau2}
        | test
        for lv in sg.levels
    ]


def _safe(name: str) -> str:
    """A column name as part of a file name."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", name)


def figure_jobs(res: RunResults) -> list[tuple[str, str, Callable[[], Any]]]:
    """Funnel (with trim and fill, contour-enhanced), Baujat and cumulative figures of the
    cells where the spec asked for them and they were run."""
    from bayes_msc.plots.subgroup import plot_subgroup
    from bayes_msc.plots.toolbox.funnel import plot_funnel
    from bayes_msc.plots.toolbox.influence import plot_baujat, plot_cumulative

    jobs: list[tuple[str, str, Callable[[], Any]]] = []
    for cr in res.cells:
        tb, key = cr.toolbox, cr.cell.key
        if tb is None:
            continue
        if tb.trimfill is not None:
            jobs.append(("funnel", f"funnel_{key}", partial(plot_funnel, tb.trimfill, contours=(0.10, 0.05, 0.01))))
        if tb.influence is not None:
            jobs.append(("baujat", f"baujat_{key}", partial(plot_baujat, tb.influence)))
        if tb.cumulative is not None:
            jobs.append(("cumulative", f"cumulative_{key}", partial(plot_cumulative, tb.cumulative)))
        for sg in tb.subgroups:
            jobs.append(("subgroup", f"subgroup_{_safe(sg.by)}_{key}", partial(plot_subgroup, sg)))
    return jobs


def _fig(figures: dict[str, str], name: str, alt: str) -> str:
    src = figures.get(name)
    return figure(src, alt, None, link=figures.get(name + ".svg")) if src else ""


def section(res: RunResults, frames: dict[str, pd.DataFrame], figures: dict[str, str]) -> str | None:
    """The "Small-study effects, influence, cumulative" section, or None when the spec asks
    for none of them."""
    tb = res.spec.toolbox
    if not any(
        (
            tb.small_study is None or tb.small_study,
            tb.influence is None or tb.influence,
            tb.cumulative is None or tb.cumulative,
            tb.subgroups,
        )
    ):
        return None
    out = [
        f"<p>Small-study tests (Egger's regression, Begg's rank correlation, trim and fill, as metafor) "
        f"run only where k &ge; {tb.small_study_min_k}: with fewer comparisons they cannot tell chance from "
        "asymmetry (Cochrane Handbook 13.3.5.4; the paper did not run them). Influence diagnostics and the "
        f"cumulative analysis (ordered by {esc(tb.cumulative_order)}) on the cells the spec names.</p>"
    ]
    if "small_study" in frames:
        out.append(table(frames["small_study"]))
    if tb.subgroups:
        out.append(
            f"<h3>Subgroups by {esc(', '.join(tb.subgroups))}</h3><p>Each level pooled with the cell's estimator "
            + (
                "and its own tau^2 (metafor <code>rma(subset = )</code>); the test for subgroup differences is "
                "the fixed-effect Q of the level estimates."
                if tb.subgroup_tau2 == "separate"
                else "and one tau^2 common to the levels (metafor <code>rma(mods = ~ factor(x))</code>); the test "
                "for subgroup differences is its QM."
            )
            + " A level whose comparisons come from one study is a within-study summary, not pooled across "
            "studies.</p>"
        )
        if "subgroups" in frames:
            # the page shows the essentials (tables/subgroups.csv has every column)
            shown = ["outcome", "month", "by", "level", "k", "studies", "pooled", "estimate", "ci_low", "ci_high"]
            out.append(table(frames["subgroups"][[*shown, "q_between", "q_between_p"]]))
    for cr in res.cells:
        t = cr.toolbox
        if t is None:
            continue
        title = _title(cr.cell.outcome, cr.cell.month)
        parts = [_fig(figures, f"funnel_{cr.cell.key}", f"funnel plot, {title}")]
        if t.influence is not None:
            inf = t.influence.summary()[
                ["comparison", "rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "hat", "weight", "inf"]
            ]
            parts.append(_fig(figures, f"baujat_{cr.cell.key}", f"Baujat plot, {title}"))
            parts.append(f"<details><summary>Influence diagnostics</summary>{table(inf)}</details>")
        if t.cumulative is not None:
            parts.append(_fig(figures, f"cumulative_{cr.cell.key}", f"cumulative meta-analysis, {title}"))
        for sg in t.subgroups:
            parts.append(_fig(figures, f"subgroup_{_safe(sg.by)}_{cr.cell.key}", f"subgroups by {sg.by}, {title}"))
        notes = [n for n in t.notes if not n.startswith("confint")]
        if notes:
            parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
        if any(parts):
            out.append(f"<h3>{esc(title)}</h3>" + "".join(parts))
    return "\n".join(out)


def bayes_factor_block(res: RunResults, outcome: str, month: float, frames: dict[str, pd.DataFrame]) -> str:
    """The Bayes factors of one cell's fits, with the prior-dependence stated."""
    bf = frames.get("bayes_factors")
    if bf is None:
        return ""
    rows = bf[(bf["outcome"] == outcome) & (bf["month"] == month)]
    if rows.empty:
        return ""
    return (
        "<p>Bayes factors BF01 for mu = 0 and tau = 0 (bayesmeta's definition, p(y | H0) / p(y); &gt; 1 "
        "favours the point hypothesis). They depend on the prior of the tested parameter, through its "
        "density at 0, far more than the posteriors above do: a vaguer prior on mu favours mu = 0 "
        "(Lindley's paradox). Read them across the prior sets, not from one.</p>"
        + table(rows.drop(columns=["outcome", "month"]).reset_index(drop=True))
    )

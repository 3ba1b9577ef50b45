"""The sections of index.html, each built from the report's tables and figures.

Every section gets the SIMULATED DATA banner when the dataset is simulated (added by
:func:`~bayes_msc.report.html.page`). Failed diagnostics verdicts are
painted red and counted at the top; nothing is hidden.
"""

from __future__ import annotations

import pandas as pd

from bayes_msc.plots.style import method_name
from bayes_msc.report import tables as tb
from bayes_msc.report.bayes_sections import (
    bayes_section,
    diagnostics_section,
    forest_section,
    metareg_section,
    priors_section,
)
from bayes_msc.report.html import PCT, cell_title, esc, month_text, page, table
from bayes_msc.report.toolbox import section as toolbox_section
from bayes_msc.workflow.results import RunResults


def _intro(res: RunResults) -> str:
    s = res.spec
    failed = len(res.failed)
    verdicts = ""
    if failed:
        verdicts = (
            f'<p class="fail">{failed} of {len(res.fits)} Bayesian fits FAILED their '
            "diagnostics verdict; they are shown in red below, never hidden.</p>"
        )
    elif res.fits and all(f.result.engine == "exact" for f in res.fits):
        verdicts = (
            f'<p class="pass">All {len(res.fits)} Bayesian fits are exact (quadrature) posteriors: '
            "no Monte Carlo error, so no MCMC diagnostics apply.</p>"
        )
    elif res.fits:
        verdicts = f'<p class="pass">All {len(res.fits)} Bayesian fits passed their diagnostics verdict.</p>'
    options = pd.DataFrame([{"option": k, "value": str(v)} for k, v in s.options().items()])
    return (
        f"<p>Spec <b>{esc(s.name)}</b>; dataset <b>{esc(res.dataset.name)}</b>"
        f"{' (SIMULATED)' if res.dataset.simulated else ''}; {len(res.plan.cells)} outcome x "
        f"month cells analysed, {len(res.plan.skipped)} analyses the data do not allow "
        f"(listed under Data). Intervals are {PCT} throughout.</p>\n{verdicts}\n"
        f"<details><summary>Analysis options</summary>{table(options)}</details>\n"
        '<p>Tables as CSV: <a href="tables/">tables/</a>; every fit in '
        '<a href="summary.json">summary.json</a>'
        + ('; posterior draws in <a href="posteriors/">posteriors/</a>' if any(f.posterior for f in res.fits) else "")
        + ".</p>\n"
    )


def _data(res: RunResults, frames: dict[str, pd.DataFrame]) -> str:
    out = [
        table(
            tb.for_page(frames["data_summary"]),
            caption="Every outcome x month of the dataset: studies "
            "with data, studies that declare the value missing (it exists but is unknown "
            "here), contrasts; k = comparisons analysed.",
        )
    ]
    skipped = frames["skipped"]
    if len(skipped):
        # One row per cell and reason on the page (a one-study cell has the same reason for
        # its random-effects fit, leave-one-out and covariate models); the CSV keeps one row
        # per analysis.
        rows: dict[tuple[str, str, str], list[str]] = {}
        for o, m, w, r in zip(skipped["outcome"], skipped["month"], skipped["what"], skipped["reason"], strict=True):
            rows.setdefault((str(o), month_text(m), str(r)), []).append(str(w))
        grouped = pd.DataFrame(
            [{"outcome": o, "month": m, "what": "; ".join(w), "reason": r} for (o, m, r), w in rows.items()]
        )
        out.append("<h3>What the data do not allow</h3>")
        out.append(table(grouped))
    notes = sorted({n for c in res.plan.cells for n in c.effects.notes})
    if notes:
        out.append(
            "<h3>Conversions and handling applied</h3><ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"
        )
    for c in res.plan.cells:
        if c.effects.missing:
            out.append(
                f"<details><summary>{esc(cell_title(c.outcome, c.month))}: "
                f"{len(c.effects.missing)} comparisons cannot enter</summary><ul>"
                + "".join(f"<li>{esc(m)}</li>" for m in c.effects.missing)
                + "</ul></details>"
            )
    return "\n".join(out)


def _frequentist(res: RunResults, frames: dict[str, pd.DataFrame]) -> str:
    s = res.spec
    rule = (
        "the paper's rule (Qu &amp; Sun 2021): random effects (DerSimonian-Laird) when "
        "I2 &gt; 50% or P_Q &lt; 0.1, otherwise fixed effect"
        if s.method == "paper"
        else esc(method_name(s.method))
    )
    tests = (
        "Knapp-Hartung t-based confidence intervals and tests (t on k - 1 df)"
        if s.hksj
        else "z-based confidence intervals and tests (as metafor's default)"
    )
    if s.pi == "t":
        pi = "t with k - 2 df (Higgins et al. 2009; at least 1 df, as metafor)"
    else:
        pi = "t with k - 1 df, as the Knapp-Hartung test" if s.hksj else "the normal quantile (metafor's default)"
    frame = tb.for_page(
        frames["frequentist"],
        {
            f"estimate [{PCT} CI]": ("estimate", "ci_low", "ci_high"),
            "prediction interval": ("", "pi_low", "pi_high"),
            f"tau2 [{PCT} CI]": ("tau2", "tau2_ci_low", "tau2_ci_high"),
            f"i2 [{PCT} CI]": ("i2", "i2_ci_low", "i2_ci_high"),
        },
    )
    out = [
        f"<p>Pooled with {rule}; {tests}; prediction intervals (random effects only) from {pi}. "
        "i2 in percent; q and q_p: Cochran's Q and its p-value."
        + (
            f" The intervals of tau2 and i2 are {PCT} Q-profile confidence intervals of the heterogeneity "
            "(Viechtbauer 2007; metafor's confint), which do not depend on the tau^2 estimator."
            if s.toolbox.confint
            else ""
        )
        + "</p>",
        table(frame),
    ]
    for cr in res.cells:
        if cr.loo is not None:
            loo = cr.loo.summary()[["left_out", "method", "k", "estimate", "lower", "upper", "tau2", "i2"]]
            loo = tb.for_page(loo, {f"estimate [{PCT} CI]": ("estimate", "lower", "upper")})
            out.append(
                f"<details><summary>Leave-one-out: {esc(cell_title(cr.cell.outcome, cr.cell.month))}"
                f"</summary>{table(loo)}</details>"
            )
    return "\n".join(out)


REPRODUCTION_COLUMNS = [
    "outcome",
    "month",
    "published_estimate",
    "published_ci_low",
    "published_ci_high",
    "k",
    "method",
    "estimate",
    "lower",
    "upper",
    "paper_multiarm_estimate",
    "paper_multiarm_ci_low",
    "paper_multiarm_ci_high",
    "status",
    "reason",
]


def _reproduction(frames: dict[str, pd.DataFrame]) -> str:
    frame = frames["reproduction"]
    shown = frame[[c for c in REPRODUCTION_COLUMNS if c in frame.columns]]
    shown = tb.for_page(
        shown,
        {
            "published": ("published_estimate", "published_ci_low", "published_ci_high"),
            "computed": ("estimate", "lower", "upper"),
            "paper multi-arm": ("paper_multiarm_estimate", "paper_multiarm_ci_low", "paper_multiarm_ci_high"),
        },
        drop_empty=False,
    )
    return (
        "<p>The publication's pooled results (published_pooled.csv) beside this package's, "
        "row by row; every column in tables/reproduction.csv.</p>" + table(shown)
    )


def build_page(res: RunResults, frames: dict[str, pd.DataFrame], figures: dict[str, str]) -> str:
    """The whole index.html text."""
    sections = [("data", "Data", _data(res, frames)), ("frequentist", "Frequentist pooling", _frequentist(res, frames))]
    toolbox = toolbox_section(res, frames, figures)
    if toolbox is not None:
        sections.append(("toolbox", "Small-study effects, influence, cumulative analysis", toolbox))
    if "reproduction" in frames:
        sections.append(("reproduction", "Reproduction of the published results", _reproduction(frames)))
    if res.spec.models:
        sections += [
            ("bayes", "Bayesian posteriors", bayes_section(res, frames)),
            ("priors", "Prior comparison", priors_section(res, frames, figures)),
            ("forest", "Forest plots", forest_section(res, figures)),
            ("metareg", "Meta-regression", metareg_section(res, frames, figures)),
            ("diagnostics", "Diagnostics appendix", diagnostics_section(res, frames, figures)),
        ]
    return page(res.spec.title, _intro(res), sections, res.dataset.simulated)

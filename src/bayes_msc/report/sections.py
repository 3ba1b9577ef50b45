"""The sections of index.html, each built from the report's tables and figures.

Every section gets the SIMULATED DATA banner when the dataset is simulated (added by
:func:`~bayes_msc.report.html.page`). Failed diagnostics verdicts are
painted red and counted at the top; nothing is hidden.
"""

from __future__ import annotations

import pandas as pd

from bayes_msc.report import tables as tb
from bayes_msc.report.figures import trace_fits
from bayes_msc.report.html import esc, figure, month_text, page, table
from bayes_msc.results.bayes import ESS_BULK_MIN, RHAT_MAX
from bayes_msc.results.layout import CI_LEVEL
from bayes_msc.workflow.results import RunResults

PCT = f"{CI_LEVEL:.0%}"


def _fig(figures: dict[str, str], name: str, alt: str, caption: str | None = None) -> str:
    # The PNG links its SVG when one was written (``[report] svg = true``); a figure that
    # could not be drawn says why in its place.
    src = figures.get(name)
    if src is None:
        reason = figures.get(name + ".skipped")
        return f'<p class="fail">Figure not drawn ({esc(alt)}): {esc(reason)}</p>' if reason else ""
    return figure(src, alt, caption, link=figures.get(name + ".svg"))


def _drop_empty(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` without those of ``columns`` that are empty text in every row."""
    return frame.drop(columns=[c for c in columns if c in frame and not frame[c].astype(str).str.len().any()])


def _cell_title(outcome: str, month: float | None) -> str:
    return f"{outcome} at {month_text(month)} months" if month is not None else f"{outcome} (whole follow-up)"


def _intro(res: RunResults) -> str:
    s = res.spec
    failed = len(res.failed)
    verdicts = ""
    if failed:
        verdicts = (
            f'<p class="fail">{failed} of {len(res.fits)} Bayesian fits FAILED their '
            "diagnostics verdict; they are shown in red below, never hidden.</p>"
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
            frames["data_summary"],
            caption="Every outcome x month of the dataset: studies "
            "with data, studies that declare the value missing (it exists but is unknown "
            "here), contrasts; k = comparisons analysed.",
        )
    ]
    skipped = frames["skipped"]
    if len(skipped):
        out.append("<h3>What the data do not allow</h3>")
        out.append(table(skipped))
    notes = sorted({n for c in res.plan.cells for n in c.effects.notes})
    if notes:
        out.append(
            "<h3>Conversions and handling applied</h3><ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"
        )
    for c in res.plan.cells:
        if c.effects.missing:
            out.append(
                f"<details><summary>{esc(_cell_title(c.outcome, c.month))}: "
                f"{len(c.effects.missing)} comparisons cannot enter</summary><ul>"
                + "".join(f"<li>{esc(m)}</li>" for m in c.effects.missing)
                + "</ul></details>"
            )
    return "\n".join(out)


def _frequentist(res: RunResults, frames: dict[str, pd.DataFrame]) -> str:
    rule = (
        "the paper's rule (Qu &amp; Sun 2021): random effects (DerSimonian-Laird) when "
        "I2 &gt; 50% or P_Q &lt; 0.1, otherwise fixed effect"
        if res.spec.method == "paper"
        else f"method {esc(res.spec.method)}"
    )
    out = [
        f"<p>Pooled with {rule}; z-based confidence intervals"
        f"{', Knapp-Hartung' if res.spec.hksj else ''}; prediction interval type "
        f"{esc(res.spec.pi)}.</p>",
        table(frames["frequentist"]),
    ]
    for cr in res.cells:
        if cr.loo is not None:
            loo = cr.loo.summary()[["left_out", "method", "k", "estimate", "lower", "upper", "tau2", "i2"]]
            out.append(
                f"<details><summary>Leave-one-out: {esc(_cell_title(cr.cell.outcome, cr.cell.month))}"
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
    "status",
    "reason",
]


def _reproduction(frames: dict[str, pd.DataFrame]) -> str:
    frame = frames["reproduction"]
    shown = frame[[c for c in REPRODUCTION_COLUMNS if c in frame.columns]]
    return (
        "<p>The publication's pooled results (published_pooled.csv) beside this package's, "
        "row by row; every column in tables/reproduction.csv.</p>" + table(shown)
    )


def _engines(res: RunResults) -> str:
    """Which engine computed which fits, when the spec let the run choose (engine auto)."""
    if res.spec.engine != "auto" or not res.fits:
        return ""
    exact = sum(f.result.engine == "exact" for f in res.fits)
    return (
        f"<p>Engine auto: {exact} fit(s) of the <b>re</b> model with independent comparisons and "
        "Normal priors on mu and the slopes by the <b>exact</b> engine (quadrature: the same "
        f"posterior as MCMC, without Monte Carlo error), {len(res.fits) - exact} by <b>MCMC</b> "
        "(nutpie); tables/bayes.csv names each fit's engine.</p>"
    )


def _bayes(res: RunResults, frames: dict[str, pd.DataFrame]) -> str:
    priors = "".join(
        f"<li><b>{esc(n)}</b>: {esc(res.prior_sets[n].description)}</li>"
        for n in dict.fromkeys(res.spec.priors + res.spec.covariate_priors)
    )
    # The page shows PASS/FAIL (reasons in the diagnostics appendix) and leaves out what the
    # options already say, so the table fits the page; the CSV keeps every column.
    frame = _drop_empty(tb.finite(frames["bayes"].drop(columns=["engine", "mcid"]), ["p_mcid"]), ["mu_at", "warnings"])
    classes = tb.row_classes(frame)
    frame = frame.assign(verdict=[v.split(":")[0] for v in frame["verdict"]])
    failed = len(res.failed)
    head = f'<p class="fail">{failed} fit(s) FAILED the verdict (red rows).</p>' if failed else ""
    head += _engines(res)
    return (
        f"<p>Models: <b>re</b> (contrast level) and <b>arm</b> (arm level, free study "
        f"baselines). mu: posterior mean and {PCT} equal-tailed interval of the pooled effect "
        "(in a covariate model: the pooled effect at the covariates' reference values in "
        "mu_at, their means over the analysed comparisons unless the spec sets "
        "bayes.covariate_at; its prior is the mu prior); tau: posterior median and interval; "
        f"new: {PCT} interval of a new study's effect; p_mu_below_0: P(mu &lt; 0); p_mcid: "
        "P(mu &lt; mcid) for a negative MCID (lower scores better), P(mu &gt; mcid) for a "
        f"positive one. Verdict: R-hat &lt;= {RHAT_MAX:g}, bulk ESS &gt;= {ESS_BULK_MIN:g} (in "
        "proportion for fewer than 4000 draws) and no divergences (the exact engine's "
        "quadrature has no Monte Carlo error); warnings: a bounded prior whose bound the "
        "posterior reaches (99th percentile above 90% of the bound: the prior cuts the "
        "posterior off). Cells whose comparisons all come from one study get no "
        "random-effects fit (listed under Data).</p>"
        f"<p>Prior sets:</p><ul>{priors}</ul>{head}" + table(frame, row_classes=classes)
    )


def _priors(res: RunResults, frames: dict[str, pd.DataFrame], figures: dict[str, str]) -> str:
    out = []
    cols = [
        "model",
        "prior",
        "mu",
        "mu_low",
        "mu_high",
        "tau",
        "tau_low",
        "tau_high",
        "p_mu_below_0",
        "p_mcid",
        "verdict",
        "warnings",
    ]
    bayes = frames["bayes"]
    for c in res.plan.cells:
        rows = bayes[(bayes["outcome"] == c.outcome) & (bayes["month"] == c.month) & (bayes["covariates"] == "")]
        if rows["prior"].nunique() < 2:
            continue
        sub = _drop_empty(tb.finite(rows[cols], ["p_mcid"]), ["warnings"]).reset_index(drop=True)
        out.append(
            f"<h3>{esc(_cell_title(c.outcome, c.month))}</h3>"
            + _fig(figures, f"priors_{c.key}", f"prior comparison, {c.outcome} month {c.month:g}")
            + table(sub, row_classes=tb.row_classes(sub))
        )
    return "\n".join(out) or "<p>No cell was fitted under more than one prior set.</p>"


def _forest(res: RunResults, figures: dict[str, str]) -> str:
    out = [
        f"<h3>{esc(_cell_title(c.outcome, c.month))}</h3>"
        + _fig(figures, f"forest_{c.key}", f"posterior forest plot, {c.outcome} month {c.month:g}")
        for c in res.plan.cells
        if f"forest_{c.key}" in figures or f"forest_{c.key}.skipped" in figures
    ]
    return "\n".join(out) or "<p>No cell has a Bayesian fit to draw.</p>"


def _metareg(res: RunResults, frames: dict[str, pd.DataFrame], figures: dict[str, str]) -> str:
    if not res.spec.covariates:
        return "<p>The spec asks for no covariate models.</p>"
    out = []
    if len(frames["metareg"]):
        out.append("<h3>Frequentist meta-regression</h3>" + table(frames["metareg"]))
    if len(frames["slopes"]):
        out.append(
            "<h3>Bayesian meta-regression (slopes per unit of each term)</h3>"
            + table(frames["slopes"], row_classes=tb.row_classes(frames["slopes"]))
        )
    for rec in res.fits:
        name = f"metareg_{rec.task.key}"
        if name in figures or name + ".skipped" in figures:
            out.append(
                _fig(
                    figures,
                    name,
                    f"meta-regression {rec.task.key}",
                    f"{_cell_title(rec.task.outcome, rec.task.month)}: Bayesian meta-regression on "
                    f"{', '.join(rec.task.covariates)}, prior {rec.task.prior} ({rec.result.engine} engine): "
                    f"posterior mean line and {PCT} credible band from the fit's draws, other covariates "
                    "at their reference values",
                )
            )
    skipped = [s for s in res.plan.skipped if s.what.startswith("covariates")]
    if skipped:
        out.append(
            "<h3>Covariate models the data do not allow</h3><ul>"
            + "".join(
                f"<li>{esc(_cell_title(s.outcome, s.month))}, {esc(s.what)}: {esc(s.reason)}</li>" for s in skipped
            )
            + "</ul>"
        )
    return "\n".join(out) or "<p>No covariate model could be fitted.</p>"


def _diagnostics(res: RunResults, frames: dict[str, pd.DataFrame], figures: dict[str, str]) -> str:
    frame = frames["diagnostics"][
        [
            "outcome",
            "month",
            "model",
            "covariates",
            "prior",
            "parameterisation",
            "max_r_hat",
            "min_ess_bulk",
            "divergences",
            "verdict",
        ]
    ]
    out = [
        "<p>Every fit's diagnostics (draws, chains and engine as in the analysis options; "
        "posterior files listed in tables/diagnostics.csv).</p>",
        table(frame, row_classes=tb.row_classes(frame)),
    ]
    shown = trace_fits(res)
    if shown and all(f.result.verdict.passed for f in shown):
        out.append("<p>Every fit passed; the trace and rank plots of the first fit are shown as an example.</p>")
    for rec in shown:
        out.append(
            _fig(
                figures,
                f"trace_{rec.task.key}",
                f"trace and rank plots {rec.task.key}",
                f"{rec.task.key}: {rec.result.verdict}",
            )
        )
    return "\n".join(out)


def build_page(res: RunResults, frames: dict[str, pd.DataFrame], figures: dict[str, str]) -> str:
    """The whole index.html text."""
    sections = [("data", "Data", _data(res, frames)), ("frequentist", "Frequentist pooling", _frequentist(res, frames))]
    if "reproduction" in frames:
        sections.append(("reproduction", "Reproduction of the published results", _reproduction(frames)))
    if res.spec.models:
        sections += [
            ("bayes", "Bayesian posteriors", _bayes(res, frames)),
            ("priors", "Prior comparison", _priors(res, frames, figures)),
            ("forest", "Forest plots", _forest(res, figures)),
            ("metareg", "Meta-regression", _metareg(res, frames, figures)),
            ("diagnostics", "Diagnostics appendix", _diagnostics(res, frames, figures)),
        ]
    return page(res.spec.title, _intro(res), sections, res.dataset.simulated)

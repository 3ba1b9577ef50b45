"""The sections of index.html, each built from the report's tables and figures.

Every section gets the SIMULATED DATA banner when the dataset is simulated (added by
:func:`~bayes_msc.report.html.page`). Failed diagnostics verdicts are
painted red and counted at the top; nothing is hidden.
"""

from __future__ import annotations

import pandas as pd

from bayes_msc.plots.style import method_name
from bayes_msc.report import tables as tb
from bayes_msc.report.figures import trace_fits
from bayes_msc.report.html import esc, figure, month_text, page, table
from bayes_msc.report.toolbox import bayes_factor_block
from bayes_msc.report.toolbox import section as toolbox_section
from bayes_msc.results.bayes import ESS_BULK_MIN, RHAT_MAX
from bayes_msc.results.layout import CI_LEVEL
from bayes_msc.workflow.results import RunResults

PCT = f"{CI_LEVEL:.0%}"


def _fig(figures: dict[str, str], name: str, alt: str, caption: str | None = None) -> str:
    # The PNG links its SVG when one was written (``[report] svg = true``).
    src = figures.get(name)
    if src is None:
        return ""
    return figure(src, alt, caption, link=figures.get(name + ".svg"))


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


def _engines(res: RunResults) -> str:
    """Which engine computed how many fits of each model."""
    if not res.fits:
        return ""
    counts: dict[str, dict[str, int]] = {}
    for f in res.fits:
        by = counts.setdefault(f.task.model, {})
        by[f.result.engine] = by.get(f.result.engine, 0) + 1
    parts = [
        f"model <b>{esc(m)}</b>: " + ", ".join(f"{n} by the {esc(e)} engine" for e, n in by.items())
        for m, by in counts.items()
    ]
    how = (
        "Engine auto (exact quadrature where it gives the model's posterior, without Monte Carlo "
        "error; MCMC with nutpie otherwise): "
        if res.spec.engine == "auto"
        else f"Engine {esc(res.spec.engine)}: "
    )
    return f"<p>{how}{'; '.join(parts)}; tables/bayes.csv names each fit's engine.</p>"


MODEL_TEXT = {
    "re": "<b>re</b> (contrast level: a normal random-effects model of the comparisons' effect sizes)",
    "arm": "<b>arm</b> (arm level: each arm's mean, with free study baselines)",
}


def _bayes(res: RunResults, frames: dict[str, pd.DataFrame]) -> str:
    priors = "".join(
        f"<li><b>{esc(n)}</b>: {esc(res.prior_sets[n].description)}</li>"
        for n in dict.fromkeys(res.spec.priors + res.spec.covariate_priors)
    )
    # The page shows PASS/FAIL (reasons in the diagnostics appendix) and leaves out what the
    # options already say, so the table fits the page; the CSV keeps every column.
    frame = tb.finite(frames["bayes"].drop(columns=["engine", "mcid"]), ["p_mcid"])
    classes = tb.row_classes(frame)
    frame = frame.assign(verdict=[v.split(":")[0] for v in frame["verdict"]])
    frame = tb.for_page(
        frame,
        {
            f"mu [{PCT} CrI]": ("mu", "mu_low", "mu_high"),
            f"tau [{PCT} CrI]": ("tau", "tau_low", "tau_high"),
            "new study": ("", "new_low", "new_high"),
        },
        drop_empty=False,
    )
    failed = len(res.failed)
    head = f'<p class="fail">{failed} fit(s) FAILED the verdict (red rows).</p>' if failed else ""
    head += _engines(res)
    ran = list(dict.fromkeys(f.task.model for f in res.fits))
    models = " and ".join(MODEL_TEXT.get(m, f"<b>{esc(m)}</b>") for m in ran) or "none could be fitted"
    mcmc = any(f.result.engine == "mcmc" for f in res.fits)
    verdict = (
        f"Verdict (MCMC fits): R-hat &lt;= {RHAT_MAX:g}, bulk ESS &gt;= {ESS_BULK_MIN:g} (in proportion for "
        "fewer than 4000 draws) and no divergences; an exact fit always passes."
        if mcmc
        else "Every fit is exact, so every verdict passes."
    )
    return (
        f"<p>Model{'s' if len(ran) > 1 else ''}: {models}. mu: posterior mean and {PCT} equal-tailed "
        f"interval (with covariates: the effect at the covariates' means); tau: posterior median and "
        f"interval; new study: {PCT} interval of a new study's effect; p_mcid: P(mu &lt; mcid) for a "
        f"negative MCID (lower scores better), P(mu &gt; mcid) for a positive one. {verdict}</p>"
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
    ]
    bayes = frames["bayes"]
    for c in res.plan.cells:
        rows = bayes[(bayes["outcome"] == c.outcome) & (bayes["month"] == c.month) & (bayes["covariates"] == "")]
        if rows["prior"].nunique() < 2:
            continue
        sub = tb.finite(rows[cols], ["p_mcid"]).reset_index(drop=True)
        classes = tb.row_classes(sub)
        sub = tb.for_page(
            sub,
            {f"mu [{PCT} CrI]": ("mu", "mu_low", "mu_high"), f"tau [{PCT} CrI]": ("tau", "tau_low", "tau_high")},
            drop_empty=False,
        )
        out.append(
            f"<h3>{esc(_cell_title(c.outcome, c.month))}</h3>"
            + _fig(figures, f"priors_{c.key}", f"prior comparison, {c.outcome} month {c.month:g}")
            + table(sub, row_classes=classes)
            + bayes_factor_block(res, c.outcome, c.month, frames)
        )
    return "\n".join(out) or "<p>No cell was fitted under more than one prior set.</p>"


def _forest(res: RunResults, figures: dict[str, str]) -> str:
    out = [
        f"<h3>{esc(_cell_title(c.outcome, c.month))}</h3>"
        + _fig(figures, f"forest_{c.key}", f"posterior forest plot, {c.outcome} month {c.month:g}")
        for c in res.plan.cells
        if f"forest_{c.key}" in figures
    ]
    return "\n".join(out) or "<p>No cell has a Bayesian fit to draw.</p>"


def _metareg(res: RunResults, frames: dict[str, pd.DataFrame], figures: dict[str, str]) -> str:
    if not res.spec.covariates:
        return "<p>The spec asks for no covariate models.</p>"
    out = []
    if len(frames["metareg"]):
        freq = frames["metareg"].copy()
        # metafor's R^2 of a fixed-effect model is an adjusted R^2 of the weighted regression,
        # not the share of tau^2 explained (tau^2 is 0): the page leaves it blank.
        freq.loc[freq["method"] == "fe", "r2"] = float("nan")
        freq = tb.for_page(freq, {f"estimate [{PCT} CI]": ("estimate", "ci_low", "ci_high")}, drop_empty=False)
        out.append(
            "<h3>Frequentist meta-regression</h3>"
            + table(
                freq,
                caption="Slopes per unit of each term; r2: the percentage of tau2 the covariates account "
                "for (random-effects methods only); qm_p: the test of all covariates.",
            )
        )
    if len(frames["slopes"]):
        slopes = frames["slopes"]
        out.append(
            "<h3>Bayesian meta-regression (slopes per unit of each term)</h3>"
            + table(
                tb.for_page(slopes, {f"mean [{PCT} CrI]": ("mean", "eti_low", "eti_high")}, drop_empty=False),
                row_classes=tb.row_classes(slopes),
            )
        )
    for rec in res.fits:
        name = f"metareg_{rec.task.key}"
        if name in figures:
            out.append(
                _fig(
                    figures,
                    name,
                    f"meta-regression {rec.task.key}",
                    f"{_cell_title(rec.task.outcome, rec.task.month)}: "
                    f"covariates {', '.join(rec.task.covariates)}, prior {rec.task.prior}",
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
    exact = sum(f.result.engine == "exact" for f in res.fits)
    diag = frames["diagnostics"]
    mcmc = diag[diag["engine"] == "mcmc"]
    out = []
    if exact:
        out.append(
            f"<p>{exact} fit{'s' if exact != 1 else ''} by the exact engine (quadrature): exact "
            "posterior, no MCMC diagnostics (no chains, no Monte Carlo error).</p>"
        )
    if len(mcmc):
        frame = mcmc[
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
        ].reset_index(drop=True)
        out += [
            f"<p>{len(frame)} MCMC fit{'s' if len(frame) != 1 else ''} (draws and chains as in the analysis "
            "options; posterior files listed in tables/diagnostics.csv):</p>",
            table(frame, row_classes=tb.row_classes(frame)),
        ]
        shown = trace_fits(res)
        if shown:
            out.append(
                "<p>Trace and rank plots: every fit that failed its verdict, and the first passing fit of "
                "each model as an example.</p>"
            )
        for rec in shown:
            out.append(
                _fig(
                    figures,
                    f"trace_{rec.task.key}",
                    f"trace and rank plots {rec.task.key}",
                    f"{rec.task.key}: {rec.result.verdict}",
                )
            )
    return "\n".join(out) or "<p>No Bayesian fit.</p>"


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
            ("bayes", "Bayesian posteriors", _bayes(res, frames)),
            ("priors", "Prior comparison", _priors(res, frames, figures)),
            ("forest", "Forest plots", _forest(res, figures)),
            ("metareg", "Meta-regression", _metareg(res, frames, figures)),
            ("diagnostics", "Diagnostics appendix", _diagnostics(res, frames, figures)),
        ]
    return page(res.spec.title, _intro(res), sections, res.dataset.simulated)

"""The report's Bayesian sections: the engines, the fits' table, the prior comparison with
its figures and Bayes factors, the posterior forests, the meta-regressions and the
diagnostics appendix (:func:`bayes_msc.report.sections.build_page` assembles the page)."""

from __future__ import annotations

import pandas as pd

from bayes_msc.report import tables as tb
from bayes_msc.report.figures import trace_fits
from bayes_msc.report.html import PCT, cell_title, drop_empty, esc, fig_block, month_text, table
from bayes_msc.report.toolbox import bayes_factor_block
from bayes_msc.results.bayes import ESS_BULK_MIN, RHAT_MAX
from bayes_msc.workflow.results import RunResults


def engines_section(res: RunResults) -> str:
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


def table_of_fits(rows: pd.DataFrame, drop: list[str]) -> str:
    """The page's table of Bayesian fits: intervals in one column each, PASS/FAIL (and a
    star where the verdict warns: the warnings are listed beneath), failed rows in red."""
    shown = rows.drop(columns=["engine", "mcid", "warnings", *drop]).reset_index(drop=True)
    frame = drop_empty(tb.finite(shown, ["p_mcid"]), ["covariates"]).rename(
        columns={"p_mu_below_0": "P(mu < 0)", "p_mcid": "P(MCID)"}
    )
    classes = tb.row_classes(frame)
    warned = [w != "" for w in rows["warnings"]]
    frame = frame.assign(
        verdict=[v.split(":")[0] + ("*" if w else "") for v, w in zip(frame["verdict"], warned, strict=True)]
    )
    frame = tb.for_page(
        frame,
        {
            f"mu [{PCT} CrI]": ("mu", "mu_low", "mu_high"),
            f"tau [{PCT} CrI]": ("tau", "tau_low", "tau_high"),
            "new study": ("", "new_low", "new_high"),
        },
        drop_empty=False,
    )
    return table(frame, row_classes=classes)


def bayes_section(res: RunResults, frames: dict[str, pd.DataFrame]) -> str:
    priors = "".join(
        f"<li><b>{esc(n)}</b>: {esc(res.prior_sets[n].description)}</li>"
        for n in dict.fromkeys(res.spec.priors + res.spec.covariate_priors)
    )
    # The page shows PASS/FAIL (reasons in the diagnostics appendix) and leaves out what the
    # options already say, so the tables fit the page; the CSV keeps every column. The
    # covariate models get a table of their own, whose first column gives each term's
    # reference value (where their mu is the pooled effect).
    full = frames["bayes"]
    plain = full[full["covariates"] == ""]
    with_covariates = full[full["covariates"] != ""]
    tables = table_of_fits(plain, drop=["covariates", "mu_at"])
    if len(with_covariates):
        tables += "<p>Covariate models (mu at the covariates' reference values):</p>" + table_of_fits(
            with_covariates.assign(covariates=with_covariates["mu_at"]), drop=["mu_at"]
        )
    warnings = "".join(
        f"<li>{esc(str(o))} month {month_text(float(m))}, {esc(str(mo))}, prior {esc(str(pr))}: {esc(str(w))}</li>"
        for o, m, mo, pr, w in zip(
            full["outcome"], full["month"], full["model"], full["prior"], full["warnings"], strict=True
        )
        if w
    )
    notes = f"<p>* Warnings of the verdicts:</p><ul>{warnings}</ul>" if warnings else ""
    failed = len(res.failed)
    head = f'<p class="fail">{failed} fit(s) FAILED the verdict (red rows).</p>' if failed else ""
    head += engines_section(res)
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
        "interval of the pooled effect (in a covariate model: the pooled effect at the covariates' "
        "reference values, in the covariates column, their means over the analysed comparisons unless the spec sets "
        "bayes.covariate_at; its prior is the mu prior); tau: posterior median and interval; "
        f"new study: {PCT} interval of a new study's effect; P(MCID): P(mu &lt; mcid) for a "
        f"negative MCID (lower scores better), P(mu &gt; mcid) for a positive one. {verdict} "
        "Warnings: a bounded prior whose bound the posterior reaches (99th percentile above 90% of "
        "the bound: the prior cuts the posterior off). Cells whose comparisons all come from one "
        "study get no random-effects fit (listed under Data).</p>"
        f"<p>Prior sets:</p><ul>{priors}</ul>{head}" + tables + notes
    )


def priors_section(res: RunResults, frames: dict[str, pd.DataFrame], figures: dict[str, str]) -> str:
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
        sub = drop_empty(tb.finite(rows[cols], ["p_mcid"]), ["warnings"]).reset_index(drop=True)
        classes = tb.row_classes(sub)
        sub = tb.for_page(
            sub,
            {f"mu [{PCT} CrI]": ("mu", "mu_low", "mu_high"), f"tau [{PCT} CrI]": ("tau", "tau_low", "tau_high")},
            drop_empty=False,
        )
        out.append(
            f"<h3>{esc(cell_title(c.outcome, c.month))}</h3>"
            + fig_block(figures, f"priors_{c.key}", f"prior comparison, {c.outcome} month {c.month:g}")
            + table(sub, row_classes=classes)
            + bayes_factor_block(res, c.outcome, c.month, frames)
        )
    return "\n".join(out) or "<p>No cell was fitted under more than one prior set.</p>"


def forest_section(res: RunResults, figures: dict[str, str]) -> str:
    out = [
        f"<h3>{esc(cell_title(c.outcome, c.month))}</h3>"
        + fig_block(figures, f"forest_{c.key}", f"posterior forest plot, {c.outcome} month {c.month:g}")
        for c in res.plan.cells
        if f"forest_{c.key}" in figures or f"forest_{c.key}.skipped" in figures
    ]
    return "\n".join(out) or "<p>No cell has a Bayesian fit to draw.</p>"


def metareg_section(res: RunResults, frames: dict[str, pd.DataFrame], figures: dict[str, str]) -> str:
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
        if name in figures or name + ".skipped" in figures:
            out.append(
                fig_block(
                    figures,
                    name,
                    f"meta-regression {rec.task.key}",
                    f"{cell_title(rec.task.outcome, rec.task.month)}: Bayesian meta-regression on "
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
                f"<li>{esc(cell_title(s.outcome, s.month))}, {esc(s.what)}: {esc(s.reason)}</li>" for s in skipped
            )
            + "</ul>"
        )
    return "\n".join(out) or "<p>No covariate model could be fitted.</p>"


def diagnostics_section(res: RunResults, frames: dict[str, pd.DataFrame], figures: dict[str, str]) -> str:
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
                fig_block(
                    figures,
                    f"trace_{rec.task.key}",
                    f"trace and rank plots {rec.task.key}",
                    f"{rec.task.key}: {rec.result.verdict}",
                )
            )
    return "\n".join(out) or "<p>No Bayesian fit.</p>"

"""The printed form of the Bayesian results (``print(result)``): one posterior
(:class:`~bayes_msc.results.bayes.BayesResult`) and a prior comparison
(:class:`~bayes_msc.results.comparison.PriorComparison`).

``bayes-msc fit`` and ``bayes-msc compare-priors`` print exactly ``str(result)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bayes_msc.results.text import banner, fmt, grid, notes_block

if TYPE_CHECKING:
    from bayes_msc.results.bayes import BayesResult
    from bayes_msc.results.comparison import PriorComparison

COLUMNS = ("mean", "sd", "median", "eti_low", "eti_high", "hdi_low", "hdi_high", "ess_bulk", "ess_tail", "r_hat")
"""The parameter table's columns (:data:`bayes_msc.results.bayes.PARAMETER_FIELDS`)."""


def _cell(value: object, column: str) -> str:
    if column in ("ess_bulk", "ess_tail"):
        return fmt(value, 0)
    return fmt(value, 3 if column == "r_hat" else 4)


def bayes_text(r: BayesResult) -> str:
    """The human-readable report of one fit: what was fitted, the posterior summary, the
    probabilities, the diagnostics verdict, the shrunken study effects and the notes."""
    lines = banner(r.simulated, r.dataset)
    how = f"engine {r.engine}" + (f", parameterisation {r.parameterisation}" if r.parameterisation else "")
    lines.append(f"Bayesian random-effects model '{r.model}', prior set '{r.prior}', {how}")
    month = "NA" if r.month is None else format(float(r.month), "g")
    lines.append(
        f"Dataset: {r.dataset}; outcome: {r.outcome}, month {month}; measure: {r.measure.upper()}; "
        f"multi-arm trials: {r.multiarm}; k = {r.k}"
    )
    if r.engine == "mcmc":
        lines.append(f"Draws: {r.chains} chains x {r.draws}, seed {r.seed}; divergences: {r.divergences}")
    lines.append(f"Intervals: {100 * r.ci_prob:g}% equal-tailed (eti) and highest-density (hdi)")
    lines += [f"*** {w} ***" for w in r.verdict.warnings if w.startswith("1 study")]
    lines.append(
        f"mu: {r.mu_meaning()}" + ("; intercept: the effect where every covariate term is 0" if r.covariates else "")
    )
    if r.engine == "exact":
        lines.append(
            f"Exact engine: summaries by quadrature (no Monte Carlo error); {r.chains} x {r.draws} independent "
            "draws of the posterior in the DataTree (ESS = their number)"
        )
    lines.append("")
    rows = [[str(name)] + [_cell(row[c], c) for c in COLUMNS] for name, row in r.parameters.iterrows()]
    lines += grid(["term", *COLUMNS], rows)
    if r.probabilities:
        lines += [""] + [f"{k} = {v:.4f}" for k, v in r.probabilities.items()]
    v = r.verdict
    lines.append("")
    lines.append(
        f"Diagnostics: {v}"
        + ("" if r.engine != "mcmc" else f" (R-hat <= {v.r_hat_max:g}, ESS_bulk >= {v.ess_min:g}, no divergences)")
    )
    if v.warnings:
        lines += ["Warnings:"] + [f"  - {w}" for w in v.warnings]
    if r.study_effects is not None:
        se = r.study_effects
        lines += ["", "Study effects (shrunken):"]
        rows = [
            [f"{s}: {c}", fmt(y), fmt(e), fmt(m), fmt(d), fmt(lo), fmt(hi)]
            for s, c, y, e, m, d, lo, hi in zip(
                se["study"],
                se["comparison"],
                se["yi"],
                se["sei"],
                se["mean"],
                se["sd"],
                se["eti_low"],
                se["eti_high"],
                strict=True,
            )
        ]
        lines += grid(["comparison", "yi", "sei", "mean", "sd", "eti_low", "eti_high"], rows)
    lines += notes_block(r.notes)
    return "\n".join(lines) + "\n"


def comparison_text(c: PriorComparison) -> str:
    """The human-readable comparison table: one row per prior set (mu, tau, the predictive
    interval, the probabilities, the sensitivities and the verdict)."""
    lines = banner(c.simulated, c.dataset)
    k = c.results[0].k if c.results else 0
    month = "NA" if c.month is None else format(float(c.month), "g")
    lines.append(
        f"Model '{c.model}' under {len(c.results)} prior set(s); dataset: {c.dataset}; outcome: "
        f"{c.outcome}, month {month}; k = {k}" + (f"; covariates: {', '.join(c.covariates)}" if c.covariates else "")
    )
    lines.append(
        f"Intervals: {100 * c.ci_prob:g}% equal-tailed; sensitivity: power-scaling "
        "(prior / likelihood; > 0.05 is influential)"
    )
    first = c.results[0] if c.results else None
    if first is not None:
        lines += [f"*** {w} ***" for w in first.verdict.warnings if w.startswith("1 study")]
        lines.append(f"mu: {first.mu_meaning()}")
    lines.append("")
    s = c.summary()
    mu = str(s["term"].iat[0]) if len(s) else "mu"
    head = ["prior", f"{mu} median", f"{mu} interval", "tau median", "tau interval", "theta_new interval"]
    head.append(f"P({mu} < 0)")
    if c.mcid_key is not None:
        head.append(c.mcid_key)
    head += ["sens. mu", "sens. tau", "verdict"]
    rows = []
    for _, r in s.iterrows():
        row = [
            r["prior"],
            fmt(r["mu_median"]),
            f"[{fmt(r['lower'])}, {fmt(r['upper'])}]",
            fmt(r["tau_median"]),
            f"[{fmt(r['tau_lower'])}, {fmt(r['tau_upper'])}]",
            f"[{fmt(r['theta_new_lower'])}, {fmt(r['theta_new_upper'])}]",
            fmt(r["p_mu_below_0"]),
        ]
        if c.mcid_key is not None:
            row.append(fmt(r["p_mcid"]))
        row += [
            f"{fmt(r['mu_prior'], 3)} / {fmt(r['mu_likelihood'], 3)}",
            f"{fmt(r['tau_prior'], 3)} / {fmt(r['tau_likelihood'], 3)}",
            r["verdict"],
        ]
        rows.append(row)
    lines += grid(head, rows)
    flagged = [
        f"{r['prior']}: {key} {r[f'{key}_diagnosis']}"
        for _, r in s.iterrows()
        for key in ("mu", "tau")
        if r[f"{key}_diagnosis"] != "ok"
    ]
    if flagged:
        lines += ["", "Sensitivity diagnoses:"] + [f"  - {f}" for f in flagged]
    warned = [w for r in c.results for w in r.verdict.warnings if not w.startswith("1 study")]
    if warned:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in warned]
    lines += notes_block(n for r in c.results for n in r.notes)
    return "\n".join(lines) + "\n"

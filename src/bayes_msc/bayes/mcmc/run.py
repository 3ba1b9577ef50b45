"""One MCMC fit with nutpie: the parameterisation chosen per fit, the draws checked.

Parameterisation ``"auto"``: a pilot DerSimonian-Laird tau^2 (:mod:`bayes_msc.frequentist.tau2`),
taken one standard error lower (metafor's SE; few studies leave small tau plausible),
gives each comparison's shrinkage ``B_i = v_i / (v_i + tau^2)``. When the mean shrinkage is
below 1/2 (the data outweigh the random-effects prior in most comparisons: many large
trials) the centred form is sampled first, otherwise (few or small trials, or a pilot
tau^2 of 0) the non-centred form. When it fails its diagnostics verdict, the marginal
form (random effects integrated out, see :mod:`bayes_msc.bayes.mcmc.models`; not for
correlated comparisons), which mixes best for tau, is sampled with the same seed, then the
other of centred/non-centred. The first to pass is kept, else the best (without
divergences first, then R-hat, then the larger smallest ESS); the notes say what was
tried. All three forms share one compiled model (:mod:`bayes_msc.bayes.mcmc.sampler`).
A well-mixing chain short of the ESS rule is re-sampled with more draws (at most
:data:`MAX_DRAWS_FACTOR` times).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayes_msc.bayes.inputs import Prepared
from bayes_msc.bayes.mcmc.models import ModelInputs, data_values
from bayes_msc.bayes.mcmc.sampler import sample
from bayes_msc.bayes.mcmc.summary import ONE_CHAIN
from bayes_msc.errors import InputError, Problem
from bayes_msc.results.bayes import RHAT_MAX, BayesResult


def fit_mcmc(
    prepared: Prepared,
    resolved: Any,
    *,
    model: str,
    parameterisation: str,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float,
    ci_prob: float,
    mcid: float | None,
    label: dict[str, Any],
) -> tuple[BayesResult, list[str]]:
    """The best MCMC posterior of the prepared model (see the module docstring) and the
    notes that say what was tried."""
    notes: list[str] = []
    engine = "mcmc"
    inputs = prepared.inputs
    structure = inputs.structure(resolved)
    if parameterisation == "auto":
        first, why = pilot_centred(inputs)
        order = ["centred", "noncentred"] if first else ["noncentred", "centred"]
        if not structure.dense:
            order.insert(1, "marginal")
        notes.append(f"parameterisation auto: {why}")
    elif parameterisation == "marginal" and structure.dense:
        raise InputError(
            Problem("the marginal form needs independent comparisons (multiarm 'split')", argument="parameterisation")
        )
    else:
        order = [parameterisation]
    options = {
        "model": model,
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "seed": seed,
        "target_accept": target_accept,
        "ci_prob": ci_prob,
        "mcid": mcid,
        "engine": engine,
        "covariates": list(prepared.terms),
        "covariate_at": prepared.standardised.reference if prepared.standardised is not None else {},
        "sampler": "nutpie",
        **label,
    }
    tried: list[BayesResult] = []
    failed: list[str] = []
    for form in order:
        try:
            raw = sample(
                structure,
                data_values(inputs, structure, resolved, form),
                draws=draws,
                tune=tune,
                chains=chains,
                seed=seed,
                target_accept=target_accept,
            )
        except RuntimeError as err:
            if not _no_start(err):
                raise
            failed.append(form)  # another form may start where this one cannot
            notes.append(f"parameterisation {form}: the sampler could not start (no finite starting point)")
            continue
        tried.append(_assemble(raw, prepared, resolved, {**options, "parameterisation": form}))
        if tried[-1].verdict.passed or tried[-1].verdict.reasons == (ONE_CHAIN,):
            break  # (one chain can never pass: no other form would either)
    if not tried:
        raise InputError(
            Problem(
                f"prior set {resolved.name!r}: the sampler could not start ({', '.join(failed)}): the log density "
                "or its gradient is not finite at any starting point; the priors' scales are too far from the "
                f"data's (a typical standard error of {inputs_scale(prepared):.3g}) for MCMC",
                argument="prior",
            )
        )
    best = max(tried, key=_rank)
    if len(tried) > 1:
        notes += [
            f"parameterisation {r.parameterisation} failed its diagnostics ({r.verdict})"
            for r in tried
            if r is not best
        ]
        notes.append(f"parameterisation used: {best.parameterisation}")
    longer = _longer_draws(best, draws) if parameterisation == "auto" else None
    if longer is not None and best.parameterisation is not None:
        # The chains mix (no divergences, R-hat fine) but too slowly for the ESS rule: more
        # draws of the same form, not a different model, is the remedy.
        raw = sample(
            structure,
            data_values(inputs, structure, resolved, best.parameterisation),
            draws=longer,
            tune=tune,
            chains=chains,
            seed=seed,
            target_accept=target_accept,
        )
        again = _assemble(
            raw, prepared, resolved, {**options, "draws": longer, "parameterisation": best.parameterisation}
        )
        notes.append(
            f"ESS_bulk {best.verdict.min_ess_bulk:.0f} < {best.verdict.ess_min:.0f} with {draws} draws "
            f"per chain: re-sampled with {longer} draws per chain ({again.verdict})"
        )
        best = again
    return best, notes


def _no_start(err: RuntimeError) -> bool:
    """nutpie found no starting point with a finite log density and gradient."""
    return "initialization points failed" in str(err) or "Invalid initial point" in str(err)


def inputs_scale(prepared: Prepared) -> float:
    """The comparisons' typical standard error (harmonic mean of the variances), for messages."""
    vi = np.asarray(prepared.inputs.vi, dtype=float)
    return float(np.sqrt(len(vi) / np.sum(1.0 / vi))) if len(vi) else float("nan")


def pilot_centred(inputs: ModelInputs) -> tuple[bool, str]:
    """Whether ``auto`` samples the centred form first, and why (see the module docstring)."""
    from bayes_msc.frequentist.tau2 import estimate_tau2

    k, p = inputs.k, inputs.p
    if k <= p + 1:
        return False, f"non-centred: {k} comparison(s) are too few for a pilot tau"
    v = inputs.vcov if inputs.kind == "re" and inputs.vcov is not None else np.diag(inputs.vi)
    x = np.column_stack([np.ones(k), inputs.z])
    est = estimate_tau2(inputs.yi, v, x, "dl")
    # one standard error below the estimate: with few studies tau may well be small, where
    # the centred form meets its funnel
    low = max(est.tau2 - est.se, 0.0) if np.isfinite(est.se) else 0.0
    shrink = float(np.mean(inputs.vi / (inputs.vi + low))) if low > 0 else 1.0
    form = "centred" if shrink < 0.5 else "non-centred"
    return shrink < 0.5, (
        f"{form}: pilot DerSimonian-Laird tau^2 {est.tau2:.4g} (SE {est.se:.3g}), "
        f"mean shrinkage {shrink:.2f} at tau^2 one SE lower"
    )


def _assemble(raw: Any, prepared: Prepared, resolved: Any, options: dict[str, Any]) -> BayesResult:
    """A BayesResult (with its DataTree, :func:`bayes_msc.bayes.groups.fit_tree`) from
    nutpie's draws."""
    from bayes_msc.bayes.groups import fit_tree
    from bayes_msc.bayes.mcmc import summary as bs

    inputs, terms = prepared.inputs, prepared.terms
    post = bs.tidy_posterior(
        raw.posterior.dataset,
        inputs,
        prepared.standardised,
        terms,
        options["seed"],
        options["parameterisation"],
        resolved.outcome_sd,
    )
    table = bs.parameter_table(bs.reported(post, terms), options["ci_prob"])
    stats = bs.sample_stats(raw.sample_stats.dataset)
    divergences = int(stats["diverging"].sum())
    verdict = bs.verdict(table, divergences, options["draws"], options["chains"])
    std = prepared.standardised
    return BayesResult(
        model=options["model"],
        prior=resolved.name,
        engine="mcmc",
        k=inputs.k,
        parameters=table,
        verdict=verdict,
        prior_spec=resolved.to_dict(),
        prior_set=resolved,
        covariates=terms,
        covariate_at=std.reference if std is not None else {},
        covariate_at_given=std.given if std is not None else (),
        mcid=options["mcid"],
        parameterisation=options["parameterisation"],
        draws=options["draws"],
        chains=options["chains"],
        divergences=divergences,
        probabilities=bs.probabilities(post, options["mcid"]),
        study_effects=bs.study_effects(post, inputs, prepared.comparisons, options["ci_prob"]),
        ci_prob=options["ci_prob"],
        seed=options["seed"],
        idata=fit_tree(post, stats, prepared, resolved, options),
    )


def _rank(result: BayesResult) -> tuple:
    v = result.verdict
    return (v.passed, not v.divergences, (v.max_r_hat or np.inf) <= RHAT_MAX, v.min_ess_bulk or 0.0)


MAX_DRAWS_FACTOR = 4
"""``auto`` re-samples a well-mixing but short chain with at most this many times the draws."""


def _longer_draws(result: BayesResult, draws: int) -> int | None:
    """Draws per chain that should lift ESS_bulk over the verdict's threshold, or None when
    the verdict passed or failed for another reason (divergences, R-hat)."""
    v = result.verdict
    if (
        v.passed
        or any("R-hat" in reason for reason in v.reasons)
        or (v.divergences or 0) > 0
        or v.min_ess_bulk is None
        or v.max_r_hat is None
        or v.max_r_hat > v.r_hat_max
        or v.min_ess_bulk <= 0
    ):
        return None
    factor = min(MAX_DRAWS_FACTOR, 1.25 * v.ess_min / v.min_ess_bulk)
    return int(np.ceil(draws * factor / 100.0) * 100)

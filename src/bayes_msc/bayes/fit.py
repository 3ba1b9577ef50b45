"""Fit the Bayesian models with nutpie: :func:`fit`.

Speed: nutpie compiles a model once per :class:`~bayes_msc.bayes.mcmc.models.Structure`
(model kind, padded size, number of covariates, prior families) and this module keeps the
compiled models for the life of the process. Data, prior hyperparameters, padding and the
parameterisation are all ``pm.Data``, so any later fit with the same structure (another
outcome, month, prior set of the same families, or the other parameterisation) only
re-samples: ``compiled.with_data(...)``.

Determinism: the draws depend only on the data, the options and the seed. nutpie seeds
every chain from ``seed``; the chains' initial points (PyMC's, jittered) are computed from
the model's own shared data, which are set to this fit's values before sampling, so a
cached model gives the same draws as a fresh one. Compiles always use PyTensor's numba
disk cache, whose state (cold or warm) leaves the draws bit-identical.

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
tried. All three forms share one compiled model.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.bayes.inputs import Prepared, prepare_arms, prepare_effects, resolve_priors
from bayes_msc.bayes.mcmc.models import ModelInputs, data_values
from bayes_msc.bayes.mcmc.sampler import sample
from bayes_msc.errors import InputError, Problem
from bayes_msc.results.bayes import RHAT_MAX, BayesResult
from bayes_msc.results.layout import CI_LEVEL

DEFAULT_SEED = 20210101
PARAMETERISATIONS: tuple[str, ...] = ("auto", "centred", "noncentred", "marginal")
ENGINES: tuple[str, ...] = ("mcmc", "exact")


def pilot_centred(inputs: ModelInputs) -> tuple[bool, str]:
    """Whether ``auto`` samples the centred form first, and why (see the module docstring)."""
    from bayes_msc.frequentist.tau2 import estimate_tau2

    k, p = inputs.k, inputs.p
    if k <= p + 1:
        return False, f"non-centred: {k} comparison(s) are too few for a pilot tau"
    v = inputs.vcov if inputs.kind == "re" else np.diag(inputs.vi)
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


def _check_options(
    model: str,
    engine: str,
    parameterisation: str,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float,
    ci_prob: float,
    mcid: float | None,
) -> None:
    problems = []

    def need(ok: bool, column: str, message: str) -> None:
        if not ok:
            problems.append(Problem(message, column=column))

    def whole(x: Any) -> bool:
        return isinstance(x, (int, np.integer)) and not isinstance(x, bool)

    need(model in ("re", "arm"), "model", f"unknown model {model!r}; allowed: re, arm")
    need(engine in ENGINES, "engine", f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    need(
        parameterisation in PARAMETERISATIONS,
        "parameterisation",
        f"unknown parameterisation {parameterisation!r}; allowed: {', '.join(PARAMETERISATIONS)}",
    )
    need(whole(draws) and draws >= 10, "draws", f"draws must be a whole number >= 10, not {draws!r}")
    need(whole(tune) and tune >= 1, "tune", f"tune must be a whole number >= 1 (nutpie needs a warm-up), not {tune!r}")
    need(whole(chains) and chains >= 1, "chains", f"chains must be a whole number >= 1, not {chains!r}")
    need(whole(seed) and seed >= 0, "seed", f"seed must be a whole number >= 0, not {seed!r}")
    need(
        isinstance(target_accept, float | int) and 0 < target_accept < 1,
        "target_accept",
        f"target_accept must be between 0 and 1, not {target_accept!r}",
    )
    need(
        isinstance(ci_prob, float | int) and 0 < ci_prob < 1,
        "ci_prob",
        f"ci_prob must be between 0 and 1, not {ci_prob!r}",
    )
    need(
        mcid is None or (isinstance(mcid, float | int) and np.isfinite(mcid) and mcid != 0),
        "mcid",
        f"mcid must be a finite number other than 0, not {mcid!r}",
    )
    if problems:
        raise InputError(problems)


def prepare(data: Any, model: str, covariates: Sequence[str]) -> Prepared:
    """Model inputs from an EffectTable (``re``) or an ArmTable (``arm``)."""
    is_arms = hasattr(data, "comparisons") and not hasattr(data, "vcov")
    if model == "re" and is_arms:
        raise InputError(
            Problem("the 're' model needs an effect table (effect_table), not an arm table", column="model")
        )
    if model == "arm" and not is_arms:
        raise InputError(Problem("the 'arm' model needs an arm table (arm_table), not an effect table", column="model"))
    return prepare_arms(data, covariates) if is_arms else prepare_effects(data, covariates)


def _notes(data: Any, prepared: Prepared, model: str) -> list[str]:
    notes = list(getattr(data, "notes", ())) + list(prepared.notes)
    if prepared.inputs.k == 1:
        notes.append("k = 1: tau is prior-driven (one comparison cannot inform the between-study SD)")
    if model == "arm":
        notes.append(
            "arm model: shared control arms enter once; the treatment-arm effects of one "
            "study are independent given mu and tau (no tau^2/2 covariance)"
        )
    return notes


def _assemble(raw: Any, prepared: Prepared, resolved: Any, options: dict[str, Any]) -> BayesResult:
    """A BayesResult (with its DataTree) from nutpie's draws."""
    import json

    import xarray as xr

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
    groups = {
        "posterior": post,
        "sample_stats": stats,
        "log_likelihood": bs.log_likelihood(post, inputs),
        "log_prior": bs.log_prior(post, resolved, bool(terms)),
    }
    groups.update(_data_groups(inputs, prepared))
    for ds in groups.values():  # no creation times: the same call saves the same file
        ds.attrs.pop("created_at", None)
    tree = xr.DataTree.from_dict(groups)
    tree.attrs.update(
        prior_set=json.dumps(resolved.to_dict(), sort_keys=True), options=json.dumps(options, sort_keys=True)
    )
    return BayesResult(
        model=options["model"],
        prior=resolved.name,
        engine="mcmc",
        k=inputs.k,
        parameters=table,
        verdict=verdict,
        prior_spec=resolved.to_dict(),
        covariates=terms,
        parameterisation=options["parameterisation"],
        draws=options["draws"],
        chains=options["chains"],
        divergences=divergences,
        probabilities=bs.probabilities(post, bool(terms), options["mcid"]),
        study_effects=bs.study_effects(post, inputs, prepared.comparisons, options["ci_prob"]),
        ci_prob=options["ci_prob"],
        seed=options["seed"],
        idata=tree,
    )


def _data_groups(inputs: ModelInputs, prepared: Prepared) -> dict[str, Any]:
    import xarray as xr

    const: dict[str, Any] = {"yi": ("comparison", inputs.yi), "vi": ("comparison", inputs.vi)}
    coords: dict[str, Any] = {"comparison": list(inputs.labels)}
    if prepared.standardised is not None:
        coords["term"] = list(prepared.terms)
        const.update(
            Z=(("comparison", "term"), inputs.z),
            covariate_centre=("term", prepared.standardised.centre),
            covariate_scale=("term", prepared.standardised.scale),
        )
    if inputs.kind == "re":
        const["vcov"] = (("comparison", "comparison_b"), inputs.vcov)
        coords["comparison_b"] = list(inputs.labels)
        observed = xr.Dataset({"y": ("comparison", inputs.yi)}, coords={"comparison": list(inputs.labels)})
    else:
        const.update(
            arm_se=("arm", inputs.arm_se), arm_study=("arm", inputs.arm_study), arm_effect=("arm", inputs.arm_effect)
        )
        coords["arm"] = list(inputs.arm_labels)
        observed = xr.Dataset({"y": ("arm", inputs.arm_mean)}, coords={"arm": list(inputs.arm_labels)})
    return {"observed_data": observed, "constant_data": xr.Dataset(const, coords=coords)}


def _rank(result: BayesResult) -> tuple:
    v = result.verdict
    return (v.passed, not v.divergences, (v.max_r_hat or np.inf) <= RHAT_MAX, v.min_ess_bulk or 0.0)


def fit(
    data: Any,
    model: str = "re",
    prior: Any = "weakly_informative",
    covariates: Sequence[str] = (),
    *,
    priors_path: str | os.PathLike | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = DEFAULT_SEED,
    parameterisation: str = "auto",
    engine: str = "mcmc",
    target_accept: float = 0.95,
    ci_prob: float = CI_LEVEL,
    mcid: float | None = None,
    save: str | os.PathLike | None = None,
) -> BayesResult:
    """Fit a Bayesian random-effects model.

    Parameters
    ----------
    data : EffectTable or ArmTable
        An effect table for ``model="re"``, an arm table for ``model="arm"``.
    model : {"re", "arm"}
        Contrast-level or arm-level model (:mod:`bayes_msc.bayes.mcmc.models`).
    prior : str or PriorSet
        A prior-set name (from ``priors_path`` or the bundled sets) or a PriorSet.
    covariates : sequence of str
        Covariate terms (``age_mean``, ``log10(dose_million)``); slopes are reported per
        unit of the term, their priors are per SD of it.
    draws, tune, chains, seed : int
        nutpie's settings; the same seed gives identical draws.
    parameterisation : {"auto", "centred", "noncentred", "marginal"}
        How the random effects are sampled (:mod:`bayes_msc.bayes.mcmc.models`);
        ``auto`` is explained in the module docstring. The result says which was used.
    engine : {"mcmc", "exact"}
        ``exact``: the quadrature posterior (:func:`bayes_msc.bayes.exact.posterior.exact_posterior`
        for ``re`` with independent comparisons, :mod:`bayes_msc.bayes.exact.arm` for
        ``arm``; Normal or Flat priors on mu, the slopes and the arm baselines).
    target_accept : float
        NUTS target acceptance (0.95: small meta-analyses diverge at 0.8).
    ci_prob : float
        Probability of every interval.
    mcid : float, optional
        Minimal clinically important difference: adds ``P(mu < -|mcid|)``.
    save : path, optional
        Write the DataTree (posterior, sample_stats, log_likelihood, log_prior,
        observed_data, constant_data; the prior set and options as JSON attributes) to
        this netCDF file, atomically.

    Returns
    -------
    BayesResult
        With the diagnostics verdict: R-hat <= 1.01 and ESS_bulk >= 1000 (scaled down in
        proportion when draws x chains < 4000, see
        :func:`bayes_msc.bayes.mcmc.summary.ess_threshold`) for every reported
        parameter, and no divergences.

    Raises
    ------
    InputError
        Bad options, unknown prior set or covariate, no data, or an unsupported
        engine/model combination.
    """
    start = time.perf_counter()
    _check_options(model, engine, parameterisation, draws, tune, chains, seed, target_accept, ci_prob, mcid)
    if save is not None:
        from bayes_msc.bayes.mcmc.summary import save_folder

        save_folder(save)  # before any work: a bad target must not waste the fit
    if isinstance(prior, str):
        from bayes_msc.priors import get_prior_set

        prior = get_prior_set(prior, priors_path)
    prepared = prepare(data, model, covariates)
    measure = getattr(data, "measure", "md")
    resolved = resolve_priors(prior, prepared, measure)
    notes = _notes(data, prepared, model)
    label = {
        "outcome": data.outcome,
        "month": data.month,
        "dataset": data.dataset,
        "simulated": data.simulated,
        "measure": measure,
        "multiarm": getattr(data, "multiarm", "shared"),
    }
    if engine == "exact":
        if save is not None:
            raise InputError(
                Problem("the exact engine has no draws to save; drop save or use engine 'mcmc'", column="save")
            )
        result = _exact(prepared, resolved, model, ci_prob, mcid)
        return replace(
            result,
            prior=resolved.name,
            covariates=prepared.terms,
            notes=tuple(result.notes) + tuple(notes),
            seconds=time.perf_counter() - start,
            **label,
        )
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
            Problem("the marginal form needs independent comparisons (multiarm 'split')", column="parameterisation")
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
        "sampler": "nutpie",
        **label,
    }
    tried: list[BayesResult] = []
    for form in order:
        raw = sample(
            structure,
            data_values(inputs, structure, resolved, form),
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            target_accept=target_accept,
        )
        tried.append(_assemble(raw, prepared, resolved, {**options, "parameterisation": form}))
        if tried[-1].verdict.passed:
            break
    best = max(tried, key=_rank)
    if len(tried) > 1:
        notes += [
            f"parameterisation {r.parameterisation} failed its diagnostics ({r.verdict})"
            for r in tried
            if r is not best
        ]
        notes.append(f"parameterisation used: {best.parameterisation}")
    longer = _longer_draws(best, draws) if parameterisation == "auto" else None
    if longer is not None:
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
    best = replace(best, notes=tuple(notes), **label)
    if save is not None:
        from bayes_msc.bayes.mcmc.summary import save_datatree

        save_datatree(best.idata, save)
    return replace(best, seconds=time.perf_counter() - start)


MAX_DRAWS_FACTOR = 4
"""``auto`` re-samples a well-mixing but short chain with at most this many times the draws."""


def _longer_draws(result: BayesResult, draws: int) -> int | None:
    """Draws per chain that should lift ESS_bulk over the verdict's threshold, or None when
    the verdict passed or failed for another reason (divergences, R-hat)."""
    v = result.verdict
    if (
        v.passed
        or (v.divergences or 0) > 0
        or v.min_ess_bulk is None
        or v.max_r_hat is None
        or v.max_r_hat > v.r_hat_max
        or v.min_ess_bulk <= 0
    ):
        return None
    factor = min(MAX_DRAWS_FACTOR, 1.25 * v.ess_min / v.min_ess_bulk)
    return int(np.ceil(draws * factor / 100.0) * 100)


def _exact(prepared: Prepared, resolved: Any, model: str, ci_prob: float, mcid: float | None) -> BayesResult:
    """The quadrature posterior: the ``re`` model with independent comparisons
    (:mod:`bayes_msc.bayes.exact.posterior`) or the ``arm`` model
    (:mod:`bayes_msc.bayes.exact.arm`)."""
    from bayes_msc.bayes.engines import independent
    from bayes_msc.bayes.exact.posterior import exact_posterior, quadrature, summarise

    inputs = prepared.inputs
    labels = pd.DataFrame({"study": list(inputs.studies), "comparison": list(prepared.comparisons)})
    mcid = None if mcid is None else abs(mcid)
    if model == "arm":
        from bayes_msc.bayes.exact.arm import arm_model

        full = quadrature(arm_model(inputs, prepared.standardised, resolved))
        return summarise(full, ci_prob=ci_prob, mcid=mcid, labels=labels, model="arm")
    if not independent(inputs.vcov):
        raise InputError(
            Problem(
                "the exact engine needs independent comparisons; use multiarm 'split' "
                "or engine 'mcmc' for comparisons sharing an arm",
                column="engine",
            )
        )
    std = prepared.standardised
    x = None if std is None else std.z * std.scale + std.centre
    return exact_posterior(
        inputs.yi, inputs.vi, resolved, X=x, names=prepared.terms, ci_prob=ci_prob, mcid=mcid, labels=labels
    )

"""Fit the Bayesian models: :func:`fit`, the one entry point of both engines.

:func:`fit` checks the options, takes the model from the data's type (an effect table:
the contrast-level ``re`` model; an arm table: the arm-level ``arm`` model), resolves the
prior set for the data, and lets :func:`bayes_msc.bayes.engines.choose_engine` decide the
engine: the exact quadrature posterior wherever it is the model's posterior
(:mod:`bayes_msc.bayes.exact`), MCMC with nutpie otherwise (:mod:`bayes_msc.bayes.mcmc.run`).
The result says which engine made it and keeps the resolved prior set. Either engine's
result has its draws as an ArviZ DataTree (``idata``; the exact engine's are independent
draws of its exact posterior, :mod:`bayes_msc.bayes.exact.tree`), which ``save`` writes
to a netCDF file that :func:`bayes_msc.bayes.saved.load_result` reads back.

``mu`` is the pooled effect at the covariates' reference values (their means over the
analysed comparisons unless ``covariate_at`` sets them; :mod:`bayes_msc.bayes.design`).
An MCID is signed in the direction of benefit (``-19.9`` where lower is better) and adds
``P(mu < -19.9)`` (``P(mu > m)`` for a positive one). The verdict carries warnings
(:mod:`bayes_msc.bayes.checks`): a bounded prior that cuts the posterior off, comparisons
from a single study.

Determinism: the draws depend only on the data, the options and the seed (see
:mod:`bayes_msc.bayes.mcmc.sampler`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bayes_msc.bayes.engines import choose_engine
from bayes_msc.bayes.inputs import Prepared, prepare_arms, prepare_effects, resolve_priors
from bayes_msc.bayes.mcmc.run import fit_mcmc
from bayes_msc.bayes.options import check_memory, check_options
from bayes_msc.errors import InputError, Problem
from bayes_msc.guard.arguments import check_path, check_terms
from bayes_msc.results.bayes import BayesResult, Deferred
from bayes_msc.results.layout import CI_LEVEL

if TYPE_CHECKING:
    from bayes_msc.data.effects import ArmTable, EffectTable
    from bayes_msc.priors import PriorSet

DEFAULT_SEED = 20210101


def model_of(data: EffectTable | ArmTable, model: str | None = None) -> str:
    """The model a table is fitted with: ``re`` for an effect table, ``arm`` for an arm
    table; ``model``, when given, must agree with the table's type."""
    from bayes_msc.data.effects import ArmTable, EffectTable

    if isinstance(data, ArmTable):
        kind = "arm"
    elif isinstance(data, EffectTable):
        kind = "re"
    else:
        raise InputError(
            Problem(
                f"data must be an effect table (bm.effect_table) or an arm table (bm.arm_table), "
                f"not {type(data).__name__}",
                argument="data",
            )
        )
    if model is not None and model != kind:
        needs = "an effect table (effect_table)" if model == "re" else "an arm table (arm_table)"
        given = "an arm table" if kind == "arm" else "an effect table"
        raise InputError(Problem(f"the '{model}' model needs {needs}, not {given}", argument="model"))
    return kind


def prepare(
    data: EffectTable | ArmTable,
    model: str,
    covariates: Sequence[str],
    covariate_at: Mapping[str, float] | None = None,
) -> Prepared:
    """Model inputs from an EffectTable (``re``) or an ArmTable (``arm``)."""
    from bayes_msc.data.effects import ArmTable

    model_of(data, model)
    if covariate_at is not None and not isinstance(covariate_at, Mapping):
        raise InputError(
            Problem(
                f"covariate_at must be a dict term -> value, not {type(covariate_at).__name__}", argument="covariate_at"
            )
        )
    if isinstance(data, ArmTable):
        return prepare_arms(data, covariates, covariate_at)
    return prepare_effects(data, covariates, covariate_at)


def _notes(data: Any, prepared: Prepared, model: str) -> list[str]:
    notes = list(data.notes) + list(prepared.notes)
    if prepared.inputs.k == 1:
        notes.append("k = 1: tau is prior-driven (one comparison cannot inform the between-study SD)")
    if model == "arm":
        notes.append(
            "arm model: shared control arms enter once; the treatment-arm effects of one "
            "study are independent given mu and tau (no tau^2/2 covariance)"
        )
    return notes


def fit(
    data: EffectTable | ArmTable,
    model: str | None = None,
    prior: str | PriorSet | dict[str, Any] = "weakly_informative",
    covariates: Sequence[str] = (),
    *,
    covariate_at: Mapping[str, float] | None = None,
    priors_path: str | os.PathLike | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = DEFAULT_SEED,
    parameterisation: str = "auto",
    engine: str = "auto",
    target_accept: float = 0.95,
    ci_prob: float = CI_LEVEL,
    mcid: float | None = None,
    save: str | os.PathLike | None = None,
    force: bool = False,
) -> BayesResult:
    """Fit a Bayesian random-effects model.

    Parameters
    ----------
    data : EffectTable or ArmTable
        An effect table (the contrast-level ``re`` model) or an arm table (the arm-level
        ``arm`` model).
    model : {"re", "arm"}, optional
        Default: from the type of ``data``; when given it must agree with it.
    prior : str, PriorSet or dict
        A prior-set name (a bundled set or one that ``priors_path`` adds), a
        :class:`~bayes_msc.priors.PriorSet` (``PriorSet(mu=Prior("Normal", mu=0, sigma=20),
        tau=Prior("HalfCauchy", beta=10))``) or a dict of a prior-set file's keys.
    priors_path : path, optional
        A prior-set file whose sets are added to the bundled ones (a name in both is an error).
    covariates : sequence of str
        Covariate terms (``age_mean``, ``log10(dose_million)``); slopes are reported per
        unit of the term, their priors are per SD of it.
    covariate_at : dict, optional
        Reference values of covariate terms, ``{"age_mean": 60}`` (a transformed term by
        its term, ``log10(dose_million)``, or by its column, ``dose_million``, on the
        column's scale). ``mu`` (and its prior, and ``theta_new``) is the pooled effect at
        the reference values; a term not given is at its mean over the analysed
        comparisons. ``intercept`` is the effect where every term is 0.
    draws, tune, chains, seed : int
        nutpie's settings; the same seed gives identical draws.
    parameterisation : {"auto", "centred", "noncentred", "marginal"}
        How the random effects are sampled (:mod:`bayes_msc.bayes.mcmc.models`);
        ``auto`` is explained in the module docstring. The result says which was used.
    engine : {"auto", "mcmc", "exact"}
        ``exact``: the quadrature posterior (:func:`bayes_msc.bayes.exact.posterior.exact_posterior`
        for ``re`` with independent comparisons, :mod:`bayes_msc.bayes.exact.arm` for
        ``arm``; Normal or Flat priors on mu, the slopes and the arm baselines).
        ``auto`` (default): ``exact`` wherever its posterior is the model's posterior
        (:func:`bayes_msc.bayes.engines.choose_engine`), ``mcmc`` otherwise. The result's
        ``engine`` says which computed it.
    target_accept : float
        NUTS target acceptance (0.95: small meta-analyses diverge at 0.8).
    ci_prob : float
        Probability of every interval.
    mcid : float, optional
        Minimal clinically important difference, signed in the direction of benefit:
        ``-19.9`` (lower is better) adds ``P(mu < -19.9)``, ``9`` adds ``P(mu > 9)``.
    save : path, optional
        Write the DataTree (posterior, sample_stats, log_likelihood, log_prior, prior,
        posterior_predictive, observed_data, constant_data; the result, the prior set and
        the options as JSON attributes) to this netCDF file, atomically; either engine.
        :func:`bayes_msc.load_result` reads it back.
        Checked before any work: never an input (the prior-set file), never a link, pipe or
        device, never an existing file this package did not write (unless ``force``)
        (:func:`bayes_msc.bayes.savefile.check_save`).
    force : bool
        Let ``save`` replace an existing file that is not a posterior file of this package.

    Returns
    -------
    BayesResult
        With the diagnostics verdict: R-hat <= 1.01 and ESS_bulk >= 1000 (scaled down in
        proportion when draws x chains < 4000, see
        :func:`bayes_msc.bayes.mcmc.summary.ess_threshold`) for every reported
        parameter, and no divergences (the exact engine always passes); its warnings
        (:mod:`bayes_msc.bayes.checks`). ``idata`` holds ``draws x chains`` draws
        (independent ones from the exact engine, whose summaries are exact).

    Raises
    ------
    InputError
        Bad options, unknown prior set or covariate, no data, or an unsupported
        engine/model combination.
    """
    start = time.perf_counter()
    check_options(model, engine, parameterisation, draws, tune, chains, seed, target_accept, ci_prob, mcid, force)
    draws, tune, chains, seed = int(draws), int(tune), int(chains), int(seed)  # numpy integers too
    ci_prob, target_accept = float(ci_prob), float(target_accept)
    mcid = None if mcid is None else float(mcid)
    covariates = check_terms(covariates, "covariates")
    if priors_path is not None:
        priors_path = check_path(priors_path, "priors_path", "a prior-set file")
    if save is not None:
        from bayes_msc.bayes.savefile import check_save

        # before any work: a bad target must not waste the fit
        check_save(save, inputs=[priors_path] if priors_path is not None else [], force=force)
    from bayes_msc.priors import as_prior_set

    prior = as_prior_set(prior, None if priors_path is None else Path(priors_path))
    model = model_of(data, model)
    prepared = prepare(data, model, covariates, covariate_at)
    from bayes_msc.data.effects import EffectTable

    # An arm table is on the outcome's own scale; its shared controls enter once ("shared").
    measure, multiarm = (data.measure, data.multiarm) if isinstance(data, EffectTable) else ("md", "shared")
    resolved = resolve_priors(prior, prepared, measure)
    notes = _notes(data, prepared, model)
    label: dict[str, Any] = {
        "outcome": data.outcome,
        "month": data.month,
        "dataset": data.dataset,
        "simulated": data.simulated,
        "measure": measure,
        "multiarm": multiarm,
    }
    engine = choose_engine(engine, model, resolved, prepared.terms, prepared.inputs.vcov)
    if engine == "mcmc":
        check_memory(prepared, model, draws, chains, parameterisation)
    if engine == "exact":
        options = {
            "model": model,
            "engine": "exact",
            "draws": draws,
            "chains": chains,
            "seed": seed,
            "ci_prob": ci_prob,
            "mcid": mcid,
            "covariates": list(prepared.terms),
            "covariate_at": prepared.standardised.reference if prepared.standardised is not None else {},
            **label,
        }
        result, make_tree = _exact(prepared, resolved, model, ci_prob, mcid, options)
        result = replace(
            result,
            prior=resolved.name,
            prior_set=resolved,
            covariates=prepared.terms,
            notes=tuple(result.notes) + tuple(notes),
            **label,
        )
    else:
        best, mcmc_notes = fit_mcmc(
            prepared,
            resolved,
            model=model,
            parameterisation=parameterisation,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            target_accept=target_accept,
            ci_prob=ci_prob,
            mcid=mcid,
            label=label,
        )
        result = replace(best, notes=tuple(notes + mcmc_notes), **label)
    result = _with_warnings(result, prepared, resolved)
    from bayes_msc.results.serialise import to_json

    # The result's JSON travels with its draws: load_result gives back these very summaries.
    text = to_json(result.to_dict())
    if engine == "exact":
        # The exact engine's draws are made when first read (a review builds each tree
        # where it writes it, in parallel): the same draws whenever they are made. One
        # replace, the last: dataclasses.replace reads every field, idata too.
        result = replace(
            result, idata=Deferred(partial(_labelled, make_tree, text)), seconds=time.perf_counter() - start
        )
    else:
        result.idata.attrs["result"] = text
        result = replace(result, seconds=time.perf_counter() - start)
    if save is not None:
        from bayes_msc.bayes.saved import save_datatree

        save_datatree(result.idata, save, force=force)
    return result


def _labelled(make: Callable[[], Any], text: str) -> Any:
    tree = make()
    tree.attrs["result"] = text
    return tree


def _with_warnings(result: BayesResult, prepared: Prepared, resolved: Any) -> BayesResult:
    """The result with its number of studies and its verdict's warnings
    (:mod:`bayes_msc.bayes.checks`)."""
    from bayes_msc.bayes.checks import bound_warnings, one_study_warning

    studies = prepared.inputs.studies
    warnings = bound_warnings(result, resolved)
    alone = one_study_warning(studies)
    if alone is not None:
        warnings.insert(0, alone)
    verdict = replace(result.verdict, warnings=tuple(result.verdict.warnings) + tuple(warnings))
    return replace(result, verdict=verdict, n_studies=len(set(studies)))


def _exact(
    prepared: Prepared, resolved: Any, model: str, ci_prob: float, mcid: float | None, options: dict[str, Any]
) -> tuple[BayesResult, Callable[[], Any]]:
    """The quadrature posterior: the ``re`` model with independent comparisons
    (:mod:`bayes_msc.bayes.exact.posterior`) or the ``arm`` model
    (:mod:`bayes_msc.bayes.exact.arm`), and the maker of its DataTree of ``draws x chains``
    independent draws (:mod:`bayes_msc.bayes.exact.tree`): the table's ESS columns give
    their number."""
    from bayes_msc.bayes.exact.model import make_model
    from bayes_msc.bayes.exact.posterior import quadrature, summarise
    from bayes_msc.bayes.exact.tree import exact_tree
    from bayes_msc.frequentist.pooling import independent

    inputs = prepared.inputs
    labels = pd.DataFrame({"study": list(inputs.studies), "comparison": list(prepared.comparisons)})
    if model == "arm":
        from bayes_msc.bayes.exact.arm import arm_model

        full = quadrature(arm_model(inputs, prepared.standardised, resolved))
    elif not independent(inputs.vcov):
        raise InputError(
            Problem(
                "the exact engine needs independent comparisons; use multiarm 'split' "
                "or engine 'mcmc' for comparisons sharing an arm",
                argument="engine",
            )
        )
    else:
        # The covariates as the MCMC engine sees them (standardised once, in bayes.inputs).
        full = quadrature(make_model(inputs.yi, inputs.vi, resolved, None, prepared.terms, std=prepared.standardised))
    result = summarise(full, ci_prob=ci_prob, mcid=mcid, labels=labels, model=model)
    chains, draws = int(options["chains"]), int(options["draws"])
    n = chains * draws
    table = result.parameters.assign(ess_bulk=float(n), ess_tail=float(n))
    result = replace(
        result,
        parameters=table,
        verdict=replace(result.verdict, min_ess_bulk=float(n), divergences=0),
        draws=draws,
        chains=chains,
        divergences=0,
        seed=int(options["seed"]),
        notes=(
            *result.notes,
            f"exact engine: summaries by quadrature (no Monte Carlo error); idata holds {chains} x {draws} "
            "independent draws of the same posterior (effective sample size = their number)",
        ),
    )
    return result, partial(exact_tree, full, prepared, resolved, chains=chains, draws=draws, options=options)

"""Fit the Bayesian models: :func:`fit`, the one entry point of both engines.

:func:`fit` checks the options, takes the model from the data's type (an effect table:
the contrast-level ``re`` model; an arm table: the arm-level ``arm`` model), resolves the
prior set for the data, and lets :func:`bayes_msc.bayes.engines.choose_engine` decide the
engine: the exact quadrature posterior wherever it is the model's posterior
(:mod:`bayes_msc.bayes.exact`), MCMC with nutpie otherwise (:mod:`bayes_msc.bayes.mcmc.run`).
The result says which engine made it and keeps the resolved prior set.

Determinism: the draws depend only on the data, the options and the seed (see
:mod:`bayes_msc.bayes.mcmc.sampler`).
"""

from __future__ import annotations

import numbers
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayes_msc.bayes.engines import choose_engine
from bayes_msc.bayes.inputs import Prepared, prepare_arms, prepare_effects, resolve_priors
from bayes_msc.bayes.mcmc.run import fit_mcmc
from bayes_msc.errors import InputError, Problem
from bayes_msc.guard.arguments import check_path, check_terms
from bayes_msc.guard.limits import MAX_CHAINS, MAX_DRAWS, MAX_SEED, memory_problem, whole_in
from bayes_msc.results.bayes import BayesResult
from bayes_msc.results.layout import CI_LEVEL

if TYPE_CHECKING:
    from bayes_msc.data.effects import ArmTable, EffectTable
    from bayes_msc.priors import PriorSet

DEFAULT_SEED = 20210101
PARAMETERISATIONS: tuple[str, ...] = ("auto", "centred", "noncentred", "marginal")
ENGINES: tuple[str, ...] = ("auto", "mcmc", "exact")
MODELS: tuple[str, ...] = ("re", "arm")


def _check_options(
    model: str | None,
    engine: str,
    parameterisation: str,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float,
    ci_prob: float,
    mcid: float | None,
    force: bool = False,
) -> None:
    problems = []

    def need(ok: bool, column: str, message: str) -> None:
        if not ok:
            problems.append(Problem(message, argument=column))

    def real(x: Any) -> bool:
        return isinstance(x, numbers.Real) and not isinstance(x, bool)

    need(
        model is None or model in MODELS,
        "model",
        f"unknown model {model!r}; allowed: {', '.join(MODELS)} (or None: from the data's type)",
    )
    need(engine in ENGINES, "engine", f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    need(
        parameterisation in PARAMETERISATIONS,
        "parameterisation",
        f"unknown parameterisation {parameterisation!r}; allowed: {', '.join(PARAMETERISATIONS)}",
    )
    need(
        whole_in(draws, 10, MAX_DRAWS),
        "draws",
        f"draws must be a whole number from 10 to {MAX_DRAWS:.0e}, not {draws!r}".replace("e+0", "e"),
    )
    need(
        whole_in(tune, 1, MAX_DRAWS),
        "tune",
        f"tune must be a whole number from 1 to {MAX_DRAWS:.0e} (nutpie needs a warm-up), not {tune!r}".replace(
            "e+0", "e"
        ),
    )
    need(
        whole_in(chains, 1, MAX_CHAINS),
        "chains",
        f"chains must be a whole number from 1 to {MAX_CHAINS}, not {chains!r}",
    )
    need(
        whole_in(seed, 0, MAX_SEED),
        "seed",
        f"seed must be a whole number from 0 to {MAX_SEED} (2^32 - 1), not {seed!r}",
    )
    need(
        real(target_accept) and 0 < target_accept < 1,
        "target_accept",
        f"target_accept must be between 0 and 1, not {target_accept!r}",
    )
    need(
        real(ci_prob) and 0 < ci_prob < 1,
        "ci_prob",
        f"ci_prob must be between 0 and 1, not {ci_prob!r}",
    )
    need(
        mcid is None or (real(mcid) and np.isfinite(mcid) and mcid != 0),
        "mcid",
        f"mcid must be a finite number other than 0, not {mcid!r}",
    )
    need(isinstance(force, bool), "force", f"force must be True or False, not {force!r}")
    if problems:
        raise InputError(problems)


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


def prepare(data: EffectTable | ArmTable, model: str, covariates: Sequence[str]) -> Prepared:
    """Model inputs from an EffectTable (``re``) or an ArmTable (``arm``)."""
    from bayes_msc.data.effects import ArmTable

    model_of(data, model)
    return prepare_arms(data, covariates) if isinstance(data, ArmTable) else prepare_effects(data, covariates)


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
        Minimal clinically important difference: adds ``P(mu < -|mcid|)``.
    save : path, optional
        Write the DataTree (posterior, sample_stats, log_likelihood, log_prior,
        observed_data, constant_data; the prior set and options as JSON attributes) to
        this netCDF file, atomically. Checked before any work: never an input (the
        prior-set file), never a link, pipe or device, never an existing file this package
        did not write (unless ``force``) (:func:`bayes_msc.bayes.savefile.check_save`).
    force : bool
        Let ``save`` replace an existing file that is not a posterior file of this package.

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
    _check_options(model, engine, parameterisation, draws, tune, chains, seed, target_accept, ci_prob, mcid, force)
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
    prepared = prepare(data, model, covariates)
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
    requested = engine
    engine = choose_engine(engine, model, resolved, prepared.terms, prepared.inputs.vcov)
    if requested == "auto" and engine == "exact" and save is not None:
        # The exact engine keeps no draws to save: a posterior file needs MCMC.
        engine = "mcmc"
        notes.append("engine auto: MCMC, because a posterior file (save) needs draws")
    if engine == "mcmc":
        _check_memory(prepared, model, draws, chains, parameterisation)
    if engine == "exact":
        if save is not None:
            raise InputError(
                Problem("the exact engine has no draws to save; drop save or use engine 'mcmc'", argument="save")
            )
        result = _exact(prepared, resolved, model, ci_prob, mcid)
        return replace(
            result,
            prior=resolved.name,
            prior_set=resolved,
            covariates=prepared.terms,
            notes=tuple(result.notes) + tuple(notes),
            seconds=time.perf_counter() - start,
            **label,
        )
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
    notes += mcmc_notes
    best = replace(best, notes=tuple(notes), **label)
    if save is not None:
        from bayes_msc.bayes.mcmc.summary import save_datatree

        save_datatree(best.idata, save, force=force)
    return replace(best, seconds=time.perf_counter() - start)


def values_per_draw(k: int, p: int, model: str) -> int:
    """Numbers an MCMC fit keeps per draw: mu, tau, the study effects and their log
    likelihood, the slopes (per unit and per SD), the arm baselines, sampler statistics."""
    return 2 * k + 2 * p + (k if model == "arm" else 0) + 24


def _check_memory(prepared: Prepared, model: str, draws: int, chains: int, parameterisation: str) -> None:
    """Refuse draws x chains that would not fit in memory, before sampling."""
    values = values_per_draw(prepared.inputs.k, len(prepared.terms), model)
    problem = memory_problem(draws, chains, values, copies=3 if parameterisation == "auto" else 1)
    if problem:
        raise InputError(Problem(problem, argument="draws"))


def _exact(prepared: Prepared, resolved: Any, model: str, ci_prob: float, mcid: float | None) -> BayesResult:
    """The quadrature posterior: the ``re`` model with independent comparisons
    (:mod:`bayes_msc.bayes.exact.posterior`) or the ``arm`` model
    (:mod:`bayes_msc.bayes.exact.arm`)."""
    from bayes_msc.bayes.exact.model import make_model
    from bayes_msc.bayes.exact.posterior import quadrature, summarise
    from bayes_msc.frequentist.pooling import independent

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
                argument="engine",
            )
        )
    # The covariates as the MCMC engine sees them (standardised once, in bayes.inputs).
    model_ = make_model(inputs.yi, inputs.vi, resolved, None, prepared.terms, std=prepared.standardised)
    return summarise(quadrature(model_), ci_prob=ci_prob, mcid=mcid, labels=labels)

"""Fit one model under several prior sets and check each fit's prior sensitivity.

Power-scaling sensitivity (Kallioinen et al. 2024, Stat Comput 34:57; ArviZ's
``psense``): how much the posterior of ``mu`` and ``tau`` moves when the prior (or the
likelihood) is raised to a power near 1, estimated from the draws by Pareto-smoothed
importance sampling, so no refit is needed. It uses the fit's ``log_prior`` group (the
hyperpriors of mu, tau and the slopes) and ``log_likelihood`` group.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_msc.bayes.fit import DEFAULT_SEED, fit
from bayes_msc.errors import InputError, Problem
from bayes_msc.results.comparison import PriorComparison, diagnosis
from bayes_msc.results.layout import CI_LEVEL

SENSITIVITY_COLUMNS = ("mu_prior", "mu_likelihood", "tau_prior", "tau_likelihood", "mu_diagnosis", "tau_diagnosis")


def sensitivity(result: Any) -> dict[str, Any]:
    """Power-scaling sensitivity of mu (at the covariates' reference values) and tau to the
    prior and to the likelihood, with ArviZ's diagnosis of each, from the fit's DataTree
    (either engine: the exact engine's draws are independent draws of its posterior)."""
    from arviz_stats import psense

    tree = result.idata
    prior = psense(tree, var_names=["mu", "tau"], group="prior")
    lik = psense(tree, var_names=["mu", "tau"], group="likelihood")
    out: dict[str, Any] = {}
    for name in ("mu", "tau"):
        p, q = float(prior[name]), float(lik[name])
        out.update({f"{name}_prior": p, f"{name}_likelihood": q, f"{name}_diagnosis": diagnosis(p, q)})
    return out


def _prior_list(priors: Any) -> list[Any]:
    """The prior sets as a list: names, PriorSets or dicts (a lone name is refused: it
    would be taken letter by letter)."""
    from collections.abc import Mapping

    from bayes_msc.priors import PriorSet

    if isinstance(priors, (str, PriorSet, Mapping)) or not isinstance(priors, Sequence):
        raise InputError(
            Problem(
                f"priors must be a list of prior-set names, PriorSets or dicts, not {priors!r:.60}; "
                "for one set write [it]",
                argument="priors",
            )
        )
    bad = [p for p in priors if not isinstance(p, (str, PriorSet, Mapping))]
    if bad:
        raise InputError(
            Problem(
                f"priors must hold prior-set names, PriorSets or dicts, not {type(bad[0]).__name__}", argument="priors"
            )
        )
    return list(priors)


def compare_priors(
    data: Any,
    priors: Sequence[Any] | None = None,
    model: str | None = None,
    covariates: Sequence[str] = (),
    *,
    covariate_at: Mapping[str, float] | None = None,
    priors_path: str | os.PathLike | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = DEFAULT_SEED,
    parameterisation: str = "auto",
    target_accept: float = 0.95,
    ci_prob: float = CI_LEVEL,
    mcid: float | None = None,
    engine: str = "auto",
) -> PriorComparison:
    """Fit ``model`` once per prior set, with the same data, options and seed.

    Parameters
    ----------
    data : EffectTable or ArmTable
        As for :func:`bayes_msc.bayes.fit.fit`.
    priors : sequence of str, PriorSet or dict, optional
        Prior sets (names, objects or dicts as :func:`~bayes_msc.bayes.fit.fit` takes
        them); default: every bundled set, then every set ``priors_path`` adds.
    model, covariates, covariate_at, draws, tune, chains, seed, parameterisation, target_accept, ci_prob, mcid
        As for :func:`~bayes_msc.bayes.fit.fit` (``mcid`` signed: ``-19.9`` gives
        ``P(mu < -19.9)`` per prior set).
    engine : {"auto", "exact", "mcmc"}
        ``auto`` (default): per prior set, the exact engine where it gives the posterior
        (:func:`bayes_msc.bayes.engines.exact_covers`), MCMC otherwise. The exact
        engine's sensitivity is estimated from independent draws of its posterior
        (:mod:`bayes_msc.bayes.exact.tree`).

    Returns
    -------
    PriorComparison

    Raises
    ------
    InputError
        An unknown prior set, one given twice, or anything :func:`fit` refuses.
    """
    from bayes_msc.priors import available_prior_sets

    if priors is not None:
        priors = _prior_list(priors)
    if not priors:
        priors = list(available_prior_sets(None if priors_path is None else Path(priors_path)).values())
    names = [p if isinstance(p, str) else getattr(p, "name", None) or p.get("name", "custom") for p in priors]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(Problem("prior set(s) given more than once: " + ", ".join(twice), argument="prior"))
    if engine not in ("auto", "exact", "mcmc"):
        raise InputError(Problem(f"unknown engine {engine!r}; allowed: auto, exact, mcmc", argument="engine"))
    from bayes_msc.bayes.fit import model_of
    from bayes_msc.priors import as_prior_set

    model = model_of(data, model)
    sets = [as_prior_set(p, None if priors_path is None else Path(priors_path)) for p in priors]
    results = [
        fit(
            data,
            model,
            prior,
            covariates,
            covariate_at=covariate_at,
            priors_path=priors_path,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            parameterisation=parameterisation,
            engine=engine,
            target_accept=target_accept,
            ci_prob=ci_prob,
            mcid=mcid,
        )
        for prior in sets
    ]
    rows = {r.prior: sensitivity(r) for r in results}
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=list(SENSITIVITY_COLUMNS))
    first = results[0]
    return PriorComparison(
        results=tuple(results),
        sensitivity=table,
        outcome=first.outcome,
        month=first.month,
        model=model,
        covariates=first.covariates,
        ci_prob=ci_prob,
        mcid=None if mcid is None else float(mcid),
        dataset=first.dataset,
        simulated=first.simulated,
    )

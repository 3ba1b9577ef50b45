"""The options of a Bayesian fit, checked at the door: names, ranges and the memory the
draws need (:mod:`bayes_msc.guard.limits`), before any work."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from bayes_msc.errors import InputError, Problem
from bayes_msc.guard.limits import MAX_CHAINS, MAX_DRAWS, MAX_SEED, memory_problem, whole_in

if TYPE_CHECKING:
    from bayes_msc.bayes.inputs import Prepared

PARAMETERISATIONS: tuple[str, ...] = ("auto", "centred", "noncentred", "marginal")
ENGINES: tuple[str, ...] = ("auto", "mcmc", "exact")
MODELS: tuple[str, ...] = ("re", "arm")


def check_options(
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
    """Every option of :func:`bayes_msc.bayes.fit.fit` in its allowed range.

    Raises
    ------
    InputError
        With one problem per wrong option, naming the argument.
    """
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


def values_per_draw(k: int, p: int, model: str) -> int:
    """Numbers an MCMC fit keeps per draw: mu, tau, the study effects and their log
    likelihood, the slopes (per unit and per SD), the arm baselines, sampler statistics."""
    return 2 * k + 2 * p + (k if model == "arm" else 0) + 24


def check_memory(prepared: Prepared, model: str, draws: int, chains: int, parameterisation: str) -> None:
    """Refuse draws x chains that would not fit in memory, before sampling."""
    values = values_per_draw(prepared.inputs.k, len(prepared.terms), model)
    problem = memory_problem(draws, chains, values, copies=3 if parameterisation == "auto" else 1)
    if problem:
        raise InputError(Problem(problem, argument="draws"))

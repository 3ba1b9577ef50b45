"""The Python API of bayes-msc: one import for the whole two-stage workflow.

>>> import bayes_msc as bm
>>> ds = bm.read_dataset("data/msc_knee_oa_simulated")                  # doctest: +SKIP
>>> effects = bm.effect_table(ds, "vas", 12)                            # doctest: +SKIP
>>> bm.pool(effects, method="reml").summary()                           # doctest: +SKIP
>>> result = bm.fit(effects, prior="weakly_informative")                # doctest: +SKIP
>>> result.summary(); result.verdict                                    # doctest: +SKIP
>>> bm.compare_priors(effects).summary()                                # doctest: +SKIP

Stage 1 (data): :func:`read_dataset`, :func:`effect_table` (``yi``/``vi`` per comparison,
metafor's ``escalc``), :func:`arm_table` (arm-level data for the ``arm`` model).
Stage 2 (inference): :func:`pool` and :func:`metareg` (frequentist, as metafor's ``rma``),
:func:`fit` (PyMC via nutpie), :func:`exact_posterior` (quadrature), :func:`compare_priors`,
:func:`simulate` (outcomes for a design from stated true parameters).

Every function raises :class:`bayes_msc.errors.InputError` on bad input. Heavy
libraries (PyMC, ArviZ, nutpie) are imported only by the functions that need them.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bayes_msc.bayes.compare import compare_priors
from bayes_msc.bayes.fit import fit
from bayes_msc.results.layout import CI_LEVEL

__all__ = [
    "arm_table",
    "compare_priors",
    "effect_table",
    "exact_posterior",
    "fit",
    "metareg",
    "pool",
    "read_dataset",
    "simulate",
]


def read_dataset(path: str | os.PathLike) -> Any:
    """Read and validate a dataset folder (:func:`bayes_msc.data.reader.read_dataset`)."""
    from bayes_msc.data.reader import read_dataset as _read

    return _read(path)


def _dataset(dataset: Any) -> Any:
    return read_dataset(dataset) if isinstance(dataset, (str, os.PathLike)) else dataset


def effect_table(dataset: Any, outcome: str, month: float, **options: Any) -> Any:
    """Effect sizes of one outcome at one month (:func:`bayes_msc.data.effects.effect_table`;
    ``dataset`` may be a folder path). Options: ``measure``, ``multiarm``, ``basis``, ``r``,
    ``rescale``, ``conversion``."""
    from bayes_msc.data.effects import effect_table as _effects

    return _effects(_dataset(dataset), outcome, month, **options)


def arm_table(dataset: Any, outcome: str, month: float, **options: Any) -> Any:
    """Arm-level data of one outcome at one month for the ``arm`` model
    (:func:`bayes_msc.data.effects.arm_table`; ``dataset`` may be a folder path)."""
    from bayes_msc.data.effects import arm_table as _arms

    return _arms(_dataset(dataset), outcome, month, **options)


def _rma_inputs(effects: Any, kept: np.ndarray) -> dict[str, Any]:
    data = effects.data
    labels = [f"{s}: {c}" for s, c in zip(data["study"], data["comparison"], strict=True)]
    vcov = np.asarray(effects.vcov, dtype=float)[np.ix_(kept, kept)]
    shared = bool(np.count_nonzero(vcov - np.diag(np.diag(vcov))))
    return {
        "yi": effects.yi[kept],
        "vi": effects.vi[kept],
        "V": vcov if shared else None,
        "labels": [lab for lab, k in zip(labels, kept, strict=True) if k],
    }


def _context(effects: Any, excluded: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "outcome": effects.outcome,
        "month": effects.month,
        "measure": effects.measure,
        "multiarm": effects.multiarm,
        "dataset": effects.dataset,
        "simulated": effects.simulated,
        "excluded": tuple(effects.missing) + tuple(excluded),
    }


def _nonempty(effects: Any) -> None:
    from bayes_msc.errors import InputError, Problem

    if effects.k == 0:
        raise InputError(
            Problem(
                f"no comparison of outcome '{effects.outcome}' at month {effects.month:g} "
                "has data; left out: " + "; ".join(effects.missing)
            )
        )


def pool(effects: Any, method: str = "dl", hksj: bool = False, level: float = CI_LEVEL, pi: str = "z") -> Any:
    """Frequentist pooling of an effect table (:func:`bayes_msc.frequentist.rma.rma`),
    with the comparisons' covariance when they share an arm."""
    from bayes_msc.frequentist.rma import rma

    _nonempty(effects)
    res = rma(method=method, hksj=hksj, level=level, pi=pi, **_rma_inputs(effects, np.ones(effects.k, bool)))
    return dataclasses.replace(res, **_context(effects))


def metareg(
    effects: Any, covariates: Sequence[str], method: str = "reml", hksj: bool = False, level: float = CI_LEVEL
) -> Any:
    """Frequentist meta-regression on covariate terms (``age_mean``, ``log10(dose_million)``);
    comparisons lacking a covariate are dropped and listed in ``excluded``."""
    from bayes_msc.errors import InputError, Problem
    from bayes_msc.frequentist.rma import rma

    _nonempty(effects)
    terms = [covariates] if isinstance(covariates, str) else list(covariates)
    x, names, kept = effects.design(terms)
    if not kept.any():
        raise InputError(
            Problem("no comparison has a value for every covariate: " + ", ".join(names), column="covariates")
        )
    res = rma(method=method, hksj=hksj, level=level, X=x, names=names, **_rma_inputs(effects, kept))
    return dataclasses.replace(res, **_context(effects, effects.design_report(terms)))


def exact_posterior(
    effects: Any,
    prior: Any = "weakly_informative",
    covariates: Sequence[str] = (),
    *,
    priors_path: str | os.PathLike | None = None,
    ci_prob: float = CI_LEVEL,
    mcid: float | None = None,
) -> Any:
    """The exact (quadrature) posterior of the ``re`` model of an effect table, or of the
    ``arm`` model of an arm table: :func:`fit` with ``engine="exact"``."""
    model = "arm" if hasattr(effects, "comparisons") and not hasattr(effects, "vcov") else "re"
    return fit(effects, model, prior, covariates, priors_path=priors_path, engine="exact", ci_prob=ci_prob, mcid=mcid)


def simulate(design: Any, params: Any, seed: int | None = None, studies: Any = None) -> Any:
    """Simulated ``outcomes.csv`` rows for a design (:func:`bayes_msc.simulation.simulate.simulate_outcomes`).

    Parameters
    ----------
    design : path or DataFrame
        A folder with ``arms.csv`` (and ``studies.csv``), or the arms frame itself.
    params : path or SimulationParams
        The true parameters (a TOML file, :func:`bayes_msc.simulation.simulate.load_params`).
    seed : int, optional
        Overrides the parameters' seed.
    studies : DataFrame, optional
        ``studies.csv`` when ``design`` is a frame.
    """
    import pandas as pd

    from bayes_msc.errors import InputError, Problem
    from bayes_msc.simulation.simulate import load_params, simulate_outcomes

    if isinstance(design, (str, os.PathLike)):
        folder = Path(design)
        if not (folder / "arms.csv").is_file():
            raise InputError(Problem("file not found in the design folder", file=str(folder / "arms.csv")))
        arms = pd.read_csv(folder / "arms.csv")
        studies = pd.read_csv(folder / "studies.csv") if (folder / "studies.csv").is_file() else None
    else:
        arms = design
    if isinstance(params, (str, os.PathLike)):
        params = load_params(params)
    seed = params.seed if seed is None else seed
    if seed is None:
        raise InputError(Problem("no seed: give one, or set seed in the parameters file", column="seed"))
    return simulate_outcomes(arms, studies, params, seed)

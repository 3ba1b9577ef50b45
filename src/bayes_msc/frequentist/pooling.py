"""From an effect table to metafor-style results: the one bridge between ``escalc`` and ``rma``.

:func:`pool_effects`, :func:`metareg_effects` and :func:`leave1out_effects` are what the
Python API (``bm.pool``, ``bm.metareg``, ``bm.leave1out``), the command line and the
report's workflow call, so that all of them pool the same inputs under the same labels:

- every comparison is labelled ``"<study>: <comparison>"`` (:func:`comparison_labels`),
  unique within a table even when two trials compare arms of the same names;
- the comparisons' covariance matrix is passed to :func:`~bayes_msc.frequentist.rma.rma`
  only when they share an arm (``multiarm="shared"``), else their variances;
- the result says what was pooled (outcome, month, measure, multi-arm handling, dataset,
  whether it is simulated) and which comparisons could not enter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bayes_msc.errors import InputError, Problem
from bayes_msc.results.layout import CI_LEVEL

if TYPE_CHECKING:
    from bayes_msc.data.effects import EffectTable
    from bayes_msc.results.frequentist import LeaveOneOutResult, MetaRegResult, PoolResult


def comparison_labels(effects: EffectTable) -> list[str]:
    """``"<study>: <comparison>"`` for every comparison of ``effects``, in table order."""
    data = effects.data
    return [f"{s}: {c}" for s, c in zip(data["study"], data["comparison"], strict=True)]


def independent(vcov: Any) -> bool:
    """Whether a covariance matrix of comparisons is diagonal (no shared arms)."""
    v = np.asarray(vcov, dtype=float)
    return not np.count_nonzero(v - np.diag(np.diag(v)))


def rma_inputs(effects: EffectTable, kept: np.ndarray | None = None) -> dict[str, Any]:
    """``yi``, ``vi``, ``labels`` and ``V`` of the comparisons selected by ``kept`` (all by
    default); ``V`` is None unless the selected comparisons share an arm."""
    keep = np.ones(effects.k, dtype=bool) if kept is None else np.asarray(kept, dtype=bool)
    vcov = np.asarray(effects.vcov, dtype=float)[np.ix_(keep, keep)]
    labels = [lab for lab, k in zip(comparison_labels(effects), keep, strict=True) if k]
    return {
        "yi": effects.yi[keep],
        "vi": effects.vi[keep],
        "labels": labels,
        "V": None if independent(vcov) else vcov,
    }


def context(effects: EffectTable, excluded: Sequence[str] = ()) -> dict[str, Any]:
    """The fields of a result that say what was pooled, for :func:`dataclasses.replace`."""
    return {
        "outcome": effects.outcome,
        "month": effects.month,
        "measure": effects.measure,
        "multiarm": effects.multiarm,
        "dataset": effects.dataset,
        "simulated": effects.simulated,
        "excluded": tuple(effects.missing) + tuple(excluded),
    }


def require_data(effects: EffectTable) -> None:
    """An InputError listing what was left out when ``effects`` has no comparison."""
    if effects.k == 0:
        why = "".join(f"\n  {m}" for m in effects.missing)
        raise InputError(
            Problem(f"no comparison of outcome '{effects.outcome}' at month {effects.month:g} has data to pool{why}")
        )


def pool_effects(
    effects: EffectTable,
    method: str = "dl",
    hksj: bool = False,
    level: float = CI_LEVEL,
    pi: str = "z",
    hksj_truncate: bool = False,
) -> PoolResult:
    """Pool every comparison of ``effects`` (metafor ``rma(yi, vi, method=...)``); see
    :func:`bayes_msc.frequentist.rma.rma` for the options."""
    from bayes_msc.frequentist.rma import rma

    require_data(effects)
    from bayes_msc.results.frequentist import PoolResult

    res = rma(method=method, hksj=hksj, level=level, pi=pi, hksj_truncate=hksj_truncate, **rma_inputs(effects))
    assert isinstance(res, PoolResult)  # rma without covariates pools
    return dataclasses.replace(res, **context(effects))


def metareg_effects(
    effects: EffectTable,
    covariates: Sequence[str],
    method: str = "reml",
    hksj: bool = False,
    level: float = CI_LEVEL,
    hksj_truncate: bool = False,
) -> MetaRegResult:
    """Meta-regression on covariate terms (metafor ``rma(yi, vi, mods = ~ ...)``);
    comparisons lacking a term's value are dropped and listed in ``excluded``."""
    from bayes_msc.frequentist.rma import rma
    from bayes_msc.results.frequentist import MetaRegResult

    require_data(effects)
    terms = [covariates] if isinstance(covariates, str) else list(covariates)
    x, names, kept = effects.design(terms)
    if not kept.any():
        raise InputError(
            Problem("no comparison has a value for every covariate: " + ", ".join(names), argument="covariates")
        )
    res = rma(
        method=method,
        hksj=hksj,
        level=level,
        X=x,
        names=names,
        hksj_truncate=hksj_truncate,
        **rma_inputs(effects, kept),
    )
    assert isinstance(res, MetaRegResult)  # rma with covariates is a meta-regression
    return dataclasses.replace(res, **context(effects, effects.design_report(terms)))


def leave1out_effects(
    effects: EffectTable,
    method: str = "dl",
    hksj: bool = False,
    level: float = CI_LEVEL,
    hksj_truncate: bool = False,
) -> LeaveOneOutResult:
    """Pool the comparisons without each one in turn (metafor ``leave1out``)."""
    from bayes_msc.frequentist.rma import leave_one_out

    require_data(effects)
    inputs = rma_inputs(effects)
    return leave_one_out(
        inputs["yi"],
        inputs["vi"],
        method=method,
        hksj=hksj,
        level=level,
        labels=inputs["labels"],
        V=inputs["V"],
        hksj_truncate=hksj_truncate,
    )


def pooled(
    x: Any, method: str = "dl", hksj: bool = False, level: float = CI_LEVEL, argument: str = "x"
) -> tuple[PoolResult, np.ndarray | None, EffectTable | None]:
    """``(pool, V, table)`` for the toolbox functions (confint, regtest, influence, ...):
    a :class:`PoolResult` is used as it is (metafor's methods on an ``rma`` object; its
    ``method``/``hksj``/``level`` win), an :class:`EffectTable` is pooled with ``method``,
    ``hksj`` and ``level`` first. ``V`` is the comparisons' covariance when they share an
    arm (from the table; a PoolResult does not keep it), else None."""
    from bayes_msc.data.effects import EffectTable
    from bayes_msc.results.frequentist import PoolResult

    if isinstance(x, PoolResult):
        if x.shared_covariance:
            raise InputError(
                Problem(
                    "this pooled result used a shared-arm covariance, which it does not keep: "
                    "pass the effect table instead",
                    argument=argument,
                )
            )
        return x, None, None
    if isinstance(x, EffectTable):
        res = pool_effects(x, method=method, hksj=hksj, level=level)
        return res, rma_inputs(x)["V"], x
    raise InputError(
        Problem(
            f"{argument} must be an effect table (bm.effect_table) or a pooled result (bm.pool), "
            f"not {type(x).__name__}",
            argument=argument,
        )
    )


def require_independent(res: PoolResult, V: np.ndarray | None, what: str) -> None:
    """An InputError when the comparisons share an arm: ``what`` is defined (as in metafor's
    ``rma.uni``) for independent comparisons only."""
    if V is not None or res.shared_covariance:
        raise InputError(
            Problem(
                f"{what} needs independent comparisons (metafor's rma.uni); these share an arm: use multiarm 'split'",
                argument="multiarm",
            )
        )

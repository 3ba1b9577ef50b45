"""The metafor/bayesmeta toolbox of the Python API: heterogeneity intervals, small-study
effects, influence, cumulative analysis, Bayes factors (re-exported by :mod:`bayes_msc.api`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bayes_msc.data.effects import EffectTable

if TYPE_CHECKING:
    from bayes_msc.results.bayes import BayesResult
    from bayes_msc.results.frequentist import PoolResult
    from bayes_msc.results.toolbox.evidence import BayesFactors, PredictiveCheck
    from bayes_msc.results.toolbox.heterogeneity import ConfintResult
    from bayes_msc.results.toolbox.influence import CumulativeResult, InfluenceResult
    from bayes_msc.results.toolbox.small_study import RanktestResult, RegtestResult, TrimfillResult

__all__ = [
    "bayes_factors",
    "confint",
    "cumulative",
    "influence",
    "pppvalue",
    "ranktest",
    "regtest",
    "trimfill",
]

# ---- the metafor/bayesmeta toolbox: heterogeneity intervals, small-study
# effects, influence, cumulative analysis, Bayes factors; the work is in
# bayes_msc.frequentist.{heterogeneity,small_study,influence}, bayes_msc.bayes.evidence
# and bayes_msc.plots.{funnel,influence}.


def confint(x: PoolResult | EffectTable, level: float | None = None, method: str = "dl") -> ConfintResult:
    """Q-profile confidence intervals of tau^2, tau, I^2 and H^2, as metafor's
    ``confint(rma)`` (:func:`bayes_msc.frequentist.heterogeneity.confint`). ``x``: a
    random-effects :func:`pool` result, or an effect table (pooled with ``method``)."""
    from bayes_msc.frequentist.heterogeneity import confint as _confint

    return _confint(x, method=method, level=level)


def regtest(
    x: PoolResult | EffectTable, model: str = "rma", predictor: str = "sei", method: str = "dl"
) -> RegtestResult:
    """Egger's regression test for funnel plot asymmetry, as metafor's ``regtest``
    (``model``: ``rma`` or ``lm``; ``predictor``: ``sei``, ``vi``, ``ni``, ``ninv``,
    ``sqrtni``, ``sqrtninv``); see :func:`bayes_msc.frequentist.small_study.regtest`."""
    from bayes_msc.frequentist.small_study import regtest as _regtest

    return _regtest(x, model=model, predictor=predictor, method=method)


def ranktest(x: PoolResult | EffectTable, method: str = "dl") -> RanktestResult:
    """Begg and Mazumdar's rank correlation test, as metafor's ``ranktest``."""
    from bayes_msc.frequentist.small_study import ranktest as _ranktest

    return _ranktest(x, method=method)


def trimfill(
    x: PoolResult | EffectTable, estimator: str = "L0", side: str | None = None, method: str = "dl"
) -> TrimfillResult:
    """Duval and Tweedie's trim and fill, as metafor's ``trimfill`` (``estimator``: ``L0`` or
    ``R0``; ``side``: ``left``, ``right`` or None for metafor's choice)."""
    from bayes_msc.frequentist.small_study import trimfill as _trimfill

    return _trimfill(x, estimator=estimator, side=side, method=method)


def influence(x: PoolResult | EffectTable, method: str = "dl", hksj: bool = False) -> InfluenceResult:
    """Case-deletion diagnostics (rstudent, DFFITS, Cook's distance, covariance ratio, tau^2
    and Q when deleted, hat, weight, DFBETAS, influential flag) and the Baujat coordinates,
    as metafor's ``influence`` (:func:`bayes_msc.frequentist.influence.influence`)."""
    from bayes_msc.frequentist.influence import influence as _influence

    return _influence(x, method=method, hksj=hksj)


def cumulative(
    x: PoolResult | EffectTable,
    order: str | Sequence[Any] | None = "year",
    method: str = "dl",
    hksj: bool = False,
    decreasing: bool = False,
) -> CumulativeResult:
    """Cumulative meta-analysis ordered by a column of the effect table (``year`` by default),
    one value per comparison, or None (table order), as metafor's ``cumul``."""
    from bayes_msc.frequentist.influence import cumulative as _cumulative

    return _cumulative(x, order=order, method=method, hksj=hksj, decreasing=decreasing)


def bayes_factors(result: BayesResult) -> BayesFactors:
    """Bayes factors for mu = 0 and tau = 0 of a Bayesian ``re`` fit without covariates
    (bayesmeta's ``bayesfactor``): exact from the quadrature engine, Savage-Dickey with a KDE
    of the draws (and its Monte Carlo error) from MCMC; see
    :func:`bayes_msc.bayes.evidence.bayes_factors`."""
    from bayes_msc.bayes.evidence import bayes_factors as _bayes_factors

    return _bayes_factors(result)


def pppvalue(result: BayesResult) -> PredictiveCheck:
    """Posterior predictive p-value of every comparison (two-sided, on its observed effect)
    of a Bayesian ``re`` fit; see :func:`bayes_msc.bayes.evidence.pppvalue`."""
    from bayes_msc.bayes.evidence import pppvalue as _pppvalue

    return _pppvalue(result)

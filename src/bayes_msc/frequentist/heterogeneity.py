"""Confidence intervals for the heterogeneity, as metafor 3.8's ``confint(rma)``.

The Q-profile interval (Viechtbauer 2007, Stat Med 26:37-52; metafor ``type="QP"``, its
default for every tau^2 estimator): the generalised Q statistic

    Q(tau^2) = (y - X b)' W (y - X b),  W = (V + tau^2 I)^-1,  b the GLS estimate,

follows a chi-square distribution on ``k - p`` df at the true tau^2 and falls as tau^2 grows,
so ``{tau^2 : chi2_{a/2} <= Q(tau^2) <= chi2_{1-a/2}}`` is an exact interval. With ``V``
diagonal this is metafor's computation; with comparisons sharing an arm ``V`` is their full
covariance (the same exact argument holds). The bounds of tau, I^2 = 100 tau^2 / (vt +
tau^2) and H^2 = tau^2 / vt + 1 (``vt = (k - p) / tr(P)`` at tau^2 = 0, metafor's typical
within-study variance) follow from tau^2's.

metafor's other interval types are not offered: ``type="GENQ"`` (Jackson 2013) needs a model
fitted with ``method="GENQ"`` and the CompQuadForm package (not in Debian, so no reference
could be made here), and ``"PL"`` (profile likelihood) is left for later.

Differences from metafor, both on purpose: the roots are found to 1e-12 relative
(metafor's ``uniroot`` stops at an absolute 1.2e-4 on tau^2 unless ``control$tol`` is
set), and the upper search end grows until it brackets the root (metafor stops at
``max(100, 10 tau^2)`` and reports ``> 100``; on a 0-100 scale tau^2 often exceeds 100).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from bayes_msc.errors import InputError, Problem
from bayes_msc.results.layout import CI_LEVEL
from bayes_msc.results.toolbox.heterogeneity import ConfintResult


def q_statistic(tau2: float, y: np.ndarray, v: np.ndarray, x: np.ndarray) -> float:
    """The generalised Q at ``tau2``: ``y' P y`` with ``P`` the GLS residual projection of
    ``W = (v + tau2 I)^-1`` (``v`` a k x k covariance)."""
    k = len(y)
    if np.count_nonzero(v - np.diag(np.diag(v))) == 0:
        w = 1.0 / (np.diag(v) + tau2)  # diagonal: O(k p^2), no k x k inverse
        xw = x * w[:, None]
        b = np.linalg.solve(x.T @ xw, xw.T @ y)
        r = y - x @ b
        return float(r @ (w * r))
    wm = np.linalg.inv(v + tau2 * np.eye(k))
    b = np.linalg.solve(x.T @ wm @ x, x.T @ wm @ y)
    r = y - x @ b
    return float(r @ wm @ r)


def typical_variance(v: np.ndarray, x: np.ndarray) -> float:
    """metafor's ``vt = (k - p) / tr(P)`` at tau^2 = 0."""
    from bayes_msc.frequentist.tau2 import weights_and_projection

    k, p = x.shape
    return (k - p) / float(np.trace(weights_and_projection(v, x)[1]))


def _root(f: Any, target: float, scale: float) -> float:
    """tau^2 >= 0 where the decreasing ``f`` equals ``target`` (``f(0) >= target``)."""
    from scipy.optimize import brentq

    upper = max(100.0, 10 * scale)
    while f(upper) > target:
        upper *= 2
        if upper > 1e300:
            raise ArithmeticError("Q(tau2) does not fall to its critical value")
    xtol = 1e-14 * min(1.0, scale)
    return float(brentq(lambda t: f(t) - target, 0.0, upper, xtol=xtol, rtol=1e-13))


def qprofile(
    yi: np.ndarray, v: np.ndarray, x: np.ndarray | None = None, level: float = CI_LEVEL
) -> tuple[float, float, bool]:
    """``(low, high, ci_null)``: the Q-profile interval of tau^2 at ``level``.

    ``v`` is the k x k sampling covariance, ``x`` the design (intercept only by default).
    ``ci_null``: Q(0) is below the lower critical value, so no tau^2 >= 0 is consistent
    with the data at this level; both bounds are then 0 (metafor's convention).
    """
    from scipy import stats

    y = np.asarray(yi, float)
    x = np.ones((len(y), 1)) if x is None else x
    k, p = x.shape
    alpha = 1 - level
    crit_u = float(stats.chi2.isf(alpha / 2, k - p))
    crit_l = float(stats.chi2.ppf(alpha / 2, k - p))
    scale = float(np.median(np.diag(v)))

    def q(t: float) -> float:
        return q_statistic(t, y, v, x)

    q0 = q(0.0)
    if q0 < crit_l:
        return 0.0, 0.0, True
    high = _root(q, crit_l, scale)
    low = 0.0 if q0 < crit_u else _root(q, crit_u, scale)
    return low, high, False


def confint(x: Any, method: str = "dl", level: float | None = None, argument: str = "x") -> ConfintResult:
    """Q-profile confidence intervals of tau^2, tau, I^2 and H^2 (metafor ``confint(rma)``).

    Parameters
    ----------
    x : PoolResult or EffectTable
        A random-effects pooled result, or an effect table (pooled with ``method`` first).
    method : str
        The tau^2 estimator when ``x`` is a table (the interval does not depend on it; the
        estimates do).
    level : float, optional
        Interval probability (default: the pooled result's level).

    Raises
    ------
    InputError
        A fixed-effect result (it has no tau^2), k < 2, or a bad level.
    """
    from bayes_msc.frequentist.pooling import pooled

    if level is not None and not (isinstance(level, (int, float)) and 0 < level < 1):
        raise InputError(Problem(f"level must be between 0 and 1, not {level!r}", argument="level"))
    res, V, _ = pooled(x, method=method, level=CI_LEVEL if level is None else level, argument=argument)
    level = res.level if level is None else float(level)
    if res.method == "fe":
        raise InputError(
            Problem(
                "a fixed-effect model has no tau^2 to give an interval for: pool with a random-effects method",
                argument="method",
            )
        )
    if res.k < 2:
        raise InputError(Problem(f"k = {res.k}: heterogeneity needs k >= 2 comparisons", argument=argument))
    v = np.diag(res.vi) if V is None else np.asarray(V, float)
    lo, hi, null = qprofile(res.yi, v, None, level)
    vt = typical_variance(v, np.ones((res.k, 1)))
    out = ConfintResult(
        k=res.k,
        method=res.method,
        tau2=res.tau2,
        tau2_ci_low=lo,
        tau2_ci_high=hi,
        tau=res.tau,
        tau_ci_low=float(np.sqrt(lo)),
        tau_ci_high=float(np.sqrt(hi)),
        i2=res.i2,
        i2_ci_low=100 * lo / (vt + lo),
        i2_ci_high=100 * hi / (vt + hi),
        h2=res.h2,
        h2_ci_low=lo / vt + 1,
        h2_ci_high=hi / vt + 1,
        vt=vt,
        level=level,
        ci_null=null,
        shared_covariance=V is not None,
    )
    return dataclasses.replace(
        out,
        outcome=res.outcome,
        month=res.month,
        measure=res.measure,
        dataset=res.dataset,
        simulated=res.simulated,
    )

"""Small-study effects, as metafor 3.8: ``regtest`` (Egger's regression test), ``ranktest``
(Begg and Mazumdar's rank correlation) and ``trimfill`` (Duval and Tweedie's trim and fill).

Each takes a pooled result (metafor's method on an ``rma`` object: its estimator and test are
used) or an effect table (pooled first), for independent comparisons only (metafor's
``rma.uni``). With fewer than 10 comparisons every result says that the tests have low
power (Cochrane Handbook 13.3.5.4); they are computed all the same when asked for.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from bayes_msc.errors import InputError, Problem
from bayes_msc.frequentist.rma import rma
from bayes_msc.results.frequentist import PoolResult
from bayes_msc.results.toolbox.small_study import RanktestResult, RegtestResult, TrimfillResult

PREDICTORS: tuple[str, ...] = ("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")
"""metafor's ``regtest`` predictors: SE, variance, total n, 1/n, sqrt(n), 1/sqrt(n)."""


def _context(res: PoolResult) -> dict[str, Any]:
    return {
        "outcome": res.outcome,
        "month": res.month,
        "measure": res.measure,
        "dataset": res.dataset,
        "simulated": res.simulated,
    }


def _prepare(x: Any, method: str, what: str, argument: str = "x") -> tuple[PoolResult, Any]:
    from bayes_msc.frequentist.pooling import pooled, require_independent

    res, V, table = pooled(x, method=method, argument=argument)
    require_independent(res, V, what)
    if res.k < 3:
        raise InputError(Problem(f"{what} needs k >= 3 comparisons (k = {res.k})", argument=argument))
    return res, table


def regtest(x: Any, model: str = "rma", predictor: str = "sei", method: str = "dl") -> RegtestResult:
    """Egger's regression test for funnel plot asymmetry (metafor ``regtest``).

    Parameters
    ----------
    x : PoolResult or EffectTable
    model : {"rma", "lm"}
        ``rma``: the meta-regression of the effects on the predictor with the pooled model's
        tau^2 estimator and test; ``lm``: Egger's original weighted regression (weights
        1/vi, t test on k - 2 df).
    predictor : str
        One of :data:`PREDICTORS` (``ni`` and its transforms need an effect table).
    method : str
        tau^2 estimator when ``x`` is a table.
    """
    from scipy import stats

    if model not in ("rma", "lm"):
        raise InputError(Problem(f"model must be 'rma' or 'lm', not {model!r}", argument="model"))
    if predictor not in PREDICTORS:
        raise InputError(
            Problem(f"unknown predictor {predictor!r}; allowed: {', '.join(PREDICTORS)}", argument="predictor")
        )
    res, table = _prepare(x, method, "regtest")
    y, v = res.yi, res.vi
    if predictor in ("sei", "vi"):
        xcol = np.sqrt(v) if predictor == "sei" else v
    else:
        if table is None:
            raise InputError(
                Problem(f"predictor {predictor!r} needs the sample sizes: pass the effect table", argument="predictor")
            )
        n = table.data["n_treatment"].to_numpy(float) + table.data["n_control"].to_numpy(float)
        xcol = {"ni": n, "ninv": 1 / n, "sqrtni": np.sqrt(n), "sqrtninv": 1 / np.sqrt(n)}[predictor]
    limit = predictor in ("sei", "vi", "ninv", "sqrtninv")  # the intercept is the effect at SE -> 0
    level = res.level
    if model == "rma":
        fit = rma(
            y,
            v,
            method=res.method,
            hksj=res.hksj,
            level=level,
            X=xcol,
            names=[predictor],
            hksj_truncate=res.hksj_truncate,
        )
        slope, icpt = fit.coefficients[1], fit.coefficients[0]
        zval, pval, df = slope.z, slope.p, fit.df
        b, est, lo, hi = slope.estimate, icpt.estimate, icpt.ci_low, icpt.ci_high
        test = fit.test
    else:
        k = len(y)
        X = np.column_stack([np.ones(k), xcol])
        w = 1 / v
        xtwx = X.T @ (X * w[:, None])
        coef = np.linalg.solve(xtwx, X.T @ (w * y))
        r = y - X @ coef
        df = float(k - 2)
        se = np.sqrt(np.diag(np.linalg.inv(xtwx)) * float(r @ (w * r)) / df)
        zval = float(coef[1] / se[1])
        pval = float(2 * stats.t.sf(abs(zval), df))
        crit = float(stats.t.isf((1 - level) / 2, df))
        b, est = float(coef[1]), float(coef[0])
        lo, hi = est - crit * float(se[0]), est + crit * float(se[0])
        test = "t"
    if not limit:
        est = lo = hi = float("nan")
    return RegtestResult(
        k=res.k,
        model=model,
        predictor=predictor,
        method=res.method,
        test=test,
        zval=float(zval),
        pval=float(pval),
        df=float(df),
        slope=float(b),
        est=float(est),
        ci_low=float(lo),
        ci_high=float(hi),
        level=level,
        **_context(res),
    )


def _pkendall(q: int, n: int) -> float:
    """P(T <= q) for T the number of concordant pairs of n untied pairs (R's ``pkendall``):
    the Mahonian distribution, built one element at a time."""
    pmf = np.ones(1)
    for i in range(2, n + 1):
        # adding element i: 0..i-1 new inversions, each equally likely
        c = np.concatenate([[0.0], np.cumsum(pmf)])
        new = np.empty(len(pmf) + i - 1)
        idx = np.arange(len(new))
        new[:] = (c[np.minimum(idx + 1, len(pmf))] - c[np.maximum(idx - i + 1, 0)]) / i
        pmf = new
    return float(np.clip(pmf[: q + 1].sum(), 0.0, 1.0)) if q >= 0 else 0.0


def kendall_test(x: np.ndarray, y: np.ndarray) -> tuple[float, float, bool]:
    """``(tau_b, p, exact)`` as R's ``cor.test(x, y, method="kendall", exact=TRUE)``:
    the exact two-sided p without ties, the normal approximation with R's tie-corrected
    variance (no continuity correction) otherwise."""
    from scipy import stats

    n = len(x)
    tau = float(stats.kendalltau(x, y).statistic)
    ties = len(np.unique(x)) < n or len(np.unique(y)) < n
    if not ties:
        q = round((tau + 1) * n * (n - 1) / 4)
        p = 1 - _pkendall(q - 1, n) if q > n * (n - 1) / 4 else _pkendall(q, n)
        return tau, min(2 * p, 1.0), True
    xt = np.unique(x, return_counts=True)[1]
    yt = np.unique(y, return_counts=True)[1]
    xt, yt = xt[xt > 1].astype(float), yt[yt > 1].astype(float)
    t0 = n * (n - 1) / 2
    t1, t2 = np.sum(xt * (xt - 1)) / 2, np.sum(yt * (yt - 1)) / 2
    s = tau * np.sqrt((t0 - t1) * (t0 - t2))
    v0 = n * (n - 1) * (2 * n + 5)
    vt, vu = np.sum(xt * (xt - 1) * (2 * xt + 5)), np.sum(yt * (yt - 1) * (2 * yt + 5))
    v1 = np.sum(xt * (xt - 1)) * np.sum(yt * (yt - 1))
    v2 = np.sum(xt * (xt - 1) * (xt - 2)) * np.sum(yt * (yt - 1) * (yt - 2))
    var_s = (v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1)) + v2 / (9 * n * (n - 1) * (n - 2))
    z = s / np.sqrt(var_s)
    return tau, float(2 * min(stats.norm.cdf(z), stats.norm.sf(z))), False


def ranktest(x: Any, method: str = "dl") -> RanktestResult:
    """Begg and Mazumdar's rank correlation test (metafor ``ranktest``): Kendall's tau
    between the standardised deviates from the fixed-effect estimate and the variances."""
    res, _ = _prepare(x, method, "ranktest")
    y, v = res.yi, res.vi
    w = 1 / v
    theta = float(np.sum(w * y) / np.sum(w))
    ystar = (y - theta) / np.sqrt(v - 1 / np.sum(w))
    tau, p, exact = kendall_test(ystar, v)
    return RanktestResult(k=res.k, tau=tau, pval=p, exact=exact, **_context(res))


def trimfill(x: Any, estimator: str = "L0", side: str | None = None, method: str = "dl") -> TrimfillResult:
    """Duval and Tweedie's trim and fill (metafor ``trimfill``).

    Parameters
    ----------
    x : PoolResult or EffectTable
    estimator : {"L0", "R0"}
        Estimator of the number of missing studies.
    side : {"left", "right"}, optional
        Side where studies are missing; by default metafor's rule: the side opposite the
        sign of the slope of the effects on their SEs (``rma(yi, vi, mods = sqrt(vi))``).
    method : str
        tau^2 estimator when ``x`` is a table.
    """
    if estimator not in ("L0", "R0"):
        raise InputError(Problem(f"estimator must be 'L0' or 'R0', not {estimator!r}", argument="estimator"))
    if side not in (None, "left", "right"):
        raise InputError(Problem(f"side must be 'left' or 'right', not {side!r}", argument="side"))
    res, _ = _prepare(x, method, "trimfill")
    y0, v0 = res.yi, res.vi
    k = res.k
    if side is None:
        slope = rma(y0, v0, method=res.method, X=np.sqrt(v0)).coefficients[1].estimate
        side = "right" if slope < 0 else "left"
    sign = -1.0 if side == "right" else 1.0
    order = np.argsort(sign * y0, kind="stable")
    y, v = sign * y0[order], v0[order]
    k0, previous, iterations = 0, -1, 0
    while k0 != previous:
        previous = k0
        iterations += 1
        if iterations > 100:
            raise InputError(Problem("trim and fill did not converge in 100 iterations", argument="x"))
        beta = rma(y[: k - k0], v[: k - k0], method=res.method).estimate if k - k0 > 1 else float(y[0])
        yc = y - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(yc), kind="stable")] = np.arange(1, k + 1)
        signed = np.sign(yc) * ranks
        if estimator == "R0":
            k0f = float(k - max(-signed[signed < 0], default=0) - 1)
            se_k0 = float(np.sqrt(2 * max(0.0, k0f) + 2))
        else:
            sr = float(signed[signed > 0].sum())
            k0f = (4 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (
                k * (k + 1) * (2 * k + 1)
                + 10 * k0f**3
                + 27 * k0f**2
                + 17 * k0f
                - 18 * k * k0f**2
                - 18 * k * k0f
                + 6 * k**2 * k0f
            ) / 24
            se_k0 = float(4 * np.sqrt(var_sr) / (2 * k - 1))
        k0 = int(max(0, round(k0f)))
        se_k0 = max(0.0, se_k0)
    fill_y = sign * (2 * beta - y[k - k0 :]) if k0 else np.empty(0)
    fill_v = v[k - k0 :] if k0 else np.empty(0)
    filled = rma(
        np.concatenate([y0, fill_y]),
        np.concatenate([v0, fill_v]),
        method=res.method,
        hksj=res.hksj,
        level=res.level,
        hksj_truncate=res.hksj_truncate,
        labels=list(res.labels) + [f"Filled {i + 1}" for i in range(k0)],
    )
    return TrimfillResult(
        k=k,
        k0=k0,
        se_k0=se_k0,
        side=side,
        estimator=estimator,
        p_k0=0.5 ** (k0 + 1) if estimator == "R0" else float("nan"),
        filled=filled if k0 else dataclasses.replace(res),
        original=res,
        fill_yi=fill_y,
        fill_vi=fill_v,
        **_context(res),
    )

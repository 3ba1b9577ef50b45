"""One generalised-least-squares fit of the (mixed-effects) meta-analysis model, given a
tau^2 estimator: coefficients, tests, heterogeneity, prediction interval and R^2, as
metafor 3.8 computes them (see :mod:`bayes_msc.frequentist.rma` for the conventions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayes_msc.frequentist.tau2 import estimate_tau2, weights_and_projection


@dataclass(frozen=True, eq=False)
class GlsFit:
    """What :func:`fit_gls` returns (arrays: one value per coefficient)."""

    beta: np.ndarray
    vb: np.ndarray
    se: np.ndarray
    z: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    tau2: float
    se_tau2: float
    test: str
    df: float
    qe: float
    qe_df: int
    qe_p: float
    i2: float
    h2: float
    qm: float
    qm_df: tuple[int, float]
    qm_p: float
    weights: np.ndarray
    notes: tuple[str, ...]


def fit_gls(
    y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str, hksj: bool, truncate: bool, level: float
) -> GlsFit:
    """Fit ``y ~ N(x b, v + tau^2 I)`` with tau^2 from ``method`` (Knapp-Hartung when ``hksj``,
    its factor truncated at 1 when ``truncate``), intervals at ``level``."""
    from scipy import stats

    k, p = x.shape
    est = estimate_tau2(y, v, x, method)
    tau2 = est.tau2
    w, _ = weights_and_projection(v + tau2 * np.eye(k), x)
    vb = np.linalg.inv(x.T @ w @ x)
    beta = vb @ x.T @ w @ y
    test, df, s2w = "z", float("nan"), 1.0
    if hksj:
        r = y - x @ beta
        rss = float(r @ w @ r)
        # As metafor: a zero residual sum of squares gives a zero scale factor (se = 0).
        s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - p)
        if truncate:
            s2w = max(s2w, 1.0)
        vb = s2w * vb
        test, df = "t", float(k - p)
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = beta / se
    alpha = 1 - level
    btt = np.arange(1, p) if p > 1 else np.arange(1)
    m = len(btt)
    # With a zero Knapp-Hartung factor the Wald test is undefined (metafor: NA).
    qm = float(beta[btt] @ np.linalg.solve(vb[np.ix_(btt, btt)], beta[btt])) if s2w > 0 else np.nan
    if test == "t":
        crit = float(stats.t.isf(alpha / 2, df))
        pval = 2 * stats.t.sf(np.abs(z), df)
        qm, qm_df = qm / m, (m, df)
        qm_p = float(stats.f.sf(qm, m, df))
    else:
        crit = float(stats.norm.isf(alpha / 2))
        pval = 2 * stats.norm.sf(np.abs(z))
        qm_df = (m, float("nan"))
        qm_p = float(stats.chi2.sf(qm, m))
    # Heterogeneity: the fixed-effect (generalised) Q, as metafor, whatever the method.
    if k > p:
        _, p0 = weights_and_projection(v, x)
        ymc = y - y.mean()
        qe = max(0.0, float(ymc @ p0 @ ymc))
        qe_p = float(stats.chi2.sf(qe, k - p))
        vt = (k - p) / float(np.trace(p0))
        if method == "fe":
            i2 = max(0.0, 100 * (qe - (k - p)) / qe) if qe > 0 else 0.0
            h2 = qe / (k - p)
        else:
            i2 = 100 * tau2 / (vt + tau2)
            h2 = tau2 / vt + 1
    else:
        qe, qe_p, i2, h2 = 0.0, 1.0, 0.0, 1.0
    wd = np.diag(w)
    return GlsFit(
        beta=beta,
        vb=vb,
        se=se,
        z=z,
        p=np.asarray(pval, dtype=float),
        ci_low=beta - crit * se,
        ci_high=beta + crit * se,
        tau2=tau2,
        se_tau2=est.se,
        test=test,
        df=df,
        qe=qe,
        qe_df=k - p,
        qe_p=qe_p,
        i2=i2,
        h2=h2,
        qm=qm,
        qm_df=qm_df,
        qm_p=qm_p,
        weights=100 * wd / wd.sum(),
        notes=(est.note,) if est.note else (),
    )


def prediction_interval(fit: GlsFit, k: int, p: int, method: str, pi: str, level: float) -> tuple[float, float, float]:
    """``(low, high, df)`` of the prediction interval of a pooled fit (NaN for ``fe``)."""
    from scipy import stats

    alpha = 1 - level
    if method == "fe":
        # As metafor: no prediction interval for the fixed-effect model (no tau^2).
        return float("nan"), float("nan"), float("nan")
    if pi == "t":
        # metafor predict(pi.type="riley"): df = (k - p) - parms + p, at least 1.
        df = max(1.0, float(k - p - 1))
        crit = float(stats.t.isf(alpha / 2, df))
    elif fit.test == "t":
        df = fit.df
        crit = float(stats.t.isf(alpha / 2, df))
    else:
        df, crit = float("nan"), float(stats.norm.isf(alpha / 2))
    half = crit * np.sqrt(fit.tau2 + fit.se[0] ** 2)
    return float(fit.beta[0] - half), float(fit.beta[0] + half), df


def r2_percent(y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str, fit: GlsFit) -> float:
    """metafor's R^2 (percent) of a meta-regression: the proportional reduction of tau^2
    from the intercept-only model, or for ``fe`` the adjusted R^2 of the GLS regression."""
    k, p = x.shape
    if method != "fe":
        tau2_0 = estimate_tau2(y, v, x[:, :1], method).tau2
        if tau2_0 == 0:
            return 0.0
        return max(0.0, 100 * (tau2_0 - fit.tau2) / tau2_0)
    # metafor for FE models: the adjusted R^2 of the weighted (GLS) regression.
    if np.all(y == y[0]) or k - p < 1:
        return 0.0
    w = np.linalg.inv(v)
    one = x[:, :1]
    mean_w = np.linalg.solve(one.T @ w @ one, one.T @ w @ y)
    r0 = y - one @ mean_w
    r1 = y - x @ fit.beta
    r2 = 1 - float(r1 @ w @ r1) / float(r0 @ w @ r0)
    return max(0.0, 100 * (1 - (1 - r2) * (k - 1) / (k - p)))

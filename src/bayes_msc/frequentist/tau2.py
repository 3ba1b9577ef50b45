"""Between-study variance (tau^2) estimators, as metafor 3.8's ``rma.uni`` computes them.

All estimators work on the general model ``y = X beta + u + e`` with ``e ~ N(0, V)`` and
``u ~ N(0, tau2 I)``. ``V`` is diagonal (``diag(vi)``) for independent comparisons, or a
full covariance matrix when comparisons share an arm (multi-arm trials kept whole).

With a diagonal ``V`` every formula below is metafor's (``rma.uni``), including its
starting values, convergence threshold (1e-5 on the change of tau^2), step halving and
truncation at 0, so the results agree with metafor to rounding error.

With a non-diagonal ``V`` the estimators are their generalised-least-squares forms:

- ``dl``: the method-of-moments estimator on the generalised Q statistic
  ``Q = y' P y`` with ``W = V^-1`` and ``P = W - W X (X'WX)^-1 X'W``. Because
  ``E[Q] = tr(P V) + tau2 tr(P) = (k - p) + tau2 tr(P)``, the estimator keeps the DL form
  ``(Q - (k - p)) / tr(P)`` (DerSimonian & Kacker 2007, Contemp Clin Trials 28:105).
- ``pm``: Paule-Mandel on the same statistic, ``Q(tau2) = k - p`` with
  ``W = (V + tau2 I)^-1``.
- ``ml``/``reml``: Fisher scoring on the (restricted) likelihood of ``N(X beta, V + tau2 I)``,
  the model metafor fits with ``rma.mv(yi, V, random = ~ 1 | id)``.
- ``he``: Hedges' OLS moment estimator ``(RSS_OLS - tr(P_OLS V)) / (k - p)``.

``sj`` and ``eb`` are defined by metafor for independent comparisons only and are refused
with a non-diagonal ``V``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayes_msc.errors import InputError, Problem

RE_METHODS: tuple[str, ...] = ("dl", "reml", "pm", "ml", "he", "sj", "eb")
"""Random-effects tau^2 estimators."""

METHODS: tuple[str, ...] = ("fe",) + RE_METHODS
"""Every estimation method (``fe`` = fixed effect, inverse variance: tau^2 = 0)."""

DIAGONAL_ONLY: tuple[str, ...] = ("sj", "eb")

THRESHOLD = 1e-5
"""metafor's convergence threshold on the absolute change of tau^2 (Fisher scoring)."""

MAXITER = 100
"""metafor's maximum number of Fisher-scoring iterations."""

LL0_TOL = np.finfo(float).eps ** 0.25
"""metafor's tolerance (``control$tol``) for its log-likelihood check at tau^2 = 0."""


@dataclass(frozen=True)
class Tau2Estimate:
    """A tau^2 estimate with metafor's standard error and how it was reached."""

    tau2: float
    se: float
    iterations: int = 0
    note: str | None = None


def weights_and_projection(sigma: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``W = sigma^-1`` and the GLS residual projection ``P = W - W X (X'WX)^-1 X'W``."""
    w = np.linalg.inv(sigma)
    w = (w + w.T) / 2  # keep it exactly symmetric against rounding
    wx = w @ x
    p = w - wx @ np.linalg.solve(x.T @ wx, wx.T)
    return w, p


def _quad(y: np.ndarray, a: np.ndarray) -> float:
    return float(y @ a @ y)


def estimate_tau2(y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str, maxiter: int = MAXITER) -> Tau2Estimate:
    """Estimate tau^2 for the model ``y ~ N(X beta, V + tau2 I)``.

    Parameters
    ----------
    y : ndarray, shape (k,)
        Effect sizes.
    v : ndarray, shape (k, k)
        Their sampling covariance (diagonal for independent comparisons).
    x : ndarray, shape (k, p)
        Design matrix including the intercept column.
    method : str
        One of :data:`METHODS`.
    maxiter : int
        Fisher-scoring iterations (ML, REML, EB) before falling back on the root of the
        score equation (metafor stops with an error there instead).

    Returns
    -------
    Tau2Estimate
        tau^2 truncated at 0, its standard error (metafor's formula for the method; NaN for
        ``fe``), the number of iterations for iterative estimators and a note when the
        fallback was used.

    Raises
    ------
    InputError
        For an unknown method, or ``sj``/``eb`` with a non-diagonal ``V``.
    """
    if method not in METHODS:
        raise InputError(Problem(f"unknown method '{method}'; allowed: {', '.join(METHODS)}", argument="method"))
    if method == "fe":
        return Tau2Estimate(0.0, float("nan"))
    k, p = x.shape
    diagonal = bool(np.all(v == np.diag(np.diag(v))))
    if method in DIAGONAL_ONLY and not diagonal:
        raise InputError(
            Problem(
                f"method '{method}' is defined for independent comparisons only; with shared arms "
                "(a non-diagonal covariance) use fe, dl, reml, ml, pm or he",
                argument="method",
            )
        )
    # metafor estimates tau^2 from the centred yi; with an intercept in X this changes
    # nothing in exact arithmetic, and keeping it matches metafor's rounding too.
    ymc = y - y.mean()
    eye = np.eye(k)
    if method == "dl":
        _, p0 = weights_and_projection(v, x)
        trp = float(np.trace(p0))
        tau2 = max(0.0, (_quad(ymc, p0) - (k - p)) / trp)
        se = np.sqrt((2 * (k - p) + 4 * tau2 * trp + 2 * tau2**2 * np.sum(p0 * p0)) / trp**2)
        return Tau2Estimate(tau2, float(se))
    if method == "he":
        return _he(ymc, v, x)
    if method == "sj":
        return _sj(ymc, v, x)
    if method == "pm":
        return _pm(ymc, v, x)
    return _fisher_scoring(ymc, v, x, method, _he(ymc, v, x).tau2, eye, maxiter)


def _he(ymc: np.ndarray, v: np.ndarray, x: np.ndarray) -> Tau2Estimate:
    k, p = x.shape
    pols = np.eye(k) - x @ np.linalg.solve(x.T @ x, x.T)
    pv = pols @ v
    trpv = float(np.trace(pv))
    tau2 = max(0.0, (_quad(ymc, pols) - trpv) / (k - p))
    se = np.sqrt((2 * np.sum(pv * pv.T) + 4 * tau2 * trpv + 2 * tau2**2 * (k - p)) / (k - p) ** 2)
    return Tau2Estimate(tau2, float(se))


def _sj(ymc: np.ndarray, v: np.ndarray, x: np.ndarray) -> Tau2Estimate:
    # Sidik-Jonkman with metafor's start: the (biased) variance of the yi.
    k, p = x.shape
    tau2_0 = float(np.mean(ymc**2))
    if tau2_0 == 0.0:
        return Tau2Estimate(0.0, 0.0)
    _, pm = weights_and_projection(v + tau2_0 * np.eye(k), x)
    tau2 = max(0.0, tau2_0 * _quad(ymc, pm) / (k - p))
    pv = pm @ v
    se = np.sqrt(
        tau2_0**2 / (k - p) ** 2 * (2 * np.sum(pv * pv.T) + 4 * tau2 * np.sum(pv * pm) + 2 * tau2**2 * np.sum(pm * pm))
    )
    return Tau2Estimate(tau2, float(se))


def _pm(ymc: np.ndarray, v: np.ndarray, x: np.ndarray) -> Tau2Estimate:
    from scipy.optimize import brentq

    k, p = x.shape
    eye = np.eye(k)

    def excess(t2: float) -> float:
        return _quad(ymc, weights_and_projection(v + t2 * eye, x)[1]) - (k - p)

    if excess(0.0) < 0:
        tau2, iterations = 0.0, 0
    else:
        # Q(tau2) falls to 0 as tau2 grows, so doubling the upper end always brackets the
        # root; metafor searches [0, max(100, 10 mad(y)^2)] with uniroot (same root).
        upper = max(100.0, 10 * float(np.var(ymc)))
        while excess(upper) > 0:
            upper *= 2
        # xtol relative to the typical sampling variance: an absolute 1e-14 is too coarse
        # when every vi is itself ~1e-13.
        xtol = 1e-14 * min(1.0, float(np.median(np.diag(v))))
        tau2, info = brentq(excess, 0.0, upper, xtol=xtol, rtol=1e-13, full_output=True)
        iterations = info.iterations
    w = np.linalg.inv(v + tau2 * eye)
    se = np.sqrt(2 * k**2 / (k - p) / np.trace(w) ** 2)
    return Tau2Estimate(float(tau2), float(se), iterations)


def _score(ymc: np.ndarray, v: np.ndarray, x: np.ndarray, tau2: float, method: str) -> tuple[float, float]:
    """(score, Fisher information) up to the common factor 1/2, at ``tau2``."""
    k, p = x.shape
    w, pm = weights_and_projection(v + tau2 * np.eye(k), x)
    if method == "ml":
        return _quad(ymc, pm @ pm) - float(np.trace(w)), float(np.sum(w * w))
    if method == "reml":
        return _quad(ymc, pm @ pm) - float(np.trace(pm)), float(np.sum(pm * pm))
    # eb (Morris 1983), diagonal V only: metafor's estimating equation and step
    return _quad(ymc, pm) * k / (k - p) - k, float(np.trace(w))


def _score_root(ymc: np.ndarray, v: np.ndarray, x: np.ndarray, method: str) -> float:
    """tau^2 >= 0 solving the score equation (0 when the score is negative at 0)."""
    from scipy.optimize import brentq

    if _score(ymc, v, x, 0.0, method)[0] <= 0:
        return 0.0
    # the score is positive at 0 and negative for large tau^2: double until bracketed
    upper = max(1.0, 10 * float(np.var(ymc)))
    while _score(ymc, v, x, upper, method)[0] > 0:
        upper *= 2
    return float(brentq(lambda t: _score(ymc, v, x, t, method)[0], 0.0, upper, xtol=1e-14, rtol=1e-13))


def _fisher_scoring(
    ymc: np.ndarray, v: np.ndarray, x: np.ndarray, method: str, start: float, eye: np.ndarray, maxiter: int
) -> Tau2Estimate:
    # metafor's loop: start at the HE estimate, step = score / information, halve the step
    # while it would leave tau^2 >= 0, stop when the change is below THRESHOLD.
    k, p = x.shape
    tau2, change, iteration, note = max(0.0, start), THRESHOLD + 1, 0, None
    while change > THRESHOLD:
        iteration += 1
        old = tau2
        score, information = _score(ymc, v, x, tau2, method)
        adj = score / information
        adj = 0.0 if np.isnan(adj) else float(adj)
        while tau2 + adj < 0:
            adj /= 2
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if iteration > maxiter:
            # metafor stops with "Fisher scoring algorithm did not converge" (its remedy is a
            # smaller step); the score equation's root is the estimate scoring was after.
            tau2 = _score_root(ymc, v, x, method)
            note = (
                f"Fisher scoring for {method.upper()} did not converge in {maxiter} "
                "iterations (metafor would stop here); tau^2 is the root of the score equation"
            )
            break
    # metafor's check that scoring did not stop at a local maximum above tau^2 = 0.
    if (
        method in ("ml", "reml")
        and tau2 > THRESHOLD
        and _loglik(ymc, v, x, 0.0, method) - _loglik(ymc, v, x, tau2, method) > LL0_TOL
    ):
        note = "the likelihood is higher at tau^2 = 0 than where scoring stopped; tau^2 set to 0 (as metafor does)"
        tau2 = 0.0
    w, pm = weights_and_projection(v + tau2 * eye, x)
    if method == "ml":
        se = np.sqrt(2 / np.sum(w * w))
    elif method == "reml":
        se = np.sqrt(2 / np.sum(pm * pm))
    else:
        se = np.sqrt(2 * k**2 / (k - p) / np.trace(w) ** 2)
    return Tau2Estimate(float(tau2), float(se), iteration, note)


def _loglik(ymc: np.ndarray, v: np.ndarray, x: np.ndarray, tau2: float, method: str) -> float:
    """(Restricted) log-likelihood without metafor's constant ``log det(X'X)`` term."""
    k, p = x.shape
    sigma = v + tau2 * np.eye(k)
    w = np.linalg.inv(sigma)
    xtwx = x.T @ w @ x
    beta = np.linalg.solve(xtwx, x.T @ w @ ymc)
    r = ymc - x @ beta
    ll = -0.5 * np.linalg.slogdet(sigma)[1] - 0.5 * float(r @ w @ r)
    if method == "ml":
        return ll - 0.5 * k * np.log(2 * np.pi)
    return ll - 0.5 * (k - p) * np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(xtwx)[1]

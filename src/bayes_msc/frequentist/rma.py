"""Frequentist meta-analysis equal to R metafor 3.8 (``rma.uni``, ``rma.mv``, ``leave1out``).

:func:`rma` pools effect sizes (fixed effect or random effects with a choice of tau^2
estimators, see :mod:`bayes_msc.frequentist.tau2`), with Knapp-Hartung (HKSJ) tests and
prediction intervals, or fits a meta-regression when covariates are given.
:func:`leave_one_out` refits without each comparison in turn.

Defaults and conventions are metafor's: z-based tests and intervals; Knapp-Hartung with
t on ``k - p`` df and an untruncated scale factor (``hksj_truncate=True`` gives metafor's
``test="adhoc"``); the prediction interval ``mu +/- crit * sqrt(tau^2 + se^2)`` with
``crit`` the normal quantile, or the t quantile on ``k - 1`` df under Knapp-Hartung
(metafor 3.8 ``predict``), and none (NaN) for the fixed-effect model; ``pi="t"`` gives
the Higgins/IntHout interval with ``k - 2`` df (metafor's ``pi.type="riley"``; df below 1
are set to 1 as metafor does); I^2 with the
"typical" within-study variance ``(k - p) / tr(P)``, which for pooling is
``(k - 1) sum w / ((sum w)^2 - sum w^2)``.

A non-diagonal ``V`` (comparisons sharing an arm) is used by generalised least squares
throughout: Q, I^2 and the DL/PM estimators use ``W = V^-1`` (see
:mod:`bayes_msc.frequentist.tau2`); FE, ML and REML equal metafor's ``rma.mv(yi, V,
random = ~ 1 | id)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayes_msc.errors import InputError, Problem, data_row
from bayes_msc.frequentist.tau2 import METHODS, estimate_tau2, weights_and_projection
from bayes_msc.results.frequentist import (
    Coefficient,
    LeaveOneOutResult,
    LeaveOneOutRow,
    MetaRegResult,
    PoolResult,
)
from bayes_msc.results.layout import CI_LEVEL

PAPER_I2 = 50.0
"""The paper's rule: random effects (DL) when I^2 exceeds this (percent) ..."""

PAPER_Q_P = 0.1
"""... or when the p-value of Cochran's Q is below this; fixed effect otherwise."""

TABLE = "effect table"
"""``Problem.file`` for problems in the effect-size rows (as ``bayes-msc effects`` shows them)."""


@dataclass(frozen=True, eq=False)
class _Fit:
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


def _inputs(yi, vi, V, labels) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], bool]:
    y = np.asarray(yi, dtype=float).ravel()
    d = np.asarray(vi, dtype=float).ravel()
    k = len(y)
    if k == 0:
        raise InputError(Problem("no comparisons to pool (k = 0)", file=TABLE))
    if len(d) != k:
        raise InputError(Problem(f"yi has {k} values but vi has {len(d)}", file=TABLE, column="vi"))
    labels = tuple(str(i + 1) for i in range(k)) if labels is None else tuple(str(s) for s in labels)
    if len(labels) != k:
        raise InputError(Problem(f"{len(labels)} labels for {k} comparisons", file=TABLE))
    problems = []
    for i in range(k):
        if not np.isfinite(y[i]):
            problems.append(
                Problem(
                    f"comparison '{labels[i]}': yi = {y[i]} is not a finite number",
                    file=TABLE,
                    row=data_row(i),
                    column="yi",
                )
            )
        if not (np.isfinite(d[i]) and d[i] > 0):
            problems.append(
                Problem(
                    f"comparison '{labels[i]}': vi = {d[i]}; sampling variances must be finite and > 0",
                    file=TABLE,
                    row=data_row(i),
                    column="vi",
                )
            )
    if problems:
        raise InputError(problems)
    if V is None:
        return y, np.diag(d), labels, False
    v = np.asarray(V, dtype=float)
    if v.shape != (k, k) or not np.all(np.isfinite(v)):
        raise InputError(Problem(f"V must be a finite {k} x {k} matrix", column="V"))
    if not np.allclose(v, v.T, rtol=1e-10, atol=0) or not np.allclose(np.diag(v), d, rtol=1e-9, atol=0):
        raise InputError(Problem("V must be symmetric with the vi on its diagonal", column="V"))
    try:
        np.linalg.cholesky(v)
    except np.linalg.LinAlgError:
        raise InputError(Problem("V is not positive definite", column="V")) from None
    shared = bool(np.any(v != np.diag(d)))
    return y, v, labels, shared


def _design(X, names, k: int) -> tuple[np.ndarray, tuple[str, ...]]:
    if X is None:
        return np.ones((k, 1)), ("intercept",)
    x = np.asarray(X, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] != k:
        raise InputError(Problem(f"X must have one row per comparison ({k})", column="X"))
    q = x.shape[1]
    if q == 0:
        raise InputError(Problem("X has no covariate columns (pass X=None to pool)", column="X"))
    names = tuple(f"x{j + 1}" for j in range(q)) if names is None else tuple(str(n) for n in names)
    if len(names) != q or len(set(names)) != q or "intercept" in names:
        raise InputError(Problem(f"need {q} distinct covariate names other than 'intercept'", column="names"))
    problems = []
    for j, name in enumerate(names):
        for i in np.flatnonzero(~np.isfinite(x[:, j])):
            problems.append(
                Problem(f"covariate '{name}' is missing or not finite", file=TABLE, row=data_row(i), column=name)
            )
        if np.all(np.isfinite(x[:, j])) and np.ptp(x[:, j]) == 0:
            problems.append(
                Problem(
                    f"covariate '{name}' is constant across the {k} comparisons; its slope cannot be estimated",
                    column=name,
                )
            )
    if problems:
        raise InputError(problems)
    if k < q + 1:
        raise InputError(Problem(f"k = {k} comparisons are too few to estimate {q + 1} coefficients", column=names[-1]))
    full = np.column_stack([np.ones(k), x])
    if np.linalg.matrix_rank(full) < q + 1:
        raise InputError(
            Problem(
                "covariates "
                + ", ".join(f"'{n}'" for n in names)
                + " are collinear (with each other or the intercept)",
                column=names[-1],
            )
        )
    return full, ("intercept",) + names


def _fit(y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str, hksj: bool, truncate: bool, level: float) -> _Fit:
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
    return _Fit(
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


def _paper_rule(fe: _Fit, k: int) -> tuple[str, str]:
    """Qu & Sun 2021: random effects (DL) if I^2 > 50% or P_Q < 0.1, else fixed effect."""
    if k == 1:
        return "fe", "fixed effect: k = 1, heterogeneity cannot be assessed"
    i2_txt = f"I2 = {fe.i2:.1f}%"
    q_txt = f"P_Q = {fe.qe_p:.3g}"
    high_i2, low_p = fe.i2 > PAPER_I2, fe.qe_p < PAPER_Q_P
    if high_i2 or low_p:
        reasons = ([f"{i2_txt} > {PAPER_I2:g}%"] if high_i2 else []) + ([f"{q_txt} < {PAPER_Q_P:g}"] if low_p else [])
        return "dl", "random effects (DerSimonian-Laird): " + " and ".join(reasons)
    return "fe", f"fixed effect: {i2_txt} <= {PAPER_I2:g}% and {q_txt} >= {PAPER_Q_P:g}"


def rma(
    yi,
    vi,
    method: str = "dl",
    hksj: bool = False,
    level: float = CI_LEVEL,
    pi: str = "z",
    X=None,
    names=None,
    V=None,
    hksj_truncate: bool = False,
    labels=None,
) -> PoolResult | MetaRegResult:
    """Fixed- or random-effects meta-analysis, or meta-regression, as metafor's ``rma``.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and their sampling variances (> 0, finite).
    method : str
        ``fe`` (inverse variance), ``dl`` (DerSimonian-Laird), ``reml``, ``pm``
        (Paule-Mandel), ``ml``, ``he`` (Hedges), ``sj`` (Sidik-Jonkman), ``eb``
        (empirical Bayes), or ``paper``: Qu & Sun 2021's rule, DL when I^2 > 50% or
        P_Q < 0.1, otherwise fixed effect (the result's ``chosen_by``/``why`` say so).
    hksj : bool
        Knapp-Hartung (HKSJ) t tests and intervals with ``k - p`` df.
    level : float
        Interval probability (default :data:`~bayes_msc.results.layout.CI_LEVEL`).
    pi : {"z", "t"}
        Prediction interval: metafor's default, or Higgins/IntHout's t with k - 2 df.
    X : array_like, shape (k, q), optional
        Covariate columns without the intercept; gives a :class:`MetaRegResult`.
    names : sequence of str, optional
        Names of the columns of ``X`` (default ``x1``, ``x2``, ...).
    V : array_like, shape (k, k), optional
        Sampling covariance of ``yi`` (diagonal ``vi``; off-diagonal: shared arms).
    hksj_truncate : bool
        Truncate the Knapp-Hartung scale factor at 1 (metafor ``test="adhoc"``).
    labels : sequence of str, optional
        Comparison labels, used in messages and plots.

    Returns
    -------
    PoolResult or MetaRegResult

    Raises
    ------
    InputError
        Non-finite ``yi``, ``vi`` <= 0 or non-finite (naming the comparison), k = 1 with
        a random-effects method, too few comparisons for the coefficients, a constant,
        missing or collinear covariate, or an unknown option.
    """
    if method not in METHODS + ("paper",):
        raise InputError(Problem(f"unknown method '{method}'; allowed: {', '.join(METHODS)}, paper", column="method"))
    if pi not in ("z", "t"):
        raise InputError(Problem(f"pi must be 'z' or 't', not '{pi}'", column="pi"))
    if not 0 < level < 1:
        raise InputError(Problem(f"level must be between 0 and 1, not {level}", column="level"))
    y, v, labels, shared = _inputs(yi, vi, V, labels)
    x, coef_names = _design(X, names, len(y))
    k, p = x.shape
    chosen_by = why = None
    if method == "paper":
        method, why = _paper_rule(_fit(y, v, x, "fe", False, False, level), k)
        chosen_by = "paper"
    if method != "fe" and k == 1:
        raise InputError(
            Problem(
                "k = 1: heterogeneity cannot be estimated; only the fixed-effect method ('fe') can be used",
                column="method",
            )
        )
    need = p + (method != "fe")
    if k < need:
        raise InputError(
            Problem(
                f"k = {k} comparisons are too few to estimate {p} coefficient(s)"
                + (" and tau2" if method != "fe" else ""),
                column="method",
            )
        )
    if hksj and k - p < 1:
        raise InputError(Problem(f"Knapp-Hartung needs k > {p} comparisons (k = {k})", column="hksj"))
    fit = _fit(y, v, x, method, hksj, hksj_truncate, level)
    common = {
        "k": k,
        "method": method,
        "level": level,
        "test": fit.test,
        "hksj": hksj,
        "labels": labels,
        "yi": y,
        "vi": np.diag(v).copy(),
        "df": fit.df,
        "se_tau2": fit.se_tau2,
        "hksj_truncate": hksj_truncate,
        "shared_covariance": shared,
        "chosen_by": chosen_by,
        "why": why,
        "notes": fit.notes,
    }
    if X is None:
        lo, hi, pi_df = _prediction(fit, k, p, method, pi, level)
        return PoolResult(
            estimate=float(fit.beta[0]),
            se=float(fit.se[0]),
            ci_low=float(fit.ci_low[0]),
            ci_high=float(fit.ci_high[0]),
            z=float(fit.z[0]),
            p=float(fit.p[0]),
            tau2=fit.tau2,
            tau=float(np.sqrt(fit.tau2)),
            i2=fit.i2,
            h2=fit.h2,
            q=fit.qe,
            q_df=fit.qe_df,
            q_p=fit.qe_p,
            pi_low=lo,
            pi_high=hi,
            weights=fit.weights,
            pi_type=pi,
            pi_df=pi_df,
            **common,
        )
    coefs = tuple(
        Coefficient(n, float(b), float(s), float(lo), float(hi), float(zz), float(pp))
        for n, b, s, lo, hi, zz, pp in zip(
            coef_names, fit.beta, fit.se, fit.ci_low, fit.ci_high, fit.z, fit.p, strict=False
        )
    )
    return MetaRegResult(
        tau2=fit.tau2,
        tau=float(np.sqrt(fit.tau2)),
        i2=fit.i2,
        h2=fit.h2,
        r2=_r2(y, v, x, method, fit),
        qm=fit.qm,
        qm_df=fit.qm_df,
        qm_p=fit.qm_p,
        qe=fit.qe,
        qe_df=fit.qe_df,
        qe_p=fit.qe_p,
        coefficients=coefs,
        x=x[:, 1:].copy(),
        names=coef_names[1:],
        vcov=fit.vb,
        **common,
    )


def _prediction(fit: _Fit, k: int, p: int, method: str, pi: str, level: float) -> tuple[float, float, float]:
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


def _r2(y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str, fit: _Fit) -> float:
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


def leave_one_out(
    yi,
    vi,
    method: str = "dl",
    hksj: bool = False,
    level: float = CI_LEVEL,
    labels=None,
    V=None,
    hksj_truncate: bool = False,
) -> LeaveOneOutResult:
    """Pool the comparisons without each one in turn (metafor's ``leave1out``).

    Parameters are those of :func:`rma` (without covariates). With ``method="paper"`` the
    rule is applied again to each subset; each row says which method was used.

    Raises
    ------
    InputError
        When fewer than 2 comparisons (3 for a random-effects method) are given, or for any
        reason :func:`rma` raises.
    """
    y, v, labels, _ = _inputs(yi, vi, V, labels)
    k = len(y)
    need = 2 if method in ("fe", "paper") else 3
    if k < need:
        raise InputError(
            Problem(f"leave-one-out with method '{method}' needs k >= {need} comparisons (k = {k})", column="method")
        )
    rows = []
    for i in range(k):
        keep = np.arange(k) != i
        res = rma(
            y[keep],
            np.diag(v)[keep],
            method=method,
            hksj=hksj,
            level=level,
            V=None if V is None else v[np.ix_(keep, keep)],
            hksj_truncate=hksj_truncate,
            labels=[lab for lab, kept in zip(labels, keep, strict=False) if kept],
        )
        rows.append(
            LeaveOneOutRow(
                left_out=labels[i],
                method=res.method,
                k=res.k,
                estimate=res.estimate,
                se=res.se,
                ci_low=res.ci_low,
                ci_high=res.ci_high,
                z=res.z,
                p=res.p,
                tau2=res.tau2,
                i2=res.i2,
                h2=res.h2,
                q=res.q,
                q_p=res.q_p,
            )
        )
    return LeaveOneOutResult(rows=tuple(rows), level=level, test="t" if hksj else "z", hksj=hksj, method=method)

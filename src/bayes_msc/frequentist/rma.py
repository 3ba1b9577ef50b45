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

from collections.abc import Sequence
from typing import TypedDict, overload

import numpy as np
from numpy.typing import ArrayLike

from bayes_msc.errors import InputError, Problem
from bayes_msc.frequentist.gls import GlsFit, fit_gls, prediction_interval, r2_percent
from bayes_msc.frequentist.inputs import TABLE, check_effects, design_matrix
from bayes_msc.frequentist.tau2 import METHODS
from bayes_msc.results.frequentist import (
    Coefficient,
    LeaveOneOutResult,
    LeaveOneOutRow,
    MetaRegResult,
    PoolResult,
)
from bayes_msc.results.layout import CI_LEVEL

__all__ = ["PAPER_I2", "PAPER_Q_P", "TABLE", "leave_one_out", "rma"]

PAPER_I2 = 50.0
"""The paper's rule: random effects (DL) when I^2 exceeds this (percent) ..."""

PAPER_Q_P = 0.1
"""... or when the p-value of Cochran's Q is below this; fixed effect otherwise."""


class _Common(TypedDict):
    """The fields :class:`PoolResult` and :class:`MetaRegResult` share, as :func:`rma` fills them."""

    k: int
    method: str
    level: float
    test: str
    hksj: bool
    labels: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    df: float
    se_tau2: float
    hksj_truncate: bool
    shared_covariance: bool
    chosen_by: str | None
    why: str | None
    notes: tuple[str, ...]


def _paper_rule(fe: GlsFit, k: int) -> tuple[str, str]:
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


@overload
def rma(
    yi: ArrayLike,
    vi: ArrayLike,
    method: str = ...,
    hksj: bool = ...,
    level: float = ...,
    pi: str = ...,
    X: None = None,
    names: Sequence[str] | None = ...,
    V: ArrayLike | None = ...,
    hksj_truncate: bool = ...,
    labels: Sequence[object] | None = ...,
) -> PoolResult: ...


@overload
def rma(
    yi: ArrayLike,
    vi: ArrayLike,
    method: str = ...,
    hksj: bool = ...,
    level: float = ...,
    pi: str = ...,
    *,
    X: ArrayLike,
    names: Sequence[str] | None = ...,
    V: ArrayLike | None = ...,
    hksj_truncate: bool = ...,
    labels: Sequence[object] | None = ...,
) -> MetaRegResult: ...


def rma(
    yi: ArrayLike,
    vi: ArrayLike,
    method: str = "dl",
    hksj: bool = False,
    level: float = CI_LEVEL,
    pi: str = "z",
    X: ArrayLike | None = None,
    names: Sequence[str] | None = None,
    V: ArrayLike | None = None,
    hksj_truncate: bool = False,
    labels: Sequence[object] | None = None,
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
        raise InputError(Problem(f"unknown method '{method}'; allowed: {', '.join(METHODS)}, paper", argument="method"))
    if pi not in ("z", "t"):
        raise InputError(Problem(f"pi must be 'z' or 't', not '{pi}'", argument="pi"))
    if not 0 < level < 1:
        raise InputError(Problem(f"level must be between 0 and 1, not {level}", argument="level"))
    y, v, labels, shared = check_effects(yi, vi, V, labels)
    x, coef_names = design_matrix(X, names, len(y))
    k, p = x.shape
    chosen_by = why = None
    if method == "paper":
        method, why = _paper_rule(fit_gls(y, v, x, "fe", False, False, level), k)
        chosen_by = "paper"
    if method != "fe" and k == 1:
        raise InputError(
            Problem(
                "k = 1: heterogeneity cannot be estimated; only the fixed-effect method ('fe') can be used",
                argument="method",
            )
        )
    need = p + (method != "fe")
    if k < need:
        raise InputError(
            Problem(
                f"k = {k} comparisons are too few to estimate {p} coefficient(s)"
                + (" and tau2" if method != "fe" else ""),
                argument="method",
            )
        )
    if hksj and k - p < 1:
        raise InputError(Problem(f"Knapp-Hartung needs k > {p} comparisons (k = {k})", argument="hksj"))
    fit = fit_gls(y, v, x, method, hksj, hksj_truncate, level)
    common: _Common = {
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
        lo, hi, pi_df = prediction_interval(fit, k, p, method, pi, level)
        notes = tuple(fit.notes)
        if pi == "t" and method != "fe" and k - p - 1 < 1:
            # metafor's pi.type="riley" raises df below 1 to 1; say so rather than print "k - 2".
            notes += (f"prediction interval: t with k - 2 = {k - p - 1} df is undefined; 1 df used (as metafor)",)
        common["notes"] = notes
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
            pi=pi,
            pi_type="t" if np.isfinite(pi_df) else "z",
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
        r2=r2_percent(y, v, x, method, fit),
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


def leave_one_out(
    yi: ArrayLike,
    vi: ArrayLike,
    method: str = "dl",
    hksj: bool = False,
    level: float = CI_LEVEL,
    labels: Sequence[object] | None = None,
    V: ArrayLike | None = None,
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
    y, v, labels, _ = check_effects(yi, vi, V, labels)
    k = len(y)
    need = 2 if method in ("fe", "paper") else 3
    if k < need:
        raise InputError(
            Problem(f"leave-one-out with method '{method}' needs k >= {need} comparisons (k = {k})", argument="method")
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

"""The normal-normal random-effects model (and meta-regression) given tau, for the exact engine.

The model of bayesmeta (Roever 2020, J Stat Softw 93(6)) and its ``bmr``:
y_i ~ N(theta_i, v_i), theta_i ~ N(mu + z_i' beta, tau^2), z the covariates centred at
their reference values and scaled (:func:`bayes_msc.bayes.design.standardise`), so ``mu``
and its prior are the effect at the reference values and the ``beta`` prior is per SD of
each covariate. With
Normal or Flat priors on b = (mu, beta), b | tau, y ~ N(b(tau), A(tau)^-1) with
A = D'WD + P0, W = diag(1 / (v_i + tau^2)), D = [1, z]; integrating b out gives the
marginal likelihood L(tau) (:func:`conditional`). The posterior of tau is in
:mod:`bayes_msc.bayes.exact.tau`; the posteriors of everything else, mixtures over tau
of normals, in :mod:`bayes_msc.bayes.exact.posterior`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from bayes_msc.bayes.design import Standardised, standardise
from bayes_msc.errors import InputError, Problem
from bayes_msc.priors import Prior, PriorSet


@dataclass(frozen=True, eq=False)
class ExactModel:
    """Data, design and priors of one exact posterior (see :func:`make_model`)."""

    y: np.ndarray
    v: np.ndarray
    d: np.ndarray  # design [1, z]
    m0: np.ndarray  # prior means of b (0 where flat)
    p0: np.ndarray  # prior precisions of b (0 where flat)
    std: Standardised | None
    prior_set: PriorSet
    kind: str  # "log" or "logistic" (Uniform tau prior on [lo, hi])
    lo: float
    hi: float
    tail: tuple[float, float]  # posterior tau density ~ tau^-e (log tau)^-lp at infinity
    rand: np.ndarray  # 1 where an observation carries a random effect (tau^2 adds to v), else 0
    rows: np.ndarray  # the observation of each random effect (comparison), in report order
    n_coef: int  # b = (mu, beta..., nuisance...): the first n_coef are reported
    shown: tuple[np.ndarray, np.ndarray]  # each comparison's observed effect and variance


def make_model(
    yi: ArrayLike,
    vi: ArrayLike,
    prior_set: PriorSet,
    x: ArrayLike | None,
    names: Sequence[str],
    *,
    std: Standardised | None = None,
) -> ExactModel:
    """Check the inputs and set up the model: design, coefficient priors, tau's scale.

    The covariates are either ``x`` (as given, with their ``names``; standardised here) or
    ``std``, covariates already standardised by the caller (then ``x`` is None).

    Raises
    ------
    InputError
        Bad yi or vi, a coefficient prior other than Normal or Flat, flat priors the data
        cannot identify, or an improper tau prior that leaves the posterior improper.
    ValueError
        ``prior_set`` is not resolved, or ``x`` and ``names`` disagree.
    """
    if not prior_set.resolved:
        raise ValueError("exact_posterior needs a resolved prior set (PriorSet.resolve)")
    y, v = np.atleast_1d(np.asarray(yi, float)), np.atleast_1d(np.asarray(vi, float))
    if y.ndim != 1 or y.shape != v.shape or y.size == 0:
        raise InputError(Problem("yi and vi must be non-empty and of one length", argument="yi"))
    problems = [
        Problem(f"comparison {i + 1}: yi must be finite, not {y[i]}", argument="yi")
        for i in np.flatnonzero(~np.isfinite(y))
    ]
    problems += [
        Problem(f"comparison {i + 1}: vi must be finite and > 0, not {v[i]}", argument="vi")
        for i in np.flatnonzero(~(np.isfinite(v) & (v > 0)))
    ]
    if problems:
        raise InputError(problems)
    d = np.ones((y.size, 1))
    if std is not None:
        if x is not None:
            raise ValueError("give the covariates either as x or as std, not both")
        d = np.column_stack([d, std.z])
    elif x is not None:
        x = np.asarray(x, float).reshape(y.size, -1)
        if x.shape[1] != len(names):
            raise ValueError(f"X has {x.shape[1]} columns but {len(names)} names")
        if len(names):
            std = standardise(x, list(names))
            d = np.column_stack([d, std.z])
    p = d.shape[1]
    m0, p0 = np.zeros(p), np.zeros(p)
    slopes = [("beta", prior_set.beta_prior())] * (p - 1) if p > 1 else []
    for j, (key, prior) in enumerate([("mu", prior_set.mu), *slopes]):
        m0[j], p0[j] = normal_prior(prior_set, key, prior)
    every = np.arange(y.size)
    return finish_model(y, v, d, m0, p0, std, prior_set, rand=np.ones(y.size), rows=every, n_coef=p, shown=(y, v))


def normal_prior(prior_set: PriorSet, key: str, prior: Prior) -> tuple[float, float]:
    """(mean, precision) of a Normal prior, (0, 0) for a Flat one; other families are an
    InputError (the posterior is then not a mixture of normals: MCMC)."""
    if prior.dist == "Normal":
        pr = prior.filled()
        return pr["mu"], pr["tau"] if "tau" in pr else pr["sigma"] ** -2
    if prior.dist != "Flat":
        raise InputError(
            Problem(
                f"prior set {prior_set.name!r}, key {key!r}: the exact engine "
                f"needs a Normal or Flat prior, not {prior.dist}; use MCMC",
                key=key,
            )
        )
    return 0.0, 0.0


def finish_model(
    y: np.ndarray,
    v: np.ndarray,
    d: np.ndarray,
    m0: np.ndarray,
    p0: np.ndarray,
    std: Standardised | None,
    prior_set: PriorSet,
    *,
    rand: np.ndarray,
    rows: np.ndarray,
    n_coef: int,
    shown: tuple[np.ndarray, np.ndarray],
) -> ExactModel:
    """Check identifiability and the posterior's tail, choose tau's quadrature scale."""
    flat = p0 == 0
    if flat.any() and np.linalg.matrix_rank(d[:, flat]) < flat.sum():
        raise InputError(
            Problem(
                "flat priors on mu/slopes need more comparisons than flat "
                "coefficients (and covariates that are not collinear)"
            )
        )
    e, lp = _prior_tail(prior_set)
    # As tau grows each random effect's observation costs a factor 1/tau and each flat
    # coefficient that only they inform gives one back: L(tau) ~ tau^-(k - flat mu/slopes).
    e += rand.sum() - flat[:n_coef].sum()
    if not (e > 1 or (e == 1 and lp > 1)):
        raise InputError(
            Problem(
                f"prior set {prior_set.name!r}: the improper tau prior gives an "
                f"improper posterior with {rows.size} comparisons; use a proper one",
                key="tau",
            )
        )
    kind, lo, hi = "log", 0.0, math.inf
    if prior_set.tau is not None and prior_set.tau.dist == "Uniform":
        kind, (lo, hi) = "logistic", prior_set.tau.support
    return ExactModel(y, v, d, m0, p0, std, prior_set, kind, lo, hi, (float(e), lp), rand, rows, n_coef, shown)


def _prior_tail(ps: PriorSet) -> tuple[float, float]:
    """(e, lp): the tau prior density falls as tau^-e (log tau)^-lp (e = inf: faster)."""
    tau, log_tau2 = ps.tau, ps.log_tau2_smd
    if log_tau2 is not None:
        nu = log_tau2.filled().get("nu", math.nan)  # StudentT only
        return {"StudentT": (1.0, nu + 1.0), "Cauchy": (1.0, 2.0)}.get(log_tau2.dist, (math.inf, 0.0))
    if tau is None:  # excluded by PriorSet.__post_init__
        raise ValueError("a prior set needs exactly one of tau and log_tau2_smd")
    pr = tau.filled()
    if tau.dist == "InverseGamma":
        return (pr["alpha"] if "alpha" in pr else pr["mu"] ** 2 / pr["sigma"] ** 2 + 2.0) + 1.0, 0.0
    return {"HalfFlat": (0.0, 0.0), "HalfCauchy": (2.0, 0.0)}.get(tau.dist, (pr.get("nu", math.inf) + 1.0, 0.0))


def moment_exists(m: ExactModel, r: int) -> bool:
    """Whether E[tau^r | y] is finite (from the tail of the prior and the likelihood)."""
    e, lp = m.tail
    return e > r + 1 or (e == r + 1 and lp > 1)


def conditional(m: ExactModel, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log L(tau) (up to a constant), and the mean and covariance of b given tau."""
    w = 1.0 / (m.v + m.rand * np.asarray(tau, float)[:, None] ** 2)
    a = (m.d.T[None] * w[:, None, :]) @ m.d + np.diag(m.p0)  # D'WD per node, as a batched matmul
    r = (w * m.y) @ m.d + m.p0 * m.m0
    chol = np.linalg.cholesky(a)
    cov = np.linalg.inv(a)
    b = np.einsum("jab,jb->ja", cov, r)
    logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    quad = (w * m.y**2).sum(axis=1) + np.sum(m.p0 * m.m0**2) - (b * r).sum(axis=1)
    return 0.5 * (np.log(w).sum(axis=1) - logdet - quad), b, cov


def tau_of(m: ExactModel, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """tau at x on the quadrature scale, and log(dtau/dx)."""
    if m.kind == "log":
        return np.exp(x), x
    return m.lo + (m.hi - m.lo) * special.expit(x), (
        math.log(m.hi - m.lo) + special.log_expit(x) + special.log_expit(-x)
    )


def x_of(m: ExactModel, t: np.ndarray) -> np.ndarray:
    """The quadrature scale at tau = t (inverse of :func:`tau_of`)."""
    with np.errstate(divide="ignore"):
        return np.log(t) if m.kind == "log" else special.logit((t - m.lo) / (m.hi - m.lo))


def log_g(m: ExactModel, x: np.ndarray) -> np.ndarray:
    """Unnormalised log posterior density of tau on the quadrature scale x."""
    t, logjac = tau_of(m, x)
    return conditional(m, t)[0] + m.prior_set.tau_logpdf(t) + logjac


def coefficients_given_tau(
    yi: ArrayLike, vi: ArrayLike, tau: float, prior_set: PriorSet, X: ArrayLike | None = None, names: Sequence[str] = ()
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Posterior mean and covariance of (mu, slopes per unit, [intercept]) given tau.

    With flat priors these are the weighted least-squares estimates with weights
    1 / (vi + tau^2) (metafor's ``rma(yi, vi, mods, tau2 = tau^2)``).
    """
    m = make_model(yi, vi, prior_set, X, names)
    _, b, cov = conditional(m, np.array([float(tau)]))
    tmat, labels = report_map(m)
    return labels, tmat @ b[0], tmat @ cov[0] @ tmat.T


def report_map(m: ExactModel) -> tuple[np.ndarray, tuple[str, ...]]:
    """Matrix from b = (mu at the reference values, per-SD slopes, nuisance) to (mu,
    per-unit slopes, intercept at covariates 0)."""
    if m.std is None:
        tmat = np.zeros((1, m.d.shape[1]))
        tmat[0, 0] = 1.0
        return tmat, ("mu",)
    p = m.n_coef
    tmat = np.zeros((p + 1, m.d.shape[1]))
    tmat[0, 0] = 1.0
    tmat[1:p, 1:p] = np.diag(1.0 / m.std.scale)
    tmat[p, 0], tmat[p, 1:p] = 1.0, -m.std.centre / m.std.scale
    return tmat, ("mu", *m.std.names, "intercept")

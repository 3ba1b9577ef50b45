"""Exact posterior of the normal-normal random-effects model and meta-regression.

The model of bayesmeta (Roever 2020, J Stat Softw 93(6)) and its ``bmr``:
y_i ~ N(theta_i, v_i), theta_i ~ N(mu + z_i' beta, tau^2), z the covariates centred and
scaled (:func:`bayes_msc.inference.design.standardise`), so the ``mu`` prior is on the
effect at the covariates' means and the ``beta`` prior is per SD of each covariate. With
Normal or Flat priors on b = (mu, beta), b | tau, y ~ N(b(tau), A(tau)^-1) with
A = D'WD + P0, W = diag(1 / (v_i + tau^2)), D = [1, z]; integrating b out gives the
marginal likelihood L(tau), and p(tau | y) ~ p(tau) L(tau). Every other posterior is a
mixture over tau of normals.

Quadrature: the trapezoid rule on x = log tau (a logistic scale for a Uniform tau prior)
converges geometrically for these analytic integrands; tau's distribution function is
the exact integral of the sinc interpolant of the density (sine integral). The mass at
tau < t0 = 1e-8 min(sqrt v_i), where the likelihood no longer changes, is lumped at t0.
The step is halved until tau's quantiles and the mean and SD of mu change by < tol
(relative to their spread). Slopes and the intercept are reported per unit of the
covariates as given; ``mu_at_mean`` is the effect at the covariates' means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special

from bayes_msc.data.errors import InputError, Problem
from bayes_msc.inference.design import Standardised, standardise
from bayes_msc.inference.priors import PriorSet
from bayes_msc.results.bayes import PARAMETER_FIELDS, BayesResult, Verdict
from bayes_msc.results.layout import CI_LEVEL

_DROP = 40.0  # log-density drop below the mode where the range is cut (e^-40 ~ 4e-18)


@dataclass(frozen=True)
class Quadrature:
    """Quadrature settings: first step on the transformed scale (None: from the posterior's
    width, at most 0.2), tolerance of the step-halving check, most halvings."""

    step: float | None = None
    tol: float = 1e-6
    max_halvings: int = 6


@dataclass(frozen=True, eq=False)
class _Model:
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


def _model(yi: Any, vi: Any, prior_set: PriorSet, x: Any, names: Sequence[str]) -> _Model:
    if not prior_set.resolved:
        raise ValueError("exact_posterior needs a resolved prior set (PriorSet.resolve)")
    y, v = np.atleast_1d(np.asarray(yi, float)), np.atleast_1d(np.asarray(vi, float))
    if y.ndim != 1 or y.shape != v.shape or y.size == 0:
        raise InputError(Problem("yi and vi must be non-empty and of one length", column="yi"))
    problems = [Problem(f"comparison {i + 1}: yi must be finite, not {y[i]}", column="yi")
                for i in np.flatnonzero(~np.isfinite(y))]
    problems += [Problem(f"comparison {i + 1}: vi must be finite and > 0, not {v[i]}", column="vi")
                 for i in np.flatnonzero(~(np.isfinite(v) & (v > 0)))]
    if problems:
        raise InputError(problems)
    std = None
    d = np.ones((y.size, 1))
    if x is not None:
        x = np.asarray(x, float).reshape(y.size, -1)
        if x.shape[1] != len(names):
            raise ValueError(f"X has {x.shape[1]} columns but {len(names)} names")
        if len(names):
            std = standardise(x, list(names))
            d = np.column_stack([d, std.z])
    p = d.shape[1]
    m0, p0 = np.zeros(p), np.zeros(p)
    for j, (key, prior) in enumerate([("mu", prior_set.mu)] + [("beta", prior_set.beta)] * (p - 1)):
        if prior.dist == "Normal":
            pr = prior._filled()
            m0[j] = pr["mu"]
            p0[j] = pr["tau"] if "tau" in pr else pr["sigma"] ** -2
        elif prior.dist != "Flat":
            raise InputError(Problem(f"prior set {prior_set.name!r}, key {key!r}: the exact engine "
                                     f"needs a Normal or Flat prior, not {prior.dist}; use MCMC",
                                     column=key))
    flat = p0 == 0
    if flat.any() and np.linalg.matrix_rank(d[:, flat]) < flat.sum():
        raise InputError(Problem("flat priors on mu/slopes need more comparisons than flat "
                                 "coefficients (and covariates that are not collinear)"))
    e, lp = _prior_tail(prior_set)
    e += y.size - flat.sum()  # L(tau) ~ tau^-(k - flat coefficients) as tau grows
    if not (e > 1 or (e == 1 and lp > 1)):
        raise InputError(Problem(f"prior set {prior_set.name!r}: the improper tau prior gives an "
                                 f"improper posterior with {y.size} comparisons; use a proper one",
                                 column="tau"))
    kind, lo, hi = "log", 0.0, math.inf
    if prior_set.tau is not None and prior_set.tau.dist == "Uniform":
        kind, (lo, hi) = "logistic", prior_set.tau.support
    return _Model(y, v, d, m0, p0, std, prior_set, kind, lo, hi, (e, lp))


def _prior_tail(ps: PriorSet) -> tuple[float, float]:
    """(e, lp): the tau prior density falls as tau^-e (log tau)^-lp (e = inf: faster)."""
    if ps.log_tau2_smd is not None:
        pr = ps.log_tau2_smd
        return {"StudentT": (1.0, pr.params["nu"] + 1.0), "Cauchy": (1.0, 2.0)}.get(pr.dist, (math.inf, 0))
    pr = ps.tau._filled()
    if ps.tau.dist == "InverseGamma":
        return (pr["alpha"] if "alpha" in pr else pr["mu"] ** 2 / pr["sigma"] ** 2 + 2.0) + 1.0, 0.0
    return {"HalfFlat": (0.0, 0.0), "HalfCauchy": (2.0, 0.0)}.get(
        ps.tau.dist, (pr.get("nu", math.inf) + 1.0, 0.0))


def _moment_exists(m: _Model, r: int) -> bool:
    e, lp = m.tail
    return e > r + 1 or (e == r + 1 and lp > 1)


def _conditional(m: _Model, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log L(tau) (up to a constant), and the mean and covariance of b given tau."""
    w = 1.0 / (m.v + np.asarray(tau, float)[:, None] ** 2)
    a = np.einsum("jk,ka,kb->jab", w, m.d, m.d) + np.diag(m.p0)
    r = (w * m.y) @ m.d + m.p0 * m.m0
    chol = np.linalg.cholesky(a)
    cov = np.linalg.inv(a)
    b = np.einsum("jab,jb->ja", cov, r)
    logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    quad = (w * m.y**2).sum(axis=1) + np.sum(m.p0 * m.m0**2) - (b * r).sum(axis=1)
    return 0.5 * (np.log(w).sum(axis=1) - logdet - quad), b, cov


def _tau_of(m: _Model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """tau at x on the quadrature scale, and log(dtau/dx)."""
    if m.kind == "log":
        return np.exp(x), x
    return m.lo + (m.hi - m.lo) * special.expit(x), (
        math.log(m.hi - m.lo) + special.log_expit(x) + special.log_expit(-x))


def _x_of(m: _Model, t: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(t) if m.kind == "log" else special.logit((t - m.lo) / (m.hi - m.lo))


def _log_g(m: _Model, x: np.ndarray) -> np.ndarray:
    t, logjac = _tau_of(m, x)
    return _conditional(m, t)[0] + m.prior_set.tau_logpdf(t) + logjac


@dataclass(frozen=True, eq=False)
class TauPosterior:
    """The posterior of tau on a quadrature grid, with b | tau at every node.

    ``weight`` (sums to 1) are the posterior masses at ``tau`` (node 0 holds the lumped
    mass ``atom`` of tau < tau[0]); ``g`` is the normalised density on the ``x`` scale.
    """

    model: _Model
    x: np.ndarray
    tau: np.ndarray
    h: float
    g: np.ndarray
    atom: float
    weight: np.ndarray
    b_mean: np.ndarray
    b_cov: np.ndarray
    log_norm: float
    converged: bool = True

    def logpdf(self, t: Any) -> np.ndarray:
        t = np.atleast_1d(np.asarray(t, float))
        out = np.full(t.shape, -np.inf)
        ok = (t > self.model.lo) & (t < self.model.hi)
        if ok.any():
            out[ok] = (_conditional(self.model, t[ok])[0] + self.model.prior_set.tau_logpdf(t[ok])
                       - self.log_norm)
        return out

    def _cdf_x(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = (np.asarray(x, float)[:, None] - self.x) / self.h
        si = special.sici(np.pi * u)[0]
        return (self.atom + self.h * (self.g * (0.5 + si / np.pi)).sum(axis=1),
                (self.g * np.sinc(u)).sum(axis=1))

    def cdf(self, t: Any) -> np.ndarray:
        """P(tau <= t)."""
        t = np.atleast_1d(np.asarray(t, float))
        bottom = 0.0 if self.model.kind == "log" else self.model.lo
        out = np.ones(t.shape)
        inside = (t >= self.tau[0]) & (t < self.model.hi)
        x = np.maximum(_x_of(self.model, t[inside]), self.x[0])
        out[inside] = np.clip(self._cdf_x(x)[0], 0, 1)
        low = t < self.tau[0]  # the lumped mass, spread evenly over [bottom, tau[0]]
        out[low] = self.atom * np.clip((t[low] - bottom) / max(self.tau[0] - bottom, 1e-300), 0, 1)
        return out

    def quantile(self, q: Any) -> np.ndarray:
        """Quantiles of tau by safeguarded Newton on the distribution function."""
        q = np.atleast_1d(np.asarray(q, float))
        cum = self.atom + self.h * (np.cumsum(self.g) - 0.5 * self.g)
        x = np.interp(q, cum, self.x)
        lo, hi = np.full(q.shape, self.x[0] - self.h), np.full(q.shape, self.x[-1] + self.h)
        for _ in range(60):
            f, d = self._cdf_x(x)
            f -= q
            lo, hi = np.where(f < 0, x, lo), np.where(f < 0, hi, x)
            step = np.where(d > 0, f / np.where(d > 0, d, 1), np.inf)
            new = x - step
            new = np.where((new > lo) & (new < hi), new, 0.5 * (lo + hi))
            if np.all(np.abs(new - x) < 1e-10):
                x = new
                break
            x = new
        t = _tau_of(self.model, x)[0]
        small = q <= self.atom  # inside the lumped mass, spread evenly over [bottom, tau[0]]
        bottom = 0.0 if self.model.kind == "log" else self.model.lo
        t[small] = bottom + (self.tau[0] - bottom) * q[small] / max(self.atom, 1e-300)
        return t

    def moment(self, r: int) -> float:
        """E[tau^r] (NaN when the posterior tail makes it infinite)."""
        return float(self.weight @ self.tau**r) if _moment_exists(self.model, r) else math.nan

    def _g(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sinc interpolant of the density on the x scale and its derivative."""
        u = (np.asarray(x, float)[:, None] - self.x) / self.h
        safe = np.where(u == 0, 1.0, u)
        du = np.where(u == 0, 0.0, (np.cos(np.pi * u) - np.sinc(u)) / safe) / self.h
        return (self.g * np.sinc(u)).sum(axis=1), (self.g * du).sum(axis=1)

    def hdi(self, prob: float) -> tuple[float, float]:
        """Shortest interval of probability ``prob`` (tau's density is unimodal here):
        Newton's method on F(b) - F(a) = prob, f(a) = f(b) from the equal-tailed interval,
        unless the density is highest at an end of the support."""
        m = self.model
        eps = 1e-12 * (m.hi - m.lo)  # inside a bounded support
        upper = float(self.quantile([prob])[0])
        if self.logpdf(self.tau[0] if m.kind == "log" else m.lo + eps)[0] >= self.logpdf(upper)[0]:
            return (0.0 if m.kind == "log" else m.lo), upper
        lower = float(self.quantile([1 - prob])[0])
        if m.kind == "logistic" and self.logpdf(m.hi - eps)[0] >= self.logpdf(lower)[0]:
            return lower, m.hi
        x = _x_of(m, self.quantile([(1 - prob) / 2, (1 + prob) / 2]))
        scale = x[1] - x[0]
        for _ in range(50):
            cdf = self._cdf_x(x)[0]
            g, dg = self._g(x)
            dj = np.ones(2) if m.kind == "log" else 1.0 - 2.0 * special.expit(x)
            r = [cdf[1] - cdf[0] - prob, np.diff(_tau_of(m, x)[1] - np.log(g))[0]]
            jac = np.array([[-g[0], g[1]], [dg[0] / g[0] - dj[0], -(dg[1] / g[1] - dj[1])]])
            step = -np.linalg.solve(jac, r)
            x = x + step * min(1.0, 0.25 * scale / max(np.abs(step).sum(), 1e-300))
            if np.abs(step).sum() < 1e-10 * scale:
                break
        if np.all(np.isfinite(x)) and abs(np.diff(self._cdf_x(x)[0])[0] - prob) < 1e-9:
            a, b = _tau_of(m, x)[0]
        else:  # Newton failed: minimise the width over the lower tail probability
            p = optimize.minimize_scalar(lambda p: float(np.diff(self.quantile([p, p + prob]))[0]),
                                         bounds=(0.0, 1 - prob), method="bounded",
                                         options={"xatol": 1e-12}).x
            a, b = self.quantile([p, p + prob])
        return float(a), float(b)


def tau_posterior(yi: Any, vi: Any, prior_set: PriorSet, X: Any = None, names: Sequence[str] = (),
                  *, grid: Quadrature | None = None) -> TauPosterior:
    """Marginal posterior of tau (coefficients integrated out), refined until converged.

    Parameters
    ----------
    yi, vi : array_like
        Effects and their sampling variances (vi > 0).
    prior_set : PriorSet
        Resolved; ``mu`` and ``beta`` priors Normal or Flat.
    X, names : array_like, sequence of str, optional
        Covariates (k x p, no intercept) and their names.
    grid : Quadrature, optional
    """
    m = _model(yi, vi, prior_set, X, names)
    q = grid or Quadrature()
    lo, hi, atom, sigma = _range(m)
    h = q.step or float(np.clip(sigma / 2.5, 1e-3, 0.2))
    prev = _build(m, lo, hi, h, atom)
    before = _check_values(prev)[0]
    for _ in range(q.max_halvings):
        h /= 2.0
        cur = _build(m, lo, hi, h, atom)
        now, scale = _check_values(cur)
        if np.all(np.abs(now - before) <= q.tol * scale):
            return cur
        prev, before = cur, now
    return TauPosterior(**{**prev.__dict__, "converged": False})


def _range(m: _Model) -> tuple[float, float, bool, float]:
    """Coarse scan: the x range where log g is within _DROP of its maximum, whether the
    lower end keeps a lumped mass, and the posterior's width on the x scale."""
    t0 = 1e-8 * math.sqrt(m.v.min())
    if m.kind == "log":  # up to tau = e^115 at most, where tau^2 is still a finite double
        x0, x1 = math.log(t0), min(math.log(t0) + 120.0, 115.0)
    else:
        x0 = math.log(t0 / (m.hi - m.lo)) if m.lo == 0 else -50.0
        x1 = 50.0
    xs = np.arange(x0, x1, 0.5)
    lg = _log_g(m, xs)
    while m.kind == "log" and lg[-1] > lg.max() - _DROP:
        if xs[-1] >= 114.5:
            raise InputError(Problem(f"prior set {m.prior_set.name!r}: the posterior of tau has "
                                     "too heavy a tail to integrate", column="tau"))
        more = np.arange(xs[-1] + 0.5, 115.0, 0.5)
        xs, lg = np.concatenate([xs, more]), np.concatenate([lg, _log_g(m, more)])
    i = int(np.argmax(lg))
    keep = np.flatnonzero(lg >= lg[i] - _DROP)
    curv = (lg[i - 1] - 2 * lg[i] + lg[i + 1]) / 0.25 if 0 < i < xs.size - 1 else 0.0
    width = (xs[keep[-1]] - xs[keep[0]]) / 12.0
    sigma = min(width, 1.0 / math.sqrt(-curv)) if curv < 0 else width
    atom = keep[0] == 0
    return float(xs[max(keep[0] - 1, 0)]), float(xs[min(keep[-1] + 1, xs.size - 1)]), atom, sigma


def _build(m: _Model, lo: float, hi: float, h: float, atom: bool) -> TauPosterior:
    x = lo + h * np.arange(int(math.ceil((hi - lo) / h)) + 1)
    t, logjac = _tau_of(m, x)
    ll, b, cov = _conditional(m, t)
    lg = ll + m.prior_set.tau_logpdf(t) + logjac
    with np.errstate(divide="ignore"):
        la = float(np.log(m.prior_set.tau_cdf(t[:1]))[0] + ll[0]) if atom else -np.inf
    top = max(lg.max(), la)
    g, a = np.exp(lg - top), math.exp(la - top)
    z = a + h * g.sum()
    w = h * g / z
    w[0] += a / z
    return TauPosterior(m, x, t, h, g / z, a / z, w, b, cov, top + math.log(z))


def _check_values(tp: TauPosterior) -> tuple[np.ndarray, np.ndarray]:
    """Tau's 2.5/50/97.5% quantiles and the mean and SD of mu at the covariates' means (when
    finite), each with its scale."""
    qs = tp.quantile([0.025, 0.5, 0.975])
    vals, scales = [*qs], [qs[2] - qs[0]] * 3
    if tp.model.p0[0] > 0 or _moment_exists(tp.model, 2):
        w, mu, var = tp.weight, tp.b_mean[:, 0], tp.b_cov[:, 0, 0]
        mean = w @ mu
        sd = math.sqrt(max(w @ (var + mu**2) - mean**2, 0.0))
        vals, scales = vals + [mean, sd], scales + [sd, sd]
    return np.array(vals), np.array(scales)


def coefficients_given_tau(yi: Any, vi: Any, tau: float, prior_set: PriorSet, X: Any = None,
                           names: Sequence[str] = ()) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Posterior mean and covariance of (mu, slopes per unit, [mu_at_mean]) given tau.

    With flat priors these are the weighted least-squares estimates with weights
    1 / (vi + tau^2) (metafor's ``rma(yi, vi, mods, tau2 = tau^2)``).
    """
    m = _model(yi, vi, prior_set, X, names)
    _, b, cov = _conditional(m, np.array([float(tau)]))
    tmat, labels = _report_map(m)
    return labels, tmat @ b[0], tmat @ cov[0] @ tmat.T


def _report_map(m: _Model) -> tuple[np.ndarray, tuple[str, ...]]:
    """Matrix from b = (mu at the means, per-SD slopes) to (mu, per-unit slopes, mu_at_mean)."""
    if m.std is None:
        return np.eye(1), ("mu",)
    p = m.d.shape[1]
    tmat = np.zeros((p + 1, p))
    tmat[0, 0], tmat[0, 1:] = 1.0, -m.std.centre / m.std.scale
    tmat[1:p, 1:] = np.diag(1.0 / m.std.scale)
    tmat[p, 0] = 1.0
    return tmat, ("mu", *m.std.names, "mu_at_mean")


def mixture_cdf(x: np.ndarray, w: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """CDF at x[i] of row i of a mixture of normals (weights w, rows of mean and sd)."""
    return special.ndtr((np.asarray(x, float)[:, None] - mean) / sd) @ w


def _mixture_pdf(x: np.ndarray, w: np.ndarray, mean: np.ndarray, sd: np.ndarray):
    z = (x[:, None] - mean) / sd
    phi = np.exp(-0.5 * z**2) / (math.sqrt(2 * math.pi) * sd)
    return phi @ w, (-phi * z / sd) @ w


def mixture_quantile(q: Any, w: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Quantile q (scalar or one per row) of each row's mixture: Newton's method from the
    normal approximation, kept inside a bracket that always holds the root."""
    q = np.broadcast_to(np.asarray(q, float), mean.shape[:1])
    zq = special.ndtri(q)[:, None]
    on = w > 0
    ends = (mean + sd * zq)[:, on]  # F <= q left of every component's own quantile
    lo, hi = ends.min(axis=1), ends.max(axis=1)
    m1 = mean @ w
    spread = np.sqrt(np.maximum((sd**2 + mean**2) @ w - m1**2, 0.0))
    x = np.clip(m1 + spread * zq[:, 0], lo, hi)
    tol = 1e-12 * (np.abs(x) + spread)
    for _ in range(100):
        f = mixture_cdf(x, w, mean, sd) - q
        d = _mixture_pdf(x, w, mean, sd)[0]
        lo, hi = np.where(f < 0, x, lo), np.where(f < 0, hi, x)
        new = x - f / np.where(d > 0, d, np.inf)
        new = np.where((new >= lo) & (new <= hi), new, 0.5 * (lo + hi))
        done = np.abs(new - x) <= tol
        x = new
        if done.all():
            break
    return x


def mixture_hdi(prob: float, w: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Shortest interval (rows x 2): Newton on F(b) - F(a) = prob, f(a) = f(b) from the
    equal-tailed interval; a row that does not converge is minimised directly."""
    a = mixture_quantile((1 - prob) / 2, w, mean, sd)
    b = mixture_quantile((1 + prob) / 2, w, mean, sd)
    scale = b - a
    for _ in range(50):
        fa, dfa = _mixture_pdf(a, w, mean, sd)
        fb, dfb = _mixture_pdf(b, w, mean, sd)
        r1 = mixture_cdf(b, w, mean, sd) - mixture_cdf(a, w, mean, sd) - prob
        r2 = np.log(fa) - np.log(fb)
        j11, j12, j21, j22 = -fa, fb, dfa / fa, -dfb / fb
        det = j11 * j22 - j12 * j21
        da = -(j22 * r1 - j12 * r2) / det
        db = -(-j21 * r1 + j11 * r2) / det
        shrink = np.minimum(1.0, 0.25 * scale / np.maximum(np.abs(da) + np.abs(db), 1e-300))
        a, b = a + shrink * da, b + shrink * db
        if np.all(np.abs(da) + np.abs(db) < 1e-11 * scale):
            break
    out = np.column_stack([a, b])
    for i in np.flatnonzero(~np.isfinite(out).all(axis=1) | (np.abs(da) + np.abs(db) >= 1e-8 * scale)):
        row = (w, mean[i : i + 1], sd[i : i + 1])
        res = optimize.minimize_scalar(
            lambda p: float(np.diff([mixture_quantile(p, *row)[0], mixture_quantile(p + prob, *row)[0]])[0]),
            bounds=(1e-12, 1 - prob - 1e-12), method="bounded", options={"xatol": 1e-12})
        out[i] = [mixture_quantile(res.x, *row)[0], mixture_quantile(res.x + prob, *row)[0]]
    return out


def exact_posterior(yi: Any, vi: Any, prior_set: PriorSet, X: Any = None, names: Sequence[str] = (),
                    *, ci_prob: float = CI_LEVEL, mcid: float | None = None, labels: Any = None,
                    grid: Quadrature | None = None) -> BayesResult:
    """Exact posterior of the normal-normal model (meta-regression with ``X``).

    Parameters
    ----------
    yi, vi : array_like
        Effects and sampling variances.
    prior_set : PriorSet
        Resolved (:meth:`PriorSet.resolve`); Normal or Flat priors on ``mu`` and ``beta``.
    X, names : optional
        Covariate matrix (k x p, as given, no intercept) and the names of its columns.
    ci_prob : float
        Probability of the equal-tailed and shortest intervals.
    mcid : float, optional
        Minimal clinically important difference (> 0): adds P(mu < -mcid).
    labels : sequence of str or DataFrame with ``study`` and ``comparison``, optional
        Labels of the comparisons in ``study_effects``.
    grid : Quadrature, optional

    Returns
    -------
    BayesResult
        ``engine="exact"``; parameters ``mu``, ``tau``, the slopes, ``theta_new`` and, with
        covariates, ``mu_at_mean``; ESS and R-hat are NaN.
    """
    if mcid is not None and not mcid > 0:
        raise InputError(Problem(f"mcid must be > 0, not {mcid}", column="mcid"))
    full = tau_posterior(yi, vi, prior_set, X, names, grid=grid)
    tp = _pruned(full)  # for the mixtures only: its tau grid no longer matches x and g
    m, w = tp.model, tp.weight
    qs = ((1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2)
    tmat, coef = _report_map(m)
    means = np.column_stack([tp.b_mean @ tmat.T, tp.b_mean[:, 0]]).T  # (quantities, nodes)
    var = np.einsum("qa,jab,qb->qj", tmat, tp.b_cov, tmat)
    sds = np.sqrt(np.vstack([var, tp.b_cov[:, 0, 0] + tp.tau**2]))
    mix = (*coef, "theta_new")
    mean, sd, quant = _summaries(w, means, sds, qs)
    # Given tau, a quantity loading on a flat-prior coefficient has variance ~ tau^2.
    grows = np.append(np.abs(tmat[:, m.p0 == 0]).sum(axis=1) > 0, True)
    sd = np.where(grows & (not _moment_exists(m, 2)), np.nan, sd)
    hdi = mixture_hdi(ci_prob, w, means, sds)
    rows = {n: [mean[i], sd[i], quant[i, 1], quant[i, 0], quant[i, 2], *hdi[i]] for i, n in enumerate(mix)}
    tq, t1, t2 = full.quantile(qs), full.moment(1), full.moment(2)
    rows["tau"] = [t1, math.sqrt(max(t2 - t1**2, 0.0)) if np.isfinite(t2) else np.nan,
                   tq[1], tq[0], tq[2], *full.hdi(ci_prob)]
    order = ["mu", "tau", *coef[1:-1], "theta_new"] + (["mu_at_mean"] if m.std else [])
    table = pd.DataFrame([rows[n] + [np.nan] * 3 for n in order], columns=list(PARAMETER_FIELDS),
                         index=pd.Index(order, dtype=object))
    probs: dict[str, float] = {}
    cuts = np.array([0.0] + ([-mcid] if mcid is not None else []))
    for n in ("mu", "mu_at_mean") if m.std else ("mu",):
        i = mix.index(n)
        cdf = mixture_cdf(cuts, w, np.repeat(means[i:i + 1], cuts.size, 0), np.repeat(sds[i:i + 1], cuts.size, 0))
        probs[f"P({n} < 0)"], probs[f"P({n} > 0)"] = float(cdf[0]), float(1 - cdf[0])
        if mcid is not None:
            probs[f"P({n} < {-mcid:g})"] = float(cdf[1])
    notes = [text for text, on in (
        ("k = 1: tau is prior-driven (one comparison cannot inform the between-study SD)", m.y.size == 1),
        ("the posterior mean of tau is infinite (heavy tail): reported as null", not _moment_exists(m, 1)),
        ("the posterior SD of tau is infinite (heavy tail): reported as null", not _moment_exists(m, 2)),
        ("quadrature did not reach its tolerance; results may be inaccurate", not full.converged),
        ("priors on mu and slopes apply to centred covariates, slopes per covariate SD", m.std is not None),
    ) if on]
    return BayesResult(model="re", prior=prior_set.name, engine="exact", k=int(m.y.size),
                       parameters=table, verdict=Verdict(passed=True, reasons=("exact",)),
                       prior_spec=prior_set.to_dict(), covariates=tuple(names), probabilities=probs,
                       study_effects=_study_effects(tp, qs, labels), ci_prob=ci_prob, notes=tuple(notes))


def _pruned(tp: TauPosterior) -> TauPosterior:
    """The nodes that carry weight (> 1e-16 of the largest), for the mixtures."""
    on = tp.weight > 1e-16 * tp.weight.max()
    return TauPosterior(**{**tp.__dict__, "tau": tp.tau[on], "weight": tp.weight[on],
                           "b_mean": tp.b_mean[on], "b_cov": tp.b_cov[on]})


def _summaries(w: np.ndarray, means: np.ndarray, sds: np.ndarray, qs: Sequence[float]):
    """Mean, SD and quantiles ``qs`` (columns) of each row's mixture."""
    mean = means @ w
    sd = np.sqrt(np.maximum((sds**2 + means**2) @ w - mean**2, 0.0))
    return mean, sd, np.column_stack([mixture_quantile(p, w, means, sds) for p in qs])


def _study_effects(tp: TauPosterior, qs: tuple[float, ...], labels: Any) -> pd.DataFrame:
    """Shrunken effect of each comparison: given tau, N(s y_i + (1 - s) d_i'b,
    s v_i + (1 - s)^2 d_i'V d_i) with s = tau^2 / (tau^2 + v_i); mixed over tau."""
    m = tp.model
    s = tp.tau[:, None] ** 2 / (tp.tau[:, None] ** 2 + m.v)  # (nodes, k)
    fvar = np.einsum("ka,jab,kb->jk", m.d, tp.b_cov, m.d)
    means = (s * m.y + (1 - s) * (tp.b_mean @ m.d.T)).T
    sds = np.sqrt(s * m.v + (1 - s) ** 2 * fvar).T
    mean, sd, quant = _summaries(tp.weight, means, sds, (qs[0], qs[2]))
    if isinstance(labels, pd.DataFrame):
        study, comp = labels["study"].astype(str).tolist(), labels["comparison"].astype(str).tolist()
    else:
        comp = [str(x) for x in labels] if labels is not None else [str(i + 1) for i in range(m.y.size)]
        study = comp
    return pd.DataFrame({"comparison": comp, "study": study, "yi": m.y, "sei": np.sqrt(m.v),
                         "mean": mean, "sd": sd, "eti_low": quant[:, 0], "eti_high": quant[:, 1]})

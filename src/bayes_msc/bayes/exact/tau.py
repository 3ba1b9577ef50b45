"""The marginal posterior of tau by quadrature (the coefficients integrated out).

Quadrature: the trapezoid rule on x = log tau (a logistic scale for a Uniform tau prior)
converges geometrically for these analytic integrands; tau's distribution function is
the exact integral of the sinc interpolant of the density (sine integral). The mass at
tau < t0 = 1e-8 min(sqrt v_i), where the likelihood no longer changes, is lumped at t0.
The step is halved until tau's quantiles and the mean and SD of mu change by < tol
(relative to their spread). The model is in :mod:`bayes_msc.bayes.exact.model`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special

from bayes_msc.bayes.exact.model import (
    ExactModel,
    conditional,
    log_g,
    make_model,
    moment_exists,
    tau_of,
    x_of,
)
from bayes_msc.errors import InputError, Problem
from bayes_msc.priors import PriorSet

MAX_NODES = 5_000
"""Most quadrature nodes of tau's grid (a finer grid is not converged: its note says so)."""
_DROP = 40.0  # log-density drop below the mode where the range is cut (e^-40 ~ 4e-18)


@dataclass(frozen=True)
class Quadrature:
    """Quadrature settings: first step on the transformed scale (None: from the posterior's
    width, at most 0.2), tolerance of the step-halving check, most halvings."""

    step: float | None = None
    tol: float = 1e-6
    max_halvings: int = 6


@dataclass(frozen=True, eq=False)
class TauPosterior:
    """The posterior of tau on a quadrature grid, with b | tau at every node.

    ``weight`` (sums to 1) are the posterior masses at ``tau`` (node 0 holds the lumped
    mass ``atom`` of tau < tau[0]); ``g`` is the normalised density on the ``x`` scale.
    """

    model: ExactModel
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

    def logpdf(self, t: ArrayLike) -> np.ndarray:
        t = np.atleast_1d(np.asarray(t, float))
        out = np.full(t.shape, -np.inf)
        ok = (t > self.model.lo) & (t < self.model.hi)
        if ok.any():
            out[ok] = conditional(self.model, t[ok])[0] + self.model.prior_set.tau_logpdf(t[ok]) - self.log_norm
        return out

    def _cdf_x(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = (np.asarray(x, float)[:, None] - self.x) / self.h
        si = special.sici(np.pi * u)[0]
        return (self.atom + self.h * (self.g * (0.5 + si / np.pi)).sum(axis=1), (self.g * np.sinc(u)).sum(axis=1))

    def cdf(self, t: ArrayLike) -> np.ndarray:
        """P(tau <= t)."""
        t = np.atleast_1d(np.asarray(t, float))
        bottom = 0.0 if self.model.kind == "log" else self.model.lo
        out = np.ones(t.shape)
        inside = (t >= self.tau[0]) & (t < self.model.hi)
        x = np.maximum(x_of(self.model, t[inside]), self.x[0])
        out[inside] = np.clip(self._cdf_x(x)[0], 0, 1)
        low = t < self.tau[0]  # the lumped mass, spread evenly over [bottom, tau[0]]
        out[low] = self.atom * np.clip((t[low] - bottom) / max(self.tau[0] - bottom, 1e-300), 0, 1)
        return out

    def quantile(self, q: ArrayLike) -> np.ndarray:
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
        t = tau_of(self.model, x)[0]
        small = q <= self.atom  # inside the lumped mass, spread evenly over [bottom, tau[0]]
        bottom = 0.0 if self.model.kind == "log" else self.model.lo
        t[small] = bottom + (self.tau[0] - bottom) * q[small] / max(self.atom, 1e-300)
        return t

    def moment(self, r: int) -> float:
        """E[tau^r] (NaN when the posterior tail makes it infinite)."""
        return float(self.weight @ self.tau**r) if moment_exists(self.model, r) else math.nan

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
        x = x_of(m, self.quantile([(1 - prob) / 2, (1 + prob) / 2]))
        scale = x[1] - x[0]
        for _ in range(50):
            cdf = self._cdf_x(x)[0]
            g, dg = self._g(x)
            dj = np.ones(2) if m.kind == "log" else 1.0 - 2.0 * special.expit(x)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = [cdf[1] - cdf[0] - prob, np.diff(tau_of(m, x)[1] - np.log(g))[0]]
                jac = np.array([[-g[0], g[1]], [dg[0] / g[0] - dj[0], -(dg[1] / g[1] - dj[1])]])
            if not (np.all(np.isfinite(jac)) and np.all(np.isfinite(r))):
                break  # the density vanishes at an end (all mass at the lower end): the fallback below
            try:
                step = -np.linalg.solve(jac, r)
            except np.linalg.LinAlgError:
                break
            x = x + step * min(1.0, 0.25 * scale / max(np.abs(step).sum(), 1e-300))
            if np.abs(step).sum() < 1e-10 * scale:
                break
        if np.all(np.isfinite(x)) and abs(np.diff(self._cdf_x(x)[0])[0] - prob) < 1e-9:
            a, b = tau_of(m, x)[0]
        else:  # Newton failed: minimise the width over the lower tail probability
            p = optimize.minimize_scalar(
                lambda p: float(np.diff(self.quantile([p, p + prob]))[0]),
                bounds=(0.0, 1 - prob),
                method="bounded",
                options={"xatol": 1e-12},
            ).x
            a, b = self.quantile([p, p + prob])
        return float(a), float(b)


def tau_posterior(
    yi: ArrayLike,
    vi: ArrayLike,
    prior_set: PriorSet,
    X: ArrayLike | None = None,
    names: Sequence[str] = (),
    *,
    grid: Quadrature | None = None,
) -> TauPosterior:
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
    return quadrature(make_model(yi, vi, prior_set, X, names), grid)


def quadrature(m: ExactModel, grid: Quadrature | None = None) -> TauPosterior:
    """Marginal posterior of tau of the model ``m`` (see :func:`tau_posterior`)."""
    q = grid or Quadrature()
    lo, hi, atom, sigma = _range(m)
    # At most MAX_NODES nodes: a sharp peak inside a wide range (priors far from the data)
    # would otherwise ask for millions, and minutes per fit; such a grid is flagged instead.
    h = max(q.step or float(np.clip(sigma / 2.5, 1e-3, 0.2)), (hi - lo) / MAX_NODES)
    prev = _build(m, lo, hi, h, atom)
    before = _check_values(prev)[0]
    for _ in range(q.max_halvings):
        if (hi - lo) / (h / 2.0) > MAX_NODES:
            break
        h /= 2.0
        cur = _build(m, lo, hi, h, atom)
        now, scale = _check_values(cur)
        if np.all(np.abs(now - before) <= q.tol * scale):
            return cur
        prev, before = cur, now
    return TauPosterior(**{**prev.__dict__, "converged": False})


def _range(m: ExactModel) -> tuple[float, float, bool, float]:
    """Coarse scan: the x range where log g is within _DROP of its maximum, whether the
    lower end keeps a lumped mass, and the posterior's width on the x scale."""
    t0 = 1e-8 * math.sqrt(m.v.min())
    if m.kind == "log":  # up to tau = e^115 at most, where tau^2 is still a finite double
        x0, x1 = math.log(t0), min(math.log(t0) + 120.0, 115.0)
    else:
        x0 = math.log(t0 / (m.hi - m.lo)) if m.lo == 0 else -50.0
        x1 = 50.0
    xs = np.arange(x0, x1, 0.5)
    lg = log_g(m, xs)
    while m.kind == "log" and lg[-1] > lg.max() - _DROP:
        if xs[-1] >= 114.5:
            raise InputError(
                Problem(
                    f"prior set {m.prior_set.name!r}: the posterior of tau has too heavy a tail to integrate",
                    key="tau",
                )
            )
        more = np.arange(xs[-1] + 0.5, 115.0, 0.5)
        xs, lg = np.concatenate([xs, more]), np.concatenate([lg, log_g(m, more)])
    i = int(np.argmax(lg))
    keep = np.flatnonzero(lg >= lg[i] - _DROP)
    curv = (lg[i - 1] - 2 * lg[i] + lg[i + 1]) / 0.25 if 0 < i < xs.size - 1 else 0.0
    width = (xs[keep[-1]] - xs[keep[0]]) / 12.0
    sigma = min(width, 1.0 / math.sqrt(-curv)) if curv < 0 else width
    atom = keep[0] == 0
    return float(xs[max(keep[0] - 1, 0)]), float(xs[min(keep[-1] + 1, xs.size - 1)]), atom, sigma


def _build(m: ExactModel, lo: float, hi: float, h: float, atom: bool) -> TauPosterior:
    x = lo + h * np.arange(math.ceil((hi - lo) / h) + 1)
    t, logjac = tau_of(m, x)
    ll, b, cov = conditional(m, t)
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
    """Tau's 2.5/50/97.5% quantiles and the mean and SD of mu at the covariates' reference values (when
    finite), each with its scale."""
    qs = tp.quantile([0.025, 0.5, 0.975])
    vals, scales = [*qs], [qs[2] - qs[0]] * 3
    if tp.model.p0[0] > 0 or moment_exists(tp.model, 2):
        w, mu, var = tp.weight, tp.b_mean[:, 0], tp.b_cov[:, 0, 0]
        mean = w @ mu
        sd = math.sqrt(max(w @ (var + mu**2) - mean**2, 0.0))
        vals, scales = vals + [mean, sd], scales + [sd, sd]
    return np.array(vals), np.array(scales)

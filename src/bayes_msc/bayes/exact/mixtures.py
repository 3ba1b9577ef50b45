"""Mixtures of normals with shared weights: distribution function, quantiles, shortest
intervals and summaries, row by row (each row one quantity, each column one component).

The exact engine's posteriors of mu, the slopes, theta_new and the study effects are such
mixtures over tau's quadrature nodes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special


def mixture_cdf(x: np.ndarray, w: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """CDF at x[i] of row i of a mixture of normals (weights w, rows of mean and sd)."""
    return special.ndtr((np.asarray(x, float)[:, None] - mean) / sd) @ w


def mixture_pdf(x: ArrayLike, w: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Density at x[i, ...] of row i's mixture (x: one point or one array of points per row)."""
    x = np.asarray(x, float)
    xs = x.reshape(mean.shape[0], -1)[:, :, None]  # rows x points x components
    inv = 1.0 / sd[:, None, :]
    z = (xs - mean[:, None, :]) * inv
    # In place, and w / sd folded into one vector: this is the costly step of a density grid.
    np.square(z, out=z)
    z *= -0.5
    np.exp(z, out=z)
    return np.einsum("rpc,rc->rp", z, w * inv[:, 0, :]).reshape(x.shape) / math.sqrt(2 * math.pi)


def _mixture_pdf(x: np.ndarray, w: np.ndarray, mean: np.ndarray, sd: np.ndarray):
    """Density at x[i] of row i's mixture and its derivative (for Newton's method)."""
    z = (x[:, None] - mean) / sd
    phi = np.exp(-0.5 * z**2) / (math.sqrt(2 * math.pi) * sd)
    return phi @ w, (-phi * z / sd) @ w


def mixture_quantile(q: ArrayLike, w: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
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
            lambda p, row=row: float(np.diff([mixture_quantile(p, *row)[0], mixture_quantile(p + prob, *row)[0]])[0]),
            bounds=(1e-12, 1 - prob - 1e-12),
            method="bounded",
            options={"xatol": 1e-12},
        )
        out[i] = [mixture_quantile(res.x, *row)[0], mixture_quantile(res.x + prob, *row)[0]]
    return out


def mixture_summaries(
    w: np.ndarray, means: np.ndarray, sds: np.ndarray, qs: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, SD and quantiles ``qs`` (columns) of each row's mixture."""
    mean = means @ w
    sd = np.sqrt(np.maximum((sds**2 + means**2) @ w - mean**2, 0.0))
    return mean, sd, np.column_stack([mixture_quantile(p, w, means, sds) for p in qs])

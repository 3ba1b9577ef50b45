"""Independent draws from an exact posterior, for what needs draws: the fit's ArviZ
DataTree (:mod:`bayes_msc.bayes.exact.tree`), hence ArviZ, figures, posterior files and
power-scaling prior sensitivity (:mod:`bayes_msc.bayes.compare`).

tau is drawn by inverting its distribution function (:func:`cdf_table`, interpolated at a
quarter of the quadrature step, far below Monte Carlo error), the coefficients ``b`` from their
normal given tau, and each random effect from its normal given tau and ``b``
(:mod:`bayes_msc.bayes.exact.posterior`). The draws are independent, so the importance-sampling
estimates that use them have no autocorrelation to correct for.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from bayes_msc.bayes.exact.model import conditional, tau_of
from bayes_msc.bayes.exact.tau import TauPosterior

SUBSTEPS = 4
"""tau's distribution function is tabulated at steps h / SUBSTEPS of the quadrature scale."""


def cdf_table(tp: TauPosterior, substeps: int = SUBSTEPS) -> tuple[np.ndarray, np.ndarray]:
    """(x, F): tau's distribution function on the quadrature scale at steps ``h / substeps``
    from its first node, the exact integral of the sinc interpolant of its density (as
    :meth:`TauPosterior.cdf`): F(x_j + o h) = atom + h sum_i g_i (1/2 + Si(pi (j - i + o)) / pi),
    a convolution per offset o. (A plain cumulative sum, the trapezoid rule up to each node,
    is only second-order accurate there: it put the draws' outer quantiles of tau about a
    third of a Monte Carlo SE too high at 4000 draws.)"""
    size = tp.x.size
    lags = np.arange(-(size - 1), size)
    x = np.empty((size, substeps))
    cdf = np.empty((size, substeps))
    for k in range(substeps):
        o = k / substeps
        weights = 0.5 + special.sici(np.pi * (lags + o))[0] / np.pi
        cdf[:, k] = tp.atom + tp.h * np.convolve(tp.g, weights)[size - 1 : 2 * size - 1]
        x[:, k] = tp.x + o * tp.h
    return x.ravel(), np.maximum.accumulate(np.clip(cdf.ravel(), 0.0, 1.0))


def draw(tp: TauPosterior, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` independent draws of tau, the coefficients ``b`` (mu at the covariates'
    reference values, per-SD slopes, nuisance baselines) and the random effects ``u``.

    Returns
    -------
    dict
        ``tau`` (n,), ``b`` (n, coefficients), ``u`` (n, comparisons): the random effect of
        each comparison around its mean ``c'b``.
    """
    m, rng = tp.model, np.random.default_rng(seed)
    grid, cdf = cdf_table(tp)
    q = rng.uniform(size=n)
    tau = tau_of(m, np.interp(q, cdf, grid))[0]
    # the lumped mass below the grid, spread evenly over [bottom, tau[0]] as TauPosterior.cdf does
    bottom = 0.0 if m.kind == "log" else m.lo
    tau = np.where(q <= tp.atom, bottom + (tp.tau[0] - bottom) * q / max(tp.atom, 1e-300), tau)
    _, b_mean, b_cov = conditional(m, tau)
    chol = np.linalg.cholesky(b_cov)
    b = b_mean + np.einsum("nab,nb->na", chol, rng.standard_normal(b_mean.shape))
    x, v = m.d[m.rows], m.v[m.rows]
    s = tau[:, None] ** 2 / (tau[:, None] ** 2 + v)
    resid = m.y[m.rows] - b @ x.T  # observation minus its mean without the random effect
    u = s * resid + np.sqrt(s * v) * rng.standard_normal(s.shape)
    return {"tau": tau, "b": b, "u": u}

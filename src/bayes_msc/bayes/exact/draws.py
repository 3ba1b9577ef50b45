"""Independent draws from an exact posterior, for what needs draws: the fit's ArviZ
DataTree (:mod:`bayes_msc.bayes.exact.tree`), hence ArviZ, figures, posterior files and
power-scaling prior sensitivity (:mod:`bayes_msc.bayes.compare`).

tau is drawn by inverting its distribution function (interpolated on the quadrature grid,
which resolves it to far below Monte Carlo error), the coefficients ``b`` from their
normal given tau, and each random effect from its normal given tau and ``b``
(:mod:`bayes_msc.bayes.exact.posterior`). The draws are independent, so the importance-sampling
estimates that use them have no autocorrelation to correct for.
"""

from __future__ import annotations

import numpy as np

from bayes_msc.bayes.exact.model import conditional, tau_of
from bayes_msc.bayes.exact.tau import TauPosterior


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
    cum = tp.atom + tp.h * (np.cumsum(tp.g) - 0.5 * tp.g)
    q = rng.uniform(size=n)
    tau = tau_of(m, np.interp(q, cum, tp.x))[0]
    # the lumped mass below the grid, spread evenly over [0, tau[0]] as TauPosterior.cdf does
    tau = np.where(q <= tp.atom, tp.tau[0] * q / max(tp.atom, 1e-300), tau)
    _, b_mean, b_cov = conditional(m, tau)
    chol = np.linalg.cholesky(b_cov)
    b = b_mean + np.einsum("nab,nb->na", chol, rng.standard_normal(b_mean.shape))
    x, v = m.d[m.rows], m.v[m.rows]
    s = tau[:, None] ** 2 / (tau[:, None] ** 2 + v)
    resid = m.y[m.rows] - b @ x.T  # observation minus its mean without the random effect
    u = s * resid + np.sqrt(s * v) * rng.standard_normal(s.shape)
    return {"tau": tau, "b": b, "u": u}

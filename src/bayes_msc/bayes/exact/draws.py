"""Independent draws from an exact posterior, for what needs draws: power-scaling
prior sensitivity (:mod:`bayes_msc.bayes.compare`).

tau is drawn by inverting its distribution function (interpolated on the quadrature grid,
which resolves it to far below Monte Carlo error), the coefficients ``b`` from their
normal given tau, and each random effect from its normal given tau and ``b``
(:mod:`bayes_msc.bayes.exact.posterior`). The draws are independent, so the importance-sampling
estimates that use them have no autocorrelation to correct for.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from bayes_msc.bayes.exact.model import conditional, tau_of
from bayes_msc.bayes.exact.tau import TauPosterior

if TYPE_CHECKING:
    import xarray as xr

_LOG_2PI = math.log(2.0 * math.pi)


def draw(tp: TauPosterior, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` independent draws of tau, the coefficients ``b`` (mu at the covariates' means,
    per-SD slopes, nuisance baselines) and the random effects ``u``.

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


def sensitivity_tree(tp: TauPosterior, chains: int = 4, draws: int = 1000, seed: int = 0) -> xr.DataTree:
    """A DataTree for ArviZ's ``psense``: posterior (``mu`` or ``mu_at_mean``, ``tau``),
    ``log_prior`` (mu, tau or log_tau2_smd, per-SD slopes; as the MCMC engine's) and the
    pointwise ``log_likelihood`` of the observations given the random effects."""
    import xarray as xr

    m, ps = tp.model, tp.model.prior_set
    d = draw(tp, chains * draws, seed)
    tau, b, u = d["tau"], d["b"], d["u"]
    shape = (chains, draws)
    mu_name = "mu_at_mean" if m.std is not None else "mu"
    dims = ("chain", "draw")
    post = {mu_name: (dims, b[:, 0].reshape(shape)), "tau": (dims, tau.reshape(shape))}
    prior: dict[str, tuple[tuple[str, ...], np.ndarray]] = {"mu": (dims, ps.mu.logpdf(b[:, 0]).reshape(shape))}
    if ps.tau is not None:
        prior["tau"] = (dims, ps.tau.logpdf(tau).reshape(shape))
    else:
        log_tau2, osd = ps.log_tau2_smd_prior()
        with np.errstate(divide="ignore"):
            lt = 2.0 * np.log(tau / osd)
        prior["log_tau2_smd"] = (dims, log_tau2.logpdf(lt).reshape(shape))
    if m.std is not None:
        slopes = b[:, 1 : m.n_coef]
        prior["beta"] = ((*dims, "term"), ps.beta_prior().logpdf(slopes).reshape(*shape, -1))
    mean = b @ m.d.T
    eff = np.zeros((b.shape[0], m.y.size))
    eff[:, m.rows] = u
    resid = m.y - mean - eff * m.rand
    ll = -0.5 * (_LOG_2PI + np.log(m.v) + resid**2 / m.v)
    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    groups = {
        "posterior": xr.Dataset(post, coords=coords),
        "log_prior": xr.Dataset(prior, coords=coords),
        "log_likelihood": xr.Dataset({"y": ((*dims, "observation"), ll.reshape(*shape, -1))}, coords=coords),
    }
    return xr.DataTree.from_dict(groups)

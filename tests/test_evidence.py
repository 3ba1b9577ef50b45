"""Bayes factors and posterior predictive p-values (bayesmeta's bayesfactor and pppvalue).

References: an independent numerical integration with scipy (``quad`` over tau of the
likelihood with mu integrated out in closed form as a multivariate normal, the prior
densities from scipy.stats), on the published dat.normand1999 (from
tests/reference/toolbox_metafor.json) and the SIMULATED bundled VAS cells. The MCMC
Savage-Dickey estimates must agree with the exact ones within their Monte Carlo error.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

import bayes_msc as bm
from bayes_msc.errors import InputError
from test_toolbox import table


def _tau_prior(ps):
    p = ps.tau.filled()
    if ps.tau.dist == "HalfNormal":
        return stats.halfnorm(scale=p["sigma"]).pdf, math.inf
    assert ps.tau.dist == "Uniform" and p["lower"] == 0
    return stats.uniform(0, p["upper"]).pdf, p["upper"]


def independent_bf(yi, vi, ps):
    """BF01 for tau = 0 and mu = 0 by quadrature, written without the package's engine."""
    m0, s0 = ps.mu.filled()["mu"], ps.mu.filled()["sigma"]
    k = len(yi)
    ones = np.ones((k, 1))

    def log_lik(tau, mu0=None):  # p(y | tau) with mu ~ N(m0, s0^2) integrated, or at mu = mu0
        cov = np.diag(vi + tau**2)
        if mu0 is None:
            return stats.multivariate_normal.logpdf(yi, m0 * np.ones(k), cov + s0**2 * ones @ ones.T)
        return stats.multivariate_normal.logpdf(yi, mu0 * np.ones(k), cov)

    prior, upper = _tau_prior(ps)
    shift = max(log_lik(t) for t in np.linspace(0, 5 * np.sqrt(np.var(yi)) + 1, 200))

    def integral(f):
        pts = np.sqrt(np.var(yi)) * np.array([0.1, 0.5, 1, 2, 4])
        pts = pts[pts < upper]
        a = integrate.quad(
            f, 0, upper if math.isfinite(upper) else pts[-1], points=pts[:-1], limit=500, epsabs=0, epsrel=1e-10
        )[0]
        if not math.isfinite(upper):
            a += integrate.quad(f, pts[-1], math.inf, limit=500, epsabs=0, epsrel=1e-10)[0]
        return a

    marg = integral(lambda t: math.exp(log_lik(t) - shift) * prior(t))
    bf_tau = math.exp(log_lik(0.0) - shift) / marg
    bf_mu = integral(lambda t: math.exp(log_lik(t, 0.0) - shift) * prior(t)) / marg
    return {"tau=0": bf_tau, "mu=0": bf_mu}


CELLS = [("normand1999", None), ("simulated", 3), ("simulated", 12)]


@pytest.mark.parametrize("prior", ["weakly_informative", "vague"])
@pytest.mark.parametrize(("name", "month"), CELLS)
def test_exact_bayes_factors_equal_an_independent_integration(name, month, prior):
    t = table(name) if month is None else bm.effect_table("data/msc_knee_oa_simulated", "vas", month)
    res = bm.fit(t, prior=prior)
    assert res.engine == "exact"
    bf = bm.bayes_factors(res)
    want = independent_bf(t.yi, t.vi, res.prior_set)
    for h in ("mu=0", "tau=0"):
        assert bf.bf01[h] == pytest.approx(want[h], rel=1e-4), h
    assert bf.method == "exact" and bf.mcse == {"mu=0": 0.0, "tau=0": 0.0}


def test_bayes_factors_say_where_the_prior_does_not_permit_them():
    t = bm.effect_table("data/msc_knee_oa_simulated", "vas", 12)
    flat = {"mu": {"dist": "Flat"}, "tau": {"dist": "HalfNormal", "sigma": 10.0}}
    bf = bm.bayes_factors(bm.fit(t, prior=flat))
    assert math.isnan(bf.bf01["mu=0"]) and "improper" in bf.reasons["mu=0"]
    assert math.isfinite(bf.bf01["tau=0"])
    emp = bm.bayes_factors(bm.fit(t, prior="empirical"))
    assert emp.prior_density["tau=0"] == 0 and math.isfinite(emp.bf01["tau=0"])  # marginal-likelihood ratio
    assert "depend on the prior" in str(emp)


def test_bayes_factors_refuse_covariates_and_other_objects():
    t = bm.effect_table("data/msc_knee_oa_simulated", "vas", 12)
    with pytest.raises(InputError):
        bm.bayes_factors(bm.fit(t, covariates=["age_mean"]))
    with pytest.raises(InputError) as err:
        bm.bayes_factors(bm.pool(t))
    assert err.value.problems[0].argument == "result"


def independent_ppp(yi, vi, ps, n=200_000, seed=1):
    """Posterior predictive p-values by simulation from the exact posterior, drawn here by
    inverse-CDF on a fine tau grid (no engine code): tau, then mu | tau, then theta, y_rep."""
    m0, s0 = ps.mu.filled()["mu"], ps.mu.filled()["sigma"]
    prior, upper = _tau_prior(ps)
    grid = np.linspace(1e-9, min(upper, 12 * np.sqrt(np.var(yi)) + 10), 20001)
    w = 1 / (vi[None] + grid[:, None] ** 2)
    prec = w.sum(1) + 1 / s0**2
    mean = ((w * yi).sum(1) + m0 / s0**2) / prec
    logl = 0.5 * np.log(w).sum(1) - 0.5 * np.log(prec) - 0.5 * ((w * yi**2).sum(1) + m0**2 / s0**2 - prec * mean**2)
    dens = np.exp(logl - logl.max()) * prior(grid)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(grid), size=n, p=dens / dens.sum())
    mu = rng.normal(mean[idx], 1 / np.sqrt(prec[idx]))
    tau = grid[idx][:, None]
    theta = rng.normal((yi / vi + mu[:, None] / tau**2) / (1 / vi + 1 / tau**2), 1 / np.sqrt(1 / vi + 1 / tau**2))
    yrep = rng.normal(theta, np.sqrt(vi))
    f = (yrep <= yi).mean(0)
    return np.minimum(1, 2 * np.minimum(f, 1 - f))


def test_exact_pppvalues_equal_simulation():
    t = bm.effect_table("data/msc_knee_oa_simulated", "vas", 12)
    res = bm.fit(t, prior="weakly_informative")
    got = bm.pppvalue(res)
    want = independent_ppp(t.yi, t.vi, res.prior_set)
    # Monte Carlo SE of a two-sided p from 2e5 draws is at most 2 * sqrt(0.25 / 2e5) = 0.0022
    np.testing.assert_allclose(got.pppvalue, want, atol=0.01)
    assert got.labels[0].startswith(t.data["study"].iloc[0])
    assert np.all((got.pppvalue > 0) & (got.pppvalue <= 1))


@pytest.mark.slow
def test_mcmc_bayes_factors_agree_with_exact_within_monte_carlo_error():
    t = bm.effect_table("data/msc_knee_oa_simulated", "vas", 3)
    exact = bm.bayes_factors(bm.fit(t, prior="weakly_informative", engine="exact"))
    fit = bm.fit(t, prior="weakly_informative", engine="mcmc", draws=2500, chains=4, seed=7)
    assert fit.verdict.passed, fit.verdict
    mc = bm.bayes_factors(fit)
    assert mc.method == "savage-dickey-kde"
    for h in ("mu=0", "tau=0"):
        # within 4 Monte Carlo SEs (the KDE's smoothing bias is far smaller here: 0 lies
        # 1.6 posterior SDs from the mean of mu, near the inflection point of its density)
        assert abs(mc.bf01[h] - exact.bf01[h]) < 4 * mc.mcse[h], (h, mc.bf01[h], exact.bf01[h], mc.mcse[h])
        assert mc.mcse[h] < 0.1 * exact.bf01[h]
    ppp_exact, ppp_mc = bm.pppvalue(bm.fit(t, prior="weakly_informative", engine="exact")), bm.pppvalue(fit)
    np.testing.assert_allclose(ppp_mc.pppvalue, ppp_exact.pppvalue, atol=0.03)

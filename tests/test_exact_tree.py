"""The exact engine's DataTree (bayes_msc.bayes.exact.tree, bayes_msc.bayes.groups):
independent draws of the exact posterior with the MCMC result's groups and names.

- The draws' quantiles of mu, tau and theta_new agree with the exact engine's own (the
  quadrature, pinned to bayesmeta and R's integrate() in tests/test_exact.py) within Monte
  Carlo error: for each quantile q of n independent draws the sample quantile's standard
  error is sqrt(q (1 - q) / n) / f(x_q), f the exact density.
- Their effective sample size is their number (independent draws), the prior group follows
  the prior set, the posterior predictive is y_rep ~ N(theta, v), ArviZ's loo and
  plot_ppc_dist run on it.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayes_msc.bayes.fit import fit
from bayes_msc.data.effects import arm_table, effect_table
from bayes_msc.data.reader import read_dataset
from bayes_msc.priors import PriorSet

SIMULATED = read_dataset("data/msc_knee_oa_simulated")
GROUPS = {
    "posterior",
    "sample_stats",
    "log_likelihood",
    "log_prior",
    "prior",
    "posterior_predictive",
    "observed_data",
    "constant_data",
}


@pytest.fixture(scope="module")
def vas12():
    return effect_table(SIMULATED, "vas", 12)


@pytest.fixture(scope="module")
def with_covariates(vas12):
    return fit(vas12, covariates=["log10(dose_million)", "age_mean"], seed=4)


def _quantile_se(result, name: str, q: float, n: int) -> float:
    """Monte Carlo SE of the q-quantile of n independent draws, from the exact density."""
    grid, dens = result.densities[name]
    x = float(result.value(name, {0.025: "eti_low", 0.5: "median", 0.975: "eti_high"}[q]))
    return np.sqrt(q * (1 - q) / n) / float(np.interp(x, grid, dens))


def _check_quantiles(result, names=("mu", "tau", "theta_new")) -> None:
    n = result.draws * result.chains
    for name in names:
        draws = result.draws_of(name)
        assert draws.size == n
        for q, col in ((0.025, "eti_low"), (0.5, "median"), (0.975, "eti_high")):
            err = abs(np.quantile(draws, q) - result.value(name, col))
            assert err < 4.5 * _quantile_se(result, name, q, n), (name, q, err)
        # the mean within 4.5 Monte Carlo SEs (the SD of the mean of n independent draws)
        assert abs(draws.mean() - result.value(name, "mean")) < 4.5 * result.value(name, "sd") / np.sqrt(n)


@pytest.mark.parametrize("covariates", [(), ("log10(dose_million)", "age_mean")])
def test_exact_draws_agree_with_the_exact_quantiles(vas12, covariates):
    r = fit(vas12, covariates=covariates, draws=2500, chains=4, seed=3)
    assert r.engine == "exact" and r.has_draws
    _check_quantiles(r, ("mu", "tau", "theta_new", *covariates))


def test_arm_model_draws_agree_with_the_exact_quantiles():
    r = fit(arm_table(SIMULATED, "vas", 12), model="arm", draws=2500, seed=5)
    assert r.engine == "exact" and r.model == "arm"
    _check_quantiles(r)
    post = r.idata.posterior
    assert set(post.data_vars) == {"mu", "tau", "delta", "alpha", "theta_new"}
    assert post["alpha"].dims == ("chain", "draw", "study") and post["delta"].dims[-1] == "comparison"
    # the observed data are the arm means, as in the MCMC engine's tree
    arms = r.idata.observed_data["y"]
    assert arms.dims == ("arm",) and r.idata.log_likelihood["y"].dims[-1] == "arm"
    assert r.idata.posterior_predictive["y"].shape == (4, 2500, arms.size)


def test_groups_names_and_shapes(with_covariates):
    r = with_covariates
    tree = r.idata
    assert set(tree.children) == GROUPS
    post = tree.posterior
    assert set(post.data_vars) == {"mu", "tau", "theta", "theta_new", "beta", "beta_per_sd", "intercept"}
    assert post["theta"].shape == (4, 1000, r.k) and list(post["term"].values) == list(r.covariates)
    assert list(post["comparison"].values) == [
        f"{s}: {c}" for s, c in zip(r.study_effects["study"], r.study_effects["comparison"], strict=True)
    ]
    # sample_stats: a constant diverging = False, as the MCMC engine's diagnostics read it
    assert tree.sample_stats["diverging"].dtype == bool and not tree.sample_stats["diverging"].values.any()
    # intercept = mu - sum(slope per unit * reference value), draw by draw
    at = np.array([r.covariate_at[t] for t in r.covariates])
    want = post["mu"].values - np.einsum("cdp,p->cd", post["beta"].values, at)
    np.testing.assert_allclose(post["intercept"].values, want, rtol=1e-10, atol=1e-10)
    # theta_new: mean mu, variance var(mu) + E(tau^2)
    tn, mu, tau = r.draws_of("theta_new"), r.draws_of("mu"), r.draws_of("tau")
    assert tn.var() == pytest.approx(mu.var() + np.mean(tau**2), rel=0.1)


def test_independent_draws_have_an_ess_of_their_number(with_covariates):
    import arviz as az

    r = with_covariates
    n = r.draws * r.chains
    ess = az.ess(r.idata.posterior.to_dataset()[["mu", "tau", "theta_new"]])
    for name in ("mu", "tau", "theta_new"):
        assert 0.85 * n < float(ess[name]) < 1.2 * n, (name, float(ess[name]))
    assert (r.parameters["ess_bulk"] == n).all() and r.parameters["r_hat"].isna().all()
    assert r.verdict.passed and r.verdict.min_ess_bulk == n and r.verdict.divergences == 0


def test_prior_group_follows_the_prior_set(with_covariates):
    r = with_covariates
    prior = r.idata.prior
    ps = r.prior_set
    mu_sd, tau_sd = ps.mu.params["sigma"], ps.tau.params["sigma"]
    assert stats.kstest(prior["mu"].values.ravel(), stats.norm(0, mu_sd).cdf).pvalue > 1e-3
    assert stats.kstest(prior["tau"].values.ravel(), stats.halfnorm(scale=tau_sd).cdf).pvalue > 1e-3
    beta_sd = ps.beta.params["sigma"]
    per_sd = prior["beta_per_sd"].values.reshape(-1, len(r.covariates))
    assert stats.kstest(per_sd[:, 0], stats.norm(0, beta_sd).cdf).pvalue > 1e-3
    # log_prior: the prior set's densities at the posterior draws (mu at the reference values)
    np.testing.assert_allclose(
        r.idata.log_prior["mu"].values, stats.norm(0, mu_sd).logpdf(r.idata.posterior["mu"].values)
    )


def test_posterior_predictive_replicates_the_effects(vas12):
    r = fit(vas12, seed=9)
    theta = r.idata.posterior["theta"].values.reshape(-1, r.k)
    rep = r.idata.posterior_predictive["y"].values.reshape(-1, r.k)
    resid = (rep - theta) / np.sqrt(vas12.vi)
    assert abs(resid.mean()) < 4 / np.sqrt(resid.size)
    assert resid.std() == pytest.approx(1.0, abs=0.02)
    np.testing.assert_array_equal(r.idata.observed_data["y"].values, vas12.yi)


def test_arviz_loo_and_ppc_run_on_the_exact_result(with_covariates):
    import warnings

    import arviz as az

    r = with_covariates
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pareto k warnings are about the data, not the API
        loo = az.loo(r.idata)
    assert np.isfinite(float(loo.elpd)) and loo.n_data_points == r.k
    assert az.plot_ppc_dist(r.idata, backend="matplotlib") is not None
    import matplotlib.pyplot as plt  # ArviZ's matplotlib backend draws with pyplot: close its figures

    plt.close("all")


def test_draws_are_made_when_read_and_the_same_every_time(vas12):
    a = fit(vas12, prior="empirical", seed=12)
    b = fit(vas12, prior="empirical", seed=12)
    assert a.has_draws and "_idata" in a.__dict__  # deferred, not yet made
    np.testing.assert_array_equal(a.idata.posterior["tau"].values, b.idata.posterior["tau"].values)
    assert a.idata is a.idata  # made once, then kept
    other = fit(vas12, prior="empirical", seed=13)
    assert not np.array_equal(other.draws_of("tau"), a.draws_of("tau"))
    # log_tau2_smd (the empirical prior's parameter) as the MCMC engine names it
    osd = a.prior_set.outcome_sd
    np.testing.assert_allclose(a.draws_of("log_tau2_smd"), 2 * np.log(a.draws_of("tau") / osd))


def test_improper_priors_leave_their_parameters_out_of_the_prior_group(vas12):
    flat = PriorSet.from_dict("flat", {"mu": {"dist": "Flat"}, "tau": {"dist": "HalfNormal", "sigma": 5.0}})
    r = fit(vas12, prior=flat, engine="exact", draws=200, chains=2)
    assert set(r.idata.prior.data_vars) == {"tau"}  # no draws from Flat, nor of theta_new (needs mu)
    assert set(r.idata.posterior.data_vars) >= {"mu", "tau", "theta", "theta_new"}

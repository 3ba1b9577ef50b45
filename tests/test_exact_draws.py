"""Independent draws of an exact posterior (bayes_msc.bayes.exact.draws) against the
exact posterior itself (its distribution functions and moments, tests/test_exact.py pins
those to bayesmeta). The DataTree built from them is tested in tests/test_exact_tree.py."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayes_msc.bayes.exact.draws import draw
from bayes_msc.bayes.exact.posterior import exact_posterior
from bayes_msc.priors import Prior, PriorSet

CRINS_Y = np.array([-2.3097, -0.4595, -2.3026, -1.7579, -1.2585, -2.4179])
CRINS_V = np.array([0.3594, 0.3096, 0.7750, 0.2078, 0.4122, 2.3373])
CRINS = PriorSet("ma01", "Roever 2020", Prior("Normal", {"mu": 0.0, "sigma": 4.0}), Prior("HalfNormal", {"sigma": 0.5}))
X = np.array([[1.0], [2.0], [2.5], [4.0], [3.0], [5.0]])


@pytest.mark.parametrize("covariates", [False, True])
def test_draws_follow_the_exact_posterior(covariates):
    ps = PriorSet(**{**CRINS.__dict__, "beta": Prior("Normal", {"mu": 0.0, "sigma": 2.0})}) if covariates else CRINS
    res = exact_posterior(CRINS_Y, CRINS_V, ps, X=X if covariates else None, names=("x",) if covariates else ())
    tp = res.densities.tau_posterior
    d = draw(tp, 40000, seed=3)
    # tau: the draws' distribution is tau's exact distribution function (KS test)
    assert stats.kstest(d["tau"], tp.cdf).pvalue > 1e-3
    for name, sample in (("mu", d["b"][:, 0]), ("tau", d["tau"])):
        row = res.parameters.loc[name]
        assert abs(sample.mean() - row["mean"]) < 4 * row["sd"] / np.sqrt(sample.size)
        assert abs(np.quantile(sample, 0.975) - row["eti_high"]) < 0.05 * row["sd"]
    theta = d["b"] @ tp.model.d.T + d["u"]  # the shrunken effects
    eff = res.study_effects
    np.testing.assert_allclose(theta.mean(axis=0), eff["mean"], atol=4 * eff["sd"].max() / np.sqrt(40000))
    np.testing.assert_allclose(theta.std(axis=0), eff["sd"], rtol=0.03)

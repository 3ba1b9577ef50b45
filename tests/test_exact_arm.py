"""The exact engine of the arm-level model (bayes_msc.bayes.exact.arm).

Outside references:
- the contrast-level exact engine, itself pinned to bayesmeta (tests/test_exact.py): with
  flat study baselines a two-arm study's arm likelihood is exactly the likelihood of its mean
  difference, so both engines must give the same posterior to rounding;
- the multivariate normal marginal likelihood written directly (scipy): given tau the arm
  means are N(X m0, X S0 X' + diag(se^2 + tau^2 [treatment arm])) under Normal priors, for
  any study layout, including a shared control arm;
- MCMC of the PyMC arm model (slow test), the model the exact engine replaces in ``run``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from bayes_msc.bayes.design import standardise
from bayes_msc.bayes.exact.arm import arm_model
from bayes_msc.bayes.exact.model import conditional
from bayes_msc.bayes.exact.posterior import exact_posterior, quadrature, summarise
from bayes_msc.bayes.mcmc.models import ModelInputs
from bayes_msc.data.effects import arm_table
from bayes_msc.data.reader import read_dataset
from bayes_msc.errors import InputError
from bayes_msc.priors import Prior, PriorSet

SIMULATED = Path(__file__).resolve().parents[1] / "data" / "msc_knee_oa_simulated"


def _two_arm_inputs(rng, k, p=0):
    """k two-arm studies: arm means, SEs and covariates drawn at random (seeded)."""
    mc, mt = rng.normal(50, 10, k), rng.normal(40, 10, k)
    sc, st = rng.uniform(2, 6, k), rng.uniform(2, 6, k)
    x = rng.normal(0, 1, (k, p)) * [3.0, 10.0, 0.5][:p] + [60.0, 1.0, 2.5][:p]
    names = ("age", "dose", "kl")[:p]
    std = standardise(x, names) if p else None
    inputs = ModelInputs(
        kind="arm",
        labels=tuple(f"s{i}" for i in range(k)),
        studies=tuple(f"s{i}" for i in range(k)),
        yi=mt - mc,
        vi=st**2 + sc**2,
        z=std.z if std else np.empty((k, 0)),
        arm_mean=np.concatenate([mc, mt]),
        arm_se=np.concatenate([sc, st]),
        arm_study=np.concatenate([np.arange(k), np.arange(k)]),
        arm_effect=np.concatenate([-np.ones(k, int), np.arange(k)]),
        arm_labels=tuple(f"s{i}: c" for i in range(k)) + tuple(f"s{i}: t" for i in range(k)),
        study_labels=tuple(f"s{i}" for i in range(k)),
    )
    return inputs, x, names, std


TAU8 = Prior("HalfNormal", {"sigma": 8.0})
MU20 = Prior("Normal", {"mu": 0.0, "sigma": 20.0})


def _set(alpha, tau=TAU8, mu=MU20):
    return PriorSet("t", "test", mu, tau, beta=Prior("Normal", {"mu": 0.0, "sigma": 5.0}), alpha=alpha)


@pytest.mark.parametrize("p", [0, 2])
def test_flat_baselines_give_the_contrast_level_posterior(p):
    rng = np.random.default_rng(11 + p)
    inputs, x, names, std = _two_arm_inputs(rng, 9, p)
    ps = _set(Prior("Flat", {}))
    arm = summarise(quadrature(arm_model(inputs, std, ps)), model="arm")
    re = exact_posterior(inputs.yi, inputs.vi, ps, X=x if p else None, names=names)
    assert arm.model == "arm" and arm.k == 9
    cols = ["mean", "sd", "median", "eti_low", "eti_high", "hdi_low", "hdi_high"]
    np.testing.assert_allclose(arm.parameters[cols].to_numpy(), re.parameters[cols].to_numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(
        arm.study_effects[["mean", "sd", "eti_low", "eti_high"]].to_numpy(),
        re.study_effects[["mean", "sd", "eti_low", "eti_high"]].to_numpy(),
        rtol=1e-7,
    )
    np.testing.assert_allclose(arm.study_effects["yi"], inputs.yi)


def _shared_control_inputs():
    """Three studies, the second with two treatment arms sharing one control."""
    mean = np.array([50.0, 55.0, 48.0, 41.0, 40.0, 45.0, 39.0])
    se = np.array([3.0, 2.5, 4.0, 3.5, 2.0, 3.0, 4.5])
    study = np.array([0, 1, 2, 0, 1, 1, 2])
    effect = np.array([-1, -1, -1, 0, 1, 2, 3])
    z = np.array([[-1.0], [0.2], [0.9], [-0.1]])
    std = standardise(z * 2.0 + 5.0, ("dose",))
    inputs = ModelInputs(
        kind="arm",
        labels=("a", "b1", "b2", "c"),
        studies=("A", "B", "B", "C"),
        yi=np.array([-9.0, -15.0, -10.0, -9.0]),
        vi=np.array([21.25, 10.25, 15.25, 36.25]),
        z=std.z,
        arm_mean=mean,
        arm_se=se,
        arm_study=study,
        arm_effect=effect,
        arm_labels=tuple(f"arm{j}" for j in range(7)),
        study_labels=("A", "B", "C"),
    )
    return inputs, std


def test_marginal_likelihood_given_tau_is_the_multivariate_normal_one():
    inputs, std = _shared_control_inputs()
    ps = _set(Prior("Normal", {"mu": 47.0, "sigma": 30.0}))
    m = arm_model(inputs, std, ps)
    taus = np.array([0.01, 1.0, 4.0, 15.0])
    ll, b, cov = conditional(m, taus)
    s0 = np.diag(1.0 / m.p0)
    direct = []
    for t in taus:
        sigma = m.d @ s0 @ m.d.T + np.diag(inputs.arm_se**2 + t**2 * (inputs.arm_effect >= 0))
        direct.append(stats.multivariate_normal(m.d @ m.m0, sigma).logpdf(inputs.arm_mean))
        # b | tau, y by the normal-normal update written out
        w = np.linalg.inv(np.diag(inputs.arm_se**2 + t**2 * (inputs.arm_effect >= 0)))
        post = np.linalg.inv(m.d.T @ w @ m.d + np.linalg.inv(s0))
        np.testing.assert_allclose(cov[list(taus).index(t)], post, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            b[list(taus).index(t)], post @ (m.d.T @ w @ inputs.arm_mean + m.p0 * m.m0), rtol=1e-9
        )
    np.testing.assert_allclose(ll - ll[0], np.array(direct) - direct[0], rtol=1e-10, atol=1e-9)


def test_shared_control_effects_and_report():
    inputs, std = _shared_control_inputs()
    res = summarise(
        quadrature(arm_model(inputs, std, _set(Prior("Normal", {"mu": 47.0, "sigma": 30.0})))),
        model="arm",
        labels=["a", "b1", "b2", "c"],
    )
    assert list(res.parameters.index) == ["mu", "tau", "dose", "theta_new", "intercept"]
    assert list(res.study_effects["comparison"]) == ["a", "b1", "b2", "c"]
    eff = res.study_effects
    # shrunken effects lie between their observed contrast and the pooled mean (up to the
    # covariate's pull), and are more precise than the observation
    assert np.all(eff["sd"] < np.sqrt(inputs.vi))
    assert res.verdict.passed and res.engine == "exact"


def test_covariates_without_a_slope_prior_say_resolve_first():
    # a resolved set may lack beta (PriorSet.resolve fills it): said plainly, as the
    # contrast-level engine does, instead of an AttributeError on None
    inputs, _, _, std = _two_arm_inputs(np.random.default_rng(3), 5, 2)
    ps = PriorSet("t", "test", MU20, TAU8, alpha=Prior("Flat", {}))
    with pytest.raises(ValueError, match="beta prior"):
        arm_model(inputs, std, ps)


def test_non_normal_baseline_prior_is_an_input_error():
    inputs, std = _shared_control_inputs()
    with pytest.raises(InputError, match="alpha"):
        arm_model(inputs, std, _set(Prior("StudentT", {"nu": 3.0, "mu": 47.0, "sigma": 30.0})))


@pytest.mark.slow
@pytest.mark.parametrize(
    "prior, covariates",
    [("weakly_informative", ()), ("empirical", ()), ("weakly_informative", ("log10(dose_million)", "age_mean"))],
)
def test_exact_arm_model_matches_mcmc(prior, covariates):
    """Medians within 0.08 posterior SD, 2.5%/97.5% quantiles within 4 Monte Carlo SEs of
    the MCMC quantile (ArviZ ``mcse``) plus 0.02 SD, shrunken effects within 0.08 SD."""
    import arviz as az

    from bayes_msc.bayes.fit import fit

    arms = arm_table(read_dataset(SIMULATED), "vas", 12)
    ex = fit(arms, model="arm", prior=prior, covariates=covariates, engine="exact")
    mc = fit(arms, model="arm", prior=prior, covariates=covariates, engine="mcmc", draws=2000, seed=3)
    assert mc.verdict.passed
    for name in ex.parameters.index:
        sd = ex.parameters.loc[name, "sd"]
        assert abs(ex.parameters.loc[name, "median"] - mc.parameters.loc[name, "median"]) < 0.08 * sd, name
        for q, prob in (("eti_low", 0.025), ("eti_high", 0.975)):
            post = mc.idata.posterior
            chains = post[name] if name in post else post["beta"].sel(term=name)  # a slope
            err = float(az.mcse(chains.values, method="quantile", prob=prob))
            assert abs(ex.parameters.loc[name, q] - mc.parameters.loc[name, q]) < 4 * err + 0.02 * sd, (name, q)
    delta = (ex.study_effects["mean"] - mc.study_effects["mean"]).abs() / ex.study_effects["sd"]
    assert delta.max() < 0.08

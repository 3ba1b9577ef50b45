"""The PyMC engine (models ``re`` and ``arm``, ``fit``, ``compare_priors``) against outside
references: bayesmeta's published exact posteriors (eight schools, Crins et al. 2014),
the package's exact quadrature engine, and R metafor's datasets (tests/reference/bayes_refs.json).

An MCMC estimate agrees with a reference when it is within 4 Monte Carlo standard errors
(ArviZ ``mcse``). The default run samples small models (2 chains x 500 draws, six
studies); ``-m slow`` adds the heavier checks.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from bayes_msc.bayes import fit as bayes_fit
from bayes_msc.bayes.compare import compare_priors
from bayes_msc.bayes.fit import fit
from bayes_msc.bayes.mcmc.run import pilot_centred
from bayes_msc.bayes.mcmc.summary import ess_threshold, log_likelihood
from bayes_msc.data.effects import FIXED_COLUMNS, ArmTable, EffectTable, escalc_md
from bayes_msc.errors import InputError
from bayes_msc.priors import Prior, PriorSet
from bayes_msc.results.serialise import to_json
from conftest import REFERENCE

REFS = json.loads((REFERENCE / "bayes_refs.json").read_text(encoding="utf-8"))
FAST = {"draws": 500, "chains": 2, "tune": 500, "seed": 7, "engine": "mcmc"}
N_MCSE = 4.0


def effects(
    yi, vi, studies=None, n_t=None, n_c=None, covariates: dict | None = None, vcov=None, name="reference"
) -> EffectTable:
    """An effect table of given yi/vi (no arm sizes unless given)."""
    k = len(yi)
    studies = list(studies) if studies is not None else [f"study_{i + 1}" for i in range(k)]
    data = pd.DataFrame(
        {
            "study": studies,
            "comparison": ["treatment vs control"] * k,
            "treatment_arm": "treatment",
            "control_arm": "control",
            "outcome": "y",
            "month": 0.0,
            "yi": np.asarray(yi, float),
            "vi": np.asarray(vi, float),
            "n_treatment": np.nan if n_t is None else np.asarray(n_t, float),
            "n_control": np.nan if n_c is None else np.asarray(n_c, float),
            "source_kind": "contrast",
        }
    )
    data = data[list(FIXED_COLUMNS)]
    for key, val in (covariates or {}).items():
        data[key] = np.asarray(val, float)
    v = np.diag(np.asarray(vi, float)) if vcov is None else np.asarray(vcov, float)
    return EffectTable(
        data=data,
        vcov=v,
        outcome="y",
        month=0.0,
        measure="md",
        multiarm="split" if vcov is None else "shared",
        basis="final",
        r=0.5,
        rescale=False,
        simulated=False,
        dataset=name,
        covariates=tuple(covariates or {}),
    )


def prior_set(spec: dict, name: str = "reference") -> PriorSet:
    return PriorSet(
        name=name,
        description="",
        **{k: Prior(v["dist"], {p: x for p, x in v.items() if p != "dist"}) for k, v in spec.items()},
    )


def mcse(result, name: str, method: str) -> float:
    import arviz as az

    return float(az.mcse(result.idata.posterior[name], method=method))


def close(result, name: str, stat: str, reference: float) -> None:
    """``stat`` (mean, median, sd) of ``name`` within N_MCSE Monte Carlo SEs of ``reference``."""
    est = float(result.parameters.at[name, stat])
    tol = N_MCSE * mcse(result, name, stat)
    assert abs(est - reference) <= tol, f"{name} {stat}: {est:.5f} vs {reference:.5f} (tolerance {tol:.5f})"


@pytest.fixture(scope="module")
def crins():
    ref = REFS["crins"]
    return effects(ref["yi"], ref["vi"]), prior_set(ref["prior"], "crins"), ref["posterior"]


@pytest.fixture(scope="module")
def crins_fit(crins):
    table, ps, _ = crins
    return fit(table, prior=ps, **FAST)


# ---------------------------------------------------------------- end-to-end, default run


def test_crins_matches_bayesmeta_and_exact(crins, crins_fit):
    """Six studies, 2 chains x 500 draws: mu and tau as bayesmeta's exact posterior."""
    _, ps, ref = crins
    r = crins_fit
    assert r.engine == "mcmc" and r.k == 6 and r.draws == 500 and r.chains == 2
    assert r.verdict.passed, r.verdict
    assert r.verdict.ess_min == 250.0  # 1000 * (500 * 2) / 4000
    close(r, "mu", "mean", ref["mu_mean"])
    close(r, "mu", "median", ref["mu_median"])
    close(r, "mu", "sd", ref["mu_sd"])
    close(r, "tau", "median", ref["tau_median"])
    close(r, "tau", "mean", ref["tau_mean"])
    p_tau = float(np.mean(r.draws_of("tau") > 1.0))
    assert abs(p_tau - ref["p_tau_gt_1"]) < 4 * math.sqrt(ref["p_tau_gt_1"] / 300)  # binomial, ESS >= 300
    exact = fit(crins[0], prior=ps, engine="exact")
    for name in ("mu", "tau"):
        close(r, name, "median", float(exact.parameters.at[name, "median"]))
    # the study effects: shrunken towards mu, and as the exact engine's
    se, ex = r.study_effects, exact.study_effects
    assert list(se["study"]) == list(ex["study"])
    assert np.all(np.abs(se["mean"].to_numpy() - ex["mean"].to_numpy()) < 4 * se["sd"].to_numpy() / math.sqrt(250))


def test_result_fields_and_groups(crins_fit):
    r = crins_fit
    assert list(r.parameters.index) == ["mu", "tau", "theta_new"]
    assert r.parameterisation in ("noncentred", "marginal", "centred")
    assert set(r.probabilities) == {"P(mu < 0)", "P(mu > 0)"}
    assert r.probabilities["P(mu < 0)"] == pytest.approx(float(np.mean(r.draws_of("mu") < 0)))
    assert set(r.idata.children) == {
        "posterior",
        "sample_stats",
        "log_likelihood",
        "log_prior",
        "prior",
        "posterior_predictive",
        "observed_data",
        "constant_data",
    }
    post = r.idata.posterior
    assert post["theta"].sizes == {"chain": 2, "draw": 500, "comparison": 6}  # padding dropped
    assert list(post["comparison"].values) == [f"study_{i}: treatment vs control" for i in range(1, 7)]
    # theta_new is the predictive effect: mean mu, variance var(mu) + E(tau^2)
    tn, mu, tau = r.draws_of("theta_new"), r.draws_of("mu"), r.draws_of("tau")
    assert abs(tn.mean() - mu.mean()) < 4 * tn.std() / math.sqrt(r.parameters.at["theta_new", "ess_bulk"])
    assert tn.var() == pytest.approx(mu.var() + np.mean(tau**2), rel=0.15)
    # log likelihood: the normal density of each yi given its theta
    from scipy import stats

    yi, vi = REFS["crins"]["yi"], REFS["crins"]["vi"]
    theta = post["theta"].values
    want = stats.norm.logpdf(np.asarray(yi), theta, np.sqrt(vi))
    np.testing.assert_allclose(r.idata.log_likelihood["y"].values, want, rtol=1e-10)
    # log prior: the prior densities of mu and tau
    np.testing.assert_allclose(r.idata.log_prior["mu"].values, stats.norm(0, 4).logpdf(post["mu"].values))
    np.testing.assert_allclose(r.idata.log_prior["tau"].values, stats.halfnorm(scale=0.5).logpdf(post["tau"].values))
    assert "covariates" in json.loads(r.idata.attrs["options"])


def test_arviz_loo_and_ppc_run_on_the_mcmc_result(crins_fit):
    """The MCMC result's tree has what ArviZ's loo and posterior predictive checks need."""
    import warnings

    import arviz as az

    r = crins_fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pareto k warnings are about the data, not the API
        loo = az.loo(r.idata)
    assert np.isfinite(float(loo.elpd)) and loo.n_data_points == r.k
    assert az.plot_ppc_dist(r.idata, backend="matplotlib") is not None
    import matplotlib.pyplot as plt  # ArviZ's matplotlib backend draws with pyplot: close its figures

    plt.close("all")
    # replicated data given each draw: y_rep - theta ~ N(0, vi)
    theta = r.idata.posterior["theta"].values.reshape(-1, r.k)
    rep = r.idata.posterior_predictive["y"].values.reshape(-1, r.k)
    z = (rep - theta) / np.sqrt(REFS["crins"]["vi"])
    assert z.std() == pytest.approx(1.0, abs=0.03)
    # prior draws from the prior set: mu ~ Normal(0, 4), tau ~ HalfNormal(0.5)
    from scipy import stats

    assert stats.kstest(r.idata.prior["mu"].values.ravel(), stats.norm(0, 4).cdf).pvalue > 1e-3
    assert stats.kstest(r.idata.prior["tau"].values.ravel(), stats.halfnorm(scale=0.5).cdf).pvalue > 1e-3


def test_exact_and_mcmc_trees_have_the_same_groups_and_names(crins, crins_fit):
    """Whatever the engine: the same groups, variables, dimensions and coordinates (the
    sampler's own statistics aside: the exact engine has only ``diverging``)."""
    exact = fit(crins[0], prior=crins[1], engine="exact", draws=500, chains=2)
    a, b = exact.idata, crins_fit.idata
    assert set(a.children) == set(b.children)
    assert set(a.sample_stats.data_vars) == {"diverging"} <= set(b.sample_stats.data_vars)
    for group in set(a.children) - {"sample_stats"}:
        da, db = a[group].to_dataset(), b[group].to_dataset()
        assert set(da.data_vars) == set(db.data_vars), group
        for name in da.data_vars:
            assert da[name].dims == db[name].dims, (group, name)
            for dim in da[name].dims:
                np.testing.assert_array_equal(da[dim].values, db[dim].values)


def test_same_seed_same_json(crins, crins_fit):
    table, ps, _ = crins
    again = fit(table, prior=ps, **FAST)
    assert to_json(again.to_dict()) == to_json(crins_fit.to_dict())
    other = fit(table, prior=ps, **{**FAST, "seed": 8})
    assert not np.array_equal(other.draws_of("mu"), crins_fit.draws_of("mu"))


@pytest.mark.slow
def test_same_draws_from_a_fresh_compile(crins, crins_fit):
    """A freshly compiled model gives the cached one's draws (no dependence on the cache)."""
    from bayes_msc.bayes.mcmc import sampler

    sampler._COMPILED.clear()
    fresh = fit(crins[0], prior=crins[1], **FAST)
    np.testing.assert_array_equal(fresh.draws_of("mu"), crins_fit.draws_of("mu"))


def test_verdict_fails_on_a_hard_posterior(crins):
    """Centred, 3 studies, low target acceptance: the funnel defeats NUTS and the verdict says so."""
    ref = REFS["crins"]
    table = effects(ref["yi"][:3], ref["vi"][:3])
    r = fit(table, prior=crins[1], parameterisation="centred", target_accept=0.6, **FAST)
    assert r.parameterisation == "centred"
    assert not r.verdict.passed
    assert r.verdict.reasons and str(r.verdict).startswith("FAIL")
    if r.divergences:
        assert any("divergent" in reason for reason in r.verdict.reasons)
    bad_r = r.parameters["r_hat"] > 1.01
    assert any("R-hat" in reason for reason in r.verdict.reasons) == bool(bad_r.any())


def test_auto_falls_back_when_the_first_form_fails(crins, monkeypatch):
    """auto: a failing first form (centred, forced, on three small studies: it fails even at
    the default target acceptance) is followed by the marginal form, which passes; the
    notes say what was tried."""
    ref = REFS["crins"]
    table = effects(ref["yi"][:3], ref["vi"][:3])
    assert pilot_centred(bayes_fit.prepare(table, "re", ()).inputs)[0] is False  # sparse
    from bayes_msc.bayes.mcmc import run as mcmc_run

    monkeypatch.setattr(mcmc_run, "pilot_centred", lambda inputs: (True, "centred: forced by the test"))
    r = fit(table, prior=crins[1], **FAST)
    assert r.parameterisation == "marginal" and r.verdict.passed, (r.parameterisation, r.verdict)
    assert "parameterisation auto: centred: forced by the test" in r.notes
    assert any(n.startswith("parameterisation centred failed its diagnostics (FAIL") for n in r.notes)
    assert "parameterisation used: marginal" in r.notes


def test_one_study_is_allowed_and_noted(crins):
    ref = REFS["crins"]
    r = fit(effects(ref["yi"][:1], ref["vi"][:1]), prior=crins[1], **FAST)
    assert r.k == 1
    assert any("tau is prior-driven" in n for n in r.notes)


@pytest.mark.parametrize("engine", ["mcmc", "exact", "auto"])
def test_compare_priors_sensitivity(crins, engine):
    """A tight prior on mu at 0 (data say -1.6) is flagged by power-scaling; a wide one is
    not: from MCMC draws, and from independent draws of the exact posterior (``auto``
    takes the exact engine for these Normal priors)."""
    table, wide, _ = crins
    tight = prior_set(
        {"mu": {"dist": "Normal", "mu": 0.0, "sigma": 0.3}, "tau": {"dist": "HalfNormal", "sigma": 0.5}}, "tight"
    )
    comp = compare_priors(table, [wide, tight], **{**FAST, "engine": engine})
    assert {r.engine for r in comp.results} == {"exact" if engine == "auto" else engine}
    s = comp.summary()
    assert list(s["prior"]) == ["crins", "tight"]
    assert tuple(s.columns[:6]) == ("term", "mean", "sd", "lower", "upper", "level")
    sens = comp.sensitivity
    assert sens.at["tight", "mu_prior"] > 0.05 > sens.at["crins", "mu_prior"]
    assert sens.at["tight", "mu_diagnosis"].startswith("potential")
    assert sens.at["crins", "mu_diagnosis"] == "ok"
    assert s.loc[s["prior"] == "tight", "mu_median"].item() > s.loc[s["prior"] == "crins", "mu_median"].item()
    d = comp.to_dict()
    assert [p["prior"] for p in d["prior_sets"]] == ["crins", "tight"]
    assert d["prior_sets"][0]["fit"]["parameters"]["mu"]["median"] == pytest.approx(s["mu_median"].iat[0])


def test_save_writes_netcdf_atomically(crins, tmp_path):
    import arviz as az

    path = tmp_path / "crins.nc"
    r = fit(crins[0], prior=crins[1], save=path, **FAST)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crins.nc"]  # no temporary file left
    back = az.from_netcdf(path)
    # the MCMC engine's draws are stored exactly (float64; bayes_msc.bayes.saved)
    np.testing.assert_array_equal(back.posterior["mu"].values, r.idata.posterior["mu"].values)
    assert {"prior", "posterior_predictive", "log_likelihood", "sample_stats"} <= set(back.children)
    # load_result: the MCMC result with the summaries it printed, number for number
    from bayes_msc.bayes.saved import load_result

    again = load_result(path)
    pd.testing.assert_frame_equal(again.summary(), r.summary())
    assert to_json(again.to_dict()) == to_json(r.to_dict()) and again.engine == "mcmc"
    assert json.loads(back.attrs["prior_set"])["tau"] == {"dist": "HalfNormal", "sigma": 0.5}
    np.testing.assert_array_equal(back.observed_data["y"].values, REFS["crins"]["yi"])
    with pytest.raises(InputError, match="does not exist"):
        fit(crins[0], prior=crins[1], save=tmp_path / "missing" / "x.nc", **FAST)


def test_bad_input_raises_input_error(crins):
    table, ps, _ = crins
    with pytest.raises(InputError, match="arm table"):
        fit(table, model="arm", prior=ps)
    with pytest.raises(InputError, match="draws"):
        fit(table, prior=ps, draws=5)
    with pytest.raises(InputError, match="unknown covariate"):
        fit(
            effects(REFS["crins"]["yi"], REFS["crins"]["vi"], covariates={"year": [1, 2, 3, 4, 5, 6]}),
            prior=ps,
            covariates=["dose"],
        )
    with pytest.raises(InputError, match="unknown prior set"):
        fit(table, prior="no_such_set")
    with pytest.raises(InputError, match="scales with the data"):
        fit(table, prior="weakly_informative")  # data-scaled, but these comparisons have no n


def test_arm_model_exact_engine_refuses_non_normal_baseline_priors():
    arms = normand_arms()
    ps = prior_set(
        {
            "mu": {"dist": "Normal", "mu": 0.0, "sigma": 50.0},
            "tau": {"dist": "HalfNormal", "sigma": 20.0},
            "alpha": {"dist": "StudentT", "nu": 3.0, "mu": 0.0, "sigma": 100.0},
        },
        "t_alpha",
    )
    with pytest.raises(InputError, match="Normal or Flat"):
        fit(arms, model="arm", prior=ps, engine="exact")
    assert fit(arms, model="arm", prior=replace(ps, alpha=None), engine="exact").engine == "exact"


def test_ess_threshold_rule():
    assert ess_threshold(1000, 4) == 1000.0
    assert ess_threshold(2000, 4) == 1000.0
    assert ess_threshold(500, 2) == 250.0


def test_dense_log_likelihood_is_the_multivariate_normal():
    """Comparisons sharing an arm: one joint density per study."""
    import xarray as xr
    from scipy import stats

    from bayes_msc.bayes.mcmc.models import ModelInputs

    v = np.array([[2.0, 0.5, 0.0], [0.5, 1.5, 0.0], [0.0, 0.0, 1.0]])
    y = np.array([0.3, -0.2, 1.0])
    inputs = ModelInputs(
        kind="re", labels=("a1", "a2", "b"), studies=("a", "a", "b"), yi=y, vi=np.diag(v), z=np.empty((3, 0)), vcov=v
    )
    theta = np.random.default_rng(1).normal(size=(2, 5, 3))
    post = xr.Dataset(
        {"theta": (("chain", "draw", "comparison"), theta)},
        coords={"chain": [0, 1], "draw": np.arange(5), "comparison": ["a1", "a2", "b"]},
    )
    ll = log_likelihood(post, inputs)["y"]
    assert list(ll["study"].values) == ["a", "b"]
    want_a = stats.multivariate_normal(mean=np.zeros(2), cov=v[:2, :2]).logpdf(y[:2] - theta[..., :2])
    np.testing.assert_allclose(ll.sel(study="a").values, want_a)
    np.testing.assert_allclose(ll.sel(study="b").values, stats.norm.logpdf(y[2], theta[..., 2], 1.0))


def test_model_logp_is_the_normal_normal_density(crins):
    """The PyMC graph itself (unpadded, non-centred and marginal) against scipy."""
    from scipy import stats

    from bayes_msc.bayes.inputs import prepare_effects
    from bayes_msc.bayes.mcmc.models import build_re_model

    table, ps, _ = crins
    inputs = prepare_effects(table).inputs
    yi, vi = inputs.yi, inputs.vi
    point = {"mu": -1.2, "tau": 0.4, "theta_raw": np.linspace(-1, 1, 6)}
    prior = stats.norm(0, 4).logpdf(point["mu"]) + stats.halfnorm(scale=0.5).logpdf(point["tau"])
    for form in ("noncentred", "marginal"):
        model = build_re_model(inputs, ps, form)
        f = model.compile_logp(jacobian=False, mode="FAST_COMPILE")
        value = {"mu": point["mu"], "tau_log__": math.log(point["tau"]), "theta_raw": point["theta_raw"]}
        raw = stats.norm.logpdf(point["theta_raw"]).sum()
        if form == "noncentred":
            theta = point["mu"] + point["tau"] * point["theta_raw"]
            lik = stats.norm.logpdf(yi, theta, np.sqrt(vi)).sum()
        else:
            lik = stats.norm.logpdf(yi, point["mu"], np.sqrt(vi + point["tau"] ** 2)).sum()
        const = 0.5 * 6 * np.log(2 * np.pi)  # the likelihood Potential leaves out log(2 pi)
        assert float(f(value)) == pytest.approx(prior + raw + lik + const, rel=1e-10)


# ---------------------------------------------------------------- heavier checks (-m slow)


def normand_arms() -> ArmTable:
    ref = REFS["normand1999"]
    rows = []
    for i, s in enumerate(ref["source"]):
        rows.append(
            {
                "study": s,
                "arm": "specialist",
                "role": "treatment",
                "n": ref["n1i"][i],
                "mean": ref["m1i"][i],
                "sd": ref["sd1i"][i],
            }
        )
        rows.append(
            {
                "study": s,
                "arm": "routine",
                "role": "control",
                "n": ref["n2i"][i],
                "mean": ref["m2i"][i],
                "sd": ref["sd2i"][i],
            }
        )
    data = pd.DataFrame(rows)
    data["n"] = data["n"].astype(float)
    data["se"] = data["sd"] / np.sqrt(data["n"])
    comps = pd.DataFrame({"study": ref["source"], "treatment_arm": "specialist", "control_arm": "routine"})
    return ArmTable(
        data=data,
        comparisons=comps,
        outcome="length_of_stay",
        month=0.0,
        basis="final",
        r=0.5,
        rescale=False,
        simulated=False,
        dataset="normand1999",
    )


def normand_effects() -> EffectTable:
    ref = REFS["normand1999"]
    yi, vi = escalc_md(ref["m1i"], ref["sd1i"], ref["n1i"], ref["m2i"], ref["sd2i"], ref["n2i"])
    t = effects(yi, vi, ref["source"], ref["n1i"], ref["n2i"], name="normand1999")
    data = t.data.assign(comparison="specialist vs routine")
    return EffectTable(**{**t.__dict__, "data": data})


@pytest.mark.slow
def test_eight_schools_sparse_auto_is_noncentred_and_matches_bayesmeta():
    ref = REFS["eight_schools"]
    table = effects(ref["y"], np.square(ref["se"]))
    r = fit(table, prior=prior_set(ref["prior"], "bayesmeta"), seed=3, engine="mcmc")  # default 4 x 1000 draws
    assert r.parameterisation == "noncentred" and r.verdict.passed, (r.parameterisation, r.verdict)
    post = ref["posterior"]
    close(r, "mu", "median", post["mu_median"])
    close(r, "mu", "mean", post["mu_mean"])
    close(r, "mu", "sd", post["mu_sd"])
    close(r, "tau", "median", post["tau_median"])
    close(r, "theta_new", "mean", post["theta_new_mean"])
    close(r, "theta_new", "sd", post["theta_new_sd"])
    n_eff = r.parameters.at["mu", "ess_bulk"]
    p = post["p_mu_gt_0"]
    assert abs(r.probabilities["P(mu > 0)"] - p) < 4 * math.sqrt(p * (1 - p) / n_eff)


@pytest.mark.slow
def test_normand_rich_data_auto_is_centred_and_arm_equals_re():
    """Nine large two-arm trials with large heterogeneity: auto samples the centred form and
    passes; the arm model (baselines free) gives the re model's posterior: medians within
    0.1 posterior SD, both as the exact engine's."""
    table, arms = normand_effects(), normand_arms()
    re = fit(table, prior="weakly_informative", seed=5, engine="mcmc")
    assert re.parameterisation == "centred" and re.verdict.passed, (re.parameterisation, re.verdict)
    assert any("auto: centred" in n for n in re.notes)
    arm = fit(arms, model="arm", prior="weakly_informative", seed=5, engine="mcmc")
    assert arm.verdict.passed, arm.verdict
    exact = fit(table, prior="weakly_informative", engine="exact")
    for name in ("mu", "tau"):
        sd = float(exact.parameters.at[name, "sd"])
        assert abs(re.parameters.at[name, "median"] - arm.parameters.at[name, "median"]) < 0.1 * sd
        close(re, name, "median", float(exact.parameters.at[name, "median"]))
        close(arm, name, "median", float(exact.parameters.at[name, "median"]))
    assert arm.prior_spec["mu"] == re.prior_spec["mu"]  # same data summaries, same resolved priors
    assert list(arm.study_effects["comparison"]) == ["specialist vs routine"] * 9


@pytest.mark.slow
def test_bcg_meta_regression_matches_exact():
    """Slope on absolute latitude (metafor's dat.bcg), per degree, as the exact engine's."""
    ref = REFS["bcg"]
    table = effects(
        ref["yi"],
        ref["vi"],
        [f"{a} {y}" for a, y in zip(ref["author"], ref["year"], strict=True)],
        ref["n_treatment"],
        ref["n_control"],
        covariates={"ablat": ref["ablat"]},
        name="bcg",
    )
    ps = prior_set(
        {
            "mu": {"dist": "Normal", "mu": 0.0, "sigma": 10.0},
            "tau": {"dist": "HalfNormal", "sigma": 1.0},
            "beta": {"dist": "Normal", "mu": 0.0, "sigma": 1.0},
        },
        "bcg",
    )
    r = fit(table, prior=ps, covariates=["ablat"], seed=11, engine="mcmc")
    ex = fit(table, prior=ps, covariates=["ablat"], engine="exact")
    assert r.verdict.passed, r.verdict
    assert list(r.parameters.index) == ["mu", "tau", "ablat", "theta_new", "intercept"]
    beta = r.idata.posterior["beta"].sel(term="ablat")
    import arviz as az

    for name, draws in (("ablat", beta), ("mu", None), ("intercept", None), ("tau", None)):
        est = float(r.parameters.at[name, "median"])
        se = float(az.mcse(draws if draws is not None else r.idata.posterior[name], method="median"))
        assert abs(est - ex.parameters.at[name, "median"]) <= N_MCSE * se, name
    assert set(r.probabilities) == set(ex.probabilities)


@pytest.mark.slow
def test_shared_control_dense_model_against_split_sizes():
    """Correlated comparisons (a shared control kept whole): the dense model runs, and with
    the shared arm's covariance removed equals the independent model."""
    ref = REFS["crins"]
    v = np.diag(ref["vi"])
    v[0, 1] = v[1, 0] = 0.1
    dense = fit(
        effects(ref["yi"], ref["vi"], ["a", "a", "c", "d", "e", "f"], vcov=v), prior=prior_set(ref["prior"]), seed=2
    )
    assert dense.parameterisation in ("noncentred", "centred") and dense.verdict.passed, dense.verdict
    assert dense.idata.log_likelihood["y"].dims[-1] == "study"


def test_arm_inputs_reference_control_and_pair_covariates():
    """A study with two controls keeps its first (the reference) and says so; each treatment
    arm's covariate follows the effect table's rule (n-weighted mean when both arms give it,
    else the arm that gives it). No sampling."""
    from bayes_msc.bayes.inputs import prepare_arms

    data = pd.DataFrame(
        {
            "study": ["a", "a", "a", "a", "b", "b"],
            "arm": ["low", "high", "placebo", "ha", "msc", "ctl"],
            "role": ["treatment", "treatment", "control", "control", "treatment", "control"],
            "n": [10.0, 20.0, 30.0, 15.0, 40.0, 40.0],
            "mean": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "sd": [1.0, 1.0, 2.0, 2.0, 4.0, 4.0],
            "dose": [10.0, 100.0, np.nan, np.nan, 50.0, np.nan],
            "age": [50.0, 60.0, 40.0, 45.0, 55.0, 65.0],
        }
    )
    data["se"] = data["sd"] / np.sqrt(data["n"])
    comps = pd.DataFrame(
        {
            "study": ["a", "a", "a", "a", "b"],
            "treatment_arm": ["low", "low", "high", "high", "msc"],
            "control_arm": ["placebo", "ha", "placebo", "ha", "ctl"],
        }
    )
    arms = ArmTable(
        data=data,
        comparisons=comps,
        outcome="y",
        month=6.0,
        basis="final",
        r=0.5,
        rescale=False,
        simulated=False,
        dataset="toy",
        covariates=("dose", "age"),
    )
    prep = prepare_arms(arms, ["log10(dose)", "age"])
    inp = prep.inputs
    assert inp.labels == ("a: low vs placebo", "a: high vs placebo", "b: msc vs ctl")
    assert inp.arm_labels == ("a: placebo", "b: ctl", "a: low", "a: high", "b: msc")  # 'ha' left out
    assert any("control arm 'ha' left out" in n for n in prep.notes)
    np.testing.assert_array_equal(inp.arm_effect, [-1, -1, 0, 1, 2])
    np.testing.assert_array_equal(inp.arm_study, [0, 1, 0, 0, 1])
    np.testing.assert_allclose(inp.yi, [1 - 3, 2 - 3, 5 - 6])
    np.testing.assert_allclose(inp.vi, [1 / 10 + 4 / 30, 1 / 20 + 4 / 30, 16 / 40 + 16 / 40])
    x = prep.standardised.z * prep.standardised.scale + prep.standardised.centre
    np.testing.assert_allclose(x[:, 0], np.log10([10.0, 100.0, 50.0]))  # dose: the treatment arm's
    np.testing.assert_allclose(x[:, 1], [(10 * 50 + 30 * 40) / 40, (20 * 60 + 30 * 40) / 50, 60.0])

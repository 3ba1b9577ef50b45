"""Exact (quadrature) posterior of the normal-normal model, against outside references:

- bayesmeta's published exact posteriors (eight schools: bayesmeta vignette; Crins et al.
  2014: Roever 2020, J Stat Softw 93(6), model "ma01"), numbers in
  /work/shared/sources/methods_references.md. bayesmeta integrates tau's marginal
  numerically (compared to 1e-5 here) but approximates the mixtures of mu and theta_new
  by its DIRECT algorithm (Roever & Friede 2017), accurate to about 1e-4: compared to 1e-3.
- R integrate() of the conjugate formulas, written independently in
  tests/reference/r/exact_reference.R (meta-regression, other tau priors, k = 1).
- metafor's rma(yi, vi, mods, tau2 = fixed): the limit of wide slope priors.
- R integrate() of the marginal posterior densities (the same conjugate formulas),
  tests/reference/r/exact_density_reference.R, for ``BayesResult.densities``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bayes_msc.bayes.exact.posterior import (
    Quadrature,
    coefficients_given_tau,
    exact_posterior,
    mixture_cdf,
    tau_posterior,
)
from bayes_msc.errors import InputError
from bayes_msc.priors import (
    Prior,
    PriorSet,
    bundled_prior_sets,
    prior_context,
)
from conftest import REFERENCE

SCHOOLS_Y = np.array([28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16])
SCHOOLS_V = np.array([14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6]) ** 2
CRINS_Y = np.array([-2.3097, -0.4595, -2.3026, -1.7579, -1.2585, -2.4179])
CRINS_V = np.array([0.3594, 0.3096, 0.7750, 0.2078, 0.4122, 2.3373])

SCHOOLS_PRIORS = PriorSet(
    "vignette", "bayesmeta vignette", Prior("Normal", {"mu": 0.0, "sigma": 50.0}), Prior("HalfCauchy", {"beta": 25.0})
)
CRINS_PRIORS = PriorSet(
    "ma01", "Roever 2020", Prior("Normal", {"mu": 0.0, "sigma": 4.0}), Prior("HalfNormal", {"sigma": 0.5})
)

INTEGRATE = json.loads((REFERENCE / "exact_integrate.json").read_text())
METAFOR = json.loads((REFERENCE / "exact_metafor.json").read_text())
DENSITY = json.loads((REFERENCE / "exact_density.json").read_text())


def test_eight_schools_against_bayesmeta():
    r = exact_posterior(SCHOOLS_Y, SCHOOLS_V, SCHOOLS_PRIORS)
    p = r.parameters
    assert p.loc["tau", "median"] == pytest.approx(4.758539, rel=1e-5)
    assert p.loc["tau", "eti_low"] == pytest.approx(0.2199559, rel=1e-5)
    assert p.loc["tau", "eti_high"] == pytest.approx(18.0531718, rel=1e-5)
    assert p.loc["mu", "median"] == pytest.approx(7.962961, rel=1e-3)
    assert p.loc["mu", "mean"] == pytest.approx(7.985729, rel=1e-3)
    assert p.loc["mu", "sd"] == pytest.approx(4.995762, rel=1e-3)
    assert r.probabilities["P(mu > 0)"] == pytest.approx(0.9487521, abs=1e-3)
    assert p.loc["theta_new", "mean"] == pytest.approx(7.985729, rel=1e-3)
    assert p.loc["theta_new", "sd"] == pytest.approx(9.126767, rel=1e-3)
    assert r.engine == "exact" and r.verdict.passed and r.verdict.reasons == ("exact",)
    assert list(p.index) == ["mu", "tau", "theta_new"]
    assert p[["ess_bulk", "ess_tail", "r_hat"]].isna().all().all()


def test_crins_against_bayesmeta():
    # yi and vi are published to 4 decimals; rounding them moves tau's summaries by up to
    # 1.5e-4 (relative), so tau is compared to 2e-4 here.
    r = exact_posterior(CRINS_Y, CRINS_V, CRINS_PRIORS)
    p = r.parameters
    assert p.loc["tau", "median"] == pytest.approx(0.3445022, rel=2e-4)
    assert p.loc["tau", "mean"] == pytest.approx(0.3810562, rel=2e-4)
    assert p.loc["tau", "sd"] == pytest.approx(0.2593672, rel=2e-4)
    assert p.loc["mu", "median"] == pytest.approx(-1.5734823, rel=1e-3)
    assert p.loc["mu", "mean"] == pytest.approx(-1.5764366, rel=1e-3)
    assert p.loc["mu", "sd"] == pytest.approx(0.3295298, rel=1e-3)
    # Central 95% interval of mu, about [-2.238, -0.933] (methods_references.md).
    assert p.loc["mu", "eti_low"] == pytest.approx(-2.238, abs=1e-3)
    assert p.loc["mu", "eti_high"] == pytest.approx(-0.933, abs=1e-3)
    tp = tau_posterior(CRINS_Y, CRINS_V, CRINS_PRIORS)
    assert 1 - tp.cdf(1.0)[0] == pytest.approx(0.02097488, rel=2e-4)


def _prior_set(case: dict) -> PriorSet:
    pri = {k: Prior.from_dict(v, k) for k, v in case["priors"].items()}
    return PriorSet(case["name"], "R reference", outcome_sd=case.get("outcome_sd"), **pri)


def _close(actual, expected, scale):
    """Agreement to 1e-6 of the posterior's spread (R's integrate() is run to 1e-11)."""
    if expected is None:
        assert actual is None or not np.isfinite(actual)
    else:
        assert actual == pytest.approx(expected, abs=1e-6 * scale)


@pytest.mark.parametrize("case", INTEGRATE["cases"], ids=[c["name"] for c in INTEGRATE["cases"]])
def test_against_r_integrate(case):
    names = tuple(case["names"])
    x = np.array(case["X"], float) if names else None
    r = exact_posterior(case["yi"], case["vi"], _prior_set(case), x, names)
    ref, p = case["results"], r.parameters
    assert list(p.index) == ["mu", "tau", *names, "theta_new"] + (["intercept"] if names else [])
    # The R script's "mu" is the intercept at covariates 0 and "mu_at_mean" the effect at
    # their means: this package's mu (one meaning of mu) and intercept.
    ref_of = {"mu": "mu_at_mean", "intercept": "mu"} if names else {}
    t = ref["tau"]
    spread = t["q975"] - t["q025"]
    for col, key in (("median", "q50"), ("eti_low", "q025"), ("eti_high", "q975"), ("mean", "mean")):
        _close(p.loc["tau", col], t[key], spread)
    sd = math.sqrt(t["second_moment"] - t["mean"] ** 2) if t["second_moment"] is not None else None
    _close(p.loc["tau", "sd"], sd, spread)
    _close(p.loc["tau", "hdi_low"], t["hdi95"][0], spread)
    _close(p.loc["tau", "hdi_high"], t["hdi95"][1], spread)
    tp = tau_posterior(case["yi"], case["vi"], _prior_set(case), x, names)
    _close(1 - tp.cdf(min(1.0, tp.model.hi))[0], t["p_gt_1"], 1.0)
    for name in ["mu", *names, "theta_new"] + (["intercept"] if names else []):
        q = ref[ref_of.get(name, name)]
        spread = q["q975"] - q["q025"]
        for col, key in (("mean", "mean"), ("sd", "sd"), ("median", "q50"), ("eti_low", "q025"), ("eti_high", "q975")):
            _close(p.loc[name, col], q[key], spread)
        if "hdi95" in q:
            _close(p.loc[name, "hdi_low"], q["hdi95"][0], spread)
            _close(p.loc[name, "hdi_high"], q["hdi95"][1], spread)
        if name == "mu":
            _close(r.probabilities["P(mu < 0)"], q["p_lt_0"], 1.0)
    se = r.study_effects
    np.testing.assert_allclose(se["mean"], ref["study_effects"]["mean"], rtol=0, atol=1e-6 * se["sd"].max())
    np.testing.assert_allclose(se["sd"], ref["study_effects"]["sd"], rtol=1e-6)


def test_k1_is_prior_driven_and_notes_it():
    case = next(c for c in INTEGRATE["cases"] if c["name"] == "schools_k1_halfcauchy")
    r = exact_posterior(case["yi"], case["vi"], _prior_set(case))
    assert r.k == 1 and any("k = 1" in n for n in r.notes)
    assert np.isnan(r.parameters.loc["tau", "sd"]) and np.isnan(r.parameters.loc["theta_new", "sd"])
    assert r.to_dict()["parameters"]["tau"]["sd"] is None


def _metafor_x():
    return np.column_stack([METAFOR["ablat"], METAFOR["year"]]).astype(float)


@pytest.mark.parametrize("fit", ["reml", "zero"])
def test_flat_priors_give_metafor_wls_given_tau(fit):
    ref = METAFOR["fits"][fit]
    flat = PriorSet("flat", "", Prior("Flat", {}), Prior("HalfNormal", {"sigma": 1.0}), beta=Prior("Flat", {}))
    names, mean, cov = coefficients_given_tau(
        METAFOR["yi"], METAFOR["vi"], math.sqrt(ref["tau2"]), flat, _metafor_x(), ("ablat", "year")
    )
    assert names == ("mu", "ablat", "year", "intercept")
    want = [ref["coef"]["intrcpt"], ref["coef"]["ablat"], ref["coef"]["year"]]
    want_se = [ref["se"]["intrcpt"], ref["se"]["ablat"], ref["se"]["year"]]
    np.testing.assert_allclose(mean[[3, 1, 2]], want, rtol=1e-8)  # metafor's intrcpt: our intercept
    np.testing.assert_allclose(np.sqrt(np.diag(cov))[[3, 1, 2]], want_se, rtol=1e-8)


def test_widening_slope_priors_approach_metafor():
    ref = METAFOR["fits"]["reml"]
    want = np.array([ref["coef"]["intrcpt"], ref["coef"]["ablat"], ref["coef"]["year"]])
    errors = []
    for width in (1.0, 10.0, 100.0, 1e4):
        wide = Prior("Normal", {"mu": 0.0, "sigma": width})
        ps = PriorSet("wide", "", wide, Prior("HalfNormal", {"sigma": 1.0}), beta=wide)
        mean = coefficients_given_tau(
            METAFOR["yi"], METAFOR["vi"], math.sqrt(ref["tau2"]), ps, _metafor_x(), ("ablat", "year")
        )[1]
        errors.append(np.max(np.abs(mean[[3, 1, 2]] - want) / np.abs(want)))
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 1e-6


def test_quadrature_converges_to_a_finer_grid():
    coarse = exact_posterior(CRINS_Y, CRINS_V, CRINS_PRIORS).parameters
    fine = exact_posterior(CRINS_Y, CRINS_V, CRINS_PRIORS, grid=Quadrature(step=0.01)).parameters
    cols = ["mean", "sd", "median", "eti_low", "eti_high", "hdi_low", "hdi_high"]
    np.testing.assert_allclose(coarse[cols].to_numpy(), fine[cols].to_numpy(), rtol=0, atol=1e-7)


def test_probabilities_mcid_and_labels():
    labels = [f"s{i}" for i in range(8)]
    r = exact_posterior(SCHOOLS_Y, SCHOOLS_V, SCHOOLS_PRIORS, mcid=-10.0, labels=labels, ci_prob=0.9)
    pr = r.probabilities
    assert set(pr) == {"P(mu < 0)", "P(mu > 0)", "P(mu < -10)"}
    assert pr["P(mu < 0)"] + pr["P(mu > 0)"] == pytest.approx(1.0)
    assert 0 < pr["P(mu < -10)"] < pr["P(mu < 0)"] and r.mcid == -10.0
    # A positive MCID (higher is better) asks for the upper tail: P(mu > 10) = 1 - F(10).
    up = exact_posterior(SCHOOLS_Y, SCHOOLS_V, SCHOOLS_PRIORS, mcid=10.0).probabilities
    assert set(up) == {"P(mu < 0)", "P(mu > 0)", "P(mu > 10)"}
    assert 0 < up["P(mu > 10)"] < up["P(mu > 0)"]
    assert r.study_effects["comparison"].tolist() == labels and r.ci_prob == 0.9
    assert list(r.study_effects.columns) == ["comparison", "study", "yi", "sei", "mean", "sd", "eti_low", "eti_high"]
    assert (
        r.to_dict()
        == exact_posterior(SCHOOLS_Y, SCHOOLS_V, SCHOOLS_PRIORS, mcid=-10.0, labels=labels, ci_prob=0.9).to_dict()
    )


def test_bundled_sets_run_on_data_scaled_priors():
    n = np.array([40, 60, 30, 80, 50, 44, 36, 70.0])
    ctx = prior_context(SCHOOLS_Y, SCHOOLS_V, n, n / 2, n / 2)
    for ps in bundled_prior_sets().values():
        r = exact_posterior(SCHOOLS_Y, SCHOOLS_V, ps.resolve(ctx))
        assert np.isfinite(r.parameters[["mean", "sd", "median", "hdi_low", "hdi_high"]].to_numpy()).all()
        assert r.prior == ps.name and r.prior_spec["mu"]["dist"] == "Normal"


def test_input_errors():
    with pytest.raises(InputError, match="comparison 2: vi must be finite and > 0"):
        exact_posterior([1.0, 2.0], [1.0, 0.0], CRINS_PRIORS)
    with pytest.raises(InputError, match="comparison 1: yi must be finite"):
        exact_posterior([np.nan, 2.0], [1.0, 1.0], CRINS_PRIORS)
    t_mu = PriorSet("t", "", Prior("StudentT", {"nu": 3.0, "sigma": 1.0}), Prior("HalfNormal", {"sigma": 1.0}))
    with pytest.raises(InputError, match="prior set 't', key 'mu': the exact engine needs a Normal or Flat"):
        exact_posterior(CRINS_Y, CRINS_V, t_mu)
    improper = PriorSet("i", "", Prior("Flat", {}), Prior("HalfFlat", {}))
    with pytest.raises(InputError, match="improper posterior with 2 comparisons"):
        exact_posterior(CRINS_Y[:2], CRINS_V[:2], improper)
    with pytest.raises(InputError, match="covariate 'x' is constant"):
        exact_posterior(CRINS_Y, CRINS_V, CRINS_PRIORS, np.ones((6, 1)), ("x",))
    with pytest.raises(InputError, match="mcid must be a finite number other than 0"):
        exact_posterior(CRINS_Y, CRINS_V, CRINS_PRIORS, mcid=0.0)
    with pytest.raises(ValueError, match="resolved"):
        exact_posterior(CRINS_Y, CRINS_V, bundled_prior_sets()["weakly_informative"])
    with pytest.raises(ValueError, match="covariates need a beta prior"):  # PriorSet.resolve gives one
        exact_posterior(CRINS_Y, CRINS_V, CRINS_PRIORS, np.arange(6.0)[:, None], ("x",))


def test_exact_re_exports_its_parts():
    from bayes_msc.bayes.exact import (
        densities as exact_densities,
    )
    from bayes_msc.bayes.exact import (
        mixtures,
    )
    from bayes_msc.bayes.exact import (
        model as exact_model,
    )
    from bayes_msc.bayes.exact import (
        posterior as exact,
    )
    from bayes_msc.bayes.exact import (
        tau as exact_tau,
    )

    for name in exact.__all__:
        homes = [
            m
            for m in (exact, exact_densities, exact_model, exact_tau, mixtures)
            if getattr(vars(m).get(name), "__module__", None) == m.__name__
        ]
        assert len(homes) == 1 and getattr(exact, name) is getattr(homes[0], name), name


def test_mixture_quantile_and_shortest_interval_of_a_skewed_mixture():
    from scipy import optimize, stats

    from bayes_msc.bayes.exact.posterior import mixture_cdf, mixture_hdi, mixture_quantile

    w = np.array([0.7, 0.3])
    mean, sd = np.array([[0.0, 3.0]]), np.array([[1.0, 2.0]])
    cdf = lambda x: w @ stats.norm.cdf(x, mean[0], sd[0])  # noqa: E731
    pdf = lambda x: w @ stats.norm.pdf(x, mean[0], sd[0])  # noqa: E731
    for q in (0.025, 0.5, 0.975):
        x = mixture_quantile(q, w, mean, sd)[0]
        assert cdf(x) == pytest.approx(q, abs=1e-12)
    assert mixture_cdf(np.array([1.0]), w, mean, sd)[0] == pytest.approx(cdf(1.0))
    a, b = mixture_hdi(0.95, w, mean, sd)[0]

    # The shortest interval, found here by brute force over its lower tail probability.
    def width(p):
        return optimize.brentq(lambda x: cdf(x) - p - 0.95, -20, 30) - optimize.brentq(lambda x: cdf(x) - p, -20, 30)

    p = optimize.minimize_scalar(width, bounds=(1e-9, 0.05 - 1e-9), method="bounded", options={"xatol": 1e-12}).x
    assert a == pytest.approx(optimize.brentq(lambda x: cdf(x) - p, -20, 30), abs=1e-5)
    assert b - a == pytest.approx(width(p), abs=1e-8)
    assert pdf(a) == pytest.approx(pdf(b), rel=1e-8) and cdf(b) - cdf(a) == pytest.approx(0.95)


# --- marginal densities (BayesResult.densities) ----------------------------------------------


def _case_fit(case: dict):
    names = tuple(case["names"])
    x = np.array(case["X"], float) if names else None
    return (case["yi"], case["vi"], _prior_set(case), x, names)


@pytest.mark.parametrize("case", DENSITY["cases"], ids=[c["name"] for c in DENSITY["cases"]])
def test_densities_against_r_integrate(case):
    from scipy.interpolate import CubicSpline

    r = exact_posterior(*_case_fit(case))
    assert list(r.densities) == list(r.parameters.index)
    ref_of = {"mu_at_mean": "mu", "mu": "intercept"} if r.covariates else {}  # the R script's names
    for name, ref in case["results"].items():
        grid, dens = r.densities[ref_of.get(name, name)]
        want = np.array(ref["density"])
        # A cubic spline through the grid adds < 1e-6 (of the peak) here.
        np.testing.assert_allclose(
            CubicSpline(grid, dens)(ref["x"]), want, rtol=0, atol=5e-6 * want.max(), err_msg=name
        )


@pytest.mark.parametrize("case", DENSITY["cases"][:3], ids=[c["name"] for c in DENSITY["cases"][:3]])
def test_densities_integrate_to_one_and_match_the_distribution_functions(case):
    from scipy import integrate
    from scipy.interpolate import CubicSpline

    r = exact_posterior(*_case_fit(case), ci_prob=0.9)
    p = r.parameters
    for name, (grid, dens) in r.densities.items():
        assert 200 <= grid.size <= 400 and np.all(np.diff(grid) > 0), name
        assert np.all(np.isfinite(dens)) and np.all(dens > 0), name
        assert not grid.flags.writeable and not dens.flags.writeable
        # From the 0.1% to the 99.9% quantile: 99.8% of the mass.
        assert integrate.simpson(dens, x=grid) == pytest.approx(0.998, abs=1e-5), name
        # Its integral reaches the engine's quantiles (found on the distribution function).
        cum = 0.001 + integrate.cumulative_simpson(dens, x=grid, initial=0.0)
        at = CubicSpline(grid, cum)(p.loc[name, ["eti_low", "median", "eti_high"]].to_numpy(float))
        np.testing.assert_allclose(at, [0.05, 0.5, 0.95], rtol=0, atol=1e-6, err_msg=name)
    # The derivative of tau's distribution function, and of mu's (a mixture over tau).
    tp = tau_posterior(*_case_fit(case))
    grid, dens = r.densities["tau"]
    assert tp.cdf(grid[[0, -1]]) == pytest.approx([0.001, 0.999], abs=1e-8)
    h = 1e-6 * (grid[-1] - grid[0])
    slope = (tp.cdf(grid[1:-1] + h) - tp.cdf(grid[1:-1] - h)) / (2 * h)
    np.testing.assert_allclose(dens[1:-1], slope, rtol=0, atol=1e-5 * dens.max())
    if not case["names"]:
        mean, sd = tp.b_mean[:, 0], np.sqrt(tp.b_cov[:, 0, 0])
        grid, dens = r.densities["mu"]

        def cdf(x):
            return mixture_cdf(x, tp.weight, np.tile(mean, (x.size, 1)), np.tile(sd, (x.size, 1)))

        h = 1e-6 * (grid[-1] - grid[0])
        np.testing.assert_allclose(dens, (cdf(grid + h) - cdf(grid - h)) / (2 * h), rtol=0, atol=1e-5 * dens.max())


def test_densities_are_computed_once_and_stay_out_of_json():
    r = exact_posterior(SCHOOLS_Y, SCHOOLS_V, SCHOOLS_PRIORS)
    assert set(r.densities) == {"mu", "tau", "theta_new"} and "tau" in r.densities
    first = r.densities["mu"]
    assert r.densities["mu"] is first
    with pytest.raises(KeyError):
        r.densities["sigma"]
    with pytest.raises(ValueError):
        first[1][0] = 1.0
    assert "densities" not in r.to_dict()
    assert {k: v[1].tolist() for k, v in r.densities.items()} == {
        k: v[1].tolist() for k, v in exact_posterior(SCHOOLS_Y, SCHOOLS_V, SCHOOLS_PRIORS).densities.items()
    }

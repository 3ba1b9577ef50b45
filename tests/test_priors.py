"""Prior sets: TOML reading and writing, validation errors, data scaling, densities, PyMC."""

from __future__ import annotations

import inspect
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import integrate, stats

import bayes_msc.priors as priors
from bayes_msc.errors import InputError
from bayes_msc.priors import (
    DEFAULT_BETA,
    SUPPORTED_DISTRIBUTIONS,
    Prior,
    PriorContext,
    PriorSet,
    Scaled,
    bundled_prior_sets,
    get_prior_set,
    load_prior_sets,
    prior_context,
    prior_sets_to_toml,
)
from bayes_msc.priors import distribution as prior_distributions
from bayes_msc.priors import files as prior_files
from bayes_msc.priors import sets as prior_sets
from bayes_msc.priors.distribution import _SPECS

BUNDLED = ("vague", "weakly_informative", "empirical", "skeptical")
CTX = PriorContext(unit_info_sd=30.0, outcome_sd=15.0, arm_mean_spread=4.0, arm_mean_centre=50.0)

# One valid parameterisation per supported distribution, for density checks.
EXAMPLES = {
    "Normal": {"mu": 1.0, "sigma": 2.0},
    "StudentT": {"nu": 5.0, "mu": -3.16, "sigma": 2.5},
    "Cauchy": {"alpha": 0.5, "beta": 2.0},
    "Uniform": {"lower": 0.5, "upper": 4.0},
    "HalfNormal": {"sigma": 0.5},
    "HalfCauchy": {"beta": 25.0},
    "HalfStudentT": {"nu": 3.0, "sigma": 2.0},
    "Exponential": {"lam": 0.7},
    "LogNormal": {"mu": 0.3, "sigma": 0.8},
    "Gamma": {"alpha": 2.5, "beta": 1.5},
    "InverseGamma": {"alpha": 3.0, "beta": 2.0},
}
ALTERNATIVES = {  # the other parameterisations PyMC accepts
    "Normal": {"mu": 1.0, "tau": 0.25},
    "HalfNormal": {"tau": 4.0},
    "HalfStudentT": {"nu": 3.0, "lam": 0.25},
    "Exponential": {"scale": 1.5},
    "Gamma": {"mu": 2.0, "sigma": 1.5},
    "InverseGamma": {"mu": 2.0, "sigma": 1.5},
    "StudentT": {"nu": 4.0, "lam": 2.0},
}


def write(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_text(path) -> str:
    with pytest.raises(InputError) as info:
        load_prior_sets(path)
    return str(info.value)


# --- bundled sets and the TOML round trip -------------------------------------------------


def test_bundled_sets_load_with_descriptions():
    sets = bundled_prior_sets()
    assert set(BUNDLED) <= set(sets)
    for name, ps in sets.items():
        assert ps.name == name and len(ps.description) > 40
        assert ps.mu is not None and (ps.tau is None) != (ps.log_tau2_smd is None)


def test_bundled_empirical_is_rhodes_2015():
    ps = get_prior_set("empirical")
    assert ps.tau is None
    assert ps.log_tau2_smd == Prior("StudentT", {"nu": 5.0, "mu": -3.16, "sigma": 2.50})


def test_skeptical_puts_5_percent_beyond_half_an_outcome_sd():
    sd = get_prior_set("skeptical").resolve(CTX).mu.params["sigma"]
    assert 2 * stats.norm.sf(0.5 * CTX.outcome_sd / sd) == pytest.approx(0.05, abs=1e-4)


def test_loading_prior_sets_does_not_import_pymc():
    code = (
        "import sys; from bayes_msc.priors import bundled_prior_sets; "
        "bundled_prior_sets(); print('pymc' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_priors_re_exports_every_public_name_of_its_parts():
    # bayes_msc.priors is the public entry point; its parts hold the code.
    parts = (prior_distributions, prior_sets, prior_files)
    for name in priors.__all__:
        homes = [m for m in parts if name in vars(m)]
        assert homes and getattr(priors, name) is getattr(homes[0], name), name
    public = {
        n
        for m in parts
        for n, v in vars(m).items()
        if not n.startswith("_")
        and getattr(v, "__module__", m.__name__) == m.__name__
        and not isinstance(v, type(priors))
    }
    assert public - {"annotations"} <= set(priors.__all__)


def test_toml_round_trip(tmp_path):
    sets = bundled_prior_sets()
    again = load_prior_sets(write(tmp_path, prior_sets_to_toml(sets)))
    assert again == sets
    for ps in sets.values():
        for prior in (ps.mu, ps.tau, ps.log_tau2_smd, ps.beta):
            if prior is not None:
                assert Prior.from_dict(prior.to_dict(), "here") == prior


def test_round_trip_of_a_set_with_every_key(tmp_path):
    ps = PriorSet(
        "odd name",
        'd "quoted"',
        Prior("Flat", {}),
        Prior("HalfFlat", {}),
        beta=Prior("StudentT", {"nu": 3.0, "sigma": Scaled(0.5, "outcome_sd")}),
        alpha=Prior("Normal", {"mu": Scaled(1.0, "arm_mean_centre"), "sigma": 1e-5}),
    )
    assert load_prior_sets(write(tmp_path, prior_sets_to_toml({ps.name: ps}))) == {ps.name: ps}


# --- validation errors: each names the file, the prior set and the key -----------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            'mu = { dist = "Normall", sigma = 1.0 }\ntau = { dist = "HalfNormal", sigma = 1.0 }',
            ["key 'mu'", "unknown distribution 'Normall'", "HalfCauchy"],
        ),
        (
            'mu = { dist = "Weibull", alpha = 1.0, beta = 1.0 }\ntau = { dist = "HalfNormal", sigma = 1.0 }',
            ["key 'mu'", "unknown distribution 'Weibull'"],
        ),
        (
            'mu = { dist = "Normal", sd = 1.0 }\ntau = { dist = "HalfNormal", sigma = 1.0 }',
            ["key 'mu'", "unknown parameter 'sd' of Normal", "allowed: mu, sigma, tau"],
        ),
        ('tau = { dist = "HalfNormal", sigma = 1.0 }', ["key 'mu' is missing"]),
        (
            'mu = { sigma = 1.0 }\ntau = { dist = "HalfNormal", sigma = 1.0 }',
            ["key 'mu'", "key 'dist' is missing", "allowed (PyMC names)"],
        ),
        ('mu = 0.0\ntau = { dist = "HalfNormal", sigma = 1.0 }', ["key 'mu'", "must be a table"]),
        ('mu = { dist = "Normal", sigma = 1.0 }', ["exactly one of key 'tau' and key 'log_tau2_smd'"]),
        (
            'mu = { dist = "Normal", sigma = 1.0 }\ntau = { dist = "HalfNormal", sigma = 1.0 }\n'
            'log_tau2_smd = { dist = "StudentT", nu = 5, mu = -3.16, sigma = 2.5 }',
            ["exactly one of key 'tau' and key 'log_tau2_smd'"],
        ),
        (
            'mu = { dist = "Normal", sigma = -1.0 }\ntau = { dist = "HalfNormal", sigma = 1.0 }',
            ["key 'mu'", "'sigma' of Normal must be > 0"],
        ),
        (
            'mu = { dist = "Normal", sigma = 1.0 }\ntau = { dist = "HalfNormal", sigma = { unit_info_sd = -0.5 } }',
            ["key 'tau'", "'sigma' of HalfNormal must be > 0"],
        ),
        (
            'mu = { dist = "Normal", mu = 0.0 }\ntau = { dist = "HalfNormal", sigma = 1.0 }',
            ["key 'mu'", "Normal takes (mu, sigma) or (mu, tau)"],
        ),
        (
            'mu = { dist = "Normal", sigma = 1.0 }\ntau = { dist = "Normal", sigma = 1.0 }',
            ["key 'tau'", "Normal does not fit 'tau'", "HalfNormal"],
        ),
        (
            'mu = { dist = "Normal", sigma = 1.0 }\ntau = { dist = "Uniform", lower = -1.0, upper = 5.0 }',
            ["key 'tau'", "lower >= 0"],
        ),
        (
            'mu = { dist = "Normal", sigma = { unit_sd = 1.0 } }\ntau = { dist = "HalfNormal", sigma = 1.0 }',
            ["key 'mu'", "one key, one of: unit_info_sd, outcome_sd"],
        ),
        (
            'mu = { dist = "Normal", sigma = "wide" }\ntau = { dist = "HalfNormal", sigma = 1.0 }',
            ["key 'mu'", "must be a number"],
        ),
        (
            'mu = { dist = "Normal", sigma = 1.0 }\ntau = { dist = "HalfNormal", sigma = 1.0 }\ngamma = 1',
            ["unknown key 'gamma'", "allowed: description, mu, tau"],
        ),
    ],
)
def test_each_problem_names_file_set_and_key(tmp_path, body, expected):
    path = write(tmp_path, "[prior_sets.mine]\ndescription = 'x'\n" + body + "\n")
    text = error_text(path)
    assert str(path) in text and "prior set 'mine'" in text
    for part in expected:
        assert part in text


def test_all_problems_of_a_file_are_reported_together(tmp_path):
    path = write(
        tmp_path,
        '[prior_sets.a]\nmu = { dist = "Nope" }\ntau = { dist = "HalfNormal", sigma = 1 }\n'
        '[prior_sets.b]\nmu = { dist = "Normal", sigma = 1 }\n',
    )
    with pytest.raises(InputError) as info:
        load_prior_sets(path)
    assert len(info.value.problems) == 2
    assert {p.key for p in info.value.problems} == {"prior_sets.a.mu", "prior_sets.b.tau"}


def test_malformed_toml_reports_the_parser_line(tmp_path):
    path = write(tmp_path, "[prior_sets.a]\ndescription = 'x'\nmu = { dist = \n")
    with pytest.raises(InputError) as info:
        load_prior_sets(path)
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.row == 3
    assert "malformed TOML" in problem.message and "line 3" in problem.message


def test_missing_file_and_file_without_sets(tmp_path):
    assert "cannot read" in error_text(tmp_path / "absent.toml")
    assert "no prior sets" in error_text(write(tmp_path, "x = 1\n"))
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert "not UTF-8" in error_text(binary)


def test_unknown_set_name_lists_the_names(tmp_path):
    with pytest.raises(InputError) as info:
        get_prior_set("informative")
    for name in BUNDLED:
        assert name in str(info.value)


# --- the static table against PyMC's real signatures -------------------------------------


def test_static_table_matches_pymc_signatures():
    pm = pytest.importorskip("pymc")
    for name, params in SUPPORTED_DISTRIBUTIONS.items():
        cls = getattr(pm, name)
        assert inspect.isclass(cls) and issubclass(cls, pm.Distribution), name
        sig = inspect.signature(cls.dist).parameters
        named = {
            k for k, p in sig.items() if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        }
        assert named == set(params), name
        for key, default in _SPECS[name].defaults.items():
            assert sig[key].default == default, (name, key)


@pytest.mark.parametrize("dist", sorted(EXAMPLES))
def test_logpdf_and_cdf_match_pymc(dist):
    pm = pytest.importorskip("pymc")
    for params in [EXAMPLES[dist]] + ([ALTERNATIVES[dist]] if dist in ALTERNATIVES else []):
        prior = Prior(dist, params)
        lo, hi = prior.support
        x = np.linspace(max(lo, -6.0) + 0.05, min(hi, 6.0) - 0.05, 9)
        rv = getattr(pm, dist).dist(**params)
        np.testing.assert_allclose(prior.logpdf(x), pm.logp(rv, x).eval(), rtol=1e-7, atol=1e-8)
        if dist != "HalfStudentT":  # PyMC has no logcdf for it
            np.testing.assert_allclose(prior.cdf(x), np.exp(pm.logcdf(rv, x).eval()), atol=1e-8)


def test_to_pymc_and_add_tau():
    pm = pytest.importorskip("pymc")
    ps = get_prior_set("empirical").resolve(CTX)
    with pm.Model() as model:
        mu = ps.mu.to_pymc("mu")
        tau = ps.add_tau()
    assert {"mu", "log_tau2_smd", "tau"} <= set(model.named_vars)
    assert "tau" in {v.name for v in model.deterministics}
    logp = model.compile_logp(vars=[model["log_tau2_smd"]], sum=False)
    point = {"mu": 0.0, "log_tau2_smd": -2.0}
    assert float(logp(point)[0]) == pytest.approx(stats.t(5, -3.16, 2.5).logpdf(-2.0))
    draws = pm.draw([model["log_tau2_smd"], tau], draws=50, random_seed=1)
    np.testing.assert_allclose(draws[1], CTX.outcome_sd * np.exp(draws[0] / 2))
    with pm.Model() as model2:
        t = get_prior_set("weakly_informative").resolve(CTX).add_tau()
    assert t.name == "tau" and model2["tau"] is t
    assert mu.name == "mu"


def test_to_pymc_needs_a_resolved_prior():
    with pytest.raises(ValueError, match="resolve"):
        get_prior_set("weakly_informative").mu.to_pymc("mu")


# --- data scaling ---------------------------------------------------------------------------


def test_resolve_scales_and_fills_defaults():
    ps = get_prior_set("weakly_informative")
    r = ps.resolve(CTX)
    assert r.resolved and not ps.resolved
    assert r.mu == Prior("Normal", {"mu": 0.0, "sigma": 30.0})
    assert r.tau == Prior("HalfNormal", {"sigma": 15.0})
    assert r.alpha == Prior("Normal", {"mu": 50.0, "sigma": 400.0})  # 100 x spread
    no_beta = PriorSet("x", "", ps.mu, ps.tau)
    assert no_beta.resolve(CTX).beta == DEFAULT_BETA.resolve(CTX)
    assert no_beta.resolve(PriorContext(30.0, 15.0)).alpha is None


def test_resolve_without_the_needed_scale_is_an_input_error():
    ctx = PriorContext(unit_info_sd=30.0, outcome_sd=None)
    with pytest.raises(InputError, match="prior set 'empirical', key 'log_tau2_smd'"):
        get_prior_set("empirical").resolve(ctx)
    with pytest.raises(InputError, match=r"prior set 'skeptical', key 'mu'.*outcome_sd"):
        get_prior_set("skeptical").resolve(ctx)


def test_prior_context_two_arm_mean_difference():
    # Equal arms of n/2 with within-arm SD s: v = 4 s^2 / n, so s_u = 2 s exactly
    # (the unit-information SD of a mean difference, Roever et al. 2021, Section 2.3).
    s, n = 12.0, np.array([40.0, 80.0, 24.0])
    vi = 4 * s**2 / n
    ctx = prior_context(np.zeros(3), vi, n, n / 2, n / 2, arm_means=[10.0, 14.0, 9.0, 11.0])
    assert ctx.unit_info_sd == pytest.approx(2 * s)
    assert ctx.outcome_sd == pytest.approx(s)
    assert ctx.arm_mean_centre == pytest.approx(11.0)
    assert ctx.arm_mean_spread == pytest.approx(np.std([10.0, 14.0, 9.0, 11.0], ddof=1))


def test_prior_context_pools_variances_with_n_minus_2_weights():
    n1, n2, sd = np.array([10.0, 30.0]), np.array([12.0, 28.0]), np.array([5.0, 8.0])
    vi = sd**2 * (1 / n1 + 1 / n2)
    ctx = prior_context(np.zeros(2), vi, n1 + n2, n1, n2)
    df = n1 + n2 - 2
    assert ctx.outcome_sd == pytest.approx(math.sqrt(np.sum(df * sd**2) / df.sum()))
    assert prior_context(np.zeros(2), vi, n1 + n2, measure="smd").outcome_sd == 1.0
    assert prior_context(np.zeros(2), vi, n1 + n2).outcome_sd is None
    with pytest.raises(InputError, match="vi must be finite and > 0"):
        prior_context(np.zeros(2), [0.1, 0.0], n1 + n2)


# --- tau densities -------------------------------------------------------------------------


def test_log_tau2_smd_density_of_tau_integrates_to_one():
    ps = get_prior_set("empirical").resolve(CTX)
    pdf = lambda t: math.exp(ps.tau_logpdf(np.array([t]))[0])  # noqa: E731
    total = sum(
        integrate.quad(lambda u: pdf(math.exp(u)) * math.exp(u), a, b, limit=200)[0]
        for a, b in [(-600, -10), (-10, 0), (0, 10), (10, 600)]
    )
    assert total == pytest.approx(1.0, abs=1e-8)
    # Its median is outcome_sd * exp(-3.16 / 2): halve the location on the log scale (Rhodes 2015).
    median = CTX.outcome_sd * math.exp(-3.16 / 2)
    assert ps.tau_cdf(np.array([median]))[0] == pytest.approx(0.5)
    mass = integrate.quad(pdf, 1e-300, median, limit=500)[0] + ps.tau_cdf(np.array([1e-300]))[0]
    assert mass == pytest.approx(0.5, abs=1e-7)


def test_tau_density_and_cdf_of_an_unresolved_log_tau2_smd_set_say_resolve_first():
    # tau_cdf divided by the unset outcome SD (TypeError) where tau_logpdf said what to do
    ps = get_prior_set("empirical")
    for f in (ps.tau_cdf, ps.tau_logpdf):
        with pytest.raises(ValueError, match=r"resolve\(\) the prior set first"):
            f(np.array([1.0]))


def test_tau_logpdf_of_a_plain_tau_prior():
    ps = get_prior_set("weakly_informative").resolve(CTX)
    t = np.array([0.5, 10.0, 40.0])
    np.testing.assert_allclose(ps.tau_logpdf(t), stats.halfnorm(scale=15.0).logpdf(t))


def test_priors_are_immutable_hashable_and_picklable():
    import copy
    import pickle

    ps = get_prior_set("empirical")
    assert pickle.loads(pickle.dumps(ps)) == ps and copy.deepcopy(ps) == ps
    assert hash(ps) == hash(copy.deepcopy(ps))
    with pytest.raises(TypeError, match="read-only"):
        ps.mu.params["sigma"] = 1.0

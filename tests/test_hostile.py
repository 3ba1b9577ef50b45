"""Hostile input beyond malformed files: numerical extremes, names, cells, arguments.

- Priors and data drawn across every prior family and across scales (hypothesis,
  derandomised): the command line exits 0 or 2, never 1, whatever passes validation
  (``tests/test_bad_input_corpus.py`` has the refusals' messages).
- Every prior family that passes validation works on every engine that claims it, and
  ``auto`` takes MCMC where the exact engine does not cover a family; Turner et al.'s
  log-normal prior of tau^2 (``log_tau2_smd``) runs on the exact engine.
- File-safe keys are distinct for distinct names (``pain-1``/``pain_1``), short for long
  names; CSV outputs neutralise formula injection without changing numbers.
- A one-chain posterior's verdict says why R-hat is missing; Python arguments are
  checked at the door, numpy scalars accepted; warnings reach the user as one line.

Every dataset here is invented.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bayes_msc as bm
from bayes_msc.cli.main import main
from bayes_msc.errors import InputError
from bayes_msc.priors.ranges import KINDS, _bounds

CORPUS = Path(__file__).resolve().parent / "corpus"

FORMS = {
    "Normal": ("mu", "sigma"),
    "StudentT": ("nu", "mu", "sigma"),
    "Cauchy": ("alpha", "beta"),
    "Uniform": ("lower", "upper"),
    "HalfNormal": ("sigma",),
    "HalfCauchy": ("beta",),
    "HalfStudentT": ("nu", "sigma"),
    "Exponential": ("lam",),
    "LogNormal": ("mu", "sigma"),
    "Gamma": ("alpha", "beta"),
    "InverseGamma": ("alpha", "beta"),
    "Flat": (),
    "HalfFlat": (),
}
MU_FAMILIES = ("Normal", "StudentT", "Cauchy", "Uniform", "Flat")
TAU_FAMILIES = (
    "HalfNormal",
    "HalfCauchy",
    "HalfStudentT",
    "Exponential",
    "LogNormal",
    "Gamma",
    "InverseGamma",
    "Uniform",
)
LOG_TAU2_FAMILIES = ("Normal", "StudentT", "Cauchy")


def write_dataset(folder: Path, scale: float, k: int, n: int, spread: float) -> Path:
    """An invented two-arm dataset: k trials of n patients per arm, outcome ``y`` at month 6
    with SDs of ``scale`` and effects of about -0.5 ``scale`` (spread ``spread`` SDs)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(k)
    arms, rows = ["study,arm,role,n"], ["study,arm,outcome,month,mean,sd"]
    for i in range(k):
        effect = -0.5 + spread * rng.normal()
        arms += [f"S{i},t,treatment,{n}", f"S{i},c,control,{n}"]
        rows += [
            f"S{i},t,y,6,{(10 + effect) * scale:.12g},{scale:.12g}",
            f"S{i},c,y,6,{10 * scale:.12g},{scale * (1 + 0.2 * rng.random()):.12g}",
        ]
    (folder / "arms.csv").write_text("\n".join(arms) + "\n")
    (folder / "outcomes.csv").write_text("\n".join(rows) + "\n")
    (folder / "dataset.toml").write_text("simulated = true\n")
    return folder


def prior_text(key: str, dist: str, role: str, u: list[float]) -> str:
    """``key = { dist = ..., ... }`` with each parameter at the fraction ``u`` of its allowed
    range (log-uniform for a positive range): edges included."""
    params: dict[str, float] = {}
    for name, frac in zip(FORMS[dist], u, strict=False):
        low, high, _ = _bounds(KINDS[dist][name], dist, role)
        params[name] = (
            math.exp(math.log(low) + frac * (math.log(high) - math.log(low))) if low > 0 else low + frac * (high - low)
        )
    if dist == "Uniform":
        low, high, _ = _bounds("location", dist, role)
        lower = 0.0 if role == "tau" else low + u[0] * (high - low) / 2
        params = {"lower": lower, "upper": min(high, lower + 10 ** (-6 + 12 * u[1]))}
    inner = ", ".join([f'dist = "{dist}"'] + [f"{p} = {v!r}" for p, v in params.items()])
    return f"{key} = {{ {inner} }}"


def run_cli(argv: list[str]) -> tuple[int, str]:
    """``bayes-msc ARGV`` in this process: its exit status and stderr (an exception other
    than the command line's own is a failure of the test)."""
    err, out = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(out):
        status = main(argv)
    return status, err.getvalue()


def fit_argv(root: Path, engine: str, draws: int = 100) -> list[str]:
    return [
        "fit",
        str(root / "data"),
        "--outcome",
        "y",
        "--month",
        "6",
        "--priors",
        str(root / "p.toml"),
        "--prior",
        "x",
        "--engine",
        engine,
        "--draws",
        str(draws),
        "--tune",
        "100",
        "--chains",
        "2",
        "--format",
        "json",
    ]


priors_and_data = dict(
    scale=st.floats(-5, 11),  # SDs from 1e-5 to 1e11: every number stays below the 1e12 limit
    k=st.integers(2, 6),
    n=st.sampled_from([2, 30, 10**9]),
    spread=st.floats(0, 3),
    mu=st.sampled_from(MU_FAMILIES),
    tau=st.sampled_from(TAU_FAMILIES + tuple("log_tau2_smd:" + f for f in LOG_TAU2_FAMILIES)),
    u=st.lists(st.floats(0, 1), min_size=6, max_size=6),
)
exact_priors_and_data = {**priors_and_data, "mu": st.sampled_from(("Normal", "Flat"))}
"""The same with the mu families the exact engine covers: ``auto`` computes them exactly
(fast); the other families are sampled by MCMC (compiled per family: slow)."""


def _check_priors_and_data(tmp: Path, engine: str, scale, k, n, spread, mu, tau, u) -> None:
    root = tmp / f"case{abs(hash((scale, k, n, spread, mu, tau, tuple(u))))}"
    if root.exists():
        shutil.rmtree(root)
    write_dataset(root / "data", 10.0**scale, k, n, spread)
    key, family = ("log_tau2_smd", tau.split(":")[1]) if tau.startswith("log_tau2_smd:") else ("tau", tau)
    text = "\n".join(["[prior_sets.x]", prior_text("mu", mu, "mu", u[:3]), prior_text(key, family, key, u[3:])])
    (root / "p.toml").write_text(text + "\n")
    status, err = run_cli(fit_argv(root, engine))
    assert status in (0, 2), f"exit {status}\n{text}\n{err}"
    assert "Traceback" not in err
    if status == 2:  # refused: the message says where and what is allowed
        assert err.startswith("bayes-msc fit: ") and ("allowed" in err or "engine" in err), err
    shutil.rmtree(root)


@settings(max_examples=30, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(**exact_priors_and_data)
def test_any_prior_and_data_exit_0_or_2_on_the_default_engine(tmp_path_factory, scale, k, n, spread, mu, tau, u):
    _check_priors_and_data(tmp_path_factory.getbasetemp(), "auto", scale, k, n, spread, mu, tau, u)


@settings(max_examples=6, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    scale=st.floats(-5, 11),
    k=st.integers(2, 5),
    u=st.lists(st.floats(0, 1), min_size=6, max_size=6),
)
def test_normal_and_halfnormal_priors_at_their_limits_exit_0_or_2_on_mcmc(tmp_path_factory, scale, k, u):
    # One model structure (compiled once): the extremes of its parameters on any data scale.
    u = [float(round(x)) if i in (1, 3) else x for i, x in enumerate(u)]  # the scale at an edge of its range
    _check_priors_and_data(tmp_path_factory.getbasetemp(), "mcmc", scale, k, 30, 1.0, "Normal", "HalfNormal", u)


@pytest.mark.slow
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(**priors_and_data)
def test_any_prior_and_data_exit_0_or_2_on_mcmc(tmp_path_factory, scale, k, n, spread, mu, tau, u):
    _check_priors_and_data(tmp_path_factory.getbasetemp(), "mcmc", scale, k, n, spread, mu, tau, u)


# ------------------------------------------------------------------ engines and families


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return bm.read_dataset(write_dataset(tmp_path_factory.mktemp("families") / "data_simulated", 15.0, 5, 40, 0.5))


@pytest.fixture(scope="module")
def table(dataset):
    return bm.effect_table(dataset, "y", 6)


@pytest.mark.parametrize("family", TAU_FAMILIES + ("HalfFlat",))
def test_every_tau_family_runs_on_the_exact_engine(table, family: str) -> None:
    from bayes_msc.bayes.engines import choose_engine
    from bayes_msc.priors import PriorSet

    params = {"HalfFlat": {}, "Uniform": {"lower": 0.0, "upper": 100.0}}.get(
        family, {name: 5.0 if name != "nu" else 3.0 for name in FORMS[family]}
    )
    if family == "LogNormal":
        params = {"mu": 1.0, "sigma": 1.0}
    ps = PriorSet.from_dict("f", {"mu": {"dist": "Normal", "mu": 0, "sigma": 50}, "tau": {"dist": family, **params}})
    assert choose_engine("auto", "re", ps) == "exact"
    res = bm.fit(table, prior=ps)
    assert res.engine == "exact"
    assert np.isfinite(res.parameters.loc[["mu", "tau"], ["mean", "eti_low", "eti_high"]].to_numpy()).all()


@pytest.mark.parametrize("family", LOG_TAU2_FAMILIES)
def test_a_log_normal_tau2_prior_runs_on_the_exact_engine(table, family: str) -> None:
    """Turner et al. (2015): log(tau^2) ~ Normal(-2.56, 1.74^2) for SMDs (and its heavier-tailed kin)."""
    from bayes_msc.priors import PriorSet

    params = {"Normal": {"mu": -2.56, "sigma": 1.74}, "StudentT": {"nu": 5, "mu": -2.56, "sigma": 1.74}}.get(
        family, {"alpha": -2.56, "beta": 1.74}
    )
    ps = PriorSet.from_dict(
        "turner", {"mu": {"dist": "Normal", "mu": 0, "sigma": 10}, "log_tau2_smd": {"dist": family, **params}}
    )
    res = bm.fit(table, prior=ps)  # auto
    assert res.engine == "exact"
    assert np.isfinite(res.parameters.loc["tau", ["mean", "eti_low", "eti_high"]].to_numpy()).all()


@pytest.mark.parametrize("family", MU_FAMILIES)
def test_auto_takes_mcmc_where_the_exact_engine_does_not_cover_a_family(family: str) -> None:
    from bayes_msc.bayes.engines import EXACT_PRIOR_FAMILIES, choose_engine
    from bayes_msc.priors import PriorSet

    params = {"Flat": {}, "Uniform": {"lower": -100.0, "upper": 100.0}, "Cauchy": {"alpha": 0.0, "beta": 10.0}}.get(
        family, {"mu": 0.0, "sigma": 10.0, **({"nu": 4.0} if family == "StudentT" else {})}
    )
    for key in ("mu", "beta"):
        spec = {"mu": {"dist": "Normal", "mu": 0, "sigma": 10}, "tau": {"dist": "HalfNormal", "sigma": 5}}
        spec[key] = {"dist": family, **params}
        ps = PriorSet.from_dict("f", spec)
        covariates = ("x",) if key == "beta" else ()
        expected = "exact" if family in EXACT_PRIOR_FAMILIES else "mcmc"
        assert choose_engine("auto", "re", ps, covariates) == expected


# ----------------------------------------------------------------------- keys and cells


def _spec(root: Path, outcomes: list[str]) -> Path:
    text = (
        '[dataset]\npath = "data_simulated"\n[analysis]\noutcomes = '
        + json.dumps(outcomes)
        + '\nmonths = [6]\n[frequentist]\nmethod = "dl"\n[bayes]\nmodels = ["re"]\npriors = ["weakly_informative"]\n'
        'engine = "exact"\n'
    )
    (root / "spec.toml").write_text(text)
    return root / "spec.toml"


def test_names_that_differ_in_punctuation_or_are_long_get_distinct_short_files(tmp_path: Path) -> None:
    long = "pain " + "x" * 300
    names = ["pain-1", "pain_1", long]
    data = write_dataset(tmp_path / "data_simulated", 10.0, 3, 30, 0.5)
    text = (data / "outcomes.csv").read_text().splitlines()
    rows = [
        line.replace(",y,", f",{json.dumps(name) if ' ' in name else name},") for name in names for line in text[1:]
    ]
    (data / "outcomes.csv").write_text("\n".join([text[0], *rows]) + "\n")
    res = bm.run_spec(_spec(tmp_path, names), out=tmp_path / "report")
    keys = [c.cell.key for c in res.cells]
    assert len(set(keys)) == 3 and max(len(k) for k in keys) <= 120, keys
    forests = sorted(p.name for p in (tmp_path / "report" / "figures").glob("forest_*.png"))
    assert len(forests) == 3 and all(len(name.encode()) < 150 for name in forests), forests


def test_csv_outputs_neutralise_formulas_and_keep_numbers(tmp_path: Path) -> None:
    attack = "=cmd|' /C calc'!A0"
    data = write_dataset(tmp_path / "data_simulated", 10.0, 3, 30, 0.5)
    for name in ("arms.csv", "outcomes.csv"):
        path = data / name
        path.write_text(path.read_text().replace("S0,", f'"{attack}",').replace("S1,", "@SUM(A1),"))
    bm.run_spec(_spec(tmp_path, ["y"]), out=tmp_path / "report")
    effects = pd.read_csv(tmp_path / "report" / "tables" / "effects.csv")
    text = (tmp_path / "report" / "tables" / "effects.csv").read_text()
    assert "'" + attack in text and "'@SUM(A1)" in text
    assert not any(line.startswith(("=", "@", '"=', '"@')) for line in text.splitlines())
    assert pd.api.types.is_float_dtype(effects["yi"]) and (effects["yi"] < 0).any()  # numbers stay numbers
    status, _ = run_cli(["effects", str(data), "--outcome", "y", "--month", "6", "--format", "csv"])
    assert status == 0
    out = io.StringIO()
    with redirect_stdout(out):
        main(["effects", str(data), "--outcome", "y", "--month", "6", "--format", "csv"])
    frame = pd.read_csv(io.StringIO(out.getvalue()))
    assert set(frame["study"]) == {"'" + attack, "'@SUM(A1)", "S2"}
    assert (frame["yi"] < 0).any() and pd.api.types.is_float_dtype(frame["yi"])


# ----------------------------------------------------------------- verdicts, API, warnings


def test_a_one_chain_verdict_says_why_r_hat_is_missing(table) -> None:
    from bayes_msc.bayes.mcmc.summary import ONE_CHAIN

    res = bm.fit(table, prior="weakly_informative", engine="mcmc", chains=1, draws=200, tune=200, seed=2)
    assert res.verdict.reasons[:1] == (ONE_CHAIN,) and not res.verdict.passed
    assert "nan" not in str(res.verdict).lower()
    assert "re-sampled" not in " ".join(res.notes)  # more draws cannot give a second chain


BAD_CALLS = [
    ("read_dataset", lambda ds, et: bm.read_dataset(None), "path"),
    ("effect_table outcome", lambda ds, et: bm.effect_table(ds, ["y"], 6), "outcome"),
    ("effect_table month", lambda ds, et: bm.effect_table(ds, "y", None), "month"),
    ("effect_table option", lambda ds, et: bm.effect_table(ds, "y", 6, bogus=1), "bogus"),
    ("effect_table r", lambda ds, et: bm.effect_table(ds, "y", 6, r="0.5"), "r"),
    ("pool level", lambda ds, et: bm.pool(et, level="0.95"), "level"),
    ("pool hksj", lambda ds, et: bm.pool(et, hksj="yes"), "hksj"),
    ("pool frame", lambda ds, et: bm.pool(pd.DataFrame()), "effects"),
    ("metareg string", lambda ds, et: bm.metareg(et, "dose"), "covariates"),
    ("metareg None", lambda ds, et: bm.metareg(et, None), "covariates"),
    ("metareg numbers", lambda ds, et: bm.metareg(et, [1]), "covariates"),
    ("fit covariates", lambda ds, et: bm.fit(et, covariates="dose"), "covariates"),
    ("fit draws float", lambda ds, et: bm.fit(et, draws=100.0), "draws"),
    ("fit seed 2^64", lambda ds, et: bm.fit(et, seed=2**64), "seed"),
    ("fit priors_path", lambda ds, et: bm.fit(et, priors_path=123), "priors_path"),
    ("fit dataset", lambda ds, et: bm.fit(ds), "data"),
    ("compare_priors string", lambda ds, et: bm.compare_priors(et, priors="weakly_informative"), "priors"),
    ("compare_priors None item", lambda ds, et: bm.compare_priors(et, priors=[None]), "priors"),
    ("simulate None", lambda ds, et: bm.simulate(None, None), "design"),
    ("simulate_dataset None", lambda ds, et: bm.simulate_dataset(None, None, None), "design"),
    ("load_spec None", lambda ds, et: bm.load_spec(None), "path"),
    ("run_spec None", lambda ds, et: bm.run_spec(None), "spec"),
    ("run_spec out", lambda ds, et: bm.run_spec({}, out=""), "out"),
]


@pytest.mark.parametrize("name, call, argument", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_python_arguments_are_checked_at_the_door(dataset, table, name, call, argument) -> None:
    with pytest.raises(InputError) as info:
        call(dataset, table)
    assert argument in {p.argument for p in info.value.problems}, info.value


def test_numpy_scalars_are_accepted_where_python_numbers_are(dataset) -> None:
    et = bm.effect_table(dataset, np.str_("y"), np.int64(6), r=np.float32(0.5), rescale=np.bool_(True))
    assert et.k == 5
    assert bm.pool(et, level=np.float32(0.9)).k == 5
    res = bm.fit(et, draws=np.int64(50), tune=np.int32(50), chains=np.int16(1), seed=np.uint32(7), engine="mcmc")
    assert (res.draws, res.chains, res.seed) == (50, 1, 7) and type(res.seed) is int
    assert bm.fit(et, ci_prob=np.float64(0.9), mcid=np.float32(2.0)).ci_prob == pytest.approx(0.9)


def test_warnings_reach_the_user_as_one_line_without_source_paths(monkeypatch) -> None:
    from bayes_msc.cli.commands import validate

    def noisy(args):
        np.log(np.zeros(1))  # numpy: divide by zero (not shown: an intermediate value)
        warnings.warn("a library's warning", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(validate, "run", noisy)
    status, err = run_cli(["validate", str(CORPUS / "simulated_base")])
    assert status == 0
    assert err == "bayes-msc: warning: a library's warning\n", err


def test_the_guarantees_page_is_the_readme_section() -> None:
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Errors and guarantees") : readme.index("## Layout")].rstrip() + "\n"
    assert (root / "docs" / "GUARANTEES.md").read_text(encoding="utf-8") == section


def test_a_sampler_that_cannot_start_is_a_clean_refusal(tmp_path: Path) -> None:
    # Very precise trials (n = 10^9 per arm) under a tau prior of scale 1e5: the centred
    # form has no finite starting gradient. Found by the property test.
    write_dataset(tmp_path / "data", 1.0, 6, 10**9, 1.0)
    (tmp_path / "p.toml").write_text(
        '[prior_sets.x]\nmu = { dist = "Flat" }\ntau = { dist = "HalfNormal", sigma = 117142.87684081402 }\n'
    )
    argv = fit_argv(tmp_path, "mcmc")
    status, err = run_cli([*argv, "--parameterisation", "centred"])
    assert status in (0, 2), err
    if status == 2:
        assert "could not start" in err and "prior set 'x'" in err, err
    status, err = run_cli(argv)  # auto: another form starts
    assert status == 0, err


def test_the_quadrature_grid_stays_bounded_when_the_prior_is_far_from_the_data(tmp_path: Path) -> None:
    # Found by the property test: very precise trials (SE 5e-10) against a mu prior at 1e6
    # with SD 1e-6 asked the quadrature for millions of nodes (five minutes for one fit).
    from bayes_msc.bayes.exact.model import make_model
    from bayes_msc.bayes.exact.tau import MAX_NODES, quadrature
    from bayes_msc.priors import PriorSet

    table = bm.effect_table(write_dataset(tmp_path / "data", 1e-5, 2, 10**9, 2.13), "y", 6)
    ps = PriorSet.from_dict(
        "far",
        {
            "mu": {"dist": "Normal", "mu": 1e6, "sigma": 1e-6},
            "log_tau2_smd": {"dist": "Cauchy", "alpha": -30.0, "beta": 1e-3},
        },
    )
    from bayes_msc.bayes.fit import prepare
    from bayes_msc.bayes.inputs import resolve_priors

    prepared = prepare(table, "re", ())
    resolved = resolve_priors(ps, prepared, "md")
    grid = quadrature(make_model(prepared.inputs.yi, prepared.inputs.vi, resolved, None, ()))
    assert grid.x.size <= MAX_NODES + 1 and not grid.converged  # flagged in the result's notes


def test_compare_priors_with_a_log_normal_tau2_prior_runs(tmp_path: Path) -> None:
    # It crashed the exact engine (KeyError 'nu') and so compare-priors and run with auto.
    data = write_dataset(tmp_path / "data_simulated", 15.0, 5, 40, 0.5)
    (tmp_path / "p.toml").write_text(
        '[prior_sets.turner]\nmu = { dist = "Normal", mu = 0.0, sigma = 10.0 }\n'
        'log_tau2_smd = { dist = "Normal", mu = -2.56, sigma = 1.74 }\n'
        '[prior_sets.hn]\nmu = { dist = "Normal", mu = 0.0, sigma = 10.0 }\ntau = { dist = "HalfNormal", sigma = 1.0 }\n'
    )
    argv = ["compare-priors", str(data), "--outcome", "y", "--month", "6", "--measure", "smd"]
    status, err = run_cli([*argv, "--priors", str(tmp_path / "p.toml")])
    assert status == 0, err

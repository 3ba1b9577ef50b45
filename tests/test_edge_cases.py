"""Edge cases with defined behaviour.

- k = 1: frequentist random effects refused with a message (fixed effect allowed, the
  paper's rule falls back to it); a Bayesian fit is allowed and says tau is prior-driven.
- k = 2, all effects identical, variances over 20 orders of magnitude, tiny and huge
  scales: equal to R metafor 3.8.1 (``tests/reference/simulated_edge_cases_metafor.json``,
  made by ``tests/reference/r/make_simulated_edge_cases.R`` from invented inputs).
- vi = 0: an error naming the comparison and ``vi`` (frequentist, exact engine, priors).
- a covariate constant across the comparisons: an error naming it (library and CLI).
- a trial with four treatment arms and one control: ``split`` divides the control's n by
  four (Cochrane Handbook 23.3.4), ``shared`` keeps it whole with the control's variance of
  its mean as the comparisons' covariance; effect sizes equal metafor's ``escalc`` and the
  pooled REML fit with the shared covariance equals ``rma.mv`` (same reference file).
- loud diagnostics: a deliberately hard posterior (centred parameterisation forced on
  three small trials, 10 tuning steps) fails its verdict in the JSON, the table and the
  run report, and ``--strict`` makes ``fit`` and ``run`` exit with status 3.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from bayes_msc.bayes.exact.posterior import exact_posterior
from bayes_msc.data.effects import effect_table
from bayes_msc.data.reader import read_dataset
from bayes_msc.errors import InputError
from bayes_msc.frequentist.rma import leave_one_out, rma
from bayes_msc.priors import PriorContext, PriorSet, prior_context

TESTS = Path(__file__).resolve().parent
REF = json.loads((TESTS / "reference" / "simulated_edge_cases_metafor.json").read_text())
MULTIARM = TESTS / "corpus" / "simulated_multiarm"
BASE = TESTS / "corpus" / "simulated_base"

METHODS = {
    "fe": {"method": "fe"},
    "dl": {"method": "dl"},
    "reml": {"method": "reml"},
    "pm": {"method": "pm"},
    "dl_hksj": {"method": "dl", "hksj": True},
}
Y_FIELDS = ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high")
UNITLESS = ("z", "p", "i2", "h2", "q", "q_p")


def _messages(err: InputError) -> str:
    return "\n".join(str(p) for p in err.problems)


def _close(ours: float, theirs: float | None, scale: float, what: str) -> None:
    if theirs is None:  # metafor: NA (e.g. no prediction interval for the FE model)
        assert ours is None or not math.isfinite(ours), what
        return
    assert ours == pytest.approx(theirs, rel=1e-6, abs=1e-9 * scale), what


def _compare(res, ref: dict, vi: np.ndarray, label: str) -> None:
    y_scale = float(np.sqrt(np.median(vi)))
    for f in Y_FIELDS:
        _close(getattr(res, f), ref[f], y_scale, f"{label}: {f}")
    _close(res.tau2, ref["tau2"], y_scale**2, f"{label}: tau2")
    for f in UNITLESS:
        _close(getattr(res, f), ref[f], 1.0, f"{label}: {f}")
    assert res.q_df == ref["q_df"]


CASES = [
    (name, fit) for name, case in REF["cases"].items() if case["V"] is None for fit in case["fits"] if fit in METHODS
]


@pytest.mark.parametrize(("name", "fit"), [pytest.param(n, f, id=f"{n}-{f}") for n, f in CASES])
def test_edge_case_pooling_equals_metafor(name: str, fit: str) -> None:
    case = REF["cases"][name]
    yi, vi = np.array(case["yi"], float), np.array(case["vi"], float)
    res = rma(yi, vi, **METHODS[fit])
    _compare(res, case["fits"][fit], vi, f"{name} {case['fits'][fit]['call']}")


@pytest.mark.parametrize("name", [n for n, c in REF["cases"].items() if "dl_pi_t" in c["fits"]])
def test_t_prediction_interval_equals_metafor_riley(name: str) -> None:
    case = REF["cases"][name]
    ref = case["fits"]["dl_pi_t"]
    res = rma(case["yi"], case["vi"], method="dl", pi="t")
    scale = float(np.sqrt(np.median(case["vi"])))
    _close(res.pi_low, ref["pi_low"], scale, ref["call"])
    _close(res.pi_high, ref["pi_high"], scale, ref["call"])
    assert res.pi_df == max(1, len(case["yi"]) - 2)


# ------------------------------------------------------------------------------- k = 1


def test_k1_random_effects_refused_fixed_effect_allowed() -> None:
    for method in ("dl", "reml", "pm"):
        with pytest.raises(InputError) as err:
            rma([3.0], [4.0], method=method)
        text = _messages(err.value)
        assert "k = 1" in text and "fixed-effect" in text, text
    fe = rma([3.0], [4.0], method="fe")  # one study: the pooled estimate is the study itself
    assert (fe.estimate, fe.se, fe.k) == (3.0, 2.0, 1)
    paper = rma([3.0], [4.0], method="paper")  # the paper's rule falls back to fixed effect
    assert paper.method == "fe" and "k = 1" in paper.why
    with pytest.raises(InputError, match="k >= 2"):
        leave_one_out([3.0], [4.0], method="fe")


def _one_comparison_table():
    ds = read_dataset(BASE)
    et = effect_table(ds, "womac", 6)  # one study gives womac at month 6
    assert et.k == 1
    return et


def _prior(name: str = "edge") -> PriorSet:
    return PriorSet.from_dict(
        name, {"mu": {"dist": "Normal", "mu": 0.0, "sigma": 50.0}, "tau": {"dist": "HalfNormal", "sigma": 10.0}}
    )


def test_k1_bayesian_fit_allowed_and_says_tau_is_prior_driven() -> None:
    from bayes_msc.bayes.fit import fit

    res = fit(_one_comparison_table(), prior=_prior(), engine="exact")
    assert res.k == 1
    assert any("prior-driven" in note for note in res.notes), res.notes
    assert "prior-driven" in json.dumps(res.to_dict())
    p = res.parameters
    assert np.isfinite(p.loc[["mu", "tau"], ["mean", "median", "eti_low", "eti_high"]].to_numpy()).all()
    # One comparison cannot pin tau down: its posterior interval stays about as wide as the prior's
    # HalfNormal(10) central 95% interval [0.31, 22.4].
    assert p.loc["tau", "eti_high"] > 10.0


# ------------------------------------------------------------------------ identical effects


def test_identical_effects_give_zero_heterogeneity() -> None:
    case = REF["cases"]["identical"]
    for method in ("fe", "dl", "reml", "pm"):
        res = rma(case["yi"], case["vi"], method=method)
        assert res.tau2 == 0.0 and res.i2 == 0.0 and res.q == pytest.approx(0.0, abs=1e-12)
        assert res.estimate == pytest.approx(2.0)
    # Knapp-Hartung: zero residual sum of squares, zero scale factor (metafor gives se 0).
    res = rma(case["yi"], case["vi"], method="dl", hksj=True)
    assert res.se == pytest.approx(case["fits"]["dl_hksj"]["se"], abs=1e-12)


# ------------------------------------------------------------------------------- vi = 0


def test_zero_variance_is_an_error_naming_the_comparison() -> None:
    with pytest.raises(InputError) as err:
        rma([1.0, 2.0, 3.0], [0.5, 0.0, 1.0], labels=["a", "b", "c"])
    problem = err.value.problems[0]
    assert problem.column == "vi" and problem.row == 3 and "'b'" in problem.message
    with pytest.raises(InputError, match="vi"):
        exact_posterior([1.0, 2.0], [0.5, 0.0], _prior().resolve(PriorContext(1.0, 1.0)))
    with pytest.raises(InputError, match="vi"):
        prior_context([1.0, 2.0], [0.5, 0.0], [20, 30])
    for bad in (np.nan, np.inf, -1.0):
        with pytest.raises(InputError, match="vi"):
            rma([1.0, 2.0], [0.5, bad])


# ------------------------------------------------------------------ constant covariate


def test_constant_covariate_is_an_error_naming_it() -> None:
    with pytest.raises(InputError) as err:
        rma(
            [1.0, 2.0, 3.0, 4.0],
            [1.0, 1.0, 1.0, 1.0],
            method="reml",
            X=[[5.0], [5.0], [5.0], [5.0]],
            names=["age_mean"],
        )
    assert "age_mean" in _messages(err.value) and "constant" in _messages(err.value)


def test_constant_covariate_in_a_bayesian_fit_is_an_error_naming_it(tmp_path: Path) -> None:
    from bayes_msc.bayes.fit import fit

    data = tmp_path / "simulated_constant_age"
    data.mkdir()
    for name in ("outcomes.csv", "studies.csv"):
        (data / name).write_bytes((BASE / name).read_bytes())
    lines = (BASE / "arms.csv").read_text().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    (data / "arms.csv").write_text("\n".join([lines[0]] + [",".join(r[:5] + ["60"] + r[6:]) for r in rows]) + "\n")
    et = effect_table(read_dataset(data), "vas", 6)
    with pytest.raises(InputError) as err:
        fit(et, prior=_prior(), covariates=["age_mean"], engine="exact")
    assert "age_mean" in _messages(err.value), _messages(err.value)


# -------------------------------------------------------------- four treatment arms


@pytest.fixture(scope="module")
def multiarm():
    return read_dataset(MULTIARM)


def test_four_arm_trial_split_divides_the_control_n(multiarm) -> None:
    ref = REF["cases"]["multiarm_split"]
    et = effect_table(multiarm, "vas", 6, multiarm="split")
    d = et.data
    assert [f"{s} {t}" for s, t in zip(d["study"], d["treatment_arm"], strict=False)] == ref["comparison"]
    m1 = d["study"] == "M1"
    assert list(d.loc[m1, "n_control"]) == [10.0] * 4  # 40 / 4 comparisons
    assert list(d.loc[~m1, "n_control"]) == [30.0, 25.0]
    np.testing.assert_allclose(et.yi, ref["yi"], rtol=1e-12)
    np.testing.assert_allclose(et.vi, ref["vi"], rtol=1e-12)  # metafor escalc("MD") with n2i = 40 / 4
    np.testing.assert_array_equal(et.vcov, np.diag(et.vi))  # split: independent comparisons
    assert any("split" in n and "M1" in n for n in et.notes), et.notes
    for fit in ("dl", "reml"):
        _compare(rma(et.yi, et.vi, method=fit), ref["fits"][fit], et.vi, f"split {fit}")


def test_four_arm_trial_shared_keeps_n_and_models_the_covariance(multiarm) -> None:
    ref = REF["cases"]["multiarm_shared"]
    et = effect_table(multiarm, "vas", 6, multiarm="shared")
    assert list(et.data["n_control"]) == [40.0] * 4 + [30.0, 25.0]
    np.testing.assert_allclose(et.vi, ref["vi"], rtol=1e-12)
    np.testing.assert_allclose(et.vcov, np.array(ref["V"]), rtol=1e-12)  # 20^2 / 40 = 10 off the diagonal
    assert np.all(np.linalg.eigvalsh(et.vcov) > 0)
    assert any("covariance" in n and "M1" in n for n in et.notes), et.notes
    # Pooled with the covariance: metafor's rma.mv(yi, V, random = ~ 1 | id).
    for fit in ("reml", "fe"):
        res = rma(et.yi, et.vi, method=fit, V=et.vcov)
        r = ref["fits"][fit]
        scale = float(np.sqrt(np.median(et.vi)))
        for f in ("estimate", "se", "ci_low", "ci_high", "z", "p", "tau2", "q", "q_p"):
            _close(getattr(res, f), r[f], scale**2 if f == "tau2" else scale, f"shared {r['call']}: {f}")
        assert res.shared_covariance


def test_four_arm_trial_arm_table_counts_the_control_once(multiarm) -> None:
    from bayes_msc.data.effects import arm_table

    at = arm_table(multiarm, "vas", 6)
    m1 = at.data[at.data["study"] == "M1"]
    assert list(m1["arm"]).count("ctl") == 1 and float(m1.loc[m1["arm"] == "ctl", "n"].iloc[0]) == 40.0
    assert len(at.comparisons) == 6


# ------------------------------------------------------------------------ through the CLI


def _runner_module():
    name = "corpus_cli_runner"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TESTS / "corpus" / "cli_runner.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def runner():
    r = _runner_module().CliRunner()
    yield r
    r.close()


def test_cli_k1_pool_refused_and_fixed_effect_allowed(runner, tmp_path: Path) -> None:
    res = runner.run(["pool", BASE, "--outcome", "womac", "--month", "6"], cwd=tmp_path)
    assert res.returncode == 2 and "k = 1" in res.stderr and "Traceback" not in res.stderr
    res = runner.run(
        ["pool", BASE, "--outcome", "womac", "--month", "6", "--method", "fe", "--format", "json"], cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["k"] == 1


def test_cli_metareg_constant_covariate_names_it(runner, tmp_path: Path) -> None:
    data = tmp_path / "simulated_constant"
    data.mkdir()
    (data / "outcomes.csv").write_bytes((MULTIARM / "outcomes.csv").read_bytes())
    arms = (MULTIARM / "arms.csv").read_text().replace("dose_million", "dose_million,site_count")
    lines = arms.splitlines()
    (data / "arms.csv").write_text("\n".join([lines[0]] + [line + ",3" for line in lines[1:]]) + "\n")
    res = runner.run(["metareg", data, "--outcome", "vas", "--month", "6", "--covariate", "site_count"], cwd=tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "site_count" in res.stderr and "Traceback" not in res.stderr


def test_cli_k1_bayesian_fit_says_tau_is_prior_driven(runner, tmp_path: Path) -> None:
    argv = ["fit", BASE, "--outcome", "womac", "--month", "6", "--engine", "exact"]
    res = runner.run(argv + ["--format", "json"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["k"] == 1 and any("prior-driven" in n for n in out["notes"])
    res = runner.run(argv + ["--format", "table"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "prior-driven" in res.stdout


# ------------------------------------------------------------------- loud diagnostics

HARD = TESTS / "corpus" / "simulated_hard"  # three small trials (invented values)
HARD_FIT = [
    "fit",
    "--engine",
    "mcmc",
    str(HARD),
    "--outcome",
    "vas",
    "--month",
    "6",
    "--parameterisation",
    "centred",
    "--tune",
    "10",
    "--draws",
    "200",
    "--chains",
    "2",
    "--seed",
    "1",
]


def _main(argv: list[str], capsys) -> tuple[int, str, str]:
    """The command line in this process (the compiled model is shared with other tests)."""
    from bayes_msc.cli.main import main

    capsys.readouterr()
    status = main([str(a) for a in argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_hard_posterior_fails_its_verdict_loudly(capsys) -> None:
    """Centred parameterisation forced on three small trials with 10 tuning steps."""
    status, out, _ = _main(HARD_FIT + ["--format", "json"], capsys)
    assert status == 0  # without --strict a failed verdict is reported, not an error
    verdict = json.loads(out)["verdict"]
    assert verdict["passed"] is False and verdict["reasons"], verdict
    assert json.loads(out)["parameterisation"] == "centred"
    status, out, err = _main(HARD_FIT + ["--format", "table", "--strict"], capsys)
    assert status == 3
    assert "Diagnostics: FAIL" in out
    assert "failed its diagnostics" in err
    status, out, err = _main(HARD_FIT + ["--format", "json", "--strict"], capsys)
    assert status == 3 and json.loads(out)["verdict"]["passed"] is False


def test_hard_posterior_fails_loudly_in_a_run_report(capsys, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "simulated_hard").mkdir()
    for name in ("arms.csv", "outcomes.csv"):
        (tmp_path / "simulated_hard" / name).write_bytes((HARD / name).read_bytes())
    (tmp_path / "spec.toml").write_text(
        '[dataset]\npath = "simulated_hard"\n\n[bayes]\nmodels = ["re"]\npriors = ["weakly_informative"]\n'
        'engine = "mcmc"\nparameterisation = "centred"\ndraws = 200\ntune = 10\nchains = 2\nseed = 1\n'
    )
    monkeypatch.chdir(tmp_path)
    status, out, _ = _main(["run", "spec.toml", "--out", "report", "--no-progress", "--strict"], capsys)
    assert status == 3
    assert "1 failed their diagnostics verdict" in out
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["failed"] == 1
    fit = summary["fits"][0]
    assert fit["verdict"] == "fail" and fit["reasons"], fit
    diagnostics = (tmp_path / "report" / "tables" / "diagnostics.csv").read_text()
    assert ',"FAIL: ' in diagnostics, diagnostics
    page = (tmp_path / "report" / "index.html").read_text()
    assert "FAIL" in page

"""``bayes-msc fit`` and ``bayes-msc compare-priors`` on the bundled SIMULATED dataset.

The commands run in-process (``main``), so their compiled models are shared; sampling is
kept small (2 chains x 1000 draws after 500 warm-up). Checked: docs/FORMAT.md's ``fit`` JSON fields, byte-identical
JSON for the same seed, the SIMULATED DATA label, the verdict in the table, ``--strict``
(exit 3 on a failed verdict, 0 on a passed one), ``--save`` (atomic, nothing written on bad
input), exit 2 on bad input, the exact engine, and ``compare-priors``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bayes_msc.cli.main import main

SIMULATED = Path(__file__).resolve().parents[1] / "data" / "msc_knee_oa_simulated"
CELL = [str(SIMULATED), "--outcome", "vas", "--month", "12"]
SMALL = ["--engine", "mcmc", "--draws", "1000", "--tune", "500", "--chains", "2", "--seed", "5"]
PARAMETER_FIELDS = {
    "mean",
    "sd",
    "median",
    "eti_low",
    "eti_high",
    "hdi_low",
    "hdi_high",
    "ess_bulk",
    "ess_tail",
    "r_hat",
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def fit_json(tmp_path_factory):
    """One JSON fit, its exit status and its text (run once for the module)."""
    mp = pytest.MonkeyPatch()
    import io
    import sys

    buf = io.StringIO()
    mp.setattr(sys, "stdout", buf)
    try:
        code = main(["fit", *CELL, *SMALL, "--mcid", "-10", "--format", "json"])
    finally:
        mp.undo()
    return code, buf.getvalue()


def test_fit_json_has_design_fields(fit_json):
    code, text = fit_json
    assert code == 0
    d = json.loads(text)
    for key in ("outcome", "month", "model", "prior", "k", "draws", "chains", "divergences", "parameters"):
        assert key in d
    assert (d["outcome"], d["month"], d["model"], d["prior"]) == ("vas", 12.0, "re", "weakly_informative")
    assert (d["draws"], d["chains"], d["engine"]) == (1000, 2, "mcmc")
    assert d["k"] == 12 and d["simulated"] is True and d["dataset"] == "msc_knee_oa_simulated"
    assert {"mu", "tau"} <= set(d["parameters"])
    for name, row in d["parameters"].items():
        assert set(row) == PARAMETER_FIELDS, name
        assert row["eti_low"] < row["median"] < row["eti_high"]
    assert d["parameterisation"] in ("centred", "noncentred", "marginal")
    assert d["ci_prob"] == 0.95
    assert set(d["probabilities"]) == {"P(mu < 0)", "P(mu > 0)", "P(mu < -10)"}
    assert d["verdict"]["thresholds"]["ess_bulk_min"] == 500.0  # 1000 * 2000 / 4000
    assert len(d["study_effects"]) == 12
    assert "seconds" not in text and "tmp" not in text


def test_fit_json_is_byte_identical_for_a_seed(capsys, fit_json):
    code, text, _ = run(capsys, "fit", *CELL, *SMALL, "--mcid", "-10", "--format", "json")
    assert code == 0 and text == fit_json[1]


def test_fit_table_labels_simulated_data_and_verdict(capsys):
    code, text, _ = run(capsys, "fit", *CELL, *SMALL)
    assert code == 0
    assert text.startswith("*** SIMULATED DATA (dataset msc_knee_oa_simulated) ***")
    assert "\nDiagnostics: PASS" in text or "\nDiagnostics: FAIL" in text
    assert "Study effects (shrunken):" in text and "mu " in text and "tau " in text


def test_strict_exits_3_on_a_failed_verdict(capsys):
    # one warm-up draw and ten draws: the chains cannot have converged
    bad = [
        "--engine",
        "mcmc",
        "--draws",
        "10",
        "--tune",
        "1",
        "--chains",
        "2",
        "--seed",
        "5",
        "--parameterisation",
        "centred",
    ]
    code, text, err = run(capsys, "fit", *CELL, *bad, "--format", "json")
    assert code == 0 and json.loads(text)["verdict"]["passed"] is False
    code, text, err = run(capsys, "fit", *CELL, *bad, "--format", "json", "--strict")
    assert code == 3
    assert json.loads(text)["verdict"]["passed"] is False  # the output is still printed
    assert "failed its diagnostics" in err


def test_strict_exits_0_on_a_passed_verdict(capsys, fit_json):
    if not json.loads(fit_json[1])["verdict"]["passed"]:
        pytest.fail("the reference fit should pass its diagnostics")
    code, _, _ = run(capsys, "fit", *CELL, *SMALL, "--mcid", "-10", "--format", "json", "--strict")
    assert code == 0


def test_save_is_atomic_and_skipped_on_bad_input(capsys, tmp_path):
    import arviz as az

    target = tmp_path / "post.nc"
    code, _, _ = run(capsys, "fit", *CELL, *SMALL, "--save", str(target), "--format", "json")
    assert code == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["post.nc"]
    tree = az.from_netcdf(target)
    assert set(tree.children) == {
        "posterior",
        "sample_stats",
        "log_likelihood",
        "log_prior",
        "prior",
        "posterior_predictive",
        "observed_data",
        "constant_data",
    }
    assert json.loads(tree.attrs["options"])["seed"] == 5
    other = tmp_path / "bad.nc"
    code, _, err = run(capsys, "fit", *CELL, *SMALL, "--save", str(other), "--covariate", "no_such_column")
    assert code == 2 and "unknown covariate" in err and not other.exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--covariate", "no_such_column"], "unknown covariate"),
        (["--model", "arm", "--measure", "smd"], "--measure"),
        (["--engine", "exact", "--multiarm", "shared"], "independent comparisons"),
        (["--prior", "no_such_set"], "unknown prior set"),
        (["--draws", "3"], "draws"),
        (["--tune", "0"], "tune"),
        (["--ci-prob", "1.5"], "ci_prob"),
    ],
)
def test_bad_input_exits_2(capsys, argv, message):
    code, out, err = run(capsys, "fit", *CELL, *argv)
    assert code == 2 and message in err and out == ""


def test_exact_engine_fits_the_arm_model(capsys):
    code, out, _ = run(capsys, "fit", *CELL, "--model", "arm", "--engine", "exact", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["engine"] == "exact" and doc["model"] == "arm" and doc["verdict"]["passed"]
    assert doc["k"] == 12 and doc["parameters"]["tau"]["mean"] > 0


def test_unknown_outcome_exits_2(capsys):
    code, _, err = run(capsys, "fit", str(SIMULATED), "--outcome", "no_such_outcome", "--month", "12")
    assert code == 2 and "no_such_outcome" in err


def test_exact_engine_json(capsys):
    code, text, _ = run(capsys, "fit", *CELL, "--engine", "exact", "--format", "json")
    d = json.loads(text)
    assert code == 0 and d["engine"] == "exact" and d["verdict"]["passed"] is True
    assert d["outcome"] == "vas" and d["simulated"] is True and d["prior"] == "weakly_informative"


def test_exact_and_mcmc_agree(fit_json, capsys):
    """The CLI's MCMC fit and exact posterior of the same cell: medians within 4 MCSE-ish
    (0.25 posterior SD)."""
    mcmc = json.loads(fit_json[1])["parameters"]
    _, text, _ = run(capsys, "fit", *CELL, "--engine", "exact", "--format", "json")
    exact = json.loads(text)["parameters"]
    for name in ("mu", "tau"):
        assert abs(mcmc[name]["median"] - exact[name]["median"]) < 0.25 * exact[name]["sd"], name


def test_compare_priors_json_and_table(capsys):
    argv = [
        "compare-priors",
        *CELL,
        *SMALL,
        "--prior",
        "weakly_informative",
        "--prior",
        "skeptical",
        "--mcid",
        "-10",
        "--engine",
        "mcmc",
    ]
    code, text, _ = run(capsys, *argv, "--format", "json")
    assert code == 0
    d = json.loads(text)
    assert [p["prior"] for p in d["prior_sets"]] == ["weakly_informative", "skeptical"]
    assert d["simulated"] is True and d["mcid"] == -10.0 and d["mcid_probability"] == "P(mu < -10)"
    for p in d["prior_sets"]:
        s = p["summary"]
        assert s["term"] == "mu" and s["prior"] == p["prior"]
        assert np.isfinite(s["mu_prior"]) and np.isfinite(s["tau_likelihood"])
        assert s["p_mcid"] == p["fit"]["probabilities"]["P(mu < -10)"]
    # the sceptical prior pulls mu towards 0
    wi, sk = (p["summary"]["mu_median"] for p in d["prior_sets"])
    assert abs(sk) < abs(wi)
    code, table, _ = run(capsys, *argv)
    assert code == 0 and table.startswith("*** SIMULATED DATA")
    assert "weakly_informative" in table and "skeptical" in table and "P(mu < -10)" in table


def test_compare_priors_default_is_the_fast_path(capsys):
    """Without --engine, compare-priors takes the exact engine for the bundled (Normal on mu)
    prior sets, every set of the bundled file, and prints the same bytes twice."""
    argv = ["compare-priors", *CELL, "--model", "arm", "--format", "json"]
    code, text, _ = run(capsys, *argv)
    d = json.loads(text)
    assert code == 0 and [p["prior"] for p in d["prior_sets"]] == [
        "vague",
        "weakly_informative",
        "empirical",
        "skeptical",
    ]
    assert all(p["fit"]["engine"] == "exact" and p["fit"]["model"] == "arm" for p in d["prior_sets"])
    assert all(np.isfinite(p["summary"]["tau_prior"]) for p in d["prior_sets"])
    assert run(capsys, *argv)[1] == text


@pytest.mark.slow
def test_fit_arm_model_and_covariate(capsys):
    code, text, _ = run(
        capsys, "fit", *CELL, *SMALL, "--model", "arm", "--covariate", "log10(dose_million)", "--format", "json"
    )
    d = json.loads(text)
    assert code == 0 and d["model"] == "arm" and d["covariates"] == ["log10(dose_million)"]
    assert {"mu", "tau", "log10(dose_million)", "intercept", "theta_new"} == set(d["parameters"])


@pytest.mark.slow
def test_fit_json_is_identical_across_processes(fit_json):
    """A new process (fresh compile) prints the same bytes."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "bayes_msc", "fit", *CELL, *SMALL, "--mcid", "-10", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout == fit_json[1]

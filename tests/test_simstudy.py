"""Simulation studies (issue 18): the study file, the data model, the methods, the
performance measures against hand computations, determinism, chunks and resume, the
report, and the known result of IntHout, Ioannidis & Borm 2014 (BMC Med Res Methodol 14:25).

The Dask cluster is tested in tests/test_simstudy_dask.py.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayes_msc as bm
from bayes_msc.errors import InputError
from bayes_msc.simstudy import chunks as ch
from bayes_msc.simstudy.generate import replication_rng, simulate_trials
from bayes_msc.simstudy.measures import performance
from bayes_msc.simstudy.methods import analyse, resolved_prior
from bayes_msc.simstudy.spec import Design, load_study, study_from_mapping
from bayes_msc.simstudy.study import run_study

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "models" / "simulation_study_demo.toml"


def small(**study) -> dict:
    """A small study: two designs x (DL, Knapp-Hartung, one exact prior set)."""
    return {
        "study": {"seed": 7, "replications": 30, "chunk_size": 8, **study},
        "design": {"k": 4, "n": 30, "tau": 0.3},
        "grid": {"tau": [0.0, 0.3]},
        "methods": {
            "DL": {"kind": "frequentist"},
            "KH": {"kind": "frequentist", "hksj": True},
            "wi": {"kind": "bayes", "prior": "weakly_informative"},
        },
    }


# ------------------------------------------------------------------ performance measures
def test_measures_equal_hand_computations():
    """Three replications, true mu 2: every measure and MCSE by hand (Morris et al. 2019, Table 6)."""
    est, low, high = [1.0, 2.0, 4.0], [0.0, 1.0, 1.5], [1.5, 3.0, 5.0]
    got = performance(est, low, high, [True, False, True], truth=2.0)
    # coverage: intervals 2 and 3 hold 2 -> 2/3, MCSE sqrt((2/3)(1/3)/3) = sqrt(2/27)
    assert got["coverage"] == pytest.approx(2 / 3) and got["coverage_mcse"] == pytest.approx(math.sqrt(2 / 27))
    assert got["power"] == pytest.approx(2 / 3) and got["power_mcse"] == pytest.approx(math.sqrt(2 / 27))
    # bias: mean 7/3 - 2 = 1/3; squared deviations 16/9 + 1/9 + 25/9 = 14/3; MCSE sqrt((14/3) / 6)
    assert got["bias"] == pytest.approx(1 / 3) and got["bias_mcse"] == pytest.approx(math.sqrt(7 / 9))
    # empirical SE sqrt((14/3) / 2), its MCSE empSE / sqrt(2 * 2)
    assert got["empirical_se"] == pytest.approx(math.sqrt(7 / 3))
    assert got["empirical_se_mcse"] == pytest.approx(math.sqrt(7 / 3) / 2)
    # MSE (1 + 0 + 4) / 3 = 5/3; (e^2 - MSE)^2 sum 4/9 + 25/9 + 49/9 = 26/3; MCSE(MSE) sqrt((26/3) / 6)
    assert got["rmse"] == pytest.approx(math.sqrt(5 / 3))
    assert got["rmse_mcse"] == pytest.approx(math.sqrt(13 / 9) / (2 * math.sqrt(5 / 3)))
    # widths 1.5, 2, 3.5: mean 7/3, SD sqrt((25/36 + 4/36 + 49/36) / 2), MCSE SD / sqrt(3)
    assert got["width"] == pytest.approx(7 / 3)
    assert got["width_mcse"] == pytest.approx(math.sqrt(78 / 72) / math.sqrt(3))


def test_measures_with_too_few_replications():
    one = performance([1.0], [0.0], [2.0], [False], truth=1.0)
    assert one["coverage"] == 1.0 and one["bias"] == 0.0
    assert all(math.isnan(one[k]) for k in ("coverage_mcse", "bias_mcse", "width_mcse", "rmse_mcse"))
    none = performance([], [], [], [], truth=0.0)
    assert all(math.isnan(v) for v in none.values())


# ------------------------------------------------------------------------- study file
def test_demo_study_reads_and_holds_the_inthout_design():
    study = load_study(DEMO)
    assert [d.name for d in study.designs] == ["I2=50%", "no heterogeneity", "one large trial"]
    check = study.designs[0]
    assert (check.k, check.n, check.mu, check.tau) == (5, (50,), 0.0, 0.2)
    # "moderate heterogeneity": I2 = tau^2 / (tau^2 + 2 sd^2 / n) = 50%
    assert check.tau**2 / (check.tau**2 + 2 * check.sd**2 / 50) == pytest.approx(0.5)
    assert [(m.kind, m.hksj, m.engine) for m in study.methods][:2] == [("frequentist", False, "exact")] * 1 + [
        ("frequentist", True, "exact")
    ]
    assert [m.prior_set.name for m in study.methods[2:]] == ["weakly_informative", "empirical"]
    assert all(m.engine == "exact" for m in study.methods[2:])


def test_grid_and_named_designs():
    doc = small()
    doc["designs"] = {"big": {"n": [30, 300], "k": 6}}
    s = study_from_mapping(doc)
    assert [d.name for d in s.designs] == ["tau=0", "tau=0.3", "big"]
    assert s.designs[2].n == (30, 300) and s.designs[2].tau == 0.3
    assert s.chunks_per_design == 4 and s.n_chunks == 12
    design, reps = s.chunk(5)
    assert design.name == "tau=0.3" and list(reps) == [8, 9, 10, 11, 12, 13, 14, 15]
    assert list(s.chunk(3)[1]) == [24, 25, 26, 27, 28, 29]


def test_bad_study_file_names_the_file_and_every_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        """
[study]
seed = -1
replications = 10
colour = "red"

[design]
k = 0
n = [50, 1]
tau = -0.1
dose_slope = 0.5
missing = 1.5

[methods.a]
kind = "frequentist"
estimator = "xx"
prior = "vague"

[methods.b]
kind = "bayes"
prior = "nope"

[methods.c]
estimator = "dl"
""",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        load_study(bad)
    keys = {p.key for p in err.value.problems}
    assert all(p.file == str(bad) for p in err.value.problems)
    assert {
        "study.seed",
        "study.colour",
        "design.k",
        "design.n",
        "design.tau",
        "design.dose_slope",
        "design.missing",
        "methods.a.estimator",
        "methods.a.prior",
        "methods.b.prior",
        "methods.c.kind",
    } <= keys


def test_design_problems_are_named_once_where_they_are():
    doc = small()
    doc["design"]["sd"] = -1
    doc["grid"]["k"] = [2, "x"]
    doc["designs"] = {"big": {"n": 1}}
    with pytest.raises(InputError) as err:
        study_from_mapping(doc)
    keys = [p.key for p in err.value.problems]
    assert sorted(keys) == ["design.sd", "designs.big.n", "grid.k"]


def test_exact_engine_needs_normal_priors_on_mu():
    doc = small()
    doc["methods"] = {"t": {"kind": "bayes", "prior": "weakly_informative", "engine": "exact"}}
    assert study_from_mapping(doc).methods[0].engine == "exact"
    doc["methods"]["t"]["dose"] = True
    with pytest.raises(InputError, match="no doses"):
        study_from_mapping(doc)


# ------------------------------------------------------------------------ data model
def test_simulated_trials_follow_the_stated_model():
    """Across 4,000 replications: E[yi] = mu, Var[yi] = tau^2 + 2 sd^2 / n, E[vi] = 2 sd^2 / n."""
    d = Design(name="x", k=1, n=(40,), sd=2.0, mu=0.5, tau=0.3)
    draws = [simulate_trials(d, replication_rng(1, d, r)) for r in range(4000)]
    y = np.array([t.yi[0] for t in draws])
    v = np.array([t.vi[0] for t in draws])
    var = 0.3**2 + 2 * 4.0 / 40
    assert abs(y.mean() - 0.5) < 4 * math.sqrt(var / y.size)
    assert abs(y.var(ddof=1) / var - 1) < 4 * math.sqrt(2 / (y.size - 1))
    assert abs(v.mean() - 0.2) < 4 * v.std(ddof=1) / math.sqrt(v.size)


def test_streams_depend_on_seed_design_and_replication_only():
    d = Design(name="x", k=6, n=(20, 40))
    a = simulate_trials(d, replication_rng(3, d, 11))
    b = simulate_trials(d, replication_rng(3, d, 11))
    c = simulate_trials(d, replication_rng(3, d, 12))
    e = simulate_trials(dataclasses.replace(d, name="y"), replication_rng(3, dataclasses.replace(d, name="y"), 11))
    assert np.array_equal(a.yi, b.yi) and not np.array_equal(a.yi, c.yi) and not np.array_equal(a.yi, e.yi)
    assert list(a.n_treatment) == [20, 40, 20, 40, 20, 40]


def test_missing_months_and_failed_analyses():
    """Half the trials missing: fewer trials analysed; DL cannot pool one trial (n_failed),
    the Bayesian method can."""
    doc = small(replications=60, chunk_size=60)
    doc["design"] = {"k": 2, "n": 30, "missing": 0.5}
    doc.pop("grid")
    res = run_study(study_from_mapping(doc), scheduler="serial")
    t = res.summary().set_index("method")
    assert t.loc["DL", "k_mean"] == 2  # DL pools only where both trials report
    assert 1 < t.loc["wi", "k_mean"] < 2  # the Bayesian method also where one does (none: no analysis)
    assert t.loc["DL", "n_failed"] > 0 and t.loc["wi", "n_failed"] < t.loc["DL", "n_failed"]
    assert t.loc["DL", "n_reps"] + t.loc["DL", "n_failed"] == 60
    errors = res.replications.query("method == 'DL' and error != ''")
    assert (errors["k"] < 2).all() and errors["estimate"].isna().all()


def test_selective_reporting_biases_the_estimate():
    """missing_if = "nonsignificant": only trials with p >= 0.05 go missing, so with a
    true effect the published ones overstate it."""
    doc = {
        "study": {"seed": 3, "replications": 400, "chunk_size": 400},
        "design": {"k": 8, "n": 30, "mu": 0.3, "missing": 0.8, "missing_if": "nonsignificant"},
        "methods": {"DL": {"kind": "frequentist"}},
    }
    row = run_study(study_from_mapping(doc), scheduler="serial").summary().iloc[0]
    assert row["bias"] > 5 * row["bias_mcse"]


def test_dose_regression_estimates_the_effect_at_the_centre():
    doc = {
        "study": {"seed": 5, "replications": 300, "chunk_size": 300},
        "design": {"k": 8, "n": 60, "mu": 0.2, "tau": 0.05, "doses": [5, 20, 80, 320], "dose_slope": 0.4},
        "methods": {
            "DL": {"kind": "frequentist"},
            "DL dose": {"kind": "frequentist", "dose": True},
            "wi dose": {"kind": "bayes", "prior": "weakly_informative", "dose": True},
        },
    }
    t = run_study(study_from_mapping(doc), scheduler="serial").summary().set_index("method")
    for m in ("DL dose", "wi dose"):
        assert abs(t.loc[m, "bias"]) < 3 * t.loc[m, "bias_mcse"]
    # the dose slope is unexplained heterogeneity for the plain pooled analysis: wider intervals
    assert t.loc["DL", "width"] > t.loc["DL dose", "width"]


def test_bayesian_dose_mu_is_the_effect_at_the_design_centre_when_trials_go_missing():
    """With trials missing, the reporting trials' mean log dose is not the design's centre;
    the Bayesian mu is still the effect at the centre (x = 0), as the frequentist intercept:
    under the nearly flat `vague` prior it equals the exact engine's intercept (the effect at
    covariate 0 of bm.exact_posterior with the covariate centred at its mean), and it is not
    that engine's mu (the effect at the reporting trials' mean dose)."""
    from bayes_msc.bayes.exact.posterior import exact_posterior
    from bayes_msc.simstudy.methods import DOSE_TERM

    doc = {
        "study": {"seed": 3, "replications": 5, "chunk_size": 5},
        "design": {
            "k": 10,
            "n": 40,
            "mu": 0.2,
            "tau": 0.1,
            "doses": [5, 20, 80, 320, 1280],
            "dose_slope": 0.5,
            "missing": 0.4,
        },
        "methods": {"vague dose": {"kind": "bayes", "prior": "vague", "dose": True}},
    }
    s = study_from_mapping(doc)
    method = s.methods[0]
    checked = 0
    for r in range(20):
        trials = simulate_trials(s.designs[0], replication_rng(s.seed, s.designs[0], r))
        if trials.k < 4 or abs(trials.dose.mean()) < 0.1 or np.ptp(trials.dose) == 0:
            continue
        row = analyse(trials, method, 0.95)
        ref = exact_posterior(trials.yi, trials.vi, resolved_prior(trials, method), trials.dose[:, None], [DOSE_TERM])
        assert row["estimate"] == pytest.approx(ref.value("intercept", "median"), abs=2e-3)
        assert row["ci_low"] == pytest.approx(ref.value("intercept", "eti_low"), abs=2e-3)
        assert abs(row["estimate"] - ref.value("mu", "median")) > 0.02
        checked += 1
    assert checked >= 3


# --------------------------------------------------------------------------- methods
def test_exact_method_equals_the_exact_engine():
    """The study's exact path gives exact_posterior's median and interval of mu and tau."""
    from bayes_msc.bayes.exact.posterior import exact_posterior

    s = study_from_mapping(small())
    method = s.methods[2]
    for r in range(3):
        trials = simulate_trials(s.designs[1], replication_rng(s.seed, s.designs[1], r))
        row = analyse(trials, method, 0.95)
        ref = exact_posterior(trials.yi, trials.vi, resolved_prior(trials, method))
        assert row["estimate"] == pytest.approx(ref.value("mu", "median"), abs=1e-8)
        assert row["ci_low"] == pytest.approx(ref.value("mu", "eti_low"), abs=1e-8)
        assert row["ci_high"] == pytest.approx(ref.value("mu", "eti_high"), abs=1e-8)
        assert row["tau"] == pytest.approx(ref.value("tau", "median"), abs=1e-8)


def test_frequentist_method_equals_rma():
    from bayes_msc.frequentist.rma import rma

    s = study_from_mapping(small())
    trials = simulate_trials(s.designs[1], replication_rng(s.seed, s.designs[1], 0))
    row = analyse(trials, s.methods[1], 0.95)
    ref = rma(trials.yi, trials.vi, method="dl", hksj=True)
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == (ref.estimate, ref.ci_low, ref.ci_high)
    assert row["reject"] == (ref.p < 0.05) and row["tau"] == pytest.approx(ref.tau)


# --------------------------------------------------------------- determinism and chunks
def test_results_do_not_depend_on_the_chunking():
    from bayes_msc.report.simstudy import summary_csv

    a = run_study(study_from_mapping(small(chunk_size=7)), scheduler="serial")
    b = run_study(study_from_mapping(small(chunk_size=30)), scheduler="serial")
    pd.testing.assert_frame_equal(a.replications, b.replications)
    assert summary_csv(a) == summary_csv(b)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_chunk_files_keep_every_value(tmp_path, fmt):
    s = study_from_mapping(small())
    rows = ch.run_chunk(s, 0)
    rows.loc[1, "estimate"] = np.nan  # a failed analysis
    rows.loc[1, "error"] = "k = 1: heterogeneity cannot be estimated"
    path = ch.write_chunk(tmp_path, 0, rows, fmt)
    assert path.name == f"chunk-000000.{fmt}"
    pd.testing.assert_frame_equal(ch.read_chunk(path), rows)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_interrupted_study_resumes_where_it_stopped(tmp_path, monkeypatch):
    out = tmp_path / "study"
    study = study_from_mapping(small())
    full = bm.simulation_study(study, tmp_path / "whole", scheduler="serial")

    calls = {"n": 0}
    real = ch.run_chunk

    def dies_after_three(st, index):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        return real(st, index)

    import bayes_msc.simstudy.runner as runner

    monkeypatch.setattr(runner, "run_chunk", dies_after_three)
    with pytest.raises(KeyboardInterrupt):
        bm.simulation_study(study, out, scheduler="serial")
    assert len(list((out / "chunks").glob("chunk-*"))) == 3 and not (out / "summary.csv").exists()
    monkeypatch.setattr(runner, "run_chunk", real)
    again = bm.simulation_study(study, out, scheduler="serial", resume=True)
    assert (again.resumed, again.computed) == (3, study.n_chunks - 3)
    for name in ("summary.csv", "summary.json"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
    pd.testing.assert_frame_equal(again.replications, full.replications)


def test_resume_refuses_another_study_and_foreign_folders(tmp_path):
    out = tmp_path / "study"
    bm.simulation_study(small(), out, scheduler="serial")
    with pytest.raises(InputError) as err:
        bm.simulation_study(small(seed=8), out, scheduler="serial", resume=True)
    assert err.value.problems[0].argument == "resume"
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(InputError) as err:
        bm.simulation_study(small(), foreign, scheduler="serial")
    assert err.value.problems[0].argument == "out"
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    # without --resume a study folder starts over: no chunk of the old study stays
    again = bm.simulation_study(small(seed=8), out, scheduler="serial")
    assert again.resumed == 0 and json.loads((out / "summary.json").read_text())["seed"] == 8


def test_bad_cluster_options_are_input_errors():
    for kw, arg in (({"scheduler": "localhost"}, "scheduler"), ({"workers": 0}, "workers")):
        with pytest.raises(InputError) as err:
            bm.simulation_study(small(), **kw)
        assert err.value.problems[0].argument == arg
    with pytest.raises(InputError, match="resume"):
        bm.simulation_study(small(), resume=True)
    for bad in ("", 3):
        with pytest.raises(InputError) as err:
            bm.simulation_study(small(), bad)
        assert err.value.problems[0].argument == "out"
    with pytest.raises(InputError) as err:
        bm.simulation_study(42)
    assert err.value.problems[0].argument == "study"


# ------------------------------------------------------------------ report and result
def test_report_folder_and_result(tmp_path):
    res = bm.simulation_study(small(), tmp_path / "s", scheduler="serial")
    assert {p.name for p in (tmp_path / "s").iterdir()} == {
        "chunks",
        "figures",
        "index.html",
        "study.json",
        "summary.csv",
        "summary.json",
    }
    table = pd.read_csv(tmp_path / "s" / "summary.csv")
    for col in ("coverage", "coverage_mcse", "bias", "bias_mcse", "rmse", "rmse_mcse", "width", "width_mcse"):
        assert col in table.columns
    assert {"power", "power_mcse", "n_reps"} <= set(table.columns) and len(table) == 6
    doc = json.loads((tmp_path / "s" / "summary.json").read_text())
    assert doc["format"] == "bayes-msc simulation-study summary 1" and doc["simulated"] is True
    assert len(doc["rows"]) == 6 and doc["rows"][0]["coverage"] == table["coverage"][0]
    page = (tmp_path / "s" / "index.html").read_text()
    assert "SIMULATED DATA" in page and "figures/coverage.png" in page and "figures/width.png" in page
    assert "SimulationStudyResult(study='study'" in repr(res)
    assert "SIMULATED DATA" in str(res) and "coverage" in str(res)
    fig = bm.plot_simulation_study(res, "width")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["tau=0", "tau=0.3"]


def test_command_line(tmp_path):
    study = tmp_path / "s.toml"
    study.write_text(
        '[study]\nseed = 2\nreplications = 6\nchunk_size = 3\n[methods.DL]\nkind = "frequentist"\n', encoding="utf-8"
    )
    cli = [sys.executable, "-m", "bayes_msc", "simulation-study", str(study)]
    ok = subprocess.run([*cli, "--out", str(tmp_path / "o"), "--scheduler", "serial"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "2 chunks computed" in ok.stdout and (tmp_path / "o" / "summary.csv").is_file()
    bad = tmp_path / "bad.toml"
    bad.write_text("[study]\nseed = 2\n[design]\nk = 'five'\n", encoding="utf-8")
    err = subprocess.run([*cli[:-1], str(bad), "--out", str(tmp_path / "b")], capture_output=True, text=True)
    assert err.returncode == 2 and "Traceback" not in err.stderr
    assert "key 'design.k'" in err.stderr and "key 'study.replications'" in err.stderr
    assert not (tmp_path / "b").exists()
    wrong = subprocess.run(
        [*cli, "--out", str(tmp_path / "w"), "--scheduler", "nowhere"], capture_output=True, text=True
    )
    assert wrong.returncode == 2 and "option '--scheduler'" in wrong.stderr and not (tmp_path / "w").exists()


# ----------------------------------------------------------------- the known result
def test_inthout_2014_dl_undercovers_and_knapp_hartung_does_not():
    """IntHout, Ioannidis & Borm 2014 (BMC Med Res Methodol 14:25): with few trials of similar
    size and heterogeneity, DL's error rate is inflated and HKSJ's is near nominal. The
    demo's design (k = 5, 50 per arm, I2 = 50%), 2,000 replications of the two
    frequentist methods: DL's coverage more than 3 Monte Carlo SEs below 95%,
    Knapp-Hartung's within 3 of it."""
    demo = load_study(DEMO)
    study = dataclasses.replace(
        demo, designs=demo.designs[:1], methods=demo.methods[:2], replications=2000, chunk_size=2000
    )
    t = run_study(study, scheduler="serial").summary().set_index("method")
    dl, kh = t.loc["DL"], t.loc["Knapp-Hartung"]
    assert dl["coverage"] + 3 * dl["coverage_mcse"] < 0.95
    assert abs(kh["coverage"] - 0.95) < 3 * kh["coverage_mcse"]
    assert dl["power"] > 0.05 + 3 * dl["power_mcse"]  # mu = 0: power is the type I error rate


@pytest.mark.slow
def test_mcmc_method_agrees_with_the_exact_engine():
    """The MCMC path (nutpie, with its diagnostics verdict) on the same replications as the
    exact engine, with and without the dose regression: medians and interval ends agree
    within Monte Carlo error (4 x 3,000 draws: the 2.5% quantile of a 5-trial regression
    is the noisiest)."""
    doc = {
        "study": {"seed": 3, "replications": 2, "chunk_size": 2},
        "design": {"k": 5, "n": 50, "tau": 0.2, "doses": [10, 30, 100], "dose_slope": 0.2},
        "methods": {
            "exact": {"kind": "bayes", "prior": "weakly_informative"},
            "mcmc": {"kind": "bayes", "prior": "weakly_informative", "engine": "mcmc", "draws": 3000},
            "exact dose": {"kind": "bayes", "prior": "weakly_informative", "dose": True},
            "mcmc dose": {
                "kind": "bayes",
                "prior": "weakly_informative",
                "engine": "mcmc",
                "dose": True,
                "draws": 3000,
            },
        },
    }
    rows = run_study(study_from_mapping(doc), scheduler="serial").replications.set_index(["method", "replication"])
    assert rows["converged"].all() and (rows["error"] == "").all()
    for exact, mcmc in (("exact", "mcmc"), ("exact dose", "mcmc dose")):
        for r in range(2):
            a, b = rows.loc[(exact, r)], rows.loc[(mcmc, r)]
            width = a["ci_high"] - a["ci_low"]
            assert abs(a["estimate"] - b["estimate"]) < 0.05 * width
            assert abs(a["ci_low"] - b["ci_low"]) < 0.1 * width and abs(a["ci_high"] - b["ci_high"]) < 0.1 * width


@pytest.mark.slow
def test_demo_study_runs_and_shows_the_known_result(tmp_path):
    """The shipped demo as a user runs it (local Dask cluster)."""
    res = bm.simulation_study(DEMO, tmp_path / "demo")
    t = res.summary().set_index(["design", "method"])
    dl, kh = t.loc[("I2=50%", "DL")], t.loc[("I2=50%", "Knapp-Hartung")]
    assert dl["coverage"] + 2.5 * dl["coverage_mcse"] < 0.95
    assert abs(kh["coverage"] - 0.95) < 3 * kh["coverage_mcse"]
    assert (t["n_failed"] == 0).all() and (t["n_unconverged"] == 0).all()

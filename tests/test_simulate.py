"""Simulation of trial outcomes: reproducibility, recovery of the true parameters, the command.

The outside reference of a simulator is the truth it was given: on a large simulated
design the observed arm differences must recover mu, tau, the within-arm SD and the slopes
within a few standard errors (simple moment and least-squares estimates, no pooling code).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_msc.cli.main import main
from bayes_msc.errors import InputError
from bayes_msc.simulation.dataset_folder import OUTPUT_FILES, with_seed
from bayes_msc.simulation.simulate import (
    check_design,
    fill_covariates,
    params_from_mapping,
    params_from_text,
    simulate_outcomes,
)

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "data" / "msc_knee_oa"
SHIPPED = ROOT / "data" / "msc_knee_oa_simulated"


def two_arm_design(k: int, n: int = 50, doses: np.ndarray | None = None) -> pd.DataFrame:
    rows = []
    for i in range(k):
        dose = np.nan if doses is None else doses[i]
        rows.append({"study": f"s{i:03d}", "arm": "msc", "role": "treatment", "n": n, "dose_million": dose})
        rows.append({"study": f"s{i:03d}", "arm": "ctl", "role": "control", "n": n, "dose_million": np.nan})
    return pd.DataFrame(rows)


def params(**outcome) -> dict:
    base = {"mu": {"6": -5.0}, "control_mean": {"0": 50.0, "6": 40.0}, "sd": 10.0, "tau": 2.0, "sd_between": 5.0}
    base.update(outcome)
    return {"months": [6], "baseline": True, "decimals": 6, "outcomes": {"pain": base}}


def differences(out: pd.DataFrame, month: float) -> pd.DataFrame:
    wide = out[out["month"] == month].pivot(index="study", columns="arm", values=["mean", "sd", "n"])
    return pd.DataFrame(
        {
            "d": wide["mean"]["msc"] - wide["mean"]["ctl"],
            "v": wide["sd"]["msc"] ** 2 / wide["n"]["msc"] + wide["sd"]["ctl"] ** 2 / wide["n"]["ctl"],
        }
    )


# ----------------------------------------------------------------------------- reproducibility
def test_same_seed_gives_identical_frames():
    arms, p = two_arm_design(5), params_from_mapping(params())
    pd.testing.assert_frame_equal(simulate_outcomes(arms, None, p, 7), simulate_outcomes(arms, None, p, 7))


def test_different_seeds_differ():
    arms, p = two_arm_design(5), params_from_mapping(params())
    a, b = simulate_outcomes(arms, None, p, 7), simulate_outcomes(arms, None, p, 8)
    assert a[["study", "arm", "month"]].equals(b[["study", "arm", "month"]])
    assert not np.allclose(a["mean"], b["mean"])


def test_adding_an_outcome_leaves_the_others_unchanged():
    arms = two_arm_design(4)
    one = params()
    two = params()
    two["outcomes"] = {"other": dict(one["outcomes"]["pain"]), "pain": one["outcomes"]["pain"]}
    a = simulate_outcomes(arms, None, params_from_mapping(one), 3)
    b = simulate_outcomes(arms, None, params_from_mapping(two), 3)
    pd.testing.assert_frame_equal(a, b[b["outcome"] == "pain"].reset_index(drop=True))


def test_every_row_is_labelled_simulated():
    out = simulate_outcomes(two_arm_design(3), None, params_from_mapping(params(), origin="p.toml"), 11)
    assert (out["source"] == "simulated (seed 11; params file p.toml)").all()
    assert (out["kind"] == "final").all()
    assert set(out["month"]) == {0, 6}


# ----------------------------------------------------------------------------- recovery
def test_recovers_mu_tau_and_sd_on_a_large_design():
    k, n, mu, tau, sd = 200, 50, -5.0, 2.0, 10.0
    out = simulate_outcomes(two_arm_design(k, n), None, params_from_mapping(params()), 20210111)
    diff = differences(out, 6)
    se_mean = math.sqrt(tau**2 + 2 * sd**2 / n) / math.sqrt(k)
    assert abs(diff["d"].mean() - mu) < 4 * se_mean
    # method of moments: var(d) = tau^2 + mean sampling variance; SE of a variance ~ var * sqrt(2/(k-1))
    total = tau**2 + 2 * sd**2 / n
    assert abs((diff["d"].var() - diff["v"].mean()) - tau**2) < 4 * total * math.sqrt(2 / (k - 1))
    # observed SDs: E[s^2] = sd^2, SD(s^2) = sd^2 sqrt(2 / (n - 1))
    s2 = out.loc[out["month"] == 6, "sd"] ** 2
    assert abs(s2.mean() - sd**2) < 4 * sd**2 * math.sqrt(2 / (n - 1)) / math.sqrt(len(s2))
    assert abs(s2.std() / (sd**2 * math.sqrt(2 / (n - 1))) - 1) < 0.25  # scaled chi-square spread
    # baseline: randomisation, no effect
    base = differences(out, 0)
    assert abs(base["d"].mean()) < 4 * math.sqrt(2 * sd**2 / n) / math.sqrt(k)
    assert abs(out.loc[out["month"] == 0, "mean"].mean() - 50.0) < 4 * 5.0 / math.sqrt(k) + 0.5


def test_recovers_a_dose_slope():
    k, slope, centre = 200, 3.0, 1.5
    rng = np.random.default_rng(1)
    doses = 10 ** rng.uniform(0.5, 2.5, k)
    p = params(slopes={"log10(dose_million)": slope}, centres={"log10(dose_million)": centre}, tau=1.0)
    out = simulate_outcomes(two_arm_design(k, 100, doses), None, params_from_mapping(p), 5)
    diff = differences(out, 6)
    x = np.log10(doses) - centre
    X = np.column_stack([np.ones(k), x])
    coef, res, *_ = np.linalg.lstsq(X, diff["d"].to_numpy(), rcond=None)
    sigma2 = res[0] / (k - 2)
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(X.T @ X)))
    assert abs(coef[0] - (-5.0)) < 4 * se[0]
    assert abs(coef[1] - slope) < 4 * se[1]


def test_random_effect_per_study_is_shared_by_its_treatment_arms():
    rows = []
    for i in range(60):
        rows += [
            {"study": f"s{i}", "arm": a, "role": r, "n": 1000}
            for a, r in (("t1", "treatment"), ("t2", "treatment"), ("c", "control"))
        ]
    arms = pd.DataFrame(rows)
    corr = {}
    for level in ("study", "arm"):
        p = params(tau=10.0, sd=1.0)
        p["random_effect"] = level
        out = simulate_outcomes(arms, None, params_from_mapping(p), 9)
        wide = out[out["month"] == 6].pivot(index="study", columns="arm", values="mean")
        corr[level] = np.corrcoef(wide["t1"] - wide["c"], wide["t2"] - wide["c"])[0, 1]
    assert corr["study"] > 0.99
    assert abs(corr["arm"]) < 0.4


def test_follow_up_months_come_from_studies():
    arms = two_arm_design(2)
    studies = pd.DataFrame({"study": ["s000", "s001"], "follow_up_months": ["3;6", "12"]})
    p = params(mu={"3": -1.0, "6": -2.0, "12": -3.0}, control_mean={"0": 50.0, "3": 45.0, "6": 44.0, "12": 43.0})
    p["months"] = "follow_up"
    out = simulate_outcomes(arms, studies, params_from_mapping(p), 1)
    assert sorted(set(out.loc[out["study"] == "s000", "month"])) == [0, 3, 6]
    assert sorted(set(out.loc[out["study"] == "s001", "month"])) == [0, 12]


# ----------------------------------------------------------------------------- bad input
def test_month_without_a_parameter_names_the_key():
    arms = two_arm_design(2)
    studies = pd.DataFrame({"study": ["s000", "s001"], "follow_up_months": ["6", "6;18"]})
    p = params()
    p["months"] = "follow_up"
    with pytest.raises(InputError) as err:
        simulate_outcomes(arms, studies, params_from_mapping(p), 1)
    keys = {pr.key for pr in err.value.problems}
    assert {"outcomes.pain.mu", "outcomes.pain.control_mean"} <= keys
    assert "18" in str(err.value)


@pytest.mark.parametrize(
    "text, key",
    [
        ("[outcomes.vas]\nmu = {3 = -1}\ncontrol_mean = {0 = 50, 3 = 40}\nsd = 10\ntau = -1\n", "outcomes.vas.tau"),
        ("[outcomes.vas]\nmu = {3 = -1}\ncontrol_mean = {0 = 50, 3 = 40}\nsd = 10\ntaux = 1\n", "outcomes.vas.taux"),
        ("[outcomes.vas]\nmu = {3 = -1}\ncontrol_mean = {0 = 50, 3 = 40}\n", "outcomes.vas.sd"),
        ("[outcomes.vas]\nmu = {x = -1}\ncontrol_mean = {0 = 50}\nsd = 10\n", "outcomes.vas.mu.x"),
        ("[outcomes.vas]\nmu = {0 = -1}\ncontrol_mean = {0 = 50}\nsd = 10\n", "outcomes.vas.mu.0"),
        ('seed = "a"\n[outcomes.vas]\nmu = {3 = -1}\ncontrol_mean = {0 = 50, 3 = 40}\nsd = 10\n', "seed"),
        ('random_effect = "trial"\n[outcomes.vas]\nmu = {3 = -1}\ncontrol_mean = {3 = 40}\nsd = 10\n', "random_effect"),
        (
            '[outcomes.vas]\nmu = {3 = -1}\ncontrol_mean = {3 = 40}\nsd = 10\nslopes = {"sqrt(age)" = 1}\n',
            "outcomes.vas.slopes.sqrt(age)",
        ),
        (
            '[outcomes.vas]\nmu = {3 = -1}\ncontrol_mean = {3 = 40}\nsd = 10\n[covariates.age_mean]\ndist = "gamma"\n',
            "covariates.age_mean.dist",
        ),
        (
            '[outcomes.vas]\nmu = {3 = -1}\ncontrol_mean = {3 = 40}\nsd = 10\n[covariates.kl]\ndist = "multinomial"\n'
            'columns = ["kl2", "kl3"]\np = [0.5, 0.6]\n',
            "covariates.kl.p",
        ),
        ("nothing = 1\n", "outcomes"),
    ],
)
def test_bad_params_name_the_key(text, key):
    with pytest.raises(InputError) as err:
        params_from_text(text, file="p.toml")
    assert key in {p.key for p in err.value.problems}
    assert all(p.file == "p.toml" for p in err.value.problems)


def test_invalid_toml_is_an_input_error():
    with pytest.raises(InputError, match="not valid TOML"):
        params_from_text("[outcomes.vas\nmu = 1", file="p.toml")


def test_design_checks():
    arms = two_arm_design(2)
    arms.loc[1, "n"] = 1
    arms.loc[2, "role"] = "placebo"
    with pytest.raises(InputError) as err:
        check_design(arms)
    where = {(p.file, p.row, p.column) for p in err.value.problems}
    assert ("arms.csv", 3, "n") in where and ("arms.csv", 4, "role") in where


def test_missing_slope_covariate_names_the_arm():
    p = params(slopes={"log10(dose_million)": 1.0})
    with pytest.raises(InputError) as err:
        simulate_outcomes(two_arm_design(2), None, params_from_mapping(p), 1)
    assert {(pr.file, pr.row, pr.column) for pr in err.value.problems} == {
        ("arms.csv", 2, "dose_million"),
        ("arms.csv", 4, "dose_million"),
    }


def test_mean_outside_the_scale_is_an_error():
    p = params(scale_min=0.0, scale_max=10.0)
    with pytest.raises(InputError, match="outside the scale"):
        simulate_outcomes(two_arm_design(3), None, params_from_mapping(p), 1)


# ----------------------------------------------------------------------------- covariate filling
def test_fill_covariates_fills_only_missing_values_and_records_them():
    arms = two_arm_design(30)
    arms.loc[0, "dose_million"] = 40.0
    arms["kl2"], arms["kl3"], arms["kl4"] = np.nan, np.nan, np.nan
    arms.loc[1, ["kl2", "kl3", "kl4"]] = [1.0, 2.0, 47.0]
    p = params()
    p["covariates"] = {
        "dose_million": {"dist": "loguniform", "low": 5, "high": 150, "roles": ["treatment"], "decimals": 0},
        "age_mean": {"dist": "normal", "mean": 50, "sd": 6, "per": "study", "decimals": 1},
        "kl": {"dist": "multinomial", "columns": ["kl2", "kl3", "kl4"], "p": [0.2, 0.4, 0.4]},
    }
    sp = params_from_mapping(p)
    out = fill_covariates(arms, sp, 4)
    pd.testing.assert_frame_equal(out, fill_covariates(arms, sp, 4))
    treat = out["role"] == "treatment"
    assert out.loc[0, "dose_million"] == 40.0 and "dose_million" not in out.loc[0, "simulated_covariates"]
    assert out.loc[treat, "dose_million"].between(5, 150).all()
    assert out.loc[~treat, "dose_million"].isna().all()
    assert (out["dose_million"].dropna() == out["dose_million"].dropna().round()).all()
    assert (out.groupby("study")["age_mean"].nunique() == 1).all()
    assert (out[["kl2", "kl3", "kl4"]].sum(axis=1) == out["n"]).all()
    assert out.loc[1, ["kl2", "kl3", "kl4"]].tolist() == [1.0, 2.0, 47.0]
    assert out.loc[2, "simulated_covariates"] == "dose_million;age_mean;kl2;kl3;kl4"
    assert out.loc[1, "simulated_covariates"] == "age_mean"
    # simulate_outcomes fills the same way, so a slope on a filled covariate works
    p["outcomes"]["pain"]["slopes"] = {"log10(dose_million)": 1.0, "kl_grade_mean": 0.5, "age_mean": 0.1}
    assert len(simulate_outcomes(arms, None, params_from_mapping(p), 4)) == 4 * 30


# ----------------------------------------------------------------------------- the command
def test_with_seed_replaces_or_adds_the_top_level_seed():
    assert with_seed("seed = 1\n[outcomes.a]\nseed_x = 2\n", 5) == "seed = 5\n[outcomes.a]\nseed_x = 2\n"
    assert with_seed("# c\nmonths = [6]\n[outcomes.a]\n", 5) == "seed = 5\n# c\nmonths = [6]\n[outcomes.a]\n"


def test_refuses_an_out_folder_without_simulated(tmp_path, capsys):
    out = tmp_path / "msc_copy"
    code = main(["simulate", str(REAL), "--params", str(SHIPPED / "simulation_params.toml"), "--out", str(out)])
    assert code == 2
    assert "simulated" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_replace_a_folder_with_other_files(tmp_path, capsys):
    out = tmp_path / "x_simulated"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code = main(["simulate", str(REAL), "--params", str(SHIPPED / "simulation_params.toml"), "--out", str(out)])
    assert code == 2 and "notes.txt" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_bad_params_leave_nothing_written(tmp_path):
    bad = tmp_path / "p.toml"
    bad.write_text("[outcomes.vas]\nmu = {3 = -1}\ncontrol_mean = {0 = 50, 3 = 40}\nsd = -2\n")
    out = tmp_path / "x_simulated"
    assert main(["simulate", str(REAL), "--params", str(bad), "--out", str(out), "--seed", "1"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.toml"]


def test_shipped_simulated_folder_is_what_the_command_makes(tmp_path):
    seed = params_from_text((SHIPPED / "simulation_params.toml").read_text()).seed
    out = tmp_path / "msc_knee_oa_simulated"
    args = ["simulate", str(REAL), "--params", str(SHIPPED / "simulation_params.toml"), "--out", str(out)]
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    for name in ("arms.csv", "studies.csv", "outcomes.csv", "simulation_params.toml", "dataset.toml"):
        assert (out / name).read_bytes() == (SHIPPED / name).read_bytes(), name
    first = (out / "outcomes.csv").read_bytes()
    assert main(args) == 0  # replaces its own earlier output, identically
    assert (out / "outcomes.csv").read_bytes() == first
    assert main(args + ["--seed", str(seed + 1)]) == 0
    assert (out / "outcomes.csv").read_bytes() != first
    assert f"seed = {seed + 1}" in (out / "simulation_params.toml").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_shipped_simulated_folder_is_complete_and_labelled():
    arms = pd.read_csv(SHIPPED / "arms.csv")
    real = pd.read_csv(REAL / "arms.csv")
    out = pd.read_csv(SHIPPED / "outcomes.csv")
    studies = pd.read_csv(SHIPPED / "studies.csv")
    assert len(arms) == 23 and arms["n"].sum() == 476
    assert out["source"].str.startswith("simulated (seed ").all()
    assert set(out["outcome"]) == {"vas", "womac_pain", "womac_stiffness", "womac_function", "womac_total", "ikdc"}
    # every arm at baseline and at each of its trial's follow-up months (Table 1), for every outcome
    follow = {
        s: {0.0, *map(float, str(m).split(";"))}
        for s, m in zip(studies["study"], studies["follow_up_months"], strict=False)
    }
    for (study, arm, outcome), g in out.groupby(["study", "arm", "outcome"]):
        assert set(g["month"].astype(float)) == follow[study], (study, arm, outcome)
    assert len(out) == 6 * sum(len(follow[s]) for s in arms["study"])
    # covariate models can use every comparison; filled values are recorded, real ones kept
    assert arms.loc[arms["role"] == "treatment", "dose_million"].notna().all()
    assert arms[["age_mean", "kl2", "kl3", "kl4"]].notna().all().all()
    filled = arms["simulated_covariates"].fillna("").str.split(";")
    for col in ("dose_million", "age_mean", "kl2", "male"):
        given = real[col].notna()
        assert (arms.loc[given, col] == real.loc[given, col]).all()
        assert all(col in f for f in filled[~given & arms[col].notna()])
        assert not any(col in f for f in filled[given])


def test_simulates_from_reader_normalised_arms_with_derived_covariates():
    from bayes_msc.data.reader import read_dataset

    real = read_dataset(REAL)
    sp = params_from_text((SHIPPED / "simulation_params.toml").read_text(), origin="simulation_params.toml")
    # kl_grade_mean is derived by the reader before filling; it must follow the filled counts
    text = (
        (SHIPPED / "simulation_params.toml")
        .read_text()
        .replace(
            'slopes = { "log10(dose_million)" = -1.0 }',
            'slopes = { "log10(dose_million)" = -1.0, kl_grade_mean = 0.0 }',
        )
    )
    sp2 = params_from_text(text, origin="simulation_params.toml")
    out = simulate_outcomes(real.arms, real.studies, sp2, sp.seed)
    shipped = pd.read_csv(SHIPPED / "outcomes.csv")
    np.testing.assert_allclose(out["mean"], shipped["mean"])  # a zero slope changes nothing
    filled = fill_covariates(real.arms, sp, sp.seed)
    assert filled["kl_grade_mean"].notna().all()

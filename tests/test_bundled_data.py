"""The bundled real dataset data/msc_knee_oa/ against its sources.

References: Qu & Sun 2021 (J Orthop Surg Res 16:11): Table 1, the "Study characteristics",
"Risk of bias assessment" and Results sections, Table 2; Lamo-Espinosa 2016 (J Transl Med
14:246) Table 2 and abstract; Wong 2013 (Arthroscopy 29:2020) abstract. The numbers below
are copied from those sources (the project's source register, trial_sources.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "data" / "msc_knee_oa"
STATS = ["mean", "sd", "se", "ci_low", "ci_high", "median", "q1", "q3", "min", "max"]
OUTCOMES = {"vas", "womac_pain", "womac_stiffness", "womac_function", "womac_total", "ikdc"}


@pytest.fixture(scope="module")
def arms() -> pd.DataFrame:
    return pd.read_csv(REAL / "arms.csv")


@pytest.fixture(scope="module")
def studies() -> pd.DataFrame:
    return pd.read_csv(REAL / "studies.csv")


@pytest.fixture(scope="module")
def outcomes() -> pd.DataFrame:
    return pd.read_csv(REAL / "outcomes.csv")


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return pd.read_csv(REAL / "published_pooled.csv")


def test_nine_trials_23_arms_476_patients(arms, studies):
    # Qu & Sun 2021, abstract: "Nine RCTs involving 476 patients"; Table 1 has 23 arm rows.
    assert len(studies) == 9 and studies["study"].is_unique
    assert sorted(studies["ref"]) == list(range(27, 36))
    assert len(arms) == 23 and arms["n"].sum() == 476
    assert set(arms["study"]) == set(studies["study"])
    assert not arms.duplicated(["study", "arm"]).any()
    assert set(arms["role"]) == {"treatment", "control"}
    assert (arms.groupby("study")["role"].nunique() == 2).all()
    # Table 1 sample sizes per trial (by reference number); "ranged from 30 to 87"
    size = arms.groupby("study")["n"].sum()
    by_ref = dict(zip(studies["ref"], studies["study"], strict=False))
    expected = {27: 43, 28: 30, 29: 75, 30: 30, 31: 50, 32: 50, 33: 55, 34: 56, 35: 87}
    assert {ref: size[by_ref[ref]] for ref in expected} == expected
    assert (arms.groupby("study").size()[[by_ref[r] for r in (28, 29, 33)]] == [3, 5, 3]).all()


def test_study_characteristics_match_the_text(studies):
    # "Risk of bias assessment": low [27, 29, 30, 33], unclear [31, 35], high [28, 32, 34]
    rob = studies.groupby("risk_of_bias")["ref"].apply(sorted).to_dict()
    assert rob == {"low": [27, 29, 30, 33], "unclear": [31, 35], "high": [28, 32, 34]}
    # "5 used HA as control [28, 30, 32, 33, 35], 2 used placebo [27, 29], ... [31] ... [34]"
    ctl = studies.groupby("control_type")["ref"].apply(sorted).to_dict()
    assert ctl == {
        "hyaluronic_acid": [28, 30, 32, 33, 35],
        "placebo": [27, 29],
        "arthroscopic_debridement": [31],
        "high_tibial_osteotomy": [34],
    }
    # "two in Spain [28, 30], two in India [29, 31], two in the USA [32, 33]"
    country = studies.groupby("country")["ref"].apply(sorted).to_dict()
    assert country == {
        "Spain": [28, 30],
        "India": [29, 31],
        "USA": [32, 33],
        "Iran": [27],
        "Singapore": [34],
        "China": [35],
    }
    assert studies["year"].between(2010, 2018).all()  # "published between 2010 and 2018"
    assert dict(zip(studies["ref"], studies["follow_up_months"].astype(str), strict=False)) == {
        27: "3;6",
        28: "6;12",
        29: "3;6;12",
        30: "12",
        31: "3;6",
        32: "6;12;18",
        33: "6;12;24",
        34: "6;12;18;24",
        35: "3;6;12",
    }


def test_arm_values_follow_their_printed_text(arms):
    # a mean age only where Table 1 prints "mean ± SD" or a bare mean (Vangsness "46")
    for r in arms.itertuples():
        printed = re.fullmatch(r"([\d.]+)(?: ± ([\d.]+))?", r.age_reported)
        if printed:
            assert r.age_mean == float(printed.group(1))
            assert np.isnan(r.age_sd) if printed.group(2) is None else r.age_sd == float(printed.group(2))
        else:
            assert np.isnan(r.age_mean) and np.isnan(r.age_sd)
        dose = re.match(r"(\d+) × 10\^6", r.intervention)
        assert (r.dose_million == int(dose.group(1))) if dose else np.isnan(r.dose_million)
        kl = arms.loc[r.Index, ["kl2", "kl3", "kl4"]]
        assert kl.isna().all() or kl.sum() == r.n
        sex = arms.loc[r.Index, ["male", "female"]]
        assert sex.isna().all() or sex.sum() == r.n
    # spot checks, Table 1
    row = arms.set_index(["study", "arm"])
    assert row.loc[("emadedin_2018", "msc_40m"), ["n", "male", "female", "kl2", "kl3", "kl4"]].tolist() == [
        19,
        12,
        7,
        2,
        13,
        4,
    ]
    assert row.loc[("lamo_espinosa_2016", "msc_10m"), "age_reported"] == "65.9(59.5, 70.6)"
    assert row.loc[("ha_2018", "ha"), ["n", "age_mean", "age_sd", "kl4"]].tolist() == [43, 57, 3.2, 21]
    assert row.loc[("vangsness_2014", "ha"), ["age_mean", "n"]].tolist() == [46, 19]
    assert row.loc[("wong_2013", "hto"), "age_reported"] == "49(24–54)"
    assert sorted(arms["dose_million"].dropna().unique()) == [5, 10, 25, 40, 50, 75, 100, 150]


def test_every_outcome_and_contrast_row_has_a_source(outcomes):
    contrasts = pd.read_csv(REAL / "contrasts.csv")
    for frame in (outcomes, contrasts, pd.read_csv(REAL / "arms.csv"), pd.read_csv(REAL / "studies.csv")):
        assert frame["source"].notna().all() and (frame["source"].str.strip() != "").all()


def test_only_sourced_values_are_given(outcomes):
    given = outcomes[outcomes[STATS].notna().any(axis=1)]
    # the only per-arm values a reachable source gives: Lamo-Espinosa 2016 medians (IQR)
    assert set(given["study"]) == {"lamo_espinosa_2016"}
    assert given[["median", "q1", "q3"]].notna().all().all()
    assert given[["mean", "sd", "se", "ci_low", "ci_high", "min", "max"]].isna().all().all()
    assert len(given) == 4 * 4 * 3 + 2 * 3
    assert given["source"].str.contains("https://").all()
    assert (given["kind"] == "final").all()
    scale = given.groupby("outcome")[["scale_min", "scale_max"]].first().T.to_dict("list")
    assert scale == {
        "vas": [0, 10],
        "womac_pain": [0, 20],
        "womac_stiffness": [0, 8],
        "womac_function": [0, 68],
        "womac_total": [0, 96],
    }
    missing = outcomes[outcomes[STATS].isna().all(axis=1)]
    assert missing["source"].str.startswith("not available from sources reachable here").all()
    assert set(outcomes["outcome"]) == OUTCOMES
    assert not outcomes.duplicated(["study", "arm", "outcome", "month"]).any()


@pytest.mark.parametrize(
    "outcome, month, arm, median, q1, q3",
    [
        # Lamo-Espinosa 2016, J Transl Med 14:246, Table 2 (median (IQR); control = HA)
        ("womac_pain", 0, "ha", 5.5, 5, 6),
        ("womac_pain", 12, "msc_100m", 2.5, 2, 4),
        ("womac_stiffness", 6, "ha", 0.5, 0, 2),
        ("womac_function", 3, "msc_10m", 17.5, 8, 26),
        ("womac_function", 12, "ha", 9.5, 5, 23),
        ("womac_total", 0, "msc_10m", 37, 32, 42),
        ("womac_total", 6, "msc_100m", 20, 13, 23),
        # Lamo-Espinosa 2016 abstract (PubMed 27565858): VAS 0-10
        ("vas", 0, "msc_100m", 6, 4, 8),
        ("vas", 12, "msc_10m", 2, 1, 3),
        ("vas", 12, "ha", 4, 3, 5),
    ],
)
def test_lamo_espinosa_values_match_the_source(outcomes, outcome, month, arm, median, q1, q3):
    row = outcomes[
        (outcomes["study"] == "lamo_espinosa_2016")
        & (outcomes["outcome"] == outcome)
        & (outcomes["month"] == month)
        & (outcomes["arm"] == arm)
    ]
    assert len(row) == 1
    assert row[["median", "q1", "q3"]].iloc[0].tolist() == [median, q1, q3]


def test_declared_missing_cells_cover_every_pooled_trial_month(outcomes, published, studies, arms):
    # every arm of every trial the paper pooled for an outcome, at each reported month that
    # is among the trial's follow-up months (Table 1), has a row (values or declared missing)
    follow = {
        s: {int(m) for m in str(f).split(";")}
        for s, f in zip(studies["study"], studies["follow_up_months"], strict=False)
    }
    have = set(zip(outcomes["study"], outcomes["arm"], outcomes["outcome"], outcomes["month"], strict=False))
    expected = set()
    for r in published.itertuples():
        for study in r.trials.split(";"):
            if r.month in follow[study]:
                expected |= {(study, a, r.outcome, r.month) for a in arms.loc[arms["study"] == study, "arm"]}
    assert expected <= have
    missing = outcomes[outcomes[STATS].isna().all(axis=1)]
    assert set(zip(missing["study"], missing["arm"], missing["outcome"], missing["month"], strict=False)) <= expected
    assert len(missing) == 119


def test_published_pooled_results(published):
    # Qu & Sun 2021 Results: 4 VAS, 3 x 4 WOMAC and 4 IKDC pooled estimates
    assert len(published) == 20
    assert published.groupby("outcome").size().to_dict() == {
        "vas": 4,
        "womac_pain": 3,
        "womac_stiffness": 3,
        "womac_function": 3,
        "womac_total": 3,
        "ikdc": 4,
    }
    assert ((published["ci_low"] <= published["estimate"]) & (published["estimate"] <= published["ci_high"])).all()
    lt = published["p_text"].str.startswith("<")
    assert published.loc[lt, "p_value"].isna().all() and lt.sum() == 2
    assert np.allclose(published.loc[~lt, "p_value"], published.loc[~lt, "p_text"].astype(float))
    row = published.set_index(["outcome", "month"])
    assert row.loc[("vas", 24), ["estimate", "ci_low", "ci_high"]].tolist() == [-24.98, -35.01, -14.96]
    assert row.loc[("womac_pain", 3), ["estimate", "ci_low", "ci_high", "p_value"]].tolist() == [
        -19.01,
        -32.29,
        -5.73,
        0.005,
    ]
    assert row.loc[("ikdc", 18), "trial_refs"] == "32;34"
    assert row.loc[("vas", 3), "trial_refs"] == "27;29;30;31;33;35"
    assert row.loc[("womac_total", 12), "p_text"] == "0.710"
    metareg = pd.read_csv(REAL / "published_metareg.csv")
    assert metareg["covariate"].tolist() == [
        "Age",
        "Gender",
        "Grade of osteoarthritis",
        "Duration of disease",
        "Dose of MSCs",
    ]
    assert metareg.loc[4, ["coefficient", "ci_low", "ci_high", "t", "p"]].tolist() == [
        0.4893,
        -0.3635,
        1.3421,
        1.19,
        0.247,
    ]


def test_wong_contrast(arms):
    c = pd.read_csv(REAL / "contrasts.csv").set_index("outcome")
    # Wong 2013 abstract: IKDC 7.65 (95% CI 3.04 to 12.26)
    assert c.loc["ikdc", ["estimate", "ci_low", "ci_high"]].tolist() == [7.65, 3.04, 12.26]
    assert c["month"].isna().all()
    wong = set(arms.loc[arms["study"] == "wong_2013", "arm"])
    assert set(c["treatment_arm"]) | set(c["control_arm"]) <= wong


def test_the_reader_accepts_the_bundled_folders():
    from bayes_msc.data.reader import read_dataset

    real = read_dataset(REAL)
    assert not real.simulated and len(real.arms) == 23
    assert (real.outcomes["stat_group"] == "missing").sum() == 119
    assert real.contrasts is not None and real.published is not None and len(real.published) == 20
    sim = read_dataset(ROOT / "data" / "msc_knee_oa_simulated")
    assert sim.simulated and set(sim.outcomes["stat_group"]) == {"mean_sd"}

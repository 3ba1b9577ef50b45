"""Tests of bayes_msc.data.effects (and covariates, and the ``effects`` command).

Outside references:
- tests/reference/escalc_md_smd.json: R metafor 3.8.1 ``escalc`` "MD" and "SMD" values
  (made by tests/reference/r/escalc_md_smd.R) for metadat's dat.normand1999 and for
  multi-arm test inputs with each arm's n split among its comparisons (Cochrane Handbook
  23.3.4) or kept whole.
- Gleser & Olkin (2009), Handbook of Research Synthesis and Meta-Analysis 2nd ed., ch. 19,
  multiple-treatment SMD example, pp. 364-367 (pooled 2.3743 and 1.5702, their covariance
  matrix and Q = 3.9447), as checked in metafor's tests/testthat/test_analysis_example_gleser2009.r.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_msc.data.covariates import derive_covariates, parse_term
from bayes_msc.data.dataset import STAT_COLUMNS, STAT_GROUPS, Dataset
from bayes_msc.data.effects import arm_table, effect_table, escalc_md, escalc_smd, smd_shared_covariance
from bayes_msc.errors import InputError

REF = json.loads((Path(__file__).parent / "reference" / "escalc_md_smd.json").read_text())


def make_dataset(
    arms: list[dict],
    outcomes: list[dict],
    studies: list[dict] | None = None,
    contrasts: list[dict] | None = None,
    name: str = "test_data",
) -> Dataset:
    """A Dataset with the normalised columns the reader produces (see dataset.py)."""
    a = pd.DataFrame(arms)
    a["n"] = a["n"].astype(int)
    a["_row"] = np.arange(len(a)) + 2
    o = pd.DataFrame(outcomes)
    for col in (*STAT_COLUMNS, "scale_min", "scale_max", "n"):
        o[col] = o[col].astype(float) if col in o else np.nan
    o["kind"] = o["kind"].fillna("final") if "kind" in o else "final"
    o["month"] = o["month"].astype(float)
    n_arm = {(s, x): float(n) for s, x, n in zip(a["study"], a["arm"], a["n"], strict=True)}
    o["n"] = [n if np.isfinite(n) else n_arm[(s, x)] for n, s, x in zip(o["n"], o["study"], o["arm"], strict=True)]
    o["stat_group"] = [
        next((g for g, cols in STAT_GROUPS.items() if all(np.isfinite(r[c]) for c in cols)), "missing")
        for _, r in o.iterrows()
    ]
    o["_row"] = np.arange(len(o)) + 2
    c = None
    if contrasts is not None:
        c = pd.DataFrame(contrasts)
        c["month"] = c["month"].astype(float)
        for col in ("se", "ci_low", "ci_high"):
            c[col] = c[col].astype(float) if col in c else np.nan
    s = pd.DataFrame(studies) if studies is not None else None
    return Dataset(path=Path(name), arms=a, outcomes=o, studies=s, contrasts=c, simulated="simulated" in name)


def _arm(study, arm, role, n, **cov):
    return dict(study=study, arm=arm, role=role, n=n, **cov)


def _row(study, arm, month, outcome="score", **stats):
    return dict(study=study, arm=arm, outcome=outcome, month=month, **stats)


def normand_dataset() -> Dataset:
    d = REF["normand1999"]
    arms, rows = [], []
    for i, study in enumerate(d["study"]):
        arms += [_arm(study, "t", "treatment", d["n1i"][i]), _arm(study, "c", "control", d["n2i"][i])]
        rows += [
            _row(study, "t", 6, mean=d["m1i"][i], sd=d["sd1i"][i]),
            _row(study, "c", 6, mean=d["m2i"][i], sd=d["sd2i"][i]),
        ]
    return make_dataset(arms, rows)


def multiarm_dataset() -> Dataset:
    arms_ref = pd.DataFrame(REF["multiarm_inputs"]["arms"])
    arms = [_arm(r.study, r.arm, r.role, int(r.n)) for r in arms_ref.itertuples()]
    rows = [_row(r.study, r.arm, 12, mean=r.mean, sd=r.sd) for r in arms_ref.itertuples()]
    return make_dataset(arms, rows)


# --- metafor agreement ------------------------------------------------------------------


def test_escalc_functions_match_metafor():
    d = REF["normand1999"]
    args = [np.array(d[k], dtype=float) for k in ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")]
    for f, key in ((escalc_md, "md"), (escalc_smd, "smd")):
        yi, vi = f(*args)
        np.testing.assert_allclose(yi, d[f"{key}_yi"], rtol=0, atol=1e-10)
        np.testing.assert_allclose(vi, d[f"{key}_vi"], rtol=0, atol=1e-10)


@pytest.mark.parametrize("measure", ["md", "smd"])
def test_effect_table_two_arm_matches_metafor(measure):
    d = REF["normand1999"]
    table = effect_table(normand_dataset(), "score", 6, measure=measure)
    assert table.k == 9 and table.missing == ()
    assert table.data["study"].tolist() == d["study"]
    np.testing.assert_allclose(table.yi, d[f"{measure}_yi"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(table.vi, d[f"{measure}_vi"], rtol=0, atol=1e-10)
    np.testing.assert_array_equal(table.vcov, np.diag(table.vi))
    assert table.data["n_treatment"].tolist() == d["n1i"]
    assert set(table.data["source_kind"]) == {"arms"}


@pytest.mark.parametrize("measure", ["md", "smd"])
def test_split_multiarm_matches_metafor_with_divided_n(measure):
    ref = pd.DataFrame(REF["multiarm_inputs"]["comparisons"])
    table = effect_table(multiarm_dataset(), "score", 12, measure=measure, multiarm="split")
    got = table.data
    assert list(zip(got["study"], got["treatment_arm"], got["control_arm"], strict=True)) == list(
        zip(ref["study"], ref["treatment_arm"], ref["control_arm"], strict=True)
    )
    np.testing.assert_allclose(got["n_treatment"], ref["n_treatment_split"])
    np.testing.assert_allclose(got["n_control"], ref["n_control_split"])
    np.testing.assert_allclose(table.yi, ref[f"{measure}_split_yi"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(table.vi, ref[f"{measure}_split_vi"], rtol=0, atol=1e-10)
    assert np.count_nonzero(table.vcov - np.diag(table.vi)) == 0
    assert any("split" in note and "Cochrane Handbook 23.3.4" in note for note in table.notes)


def test_shared_multiarm_md_covariance_is_shared_arm_variance():
    ref = pd.DataFrame(REF["multiarm_inputs"]["comparisons"])
    arms = pd.DataFrame(REF["multiarm_inputs"]["arms"]).set_index(["study", "arm"])
    table = effect_table(multiarm_dataset(), "score", 12, multiarm="shared")
    np.testing.assert_allclose(table.vi, ref["md_whole_vi"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.diag(table.vcov), table.vi)
    np.testing.assert_allclose(table.data["n_control"], [22, 22, 14, 18, 14, 18])
    rows = list(table.data.itertuples())
    for i, a in enumerate(rows):
        for j, b in enumerate(rows):
            if i == j:
                continue
            shared = [
                x for x in ("treatment_arm", "control_arm") if a.study == b.study and getattr(a, x) == getattr(b, x)
            ]
            expected = 0.0
            if shared:
                arm = arms.loc[(a.study, getattr(a, shared[0]))]
                expected = arm["sd"] ** 2 / arm["n"]
            assert table.vcov[i, j] == pytest.approx(expected, abs=1e-14)
    # 4 comparisons of 4 arms (2 x 2) are linearly dependent: vcov is PSD and singular
    eig = np.linalg.eigvalsh(table.vcov)
    assert eig.min() > -1e-12 and np.sum(eig < 1e-12) == 1
    assert any("two_by_two: its 4 comparisons of 4 arms are linearly dependent" in n for n in table.notes)


def test_smd_shared_covariance_reproduces_gleser_olkin_2009():
    study = np.array([1, 1, 2, 3, 4, 4])
    trt = np.array([1, 2, 1, 1, 1, 2])
    m1 = np.array([7.87, 4.35, 9.32, 8.08, 7.44, 5.34])
    m2 = np.array([-1.36, -1.36, 0.98, 1.17, 0.45, 0.45])
    sdp = np.array([4.2593, 4.2593, 2.8831, 3.1764, 2.9344, 2.9344])
    n1 = np.array([25, 22, 38, 50, 30, 30.0])
    n2 = np.array([25, 25, 40, 50, 30, 30.0])
    big_n = np.array([sum(n1[study == s]) + n2[study == s][0] for s in study])
    y = (m1 - m2) / sdp
    v = np.diag(1 / n1 + 1 / n2 + y**2 / (2 * big_n))
    for i in range(6):
        for j in range(6):
            if i != j and study[i] == study[j]:
                v[i, j] = smd_shared_covariance(y[i], y[j], n2[i], big_n[i])
    x = np.column_stack([trt == 1, trt == 2]).astype(float)
    w = np.linalg.inv(v)
    cov = np.linalg.inv(x.T @ w @ x)
    beta = cov @ x.T @ w @ y
    resid = y - x @ beta
    np.testing.assert_allclose(beta, [2.3743, 1.5702], atol=1e-4)
    np.testing.assert_allclose(cov, [[0.02257, 0.01244], [0.01244, 0.03554]], atol=1e-5)
    assert resid @ w @ resid == pytest.approx(3.9447, abs=1e-4)


def test_shared_multiarm_smd_uses_gleser_olkin_covariance():
    ref = pd.DataFrame(REF["multiarm_inputs"]["comparisons"])
    table = effect_table(multiarm_dataset(), "score", 12, measure="smd", multiarm="shared")
    np.testing.assert_allclose(table.yi, ref["smd_whole_yi"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(table.vi, ref["smd_whole_vi"], rtol=0, atol=1e-10)
    # three_arm: a vs ctl and b vs ctl share ctl (n 22); the study's N = 20 + 21 + 22
    assert table.vcov[0, 1] == pytest.approx(1 / 22 + table.yi[0] * table.yi[1] / (2 * 63), rel=1e-12)
    # two_by_two: t1 vs c1 and t1 vs c2 share t1 (n 16); N = 16 + 15 + 14 + 18; t1c1 and t2c2 share none
    assert table.vcov[2, 3] == pytest.approx(1 / 16 + table.yi[2] * table.yi[3] / (2 * 63), rel=1e-12)
    assert table.vcov[2, 5] == 0.0


# --- selection, missing data, contrasts, change scores, rescaling ---------------------------


def two_study_dataset(**extra) -> Dataset:
    arms = [
        _arm("s1", "msc", "treatment", 20, dose=40.0, age=50.0, female=12, male=8),
        _arm("s1", "ctl", "control", 20, dose=np.nan, age=60.0, female=10, male=10),
        _arm("s2", "msc", "treatment", 15, dose=10.0, age=np.nan, female=np.nan, male=np.nan),
        _arm("s2", "ctl", "control", 30, dose=np.nan, age=44.0, female=np.nan, male=np.nan),
        _arm("s3", "msc", "treatment", 10, dose=0.0, age=55.0, female=5, male=5),
        _arm("s3", "ctl", "control", 10, dose=np.nan, age=np.nan, female=5, male=5),
    ]
    rows = [
        _row("s1", "msc", 0, mean=6.0, sd=2.0),
        _row("s1", "ctl", 0, mean=6.2, sd=2.1),
        _row("s1", "msc", 12, mean=3.0, sd=2.5),
        _row("s1", "ctl", 12, mean=5.0, sd=2.4),
        _row("s2", "msc", 12, mean=2.0, se=0.5),
        _row("s2", "ctl", 12, median=4.0, q1=3.0, q3=6.0),
        _row("s3", "msc", 12),
        _row("s2", "msc", 6, mean=1.0, sd=1.0),
    ]
    studies = [dict(study="s1", year=2010), dict(study="s2", year=2015), dict(study="s3", year=2020)]
    return make_dataset(arms, extra.get("rows", rows), studies, extra.get("contrasts"), extra.get("name", "test_data"))


def test_missing_rows_are_listed_and_left_out():
    table = effect_table(two_study_dataset(), "score", 12)
    assert table.data["study"].tolist() == ["s1", "s2"]
    assert len(table.missing) == 1
    assert table.missing[0].startswith("s3: msc vs ctl:")
    assert "declared missing (outcomes.csv row 8)" in table.missing[0]
    assert "ctl: no month-12 row" in table.missing[0]
    assert any("SD = SE * sqrt(n)" in n for n in table.notes)
    assert any("median/IQR" in n and "Luo" in n for n in table.notes)


def test_comparison_covariates_follow_design_rules():
    table = effect_table(two_study_dataset(), "score", 12)
    d = table.data.set_index("study")
    assert d.at["s1", "dose"] == 40.0  # control leaves it empty: the treatment's value
    assert d.at["s1", "age"] == pytest.approx((20 * 50 + 20 * 60) / 40)  # n-weighted mean
    assert d.at["s2", "age"] == 44.0  # only one arm gives it
    assert d.at["s1", "female_pct"] == pytest.approx(55.0)  # derived per arm, then averaged
    assert np.isnan(d.at["s2", "female_pct"])
    assert d.at["s2", "year"] == 2015  # study-level
    assert {"dose", "age", "female", "male", "female_pct", "year"} <= set(table.covariates)


def test_design_terms_and_dropped_rows():
    table = effect_table(two_study_dataset(), "score", 12)
    x, names, kept = table.design(["log10(dose)", "age", "female_pct"])
    assert names == ("log10(dose)", "age", "female_pct")
    assert kept.tolist() == [True, False]
    np.testing.assert_allclose(x, [[np.log10(40.0), 55.0, 55.0]])
    report = table.design_report(["log10(dose)", "female_pct"])
    assert report == ("s2: msc vs ctl dropped from the regression: no value for female_pct",)
    x2, _, _kept2 = table.design("log(dose)")
    np.testing.assert_allclose(x2[:, 0], np.log([40.0, 10.0]))


def test_design_errors_name_option_and_available_covariates():
    table = effect_table(two_study_dataset(), "score", 12)
    with pytest.raises(InputError) as err:
        table.design(["weight"])
    assert err.value.problems[0].argument == "covariates"
    assert "unknown covariate 'weight'" in str(err.value) and "age, dose" in str(err.value)
    with pytest.raises(InputError, match="unknown transform 'sqrt'"):
        table.design(["sqrt(age)"])
    rows = two_study_dataset().outcomes.to_dict("records")
    rows = [r for r in rows if r["study"] != "s3"] + [
        _row("s3", "msc", 12, mean=1.0, sd=1.0),
        _row("s3", "ctl", 12, mean=1.5, sd=1.0),
    ]
    with_zero = two_study_dataset(
        rows=[
            {
                k: v
                for k, v in r.items()
                if k in ("study", "arm", "outcome", "month", "mean", "sd", "se", "median", "q1", "q3")
            }
            for r in rows
        ]
    )
    with pytest.raises(InputError, match=r"study 's3', comparison 'msc' vs 'ctl' has dose = 0"):
        effect_table(with_zero, "score", 12).design(["log10(dose)"])


def test_parse_term():
    assert parse_term(" log10( dose_million ) ").name == "log10(dose_million)"
    assert parse_term("age_mean").transform is None
    for bad in ("log10()", "exp(x)", "a(b)c", ""):
        with pytest.raises(InputError):
            parse_term(bad)


def test_derive_covariates_matches_the_reader():
    arms = pd.DataFrame(
        {
            "kl2": [2.0, 1.0, np.nan, np.nan],
            "kl3": [13.0, 20.0, 1.0, np.nan],
            "kl4": [4.0, 3.0, 1.0, np.nan],
            "female": [7.0, 9.0, 0.0, 1.0],
            "male": [12.0, 15.0, 0.0, 1.0],
        }
    )
    out = derive_covariates(arms)
    np.testing.assert_allclose(out["kl_grade_mean"][:3], [(4 + 39 + 16) / 19, (2 + 60 + 12) / 24, 3.5])
    assert np.isnan(out["kl_grade_mean"][3])
    np.testing.assert_allclose(out["female_pct"], [700 / 19, 900 / 24, np.nan, 50.0])
    reader = pytest.importorskip("bayes_msc.data.reader")
    if hasattr(reader, "_normalise_arms"):  # same definitions as the reader's
        frame = arms.assign(study="s", arm=list("abcd"), role="treatment", n=10, _row=[2, 3, 4, 5])
        theirs = reader._normalise_arms(frame, ("kl2", "kl3", "kl4", "female", "male"))
        np.testing.assert_allclose(out["kl_grade_mean"], theirs["kl_grade_mean"])
        np.testing.assert_allclose(out["female_pct"], theirs["female_pct"])


def test_contrasts_enter_for_md_only():
    contrasts = [
        dict(
            study="s3",
            outcome="score",
            month=12,
            treatment_arm="msc",
            control_arm="ctl",
            estimate=-1.5,
            ci_low=-3.0,
            ci_high=0.0,
        ),
        dict(study="s1", outcome="score", month=12, treatment_arm="msc", control_arm="ctl", estimate=-9.0, se=1.0),
    ]
    ds = two_study_dataset(contrasts=contrasts)
    table = effect_table(ds, "score", 12)
    d = table.data
    assert d["source_kind"].tolist() == ["arms", "arms", "contrast"]
    assert d["yi"].iat[0] == pytest.approx(-2.0)  # arm data win over the s1 contrast
    assert d["yi"].iat[2] == -1.5
    assert d["vi"].iat[2] == pytest.approx((3.0 / (2 * 1.959964)) ** 2, rel=1e-6)
    assert table.missing == ()
    assert any("s1: the contrasts.csv row for msc vs ctl is not used" in n for n in table.notes)
    smd = effect_table(ds, "score", 12, measure="smd")
    assert smd.data["source_kind"].tolist() == ["arms", "arms"]
    assert "only a contrast" in smd.missing[0]
    se_only = two_study_dataset(
        contrasts=[
            dict(study="s3", outcome="score", month=12, treatment_arm="msc", control_arm="ctl", estimate=0.5, se=2.0)
        ]
    )
    assert effect_table(se_only, "score", 12).data["vi"].iat[2] == 4.0


def test_change_from_baseline_basis():
    from bayes_msc.data.conversions import change_from_baseline

    ds = two_study_dataset()
    table = effect_table(ds, "score", 12, basis="change", r=0.3)
    assert table.data["study"].tolist() == ["s1"]
    m_t, s_t = change_from_baseline(6.0, 2.0, 3.0, 2.5, 0.3)
    m_c, s_c = change_from_baseline(6.2, 2.1, 5.0, 2.4, 0.3)
    assert table.yi[0] == pytest.approx(m_t - m_c)
    assert table.vi[0] == pytest.approx(s_t**2 / 20 + s_c**2 / 20)
    assert table.r == 0.3 and any("r = 0.3" in n for n in table.notes)
    assert any("s2: msc vs ctl" in m and "no baseline row" in m for m in table.missing)
    reported = two_study_dataset(
        rows=[
            _row("s1", "msc", 12, mean=-3.0, sd=2.0, kind="change"),
            _row("s1", "ctl", 12, mean=-1.0, sd=2.0, kind="change"),
        ]
    )
    t2 = effect_table(reported, "score", 12, basis="change")
    assert t2.yi[0] == pytest.approx(-2.0) and t2.vi[0] == pytest.approx(0.4)
    with pytest.raises(InputError, match="needs a follow-up month"):
        effect_table(ds, "score", 0, basis="change")
    with pytest.raises(InputError, match="must lie in"):
        effect_table(ds, "score", 12, basis="change", r=1.5)
    final_only = effect_table(reported, "score", 12)
    assert final_only.k == 0 and "use basis 'change'" in final_only.missing[0]


def test_rescale_to_0_100():
    rows = [
        _row("s1", "msc", 12, mean=3.0, sd=2.5, scale_min=0, scale_max=10),
        _row("s1", "ctl", 12, mean=5.0, sd=2.4, scale_min=0, scale_max=10),
        _row("s2", "msc", 12, mean=2.0, sd=1.0, scale_min=0, scale_max=10),
        _row("s2", "ctl", 12, mean=4.0, sd=1.0),
    ]
    ds = two_study_dataset(rows=rows)
    native = effect_table(ds, "score", 12, rescale=False)
    scaled = effect_table(ds, "score", 12)
    assert native.k == 2 and scaled.k == 1
    assert scaled.yi[0] == pytest.approx(10 * native.yi[0])
    assert scaled.vi[0] == pytest.approx(100 * native.vi[0])
    assert any("rescaled from 0-10 to 0-100" in n for n in scaled.notes)
    assert "only one could be rescaled" in scaled.missing[0]


def test_unknown_outcome_and_month_list_what_exists():
    ds = two_study_dataset()
    with pytest.raises(InputError) as err:
        effect_table(ds, "pain", 12)
    assert err.value.problems[0].argument == "outcome" and "available outcomes: score" in str(err.value)
    with pytest.raises(InputError) as err:
        effect_table(ds, "score", 3)
    assert "months with rows for it: 0, 6, 12" in str(err.value)
    with pytest.raises(InputError):
        effect_table(ds, "score", 12, measure="or")


def test_arm_table_keeps_shared_arms_whole_and_once():
    ds = multiarm_dataset()
    arms = arm_table(ds, "score", 12)
    eff = effect_table(ds, "score", 12)
    assert arms.comparisons.values.tolist() == eff.data[["study", "treatment_arm", "control_arm"]].values.tolist()
    assert len(arms.data) == 7 and not arms.data.duplicated(["study", "arm"]).any()
    ref = pd.DataFrame(REF["multiarm_inputs"]["arms"])
    got = arms.data.set_index(["study", "arm"]).loc[list(zip(ref["study"], ref["arm"], strict=True))]
    np.testing.assert_allclose(got["n"], ref["n"])
    np.testing.assert_allclose(got["se"], ref["sd"] / np.sqrt(ref["n"]))
    assert got["role"].tolist() == ref["role"].tolist()


def test_arm_table_lists_contrasts_as_missing():
    contrasts = [
        dict(study="s3", outcome="score", month=12, treatment_arm="msc", control_arm="ctl", estimate=-1.5, se=1.0)
    ]
    arms = arm_table(two_study_dataset(contrasts=contrasts), "score", 12)
    assert arms.comparisons["study"].tolist() == ["s1", "s2"]
    assert any("cannot enter the arm-level model" in m for m in arms.missing)
    assert arms.data.loc[arms.data["arm"] == "msc", "dose"].tolist() == [40.0, 10.0]


# --- output -------------------------------------------------------------------------------


def test_to_dict_and_command_renderings():
    from bayes_msc.cli.commands.effects import csv_text
    from bayes_msc.results.serialise import to_json

    table = effect_table(multiarm_dataset(), "score", 12, multiarm="shared")
    out = table.to_dict()
    assert list(out)[:11] == [
        "dataset",
        "simulated",
        "outcome",
        "month",
        "measure",
        "multiarm",
        "basis",
        "r",
        "rescale",
        "k",
        "missing",
    ]
    assert out["k"] == 6 and out["effects"][0]["comparison"] == "a vs ctl"
    assert {(c["a"], c["b"]) for c in out["covariances"]} == {(0, 1), (2, 3), (2, 4), (3, 5), (4, 5)}
    assert to_json(out) == to_json(effect_table(multiarm_dataset(), "score", 12, multiarm="shared").to_dict())
    sim = effect_table(two_study_dataset(name="demo_simulated"), "score", 12)
    text = str(sim)
    assert text.startswith("SIMULATED DATA\n") and "left out:" in text
    rows = list(csv.DictReader(io.StringIO(csv_text(sim))))
    assert len(rows) == 2 and rows[0]["simulated"] == "True" and rows[0]["multiarm"] == "split"
    assert not str(table).startswith("SIMULATED")


def test_cli_effects_end_to_end(tmp_path, capsys):
    pytest.importorskip("bayes_msc.data.reader")
    from bayes_msc.cli.main import main

    folder = tmp_path / "trial_set"
    folder.mkdir()
    (folder / "arms.csv").write_text("study,arm,role,n\ns1,t,treatment,20\ns1,c,control,22\n")
    (folder / "outcomes.csv").write_text(
        "study,arm,outcome,month,n,mean,sd,source\ns1,t,pain,6,,3.1,2.0,Table 2\ns1,c,pain,6,,4.6,2.3,Table 2\n"
    )
    assert main(["effects", str(folder), "--outcome", "pain", "--month", "6", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    yi, vi = escalc_md(3.1, 2.0, 20, 4.6, 2.3, 22)
    assert out["k"] == 1 and out["effects"][0]["yi"] == pytest.approx(float(yi))
    assert out["effects"][0]["vi"] == pytest.approx(float(vi))
    assert main(["effects", str(folder), "--outcome", "knee", "--month", "6"]) == 2
    assert "available outcomes: pain" in capsys.readouterr().err

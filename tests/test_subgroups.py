"""Subgroups and factor meta-regression against R metafor 3.8.1 (issue 16, deliverable 1).

Reference values: tests/reference/subgroup_network_metafor.json (``subgroups``), made by
tests/reference/r/make_subgroup_network_refs.R (R and package versions and the exact R
calls are stored in the file): for dat.bcg by ``alloc``, dat.raudenbush1985 by ``tester``
and dat.bangertdrowns2004 by ``grade`` (the data are pinned with the results), DL and REML:

- separate tau^2: ``rma(yi, vi, subset = x == level, method)`` per level and the
  fixed-effect Q of the level estimates ``rma(est, sei = se, method = "FE")$QE``;
- common tau^2: ``rma(yi, vi, mods = ~ factor(x), method)`` (QM, tau^2), ``mods = ~
  factor(x) - 1`` (each level's estimate) and ``mods = ~ relevel(factor(x), ref = REF)``
  (the differences from a stated reference level).

Tolerances: 1e-6 (DL, closed form), 1e-4 relative (REML, iterative); both are met by far.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayes_msc as bm
from bayes_msc.data.effects import EffectTable
from bayes_msc.errors import InputError

REFS = json.loads((Path(__file__).parent / "reference" / "subgroup_network_metafor.json").read_text())
CASES = REFS["subgroups"]
ROOT = Path(__file__).resolve().parents[1]


def _table(d: dict, column: str = "x") -> EffectTable:
    """An effect table of the pinned yi/vi, one study per row, the factor in ``column``."""
    k = len(d["yi"])
    data = pd.DataFrame(
        {
            "study": [f"s{i:02d}" for i in range(k)],
            "comparison": ["t vs c"] * k,
            "treatment_arm": ["t"] * k,
            "control_arm": ["c"] * k,
            "outcome": ["o"] * k,
            "month": [0.0] * k,
            "yi": d["yi"],
            "vi": d["vi"],
            "n_treatment": [np.nan] * k,
            "n_control": [np.nan] * k,
            "source_kind": ["arm"] * k,
            column: [str(x) for x in d["x"]],
        }
    )
    return EffectTable(
        data=data,
        vcov=np.diag(d["vi"]),
        outcome="o",
        month=0.0,
        measure="md",
        multiarm="split",
        basis="final",
        r=0.5,
        rescale=False,
        simulated=False,
        dataset="metadat",
        factors=(column,),
    )


def _close(ours, theirs, method, what):
    if method == "dl":
        assert ours == pytest.approx(theirs, abs=1e-6, rel=1e-6), what
    else:
        assert ours == pytest.approx(theirs, rel=1e-4, abs=1e-8), what


@pytest.mark.parametrize("name", sorted(CASES))
def test_separate_tau2_matches_metafor_subsets(name):
    case = CASES[name]
    res = bm.subgroup(_table(case["data"]), "x", method=case["method"], tau2="separate")
    assert [lv.level for lv in res.levels] == list(case["separate"])  # R's sorted levels
    for lv in res.levels:
        ref = case["separate"][lv.level]
        assert lv.k == ref["QEdf"] + 1
        for ours, theirs in [
            ("estimate", "b"),
            ("se", "se"),
            ("ci_low", "ci_lb"),
            ("ci_high", "ci_ub"),
            ("z", "zval"),
            ("p", "pval"),
            ("tau2", "tau2"),
            ("q", "QE"),
            ("q_p", "QEp"),
            ("i2", "I2"),
            ("h2", "H2"),
        ]:
            _close(getattr(lv, ours), ref[theirs], case["method"], f"{name} {lv.level} {ours}")
        assert lv.pooled
    _close(res.q_between, case["q_between_separate"], case["method"], "q_between")
    assert res.q_between_df == case["q_between_separate_df"]
    _close(res.q_between_p, case["q_between_separate_p"], case["method"], "q_between_p")
    assert res.tau2_mode == "separate" and res.q_between_test == "chi2"


@pytest.mark.parametrize("name", sorted(CASES))
def test_common_tau2_matches_metafor_factor_model(name):
    case = CASES[name]
    res = bm.subgroup(_table(case["data"]), "x", reference=case["reference"], method=case["method"], tau2="common")
    common, levels, relevel = case["common"], case["levels"], case["relevel"]
    # the test for subgroup differences is the factor model's QM
    _close(res.q_between, common["QM"], case["method"], "QM")
    assert res.q_between_df == common["QMdf"]
    _close(res.q_between_p, common["QMp"], case["method"], "QMp")
    _close(res.tau2, common["tau2"], case["method"], "tau2")
    # each level's estimate: mods = ~ factor(x) - 1 (coefficients in R's level order)
    names = [n.removeprefix("factor(x)") for n in levels["coef_names"]]
    for i, lv_name in enumerate(names):
        lv = res.level(lv_name)
        for ours, theirs in [("estimate", "b"), ("se", "se"), ("ci_low", "ci_lb"), ("ci_high", "ci_ub"), ("p", "pval")]:
            _close(getattr(lv, ours), levels[theirs][i], case["method"], f"{lv_name} {ours}")
        _close(lv.tau2, common["tau2"], case["method"], "level tau2")
    # the differences from the stated reference: mods = ~ relevel(factor(x), ref = REF)
    assert res.reference == case["reference"]
    prefix = "relevel(factor(x), ref = d$ref)"
    others = [n.removeprefix(prefix) for n in relevel["coef_names"][1:]]
    assert [d.level for d in res.differences] == others
    for i, d in enumerate(res.differences, start=1):
        for ours, theirs in [("estimate", "b"), ("se", "se"), ("z", "zval"), ("p", "pval")]:
            _close(getattr(d, ours), relevel[theirs][i], case["method"], f"diff {d.level} {ours}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_factor_metareg_matches_metafor(name):
    """``bm.metareg(effects, ["factor(x, ref=REF)"])`` is metafor's relevel model, terms
    named ``x[LEVEL]``; a plain text column is dummy-coded against its first level."""
    case = CASES[name]
    table = _table(case["data"])
    res = bm.metareg(table, [f"factor(x, ref={case['reference']})"], method=case["method"])
    ref = case["relevel"]
    prefix = "relevel(factor(x), ref = d$ref)"
    assert [c.name for c in res.coefficients] == ["intercept"] + [
        f"x[{n.removeprefix(prefix)}]" for n in ref["coef_names"][1:]
    ]
    for i, c in enumerate(res.coefficients):
        _close(c.estimate, ref["b"][i], case["method"], c.name)
        _close(c.se, ref["se"][i], case["method"], c.name)
    _close(res.qm, case["common"]["QM"], case["method"], "QM")
    assert any(f"reference level '{case['reference']}'" in n for n in res.notes)
    json_names = [c["name"] for c in res.to_dict()["coefficients"]]
    assert all(n == "intercept" or n.startswith("x[") for n in json_names)
    # default coding: the first level (R's factor()): the same QM, the first level as intercept
    plain = bm.metareg(table, ["x"], method=case["method"])
    _close(plain.qm, case["common"]["QM"], case["method"], "QM (default reference)")
    first = case["levels"]["coef_names"][0].removeprefix("factor(x)")
    _close(plain.coefficients[0].estimate, case["levels"]["b"][0], case["method"], f"intercept = level {first}")


def test_result_layers():
    case = CASES["bcg_DL"]
    res = bm.subgroup(_table(case["data"]), "x", reference="random")
    assert repr(res).startswith("SubgroupResult(") and "q_between_p=" in repr(res)
    text = str(res)
    assert "Test for subgroup differences: Q_between(df = 2)" in text
    assert "tau^2 estimated separately within each level" in text and "Reference level: random" in text
    frame = res.summary()
    assert list(frame["term"]) == [
        "mu[alternate]",
        "mu[random]",
        "mu[systematic]",
        "diff[alternate]",
        "diff[systematic]",
        "q_between",
    ]
    d = json.loads(json.dumps(res.to_dict()))
    assert {"levels", "q_between", "q_between_df", "q_between_p", "reference", "tau2_mode"} <= set(d)
    assert [lv["level"] for lv in d["levels"]] == ["alternate", "random", "systematic"]
    assert {"estimate", "se", "ci_low", "ci_high", "p", "tau2", "k", "pooled"} <= set(d["levels"][0])
    common = bm.subgroup(_table(case["data"]), "x", tau2="common")
    assert "one tau^2 common to every level" in str(common)


def test_hksj_common_is_an_f_test():
    case = CASES["bcg_REML"]
    res = bm.subgroup(_table(case["data"]), "x", method="reml", tau2="common", hksj=True)
    assert res.q_between_test == "F" and res.q_between_df == 2 and res.q_between_df2 == 10
    assert "F_between(df = 2, 10)" in str(res)


def test_bad_arguments_name_themselves():
    table = _table(CASES["bcg_DL"]["data"])
    with pytest.raises(InputError, match="'nope' is not a level of x; its levels: alternate, random, systematic"):
        bm.subgroup(table, "x", reference="nope")
    with pytest.raises(InputError, match="unknown column 'dose'"):
        bm.subgroup(table, "dose")
    with pytest.raises(InputError, match="tau2 must be one of separate, common"):
        bm.subgroup(table, "x", tau2="pooled")
    with pytest.raises(InputError, match="not a level"):
        bm.metareg(table, ["factor(x, ref=nope)"])
    with pytest.raises(InputError, match="factor"):
        bm.metareg(table, ["factor(x, nope)"])


def test_msc_data_one_study_levels_are_not_pooled():
    """The simulated MSC data at VAS month 12: placebo and osteotomy controls each come from
    one trial; those levels are marked, and say so, as one-study cells are."""
    effects = bm.effect_table(bm.read_dataset(ROOT / "data" / "msc_knee_oa_simulated"), "vas", 12)
    assert {"control_type", "risk_of_bias"} <= set(effects.factors)
    res = bm.subgroup(effects, "control_type", reference="hyaluronic_acid")
    by = {lv.level: lv for lv in res.levels}
    assert not by["placebo"].pooled and by["placebo"].n_studies == 1 and by["placebo"].method == "fe"
    assert by["hyaluronic_acid"].pooled and by["hyaluronic_acid"].n_studies >= 2
    assert any("placebo: 1 study (gupta_2016): within-study comparison only" in n for n in res.notes)
    assert "no: 1 study" in str(res)
    # a comparison's level is its study's (control_type lives in studies.csv)
    assert set(effects.data.loc[effects.data["study"] == "gupta_2016", "control_type"]) == {"placebo"}
    # factor meta-regression on the same column: dummy terms against the stated reference
    reg = bm.metareg(effects, ["factor(control_type, ref=hyaluronic_acid)"], method="dl")
    assert [c.name for c in reg.coefficients] == [
        "intercept",
        "control_type[high_tibial_osteotomy]",
        "control_type[placebo]",
    ]


def test_cli_subgroup_json_is_the_python_result(capsys):
    from bayes_msc.cli.main import main

    data = ROOT / "data" / "msc_knee_oa_simulated"
    args = ["subgroup", str(data), "--outcome", "vas", "--month", "12", "--by", "control_type"]
    assert main([*args, "--tau2", "common", "--method", "reml", "--reference", "placebo", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    res = bm.subgroup(bm.effect_table(data, "vas", 12), "control_type", "placebo", method="reml", tau2="common")
    assert out["q_between"] == pytest.approx(res.q_between, rel=1e-12)
    assert (out["q_between_df"], out["reference"], out["tau2_mode"]) == (2, "placebo", "common")
    assert [lv["level"] for lv in out["levels"]] == [lv.level for lv in res.levels]
    assert [lv["estimate"] for lv in out["levels"]] == pytest.approx([lv.estimate for lv in res.levels], rel=1e-12)
    assert main([*args, "--reference", "nope"]) == 2
    err = capsys.readouterr().err
    assert "option '--reference'" in err and "Traceback" not in err
    assert main(["metareg", str(data), "--outcome", "vas", "--month", "12", "--covariate", "control_type"]) == 0
    assert "control_type[placebo]" in capsys.readouterr().out


def _spec(tmp_path: Path, frequentist: str) -> Path:
    path = tmp_path / "spec.toml"
    data = (ROOT / "data" / "msc_knee_oa_simulated").as_posix()
    path.write_text(
        f'[dataset]\npath = "{data}"\n[analysis]\noutcomes = ["vas"]\nmonths = [12]\n[frequentist]\n{frequentist}',
        encoding="utf-8",
    )
    return path


def test_spec_subgroups_run_in_every_cell(tmp_path):
    """``frequentist.subgroups`` pools each column's levels in every cell (the cell's
    estimator), into summary.json's toolbox and the report's subgroups table."""
    spec = _spec(tmp_path, 'method = "reml"\nsubgroups = ["control_type"]\nsubgroup_tau2 = "common"\n')
    res = bm.run_spec(spec)
    (cell,) = res.cells
    (sg,) = cell.toolbox.subgroups
    want = bm.subgroup(cell.cell.effects, "control_type", tau2="common", method="reml")
    assert sg.tau2_mode == "common" and sg.q_between == pytest.approx(want.q_between, rel=1e-12)
    d = cell.toolbox.to_dict()
    assert d["subgroups"][0]["by"] == "control_type"
    from bayes_msc.report.toolbox import tables

    frame = tables(res)["subgroups"]
    assert set(frame["level"]) == {lv.level for lv in sg.levels}
    assert set(frame["pooled"]) == {"yes", "no: 1 study"}


def test_spec_subgroups_bad_keys_name_the_key(tmp_path):
    with pytest.raises(InputError, match=r"frequentist\.subgroup_tau2"):
        bm.load_spec(_spec(tmp_path, 'subgroups = ["control_type"]\nsubgroup_tau2 = "both"\n'))
    with pytest.raises(InputError, match=r"frequentist\.subgroups"):
        bm.load_spec(_spec(tmp_path, "subgroups = []\n"))
    with pytest.raises(InputError, match="no column 'nope' to form subgroups by"):
        bm.run_spec(_spec(tmp_path, 'subgroups = ["nope"]\n'))


def test_a_column_of_one_level_names_by():
    """The real MSC data at VAS month 12: one trial, one comparator; no subgroups to form."""
    effects = bm.effect_table(bm.read_dataset(ROOT / "data" / "msc_knee_oa"), "vas", 12)
    with pytest.raises(InputError, match="control_type has 1 level") as err:
        bm.subgroup(effects, "control_type")
    assert err.value.problems[0].argument == "by"
    with pytest.raises(InputError, match="subgroups need two"):
        bm.subgroup_posterior(effects, "control_type")


def test_plot_subgroup_draws_each_level():
    effects = bm.effect_table(bm.read_dataset(ROOT / "data" / "msc_knee_oa_simulated"), "vas", 12)
    res = bm.subgroup(effects, "control_type", reference="hyaluronic_acid")
    fig = bm.plot_subgroup(res)
    ax = fig.axes[0]
    assert len(ax.get_yticks()) == len(res.levels)
    filled, hollow = ax.collections[1].get_offsets(), ax.collections[2].get_offsets()
    pooled = [lv for lv in res.levels if lv.pooled]
    alone = [lv for lv in res.levels if not lv.pooled]
    np.testing.assert_allclose(filled[:, 0], [lv.estimate for lv in pooled])
    np.testing.assert_allclose(hollow[:, 0], [lv.estimate for lv in alone])
    assert "SIMULATED DATA" in ax.get_title() and "control_type" in ax.get_title()
    assert any("Test for subgroup differences" in t.get_text() for t in fig.texts)
    with pytest.raises(InputError, match="SubgroupResult"):
        bm.plot_subgroup(bm.pool(effects))


def test_report_draws_a_subgroup_figure_per_cell(tmp_path):
    from bayes_msc.report.toolbox import figure_jobs

    res = bm.run_spec(_spec(tmp_path, 'subgroups = ["control_type"]\n'))
    jobs = [j for j in figure_jobs(res) if j[0] == "subgroup"]
    assert [j[1] for j in jobs] == ["subgroup_control_type_vas_m12"]
    assert jobs[0][2]().axes  # draws


def test_a_comparisons_level_follows_the_covariate_rule():
    """Both arms the same level, or one arm only: that level; different levels: "T vs C";
    neither arm: the study's level; nothing: missing. Numbers as levels print as 3, not 3.0."""
    from bayes_msc.data.covariates import comparison_factor_arrays, factor_columns, parse_term

    arms = pd.DataFrame(
        {
            "study": ["a", "a", "b", "b", "c", "c"],
            "arm": ["t", "c", "t", "c", "t", "c"],
            "role": ["treatment", "control"] * 3,
            "n": [10, 10, 10, 10, 10, 10],
            "node": ["msc", "placebo", "msc", None, None, None],
            "source": ["x"] * 6,
        }
    )
    studies = pd.DataFrame({"study": ["a", "b", "c"], "node": ["z", "z", "ha"], "grade": [1.0, 2.0, 3.0]})
    assert factor_columns(arms, studies) == ("node",)
    got = comparison_factor_arrays(arms, studies, [("a", "t", "c"), ("b", "t", "c"), ("c", "t", "c"), ("d", "t", "c")])
    assert list(got["node"]) == ["msc vs placebo", "msc", "ha", None]
    term = parse_term("factor(grade, ref=2)")
    assert (term.column, term.transform, term.reference, term.name) == ("grade", "factor", "2", "factor(grade, ref=2)")
    from bayes_msc.data.covariates import dummy_code

    x, names, ref, levels = dummy_code([1.0, 2.0, 3.0, None], term)
    assert (names, ref, levels) == (("grade[1]", "grade[3]"), "2", ("1", "2", "3"))
    np.testing.assert_array_equal(x[:3], [[1, 0], [0, 0], [0, 1]])
    assert np.isnan(x[3]).all()

"""The metafor toolbox (confint, regtest, ranktest, trimfill, influence, Baujat, cumul) against
metafor 3.8.1.

Reference values: tests/reference/toolbox_metafor.json, made by
tests/reference/r/make_toolbox_refs.R (each case keeps its exact R call; datasets
metadat::dat.normand1999, dat.gibson2002, dat.curtis1998 and the SIMULATED bundled dataset's
VAS cells at 6 and 12 months). Tolerances: 1e-6 relative for closed forms, 1e-4 for the
iterative ones (REML, PM, the Q-profile roots: metafor's searches were asked for 1e-12).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayes_msc as bm
from bayes_msc.data.tables import EffectTable
from bayes_msc.errors import InputError

REFS = json.loads((Path(__file__).parent / "reference" / "toolbox_metafor.json").read_text())
DATASETS = REFS["datasets"]
SIMULATED = ("simulated_vas_6", "simulated_vas_12")


def table(name: str) -> EffectTable:
    d = DATASETS[name]
    k = len(d["yi"])
    ni = np.asarray(d["ni"], float)
    data = pd.DataFrame(
        {
            "study": [f"{i + 1} {s}" for i, s in enumerate(d["label"])],  # unique, with metafor's id
            "comparison": ["t vs c"] * k,
            "treatment_arm": "t",
            "control_arm": "c",
            "outcome": "y",
            "month": 1.0,
            "yi": np.asarray(d["yi"], float),
            "vi": np.asarray(d["vi"], float),
            "n_treatment": ni / 2,
            "n_control": ni / 2,
            "source_kind": "arms",
            "year": d["year"],
        }
    )
    return EffectTable(
        data, np.diag(data["vi"].to_numpy()), "y", 1.0, "md", "split", "final", 0.5, True, name in SIMULATED, name
    )


def tol(case: dict) -> float:
    iterative = case["options"].get("method") in ("reml", "pm") or case["kind"] == "confint"
    return 1e-4 if iterative else 1e-6


def close(got, want, rtol, what):
    # jsonlite writes a length-1 vector as a scalar and an empty one as []
    got, want = np.atleast_1d(np.asarray(got, float)), np.atleast_1d(np.asarray(want, float))
    if not want.size and (not got.size or ("tau2" in what and "FE" in what)):
        return  # no filled studies; metafor's cumul() of a fixed-effect model has no tau2
    assert got.shape == want.shape, what
    # absolute floor: values that are 0 in exact arithmetic come out as +-1e-16
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-9 * max(1.0, np.nanmax(np.abs(want))), err_msg=what)


def _slow(case) -> bool:
    """REML refitted k = 101 times on dat.curtis1998 (influence, Baujat, cumul): ~15-35 s each
    on a loaded 2-core machine; the same code runs fast on the smaller datasets."""
    opts = case["options"] or {}
    return (
        case["dataset"] == "curtis1998"
        and opts.get("method") == "reml"
        and case["kind"] in ("influence", "baujat", "cumul")
    )


def cases(kind):
    return [
        pytest.param(c, id=f"{c['dataset']}-{i}", marks=[pytest.mark.slow] if _slow(c) else [])
        for i, c in enumerate(REFS["cases"])
        if c["kind"] == kind
    ]


def pooled(case):
    o = case["options"]
    return bm.pool(table(case["dataset"]), method=o.get("method", "dl"), hksj=o.get("test") == "knha")


def test_reference_file_says_how_it_was_made():
    assert REFS["metafor_version"] == "3.8.1"
    assert all("call" in c and c["call"] for c in REFS["cases"])
    assert set(DATASETS) == {"normand1999", "gibson2002", "curtis1998", *SIMULATED}


def test_simulated_inputs_are_the_bundled_effect_table():
    """The simulated reference cells are bayes_msc's own effect tables of the bundled data."""
    for name, month in (("simulated_vas_6", 6), ("simulated_vas_12", 12)):
        t = bm.effect_table("data/msc_knee_oa_simulated", "vas", month)
        assert t.simulated
        np.testing.assert_allclose(t.yi, DATASETS[name]["yi"], rtol=1e-13)  # JSON keeps 15 digits
        np.testing.assert_allclose(t.vi, DATASETS[name]["vi"], rtol=1e-13)


@pytest.mark.parametrize("case", cases("confint"))
def test_confint(case):
    o = case["options"]
    res = bm.confint(bm.pool(table(case["dataset"]), method=o["method"]), level=o.get("level"))
    want = case["result"]
    for name in ("tau2", "tau", "i2", "h2"):
        got = [getattr(res, name), getattr(res, f"{name}_ci_low"), getattr(res, f"{name}_ci_high")]
        close(got, want[name], tol(case), f"{name}: {case['call']}")
    assert res.ci_null == want["ci_null"]


@pytest.mark.parametrize("case", cases("regtest"))
def test_regtest(case):
    o = case["options"]
    res = bm.regtest(
        table(case["dataset"]) if o["predictor"] != "sei" else pooled(case),
        model=o["model"],
        predictor=o["predictor"],
        method=o["method"],
    )
    want = case["result"]
    close([res.zval, res.pval], [want["zval"], want["pval"]], tol(case), case["call"])
    if want["df"] is not None:
        assert res.df == want["df"]
    if want["est"] is None:
        assert np.isnan(res.est)
    else:
        close([res.est, res.ci_low, res.ci_high], [want["est"], want["ci_lb"], want["ci_ub"]], tol(case), case["call"])


@pytest.mark.parametrize("case", cases("ranktest"))
def test_ranktest(case):
    res = bm.ranktest(table(case["dataset"]))
    close([res.tau, res.pval], [case["result"]["tau"], case["result"]["pval"]], 1e-6, case["call"])


@pytest.mark.parametrize("case", cases("trimfill"))
def test_trimfill(case):
    o = case["options"]
    res = bm.trimfill(pooled(case), estimator=o["estimator"], side=o.get("side"))
    want = case["result"]
    assert (res.k0, res.side) == (want["k0"], want["side"])
    f = res.filled
    close(
        [res.se_k0, f.estimate, f.se, f.ci_low, f.ci_high, f.tau2, f.q],
        [want["se_k0"], want["estimate"], want["se"], want["ci_lb"], want["ci_ub"], want["tau2"], want["QE"]],
        tol(case),
        case["call"],
    )
    assert f.k == want["k"]
    if o["estimator"] == "R0":
        close(res.p_k0, want["p_k0"], 1e-12, "p_k0")
    close(res.fill_yi, want["fill_yi"], tol(case), "filled yi")
    close(res.fill_vi, want["fill_vi"], 1e-12, "filled vi")


@pytest.mark.parametrize("case", cases("influence"))
def test_influence(case):
    res = bm.influence(pooled(case))
    want = case["result"]
    for name in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat", "weight", "dfbs"):
        close(getattr(res, name), want[name], tol(case), f"{name}: {case['call']}")
    assert list(res.inf) == want["inf"]


@pytest.mark.parametrize("case", cases("baujat"))
def test_baujat(case):
    res = bm.influence(pooled(case))
    close(res.baujat_x, case["result"]["x"], tol(case), "x")
    close(res.baujat_y, case["result"]["y"], tol(case), "y")


@pytest.mark.parametrize("case", cases("cumul"))
def test_cumulative(case):
    o = case["options"]
    res = bm.cumulative(
        table(case["dataset"]),
        order="year",
        method=o["method"],
        hksj=o.get("test") == "knha",
        decreasing=o.get("decreasing", False),
    )
    want = case["result"]
    rows = res.rows
    for name, field in (
        ("estimate", "estimate"),
        ("se", "se"),
        ("zval", "zval"),
        ("pval", "pval"),
        ("ci_lb", "ci_low"),
        ("ci_ub", "ci_high"),
        ("Q", "q"),
        ("Qp", "q_p"),
        ("tau2", "tau2"),
        ("I2", "i2"),
        ("H2", "h2"),
    ):
        close([getattr(r, field) for r in rows], want[name], tol(case), f"{name}: {case['call']}")
    assert [r.added.split()[0] for r in rows] == [str(s) for s in want["slab"]]  # the same order


def test_small_k_says_low_power_and_large_k_does_not():
    small, large = table("normand1999"), table("curtis1998")
    for fn in (bm.regtest, bm.ranktest, bm.trimfill):
        assert fn(small).low_power and "Cochrane Handbook 13.3.5.4" in str(fn(small))
        assert not fn(large).low_power and "low power" not in str(fn(large))


def test_fixed_effect_has_no_heterogeneity_interval():
    with pytest.raises(InputError, match="fixed-effect"):
        bm.confint(bm.pool(table("normand1999"), method="fe"))


def test_shared_arms_are_refused_where_metafor_has_no_method(tmp_path):
    t = bm.effect_table("tests/corpus/simulated_multiarm", "vas", 6, multiarm="shared")
    with pytest.raises(InputError, match="independent comparisons"):
        bm.influence(t)
    assert bm.confint(t).shared_covariance  # the generalised Q profile covers shared arms


def test_results_describe_themselves():
    t = table("simulated_vas_12")
    for res in (bm.confint(t), bm.regtest(t), bm.ranktest(t), bm.trimfill(t), bm.influence(t), bm.cumulative(t)):
        assert "SIMULATED" in str(res)
        assert len(repr(res)) < 200
        d = res.to_dict()
        assert d["simulated"] is True and d["dataset"] == "simulated_vas_12"
        assert not res.summary().empty


def test_bad_arguments_name_the_argument():
    t = table("normand1999")
    for call, argument in (
        (lambda: bm.regtest(t, model="glm"), "model"),
        (lambda: bm.regtest(t, predictor="n"), "predictor"),
        (lambda: bm.trimfill(t, estimator="Q1"), "estimator"),
        (lambda: bm.trimfill(t, side="up"), "side"),
        (lambda: bm.cumulative(t, order="country"), "order"),
        (lambda: bm.confint(t, level=1.5), "level"),
        (lambda: bm.influence("t"), "x"),
    ):
        with pytest.raises(InputError) as err:
            call()
        assert err.value.problems[0].argument == argument

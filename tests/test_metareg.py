"""Meta-regression against R metafor 3.8.1 (``rma(yi, vi, mods = ~ ...)``).

Reference values: tests/reference/metafor_refs.json (cases of kind "metareg"), made by
tests/reference/r/make_metafor_refs.R with the exact R call stored per case. Datasets:
metafor's dat.bcg (log risk ratios; covariates ablat, year) and dat.bangertdrowns2004
(SMDs; covariates length, grade; 2 rows without length are dropped, as metafor does).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bayes_msc.errors import InputError
from bayes_msc.frequentist.rma import rma
from bayes_msc.results.frequentist import MetaRegResult
from bayes_msc.results.layout import SUMMARY_COLUMNS

REFS = json.loads((Path(__file__).parent / "reference" / "metafor_refs.json").read_text())
CASES = [c for c in REFS["cases"] if c["kind"] == "metareg"]
ITERATIVE = {"reml", "ml", "pm", "eb"}


def _vec(x):
    if isinstance(x, list):
        return np.array([np.nan if e is None else e for e in x], dtype=float)
    return np.nan if x is None else float(x)


def _regression_data(dataset, covariates):
    d = REFS["datasets"][dataset]
    x = np.column_stack([_vec(d["covariates"][name]) for name in covariates])
    complete = np.all(np.isfinite(x), axis=1)
    labels = [lab for lab, ok in zip(d["label"], complete, strict=False) if ok]
    return (np.array(d["yi"])[complete], np.array(d["vi"])[complete], x[complete], labels)


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c['dataset']}-{'+'.join(c['covariates'])}-{c['method']}-{c['test']}" for c in CASES]
)
def test_metareg_matches_metafor(case):
    yi, vi, x, labels = _regression_data(case["dataset"], case["covariates"])
    ref = case["result"]
    rtol = 1e-4 if case["method"] in ITERATIVE else 1e-6
    res = rma(yi, vi, method=case["method"], hksj=case["test"] == "hksj", X=x, names=case["covariates"], labels=labels)
    assert isinstance(res, MetaRegResult)
    assert res.k == ref["k"]
    assert [c.name for c in res.coefficients] == ["intercept"] + list(case["covariates"])
    assert ref["coef_names"] == ["intrcpt"] + list(case["covariates"])
    for attr, theirs in [
        ("estimate", "beta"),
        ("se", "se"),
        ("z", "zval"),
        ("p", "pval"),
        ("ci_low", "ci_lb"),
        ("ci_high", "ci_ub"),
    ]:
        np.testing.assert_allclose(
            [getattr(c, attr) for c in res.coefficients], _vec(ref[theirs]), rtol=rtol, atol=1e-12
        )
    for ours, theirs in [
        (res.tau2, "tau2"),
        (res.i2, "I2"),
        (res.h2, "H2"),
        (res.r2, "R2"),
        (res.qe, "QE"),
        (res.qe_p, "QEp"),
        (res.qm, "QM"),
        (res.qm_p, "QMp"),
    ]:
        np.testing.assert_allclose(ours, _vec(ref[theirs]), rtol=rtol, atol=1e-10)
    assert res.qm_df[0] == ref["QMdf"][0]
    if case["test"] == "hksj":
        assert res.test == "t" and res.qm_df[1] == ref["QMdf"][1] == res.k - len(res.coefficients)


def test_metareg_result_json_and_summary():
    from bayes_msc.results.serialise import to_json

    yi, vi, x, labels = _regression_data("bcg", ["ablat", "year"])
    res = rma(yi, vi, method="reml", X=x, names=["ablat", "year"], labels=labels)
    d = res.to_dict()
    assert list(d)[:9] == ["k", "method", "tau2", "i2", "qm", "qm_p", "qe", "qe_p", "coefficients"]
    assert [list(c) for c in d["coefficients"]] == [["name", "estimate", "se", "ci_low", "ci_high", "z", "p"]] * 3
    assert d["coefficients"][0]["name"] == "intercept"
    frame = res.summary()
    assert tuple(frame.columns[: len(SUMMARY_COLUMNS)]) == SUMMARY_COLUMNS
    assert list(frame["term"]) == ["intercept", "ablat", "year", "tau2", "tau", "i2", "h2", "r2", "qe", "qm"]
    row = frame.set_index("term")
    assert (row.at["qm", "estimate"], row.at["qm", "p"], row.at["qm", "df"]) == (res.qm, res.qm_p, res.qm_df[0])
    assert (row.at["qe", "estimate"], row.at["qe", "df"]) == (res.qe, res.qe_df)
    assert res.coefficient("ablat").estimate == frame.loc[1, "estimate"]
    assert to_json(d) == to_json(rma(yi, vi, method="reml", X=x, names=["ablat", "year"], labels=labels).to_dict())


def test_one_covariate_wald_test_is_the_squared_z():
    yi, vi, x, _ = _regression_data("bcg", ["ablat"])
    res = rma(yi, vi, method="dl", X=x, names=["ablat"])
    assert res.qm == pytest.approx(res.coefficient("ablat").z ** 2, rel=1e-12)


def test_constant_covariate_is_named():
    yi, vi, x, _ = _regression_data("bcg", ["ablat"])
    with pytest.raises(InputError) as err:
        rma(yi, vi, X=np.column_stack([x[:, 0], np.full(len(yi), 3.0)]), names=["ablat", "dose"])
    (problem,) = err.value.problems
    assert problem.column == "dose" and "constant" in problem.message


def test_collinear_covariates_are_refused():
    yi, vi, x, _ = _regression_data("bcg", ["ablat"])
    with pytest.raises(InputError, match="collinear"):
        rma(yi, vi, X=np.column_stack([x[:, 0], 2 * x[:, 0] + 1]), names=["ablat", "ablat2"])


def test_missing_covariate_value_names_its_row():
    yi, vi, x, _ = _regression_data("bcg", ["ablat"])
    x = x.copy()
    x[4, 0] = np.nan
    with pytest.raises(InputError) as err:
        rma(yi, vi, X=x, names=["ablat"])
    assert [(p.row, p.column) for p in err.value.problems] == [(6, "ablat")]


def test_too_few_comparisons_for_the_coefficients():
    yi, vi, x, _ = _regression_data("bcg", ["ablat", "year"])
    with pytest.raises(InputError, match="too few"):
        rma(yi[:3], vi[:3], method="reml", X=x[:3], names=["ablat", "year"])
    # the fixed-effect model needs no tau2: k = p is enough (metafor likewise)
    assert rma(yi[:3], vi[:3], method="fe", X=x[:3], names=["ablat", "year"]).k == 3


def test_paper_rule_with_covariates():
    yi, vi, x, _ = _regression_data("bcg", ["ablat"])
    res = rma(yi, vi, method="paper", X=x, names=["ablat"])
    assert res.chosen_by == "paper" and res.method in ("dl", "fe") and res.why


# ---- command line, end to end ---------------------------------------------------------
# metafor's dat.bcg as a dataset folder: arms.csv (arm sizes from the published counts),
# the log risk ratios and their SEs (metafor's escalc("RR"), from the reference file) as
# study-level contrasts, and the studies' absolute latitude and year in studies.csv.
# outcomes.csv has no rows: every comparison comes from contrasts.csv. The month is a
# label for the single time point (no value depends on it).


def _bcg_folder(path: Path, drop_year_of: str | None = None) -> Path:
    import csv

    d = REFS["datasets"]["bcg"]
    a = d["arms"]
    path.mkdir()
    with open(path / "arms.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["study", "arm", "role", "n"])
        for i, study in enumerate(d["label"]):
            w.writerow([study, "vaccinated", "treatment", a["tpos"][i] + a["tneg"][i]])
            w.writerow([study, "control", "control", a["cpos"][i] + a["cneg"][i]])
    with open(path / "outcomes.csv", "w", newline="") as f:
        csv.writer(f).writerow(["study", "arm", "outcome", "month", "n", "mean", "sd", "source"])
    with open(path / "contrasts.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["study", "outcome", "month", "treatment_arm", "control_arm", "estimate", "se", "source"])
        for i, study in enumerate(d["label"]):
            w.writerow(
                [
                    study,
                    "tb_log_rr",
                    1,
                    "vaccinated",
                    "control",
                    repr(d["yi"][i]),
                    repr(float(np.sqrt(d["vi"][i]))),
                    "metadat::dat.bcg, escalc RR",
                ]
            )
    with open(path / "studies.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["study", "ablat", "year"])
        for i, study in enumerate(d["label"]):
            year = "" if study == drop_year_of else d["covariates"]["year"][i]
            w.writerow([study, d["covariates"]["ablat"][i], year])
    return path


def _cli(capsys, *argv):
    from bayes_msc.cli.main import main

    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("covariates", [["ablat"], ["ablat", "year"]])
@pytest.mark.parametrize("method,test", [("reml", "z"), ("dl", "z"), ("dl", "hksj"), ("fe", "z")])
def test_cli_metareg_equals_metafor(tmp_path, capsys, covariates, method, test):
    folder = _bcg_folder(tmp_path / "bcg")
    argv = ["metareg", folder, "--outcome", "tb_log_rr", "--month", 1, "--method", method, "--format", "json"]
    argv += [a for c in covariates for a in ("--covariate", c)] + (["--hksj"] if test == "hksj" else [])
    status, out, err = _cli(capsys, *argv)
    assert status == 0, err
    got = json.loads(out)
    ref = next(
        c for c in CASES if (c["dataset"], c["method"], c["test"], c["covariates"]) == ("bcg", method, test, covariates)
    )["result"]
    rtol = 1e-4 if method in ITERATIVE else 1e-6
    assert got["k"] == 13 and got["method"] == method
    assert [c["name"] for c in got["coefficients"]] == ["intercept"] + covariates
    np.testing.assert_allclose([c["estimate"] for c in got["coefficients"]], ref["beta"], rtol=rtol)
    np.testing.assert_allclose([c["se"] for c in got["coefficients"]], ref["se"], rtol=rtol)
    np.testing.assert_allclose([c["p"] for c in got["coefficients"]], ref["pval"], rtol=rtol)
    np.testing.assert_allclose(
        [got["tau2"], got["qm"], got["qe"], got["i2"]],
        [ref["tau2"], ref["QM"], ref["QE"], ref["I2"]],
        rtol=rtol,
        atol=1e-10,
    )
    assert _cli(capsys, *argv)[1] == out  # byte-identical


def test_cli_metareg_reports_dropped_comparisons(tmp_path, capsys):
    d = REFS["datasets"]["bcg"]
    folder = _bcg_folder(tmp_path / "bcg", drop_year_of=d["label"][0])
    argv = [
        "metareg",
        folder,
        "--outcome",
        "tb_log_rr",
        "--month",
        1,
        "--covariate",
        "ablat",
        "--covariate",
        "year",
        "--method",
        "reml",
    ]
    status, out, err = _cli(capsys, *argv, "--format", "json")
    assert status == 0, err
    got = json.loads(out)
    assert got["k"] == 12
    assert any(d["label"][0] in line and "year" in line for line in got["excluded"])
    # equal to metafor on the other 12 trials, computed in Python from the same inputs
    yi, vi, x, _ = _regression_data("bcg", ["ablat", "year"])
    direct = rma(yi[1:], vi[1:], method="reml", X=x[1:], names=["ablat", "year"])
    assert got["tau2"] == pytest.approx(direct.tau2, rel=1e-12)
    status, out, _ = _cli(capsys, *argv)
    assert status == 0 and "Not included" in out and "Mixed-effects model (k = 12" in out


def test_cli_metareg_unknown_covariate_exits_2(tmp_path, capsys):
    folder = _bcg_folder(tmp_path / "bcg")
    status, out, err = _cli(
        capsys, "metareg", folder, "--outcome", "tb_log_rr", "--month", 1, "--covariate", "latitude"
    )
    assert status == 2 and out == "" and "latitude" in err


def test_fewer_comparisons_than_coefficients():
    yi, vi, x, _ = _regression_data("bcg", ["ablat", "year"])
    for method in ("fe", "paper"):
        with pytest.raises(InputError, match="too few"):
            rma(yi[:2], vi[:2], method=method, X=x[:2], names=["ablat", "year"])

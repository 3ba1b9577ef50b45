"""``bayes-msc reproduce``: the published pooled results beside this package's.

References: tests/reference/reproduce_refs.json, made by tests/reference/r/make_reproduce_refs.R
with R metafor 3.8.1, which rebuilds every comparison from the arm-level CSV values on its
own (escalc "MD", the shared arm's n split or kept whole) and applies the paper's rule
(rma "FE", then "DL" when I2 > 50 or QEp < 0.1), and fits the Table 2 design with
rma(mods = ..., method = "REML", test = "knha"). Published values: Qu & Sun 2021, Results
section, as copied into data/msc_knee_oa/published_pooled.csv.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_msc.cli.main import main
from bayes_msc.data.reader import read_dataset
from bayes_msc.errors import InputError
from bayes_msc.results.layout import SUMMARY_COLUMNS
from bayes_msc.results.serialise import to_json
from bayes_msc.studies.qu_sun_2021.reproduce import agreement, reproduce
from bayes_msc.studies.qu_sun_2021.results import STATUSES
from bayes_msc.studies.qu_sun_2021.table2 import table2_metareg

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "data" / "msc_knee_oa"
SIM = ROOT / "data" / "msc_knee_oa_simulated"
REFS = json.loads((Path(__file__).parent / "reference" / "reproduce_refs.json").read_text())


@pytest.fixture(scope="module")
def real():
    return read_dataset(REAL)


@pytest.fixture(scope="module")
def real_rep(real):
    return reproduce(real)


@pytest.fixture(scope="module")
def sim_rep(real):
    # The simulated folder has no published numbers of its own: the paper's (published
    # values, not simulated ones) are passed in.
    return reproduce(
        read_dataset(SIM), published=real.published, published_metareg=pd.read_csv(REAL / "published_metareg.csv")
    )


# ---------------------------------------------------------------------------- the rule


def test_agreement_rule_boundary():
    # width 2, tolerance 5% -> 0.1: every one of estimate and both limits must be within it
    assert agreement((0.0, -1.0, 1.0), (0.1, -1.0, 1.0)) == (True, pytest.approx(0.1))
    assert agreement((0.0, -1.0, 1.0), (0.0, -1.1001, 1.0))[0] is False
    assert agreement((0.0, -1.0, 1.0), (0.0, -1.0, 0.89))[0] is False
    assert agreement((0.0, -1.0, 1.0), (0.05, -0.95, 1.05), tolerance=0.05)[0] is True
    assert agreement((0.0, -1.0, 1.0), (0.3, -1.0, 1.0), tolerance=0.2)[0] is True


# ---------------------------------------------------------------------------- real data


def test_real_table_has_every_published_row_with_its_values(real_rep):
    pub = pd.read_csv(REAL / "published_pooled.csv", dtype={"p_text": str})
    assert len(real_rep.rows) == 20 == len(pub)
    for row, rec in zip(real_rep.rows, pub.itertuples(index=False), strict=True):
        assert (row.outcome, row.month) == (rec.outcome, rec.month)
        assert (row.published_estimate, row.published_ci_low, row.published_ci_high) == (
            rec.estimate,
            rec.ci_low,
            rec.ci_high,
        )
        assert row.published_p_text == rec.p_text
        assert row.trials_published == tuple(rec.trials.split(";"))
        assert row.trial_refs == tuple(str(rec.trial_refs).split(";"))
        assert row.status in STATUSES
    s = real_rep.summary()
    assert list(s.columns[: len(SUMMARY_COLUMNS)]) == list(SUMMARY_COLUMNS) and len(s) == 20


def test_real_rows_name_every_missing_trial_and_its_declared_rows(real_rep):
    outcomes = pd.read_csv(REAL / "outcomes.csv")
    declared = outcomes[outcomes[["mean", "sd", "median", "q1", "q3"]].isna().all(axis=1)]
    for row in real_rep.rows:
        # per-arm values exist for Lamo-Espinosa only: nothing is complete, so nothing agrees
        assert row.status in ("partial", "cannot compute")
        assert row.trials_missing, row.term
        for study, why in row.trials_missing:
            assert study in row.reason and why in row.reason
            cited = {int(n) for group in re.findall(r"outcomes\.csv rows? ([\d, ]+)\)", why) for n in group.split(", ")}
            here = declared[
                (declared["study"] == study) & (declared["outcome"] == row.outcome) & (declared["month"] == row.month)
            ]
            assert cited == {i + 2 for i in here.index}, (row.term, study)  # spreadsheet rows
        for study, why in row.trials_not_followed:
            assert study in row.reason and "follow-up months" in why
        assert set(row.trials_present) | {s for s, _ in row.trials_missing} | {
            s for s, _ in row.trials_not_followed
        } == set(row.trials_published)


def test_real_rows_status_by_outcome(real_rep):
    by = {(r.outcome, r.month): r for r in real_rep.rows}
    for key, r in by.items():
        if key[0] in ("vas", "ikdc"):
            assert r.status == "cannot compute" and r.computed is None and r.paper_multiarm is None
        else:  # WOMAC: only lamo_espinosa_2016's two dose arms against its shared control
            assert r.status == "partial" and r.trials_present == ("lamo_espinosa_2016",)
            assert r.computed.k == 2 and "neither reproduces nor refutes" in r.reason
            assert r.paper_multiarm is not None and r.paper_multiarm.k == 2
    # Wong 2013 gives only an undated contrast: said so for every IKDC month
    for m in (6, 12, 18, 24):
        assert "contrasts.csv row 2" in dict(by[("ikdc", m)].trials_missing)["wong_2013"]
    # VAS at 12 months: Lamo-Espinosa has values the paper did not pool
    assert by[("vas", 12.0)].trials_extra == ("lamo_espinosa_2016",)
    assert "did not pool it for vas" in by[("vas", 12.0)].reason


def test_real_table2_reports_what_cannot_run(real_rep):
    reg = real_rep.metaregression
    assert reg is not None and reg.fits == ()
    assert len(reg.unavailable) == 1 and reg.unavailable[0][0] == "Duration of disease"
    assert "no column of dataset msc_knee_oa holds it" in reg.unavailable[0][1]
    assert [c.label for c in reg.published] == [
        "Age",
        "Gender",
        "Grade of osteoarthritis",
        "Duration of disease",
        "Dose of MSCs",
    ]
    assert reg.published[0].coefficient == 0.4879 and reg.published[0].term == "age_mean"
    assert [(m, model) for m, model, _ in reg.skipped] == [(m, "every model") for m in (3.0, 6.0, 12.0, 24.0)]
    assert all(why.startswith("k = 0 comparison(s); at least 3 needed") for _, _, why in reg.skipped)


# ---------------------------------------------------------------------------- simulated data


def _close(ours, ref, rtol=1e-6):
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=1e-9)


def test_simulated_every_row_computed_and_equal_to_metafor(sim_rep):
    assert sim_rep.simulated and len(sim_rep.rows) == 20
    for row, ref in zip(sim_rep.rows, REFS["simulated_pooled"], strict=True):
        assert (row.outcome, row.month) == (ref["outcome"], ref["month"])
        assert row.trials_missing == () and row.status in ("agrees", "differs"), row.term
        assert "the dataset is SIMULATED" in row.reason or row.status == "agrees"
        for ours, theirs in ((row.computed, ref["split"]), (row.paper_multiarm, ref["whole"])):
            assert ours.method == theirs["method"] and ours.k == theirs["k"]
            assert list(ours.studies) == list(theirs["studies"])
            _close(
                [ours.estimate, ours.se, ours.ci_low, ours.ci_high, ours.p],
                [theirs["estimate"], theirs["se"], theirs["ci_lb"], theirs["ci_ub"], theirs["pval"]],
            )
        ok, _ = agreement(
            (row.published_estimate, row.published_ci_low, row.published_ci_high),
            (row.computed.estimate, row.computed.ci_low, row.computed.ci_high),
        )
        assert (row.status == "agrees") == ok


def test_simulated_table2_equal_to_metafor(sim_rep):
    reg = sim_rep.metaregression
    fits = {(f.month, f.model): f.result for f in reg.fits}
    assert set(fits) == {(r["month"], r["model"]) for r in REFS["simulated_metareg"]}
    for ref in REFS["simulated_metareg"]:
        res = fits[(ref["month"], ref["model"])]
        assert res.k == ref["k"] and res.method == "reml" and res.test == "t"
        assert [c.name for c in res.coefficients] == ["intercept"] + ref["coef_names"][1:]
        for attr, key in (
            ("estimate", "beta"),
            ("se", "se"),
            ("z", "tval"),
            ("p", "pval"),
            ("ci_low", "ci_lb"),
            ("ci_high", "ci_ub"),
        ):
            _close([getattr(c, attr) for c in res.coefficients], ref[key], rtol=1e-4)
        np.testing.assert_allclose(res.tau2, ref["tau2"], rtol=1e-4, atol=1e-8)
    skipped = {(m, model): why for m, model, why in reg.skipped}
    assert set(skipped) == {(18.0, "every model"), (24.0, "every model")}
    assert skipped[(24.0, "every model")].startswith("k = 2 ") and skipped[(18.0, "every model")].startswith("k = 0 ")
    assert [label for label, _ in reg.unavailable] == ["Duration of disease"]
    assert reg.summary()["published_coefficient"].notna().any()


def test_trials_all_pools_every_trial_and_says_so(real):
    rep = reproduce(read_dataset(SIM), trials="all", published=real.published.iloc[[1]], metareg=False)
    row = rep.rows[0]  # vas, month 6: lamo_espinosa_2016, saw_2013 and wong_2013 have values too
    extra = [s for s in row.computed.studies if s not in row.trials_published]
    assert extra == ["lamo_espinosa_2016", "saw_2013", "wong_2013"] == list(row.trials_extra)
    assert row.computed.k == REFS["simulated_pooled"][1]["split"]["k"] + 4
    assert f"includes trial(s) the paper did not pool: {', '.join(extra)}" in row.reason


# ---------------------------------------------------------------------------- constructed data


def _published_row(month, trials, est, lo, hi, outcome="pain"):
    return {
        "outcome": outcome,
        "month": month,
        "estimate": round(est, 2),
        "ci_low": round(lo, 2),
        "ci_high": round(hi, 2),
        "p_value": "",
        "p_text": "",
        "trials": ";".join(trials),
        "source": "constructed for tests",
    }


@pytest.fixture(scope="module")
def constructed(tmp_path_factory):
    """The constructed dataset of reproduce_refs.json, with published rows made to agree or
    to differ for a known reason (the folder name says simulated: the values are invented)."""
    c = REFS["constructed"]
    folder = tmp_path_factory.mktemp("data") / "constructed_simulated"
    folder.mkdir()
    pd.DataFrame(c["arms"]).to_csv(folder / "arms.csv", index=False)
    out = pd.DataFrame(c["outcomes"])
    extra = out[out["study"] == "alpha_2001"].assign(
        month=12, mean=np.nan, sd=np.nan, scale_min=np.nan, scale_max=np.nan
    )
    # month 9: alpha_2001 and beta_2002 again, beta_2002's 'high' arm declared missing
    nine = out[out["study"].isin(["alpha_2001", "beta_2002"])].assign(month=9)
    nine.loc[(nine["study"] == "beta_2002") & (nine["arm"] == "high"), ["mean", "sd", "scale_min", "scale_max"]] = (
        np.nan
    )
    pd.concat([out, extra, nine]).assign(source="constructed").to_csv(folder / "outcomes.csv", index=False)
    three = ["alpha_2001", "beta_2002", "gamma_2003"]
    split, whole, native = c["split"], c["whole"], c["native"]
    width = split["ci_ub"] - split["ci_lb"]
    rows = [
        _published_row(6, three, split["estimate"], split["ci_lb"], split["ci_ub"]),
        _published_row(6, three, whole["estimate"], whole["ci_lb"], whole["ci_ub"]),
        _published_row(6, three, native["estimate"], native["ci_lb"], native["ci_ub"]),
        _published_row(6, three, split["estimate"] + 0.04 * width, split["ci_lb"], split["ci_ub"]),
        _published_row(6, three, split["estimate"] + 0.06 * width, split["ci_lb"], split["ci_ub"]),
        _published_row(6, three + ["delta_2004"], -9.0, -13.0, -5.0),
        _published_row(12, ["alpha_2001"], -9.0, -13.0, -5.0),
        _published_row(6, ["alpha_2001"], -9.0, -13.0, -5.0, outcome="function"),
        _published_row(9, ["alpha_2001", "beta_2002"], -9.0, -13.0, -5.0),
    ]
    pd.DataFrame(rows).to_csv(folder / "published_pooled.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def con_rep(constructed):
    return reproduce(read_dataset(constructed))


def test_constructed_agrees_when_published_is_the_split_pooling(con_rep):
    row, ref = con_rep.rows[0], REFS["constructed"]["split"]
    assert row.status == "agrees" and "within" in row.reason
    assert row.computed.method == ref["method"] and row.computed.k == ref["k"]
    _close(
        [row.computed.estimate, row.computed.ci_low, row.computed.ci_high, row.computed.p],
        [ref["estimate"], ref["ci_lb"], ref["ci_ub"], ref["pval"]],
    )
    # the paper's double counting is shown beside it and, here, would not agree
    assert not row.paper_multiarm.agrees and "double counting" in row.reason


def test_constructed_differs_by_double_counting(con_rep):
    row, ref = con_rep.rows[1], REFS["constructed"]["whole"]
    assert row.status == "differs"
    _close(
        [row.paper_multiarm.estimate, row.paper_multiarm.ci_low, row.paper_multiarm.ci_high],
        [ref["estimate"], ref["ci_lb"], ref["ci_ub"]],
    )
    assert row.paper_multiarm.agrees
    assert "multi-arm trial(s) beta_2002" in row.reason
    assert "which agrees: the difference is the multi-arm handling" in row.reason


def test_constructed_differs_by_scale(con_rep):
    row, ref = con_rep.rows[2], REFS["constructed"]["native"]
    assert row.status == "differs"
    assert "different scales" in row.reason and "gamma_2003 0-10" in row.reason
    native = {v.variant: v for v in row.variants}
    assert native["native_scales"].method == ref["method"] == "dl"
    _close([native["native_scales"].estimate, native["native_scales"].ci_low], [ref["estimate"], ref["ci_lb"]])
    assert native["native_scales"].agrees
    assert "pooling the native scales (no rescaling to 0-100) gives" in row.reason
    whole = REFS["constructed"]["native_whole"]
    _close(native["native_scales_paper_multiarm"].estimate, whole["estimate"])


def test_constructed_tolerance_both_ways(con_rep):
    inside, outside = con_rep.rows[3], con_rep.rows[4]
    assert inside.status == "agrees"
    assert outside.status == "differs" and "largest deviation" in outside.reason


def test_constructed_partial_and_cannot_compute(con_rep):
    partial, none, no_rows = con_rep.rows[5], con_rep.rows[6], con_rep.rows[7]
    assert partial.status == "partial" and [s for s, _ in partial.trials_missing] == ["delta_2004"]
    assert "delta_2004 (cells, control: month-6 value declared missing (outcomes.csv rows 9, 10))" in partial.reason
    assert none.status == "cannot compute" and none.computed is None
    assert "alpha_2001 (cells, control: month-12 value declared missing (outcomes.csv rows 11, 12))" in none.reason
    assert no_rows.status == "cannot compute"
    assert "no row for outcome 'function' at month 6 in outcomes.csv" in no_rows.reason
    # a trial with values for some of its arms only: present, but the row is partial
    arms_missing = con_rep.rows[8]
    assert arms_missing.status == "partial" and arms_missing.computed.k == 2
    assert arms_missing.trials_present == ("alpha_2001", "beta_2002")
    assert arms_missing.trials_missing == (
        ("beta_2002", "some comparisons lack data: high: month-9 value declared missing (outcomes.csv row 16)"),
    )  # 9 + 2 + 5th row of month 9


def test_constructed_shared_covariance_option(constructed):
    rep = reproduce(read_dataset(constructed), multiarm="shared", metareg=False)
    row, ref = rep.rows[0], REFS["constructed"]["shared"]  # metafor rma.mv with the shared-control V
    assert row.computed.description == "shared arms whole, with the comparisons' covariance"
    assert row.computed.method == ref["method"] and row.computed.k == ref["k"]
    _close(
        [
            row.computed.estimate,
            row.computed.se,
            row.computed.ci_low,
            row.computed.ci_high,
            row.computed.p,
            row.computed.q_p,
            row.computed.i2,
        ],
        [ref["estimate"], ref["se"], ref["ci_lb"], ref["ci_ub"], ref["pval"], ref["QEp"], ref["I2"]],
    )


# ---------------------------------------------------------------------------- errors, CLI


def test_without_published_numbers_is_an_input_error(tmp_path, capsys):
    bare = tmp_path / "no_published_simulated"
    shutil.copytree(SIM, bare)
    for name in ("published_pooled.csv", "published_metareg.csv"):
        (bare / name).unlink()
    with pytest.raises(InputError, match=r"no published_pooled.csv in DATA: nothing to reproduce"):
        reproduce(read_dataset(bare))
    assert main(["reproduce", str(bare)]) == 2
    assert "nothing to reproduce" in capsys.readouterr().err
    with pytest.raises(InputError, match="unknown trials 'some'"):
        reproduce(read_dataset(REAL), trials="some")
    with pytest.raises(InputError, match="tolerance must be a finite number >= 0"):
        reproduce(read_dataset(REAL), tolerance=-0.1)


def test_table2_month_without_rows_is_an_input_error(real):
    with pytest.raises(InputError, match="no rows for outcome 'vas' at month 5"):
        table2_metareg(real, month=5)


def test_cli_json_is_byte_identical(constructed, capsys):
    assert main(["reproduce", str(constructed), "--format", "json"]) == 0
    first = capsys.readouterr().out
    assert main(["reproduce", str(constructed), "--format", "json"]) == 0
    assert capsys.readouterr().out == first
    data = json.loads(first)
    assert data["simulated"] is True and len(data["rows"]) == 9
    assert [r["status"] for r in data["rows"]] == [
        "agrees",
        "differs",
        "differs",
        "agrees",
        "differs",
        "partial",
        "cannot compute",
        "cannot compute",
        "partial",
    ]
    assert str(constructed.parent) not in first  # no temporary paths


def test_command_on_simulated_data_gives_complete_table(sim_rep, capsys):
    # data/msc_knee_oa_simulated has no published numbers of its own: the command takes the
    # real dataset's with --published DIR (an option the parser does not define yet; the
    # command reads it when given)
    from bayes_msc.cli.commands.reproduce import run

    assert run(argparse.Namespace(data=str(SIM), format="table", published=str(REAL))) == 0
    text = capsys.readouterr().out
    assert text.startswith("*** SIMULATED DATA (dataset msc_knee_oa_simulated) ***")
    assert "(published_pooled.csv of dataset msc_knee_oa; dataset msc_knee_oa_simulated)" in text
    statuses = "(agrees|differs|partial|cannot compute)"
    table = [line for line in text.splitlines() if re.match(rf"^\d+\s+\S+\s+\d+\s.*{statuses}$", line)]
    assert len(table) == 20 and not any(line.endswith(("partial", "cannot compute")) for line in table)
    assert "Meta-regression: the paper's Table 2 design on vas" in text
    assert "Duration of disease: unavailable" in text
    data = sim_rep.to_dict()
    assert data["counts"]["partial"] == data["counts"]["cannot compute"] == 0
    assert to_json(data) == to_json(sim_rep.to_dict())

"""read_dataset: every validation rule by its message, the normalised frames, odd-but-valid input.

The rules are docs/FORMAT.md's ("Dataset folder" and "Rules of the data"); the malformed
folders come from tests/bad_inputs/simulated_cases.py, the odd-but-valid ones from
tests/good_inputs/simulated_cases.py (all values there are made up).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_msc.data.dataset import STAT_COLUMNS
from bayes_msc.data.reader import cell_summary, covariate_columns, read_dataset
from bayes_msc.errors import InputError

HERE = Path(__file__).resolve().parent


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


bad = _module(HERE / "bad_inputs" / "simulated_cases.py", "bad_inputs_simulated_cases")
good = _module(HERE / "good_inputs" / "simulated_cases.py", "good_inputs_simulated_cases")


def _problems(folder: Path):
    with pytest.raises(InputError) as info:
        read_dataset(folder)
    return info.value.problems


def _edited(*edits) -> dict:
    files = dict(bad.BASE)
    for edit in edits:
        edit(files)
    return files


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return read_dataset(bad.write(tmp_path_factory.mktemp("x") / "base", dict(bad.BASE)))


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("case", bad.CASES, ids=lambda c: c.name)
def test_bad_input_reports_exactly_its_problems(case, tmp_path):
    problems = _problems(bad.write(tmp_path / "ds", case.build()))
    for file, row, column, fragment in case.expect:
        hits = [p for p in problems if (p.file, p.row, p.column) == (file, row, column) and fragment in p.message]
        assert hits, f"no problem ({file}, {row}, {column}, ...{fragment}...) in:\n" + "\n".join(map(str, problems))
    # Nothing else is reported: no noise, no double reporting of one mistake.
    assert {(p.file, p.row, p.column) for p in problems} == {e[:3] for e in case.expect}, "\n".join(map(str, problems))


def test_problem_text_names_file_row_and_column(tmp_path):
    files = _edited(bad.sub("outcomes.csv", "3.1,1.2", "3.1,0"))
    (problem,) = _problems(bad.write(tmp_path / "ds", files))
    assert str(problem) == "outcomes.csv, row 2, column 'sd': sd is 0; allowed: a number > 0"


def test_all_problems_come_in_one_error_in_file_and_row_order(tmp_path):
    case = next(c for c in bad.CASES if c.name == "many_at_once")
    problems = _problems(bad.write(tmp_path / "ds", case.build()))
    order = ["arms.csv", "outcomes.csv", "contrasts.csv", "studies.csv", "published_pooled.csv"]
    keys = [(order.index(p.file), p.row) for p in problems]
    assert keys == sorted(keys) and len(problems) == len(case.expect)


def test_missing_folder_and_file_instead_of_folder(tmp_path):
    (p,) = _problems(tmp_path / "nope")
    assert "does not exist" in p.message
    (tmp_path / "file.csv").write_text("x\n")
    (p,) = _problems(tmp_path / "file.csv")
    assert "is a file; a dataset folder" in p.message


def test_unreadable_file_is_reported(tmp_path, monkeypatch):
    folder = bad.write(tmp_path / "ds", dict(bad.BASE))
    real = os.open

    def refuse(path, flags, *args):  # as a file without read permission does (root reads any file)
        if str(path).endswith("outcomes.csv"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, flags, *args)

    monkeypatch.setattr(os, "open", refuse)
    (p,) = _problems(folder)
    assert (p.file, p.row, p.message) == ("outcomes.csv", None, "cannot be read (Permission denied)")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path):
    folder = bad.write(tmp_path / "ds", dict(bad.BASE))
    (folder / "arms.csv").chmod(0)
    try:
        (p,) = _problems(folder)
    finally:
        (folder / "arms.csv").chmod(0o644)
    assert (p.file, p.row) == ("arms.csv", None) and "cannot be read" in p.message


# ---------------------------------------------------------------- normalised form


def test_arms_normalised_with_derived_covariates(base):
    arms = base.arms
    assert list(arms["study"]) == ["S1", "S1", "S2", "S2", "S2"]
    assert arms["n"].dtype == np.int64 and list(arms["n"]) == [10, 10, 12, 12, 12]
    assert pd.api.types.is_string_dtype(arms["control_type"]) and arms["dose_million"].dtype == float
    # female_pct = 100 female / (female + male); kl_grade_mean = sum(g kl_g) / sum(kl_g)
    np.testing.assert_allclose(arms["female_pct"], [60.0, 50.0, 100 * 7 / 12, 50.0, 50.0])
    np.testing.assert_allclose(arms["kl_grade_mean"][:2], [(2 * 3 + 3 * 5 + 4 * 2) / 10, (8 + 12 + 8) / 10])
    assert arms["kl_grade_mean"][2:].isna().all()  # S2 gives no K-L counts
    assert list(arms["_row"]) == [2, 3, 4, 5, 6] and list(arms.columns)[-1] == "_row"
    assert np.isnan(arms["dose_million"][1])


def test_outcomes_normalised(base):
    out = base.outcomes
    assert list(out.columns[:5]) == ["study", "arm", "outcome", "month", "n"]
    assert set(STAT_COLUMNS) <= set(out.columns)
    assert list(out["stat_group"]) == [
        "mean_sd",
        "mean_se",
        "median_iqr",
        "missing",
        "mean_ci",
        "median_range",
        "mean_sd",
    ]
    assert list(out["n"]) == [10.0, 9.0, 12.0, 12.0, 12.0, 12.0, 10.0]  # empty n -> the arm's n
    assert list(out["kind"]) == ["final"] * 6 + ["change"]
    assert list(out["month"]) == [6.0] * 5 + [12.0, 12.0] and out["month"].dtype == float
    assert list(out["_row"]) == list(range(2, 9))
    assert out.loc[3, STAT_COLUMNS].isna().all()


def test_optional_files_normalised(base):
    con = base.contrasts
    assert np.isnan(con["month"][0]) and con["month"][1] == 12.0
    assert list(con["se"].isna()) == [True, False]
    assert list(base.published["trials"]) == ["S1;S2", "S1;S2"]
    assert base.studies["year"].dtype == float and list(base.studies["study"]) == ["S1", "S2"]
    assert base.simulated is False and base.name == "base"


@pytest.mark.parametrize("name,simulated", [("trial_simulated_1", True), ("Simulated", True), ("msc_data", False)])
def test_simulated_flag_from_folder_name(tmp_path, name, simulated):
    assert read_dataset(bad.write(tmp_path / name, dict(bad.BASE))).simulated is simulated


def test_covariate_columns(base):
    assert covariate_columns(base) == (
        "dose_million",
        "age_mean",
        "female",
        "male",
        "kl2",
        "kl3",
        "kl4",
        "female_pct",
        "kl_grade_mean",
        "year",
    )


def test_cell_summary(base):
    cells = cell_summary(base)
    assert list(cells["outcome"]) == ["ikdc", "vas", "vas"]
    assert np.isnan(cells["month"][0]) and list(cells["month"][1:]) == [6.0, 12.0]
    assert list(cells["n_studies"]) == [0, 2, 2] and list(cells["n_arms"]) == [0, 4, 2]
    assert list(cells["studies"]) == ["", "S1; S2", "S1; S2"]
    assert list(cells["n_missing"]) == [0, 1, 0] and list(cells["missing"]) == ["", "S2", ""]
    assert list(cells["n_contrasts"]) == [1, 0, 1] and list(cells["contrasts"]) == ["S1", "", "S2"]


# ---------------------------------------------------------------- odd but valid


@pytest.mark.parametrize("name", list(good.SAME_AS_BASE))
def test_odd_input_reads_like_base(name, tmp_path, base):
    odd = read_dataset(bad.write(tmp_path / "base", good.SAME_AS_BASE[name](dict(bad.BASE))))
    for frame in ("arms", "outcomes", "contrasts", "studies", "published"):
        pd.testing.assert_frame_equal(getattr(odd, frame), getattr(base, frame), obj=frame)


def test_blank_lines_inside_keep_spreadsheet_rows(tmp_path):
    files = _edited(bad.sub("arms.csv", "hyaluronic acid\nS2", "hyaluronic acid\n\n\nS2"))
    ds = read_dataset(bad.write(tmp_path / "ds", files))
    assert list(ds.arms["_row"]) == [2, 3, 6, 7, 8] and list(ds.arms.index) == [0, 1, 2, 3, 4]


def test_extra_columns_text_and_numeric(tmp_path):
    files = _edited(
        bad.sub("arms.csv", "control_type\n", "control_type,bmi,site\n"),
        *[
            bad.sub("arms.csv", f"{ct}\n", f"{ct},{bmi},{site}\n")
            for ct, bmi, site in [("hyaluronic acid", "27.5", "north")] * 2 + [("saline", "", "south")] * 3
        ],
    )
    lines = files["outcomes.csv"].splitlines()
    files["outcomes.csv"] = (
        "\n".join([lines[0] + ",notes,weeks", lines[1] + ",read off a figure,26"] + [line + ",," for line in lines[2:]])
        + "\n"
    )
    ds = read_dataset(bad.write(tmp_path / "ds", files))
    assert "bmi" in covariate_columns(ds) and "site" not in covariate_columns(ds)
    assert list(ds.arms["bmi"][:2]) == [27.5, 27.5] and ds.arms["bmi"][2:].isna().all()
    assert pd.api.types.is_string_dtype(ds.arms["site"])
    assert ds.outcomes["weeks"].dtype == float and ds.outcomes["notes"][0] == "read off a figure"


def test_n_one_allowed_where_no_outcome_uses_it(tmp_path):
    files = _edited(
        bad.sub("arms.csv", "S2,low,treatment,12", "S2,low,treatment,1"),
        bad.sub("outcomes.csv", "S2,low,vas,6,,", "S2,low,vas,6,11,"),
        bad.sub("arms.csv", "S2,high,treatment,12", "S2,high,treatment,1"),
    )  # only declared missing
    ds = read_dataset(bad.write(tmp_path / "ds", files))
    assert list(ds.arms["n"][2:4]) == [1, 1] and ds.outcomes["n"][2] == 11.0


def test_minimal_files(tmp_path):
    files = {
        "arms.csv": "study,arm,role,n\n001,a,treatment,20\n001,b,control,21\n",
        "outcomes.csv": "study,arm,outcome,month,mean,sd\n001,a,pain,1.5,2,1\n001,b,pain,1.5,3,1\n",
    }
    ds = read_dataset(bad.write(tmp_path / "ds", files))
    assert ds.studies is None and ds.contrasts is None and ds.published is None
    assert list(ds.arms["study"]) == ["001", "001"]  # ids stay text
    out = ds.outcomes
    assert list(out["stat_group"]) == ["mean_sd"] * 2 and list(out["kind"]) == ["final"] * 2
    assert out[["se", "median", "scale_min", "scale_max"]].isna().all().all()
    assert out["source"].isna().all() and list(out["n"]) == [20.0, 21.0] and out["month"][0] == 1.5
    assert "female_pct" not in ds.arms and "kl_grade_mean" not in ds.arms
    assert covariate_columns(ds) == ()


def test_contrasts_only_dataset(tmp_path):
    files = _edited(bad.put("outcomes.csv", "study,arm,outcome,month,mean,sd\n"))
    ds = read_dataset(bad.write(tmp_path / "ds", files))
    assert ds.outcomes.empty and len(ds.contrasts) == 2
    assert list(cell_summary(ds)["n_contrasts"]) == [1, 1]


def test_number_forms(tmp_path):
    files = {
        "arms.csv": "study,arm,role,n,dose\nA,a,treatment,4.0,.5\nA,b,control,+5,1e-3\n",
        "outcomes.csv": "study,arm,outcome,month,mean,sd\nA,a,pain,3.,-2,2E1\n",
    }
    ds = read_dataset(bad.write(tmp_path / "ds", files))
    assert list(ds.arms["n"]) == [4, 5] and list(ds.arms["dose"]) == [0.5, 0.001]
    assert ds.outcomes.loc[0, ["month", "mean", "sd"]].tolist() == [3.0, -2.0, 20.0]


def test_mostly_text_column_is_a_label(tmp_path):
    files = {
        "arms.csv": "study,arm,role,n,note\nA,a,treatment,4,12\nA,b,control,5,see text\nA,c,control,5,NR\n",
        "outcomes.csv": "study,arm,outcome,month,mean,sd\nA,a,pain,3,2,1\n",
    }
    ds = read_dataset(bad.write(tmp_path / "ds", files))
    assert list(ds.arms["note"]) == ["12", "see text", "NR"] and "note" not in covariate_columns(ds)


def test_derived_names_are_plain_covariates_without_their_inputs(tmp_path):
    files = {
        "arms.csv": "study,arm,role,n,female_pct,kl_grade_mean\nA,a,treatment,4,50,2.5\nA,b,control,4,40,3\n",
        "outcomes.csv": "study,arm,outcome,month,mean,sd\nA,a,pain,3,2,1\n",
    }
    ds = read_dataset(bad.write(tmp_path / "ds", files))
    assert list(ds.arms["female_pct"]) == [50.0, 40.0] and list(ds.arms["kl_grade_mean"]) == [2.5, 3.0]
    assert covariate_columns(ds) == ("female_pct", "kl_grade_mean")


def test_partial_kl_columns(tmp_path):
    files = {
        "arms.csv": "study,arm,role,n,kl1,kl3\nA,a,treatment,4,1,3\nA,b,control,4,,\n",
        "outcomes.csv": "study,arm,outcome,month,mean,sd\nA,a,pain,3,2,1\n",
    }
    ds = read_dataset(bad.write(tmp_path / "ds", files))
    assert ds.arms["kl_grade_mean"][0] == pytest.approx((1 + 9) / 4) and np.isnan(ds.arms["kl_grade_mean"][1])


# Regressions: these folders used to crash read_dataset with a traceback.
def test_studies_file_with_only_the_study_column(tmp_path):
    ds = read_dataset(bad.write(tmp_path / "ds", dict(bad.BASE, **{"studies.csv": "study\nS1\nS2\n"})))
    assert list(ds.studies["study"]) == ["S1", "S2"]


def test_arms_without_n_nor_numeric_columns_is_reported(tmp_path):
    arms = "study,arm,role\nS1,msc,treatment\nS1,ha,control\nS2,low,treatment\nS2,high,treatment\nS2,ctl,control\n"
    problems = _problems(bad.write(tmp_path / "ds", dict(bad.BASE, **{"arms.csv": arms})))
    assert [(p.file, p.row, p.column) for p in problems] == [("arms.csv", 1, "n")]
    assert "required column is missing" in problems[0].message


def test_text_column_named_like_a_statistic_is_a_label(tmp_path):
    contrasts = (
        bad.BASE["contrasts.csv"].replace("source\n", "source,mean\n").replace("abstract\n", "abstract,see text\n")
    )
    contrasts = contrasts.replace("Table 4\n", "Table 4,NR\n")
    ds = read_dataset(bad.write(tmp_path / "ds", dict(bad.BASE, **{"contrasts.csv": contrasts})))
    assert list(ds.contrasts["mean"]) == ["see text", "NR"]

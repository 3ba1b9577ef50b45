"""A generator of malformed dataset folders (simulated values, made up for the tests).

``BASE`` is a small valid dataset folder (file name -> text). Each :class:`Case` edits a
copy of it and lists the problems :func:`bayes_msc.data.reader.read_dataset` must report,
each as (file, spreadsheet row, column, a fragment of the message). ``write(folder, files)``
puts a case on disk. The values are invented: they describe no real trial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class Folder:
    """File content meaning: a folder stands where the file should be."""


Files = dict[str, "str | bytes | type[Folder] | None"]

BASE: dict[str, str] = {
    "arms.csv": (
        "study,arm,role,n,dose_million,age_mean,female,male,kl2,kl3,kl4,control_type\n"
        "S1,msc,treatment,10,10,55.5,6,4,3,5,2,hyaluronic acid\n"  # row 2
        "S1,ha,control,10,,56.5,5,5,4,4,2,hyaluronic acid\n"  # row 3
        "S2,low,treatment,12,25,60,7,5,,,,saline\n"  # row 4
        "S2,high,treatment,12,100,61,6,6,,,,saline\n"  # row 5
        "S2,ctl,control,12,,59,6,6,,,,saline\n"  # row 6
    ),
    "outcomes.csv": (
        "study,arm,outcome,month,n,mean,sd,se,ci_low,ci_high,median,q1,q3,min,max,kind,"
        "scale_min,scale_max,source\n"
        "S1,msc,vas,6,,3.1,1.2,,,,,,,,,,0,10,Table 2\n"  # row 2: mean+sd
        "S1,ha,vas,6,9,4,,0.5,,,,,,,,final,0,10,Table 2\n"  # row 3: mean+se
        "S2,low,vas,6,,,,,,,3,2,5,,,,0,10,Figure 3\n"  # row 4: median+iqr
        "S2,high,vas,6,,,,,,,,,,,,,0,10,text p. 4\n"  # row 5: declared missing
        "S2,ctl,vas,6,,5,,,4,6,,,,,,,0,10,Figure 3\n"  # row 6: mean+ci
        "S2,ctl,vas,12,,,,,,,5,,,1,9,,0,10,Figure 3\n"  # row 7: median+range
        "S1,msc,vas,12,,-1.5,1,,,,,,,,,change,0,10,Table 3\n"  # row 8: a change
    ),
    "contrasts.csv": (
        "study,outcome,month,treatment_arm,control_arm,estimate,se,ci_low,ci_high,source\n"
        "S1,ikdc,,msc,ha,7.65,,3.04,12.26,abstract\n"  # row 2: whole follow-up
        "S2,vas,12,high,ctl,-1.2,0.4,,,Table 4\n"  # row 3
    ),
    "studies.csv": ("study,year,country,risk_of_bias\nS1,2016,Spain,low\nS2,2018,China,some concerns\n"),
    "published_pooled.csv": (
        "outcome,month,estimate,ci_low,ci_high,p_value,p_text,trials,source\n"
        "vas,6,-3.2,-5.5,-0.9,0.007,P = 0.007,S1;S2,Results p. 5\n"
        "vas,12,-7.0,-13.6,-0.4,,P < 0.05,S1; S2,Results p. 5\n"
    ),
}


def write(folder: Path, files: Files) -> Path:
    """Write ``files`` (text as UTF-8, bytes unchanged; None = absent) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if content is Folder:
            (folder / name).mkdir()
            continue
        if content is None:
            continue
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (folder / name).write_bytes(data)
    return folder


Edit = Callable[[Files], None]


def sub(name: str, old: str, new: str) -> Edit:
    """Replace the first ``old`` of file ``name`` (it must be there: no silent no-op cases)."""

    def edit(files: Files) -> None:
        text = files[name]
        assert isinstance(text, str) and old in text, f"{old!r} not in {name}"
        files[name] = text.replace(old, new, 1)

    return edit


def put(name: str, content: str | bytes | type[Folder] | None) -> Edit:
    def edit(files: Files) -> None:
        files[name] = content

    return edit


def append(name: str, line: str) -> Edit:
    def edit(files: Files) -> None:
        files[name] = str(files[name]) + line + "\n"

    return edit


@dataclass(frozen=True)
class Case:
    name: str
    edits: tuple[Edit, ...]
    expect: tuple[tuple[str, int | None, str | None, str], ...]
    files: Files = field(default_factory=dict, compare=False)

    def build(self) -> Files:
        files: Files = dict(BASE)
        for edit in self.edits:
            edit(files)
        return files


A, OUT, C, S, P = "arms.csv", "outcomes.csv", "contrasts.csv", "studies.csv", "published_pooled.csv"
OUT_ROW2 = "S1,msc,vas,6,,3.1,1.2,,,,,,,,,,0,10,Table 2"

CASES: tuple[Case, ...] = (
    # --- files
    Case("arms_missing", (put(A, None),), ((A, None, None, "required file is missing"),)),
    Case("outcomes_missing", (put(OUT, None),), ((OUT, None, None, "required file is missing"),)),
    Case("empty_file", (put(A, ""),), ((A, None, None, "is empty"),)),
    Case("blank_file", (put(OUT, "\n \n\n"),), ((OUT, None, None, "is empty"),)),
    Case("header_only_arms", (put(A, "study,arm,role,n\n"),), ((A, None, None, "has no data rows"),)),
    Case(
        "header_only_outcomes_no_contrasts",
        (put(OUT, "study,arm,outcome,month,mean,sd\n"), put(C, None)),
        ((OUT, None, None, "has no data rows"),),
    ),
    Case("binary", (put(S, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),), ((S, None, None, "binary data"),)),
    Case("xlsx", (put(A, b"PK\x03\x04\x14\x00\x06\x00"),), ((A, None, None, "spreadsheet workbook"),)),
    Case("utf16", (put(A, BASE[A].encode("utf-16")),), ((A, None, None, "UTF-16"),)),
    Case("latin1", (put(A, BASE[A].replace("saline", "salin\u00e9").encode("latin-1")),), ((A, 4, None, "not UTF-8"),)),
    Case("semicolons", (put(A, BASE[A].replace(",", ";")),), ((A, 1, None, "is it comma-separated?"),)),
    Case("tabs", (put(C, BASE[C].replace(",", "\t")),), ((C, 1, None, "separated by tabs"),)),
    Case("unclosed_quote", (sub(A, "S2,ctl,control", 'S2,"ctl,control'),), ((A, 6, None, "not valid CSV"),)),
    Case("stray_quote", (sub(A, "S2,ctl,", 'S2,"ctl"x,'),), ((A, 6, None, "not valid CSV"),)),
    Case("too_many_cells", (sub(A, "55.5,6", "55.5,6,7"),), ((A, 2, None, "13 cells but the header has 12"),)),
    Case(
        "too_few_cells",
        (sub(OUT, "S2,high,vas,6,,,,,,,,,,,,,0,10,text p. 4", "S2,high,vas,6"),),
        ((OUT, 5, None, "4 cells but the header has 19"),),
    ),
    Case("arms_is_folder", (put(A, Folder),), ((A, None, None, "is a folder"),)),
    # --- header
    Case("misspelt_required", (sub(A, "study,", "stdy,"),), ((A, 1, "study", "is 'stdy' it?"),)),
    Case("misspelt_optional", (sub(OUT, ",mean,", ",meann,"),), ((OUT, 1, "meann", "did you mean 'mean'"),)),
    Case(
        "capitalised_known_arm_column", (sub(A, ",female,", ",Female,"),), ((A, 1, "Female", "did you mean 'female'"),)
    ),
    Case("duplicate_header", (sub(S, "risk_of_bias", "year"),), ((S, 1, "year", "appears twice"),)),
    Case(
        "unnamed_column_with_values",
        (sub(S, "risk_of_bias\n", "risk_of_bias,\n"), sub(S, "low\n", "low,x\n"), sub(S, "concerns\n", "concerns,\n")),
        ((S, 1, None, "column 5 has values but no name"),),
    ),
    Case("reserved_name", (sub(A, "control_type", "female_pct"),), ((A, 1, "female_pct", "from female and male"),)),
    Case("reserved_underscore", (sub(OUT, "source", "_note"),), ((OUT, 1, "_note", "'_' are reserved"),)),
    Case("reserved_stat_group", (sub(OUT, "source", "stat_group"),), ((OUT, 1, "stat_group", "derives this column"),)),
    # Used to crash the reader (a TypeError): the header's '_row' clashed with the frame's own.
    Case("reserved_row", (sub(OUT, "source", "_row"),), ((OUT, 1, "_row", "from the spreadsheet row"),)),
    Case("reserved_row_arms", (sub(A, "control_type", "_row"),), ((A, 1, "_row", "'_' are reserved"),)),
    Case(
        "contrasts_missing_estimate",
        (sub(C, "estimate,", "est,"),),
        ((C, 1, "estimate", "required column is missing"),),
    ),
    Case("published_missing_p_text", (sub(P, "p_text,", "ptext,"),), ((P, 1, "p_text", "required column is missing"),)),
    Case(
        "covariate_in_both_files",
        (
            sub(S, "risk_of_bias\n", "risk_of_bias,age_mean\n"),
            sub(S, "low\n", "low,50\n"),
            sub(S, "concerns\n", "concerns,51\n"),
        ),
        ((S, 1, "age_mean", "also a numeric column of arms.csv"),),
    ),
    # --- arms.csv
    Case(
        "role_invalid",
        (sub(A, "S1,msc,treatment", "S1,msc,Treatment"),),
        ((A, 2, "role", "allowed: treatment, control"),),
    ),
    Case(
        "no_control",
        (sub(A, "S2,ctl,control", "S2,ctl,treatment"),),
        ((A, 4, "role", "study 'S2' has no control arm"), (C, 3, "control_arm", "has role 'treatment'")),
    ),
    Case(
        "n_not_whole",
        (sub(A, "S2,low,treatment,12", "S2,low,treatment,12.5"),),
        ((A, 4, "n", "whole number from 1 to 10^9"),),
    ),
    Case(
        "n_zero", (sub(A, "S2,low,treatment,12", "S2,low,treatment,0"),), ((A, 4, "n", "whole number from 1 to 10^9"),)
    ),
    Case("n_empty", (sub(A, "S2,low,treatment,12", "S2,low,treatment,"),), ((A, 4, "n", "is empty"),)),
    Case(
        "n_one_used_by_outcome",
        (sub(A, "S2,low,treatment,12", "S2,low,treatment,1"),),
        ((A, 4, "n", "outcomes.csv row 4 uses it"),),
    ),
    Case("count_negative", (sub(A, "55.5,6,4", "55.5,-6,4"),), ((A, 2, "female", ">= 0"),)),
    Case("covariate_not_number", (sub(A, "56.5", "NR"),), ((A, 3, "age_mean", "'NR' is not a finite number"),)),
    Case("covariate_nan_text", (sub(A, "56.5", "NaN"),), ((A, 3, "age_mean", "'NaN' is not a finite number"),)),
    Case(
        "duplicate_arm",
        (append(A, "S1,msc,treatment,10,10,55.5,6,4,3,5,2,hyaluronic acid"),),
        ((A, 2, "arm", "duplicate (study, arm)"), (A, 7, "arm", "on rows 2, 7")),
    ),
    Case("empty_study", (sub(A, "S2,high", ",high"),), ((A, 5, "study", "is empty"),)),
    # --- outcomes.csv
    Case("sd_zero", (sub(OUT, "3.1,1.2", "3.1,0"),), ((OUT, 2, "sd", "allowed: a number > 0"),)),
    Case("se_negative", (sub(OUT, "4,,0.5", "4,,-0.5"),), ((OUT, 3, "se", "allowed: a number > 0"),)),
    Case("sd_inf", (sub(OUT, "3.1,1.2", "3.1,inf"),), ((OUT, 2, "sd", "'inf' is not a finite number"),)),
    Case("mean_nan_text", (sub(OUT, "3.1,1.2", "NaN,1.2"),), ((OUT, 2, "mean", "'NaN' is not a finite number"),)),
    Case(
        "mean_decimal_comma", (sub(OUT, "3.1,1.2", '"3,1",1.2'),), ((OUT, 2, "mean", "'3,1' is not a finite number"),)
    ),
    Case(
        "mean_underscore_digits",
        (sub(OUT, "3.1,1.2", "1_000,1.2"),),
        ((OUT, 2, "mean", "'1_000' is not a finite number"),),
    ),
    Case("mean_non_ascii_digits", (sub(OUT, "3.1,1.2", "\u0663,1.2"),), ((OUT, 2, "mean", "is not a finite number"),)),
    Case("sd_overflows", (sub(OUT, "3.1,1.2", "3.1,1e999"),), ((OUT, 2, "sd", "'1e999' is not a finite number"),)),
    Case(
        "ci_reversed",
        (sub(OUT, "5,,,4,6", "5,,,6,4"),),
        ((OUT, 6, "ci_low", "ci_low (6) must be less than ci_high (4)"),),
    ),
    Case("ci_zero_width", (sub(OUT, "5,,,4,6", "5,,,5,5"),), ((OUT, 6, "ci_low", "must be less than ci_high"),)),
    Case("mean_outside_ci", (sub(OUT, "5,,,4,6", "7,,,4,6"),), ((OUT, 6, "mean", "outside its interval [4, 6]"),)),
    Case("quartiles_disordered", (sub(OUT, "3,2,5", "3,4,5"),), ((OUT, 4, "median", "q1 <= median <= q3"),)),
    Case("quartiles_zero_width", (sub(OUT, "3,2,5", "3,3,3"),), ((OUT, 4, "median", "q1 < q3"),)),
    Case("range_disordered", (sub(OUT, "5,,,1,9", "5,,,6,9"),), ((OUT, 7, "median", "min <= median <= max"),)),
    Case(
        "half_group_mean",
        (sub(OUT, "3.1,1.2", "3.1,"),),
        ((OUT, 2, "sd", "mean given without sd or se or ci_low+ci_high"),),
    ),
    Case("half_group_median", (sub(OUT, "3,2,5", "3,2,"),), ((OUT, 4, "q3", "median, q1 given without q3"),)),
    Case("half_group_ci", (sub(OUT, "5,,,4,6", ",,,4,6"),), ((OUT, 6, "mean", "without mean"),)),
    Case("two_groups", (sub(OUT, "4,,0.5", "4,1,0.5"),), ((OUT, 3, "mean", "more than one group"),)),
    Case(
        "stray_statistic",
        (sub(OUT, "3.1,1.2,,,,,,", "3.1,1.2,,,,,2,"),),
        ((OUT, 2, "q1", "q1 given beside the complete group mean+sd"),),
    ),
    Case(
        "outcome_n_one", (sub(OUT, "S1,ha,vas,6,9", "S1,ha,vas,6,1"),), ((OUT, 3, "n", "whole number from 2 to 10^9"),)
    ),
    Case("month_negative", (sub(OUT, "S1,msc,vas,6", "S1,msc,vas,-6"),), ((OUT, 2, "month", "a number >= 0"),)),
    Case("month_empty", (sub(OUT, "S1,msc,vas,6", "S1,msc,vas,"),), ((OUT, 2, "month", "is empty"),)),
    Case(
        "month_text",
        (sub(OUT, "S1,msc,vas,6", "S1,msc,vas,six"),),
        ((OUT, 2, "month", "'six' is not a finite number"),),
    ),
    Case("kind_invalid", (sub(OUT, "final,0,10", "baseline,0,10"),), ((OUT, 3, "kind", "allowed: final, change"),)),
    Case("scale_half", (sub(OUT, ",,0,10,Table 2", ",,0,,Table 2"),), ((OUT, 2, "scale_min", "give both or neither"),)),
    Case(
        "scale_reversed",
        (sub(OUT, ",,0,10,Table 2", ",,10,0,Table 2"),),
        ((OUT, 2, "scale_min", "scale_min (10) must be less than scale_max (0)"),),
    ),
    Case("off_scale", (sub(OUT, "3.1,1.2", "12,1.2"),), ((OUT, 2, "mean", "outside the scale [0, 10]"),)),
    Case("change_off_scale", (sub(OUT, "-1.5,1", "-11,1"),), ((OUT, 8, "mean", "outside the scale"),)),
    Case("source_empty", (sub(OUT, "0,10,Table 3", "0,10,"),), ((OUT, 8, "source", "source is empty"),)),
    Case(
        "duplicate_outcome",
        (append(OUT, OUT_ROW2.replace("vas,6,", "vas,6.0,")),),
        ((OUT, 2, "month", "on rows 2, 9"), (OUT, 9, "month", "duplicate (study, arm, outcome, month)")),
    ),
    Case(
        "outcome_arm_unknown",
        (append(OUT, "S1,prp,vas,6,,1,1,,,,,,,,,,0,10,T2"),),
        ((OUT, 9, "arm", "arm 'prp' is not an arm of study 'S1'"),),
    ),
    Case(
        "outcome_study_unknown",
        (append(OUT, "S9,msc,vas,6,,1,1,,,,,,,,,,0,10,T2"),),
        ((OUT, 9, "study", "study 'S9' is not in arms.csv"),),
    ),
    Case(
        "blank_lines_keep_row_numbers",
        (sub(OUT, "source\n", "source\n\n,,,,\n"), sub(OUT, "3.1,1.2", "3.1,0")),
        ((OUT, 4, "sd", "allowed: a number > 0"),),
    ),
    Case(
        "embedded_newline_keeps_row_numbers",
        (sub(OUT, "Table 2\nS1,ha", '"Table\n2"\nS1,ha'), sub(OUT, "4,,0.5", "4,,0")),
        ((OUT, 3, "se", "allowed: a number > 0"),),
    ),
    # --- contrasts.csv
    Case(
        "contrast_arm_unknown",
        (sub(C, "S1,ikdc,,msc", "S1,ikdc,,prp"),),
        ((C, 2, "treatment_arm", "'prp' is not an arm of study 'S1'"),),
    ),
    Case(
        "contrast_wrong_role",
        (sub(C, "high,ctl", "high,low"),),
        ((C, 3, "control_arm", "has role 'treatment' in arms.csv; allowed: an arm with role control"),),
    ),
    Case("contrast_same_arm", (sub(C, "high,ctl", "high,high"),), ((C, 3, "control_arm", "they must differ"),)),
    Case(
        "contrast_se_and_ci", (sub(C, "-1.2,0.4,,", "-1.2,0.4,-2,-0.4"),), ((C, 3, "se", "both se and ci_low+ci_high"),)
    ),
    Case("contrast_neither", (sub(C, "-1.2,0.4,,", "-1.2,,,"),), ((C, 3, "se", "no se and no ci_low+ci_high"),)),
    Case("contrast_half_ci", (sub(C, "3.04,12.26", "3.04,"),), ((C, 2, "ci_high", "only one of ci_low and ci_high"),)),
    Case("contrast_estimate_outside", (sub(C, "7.65", "17.65"),), ((C, 2, "estimate", "outside its interval"),)),
    Case("contrast_se_zero", (sub(C, "-1.2,0.4", "-1.2,0"),), ((C, 3, "se", "a number > 0"),)),
    Case("contrast_month_negative", (sub(C, "S2,vas,12", "S2,vas,-12"),), ((C, 3, "month", ">= 0"),)),
    Case("contrast_source_empty", (sub(C, "Table 4", ""),), ((C, 3, "source", "source is empty"),)),
    Case(
        "contrast_duplicate",
        (append(C, "S2,vas,12,high,ctl,-1.0,0.5,,,Table 5"),),
        ((C, 3, "control_arm", "on rows 3, 4"), (C, 4, "control_arm", "duplicate (study, outcome")),
    ),
    # --- studies.csv
    Case(
        "study_duplicate",
        (append(S, "S2,2019,China,high"),),
        ((S, 3, "study", "duplicate (study)"), (S, 4, "study", "on rows 3, 4")),
    ),
    Case(
        "study_not_listed",
        (sub(S, "S2,2018,China,some concerns\n", ""),),
        ((A, 4, "study", "'S2' is not in studies.csv"),),
    ),
    Case("study_without_arms", (append(S, "S3,2020,Iran,low"),), ((S, 4, "study", "'S3' has no arms"),)),
    # --- published_pooled.csv
    Case("published_trial_unknown", (sub(P, "S1;S2", "S1;S9"),), ((P, 2, "trials", "'S9', not studies of arms.csv"),)),
    Case("published_p_out_of_range", (sub(P, "0.007,P", "1.5,P"),), ((P, 2, "p_value", "from 0 to 1"),)),
    Case("published_ci_reversed", (sub(P, "-5.5,-0.9", "-0.9,-5.5"),), ((P, 2, "ci_low", "less than ci_high"),)),
    Case("published_month_empty", (sub(P, "vas,12,", "vas,,"),), ((P, 3, "month", "is empty"),)),
    # --- everything at once: every problem of every file is reported together
    Case(
        "many_at_once",
        (
            sub(A, "S2,low,treatment,12", "S2,low,treatment,0"),
            sub(OUT, "3.1,1.2", "3.1,0"),
            sub(C, "-1.2,0.4", "-1.2,0"),
            append(S, "S3,2020,Iran,low"),
            sub(P, "S1;S2", "S1;S9"),
            sub(OUT, "final,0,10", "baseline,0,10"),
        ),
        (
            (A, 4, "n", "whole number from 1 to 10^9"),
            (OUT, 2, "sd", "> 0"),
            (OUT, 3, "kind", "allowed: final"),
            (C, 3, "se", "a number > 0"),
            (S, 4, "study", "has no arms"),
            (P, 2, "trials", "'S9'"),
        ),
    ),
)

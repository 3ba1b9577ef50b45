"""The bad-input corpus of ``tests/test_bad_input_corpus.py``: malformed variants of the
invented dataset ``simulated_base`` (and of ``simulated_spec.toml`` and
``simulated_priors.toml``), each with the command line to run and what stderr must say;
and odd but valid variants that must be read exactly like the plain files.

A case's files live in a fresh folder: ``simulated_data/`` (a copy of ``simulated_base``),
``spec.toml``, ``priors.toml``, an earlier report ``previous_report/`` and an earlier
posterior file ``previous.nc``. Command lines use the placeholders ``{root}``, ``{data}``,
``{spec}``, ``{priors}``, ``{old_out}``, ``{new_out}`` (a report folder that does not
exist), ``{old_nc}`` and ``{new_nc}`` (a posterior file that does not exist).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Edit = Callable[[Path], None]


# ------------------------------------------------------------------------ edits


def sub(name: str, old: str, new: str, count: int = 1) -> Edit:
    """Replace ``old`` in file ``name`` (it must be there: no case silently tests nothing)."""

    def edit(root: Path) -> None:
        path = root / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"corpus edit: {old!r} not in {name}"
        path.write_text(text.replace(old, new, count), encoding="utf-8", newline="")

    return edit


def put(name: str, content: str | bytes) -> Edit:
    def edit(root: Path) -> None:
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (root / name).write_bytes(data)

    return edit


def append(name: str, text: str) -> Edit:
    def edit(root: Path) -> None:
        with open(root / name, "a", encoding="utf-8", newline="") as f:
            f.write(text)

    return edit


def drop(name: str) -> Edit:
    return lambda root: (root / name).unlink()


def transform(name: str, fn: Callable[[str], str | bytes]) -> Edit:
    def edit(root: Path) -> None:
        out = fn((root / name).read_text(encoding="utf-8"))
        (root / name).write_bytes(out if isinstance(out, bytes) else out.encode("utf-8"))

    return edit


def set_column(index: int, value: str) -> Callable[[str], str]:
    """Every data row's cell ``index`` set to ``value`` (the header kept)."""

    def fn(text: str) -> str:
        lines = text.splitlines()
        rows = [line.split(",") for line in lines[1:]]
        return "\n".join([lines[0]] + [",".join(r[:index] + [value] + r[index + 1 :]) for r in rows]) + "\n"

    return fn


def without_column(index: int) -> Callable[[str], str]:
    return lambda text: "".join(
        ",".join(c for i, c in enumerate(line.split(",")) if i != index) + "\n" for line in text.splitlines()
    )


ARMS, OUT, STUDIES = "simulated_data/arms.csv", "simulated_data/outcomes.csv", "simulated_data/studies.csv"
SPEC, PRIORS = "spec.toml", "priors.toml"
GARBAGE = bytes(range(256)) * 8  # binary: NUL bytes and invalid UTF-8

# ----------------------------------------------------------------- command lines

CELL = ("--outcome", "vas", "--month", "6")
VALIDATE = ("validate", "{data}")
EFFECTS = ("effects", "{data}", *CELL, "--format", "json")
POOL = ("pool", "{data}", *CELL)
METAREG = ("metareg", "{data}", *CELL, "--covariate", "dose_million")
FIT_SAVE_OLD = (
    "fit",
    "{data}",
    *CELL,
    "--draws",
    "100",
    "--tune",
    "100",
    "--chains",
    "1",
    "--save",
    "{old_nc}",
    "--format",
    "json",
)
FIT_SAVE_NEW = FIT_SAVE_OLD[:-3] + ("{new_nc}", "--format", "json")
RUN_OLD = ("run", "{spec}", "--out", "{old_out}", "--no-progress")
RUN_NEW = ("run", "{spec}", "--out", "{new_out}", "--no-progress")
RUN_DEFAULT = ("run", "{spec}", "--no-progress")  # default out: reports/spec under the cwd


@dataclass(frozen=True)
class Case:
    """One malformed input: edits to the base files, the command line, what stderr must say.

    ``expect`` are substrings of stderr (file, ``row N``, ``column 'X'``, the message);
    ``usage`` marks command-line syntax errors, which argparse reports after a usage text.
    """

    id: str
    edits: tuple[Edit, ...]
    argv: tuple[str, ...]
    expect: tuple[str, ...]
    usage: bool = False
    marks: tuple = ()


def case(id, edits, argv, *expect, usage=False, marks=()):
    return Case(id, tuple(edits), tuple(argv), tuple(expect), usage, tuple(marks))


CASES = [
    # --- arms.csv ------------------------------------------------------------------
    case("arms_missing_file", [drop(ARMS)], VALIDATE, "arms.csv", "required file is missing"),
    case(
        "arms_missing_column",
        [transform(ARMS, without_column(2))],
        RUN_OLD,
        "arms.csv, row 1, column 'role'",
        "required column is missing",
    ),
    case(
        "arms_misspelt_column",
        [sub(ARMS, "study,arm,role,", "study,arm,rol,")],
        FIT_SAVE_OLD,
        "arms.csv, row 1, column 'role'",
        "is 'rol' it?",
    ),
    case(
        "arms_n_not_a_number",
        [sub(ARMS, "S1,msc,treatment,20,", "S1,msc,treatment,twenty,")],
        POOL,
        "arms.csv, row 2, column 'n'",
        "'twenty' is not a finite number",
    ),
    case(
        "arms_n_zero",
        [sub(ARMS, "S1,msc,treatment,20,", "S1,msc,treatment,0,")],
        RUN_NEW,
        "arms.csv, row 2, column 'n'",
        "whole number from 1 to 10^9",
    ),
    case(
        "arms_n_fraction",
        [sub(ARMS, "S2,ctl,control,16,", "S2,ctl,control,16.5,")],
        EFFECTS,
        "arms.csv, row 6, column 'n'",
        "n is 16.5",
    ),
    case(
        "arms_study_without_control",
        [sub(ARMS, "S4,ctl,control", "S4,ctl,treatment")],
        FIT_SAVE_NEW,
        "arms.csv, row 9, column 'role'",
        "study 'S4' has no control arm",
    ),
    case(
        "arms_unknown_role",
        [sub(ARMS, "S1,ctl,control", "S1,ctl,placebo")],
        VALIDATE,
        "arms.csv, row 3, column 'role'",
        "role is 'placebo'; allowed: treatment, control",
    ),
    case(
        "arms_duplicate_row",
        [append(ARMS, "S1,msc,treatment,20,10,55,invented values\n")],
        RUN_DEFAULT,
        "arms.csv, row 2, column 'arm'",
        "arms.csv, row 11, column 'arm'",
        "duplicate (study, arm)",
    ),
    case(
        "arms_covariate_inf",
        [sub(ARMS, "S1,msc,treatment,20,10,55", "S1,msc,treatment,20,10,inf")],
        METAREG,
        "arms.csv, row 2, column 'age_mean'",
        "'inf' is not a finite number",
    ),
    case("arms_empty_file", [put(ARMS, "")], RUN_OLD, "arms.csv", "is empty"),
    case("arms_header_only", [put(ARMS, "study,arm,role,n\n")], VALIDATE, "arms.csv", "has no data rows"),
    case("arms_binary_garbage", [put(ARMS, GARBAGE)], FIT_SAVE_OLD, "arms.csv", "binary data"),
    case("arms_spreadsheet", [put(ARMS, b"PK\x03\x04" + GARBAGE)], VALIDATE, "arms.csv", "spreadsheet workbook"),
    case(
        "arms_not_utf8",
        [transform(ARMS, lambda t: t.replace("invented", "invent\u00e9").encode("latin-1"))],
        POOL,
        "arms.csv, row 2",
        "not UTF-8 text",
    ),
    case(
        "arms_semicolons",
        [transform(ARMS, lambda t: t.replace(",", ";"))],
        RUN_NEW,
        "arms.csv, row 1",
        "separated by semicolons",
    ),
    case(
        "arms_ragged_row",
        [sub(ARMS, "S3,msc,treatment,30,50,52,invented values", "S3,msc,treatment,30,50,52,invented, values")],
        VALIDATE,
        "arms.csv, row 7",
        "has 8 cells but the header has 7 columns",
    ),
    # --- outcomes.csv --------------------------------------------------------------
    case("outcomes_missing_file", [drop(OUT)], RUN_OLD, "outcomes.csv", "required file is missing"),
    case(
        "outcomes_sd_negative",
        [sub(OUT, "S1,msc,vas,6,,45,18", "S1,msc,vas,6,,45,-18")],
        VALIDATE,
        "outcomes.csv, row 4, column 'sd'",
        "sd is -18; allowed: a number > 0",
    ),
    case(
        "outcomes_sd_zero",
        [sub(OUT, "S1,msc,vas,6,,45,18", "S1,msc,vas,6,,45,0")],
        FIT_SAVE_NEW,
        "outcomes.csv, row 4, column 'sd'",
        "sd is 0",
    ),
    case(
        "outcomes_se_zero",
        [sub(OUT, "S2,low,vas,6,,4.2,,0.5", "S2,low,vas,6,,4.2,,0")],
        POOL,
        "outcomes.csv, row 6, column 'se'",
        "se is 0",
    ),
    case(
        "outcomes_n_one",
        [sub(OUT, "S2,high,vas,6,15,", "S2,high,vas,6,1,")],
        RUN_NEW,
        "outcomes.csv, row 7, column 'n'",
        "whole number from 2 to 10^9",
    ),
    case(
        "outcomes_unknown_arm",
        [sub(OUT, "S4,ctl,vas", "S4,placebo,vas")],
        EFFECTS,
        "outcomes.csv, row 12, column 'arm'",
        "arm 'placebo' is not an arm of study 'S4'",
    ),
    case(
        "outcomes_unknown_study",
        [sub(OUT, "S4,ctl,vas", "S9,ctl,vas")],
        VALIDATE,
        "outcomes.csv, row 12, column 'study'",
        "study 'S9' is not in arms.csv",
    ),
    case(
        "outcomes_duplicate_row",
        [append(OUT, "S1,msc,vas,6,,45,18,,,,,final,0,100,simulated\n")],
        RUN_OLD,
        "outcomes.csv, row 4, column 'month'",
        "outcomes.csv, row 15, column 'month'",
        "duplicate (study, arm, outcome, month)",
    ),
    case(
        "outcomes_half_filled_group",
        [sub(OUT, ",,,,40,30,52,", ",,,,40,30,,")],
        METAREG,
        "outcomes.csv, row 9, column 'q3'",
        "incomplete statistics",
    ),
    case(
        "outcomes_two_groups",
        [sub(OUT, "S1,msc,vas,6,,45,18,,", "S1,msc,vas,6,,45,18,2,")],
        VALIDATE,
        "outcomes.csv, row 4, column 'mean'",
        "more than one group of statistics",
    ),
    case(
        "outcomes_month_not_a_number",
        [sub(OUT, "S4,msc,vas,6", "S4,msc,vas,six")],
        FIT_SAVE_OLD,
        "outcomes.csv, row 11, column 'month'",
        "'six' is not a finite number",
    ),
    case(
        "outcomes_month_negative",
        [sub(OUT, "S4,msc,vas,6", "S4,msc,vas,-1")],
        VALIDATE,
        "outcomes.csv, row 11, column 'month'",
        "month is -1",
    ),
    case(
        "outcomes_month_empty",
        [sub(OUT, "S4,msc,vas,6", "S4,msc,vas,")],
        POOL,
        "outcomes.csv, row 11, column 'month'",
        "is empty; a value is required",
    ),
    case(
        "outcomes_mean_nan",
        [sub(OUT, "S4,msc,vas,6,,48,20", "S4,msc,vas,6,,NaN,20")],
        RUN_NEW,
        "outcomes.csv, row 11, column 'mean'",
        "'NaN' is not a finite number",
    ),
    case(
        "outcomes_sd_inf",
        [sub(OUT, "S4,msc,vas,6,,48,20", "S4,msc,vas,6,,48,inf")],
        EFFECTS,
        "outcomes.csv, row 11, column 'sd'",
        "'inf' is not a finite number",
    ),
    case(
        "outcomes_unknown_kind",
        [sub(OUT, "S4,msc,vas,6,,48,20,,,,,final", "S4,msc,vas,6,,48,20,,,,,delta")],
        VALIDATE,
        "outcomes.csv, row 11, column 'kind'",
        "kind is 'delta'",
    ),
    case(
        "outcomes_quartiles_disordered",
        [sub(OUT, ",,,,40,30,52,", ",,,,40,52,30,")],
        VALIDATE,
        "outcomes.csv, row 9, column 'median'",
        "quartiles must satisfy",
    ),
    case(
        "outcomes_scale_half_given",
        [sub(OUT, "S4,msc,vas,6,,48,20,,,,,final,0,100", "S4,msc,vas,6,,48,20,,,,,final,0,")],
        FIT_SAVE_NEW,
        "outcomes.csv, row 11, column 'scale_min'",
        "give both or neither",
    ),
    case("outcomes_empty_file", [put(OUT, "")], VALIDATE, "outcomes.csv", "is empty"),
    case(
        "outcomes_tabs",
        [transform(OUT, lambda t: t.replace(",", "\t"))],
        RUN_OLD,
        "outcomes.csv, row 1",
        "separated by tabs",
    ),
    case("outcomes_binary_garbage", [put(OUT, GARBAGE)], POOL, "outcomes.csv", "binary data"),
    # --- studies.csv ---------------------------------------------------------------
    case(
        "studies_unknown_study",
        [append(STUDIES, "S9,2021,Utopia\n")],
        VALIDATE,
        "studies.csv, row 6, column 'study'",
        "study 'S9' has no arms in arms.csv",
    ),
    case(
        "several_files_at_once",
        [
            sub(ARMS, "S1,msc,treatment,20,", "S1,msc,treatment,0,"),
            sub(OUT, "S1,msc,vas,6,,45,18", "S1,msc,vas,6,,45,-18"),
        ],
        VALIDATE,
        "arms.csv, row 2, column 'n'",
        "outcomes.csv, row 4, column 'sd'",
    ),
    # --- spec TOML -----------------------------------------------------------------
    case(
        "spec_malformed_toml", [sub(SPEC, "[analysis]", "[analysis")], RUN_OLD, "spec.toml", "not valid TOML", "line 6"
    ),
    case(
        "spec_unknown_key",
        [sub(SPEC, "draws = 100", "drawz = 100")],
        RUN_OLD,
        "spec.toml, key 'bayes.drawz'",
        "unknown key 'drawz'",
    ),
    case(
        "spec_unknown_table",
        [append(SPEC, "\n[bayesian]\nseed = 1\n")],
        RUN_NEW,
        "spec.toml, key 'bayesian'",
        "unknown key 'bayesian'",
    ),
    case(
        "spec_wrong_type",
        [sub(SPEC, "draws = 100", 'draws = "many"')],
        RUN_OLD,
        "spec.toml, key 'bayes.draws'",
        "must be a whole number",
    ),
    case(
        "spec_value_out_of_range",
        [sub(SPEC, "chains = 2", "chains = 0")],
        RUN_DEFAULT,
        "spec.toml, key 'bayes.chains'",
        "must be a whole number from 1 to 1000",
    ),
    case(
        "spec_unknown_outcome",
        [sub(SPEC, '["vas"]', '["pain"]')],
        RUN_OLD,
        "spec.toml, key 'analysis.outcomes'",
        "outcome 'pain' is not in dataset",
    ),
    case(
        "spec_month_without_data",
        [sub(SPEC, "months = [6]", "months = [24]")],
        RUN_NEW,
        "spec.toml, key 'analysis.months'",
        "has month 24",
    ),
    case(
        "spec_unknown_prior_set",
        [sub(SPEC, 'priors = ["mine"]', 'priors = ["nope"]')],
        RUN_OLD,
        "spec.toml, key 'bayes.priors'",
        "unknown prior set 'nope'",
    ),
    case(
        "spec_unknown_covariate",
        [sub(SPEC, "seed = 1", 'seed = 1\ncovariates = [["weight"]]')],
        RUN_OLD,
        "spec.toml, key 'bayes.covariates'",
        "unknown covariate 'weight'",
    ),
    case("spec_not_utf8", [put(SPEC, GARBAGE)], RUN_OLD, "spec.toml", "not UTF-8"),
    case("spec_missing_file", [drop(SPEC)], RUN_OLD, "spec.toml", "not found"),
    case(
        "spec_missing_dataset",
        [sub(SPEC, 'path = "simulated_data"', 'path = "nowhere"')],
        RUN_NEW,
        "nowhere",
        "does not exist",
    ),
    # --- prior-set TOML --------------------------------------------------------------
    case(
        "priors_malformed_toml",
        [sub(PRIORS, "sigma = 50.0 }", "sigma = 50.0")],
        RUN_OLD,
        "priors.toml, row 4",
        "malformed TOML",
    ),
    case(
        "priors_unknown_distribution",
        [sub(PRIORS, '"HalfNormal"', '"HalfNormall"')],
        RUN_OLD,
        "priors.toml, key 'prior_sets.mine.tau'",
        "unknown distribution 'HalfNormall'",
    ),
    case(
        "priors_unknown_parameter",
        [sub(PRIORS, "sigma = 10.0", "scale = 10.0")],
        RUN_NEW,
        "priors.toml, key 'prior_sets.mine.tau'",
        "unknown parameter 'scale' of HalfNormal",
    ),
    case(
        "priors_unknown_key",
        [append(PRIORS, 'theta = { dist = "Normal", mu = 0.0, sigma = 1.0 }\n')],
        RUN_OLD,
        "priors.toml, key 'prior_sets.mine.theta'",
        "unknown key 'theta'",
    ),
    case(
        "priors_bad_value",
        [sub(PRIORS, "sigma = 10.0", "sigma = -1.0")],
        RUN_OLD,
        "priors.toml, key 'prior_sets.mine.tau'",
        "must be > 0",
    ),
    case(
        "priors_missing_mu",
        [sub(PRIORS, 'mu = { dist = "Normal", mu = 0.0, sigma = 50.0 }\n', "")],
        RUN_OLD,
        "priors.toml, key 'prior_sets.mine.mu'",
        "key 'mu' is missing",
    ),
    case("priors_missing_file", [drop(PRIORS)], RUN_OLD, "priors.toml", "cannot read"),
    case("priors_binary_garbage", [put(PRIORS, GARBAGE)], RUN_OLD, "priors.toml", "UTF-8"),
    case(
        "fit_priors_unknown_distribution",
        [sub(PRIORS, '"HalfNormal"', '"HalfNormall"')],
        FIT_SAVE_OLD + ("--priors", "{priors}", "--prior", "mine"),
        "priors.toml, key 'prior_sets.mine.tau'",
        "unknown distribution 'HalfNormall'",
    ),
    # --- command line ----------------------------------------------------------------
    case(
        "cli_unknown_outcome",
        [],
        ("pool", "{data}", "--outcome", "pain", "--month", "6"),
        "option '--outcome'",
        "unknown outcome 'pain'",
        "vas, womac",
    ),
    case(
        "cli_month_without_data",
        [],
        ("effects", "{data}", "--outcome", "vas", "--month", "12"),
        "option '--month'",
        "no rows for outcome 'vas' at month 12",
        "0, 6",
    ),
    case(
        "cli_month_not_a_number",
        [],
        ("pool", "{data}", "--outcome", "vas", "--month", "six"),
        "argument --month",
        "'six'",
        usage=True,
    ),
    case(
        "cli_unknown_covariate",
        [],
        METAREG[:-1] + ("weight",),
        "option '--covariate'",
        "unknown covariate 'weight'",
        "age_mean, dose_million",
    ),
    case("cli_r_out_of_range", [], EFFECTS + ("--r", "2"), "option '--r'", ">= -1 and <= 1"),
    case("cli_unknown_method", [], POOL + ("--method", "xx"), "argument --method", "invalid choice", usage=True),
    case("cli_unknown_verb", [], ("pooled", "{data}"), "invalid choice", "'pooled'", usage=True),
    case("cli_missing_option", [], ("pool", "{data}", "--month", "6"), "required", "--outcome", usage=True),
    case("cli_data_not_a_folder", [], ("validate", "{spec}"), "spec.toml", "is a file"),
    case("cli_data_missing", [], ("pool", "{root}/nowhere", *CELL), "nowhere", "does not exist"),
    case(
        "cli_random_effects_k1", [], ("pool", "{data}", "--outcome", "womac", "--month", "6"), "k = 1", "fixed-effect"
    ),
    case(
        "cli_run_out_not_a_report",
        [],
        ("run", "{spec}", "--out", "{data}", "--no-progress"),
        "option '--out'",
        "not a bayes-msc report folder",
    ),
    case(
        "fit_unknown_outcome",
        [],
        FIT_SAVE_OLD[:3] + ("pain",) + FIT_SAVE_OLD[4:],
        "option '--outcome'",
        "unknown outcome 'pain'",
    ),
    case(
        "fit_month_without_data",
        [],
        FIT_SAVE_NEW[:5] + ("12",) + FIT_SAVE_NEW[6:],
        "option '--month'",
        "no rows for outcome 'vas' at month 12",
    ),
    case("fit_unknown_prior", [], FIT_SAVE_OLD + ("--prior", "nope"), "unknown prior set 'nope'"),
    case("fit_unknown_covariate", [], FIT_SAVE_OLD + ("--covariate", "weight"), "unknown covariate 'weight'"),
    case(
        "fit_constant_covariate",
        [transform(ARMS, set_column(5, "60"))],
        FIT_SAVE_NEW + ("--covariate", "age_mean"),
        "age_mean",
        "constant",
    ),
    case("fit_draws_zero", [], FIT_SAVE_OLD + ("--draws", "0"), "option '--draws'", "from 10 to 1e7"),
    case("fit_chains_zero", [], FIT_SAVE_NEW + ("--chains", "0"), "option '--chains'", "from 1 to 1000"),
    case("fit_seed_negative", [], FIT_SAVE_OLD + ("--seed", "-1"), "option '--seed'", "from 0 to 4294967295"),
    case("fit_ci_prob_above_one", [], FIT_SAVE_OLD + ("--ci-prob", "1.5"), "ci_prob", "between 0 and 1"),
    case("fit_draws_not_a_number", [], FIT_SAVE_OLD + ("--draws", "many"), "argument --draws", usage=True),
    case(
        "fit_unknown_model", [], FIT_SAVE_OLD + ("--model", "fancy"), "argument --model", "invalid choice", usage=True
    ),
]


# ------------------------------------------------------------ odd but valid files


def _bom(text: str) -> bytes:
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


def _quote_all(text: str) -> str:
    return "".join(",".join(f'"{cell}"' for cell in line.split(",")) + "\n" for line in text.splitlines())


def _extra_text_column(text: str) -> str:
    lines = text.splitlines()
    out = [lines[0] + ",reviewer_note"] + [line + ',"checked, twice"' for line in lines[1:]]
    return "\n".join(out) + "\n"


ODD = {
    "utf8_bom": [transform(ARMS, _bom), transform(OUT, _bom), transform(STUDIES, _bom)],
    "windows_line_ends": [transform(ARMS, _crlf), transform(OUT, _crlf), transform(STUDIES, _crlf)],
    "quoted_fields": [transform(ARMS, _quote_all), transform(OUT, _quote_all)],
    "extra_unused_columns": [transform(ARMS, _extra_text_column), transform(OUT, _extra_text_column)],
    "blank_lines": [transform(OUT, lambda t: t.replace("\n", "\n\n", 3))],
}

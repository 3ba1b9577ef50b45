"""Read and validate a dataset folder (DESIGN.md, "Dataset folder").

:func:`read_dataset` reads every file as text (UTF-8, with or without BOM; any line
ends; quoted fields; blank lines skipped while row numbers stay those a spreadsheet
shows), checks it with the pandera schemas of :mod:`bayes_msc.data.schema`, collects
every problem of every file and raises them together as one
:class:`~bayes_msc.data.errors.InputError`, or returns the normalised
:class:`~bayes_msc.data.dataset.Dataset`. :func:`covariate_columns` and
:func:`cell_summary` describe a dataset.
"""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_msc.data import rules
from bayes_msc.data import schema as sc
from bayes_msc.data.dataset import STAT_COLUMNS, Dataset
from bayes_msc.data.errors import InputError, Problem

_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "bars"}


@dataclass
class _Table:
    """One file on its way from text to values."""

    spec: sc.FileSpec
    text: pd.DataFrame  # the cells as read: stripped text, NaN when empty; and _row
    numeric: tuple[str, ...]
    header_ok: bool = True  # no problem with the header: the row rules can run
    complete: bool = True  # header_ok and no row rejected: other files may be checked against it
    frame: pd.DataFrame | None = None  # numeric columns as float

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.text.columns[:-1])  # _row is last

    @cached_property
    def filled(self) -> pd.DataFrame:
        """True where a cell is not empty (as read: a cell that is no number counts)."""
        return self.text.drop(columns="_row").notna()

    @cached_property
    def stat_groups(self) -> pd.Series:
        return rules.stat_groups(self.filled)


# ---------------------------------------------------------------------- reading text

def _read_text(path: Path, problems: list[Problem]) -> str | None:
    """The file's text, or None (with a problem) when it is not readable UTF-8 CSV text."""
    name = path.name
    if path.is_dir():
        problems.append(Problem("is a folder; a CSV file is expected here", name))
        return None
    try:
        data = path.read_bytes()
    except OSError as err:
        problems.append(Problem(f"cannot be read ({err.strerror or err})", name))
        return None
    if data[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):
        problems.append(Problem("is a spreadsheet workbook, not CSV text; "
                                "save it as 'CSV UTF-8 (comma delimited)'", name))
        return None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        problems.append(Problem("is UTF-16 text; save it as 'CSV UTF-8 (comma delimited)'", name))
        return None
    if b"\x00" in data:
        problems.append(Problem("holds binary data (NUL bytes), not CSV text", name))
        return None
    data = data.removeprefix(b"\xef\xbb\xbf")  # the BOM Excel writes to 'CSV UTF-8'
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        problems.append(Problem(f"is not UTF-8 text (byte 0x{data[err.start]:02x} on line {line}); "
                                "save it as 'CSV UTF-8 (comma delimited)'", name, line))
        return None
    if not text.strip():
        problems.append(Problem("is empty; it needs a header row and data rows", name))
        return None
    return text


def _records(text: str, name: str, problems: list[Problem]) -> list[list[str]] | None:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    start = 1
    try:
        for record in reader:
            records.append(record)
            start = reader.line_num + 1
    except csv.Error as err:
        # Name the row where the broken record starts (where an unclosed quote opens), not
        # the line where the parser gave up, which can be the end of the file.
        problems.append(Problem(f"is not valid CSV from this row on: {err} "
                                "(a stray or unclosed quote?)", name, start))
        return None
    return records


def _header_problems(spec: sc.FileSpec, header: list[str], name: str) -> list[Problem]:
    """Missing required columns (with the closest name present), duplicates, misspellings."""
    problems = []
    derived = {"_row": "the spreadsheet row"}
    if spec is sc.OUTCOMES:
        derived["stat_group"] = "the group of statistics a row gives"
    if spec is sc.ARMS and {"female", "male"} <= set(header):
        derived["female_pct"] = "female and male"
    if spec is sc.ARMS and set(sc.KL_COLUMNS) & set(header):
        derived["kl_grade_mean"] = "the kl0 ... kl4 counts"
    for i, col in enumerate(header):
        if col in header[:i]:
            problems.append(Problem(f"column appears twice in the header (columns "
                                    f"{header.index(col) + 1} and {i + 1}); names must be unique",
                                    name, 1, col))
        elif col in derived or col.startswith("_"):
            source = f" from {derived[col]}" if col in derived else ""
            problems.append(Problem(f"the package derives this column{source}; rename or remove "
                                    "it (names starting with '_' are reserved)", name, 1, col))
    unknown = [h for h in header if h not in spec.known]
    absent = [k for k in spec.known if k not in header]
    for col in spec.required:
        if col not in header:
            close = difflib.get_close_matches(col.lower(), [h.lower() for h in unknown], n=1, cutoff=0.6)
            hint = f" (is '{unknown[[h.lower() for h in unknown].index(close[0])]}' it?)" if close else ""
            problems.append(Problem(f"required column is missing{hint}; the header has: "
                                    f"{', '.join(header)}", name, 1, col))
    # Extra columns are allowed, so a misspelt optional column would be silently unused.
    # Arm- and study-level extras are covariates: there only a case/underscore variant counts.
    loose = spec not in (sc.ARMS, sc.STUDIES)
    for col in unknown:
        squashed = col.lower().replace(" ", "_")
        match = [k for k in absent if k not in spec.required and k == squashed] or (
            difflib.get_close_matches(squashed, [k for k in absent if k not in spec.required],
                                      n=1, cutoff=0.8) if loose else [])
        if match:
            problems.append(Problem(f"unknown column: did you mean '{match[0]}'? Rename it "
                                    f"(allowed known columns: {', '.join(spec.known)})", name, 1, col))
    return problems


def _parse(text: str, spec: sc.FileSpec, problems: list[Problem]) -> pd.DataFrame | None:
    """The file's cells as stripped text (NaN when empty) with ``_row``; None when unusable."""
    name = spec.name
    records = _records(text, name, problems)
    if records is None:
        return None
    header = [h.strip() for h in records[0]] if records else []
    if not any(header):
        problems.append(Problem("row 1 is empty; the first row must be the header", name, 1))
        return None
    if len(header) == 1 and header[0] not in spec.required:
        seen = [word for sep, word in _SEPARATORS.items() if sep in header[0]]
        looks = f" (it looks separated by {seen[0]})" if seen else ""
        problems.append(Problem(f"the header has one column, '{header[0]}': is it comma-separated?"
                                f"{looks}", name, 1))
        return None
    width, rows, index = len(header), [], []
    for i, rec in enumerate(records[1:], start=2):  # i: spreadsheet row of the record
        cells = [c.strip() or None for c in rec]  # None: an empty cell (NaN in the frame)
        if not any(cells):
            continue  # blank line: skipped, row numbers keep counting
        if len(cells) != width and any(cells[width:]) or len(cells) < width:
            hint = ("a comma inside an unquoted text cell? quote it" if len(cells) > width
                    else "a missing comma?")
            problems.append(Problem(f"has {len(cells)} cells but the header has {width} columns "
                                    f"({hint})", name, i))
            continue
        rows.append(cells[:width])
        index.append(i - 2)
    text_df = pd.DataFrame(rows, columns=pd.Index(header), index=pd.Index(index, dtype="int64"), dtype=object)
    unnamed = [j for j, h in enumerate(header) if not h]
    for j in unnamed:
        if text_df.iloc[:, j].notna().any():
            problems.append(Problem(f"column {j + 1} has values but no name in the header", name, 1))
    text_df = text_df.iloc[:, [j for j in range(width) if j not in unnamed]]
    problems.extend(_header_problems(spec, list(text_df.columns), name))
    if text_df.columns.duplicated().any():
        return None
    text_df["_row"] = text_df.index + 2
    return text_df


_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
"""What a numeric cell may hold: a decimal number such as 12, -3.5, .5 or 1e-3 (ASCII digits,
no thousands separators; 'NaN' and 'inf' are not numbers: an unknown value is an empty cell)."""
_NON_FINITE = r"(?i)[+-]?(?:nan|inf|infinity)"


def _numbers(spec: sc.FileSpec, text_df: pd.DataFrame) -> pd.DataFrame:
    """The numeric columns converted to float (NaN: empty, not a number, or not finite).

    Numeric are the known numeric columns, and extra columns whose non-empty cells are at
    least half numbers ('NaN' and 'inf' count here, so that the cell rules report them);
    an extra column with no values at all counts as numeric (a covariate not filled in).
    """
    candidates = [c for c in text_df.columns[:-1] if c in spec.numeric or c not in spec.known]
    cells = text_df[candidates].stack().dropna()  # every non-empty cell, by (row, column)
    number = cells.str.fullmatch(_NUMBER).astype(bool)
    looks = (number | cells.str.fullmatch(_NON_FINITE).astype(bool)).groupby(level=1).mean()
    numeric = [c for c in candidates if c in spec.numeric or looks.get(c, 1.0) >= 0.5]
    values = cells[number].astype("float64").unstack()
    values = values.reindex(index=text_df.index, columns=numeric).astype("float64")
    return values.where(np.isfinite(values))  # 1e999 is inf: not finite


def _load(folder: Path, spec: sc.FileSpec, problems: list[Problem]) -> _Table | None:
    path = folder / spec.name
    if not path.exists():
        if spec in (sc.ARMS, sc.OUTCOMES):
            problems.append(Problem(f"required file is missing from {folder.name or folder}", spec.name))
        return None
    text = _read_text(path, problems)
    before = len(problems)
    text_df = _parse(text, spec, problems) if text is not None else None
    if text_df is None:
        return None
    header_ok = all(p.row not in (1, None) for p in problems[before:])
    numbers = _numbers(spec, text_df)
    return _Table(spec, text_df, tuple(numbers.columns), header_ok,
                  header_ok and len(problems) == before, frame=text_df.assign(**numbers))


# ----------------------------------------------------------------- cross-file rules

def _overlap_problems(arms: _Table | None, studies: _Table | None) -> list[Problem]:
    """A numeric column may come from arms.csv or studies.csv, not both (which to use?)."""
    if arms is None or studies is None:
        return []
    both = [c for c in studies.numeric if c in arms.numeric]
    return [Problem("is also a numeric column of arms.csv; a covariate must come from one file",
                    sc.STUDIES.name, 1, c) for c in both]


# -------------------------------------------------------------------- normalising

def _normalise_arms(frame: pd.DataFrame, numeric: tuple[str, ...]) -> pd.DataFrame:
    arms = frame.copy()
    arms["n"] = arms["n"].astype("int64")
    if {"female", "male"} <= set(arms.columns):
        total = arms["female"] + arms["male"]
        arms["female_pct"] = (100.0 * arms["female"] / total).where(total > 0)
    kl = [c for c in sc.KL_COLUMNS if c in numeric]
    if kl:
        counts = arms[kl]
        total = counts.sum(axis=1, min_count=1)
        grades = np.array([int(c[-1]) for c in kl], dtype=float)
        arms["kl_grade_mean"] = ((counts * grades).sum(axis=1, min_count=1) / total).where(total > 0)
    return arms[[c for c in arms.columns if c != "_row"] + ["_row"]]


def _normalise_outcomes(t: _Table, arms: pd.DataFrame) -> pd.DataFrame:
    out = t.frame.copy()
    for col in ("n", *STAT_COLUMNS, "scale_min", "scale_max"):
        if col not in out.columns:
            out[col] = np.nan
    arm_n = dict(zip(rules.join_keys(arms, ["study", "arm"]), arms["n"].astype(float), strict=True))
    out["n"] = out["n"].fillna(rules.join_keys(out, ["study", "arm"]).map(arm_n))
    kind = out["kind"] if "kind" in out.columns else pd.Series(np.nan, index=out.index, dtype="str")
    out["kind"] = kind.fillna("final")
    if "source" not in out.columns:
        out["source"] = pd.Series(np.nan, index=out.index, dtype="str")
    out["stat_group"] = pd.Series(t.stat_groups.to_numpy(), index=out.index, dtype="str")
    lead = ["study", "arm", "outcome", "month", "n", *STAT_COLUMNS, "kind", "scale_min",
            "scale_max", "source", "stat_group"]
    return out[lead + [c for c in out.columns if c not in lead and c != "_row"] + ["_row"]]


def _normalise_contrasts(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in ("se", "ci_low", "ci_high"):
        if col not in out.columns:
            out[col] = np.nan
    if "source" not in out.columns:
        out["source"] = pd.Series(np.nan, index=out.index, dtype="str")
    lead = ["study", "outcome", "month", "treatment_arm", "control_arm", "estimate", "se",
            "ci_low", "ci_high", "source"]
    return out[lead + [c for c in out.columns if c not in lead and c != "_row"] + ["_row"]]


def _normalise_published(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    parts = out["trials"].str.split(";").explode().str.strip()
    out["trials"] = parts[parts != ""].groupby(level=0).agg(";".join).reindex(out.index).astype("str")
    return out


# --------------------------------------------------------------------------- public

def read_dataset(path: str | Path) -> Dataset:
    """Read, validate and normalise a dataset folder.

    Parameters
    ----------
    path : str or Path
        Folder holding ``arms.csv`` and ``outcomes.csv`` and optionally ``studies.csv``,
        ``contrasts.csv`` and ``published_pooled.csv``.

    Returns
    -------
    Dataset
        Validated frames in the normalised form described in
        :mod:`bayes_msc.data.dataset`; ``simulated`` is True when the folder's name
        contains ``simulated``.

    Raises
    ------
    InputError
        Listing every problem found in every file (file, spreadsheet row, column, what
        is wrong and what is allowed).
    """
    folder = Path(path)
    if not folder.exists():
        raise InputError(Problem(f"dataset folder '{path}' does not exist"))
    if not folder.is_dir():
        raise InputError(Problem(f"'{path}' is a file; a dataset folder (holding arms.csv and "
                                 "outcomes.csv) is expected"))
    problems: list[Problem] = []
    tables = {spec.name: _load(folder, spec, problems) for spec in sc.SPECS}
    extra = rules.context_rules(tables)
    problems += _overlap_problems(tables[sc.ARMS.name], tables[sc.STUDIES.name])
    for spec in sc.SPECS:
        t = tables[spec.name]
        if t is None:
            continue
        if spec is sc.ARMS and t.frame.empty:
            problems.append(Problem("has no data rows; at least one arm is required", spec.name))
        if spec is sc.OUTCOMES and t.frame.empty and (tables[sc.CONTRASTS.name] is None
                                                      or tables[sc.CONTRASTS.name].frame.empty):
            problems.append(Problem("has no data rows (and there are no contrasts); at least one "
                                    "outcome row is required", spec.name))
        if t.frame.empty:
            continue
        # With a header to fix first, only the cells are judged: row rules would mislead.
        row_rules = sc.cell_rules(spec, t.text, t.frame, t.numeric) + (extra[spec.name] if t.header_ok else ())
        schema, describers = sc.file_schema(spec, t.columns, row_rules, cells_only=not t.header_ok)
        problems += sc.problems_from(sc.failure_cases(schema, t.frame), spec.name, t.frame, describers)
    if problems:
        order = {spec.name: i for i, spec in enumerate(sc.SPECS)}
        problems.sort(key=lambda p: (order.get(p.file or "", -1), p.row or 0))
        raise InputError(problems)
    for t in tables.values():
        if t is not None:  # text as pandas' str dtype (validation ran on faster object columns);
            # a plain 0..n-1 index: the source line is in _row
            text = [c for c in t.columns if c not in t.numeric]
            t.frame = t.frame.astype({c: "str" for c in text}).reset_index(drop=True)
            t.text = t.text.reset_index(drop=True)
    arms = _normalise_arms(tables[sc.ARMS.name].frame, tables[sc.ARMS.name].numeric)
    optional = {name: tables[name].frame if tables[name] is not None else None
                for name in (sc.STUDIES.name, sc.CONTRASTS.name, sc.PUBLISHED.name)}
    return Dataset(
        path=folder.resolve(),
        arms=arms,
        outcomes=_normalise_outcomes(tables[sc.OUTCOMES.name], arms),
        studies=optional[sc.STUDIES.name],
        contrasts=None if optional[sc.CONTRASTS.name] is None else _normalise_contrasts(optional[sc.CONTRASTS.name]),
        published=None if optional[sc.PUBLISHED.name] is None else _normalise_published(optional[sc.PUBLISHED.name]),
        simulated="simulated" in folder.resolve().name.lower(),
    )


def covariate_columns(ds: Dataset) -> tuple[str, ...]:
    """Numeric arm-level and study-level columns usable as covariates.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    tuple of str
        The numeric columns of ``arms`` (derived ``female_pct`` and ``kl_grade_mean``
        included), then those of ``studies``, in file order. ``study``, ``arm``, ``role``,
        ``n`` and ``_row`` are not covariates; counts such as ``female`` or ``kl3`` are.
    """
    skip = {"study", "arm", "role", "n", "_row"}
    frames = [ds.arms] + ([ds.studies] if ds.studies is not None else [])
    return tuple(c for f in frames for c in f.columns
                 if c not in skip and pd.api.types.is_float_dtype(f[c]))


def cell_summary(ds: Dataset) -> pd.DataFrame:
    """Which studies give data, and which declare it missing, in each outcome x month.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    DataFrame
        One row per outcome x month of outcomes.csv or contrasts.csv, sorted by outcome
        then month: ``outcome``, ``month`` (NaN: contrasts over a whole follow-up),
        ``n_studies`` and ``n_arms`` (with statistics), ``studies`` ('; '-joined),
        ``n_missing`` and ``missing`` (studies with a declared-missing row; a study may
        be in both lists when only some of its arms are missing), ``n_contrasts`` and
        ``contrasts`` (studies with a row in contrasts.csv).
    """
    def join(s: pd.Series) -> str:
        return "; ".join(sorted(set(s)))

    keys = ["outcome", "month"]
    out = ds.outcomes.assign(month=ds.outcomes["month"].astype(float))
    data, missing = out[out["stat_group"] != "missing"], out[out["stat_group"] == "missing"]
    parts = [
        data.groupby(keys)["study"].agg(n_studies="nunique", studies=join),
        data.groupby(keys)["arm"].size().rename("n_arms"),
        missing.groupby(keys)["study"].agg(n_missing="nunique", missing=join),
    ]
    if ds.contrasts is not None and not ds.contrasts.empty:
        parts.append(ds.contrasts.groupby(keys, dropna=False)["study"].agg(n_contrasts="nunique", contrasts=join))
    table = pd.concat(parts, axis=1).reset_index()
    for col in ("n_studies", "n_arms", "n_missing", "n_contrasts"):
        table[col] = (table[col] if col in table else pd.Series(0, index=table.index)).fillna(0).astype("int64")
    for col in ("studies", "missing", "contrasts"):
        table[col] = (table[col] if col in table else pd.Series("", index=table.index)).fillna("").astype("str")
    cols = ["outcome", "month", "n_studies", "n_arms", "studies", "n_missing", "missing",
            "n_contrasts", "contrasts"]
    return table[cols].sort_values(keys, na_position="last", kind="stable").reset_index(drop=True)

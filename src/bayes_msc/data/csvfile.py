"""One dataset file from its bytes to its cells.

:func:`read_text` checks that a file is UTF-8 CSV text (what a spreadsheet saves: with or
without BOM; a workbook, UTF-16, binary or empty file is reported as such), :func:`parse`
splits it into records with the standard library's ``csv`` reader in strict mode and puts
them in one numpy grid and a DataFrame (blank lines skipped while row numbers stay those
a spreadsheet shows; rows of the wrong width reported), and checks the header;
:func:`numbers` converts the numeric columns and :func:`cell_rules` states the rules of
single cells. Each reports what is wrong as :class:`~bayes_msc.errors.Problem` objects
naming the file, row and column; :mod:`bayes_msc.data.reader` gathers them for a whole
folder.

Why not ``pd.read_csv(dtype=str, keep_default_na=False)`` (pandas 3.1): its C parser
reads a stray quote silently (``"ctl"x`` as ``ctlx``), pads a short row with empty cells
(a missing comma goes unseen) and stops at the first long row; its Python parser is the
``csv`` module in strict mode, but drops a blank line after the header (the rows below
get the wrong numbers) and words its errors its own way. The ``csv`` reader gives every
record as written, so each problem names its spreadsheet row.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_msc.data.dataset import ARMS, CONTRASTS, KL_COLUMNS, OUTCOMES, STUDIES, FileSpec
from bayes_msc.data.schema import MESSAGES, RowRule, describe_each, render
from bayes_msc.errors import Problem
from bayes_msc.guard.limits import MAX_ABS_VALUE
from bayes_msc.guard.reading import Unreadable, read_bytes

_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "bars"}


def read_text(path: Path, problems: list[Problem]) -> str | None:
    """The text of a dataset file.

    Parameters
    ----------
    path : Path
        The file.
    problems : list of Problem
        Gets a problem when the file is not readable UTF-8 CSV text (a folder, a pipe or
        device, a dangling link or link loop, over the size limit, unreadable, a
        spreadsheet workbook, UTF-16, binary, not UTF-8, empty).

    Returns
    -------
    str or None
        The text (a UTF-8 BOM removed), or None when it is not usable.
    """
    name = path.name
    if path.is_dir():
        problems.append(Problem("is a folder; a CSV file is expected here", name))
        return None
    try:
        data = read_bytes(path)  # a regular file of bounded size only: a pipe would hang
    except Unreadable as err:
        problems.append(Problem(err.message, name))
        return None
    if data[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):
        problems.append(
            Problem("is a spreadsheet workbook, not CSV text; save it as 'CSV UTF-8 (comma delimited)'", name)
        )
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
        problems.append(
            Problem(
                f"is not UTF-8 text (byte 0x{data[err.start]:02x} on line {line}); "
                "save it as 'CSV UTF-8 (comma delimited)'",
                name,
                line,
            )
        )
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
        problems.append(Problem(f"is not valid CSV from this row on: {err} (a stray or unclosed quote?)", name, start))
        return None
    return records


def _header_problems(spec: FileSpec, header: list[str], name: str) -> list[Problem]:
    """Missing required columns (with the closest name present), duplicates, misspellings."""
    problems = []
    derived = {"_row": "the spreadsheet row"}
    if spec is OUTCOMES:
        derived["stat_group"] = "the group of statistics a row gives"
    if spec is ARMS and {"female", "male"} <= set(header):
        derived["female_pct"] = "female and male"
    if spec is ARMS and set(KL_COLUMNS) & set(header):
        derived["kl_grade_mean"] = "the kl0 ... kl4 counts"
    for i, col in enumerate(header):
        if col in header[:i]:
            problems.append(
                Problem(
                    f"column appears twice in the header (columns "
                    f"{header.index(col) + 1} and {i + 1}); names must be unique",
                    name,
                    1,
                    col,
                )
            )
        elif col in derived or col.startswith("_"):
            source = f" from {derived[col]}" if col in derived else ""
            problems.append(
                Problem(
                    f"the package derives this column{source}; rename or remove "
                    "it (names starting with '_' are reserved)",
                    name,
                    1,
                    col,
                )
            )
    unknown = [h for h in header if h not in spec.known]
    absent = [k for k in spec.known if k not in header]
    for col in spec.required:
        if col not in header:
            close = difflib.get_close_matches(col.lower(), [h.lower() for h in unknown], n=1, cutoff=0.6)
            hint = f" (is '{unknown[[h.lower() for h in unknown].index(close[0])]}' it?)" if close else ""
            problems.append(
                Problem(f"required column is missing{hint}; the header has: {', '.join(header)}", name, 1, col)
            )
    # Extra columns are allowed, so a misspelt optional column would be silently unused.
    # Arm- and study-level extras are covariates: there only a case/underscore variant counts.
    loose = spec not in (ARMS, STUDIES)
    for col in unknown:
        squashed = col.lower().replace(" ", "_")
        match = [k for k in absent if k not in spec.required and k == squashed] or (
            difflib.get_close_matches(squashed, [k for k in absent if k not in spec.required], n=1, cutoff=0.8)
            if loose
            else []
        )
        if match:
            problems.append(
                Problem(
                    f"unknown column: did you mean '{match[0]}'? Rename it "
                    f"(allowed known columns: {', '.join(spec.known)})",
                    name,
                    1,
                    col,
                )
            )
    return problems


def parse(text: str, spec: FileSpec, problems: list[Problem]) -> pd.DataFrame | None:
    """The cells of a file's text.

    Parameters
    ----------
    text : str
        The file's text (see :func:`read_text`).
    spec : FileSpec
        Which file it is.
    problems : list of Problem
        Gets the problems of the CSV syntax, the header and rows of the wrong width
        (those rows are left out).

    Returns
    -------
    DataFrame or None
        One object column per named header column, each cell stripped text or None when
        empty, and ``_row`` (the spreadsheet row); index: data row position (blank lines
        counted). None when the text is no usable CSV (then ``problems`` says why).
    """
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
        problems.append(Problem(f"the header has one column, '{header[0]}': is it comma-separated?{looks}", name, 1))
        return None
    body = records[1:]
    width = len(header)
    sizes = np.array([len(r) for r in body], dtype=int)
    wide = max(width, int(sizes.max(initial=0)))
    # One (rows x cells) grid of stripped text, short records padded with empty cells.
    grid = np.array([[c.strip() for c in r] + [""] * (wide - len(r)) for r in body], dtype=object)
    grid = grid.reshape(len(body), wide)
    filled = grid != ""
    blank = ~filled.any(axis=1)  # a blank line: skipped, row numbers keep counting
    ragged = ~blank & ((sizes < width) | filled[:, width:].any(axis=1))  # extra cells may be empty
    for i in np.flatnonzero(ragged):
        hint = "a comma inside an unquoted text cell? quote it" if sizes[i] > width else "a missing comma?"
        problems.append(Problem(f"has {sizes[i]} cells but the header has {width} columns ({hint})", name, int(i) + 2))
    keep = np.flatnonzero(~blank & ~ragged)
    cells = grid[keep, :width]
    cells[cells == ""] = None  # an empty cell
    for j, h in enumerate(header):
        if not h and filled[keep, j].any():
            problems.append(Problem(f"column {j + 1} has values but no name in the header", name, 1))
    named = [j for j, h in enumerate(header) if h]
    names = [header[j] for j in named]
    problems.extend(_header_problems(spec, names, name))
    if len(set(names)) < len(names):
        return None
    # '_row' is reserved (reported above); the frame's own _row is the spreadsheet row.
    kept = [j for j in named if header[j] != "_row"]
    text_df = pd.DataFrame(
        cells[:, kept], columns=pd.Index([header[j] for j in kept]), index=pd.Index(keep, dtype="int64"), dtype=object
    )
    text_df["_row"] = keep + 2
    return text_df


_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""What a numeric cell may hold: a decimal number such as 12, -3.5, .5 or 1e-3 (ASCII digits,
no thousands separators; 'NaN' and 'inf' are not numbers: an unknown value is an empty cell)."""
_NON_FINITE = re.compile(r"(?i)[+-]?(?:nan|inf|infinity)")


def numbers(spec: FileSpec, text_df: pd.DataFrame) -> dict[str, np.ndarray]:
    """The numeric columns of a file, converted to float.

    Numeric are the known numeric columns, and extra columns whose non-empty cells are at
    least half numbers ('NaN' and 'inf' count here, so that the cell rules report them);
    an extra column with no values at all counts as numeric (a covariate not filled in).

    Parameters
    ----------
    spec : FileSpec
        Which file it is.
    text_df : DataFrame
        Its cells (see :func:`parse`).

    Returns
    -------
    dict of str to ndarray
        Column name -> float values in file order (NaN: empty, not a number, or not
        finite), in the order of the columns.
    """
    names = [str(c) for c in text_df.columns[:-1]]  # _row is last
    candidates = [j for j, c in enumerate(names) if c not in spec.known or c in spec.numeric]
    cells = text_df.to_numpy(object)[:, candidates]
    # The filled cells through the patterns at once (one pandas call each); the few that
    # are no number are tried as 'NaN' or 'inf', so that the cell rules report them.
    present = ~pd.isna(cells)
    number, other = np.zeros(cells.shape, bool), np.zeros(cells.shape, bool)
    number[present] = pd.Series(cells[present], dtype=object).str.fullmatch(_NUMBER).to_numpy(bool)
    rest = present & ~number
    other[rest] = pd.Series(cells[rest], dtype=object).str.fullmatch(_NON_FINITE).to_numpy(bool)
    looks = number | other
    given = present.sum(axis=0)
    values = np.full(cells.shape, np.nan)
    with np.errstate(over="ignore"):
        values[number] = cells[number].astype(float)  # Python's float() of each number
    values[~np.isfinite(values)] = np.nan  # 1e999 is inf: not finite
    numeric = (given == 0) | (looks.sum(axis=0) >= 0.5 * given)
    return {names[j]: values[:, k] for k, j in enumerate(candidates) if names[j] in spec.numeric or numeric[k]}


def cell_rules(spec: FileSpec, text: pd.DataFrame, values: dict[str, np.ndarray]) -> tuple[RowRule, ...]:
    """Rules on the cells: required cells filled, numeric cells finite numbers.

    ``text`` holds the cells as read (see :func:`parse`) and ``values`` its numeric
    columns (see :func:`numbers`: NaN where a cell is empty, not a number or not finite).
    A cell that is not a number is reported as such, not again as empty; each bad cell is
    one problem.
    """
    required = [c for c in text.columns if c in spec.not_empty or (c == "source" and spec in (OUTCOMES, CONTRASTS))]
    numeric = list(values)
    index, cells = text.index, text.to_numpy(object)
    position = {c: j for j, c in enumerate(text.columns)}
    empty = pd.isna(cells[:, [position[c] for c in required]])
    converted = np.column_stack([values[c] for c in numeric]) if numeric else np.empty((len(text), 0))
    not_number = ~pd.isna(cells[:, [position[c] for c in numeric]]) & np.isnan(converted)
    with np.errstate(invalid="ignore"):
        too_large = np.abs(converted) > MAX_ABS_VALUE  # kept inside double precision downstream
    too_large[:, [j for j, c in enumerate(numeric) if c == "n"]] = False  # n has its own range (10^9)

    def rule(key: str, bad: np.ndarray, columns: list[str], message: Callable[[str, str], str]) -> RowRule:
        # bad: (rows of text) x columns, True where a cell breaks the rule
        def describe(rows: pd.DataFrame) -> pd.DataFrame:
            r, c = np.nonzero(bad[index.get_indexer(rows.index)])  # row by row, columns in order
            at, names = rows.index[r], [columns[j] for j in c]
            shown = [render(text.at[i, name]) for i, name in zip(at, names, strict=True)]
            messages = pd.Series([message(n, v) for n, v in zip(names, shown, strict=True)], index=at)
            return describe_each(messages, pd.Series(names, index=at))

        def check(df: pd.DataFrame) -> np.ndarray:
            return ~bad[index.get_indexer(df.index)].any(axis=1)

        return RowRule(key, check, (), describe)

    return (
        rule("empty", empty, required, lambda c, v: MESSAGES["source" if c == "source" else "empty"]),
        rule("number", not_number, numeric, lambda c, v: MESSAGES["number"].format(value=v)),
        rule("magnitude", too_large, numeric, lambda c, v: MESSAGES["magnitude"].format(value=v)),
    )

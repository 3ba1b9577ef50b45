"""Schemas of the dataset files and the messages of their rules.

:mod:`bayes_msc.data.reader` parses each file to text (a stripped string per cell, None
when empty), converts its numeric columns to float, and checks the result once with the
:class:`Schema` of :func:`file_schema`:

- cell rules on the text (:func:`bayes_msc.data.csvfile.cell_rules`): required cells
  are filled, the cells of numeric columns are finite numbers;
- column checks (:class:`ColumnCheck`): allowed values and ranges of single cells;
- row rules (:class:`RowRule`): cross-column rules, uniqueness, and the cross-file rules
  of :mod:`bayes_msc.data.rules` built from what the reader gathered from the other files.

Every check is vectorised over the whole file. A column check's key is one of
:data:`MESSAGES` (a template); a row rule's ``describe`` writes its messages.
:func:`check_frame` turns the failures into :class:`~bayes_msc.errors.Problem`
objects naming the file, spreadsheet row and column, what is wrong and what is allowed.
(Plain numpy and pandas rather than pandera: its import took longer than reading and
checking a dataset.)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_msc.data.dataset import ARMS, CONTRASTS, KINDS, KL_COLUMNS, OUTCOMES, ROLES, STAT_GROUPS, FileSpec
from bayes_msc.errors import Problem
from bayes_msc.guard.limits import MAX_N

Describe = Callable[[pd.DataFrame], pd.DataFrame]
"""Failing rows -> frame with ``message`` and ``column`` (same index)."""


GROUPS_TEXT = ", ".join("+".join(cols) for cols in STAT_GROUPS.values())

MESSAGES: dict[str, str] = {
    # cell and column checks: {column} and {value}
    "empty": "is empty; a value is required",
    "source": "source is empty; when a file has a source column every row needs one "
    "(table/figure/page of the publication)",
    "number": "{value} is not a finite number; allowed: a finite number, or an empty cell when unknown",
    "whole_ge1": "n is {value}; allowed: a whole number from 1 to 10^9",
    "whole_ge2": "n is {value}; allowed: a whole number from 2 to 10^9, or empty for the arm's n",
    "magnitude": "{value} is too large; allowed: a number from -1e12 to 1e12",
    "positive": "{column} is {value}; allowed: a number > 0",
    "nonnegative": "{column} is {value}; allowed: a number >= 0",
    "month": "month is {value}; allowed: a number >= 0 (0 is baseline)",
    "probability": "p_value is {value}; allowed: a number from 0 to 1, or empty",
    "role": "role is {value}; allowed: treatment, control",
    "kind": "kind is {value}; allowed: final, change, or empty (final)",
    # row checks: the row's cells by name
    "ci_order": "ci_low ({ci_low}) must be less than ci_high ({ci_high})",
    "ci_estimate": "estimate ({estimate}) lies outside its interval [{ci_low}, {ci_high}]",
    "ci_mean": "mean ({mean}) lies outside its interval [{ci_low}, {ci_high}]",
    "iqr_order": "quartiles must satisfy q1 <= median <= q3 and q1 < q3; here q1 = {q1}, median = {median}, q3 = {q3}",
    "range_order": "the range must satisfy min <= median <= max and min < max; "
    "here min = {min}, median = {median}, max = {max}",
    "scale_pair": "scale_min is {scale_min} and scale_max is {scale_max}; give both or neither",
    "scale_order": "scale_min ({scale_min}) must be less than scale_max ({scale_max})",
    "same_arm": "treatment_arm and control_arm are both {treatment_arm}; they must differ",
}
ROW_COLUMN: dict[str, str] = {
    "ci_order": "ci_low",
    "ci_estimate": "estimate",
    "ci_mean": "mean",
    "iqr_order": "median",
    "range_order": "median",
    "scale_pair": "scale_min",
    "scale_order": "scale_min",
    "same_arm": "control_arm",
}


def render(value: object) -> str:
    """A cell as a message shows it: numbers plainly, text quoted, NaN as 'empty'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "empty"
    if isinstance(value, (float, np.floating)):
        return format(float(value), ".10g")
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(str(value))


@dataclass(frozen=True)
class RowRule:
    """A row-level check: ``check(frame)`` is True on good rows (a boolean Series or array,
    one per row of the frame it was built for); ``describe`` writes the problems of the bad
    ones (``needs``: the columns it reads)."""

    key: str
    check: Callable[[pd.DataFrame], pd.Series | np.ndarray]
    needs: tuple[str, ...]
    describe: Describe


def template_rule(key: str, check: Callable[[pd.DataFrame], pd.Series], needs: tuple[str, ...]) -> RowRule:
    """A row rule whose message is :data:`MESSAGES` ``[key]`` filled with the row's cells."""

    def describe(rows: pd.DataFrame) -> pd.DataFrame:
        shown = rows[[c for c in rows.columns if c != "_row"]].map(render)
        messages = [MESSAGES[key].format_map(r) for r in shown.to_dict("records")]
        return pd.DataFrame({"message": messages, "column": ROW_COLUMN[key]}, index=rows.index)

    return RowRule(key, check, needs, describe)


def describe_each(messages: pd.Series, column: str | pd.Series | None) -> pd.DataFrame:
    """Package per-row messages (and one column or one per row) for :func:`problems_from`."""
    return pd.DataFrame({"message": messages, "column": column}, index=messages.index)


def _ordered(low: str, high: str) -> Callable[[pd.DataFrame], pd.Series]:
    def check(df: pd.DataFrame) -> pd.Series:
        lo, hi = df[low].to_numpy(float), df[high].to_numpy(float)
        return pd.Series(np.isnan(lo) | np.isnan(hi) | (lo < hi), index=df.index)

    return check


def _between(low: str, mid: str, high: str, strict_width: bool = True) -> Callable[[pd.DataFrame], pd.Series]:
    """low <= mid <= high, and low < high when ``strict_width``; otherwise a reversed
    interval passes here (the check of the interval itself reports it)."""

    def check(df: pd.DataFrame) -> pd.Series:
        lo, x, hi = (df[c].to_numpy(float) for c in (low, mid, high))
        ok = (lo <= x) & (x <= hi)
        ok = ok & (lo < hi) if strict_width else ok | (lo >= hi)
        return pd.Series(ok | np.isnan(lo) | np.isnan(x) | np.isnan(hi), index=df.index)

    return check


_ON_SCALE = ("mean", "median", "q1", "q3", "min", "max")


def _matrix(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The float values of ``columns`` as (rows x columns); column by column, because
    selecting a column subset of a DataFrame costs far more on small frames."""
    if not columns:
        return np.empty((len(df), 0))
    return np.column_stack([df[c].to_numpy(float) for c in columns])


def _off_scale(df: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """(rows x statistics) True where a statistic lies off the row's scale, and their names.

    A final value must lie on [scale_min, scale_max], a change within +/- the scale's
    width. Rows without a valid scale are not judged (scale_pair/scale_order report them).
    """
    names = [c for c in _ON_SCALE if c in df]
    smin, smax = df["scale_min"].to_numpy(float), df["scale_max"].to_numpy(float)
    width = np.where(smax > smin, smax - smin, np.nan)
    change = df["kind"].eq("change").to_numpy(bool) if "kind" in df else np.zeros(len(df), bool)
    low, high = np.where(change, -width, smin)[:, None], np.where(change, width, smax)[:, None]
    values = _matrix(df, names)
    with np.errstate(invalid="ignore"):
        return ((values < low) | (values > high)) & ~np.isnan(width)[:, None], names


def _describe_off_scale(rows: pd.DataFrame) -> pd.DataFrame:
    bad, names = _off_scale(rows)
    off = pd.Series([", ".join(np.array(names)[b]) for b in bad], index=rows.index)
    messages = (
        off
        + " outside the scale ["
        + rows["scale_min"].map(render)
        + ", "
        + rows["scale_max"].map(render)
        + "]; allowed: values on the scale "
        "(a change: within +/- the scale's width)"
    )
    return describe_each(messages, off.str.split(",").str[0])


def is_empty(value: object) -> bool:
    """An empty cell: None as read, NaN after a conversion."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _unique(keys: tuple[str, ...]) -> RowRule:
    def check(df: pd.DataFrame) -> np.ndarray:
        # Tuples counted in a dict: cheaper than DataFrame.duplicated on small files. As
        # there, all empty cells of a column are one value.
        rows = list(zip(*([None if is_empty(v) else v for v in df[k].tolist()] for k in keys), strict=True))
        seen = Counter(rows)
        return np.array([seen[r] == 1 for r in rows], dtype=bool)

    def describe(rows: pd.DataFrame) -> pd.DataFrame:
        key_text = rows[list(keys)].map(render).agg(", ".join, axis=1)
        listing = rows["_row"].astype(str).groupby(key_text.to_numpy()).transform(", ".join)
        messages = f"duplicate ({', '.join(keys)}) = (" + key_text + "), on rows " + listing + "; each must appear once"
        return describe_each(messages, keys[-1])

    return RowRule("duplicate", check, keys, describe)


# ------------------------------------------------------------------------- schemas


@dataclass(frozen=True)
class ColumnCheck:
    """A check of single cells: ``ok(values)`` is True where a non-empty value is allowed.

    ``values`` is the column as a numpy array (float, or object for text); ``key`` names
    the message template of :data:`MESSAGES`; empty cells are not judged.
    """

    key: str
    ok: Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Schema:
    """The checks of one file: column checks by column name, then row rules, in order."""

    columns: dict[str, ColumnCheck]
    rules: tuple[RowRule, ...]


def _column_checks(spec: FileSpec) -> dict[str, ColumnCheck]:
    positive = ColumnCheck("positive", lambda s: s > 0)
    nonneg = ColumnCheck("nonnegative", lambda s: s >= 0)
    minimum = 1 if spec is ARMS else 2
    return {
        "role": ColumnCheck("role", lambda s: np.array([v in ROLES for v in s], dtype=bool)),
        "kind": ColumnCheck("kind", lambda s: np.array([v in KINDS for v in s], dtype=bool)),
        "month": ColumnCheck("month", lambda s: s >= 0),
        "sd": positive,
        "se": positive,
        "female": nonneg,
        "male": nonneg,
        **dict.fromkeys(KL_COLUMNS, nonneg),
        "p_value": ColumnCheck("probability", lambda s: (s >= 0) & (s <= 1)),
        "n": ColumnCheck(f"whole_ge{minimum}", lambda s: (s % 1 == 0) & (s >= minimum) & (s <= MAX_N)),
    }


_ON_NUMBERS = frozenset({"ci_order", "ci_mean", "ci_estimate", "iqr_order", "range_order", "scale_order", "on_scale"})
"""Row rules that compare values: they apply only where the columns they need are numeric."""


def file_schema(
    spec: FileSpec,
    columns: tuple[str, ...],
    extra: tuple[RowRule, ...] = (),
    cells_only: bool = False,
    numeric: tuple[str, ...] | None = None,
) -> Schema:
    """The schema of one file: the checks of ``spec`` its present ``columns`` allow, plus
    ``extra`` row rules (cell rules, cross-file rules). With ``cells_only`` (a header to fix
    first) only the ``extra`` rules run.

    Parameters
    ----------
    spec : FileSpec
        The file.
    columns : tuple of str
        The columns the file has.
    extra : tuple of RowRule
        Rules to run after the file's own rules.
    cells_only : bool
        Run only ``extra``.
    numeric : tuple of str, optional
        The file's numeric columns (default: all). An extra text column that happens to
        share a statistic's name (a label 'mean' in contrasts.csv) is not compared.

    Returns
    -------
    Schema
    """
    if cells_only:
        return Schema({}, tuple(extra))
    rules = [
        template_rule("ci_order", _ordered("ci_low", "ci_high"), ("ci_low", "ci_high")),
        template_rule("ci_mean", _between("ci_low", "mean", "ci_high", False), ("ci_low", "mean", "ci_high")),
        template_rule(
            "ci_estimate", _between("ci_low", "estimate", "ci_high", False), ("ci_low", "estimate", "ci_high")
        ),
        template_rule("iqr_order", _between("q1", "median", "q3"), ("q1", "median", "q3")),
        template_rule("range_order", _between("min", "median", "max"), ("min", "median", "max")),
        template_rule(
            "scale_pair", lambda df: df["scale_min"].isna() == df["scale_max"].isna(), ("scale_min", "scale_max")
        ),
        template_rule("scale_order", _ordered("scale_min", "scale_max"), ("scale_min", "scale_max")),
        *extra,
    ]
    if spec is OUTCOMES:
        rules.append(
            RowRule(
                "on_scale",
                lambda df: pd.Series(~_off_scale(df)[0].any(axis=1), index=df.index),
                ("scale_min", "scale_max"),
                _describe_off_scale,
            )
        )
    if spec is CONTRASTS:
        rules.append(
            template_rule(
                "same_arm",
                lambda df: df["treatment_arm"].isna() | (df["treatment_arm"] != df["control_arm"]),
                ("treatment_arm", "control_arm"),
            )
        )
    if spec.key:
        rules.append(_unique(spec.key))
    checks = _column_checks(spec)
    own = {c for c in spec.known if c in checks}
    numbers = set(columns if numeric is None else numeric)
    return Schema(
        {name: checks[name] for name in columns if name in own},
        tuple(
            r for r in rules if set(r.needs) <= set(columns) and (r.key not in _ON_NUMBERS or set(r.needs) <= numbers)
        ),
    )


def check_frame(schema: Schema, frame: pd.DataFrame, file: str) -> list[Problem]:
    """Every problem ``schema`` finds in ``frame`` (a frame with a ``_row`` column).

    Column checks come first (column by column, rows in file order), then the row rules
    in the schema's order; a row rule's ``describe`` may give several problems for one
    row (one per bad cell). A check that raised (a bug in a check, not bad input) is
    re-raised as a RuntimeError, not reported.
    """
    problems: list[Problem] = []
    rows = frame["_row"]
    for column, check in schema.columns.items():
        values = frame[column].to_numpy()
        # An empty cell fails no column check (whether it may be empty is a cell rule).
        with np.errstate(invalid="ignore"):
            bad = ~pd.isna(values) & ~np.asarray(check.ok(values), dtype=bool)
        for i in np.flatnonzero(bad):
            message = MESSAGES[check.key].format(column=column, value=render(values[i]))
            problems.append(Problem(message, file, int(rows.iloc[i]), column))
    for rule in schema.rules:
        try:
            bad = ~np.asarray(rule.check(frame), dtype=bool)
        except Exception as err:
            raise RuntimeError(f"a validation check failed to run: {rule.key}: {err!r}") from err
        if not bad.any():
            continue
        found = rule.describe(frame[bad])
        for row, message, column in zip(rows.reindex(found.index), found["message"], found["column"], strict=True):
            problems.append(Problem(str(message), file, int(row), None if pd.isna(column) else str(column)))
    return problems

"""Pandera schemas of the dataset files and the messages of their rules.

:mod:`bayes_msc.data.reader` parses each file to text (a stripped string per cell, NaN
when empty), converts its numeric columns to float, and validates the result once with
:func:`file_schema`:

- cell rules on the text (:func:`cell_rules`): required cells are filled, the cells of
  numeric columns are finite numbers;
- column checks: allowed values and ranges (pandera ``Column`` checks);
- row rules (pandera "wide" checks, :class:`RowRule`): cross-column rules, uniqueness,
  and the cross-file rules built at the end of this module from what the reader gathered
  from the other files.

Every pandera check's ``error`` is a key: of :data:`MESSAGES` (a template) or of a
:class:`RowRule`, whose ``describe`` writes the messages. :func:`problems_from` turns
pandera's failure cases into :class:`~bayes_msc.data.errors.Problem` objects naming the
file, spreadsheet row and column, what is wrong and what is allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from bayes_msc.data.dataset import KINDS, ROLES, STAT_COLUMNS, STAT_GROUPS
from bayes_msc.data.errors import Problem

Describe = Callable[[pd.DataFrame], pd.DataFrame]
"""Failing rows -> frame with ``message`` and ``column`` (same index)."""


@dataclass(frozen=True)
class FileSpec:
    """The known columns of one dataset file."""

    name: str
    required: tuple[str, ...]
    numeric: tuple[str, ...]
    text: tuple[str, ...]
    not_empty: tuple[str, ...]
    key: tuple[str, ...] = ()

    @property
    def known(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.required + self.numeric + self.text))


KL_COLUMNS = ("kl0", "kl1", "kl2", "kl3", "kl4")
ARMS = FileSpec("arms.csv", ("study", "arm", "role", "n"), ("n", "female", "male", *KL_COLUMNS),
                ("study", "arm", "role"), ("study", "arm", "role", "n"), ("study", "arm"))
OUTCOMES = FileSpec("outcomes.csv", ("study", "arm", "outcome", "month"),
                    ("month", "n", *STAT_COLUMNS, "scale_min", "scale_max"),
                    ("study", "arm", "outcome", "kind", "source"),
                    ("study", "arm", "outcome", "month"), ("study", "arm", "outcome", "month"))
CONTRASTS = FileSpec("contrasts.csv",
                     ("study", "outcome", "month", "treatment_arm", "control_arm", "estimate"),
                     ("month", "estimate", "se", "ci_low", "ci_high"),
                     ("study", "outcome", "treatment_arm", "control_arm", "source"),
                     ("study", "outcome", "treatment_arm", "control_arm", "estimate"),
                     ("study", "outcome", "month", "treatment_arm", "control_arm"))
STUDIES = FileSpec("studies.csv", ("study",), (), ("study",), ("study",), ("study",))
PUBLISHED = FileSpec("published_pooled.csv",
                     ("outcome", "month", "estimate", "ci_low", "ci_high", "p_value", "p_text",
                      "trials", "source"),
                     ("month", "estimate", "ci_low", "ci_high", "p_value"),
                     ("outcome", "p_text", "trials", "source"),
                     ("outcome", "month", "estimate", "ci_low", "ci_high", "trials", "source"))
SPECS = (ARMS, OUTCOMES, CONTRASTS, STUDIES, PUBLISHED)

GROUPS_TEXT = ", ".join("+".join(cols) for cols in STAT_GROUPS.values())

MESSAGES: dict[str, str] = {
    # cell and column checks: {column} and {value}
    "empty": "is empty; a value is required",
    "source": "source is empty; when a file has a source column every row needs one "
              "(table/figure/page of the publication)",
    "number": "{value} is not a finite number; allowed: a finite number, or an empty cell when unknown",
    "whole_ge1": "n is {value}; allowed: a whole number >= 1",
    "whole_ge2": "n is {value}; allowed: a whole number >= 2, or empty for the arm's n",
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
    "iqr_order": "quartiles must satisfy q1 <= median <= q3 and q1 < q3; "
                 "here q1 = {q1}, median = {median}, q3 = {q3}",
    "range_order": "the range must satisfy min <= median <= max and min < max; "
                   "here min = {min}, median = {median}, max = {max}",
    "scale_pair": "scale_min is {scale_min} and scale_max is {scale_max}; give both or neither",
    "scale_order": "scale_min ({scale_min}) must be less than scale_max ({scale_max})",
    "same_arm": "treatment_arm and control_arm are both {treatment_arm}; they must differ",
}
ROW_COLUMN: dict[str, str] = {
    "ci_order": "ci_low", "ci_estimate": "estimate", "ci_mean": "mean", "iqr_order": "median",
    "range_order": "median", "scale_pair": "scale_min", "scale_order": "scale_min",
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
    """A row-level (pandera "wide") check: ``check(frame)`` is True on good rows."""

    key: str
    check: Callable[[pd.DataFrame], pd.Series]
    needs: tuple[str, ...] = ()
    describe: Describe | None = None


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
    values = df[names].to_numpy(float)
    with np.errstate(invalid="ignore"):
        return ((values < low) | (values > high)) & ~np.isnan(width)[:, None], names


def _describe_off_scale(rows: pd.DataFrame) -> pd.DataFrame:
    bad, names = _off_scale(rows)
    off = pd.Series([", ".join(np.array(names)[b]) for b in bad], index=rows.index)
    messages = (off + " outside the scale [" + rows["scale_min"].map(render) + ", "
                + rows["scale_max"].map(render) + "]; allowed: values on the scale "
                "(a change: within +/- the scale's width)")
    return describe_each(messages, off.str.split(",").str[0])


def _unique(keys: tuple[str, ...]) -> RowRule:
    def check(df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(list(keys), keep=False)

    def describe(rows: pd.DataFrame) -> pd.DataFrame:
        key_text = rows[list(keys)].map(render).agg(", ".join, axis=1)
        listing = rows["_row"].astype(str).groupby(key_text.to_numpy()).transform(", ".join)
        messages = (f"duplicate ({', '.join(keys)}) = (" + key_text + "), on rows " + listing
                    + "; each must appear once")
        return describe_each(messages, keys[-1])

    return RowRule("duplicate", check, keys, describe)


# ------------------------------------------------------------------------- schemas

def cell_rules(spec: FileSpec, text: pd.DataFrame, values: pd.DataFrame,
               numeric: tuple[str, ...]) -> tuple[RowRule, ...]:
    """Rules on the cells: required cells filled, numeric cells finite numbers.

    ``text`` holds the cells as read and ``values`` the same frame with the ``numeric``
    columns converted (NaN where a cell is empty, not a number or not finite). A cell that
    is not a number is reported as such, not again as empty; each bad cell is one problem.
    """
    required = [c for c in text.columns
                if c in spec.not_empty or (c == "source" and spec in (OUTCOMES, CONTRASTS))]
    numbers = list(numeric)
    empty = text[required].isna()
    not_number = text[numbers].notna() & values[numbers].isna()

    def rule(key: str, bad: pd.DataFrame, message: Callable[[str, pd.Series], pd.Series]) -> RowRule:
        def describe(rows: pd.DataFrame) -> pd.DataFrame:
            cells = bad.loc[rows.index].stack()
            cells = cells[cells.to_numpy(bool)]
            index, columns = cells.index.get_level_values(0), cells.index.get_level_values(1)
            shown = pd.Series([render(text.at[i, c]) for i, c in zip(index, columns, strict=True)], index=index)
            messages = pd.Series([message(c, v) for c, v in zip(columns, shown, strict=True)], index=index)
            return describe_each(messages, pd.Series(list(columns), index=index))
        return RowRule(key, lambda df: ~bad.loc[df.index].any(axis=1), (), describe)

    return (rule("empty", empty, lambda c, v: MESSAGES["source" if c == "source" else "empty"]),
            rule("number", not_number, lambda c, v: MESSAGES["number"].format(value=v)))


def file_schema(spec: FileSpec, columns: tuple[str, ...], extra: tuple[RowRule, ...] = (),
                cells_only: bool = False) -> tuple[pa.DataFrameSchema, dict[str, Describe]]:
    """The schema of one file: the checks of ``spec`` its present ``columns`` allow, plus
    ``extra`` row rules (cell rules, cross-file rules). With ``cells_only`` (a header to fix
    first) only the ``extra`` rules run.

    Returns the schema and, by check key, the message function of every row rule.
    """
    positive, nonneg = pa.Check.gt(0, error="positive"), pa.Check.ge(0, error="nonnegative")
    minimum = 1 if spec is ARMS else 2
    checks: dict[str, list[pa.Check]] = {
        "role": [pa.Check.isin(ROLES, error="role")],
        "kind": [pa.Check.isin(KINDS, error="kind")],
        "month": [pa.Check.ge(0, error="month")],
        "sd": [positive], "se": [positive], "female": [nonneg], "male": [nonneg],
        **{k: [nonneg] for k in KL_COLUMNS},
        "p_value": [pa.Check.in_range(0, 1, error="probability")],
        "n": [pa.Check(lambda s: (s % 1 == 0) & (s >= minimum), error=f"whole_ge{minimum}")],
    }
    own = {c for c in spec.known if c in checks}
    rules = [
        template_rule("ci_order", _ordered("ci_low", "ci_high"), ("ci_low", "ci_high")),
        template_rule("ci_mean", _between("ci_low", "mean", "ci_high", False), ("ci_low", "mean", "ci_high")),
        template_rule("ci_estimate", _between("ci_low", "estimate", "ci_high", False),
                      ("ci_low", "estimate", "ci_high")),
        template_rule("iqr_order", _between("q1", "median", "q3"), ("q1", "median", "q3")),
        template_rule("range_order", _between("min", "median", "max"), ("min", "median", "max")),
        template_rule("scale_pair", lambda df: df["scale_min"].isna() == df["scale_max"].isna(),
                      ("scale_min", "scale_max")),
        template_rule("scale_order", _ordered("scale_min", "scale_max"), ("scale_min", "scale_max")),
        *extra,
    ]
    if spec is OUTCOMES:
        rules.append(RowRule("on_scale", lambda df: pd.Series(~_off_scale(df)[0].any(axis=1), index=df.index),
                             ("scale_min", "scale_max"), _describe_off_scale))
    if spec is CONTRASTS:
        rules.append(template_rule("same_arm", lambda df: df["treatment_arm"].isna()
                                   | (df["treatment_arm"] != df["control_arm"]),
                                   ("treatment_arm", "control_arm")))
    if spec.key:
        rules.append(_unique(spec.key))
    usable = list(extra) if cells_only else [r for r in rules if set(r.needs) <= set(columns)]
    schema = pa.DataFrameSchema(
        {name: pa.Column(checks=checks[name], nullable=True, required=False)
         for name in columns if name in own and not cells_only},
        checks=[pa.Check(r.check, error=r.key, ignore_na=False) for r in usable], strict=False)
    return schema, {r.key: r.describe for r in usable if r.describe is not None}


def failure_cases(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """Run ``schema`` lazily and return pandera's failure cases (empty when all is well).

    A check that raised (a bug in a check, not bad input) is re-raised, not reported.
    """
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        crashed = cases[cases["index"].isna()]
        if len(crashed):
            raise RuntimeError(f"a validation check failed to run: {crashed.iloc[0].to_dict()}") from err
        return cases
    return pd.DataFrame(columns=["column", "check", "failure_case", "index"])


def problems_from(cases: pd.DataFrame, file: str, frame: pd.DataFrame,
                  describers: dict[str, Describe] | None = None) -> list[Problem]:
    """Problems of pandera ``cases`` on ``frame`` (a frame with a ``_row`` column).

    A row rule's ``describe`` may give several problems for one row (one per bad cell).
    """
    if cases.empty:
        return []
    describers = describers or {}
    problems: list[Problem] = []
    is_row = cases["check"].isin(list(describers))
    cells = cases[~is_row].drop_duplicates(["check", "column", "index"])
    for case in cells.itertuples(index=False):
        message = MESSAGES[case.check].format(column=case.column, value=render(case.failure_case))
        problems.append(Problem(message, file, int(frame.at[case.index, "_row"]), case.column))
    for key, group in cases[is_row].drop_duplicates(["check", "index"]).groupby("check", sort=False):
        found = describers[key](frame.loc[pd.Index(group["index"].tolist())])
        rows = frame["_row"].reindex(found.index)
        for row, message, column in zip(rows, found["message"], found["column"], strict=True):
            problems.append(Problem(str(message), file, int(row), None if pd.isna(column) else str(column)))
    return problems

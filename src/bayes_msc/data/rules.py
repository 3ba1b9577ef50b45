"""Row rules judged on whole files: statistics groups, and references between files.

Each factory takes what the reader gathered (the fill pattern of a file's cells, arms.csv's
arms and roles, the studies listed) and returns a :class:`~bayes_msc.data.schema.RowRule`
for :func:`~bayes_msc.data.schema.file_schema`: a check that is True on good rows
and a ``describe`` function that writes the problems of the bad ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Protocol

import numpy as np
import pandas as pd

from bayes_msc.data.dataset import (
    ARMS,
    CONTRASTS,
    OUTCOMES,
    PUBLISHED,
    ROLES,
    SPECS,
    STAT_COLUMNS,
    STAT_GROUPS,
    STUDIES,
)
from bayes_msc.data.schema import GROUPS_TEXT, RowRule, describe_each, is_empty, render

Cell = str | float | None
"""A text cell as read: str, or None/NaN when empty."""
Key = tuple[Cell, Cell]
"""(study, arm) of one row; either cell may be empty."""


class Table(Protocol):
    """What the rules read of a file (the reader's table of one file)."""

    text: pd.DataFrame  # the cells as read (None when empty), and _row
    frame: pd.DataFrame  # numeric columns as float
    complete: bool  # a clean header and no rejected row

    @property
    def columns(self) -> tuple[str, ...]: ...
    @property
    def filled(self) -> pd.DataFrame: ...  # True where a cell is not empty
    @property
    def stat_groups(self) -> pd.Series: ...  # outcomes.csv: each row's statistics group


# ------------------------------------------------------------------ statistics groups


def _fill_codes(filled: pd.DataFrame) -> pd.Series:
    """Each row's fill pattern over :data:`STAT_COLUMNS` as one integer (bit i: column i given)."""
    bits = filled.reindex(columns=list(STAT_COLUMNS), fill_value=False).to_numpy(bool)
    return pd.Series(bits @ (1 << np.arange(len(STAT_COLUMNS))), index=filled.index)


def _group_of(code: int) -> tuple[str, str, str | None]:
    """(group, message when invalid, column to name) of one fill pattern."""
    given = [c for i, c in enumerate(STAT_COLUMNS) if code >> i & 1]
    if not given:
        return "missing", "", None
    complete = [g for g, cols in STAT_GROUPS.items() if set(cols) <= set(given)]
    allowed = (
        f"allowed: exactly one group of {GROUPS_TEXT}, or every statistic empty "
        "to declare a value that was measured but is unknown here"
    )
    if len(complete) == 1 and set(STAT_GROUPS[complete[0]]) == set(given):
        return complete[0], "", None
    if len(complete) > 1:
        groups = " and ".join("+".join(STAT_GROUPS[g]) for g in complete)
        return "", f"more than one group of statistics ({groups}); {allowed}", given[0]
    if complete:
        extra = [c for c in given if c not in STAT_GROUPS[complete[0]]]
        return (
            "",
            (f"{', '.join(extra)} given beside the complete group {'+'.join(STAT_GROUPS[complete[0]])}; {allowed}"),
            extra[0],
        )
    wanting = [[c for c in cols if c not in given] for cols in STAT_GROUPS.values() if set(given) <= set(cols)]
    if not wanting:
        return "", f"{', '.join(given)} do not form one group of statistics; {allowed}", given[0]
    options = " or ".join("+".join(w) for w in wanting)
    return "", (f"incomplete statistics: {', '.join(given)} given without {options}; {allowed}"), wanting[0][0]


def _judge(filled: pd.DataFrame) -> pd.DataFrame:
    """``group``, ``message``, ``column`` of every row (computed once per distinct pattern)."""
    codes = _fill_codes(filled)
    verdicts = pd.DataFrame(
        [_group_of(int(c)) for c in codes.unique()],
        index=codes.unique(),
        columns=["group", "message", "column"],
        dtype=object,
    )
    return verdicts.reindex(codes.to_numpy()).set_axis(filled.index)


def stat_groups(filled: pd.DataFrame) -> pd.Series:
    """The statistics group each outcomes row gives.

    ``filled`` is True where a statistic cell is not empty. The result is a key of
    :data:`STAT_GROUPS`, ``"missing"`` where every statistic is empty (a declared missing
    value) or ``""`` where the row is invalid (see :func:`stat_group_rule`).
    """
    return _judge(filled)["group"].astype(object)


def stat_group_rule(filled: pd.DataFrame) -> RowRule:
    """Exactly one complete group per outcomes row (judged on the text: a non-number counts as given)."""
    verdicts = _judge(filled)

    def describe(rows: pd.DataFrame) -> pd.DataFrame:
        found = verdicts.loc[rows.index]
        return describe_each(found["message"], found["column"])

    return RowRule("stat_group", lambda df: verdicts.loc[df.index, "group"] != "", (), describe)


def contrast_stat_rule(filled: pd.DataFrame) -> RowRule:
    """A contrast gives se, or ci_low and ci_high: exactly one of the two."""
    f = filled.reindex(columns=["se", "ci_low", "ci_high"], fill_value=False)
    both_ci = f["ci_low"] & f["ci_high"]
    ok = (f["se"] != both_ci) & (f["ci_low"] == f["ci_high"])
    allowed = "allowed: se, or ci_low and ci_high (exactly one of the two)"
    message = pd.Series(
        np.select(
            [f["se"] & both_ci, f["ci_low"] != f["ci_high"]],
            [f"both se and ci_low+ci_high given; {allowed}", "only one of ci_low and ci_high given; " + allowed],
            f"no se and no ci_low+ci_high; {allowed}",
        ),
        index=f.index,
        dtype=object,
    )
    column = pd.Series(
        np.where(f["ci_low"] == f["ci_high"], "se", np.where(f["ci_low"], "ci_high", "ci_low")),
        index=f.index,
        dtype=object,
    )

    def describe(rows: pd.DataFrame) -> pd.DataFrame:
        return describe_each(message.loc[rows.index], column.loc[rows.index])

    return RowRule("se_or_ci", lambda df: ok.loc[df.index], (), describe)


# ---------------------------------------------------------------- cross-file rules


def join_keys(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    """One text key per row from ``cols`` (NaN where one is empty), for fast look-ups."""
    key = df[cols[0]].astype(object)
    for col in cols[1:]:
        key = key + "\x1f" + df[col].astype(object)
    return key


def _pairs(df: pd.DataFrame, first: str, second: str) -> list[Key]:
    # Plain tuples and dict look-ups: cheaper than pandas string joins on files of this size.
    return list(zip(df[first].tolist(), df[second].tolist(), strict=True))


def _first_seen(values: list) -> np.ndarray:
    """True where a value appears for the first time (what ``~duplicated()`` gives)."""
    seen: set = set()
    first = np.empty(len(values), dtype=bool)
    for i, value in enumerate(values):
        key = None if is_empty(value) else value  # all empty cells are one value, as in pandas
        first[i] = key not in seen
        seen.add(key)
    return first


def roles_rule(arms: pd.DataFrame) -> RowRule:
    """arms.csv: every study has a treatment and a control arm (named on its first row)."""
    study = ["" if is_empty(s) else s for s in arms["study"].tolist()]
    roles = arms["role"].tolist()
    found: dict[str, set] = {}
    for s, r in zip(study, roles, strict=True):
        # A study with an invalid role is reported for that role, not again for what it lacks.
        found.setdefault(s, set()).add(r if r in ROLES else None)
    t = np.array([ROLES[0] in found[s] for s in study], dtype=bool)
    c = np.array([ROLES[1] in found[s] for s in study], dtype=bool)
    unclear = np.array([None in found[s] for s in study], dtype=bool)
    lacking = pd.Series(
        np.select([~t & ~c, ~t, ~c], ["treatment arm and no control arm", "treatment arm", "control arm"], ""),
        index=arms.index,
        dtype=object,
    )
    ok = pd.Series(
        ~_first_seen(arms["study"].tolist())
        | arms["study"].isna().to_numpy(bool)
        | unclear
        | (lacking == "").to_numpy(bool),
        index=arms.index,
    )

    def describe(rows: pd.DataFrame) -> pd.DataFrame:
        return describe_each(
            "study "
            + rows["study"].map(render)
            + " has no "
            + lacking.loc[rows.index]
            + "; every study needs at least one "
            "treatment and one control arm",
            "role",
        )

    return RowRule("roles", lambda df: ok.loc[df.index], ("study", "role"), describe)


def arm_rule(arm_roles: Mapping[Key, str], column: str = "arm", role: str | None = None) -> RowRule:
    """(study, ``column``) is an arm of arms.csv (with ``role`` when given).

    ``arm_roles`` maps each (study, arm) of arms.csv to its role, in file order.
    """
    lookup = arm_roles

    def found(df: pd.DataFrame) -> pd.Series:
        return pd.Series([lookup.get(k) for k in _pairs(df, "study", column)], index=df.index, dtype=object)

    def good(key: Key) -> bool:
        if is_empty(key[0]) or is_empty(key[1]):
            return True  # an empty cell is reported as such
        have = lookup.get(key)
        return have is not None and (role is None or have == role or have not in ROLES)

    def check(df: pd.DataFrame) -> np.ndarray:
        return np.array([good(k) for k in _pairs(df, "study", column)], dtype=bool)

    def describe(rows: pd.DataFrame) -> pd.DataFrame:
        have, studies = found(rows), {s for s, _ in arm_roles}
        listing: dict[Cell, list[str]] = {}
        for s, a in arm_roles:
            listing.setdefault(s, []).append(repr(a))
        arms_of = {s: ", ".join(a) for s, a in listing.items()}
        messages = np.where(
            ~rows["study"].isin(studies),
            "study " + rows["study"].map(render) + " is not in arms.csv; allowed: studies of arms.csv",
            np.where(
                have.isna(),
                f"{column} "
                + rows[column].map(render)
                + " is not an arm of study "
                + rows["study"].map(render)
                + " in arms.csv; allowed: "
                + rows["study"].map(arms_of).fillna("").astype(str),
                f"{column} "
                + rows[column].map(render)
                + " has role "
                + have.map(render)
                + f" in arms.csv; allowed: an arm with role {role}",
            ),
        )
        cols = np.where(~rows["study"].isin(studies), "study", column)
        return describe_each(pd.Series(messages, index=rows.index), pd.Series(cols, index=rows.index))

    key = {None: "arm_known", "treatment": "treatment_arm", "control": "control_arm"}[role]
    return RowRule(key, check, ("study", column), describe)


def n_used_rule(used: Mapping[Key, str]) -> RowRule:
    """arms.csv: n >= 2 wherever an outcome takes the arm's n.

    ``used`` lists, by (study, arm), the outcomes.csv rows that have statistics but no n
    (their row numbers joined by ', ').
    """
    lookup = used

    def check(df: pd.DataFrame) -> np.ndarray:
        return df["n"].ne(1).to_numpy(bool) | np.array(
            [k not in lookup for k in _pairs(df, "study", "arm")], dtype=bool
        )

    def describe(rows: pd.DataFrame) -> pd.DataFrame:
        listing = [lookup[k] for k in _pairs(rows, "study", "arm")]
        messages = [
            f"n is 1 and outcomes.csv rows {r} use it (their n is empty)"
            if "," in r
            else f"n is 1 and outcomes.csv row {r} uses it (its n is empty)"
            for r in listing
        ]
        allowed = "; allowed: n >= 2 where outcomes use the arm's n, or an n on those outcomes rows"
        return describe_each(pd.Series(messages, index=rows.index, dtype=object) + allowed, "n")

    return RowRule("n_used", check, ("study", "arm", "n"), describe)


def listed_rule(studies: AbstractSet[Cell], key: str, message: str) -> RowRule:
    """``study`` is one of ``studies`` (message: '{study} ...' continues the study's name)."""

    def check(df: pd.DataFrame) -> np.ndarray:
        study = df["study"].tolist()
        return ~_first_seen(study) | np.array([is_empty(s) or s in studies for s in study], dtype=bool)

    def describe(rows: pd.DataFrame) -> pd.DataFrame:
        return describe_each("study " + rows["study"].map(render) + " " + message, "study")

    return RowRule(key, check, ("study",), describe)


def trials_rule(studies: AbstractSet[Cell]) -> RowRule:
    """published_pooled.csv: ``trials`` lists known study ids separated by ';'."""

    def unknown(df: pd.DataFrame) -> pd.Series:
        return pd.Series(
            [
                ", ".join(
                    repr(p)
                    for p in (part.strip() for part in ("" if is_empty(t) else t).split(";"))
                    if p and p not in studies
                )
                for t in df["trials"].tolist()
            ],
            index=df.index,
            dtype=object,
        )

    def describe(rows: pd.DataFrame) -> pd.DataFrame:
        return describe_each(
            "trials lists " + unknown(rows) + ", not studies of arms.csv; "
            "allowed: study ids of arms.csv separated by ';'",
            "trials",
        )

    return RowRule("trials", lambda df: unknown(df) == "", ("trials",), describe)


def context_rules(t: Mapping[str, Table | None]) -> dict[str, tuple[RowRule, ...]]:
    """The whole-file and cross-file row rules of each file, by file name.

    ``t`` maps each file name of :data:`~bayes_msc.data.schema.SPECS` to its table (None
    when absent or unreadable). A file with rejected rows or empty key cells is not used
    to judge the others.
    """

    def usable(table: Table | None, keys: tuple[str, ...]) -> Table | None:
        # Checking other files against a file with rejected rows or empty keys would
        # only echo its own problems.
        ok = (
            table is not None
            and table.complete
            and not table.frame.empty
            and set(keys) <= set(table.columns)
            and not any(table.text[k].isna().any() for k in keys)
        )
        return table if ok else None

    outcomes, contrasts = t[OUTCOMES.name], t[CONTRASTS.name]
    arms = usable(t[ARMS.name], ("study", "arm", "role"))
    studies = usable(t[STUDIES.name], ("study",))
    found: dict[str, list[RowRule]] = {spec.name: [] for spec in SPECS}
    if outcomes is not None:
        found[OUTCOMES.name].append(stat_group_rule(outcomes.filled))
    if contrasts is not None:
        found[CONTRASTS.name].append(contrast_stat_rule(contrasts.filled))
    if arms is not None:
        arm_roles: dict[Key, str] = {}
        for key, r in zip(_pairs(arms.frame, "study", "arm"), arms.frame["role"].tolist(), strict=True):
            if not (is_empty(key[0]) or is_empty(key[1])):
                arm_roles.setdefault(key, r)  # the first row of a duplicated arm
        found[ARMS.name].append(roles_rule(arms.frame))
        found[OUTCOMES.name].append(arm_rule(arm_roles))
        found[CONTRASTS.name] += [
            arm_rule(arm_roles, "treatment_arm", "treatment"),
            arm_rule(arm_roles, "control_arm", "control"),
        ]
        arm_studies = {s for s, _ in arm_roles if isinstance(s, str)}  # all: empty keys were left out
        found[PUBLISHED.name].append(trials_rule(arm_studies))
        if studies is not None:
            listed = set(studies.frame["study"].dropna())
            found[ARMS.name].append(
                listed_rule(listed, "in_studies", "is not in studies.csv; every study of arms.csv needs a row there")
            )
            found[STUDIES.name].append(
                listed_rule(
                    arm_studies, "has_arms", "has no arms in arms.csv; every study of studies.csv needs its arms there"
                )
            )
    keyed_outcomes = usable(outcomes, ("study", "arm"))
    if arms is not None and keyed_outcomes is not None:
        text = keyed_outcomes.text
        no_n = text["n"].isna().tolist() if "n" in keyed_outcomes.columns else [True] * len(text)
        rows: dict[Key, list[str]] = {}
        for key, row, group, empty in zip(
            _pairs(keyed_outcomes.frame, "study", "arm"),
            keyed_outcomes.frame["_row"].tolist(),
            keyed_outcomes.stat_groups.tolist(),
            no_n,
            strict=True,
        ):
            if group != "missing" and empty:
                rows.setdefault(key, []).append(str(row))
        found[ARMS.name].append(n_used_rule({k: ", ".join(v) for k, v in rows.items()}))
    return {k: tuple(v) for k, v in found.items()}

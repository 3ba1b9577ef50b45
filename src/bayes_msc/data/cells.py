"""Per-arm values of one outcome at one month: the cell an effect table is built from.

Selects each arm's rows of ``outcomes.csv`` for an outcome and month, converts them to
mean/SD with :mod:`bayes_msc.data.conversions`, builds change scores on request and
rescales to 0-100; records why every other arm has no value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd

from bayes_msc.data.conversions import (
    BASES,
    CONVERSION_TEXT,
    STAT_INPUTS,
    change_from_baseline,
    contrast_variance,
    mean_sd_arrays,
    rescale_mean,
    rescale_sd,
)
from bayes_msc.errors import InputError, Problem

_VALUE_COLUMNS = ("study", "arm", "mean", "sd", "n", "scale_min", "scale_max", "rescaled", "conversion")


class ArmRow(NamedTuple):
    """One row of :attr:`ArmValues.values` (without its key)."""

    mean: float
    sd: float
    n: float
    scale_min: float
    scale_max: float
    rescaled: bool
    conversion: str


@dataclass(frozen=True, eq=False)
class ArmValues:
    """Mean, SD and n of each arm for one outcome at one month (see :func:`arm_values`).

    ``values``: one row per arm with data (``study, arm, mean, sd, n, scale_min,
    scale_max, rescaled, conversion``); ``reasons``: why each other arm of ``arms.csv``
    has none; ``contrasts``: the ``contrasts.csv`` rows at this outcome and month with
    ``yi``/``vi`` (on the 0-100 scale when rescaled).
    """

    values: pd.DataFrame
    reasons: dict[tuple[str, str], str]
    contrasts: pd.DataFrame
    basis: str
    r: float
    rescale: bool

    @cached_property
    def index(self) -> dict[tuple[str, str], int]:
        """Position in ``values`` of each (study, arm) with data."""
        return {key: i for i, key in enumerate(zip(self.values["study"], self.values["arm"], strict=True))}

    @cached_property
    def rows(self) -> dict[tuple[str, str], ArmRow]:
        """Each (study, arm) with data and its row of ``values`` as plain Python values."""
        v = self.values
        return {(s, a): ArmRow(*rest) for s, a, *rest in zip(*(v[c].tolist() for c in _VALUE_COLUMNS), strict=True)}


def _at(frame: pd.DataFrame, month: float) -> np.ndarray:
    return _at_values(frame["month"].to_numpy(dtype=float), month)


def _at_values(months: np.ndarray, month: float) -> np.ndarray:
    return np.isclose(months, month, rtol=0.0, atol=1e-9)


def _months(values) -> str:
    return ", ".join(f"{m:g}" for m in sorted(set(values))) or "none"


def _text(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A text column as an object array (one conversion, not one boxed scalar per access)."""
    return frame[column].to_numpy(dtype=object)


def _check_cell(dataset, outcome: str, month: float, basis: str, r: float):
    """Validate the options; return the positions in ``dataset.outcomes`` of the outcome's
    rows and its ``contrasts.csv`` rows at ``month`` (None without a ``contrasts.csv``)."""
    problems = []
    if basis not in BASES:
        problems.append(Problem(f"unknown basis '{basis}'; allowed: {', '.join(BASES)}", argument="basis"))
    if not (np.isfinite(r) and -1.0 <= r <= 1.0):
        problems.append(Problem(f"the correlation r = {r} must lie in [-1, 1]", argument="r"))
    if problems:
        raise InputError(problems)
    outcomes = dataset.outcomes
    where = np.flatnonzero(_text(outcomes, "outcome") == outcome)
    con = None if dataset.contrasts is None else dataset.contrasts[dataset.contrasts["outcome"] == outcome]
    con_months = [] if con is None else list(con["month"].dropna())
    if not where.size and (con is None or con.empty):
        names = sorted(
            set(outcomes["outcome"]) | set(dataset.contrasts["outcome"] if dataset.contrasts is not None else [])
        )
        raise InputError(
            Problem(f"unknown outcome '{outcome}'; available outcomes: {', '.join(names)}", argument="outcome")
        )
    con_at = None if con is None else _at(con, month)
    if not (
        _at_values(outcomes["month"].to_numpy(dtype=float)[where], month).any() or (con_at is not None and con_at.any())
    ):
        rows = outcomes.iloc[where]
        with_values = rows.loc[rows["stat_group"] != "missing", "month"]
        raise InputError(
            Problem(
                f"no rows for outcome '{outcome}' at month {month:g}; months with rows for it: "
                f"{_months(list(rows['month'].dropna()) + con_months)} (with values: "
                f"{_months(list(with_values) + con_months)})",
                argument="month",
            )
        )
    if basis == "change" and month <= 0:
        raise InputError(Problem("change from baseline needs a follow-up month > 0", argument="month"))
    return where, None if con is None else con[con_at]


class _Row(NamedTuple):
    """One converted outcomes row: what the per-arm rules read, as plain Python values."""

    study: str
    arm: str
    kind: str
    stat_group: str
    mean_used: float
    sd_used: float
    n: float
    scale_min: float
    scale_max: float
    rescaled: bool
    conversion: str
    src_row: int | None


def _converted_rows(outcomes: pd.DataFrame, where: np.ndarray, rescale: bool, method: str) -> list[_Row]:
    """The rows at positions ``where`` of ``outcomes`` converted to mean/SD (as by :func:`to_mean_sd`)
    and rescaled to 0-100 where they give ``scale_min``/``scale_max`` and ``rescale`` is on."""

    def num(c):
        return outcomes[c].to_numpy(dtype=float)[where]

    col = {c: num(c) for c in STAT_INPUTS}
    group = _text(outcomes, "stat_group")[where]
    n, lo, hi = num("n"), num("scale_min"), num("scale_max")
    mean, sd, text = mean_sd_arrays(group, n, col, method)
    kind = _text(outcomes, "kind")[where]
    has = np.isfinite(lo) & np.isfinite(hi) & bool(rescale)
    change = kind == "change"
    mean = np.where(has & ~change, rescale_mean(mean, lo, hi), np.where(has & change, rescale_sd(mean, lo, hi), mean))
    sd = np.where(has, rescale_sd(sd, lo, hi), sd)
    src = outcomes["_row"].to_numpy()[where].tolist() if "_row" in outcomes.columns else [None] * len(where)
    return [
        _Row._make(values)
        for values in zip(
            _text(outcomes, "study")[where].tolist(),
            _text(outcomes, "arm")[where].tolist(),
            kind.tolist(),
            group.tolist(),
            mean.tolist(),
            sd.tolist(),
            n.tolist(),
            lo.tolist(),
            hi.tolist(),
            has.tolist(),
            text,
            src,
            strict=True,
        )
    ]


def _by_key(rows: list[_Row]) -> dict[tuple[str, str], _Row]:
    return {(rec.study, rec.arm): rec for rec in rows}


def _where(rec) -> str:
    row = getattr(rec, "src_row", None)
    return f" (outcomes.csv row {int(row)})" if row is not None and np.isfinite(row) else ""


def arm_values(
    dataset,
    outcome: str,
    month: float,
    basis: str = "final",
    r: float = 0.5,
    rescale: bool = True,
    method: str = "luo_shi",
) -> ArmValues:
    """Mean, SD and n of every arm of ``dataset`` for ``outcome`` at ``month``.

    Rows are converted as by :func:`to_mean_sd`, then mapped to 0-100 when ``rescale``
    and the row gives ``scale_min``/``scale_max`` (levels with :func:`rescale_mean`,
    SDs and change scores with :func:`rescale_sd`). ``basis="change"`` uses an arm's
    ``kind == "change"`` row, else builds the change from its month-0 and ``month``
    final rows with :func:`change_from_baseline` and correlation ``r``.

    Raises
    ------
    InputError
        Unknown outcome or basis, ``r`` outside [-1, 1], no rows at ``month`` (the
        message lists the months available for the outcome).
    """
    month = float(month)
    where, con = _check_cell(dataset, outcome, month, basis, float(r))
    months = dataset.outcomes["month"].to_numpy(dtype=float)[where]
    at_m, at_0 = _at_values(months, month), _at_values(months, 0.0)
    # only the rows at the month (and, for change scores, at baseline) are ever read
    take = at_m | at_0 if basis == "change" else at_m
    rows = _converted_rows(dataset.outcomes, where[take], rescale, method)
    in_m, in_0 = at_m[take].tolist(), at_0[take].tolist()
    final_m = _by_key([x for x, m in zip(rows, in_m, strict=True) if m and x.kind == "final"])
    change_m = _by_key([x for x, m in zip(rows, in_m, strict=True) if m and x.kind == "change"])
    base = _by_key([x for x, b in zip(rows, in_0, strict=True) if b and x.kind == "final"])
    records, reasons = [], {}
    for key in zip(_text(dataset.arms, "study").tolist(), _text(dataset.arms, "arm").tolist(), strict=True):
        rec, text = _arm_record(key, final_m, change_m, base, basis, float(r), rescale, month)
        if rec is None:
            reasons[key] = text
        else:
            records.append(rec)
    # no records: from_records gives object columns, as this table always had
    values = (
        pd.DataFrame({c: [x[c] for x in records] for c in _VALUE_COLUMNS})
        if records
        else pd.DataFrame.from_records(records, columns=list(_VALUE_COLUMNS))
    )
    cell = ArmValues(
        values=values,
        reasons=reasons,
        contrasts=_contrast_effects(con, rescale),
        basis=basis,
        r=float(r),
        rescale=bool(rescale),
    )
    # the rows' plain values are at hand: fill the cache rather than read them back from the frame
    cell.__dict__["rows"] = {(x["study"], x["arm"]): ArmRow(*(x[c] for c in _VALUE_COLUMNS[2:])) for x in records}
    return cell


def _has_data(rec) -> bool:
    return (
        rec is not None and rec.stat_group != "missing" and math.isfinite(rec.mean_used) and math.isfinite(rec.sd_used)
    )


def _state(rec, what: str) -> str:
    if rec is None:
        return f"no {what} row in outcomes.csv"
    return f"{what} value declared missing{_where(rec)}"


def _record(key, rec, conversion: str, mean=None, sd=None) -> dict:
    return {
        "study": key[0],
        "arm": key[1],
        "mean": rec.mean_used if mean is None else mean,
        "sd": rec.sd_used if sd is None else sd,
        "n": float(rec.n),
        "scale_min": rec.scale_min,
        "scale_max": rec.scale_max,
        "rescaled": bool(rec.rescaled),
        "conversion": conversion,
    }


def same_scale(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """``np.allclose(a, b, equal_nan=True)`` for two (scale_min, scale_max) pairs, without numpy's
    per-call overhead (same rule: ``|x - y| <= 1e-8 + 1e-5 |y|`` for finite y, or x == y)."""
    return all(
        (abs(x - y) <= 1e-08 + 1e-05 * abs(y) and math.isfinite(y)) or x == y or (math.isnan(x) and math.isnan(y))
        for x, y in zip(a, b, strict=True)
    )


def _arm_record(key, final_m, change_m, base, basis, r, rescale, month):
    """One arm's record (or None and the reason it has no value)."""
    fin, chg = final_m.get(key), change_m.get(key)
    if basis == "final":
        if _has_data(fin):
            return _record(key, fin, fin.conversion), ""
        if fin is None and chg is not None:
            return None, f"only a change-from-baseline row at month {month:g} (use basis 'change')"
        return None, _state(fin, f"month-{month:g}")
    if _has_data(chg):
        return _record(key, chg, f"{chg.conversion}; reported change from baseline"), ""
    b = base.get(key)
    if _has_data(fin) and _has_data(b):
        same = (fin.rescaled and b.rescaled) or same_scale((fin.scale_min, fin.scale_max), (b.scale_min, b.scale_max))
        if not same:
            return None, "baseline and follow-up rows are on different scales"
        m, s = change_from_baseline(b.mean_used, b.sd_used, fin.mean_used, fin.sd_used, r)
        text = (
            f"change built from month-0 and month-{month:g} values ({fin.conversion}), "
            f"r = {r:g} (Cochrane Handbook 6.5.2.8)"
        )
        return _record(key, fin, text, float(m), float(s)), ""
    lacking = [_state(chg, f"month-{month:g} change")] if chg is not None else []
    lacking += [_state(x, w) for x, w in ((b, "baseline"), (fin, f"month-{month:g}")) if not _has_data(x)]
    return None, "; ".join(lacking)


def _contrast_effects(con: pd.DataFrame | None, rescale: bool) -> pd.DataFrame:
    if con is None:  # no contrasts.csv: the empty frame its filtered rows would give
        return pd.DataFrame(
            {c: np.array([], dtype=object) for c in ("study", "outcome", "month")}
            | {"yi": np.array([], dtype=float), "vi": np.array([], dtype=float), "rescaled": np.array([], dtype=bool)}
        )
    con = con.copy()

    def get(c):
        return con[c].to_numpy(dtype=float) if c in con.columns else np.full(len(con), np.nan)

    yi, vi = get("estimate"), contrast_variance(get("se"), get("ci_low"), get("ci_high"))
    lo, hi = get("scale_min"), get("scale_max")
    has = np.isfinite(lo) & np.isfinite(hi) & bool(rescale)
    con["yi"] = np.where(has, rescale_sd(yi, lo, hi), yi)
    con["vi"] = np.where(has, rescale_sd(np.sqrt(vi), lo, hi) ** 2, vi)
    con["rescaled"] = has
    return con.reset_index(drop=True)


def conversion_notes(values: pd.DataFrame | ArmValues, used: list[tuple[str, str]]) -> list[str]:
    """Notes naming, per study, the conversion and rescaling applied to the arms used.

    ``values`` is :attr:`ArmValues.values` (or the :class:`ArmValues` itself, which saves
    reading the frame again).
    """
    rows = (
        values.rows
        if isinstance(values, ArmValues)
        else {(s, a): ArmRow(*rest) for s, a, *rest in zip(*(values[c].tolist() for c in _VALUE_COLUMNS), strict=True)}
    )
    reported = CONVERSION_TEXT[("mean_sd", "luo_shi")]
    groups: dict[tuple[str, str], list[str]] = {}
    for key in used:
        rec = rows[key]
        texts = [] if rec.conversion == reported else [rec.conversion]
        if rec.rescaled and (rec.scale_min, rec.scale_max) != (0.0, 100.0):  # 0-100 maps to itself
            texts.append(f"rescaled from {rec.scale_min:g}-{rec.scale_max:g} to 0-100")
        for text in texts:
            groups.setdefault((key[0], text), []).append(key[1])
    return [f"{study} ({', '.join(arms)}): {text}" for (study, text), arms in groups.items()]

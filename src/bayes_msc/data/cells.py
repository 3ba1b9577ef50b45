"""Per-arm values of one outcome at one month: the cell an effect table is built from.

Selects each arm's rows of ``outcomes.csv`` for an outcome and month, converts them to
mean/SD with :mod:`bayes_msc.data.conversions`, builds change scores on request and
rescales to 0-100; records why every other arm has no value.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from bayes_msc.data.conversions import (
    BASES,
    CONVERSION_TEXT,
    change_from_baseline,
    contrast_variance,
    rescale_mean,
    rescale_sd,
    to_mean_sd,
)
from bayes_msc.data.errors import InputError, Problem


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


def _at(frame: pd.DataFrame, month: float) -> np.ndarray:
    return np.isclose(frame["month"].to_numpy(dtype=float), month, rtol=0.0, atol=1e-9)


def _months(values) -> str:
    return ", ".join(f"{m:g}" for m in sorted(set(values))) or "none"


def _check_cell(dataset, outcome: str, month: float, basis: str, r: float):
    problems = []
    if basis not in BASES:
        problems.append(Problem(f"unknown basis '{basis}'; allowed: {', '.join(BASES)}", column="--basis"))
    if not (np.isfinite(r) and -1.0 <= r <= 1.0):
        problems.append(Problem(f"the correlation r = {r} must lie in [-1, 1]", column="--r"))
    if problems:
        raise InputError(problems)
    rows = dataset.outcomes[dataset.outcomes["outcome"] == outcome]
    con = dataset.contrasts if dataset.contrasts is not None else pd.DataFrame(columns=["study", "outcome", "month"])
    con = con[con["outcome"] == outcome]
    if rows.empty and con.empty:
        names = sorted(set(dataset.outcomes["outcome"]) | set(dataset.contrasts["outcome"] if dataset.contrasts
                                                              is not None else []))
        raise InputError(Problem(f"unknown outcome '{outcome}'; available outcomes: {', '.join(names)}",
                                 column="--outcome"))
    if not (_at(rows, month).any() or _at(con, month).any()):
        with_values = rows.loc[rows["stat_group"] != "missing", "month"]
        raise InputError(Problem(
            f"no rows for outcome '{outcome}' at month {month:g}; months with rows for it: "
            f"{_months(list(rows['month'].dropna()) + list(con['month'].dropna()))} (with values: "
            f"{_months(list(with_values) + list(con['month'].dropna()))})", column="--month"))
    if basis == "change" and month <= 0:
        raise InputError(Problem("change from baseline needs a follow-up month > 0", column="--month"))
    return rows, con[_at(con, month)]


def _by_key(frame: pd.DataFrame) -> dict[tuple[str, str], object]:
    return {(rec.study, rec.arm): rec for rec in frame.itertuples(index=False)}


def _where(rec) -> str:
    row = getattr(rec, "src_row", None)
    return f" (outcomes.csv row {int(row)})" if row is not None and np.isfinite(row) else ""


def arm_values(dataset, outcome: str, month: float, basis: str = "final", r: float = 0.5,
               rescale: bool = True, method: str = "luo_shi") -> ArmValues:
    """Mean, SD and n of every arm of ``dataset`` for ``outcome`` at ``month``.

    Rows are converted with :func:`to_mean_sd`, then mapped to 0-100 when ``rescale``
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
    rows, con = _check_cell(dataset, outcome, float(month), basis, float(r))
    # itertuples() cannot name a field "_row", hence the rename
    conv = to_mean_sd(rows, method).rename(columns={"_row": "src_row"})
    lo, hi = conv["scale_min"].to_numpy(dtype=float), conv["scale_max"].to_numpy(dtype=float)
    has = np.isfinite(lo) & np.isfinite(hi) & bool(rescale)
    change = (conv["kind"] == "change").to_numpy()
    mean, sd = conv["mean_used"].to_numpy(dtype=float), conv["sd_used"].to_numpy(dtype=float)
    conv["mean_used"] = np.where(has & ~change, rescale_mean(mean, lo, hi),
                                 np.where(has & change, rescale_sd(mean, lo, hi), mean))
    conv["sd_used"] = np.where(has, rescale_sd(sd, lo, hi), sd)
    conv["rescaled"] = has
    at_m = conv[_at(conv, month)]
    final_m = _by_key(at_m[at_m["kind"] == "final"])
    change_m = _by_key(at_m[at_m["kind"] == "change"])
    base = _by_key(conv[_at(conv, 0.0) & (conv["kind"] == "final").to_numpy()])
    records, reasons = [], {}
    for key in zip(dataset.arms["study"], dataset.arms["arm"], strict=True):
        rec, text = _arm_record(key, final_m, change_m, base, basis, float(r), rescale, month)
        if rec is None:
            reasons[key] = text
        else:
            records.append(rec)
    cols = ["study", "arm", "mean", "sd", "n", "scale_min", "scale_max", "rescaled", "conversion"]
    values = pd.DataFrame.from_records(records, columns=cols)
    return ArmValues(values=values, reasons=reasons, contrasts=_contrast_effects(con, rescale),
                     basis=basis, r=float(r), rescale=bool(rescale))


def _has_data(rec) -> bool:
    return rec is not None and rec.stat_group != "missing" and np.isfinite(rec.mean_used) and np.isfinite(rec.sd_used)


def _state(rec, what: str) -> str:
    if rec is None:
        return f"no {what} row in outcomes.csv"
    return f"{what} value declared missing{_where(rec)}"


def _record(key, rec, conversion: str, mean=None, sd=None) -> dict:
    return {"study": key[0], "arm": key[1], "mean": rec.mean_used if mean is None else mean,
            "sd": rec.sd_used if sd is None else sd, "n": float(rec.n), "scale_min": rec.scale_min,
            "scale_max": rec.scale_max, "rescaled": bool(rec.rescaled), "conversion": conversion}


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
        same = (fin.rescaled and b.rescaled) or (
            np.allclose([fin.scale_min, fin.scale_max], [b.scale_min, b.scale_max], equal_nan=True))
        if not same:
            return None, "baseline and follow-up rows are on different scales"
        m, s = change_from_baseline(b.mean_used, b.sd_used, fin.mean_used, fin.sd_used, r)
        text = (f"change built from month-0 and month-{month:g} values ({fin.conversion}), "
                f"r = {r:g} (Cochrane Handbook 6.5.2.8)")
        return _record(key, fin, text, float(m), float(s)), ""
    lacking = [_state(chg, f"month-{month:g} change")] if chg is not None else []
    lacking += [_state(x, w) for x, w in ((b, "baseline"), (fin, f"month-{month:g}")) if not _has_data(x)]
    return None, "; ".join(lacking)


def _contrast_effects(con: pd.DataFrame, rescale: bool) -> pd.DataFrame:
    con = con.copy()
    get = lambda c: con[c].to_numpy(dtype=float) if c in con.columns else np.full(len(con), np.nan)  # noqa: E731
    yi, vi = get("estimate"), contrast_variance(get("se"), get("ci_low"), get("ci_high"))
    lo, hi = get("scale_min"), get("scale_max")
    has = np.isfinite(lo) & np.isfinite(hi) & bool(rescale)
    con["yi"] = np.where(has, rescale_sd(yi, lo, hi), yi)
    con["vi"] = np.where(has, rescale_sd(np.sqrt(vi), lo, hi) ** 2, vi)
    con["rescaled"] = has
    return con.reset_index(drop=True)


def conversion_notes(values: pd.DataFrame, used: list[tuple[str, str]]) -> list[str]:
    """Notes naming, per study, the conversion and rescaling applied to the arms used."""
    index = {(s, a): i for i, (s, a) in enumerate(zip(values["study"], values["arm"], strict=True))}
    groups: dict[tuple[str, str], list[str]] = {}
    for key in used:
        rec = values.iloc[index[key]]
        texts = [] if rec["conversion"] == CONVERSION_TEXT[("mean_sd", "luo_shi")] else [rec["conversion"]]
        if rec["rescaled"] and (rec["scale_min"], rec["scale_max"]) != (0.0, 100.0):  # 0-100 maps to itself
            texts.append(f"rescaled from {rec['scale_min']:g}-{rec['scale_max']:g} to 0-100")
        for text in texts:
            groups.setdefault((key[0], text), []).append(key[1])
    return [f"{study} ({', '.join(arms)}): {text}" for (study, text), arms in groups.items()]

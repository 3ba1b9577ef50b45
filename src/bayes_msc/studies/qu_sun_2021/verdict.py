"""Why a published pooled result agrees, differs or cannot be computed (the ``status`` and
``reason`` of each row of :func:`~bayes_msc.studies.qu_sun_2021.reproduce.reproduce`).

A row's facts (:class:`RowFacts`: what was computed, which trials are missing and why,
which were not followed up at that month) go in, one status and a reason in words come
out; a row that differs is explained by what the data show (multi-arm handling, scales,
conversions, extra trials, a simulated dataset). The statuses are described in
:mod:`bayes_msc.studies.qu_sun_2021.results`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_msc.data.dataset import Dataset
from bayes_msc.studies.qu_sun_2021.results import Pooled
from bayes_msc.studies.qu_sun_2021.table2 import at_month


@dataclass(frozen=True, eq=False)
class Cell:
    """The comparisons of one (outcome, month) cell that enter a pooling, with their
    covariance, and the effect table's ``missing`` and ``notes``."""

    data: pd.DataFrame
    vcov: np.ndarray
    missing: tuple[str, ...]
    notes: tuple[str, ...]


def outcome_rows(ds: Dataset, outcome: str, month: float) -> pd.DataFrame:
    """The ``outcomes.csv`` rows of ``outcome`` at ``month``."""
    o = ds.outcomes
    return o[(o["outcome"] == outcome).to_numpy() & at_month(o["month"], month)]


@dataclass(frozen=True, eq=False)
class RowFacts:
    """What is known of one published row when its status is decided (see :func:`status`)."""

    outcome: str
    month: float
    trials: tuple[str, ...]  # the trials the paper pooled
    pub: tuple[float, float, float]  # published estimate, ci_low, ci_high
    cell: Cell
    computed: Pooled | None
    paper_multiarm: Pooled | None
    variants: tuple[Pooled, ...]
    missing: tuple[tuple[str, str], ...]  # (trial, why) for pooled trials lacking data
    not_followed: tuple[tuple[str, str], ...]  # (trial, why) for trials not followed up at month
    present: tuple[str, ...]  # pooled trials with data here
    extra: tuple[str, ...]  # trials with data here that the paper did not pool
    trials_mode: str


def _multiarm_studies(data: pd.DataFrame) -> tuple[str, ...]:
    arms = data[data["source_kind"] == "arms"] if "source_kind" in data.columns else data.iloc[0:0]
    dup = arms.duplicated(["study", "control_arm"], keep=False) | arms.duplicated(
        ["study", "treatment_arm"], keep=False
    )
    return tuple(dict.fromkeys(arms.loc[dup, "study"]))


_FRAGMENT = re.compile(r"^(?P<arm>[^:]+): (?P<text>.*?)(?: \(outcomes\.csv row (?P<row>\d+)\))?$")


def _condense(frags: list[str]) -> list[str]:
    """Merge "ARM: TEXT (outcomes.csv row N)" fragments that share TEXT into one."""
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for f in frags:
        m = _FRAGMENT.match(f)
        arm, text, row = (m.group("arm"), m.group("text"), m.group("row")) if m else ("", f, None)
        arms, rows = groups.setdefault(text, ([], []))
        arms.append(arm)
        rows += [row] if row else []
    out = []
    for text, (arms, rows) in groups.items():
        rows = sorted(rows, key=int)
        where = f" (outcomes.csv row{'s' if len(rows) > 1 else ''} {', '.join(rows)})" if rows else ""
        named = ", ".join(a for a in arms if a)
        out.append(f"{named}: {text}{where}" if named else f"{text}{where}")
    return out


def why_missing(ds: Dataset, study: str, lines: Sequence[str], outcome: str, month: float) -> str:
    """Why ``study`` has no comparison in the cell, from the effect table's ``missing`` lines."""
    frags: list[str] = []
    for line in lines:
        if line.startswith(study + ": "):
            why = line[len(study) + 2 :].partition(": ")[2]
            frags += [f for f in why.split("; ") if f and f not in frags]
    frags = _condense(frags)
    if not frags:
        known = study in set(ds.arms["study"])
        frags.append(
            f"no row for outcome '{outcome}' at month {month:g} in outcomes.csv" if known else "not a study of arms.csv"
        )
    con = ds.contrasts
    if con is not None:
        undated = con[(con["study"] == study) & (con["outcome"] == outcome) & con["month"].isna()]
        for rec in undated.to_dict(orient="records"):
            frags.append(
                f"contrasts.csv row {rec['_row']} gives only a "
                "difference over the whole follow-up (month empty), which cannot enter a "
                f"pooling at month {month:g}"
            )
    return "; ".join(frags)


def _scales(ds: Dataset, outcome: str, month: float, studies: Sequence[str]) -> dict[str, str]:
    rows = outcome_rows(ds, outcome, month)
    rows = rows[rows["stat_group"] != "missing"]
    out = {}
    for s in studies:
        r = rows[rows["study"] == s]
        texts = sorted(
            {
                f"{lo:g}-{hi:g}" if np.isfinite(lo) and np.isfinite(hi) else "scale not given"
                for lo, hi in zip(r["scale_min"], r["scale_max"], strict=True)
            }
        )
        out[s] = ", ".join(texts) or "contrast only"
    return out


def _fmt(p: Pooled) -> str:
    """estimate [ci_low, ci_high]"""
    return f"{p.estimate:.2f} [{p.ci_low:.2f}, {p.ci_high:.2f}]"


def _differs_reasons(row: RowFacts, c: Pooled, ds: Dataset, tolerance: float) -> list[str]:
    """Why the computed result ``c`` of a complete row differs from the published one."""
    pm, out = row.paper_multiarm, []
    width = row.pub[2] - row.pub[1]
    out.append(
        f"largest deviation {c.max_deviation:.2f} > {tolerance * width:.2f} "
        f"({tolerance:.0%} of the published CI width {width:.2f})"
    )
    multi = _multiarm_studies(row.cell.data)
    if multi and pm is not None:
        verdict = (
            "which agrees: the difference is the multi-arm handling" if pm.agrees else "which does not agree either"
        )
        out.append(
            f"multi-arm trial(s) {', '.join(multi)}: counting the shared control whole in every "
            f"comparison (the paper's handling, double counting) gives {_fmt(pm)}, {verdict}"
        )
    scales = _scales(ds, row.outcome, row.month, c.studies)
    native = {s: t for s, t in scales.items() if t not in ("0-100", "contrast only")}
    if len(set(scales.values())) > 1:
        out.append(
            "the trials report on different scales ("
            + "; ".join(f"{s} {t}" for s, t in scales.items())
            + "); the paper does not say whether it rescaled them before pooling"
        )
    for v in row.variants:
        out.append(f"{v.description} gives {_fmt(v)}, which {'agrees' if v.agrees else 'does not agree'}")
    ratio = width / (c.ci_high - c.ci_low)
    if ratio >= 2 or ratio <= 0.5:
        text = f"the published CI is {ratio:.2g} times as wide as the computed one"
        factors = {
            float(t.split("-")[1]) - float(t.split("-")[0])
            for t in native.values()
            if "-" in t and t.replace("-", "", 1).replace(".", "").isdigit()
        }
        close = [f for f in sorted(factors) if f > 0 and min(abs(ratio * f / 100 - 1), abs(ratio * 100 / f - 1)) < 0.25]
        if close:
            text += (
                f", close to the factor between a 0-{close[0]:g} and the 0-100 scale: the paper may "
                "have pooled these values on another scale"
            )
        out.append(text)
    extra = [s for s in c.studies if s not in row.trials]
    if extra:
        out.append(f"includes trial(s) the paper did not pool: {', '.join(extra)}")
    conv = [
        n
        for n in row.cell.notes
        if any(n.startswith((s + " ", s + ":")) for s in c.studies)
        and ("median" in n or "change" in n or "contrast" in n)
    ]
    if conv:
        out.append("values converted here, the paper's conversion is not stated: " + "; ".join(conv))
    if ds.simulated:
        out.append(
            "the dataset is SIMULATED: its values are not the trials' own, so the published result "
            "is not expected to be reproduced exactly"
        )
    if len(out) == 1:
        out.append("no cause detectable from the data (the trials' values here may not be those the paper extracted)")
    return out


def status(row: RowFacts, ds: Dataset, tolerance: float) -> tuple[str, str]:
    """``(status, reason)`` of a published row (the statuses of
    :mod:`bayes_msc.studies.qu_sun_2021.results`)."""
    c, miss, outcome, month = row.computed, row.missing, row.outcome, row.month
    follow = [f"{s} not expected: {w}" for s, w in row.not_followed]
    extra_txt = (
        [
            (
                f"{', '.join(row.extra)} {'has' if len(row.extra) == 1 else 'have'} data here but "
                f"the paper did not pool {'it' if len(row.extra) == 1 else 'them'} for {outcome}"
            )
        ]
        if row.extra and row.trials_mode == "published"
        else []
    )
    missing = ["missing: " + "; ".join(f"{s} ({w})" for s, w in miss)] if miss else []
    if c is None:
        n, total = len(row.trials) - len(row.not_followed), len(row.trials)
        scope = f"the {n} trial(s) the paper pooled for {outcome}" + (
            f" whose follow-up includes month {month:g}" if n < total else ""
        )
        head = (
            f"none of {scope} has data at month {month:g} here"
            if n
            else f"no trial the paper pooled for {outcome} has a follow-up that includes month {month:g}"
        )
        return "cannot compute", "; ".join([head] + missing + follow + extra_txt)
    if miss:
        present = len(row.present)
        whole = len(set(row.present) | {s for s, _ in miss})
        verdict = "falls" if c.agrees else "does not fall"
        extra = [s for s in c.studies if s not in row.trials]
        also = f", and of {', '.join(extra)}, which the paper did not pool" if extra else ""
        return "partial", "; ".join(
            [
                (
                    f"computed from {c.k} comparison(s) of {present} of the {whole} trials the paper "
                    f"pooled for {outcome} at month {month:g} ({', '.join(row.present)}){also}"
                )
            ]
            + missing
            + follow
            + extra_txt
            + [
                (
                    f"with trials missing the result neither reproduces nor refutes the published one (it {verdict} "
                    "within the agreement tolerance)"
                )
            ]
        )
    if c.agrees:
        width = row.pub[2] - row.pub[1]
        text = [
            (
                f"estimate and both CI limits within {tolerance * width:.2f} ({tolerance:.0%} of the published "
                f"CI width) of the published values (largest deviation {c.max_deviation:.2f})"
            )
        ]
        pm = row.paper_multiarm
        if _multiarm_studies(row.cell.data) and pm is not None and not pm.agrees:
            text.append(f"the paper's multi-arm handling (double counting) gives {_fmt(pm)}, which does not agree")
        return "agrees", "; ".join(text + follow + extra_txt)
    return "differs", "; ".join(_differs_reasons(row, c, ds, tolerance) + follow + extra_txt)

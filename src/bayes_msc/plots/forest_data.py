"""The numbers, texts and row layout of the posterior forest plot, taken from the results
and the effect table (:mod:`bayes_msc.plots.forest` draws them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from bayes_msc.plots import style
from bayes_msc.results.layout import CI_LEVEL

ROW_GAP = 0.75  # lines of space between two comparisons
SUMMARY_LINE = 1.35  # lines per summary row (pooled, predictive)


@dataclass
class Line:
    """One drawn interval and its numbers in the right-hand column."""

    y: float
    estimate: float
    low: float
    high: float
    colour: str
    kind: str  # observed | posterior | pooled | predictive


def as_list(results: Any) -> list[Any]:
    """One result or a sequence of them, as a non-empty list."""
    if isinstance(results, (list, tuple)):
        out = list(results)
    else:
        out = [results]
    if not out:
        raise ValueError("posterior_forest needs at least one Bayesian result")
    return out


def effects_frame(effects: Any, results: list[Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The effect-table frame and what the figure says about it."""
    frame = getattr(effects, "data", effects)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError("effects must be an EffectTable or its DataFrame")
    needed = ["study", "comparison", "yi", "vi"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"effect table lacks column(s) {missing}")
    if frame.empty:
        raise ValueError("effect table has no comparisons")
    first = results[0]
    # A bare DataFrame says nothing about measure or scale (and its attribute access
    # would return columns): then the first result speaks for it.
    table = None if isinstance(effects, pd.DataFrame) else effects

    def one(attr: str) -> Any:
        if table is not None and hasattr(table, attr):
            return getattr(table, attr)
        if attr in frame.columns and frame[attr].nunique() == 1:
            return frame[attr].iloc[0]
        return getattr(first, attr, None)

    meta = {
        "outcome": one("outcome"),
        "month": one("month"),
        "measure": getattr(table, "measure", getattr(first, "measure", None)),
        "scale": getattr(table, "scale", None),
        "simulated": bool(getattr(table, "simulated", False))
        or any(bool(getattr(r, "simulated", False)) for r in results),
        "multiarm": getattr(table, "multiarm", getattr(first, "multiarm", None)),
    }
    return frame.reset_index(drop=True), meta


def check_same_analysis(results: list[Any], pool: Any, meta: dict[str, Any]) -> None:
    """Every result must be of the effect table's outcome and month (when both say)."""
    for obj in [*results, pool]:
        if obj is None:
            continue
        for attr in ("outcome", "month"):
            mine, theirs = meta[attr], getattr(obj, attr, None)
            if mine is not None and theirs is not None and str(mine) != str(theirs) and not _same_number(mine, theirs):
                raise ValueError(f"{type(obj).__name__} is for {attr} {theirs!r}, the effect table for {mine!r}")
    if pool is not None:
        meta["simulated"] = meta["simulated"] or bool(getattr(pool, "simulated", False))


def _same_number(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def effect_lookup(study_effects: pd.DataFrame) -> Callable[[str, str], tuple[float, float, float] | None]:
    """A function ``(study, comparison) -> (mean, eti_low, eti_high)`` of the shrunken
    effects (None when absent), matched on study and comparison (comparison labels such as
    "msc_40m vs placebo" repeat across studies; on the comparison alone when the table has
    no ``study``); the first row of a pair counts."""
    by_study = "study" in study_effects.columns
    comparisons = study_effects["comparison"].astype(str).tolist()
    studies = study_effects["study"].astype(str).tolist() if by_study else [""] * len(comparisons)
    values = study_effects[["mean", "eti_low", "eti_high"]].to_numpy(float)
    table: dict[tuple[str, str], tuple[float, float, float]] = {}
    for key, row in zip(zip(studies, comparisons, strict=False), values, strict=False):
        table.setdefault(key, (float(row[0]), float(row[1]), float(row[2])))
    return lambda study, comparison: table.get((str(study) if by_study else "", str(comparison)))


def parameter(result: Any, name: str) -> tuple[float, float, float] | None:
    p = result.parameters
    if name not in p.index:
        return None
    row = p.loc[name]
    return float(row["mean"]), float(row["eti_low"]), float(row["eti_high"])


def weights_of(frame: pd.DataFrame, pool: Any) -> np.ndarray | None:
    """The pool's weights (percent) in the frame's comparison order, matched on the
    package's comparison labels ``"<study>: <comparison>"``
    (:func:`bayes_msc.frequentist.pooling.comparison_labels`); a pool whose labels list the
    frame's comparisons in order by another name is matched by position."""
    if pool is None:
        return None
    labels = [str(x) for x in pool.labels]
    weights = np.asarray(pool.weights, dtype=float)
    keys = [f"{s}: {c}" for s, c in zip(frame["study"], frame["comparison"], strict=True)]
    if labels in (keys, [str(c) for c in frame["comparison"]]):
        return weights
    by_label = dict(zip(labels, weights, strict=True))
    if len(by_label) == len(labels) and set(keys) <= set(by_label):
        return np.array([by_label[c] for c in keys])
    raise ValueError(
        "the pool's comparison labels do not match the effect table's "
        f"comparisons: {sorted(set(keys) - set(by_label))} not in the pool"
        if not set(keys) <= set(by_label)
        else "the pool's comparison labels repeat and are not in the effect table's order"
    )


def text_columns(
    frame: pd.DataFrame,
    weights: np.ndarray | None,
    extra: Sequence[str],
    pool: Any,
    study_labels: Mapping[str, str] | None = None,
) -> list[tuple[str, list[str]]]:
    """(header, cells) of the left-hand columns: the study (by its label when given), the
    comparison, the ``extra`` columns, and the arms' n (whole, as randomised into the arm
    or analysed, not the split n of a shared control)."""
    labels = dict(study_labels or {})
    cols = [("Study", [str(labels.get(str(s), s)) for s in frame["study"]])]
    if {"treatment_arm", "control_arm"} <= set(frame.columns):
        cells = [f"{t} vs {c}" for t, c in zip(frame["treatment_arm"], frame["control_arm"], strict=False)]
    else:
        cells = [str(c) for c in frame["comparison"]]
    if cells != [str(s) for s in frame["study"]]:  # a comparison named like its study says nothing new
        cols.append(("Comparison", cells))
    for name in extra:
        if name == "weight":
            if weights is not None:
                cols.append((f"Weight\n({pool.method.upper()}, %)", [style.format_number(w, 1) for w in weights]))
        elif name in frame.columns and frame[name].notna().any():
            header = style.covariate_label(name, two_lines=True)
            cols.append((header, [_cell(v) for v in frame[name]]))
    n_t, n_c = n_columns(frame)
    if n_t is not None and frame[[n_t, n_c]].notna().any(axis=None):
        cols.append(("n\n(T/C)", [f"{_cell(a)}/{_cell(b)}" for a, b in zip(frame[n_t], frame[n_c], strict=False)]))
    return cols


def n_columns(frame: pd.DataFrame) -> tuple[str | None, str | None]:
    """The columns of the arms' whole n (``n_treatment_arm``/``n_control_arm`` of an effect
    table), else of the n the effect sizes use; (None, None) when there are none."""
    for pair in (("n_treatment_arm", "n_control_arm"), ("n_treatment", "n_control")):
        if set(pair) <= set(frame.columns):
            return pair
    return None, None


def split_n(frame: pd.DataFrame) -> bool:
    """Whether a shared arm's n was split among its comparisons for the effect sizes."""
    pairs = (("n_treatment", "n_treatment_arm"), ("n_control", "n_control_arm"))
    if not all(set(p) <= set(frame.columns) for p in pairs):
        return False
    used = frame[["n_treatment", "n_control"]].to_numpy(float)
    whole = frame[["n_treatment_arm", "n_control_arm"]].to_numpy(float)
    ok = np.isfinite(used) & np.isfinite(whole)
    return bool(np.any(used[ok] != whole[ok]))


def heterogeneity_line(pool: Any) -> str:
    """``Heterogeneity: Q = 13.25 (df = 11), p = 0.28; I² = 17.0%; τ² = 14.3 (DerSimonian-Laird)``
    of a frequentist pool (a fixed-effect pool assumes τ² = 0 and says so). Every number
    is >= 0: no minus signs to typeset."""
    if pool is None:
        return ""
    p = pool.q_p
    p_text = "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"
    tau2 = (
        "\u03c4\u00b2 = 0 assumed (fixed-effect model)"
        if pool.method == "fe"
        else f"\u03c4\u00b2 = {pool.tau2:.2f} ({style.method_name(pool.method)})"
    )
    return f"Heterogeneity: Q = {pool.q:.2f} (df = {pool.q_df}), {p_text}; I\u00b2 = {pool.i2:.1f}%; {tau2}"


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return "\u2013"
    if isinstance(v, (int, float, np.integer, np.floating)):
        return style.format_number(round(float(v), 2))
    return str(v)


MULTIARM_TEXT = {
    "split": "a shared control's n is split among its comparisons",
    "shared": "a shared control is kept whole and the comparisons' correlation modelled",
}


def footnote(
    results: list[Any], labels: list[str], meta: dict[str, Any], k: int, frame: pd.DataFrame, pool: Any = None
) -> str:
    """What the rows are; what the Bayesian marks are; the heterogeneity of the pool."""
    studies = frame["study"].nunique()
    first = [f"{k} comparison{'s' * (k != 1)} from {studies} stud{'ies' if studies != 1 else 'y'}"]
    if meta.get("multiarm"):
        first.append("multi-arm trials: " + MULTIARM_TEXT.get(meta["multiarm"], meta["multiarm"]))
    if split_n(frame):
        first.append("n: the arms' whole n (split only in the effect sizes)")
    second = ["Bayesian: posterior mean and 95% equal-tailed credible interval"]
    if len(results) == 1:
        second.append(labels[0])
    lines = ["; ".join(first), "; ".join(second)]
    if pool is not None:
        lines.append(heterogeneity_line(pool))
    return "\n".join(lines)


def layout(
    frame: pd.DataFrame, results: list[Any], pool: Any, colours: list[str], labels: list[str]
) -> tuple[list[Line], list[float], list[tuple[float, str]], float, float]:
    """Every interval's height (y grows downwards, in lines), the comparisons' label heights,
    the summary rows' labels, the separator's height and the total height."""
    k, m = len(frame), len(results)
    with_effects = [i for i, r in enumerate(results) if r.study_effects is not None]
    crit = float(norm.isf((1 - CI_LEVEL) / 2))
    lines: list[Line] = []
    row_y: list[float] = []
    y = 0.0
    yi = frame["yi"].to_numpy(float)
    se = np.sqrt(frame["vi"].to_numpy(float))
    studies, comparisons = frame["study"].tolist(), frame["comparison"].tolist()
    shrunken = {i: effect_lookup(results[i].study_effects) for i in with_effects}
    for j in range(k):
        n_lines = 1 + len(with_effects)
        row_y.append(y + (n_lines - 1) / 2)
        lines.append(Line(y, yi[j], yi[j] - crit * se[j], yi[j] + crit * se[j], style.OBSERVED_COLOUR, "observed"))
        for pos, i in enumerate(with_effects, start=1):
            est = shrunken[i](studies[j], comparisons[j])
            if est is not None:
                lines.append(Line(y + pos, *est, colours[i], "posterior"))
        y += n_lines + ROW_GAP
    separator = y - ROW_GAP / 2
    y += 0.35
    summary_rows: list[tuple[float, str]] = []
    for i, r in enumerate(results):
        name = "Pooled effect \u03bc at reference covariates" if r.covariates else "Pooled effect \u03bc"
        row = parameter(r, "mu")
        suffix = f" ({labels[i]})" if m > 1 else ""
        if row is not None:
            summary_rows.append((y, f"{name}, Bayesian{suffix}"))
            lines.append(Line(y, *row, colours[i], "pooled"))
            y += SUMMARY_LINE
        pred = parameter(r, "theta_new")
        if pred is not None:
            summary_rows.append((y, f"Prediction for a new study{suffix}"))
            lines.append(Line(y, *pred, colours[i], "predictive"))
            y += SUMMARY_LINE
    if pool is not None:
        what = style.method_name(pool.method)
        # "fixed-effect fixed effect" says it twice: the fixed-effect method names its kind.
        kind = "random effects " if pool.random_effects else ("" if what == "fixed-effect" else "fixed effect ")
        summary_rows.append((y, f"{what} {kind}(frequentist)"))
        lines.append(Line(y, pool.estimate, pool.ci_low, pool.ci_high, style.FREQUENTIST_COLOUR, "pooled"))
        y += SUMMARY_LINE
        if pool.random_effects and np.isfinite(pool.pi_low):
            summary_rows.append((y, f"{what} prediction interval"))
            lines.append(Line(y, pool.estimate, pool.pi_low, pool.pi_high, style.FREQUENTIST_COLOUR, "predictive"))
            y += SUMMARY_LINE
    total = y - SUMMARY_LINE + 0.9
    return lines, row_y, summary_rows, separator, total

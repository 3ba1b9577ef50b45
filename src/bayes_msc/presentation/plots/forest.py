"""Posterior forest plot: observed effects, shrunken posterior effects, pooled and predicted.

One row per comparison (treatment arm vs control arm): the observed effect with its 95%
confidence interval ``yi +/- 1.96 sqrt(vi)``, and beneath it, offset and in its colour, the
shrunken posterior effect of every Bayesian result given (prior sets or models side by
side). Below the comparisons: each result's pooled effect (diamond) and its prediction
for a new study, and the frequentist random-effects pool with its prediction interval as
a reference. Text columns on the left (study, comparison, optional covariates and
weights, n), the numbers on the right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from bayes_msc.presentation.plots import style
from bayes_msc.results.layout import CI_LEVEL

LINE_INCHES = 0.19
"""Height of one drawn line (an interval) in inches; rows are made of such lines."""
ROW_GAP = 0.75  # lines of space between two comparisons
SUMMARY_LINE = 1.35  # lines per summary row (pooled, predictive)
PLOT_INCHES = 4.2
COLUMN_GAP_PT = 10.0

@dataclass
class _Line:
    """One drawn interval and its numbers in the right-hand column."""

    y: float
    estimate: float
    low: float
    high: float
    colour: str
    kind: str  # observed | posterior | pooled | predictive


def posterior_forest(results: Any, effects: Any, pool: Any = None,
                     extra_columns: Sequence[str] = ("dose_million", "risk_of_bias", "weight"),
                     mcid: float | Sequence[float] | None = None, ax: Any = None, *,
                     favours: tuple[str, str] | None = None, xlabel: str | None = None,
                     title: str | None = None) -> Any:
    """Forest plot of observed and shrunken posterior effects, pooled and predicted effects.

    Parameters
    ----------
    results : BayesResult or sequence of BayesResult
        One or more posteriors of the same outcome and month (prior sets or models); their
        ``study_effects`` give the shrunken effects (matched by ``comparison``), their
        ``parameters`` give ``mu`` (or ``mu_at_mean`` with covariates) and ``theta_new``.
        Several results are drawn side by side, one colour each, with a legend.
    effects : EffectTable or DataFrame
        The effect-size table (``study, comparison, treatment_arm, control_arm, yi, vi,
        n_treatment, n_control`` and covariates); one row per comparison, in this order.
    pool : PoolResult, optional
        Frequentist pool drawn as a reference row (diamond and prediction interval); it
        also gives the ``weight`` column (matched by comparison label).
    extra_columns : sequence of str
        Text columns between the comparison and n: effect-table columns, or ``weight``
        (needs ``pool``). Columns the data do not have are left out, so the default
        suits any dataset.
    mcid : float or sequence of float, optional
        Minimal clinically important difference(s), drawn as dashed vertical lines.
    ax : matplotlib Axes, optional
        Draw into this axes. Text columns go outside it (left and right) and the caller's
        figure must leave room for them; without ``ax`` a figure is sized to fit.
    favours : (str, str), optional
        Labels under the axis for its left and right side, e.g.
        ``("favours MSCs", "favours control")`` for a pain score.
    xlabel, title : str, optional
        Override the axis label (default: the measure and its unit) and the title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.lines import Line2D

    results = _as_list(results)
    frame, meta = _effects_frame(effects, results)
    _check_same_analysis(results, pool, meta)
    k, m = len(frame), len(results)
    colours = [style.PALETTE[i % len(style.PALETTE)] for i in range(m)]
    labels = style.series_labels(results)
    with_effects = [i for i, r in enumerate(results) if r.study_effects is not None]
    weights = _weights(frame, pool)
    lines, row_y, summary_rows, separator, total = _layout(frame, results, pool, colours, labels)

    # ---- figure and axes -----------------------------------------------------------------
    own = ax is None
    if own:
        fig = style.new_figure(10, 6)
        ax = fig.add_axes((0.1, 0.1, 0.5, 0.8))
    fig = ax.figure
    ax.set_ylim(total, -0.9)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", labelsize=style.FONT_SIZE)

    _draw_marks(ax, lines, weights)
    ax.axhline(separator, color="#b3b3b3", lw=0.7, zorder=1)
    ax.axvline(0.0, color=style.REFERENCE_LINE_COLOUR, lw=0.9, zorder=1)
    mcids = [] if mcid is None else ([mcid] if np.isscalar(mcid) else list(mcid))
    for v in mcids:
        ax.axvline(float(v), color=style.REFERENCE_LINE_COLOUR, lw=0.9, ls=(0, (4, 3)), zorder=1)
    lo = min(min(li.low for li in lines), 0.0, *mcids)
    hi = max(max(li.high for li in lines), 0.0, *mcids)
    pad = 0.04 * (hi - lo if hi > lo else 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel(xlabel or style.measure_label(meta["measure"], meta["rescale"]),
                  fontsize=style.FONT_SIZE, labelpad=17 if favours else 4)
    if favours:
        _favours(ax, favours)

    # ---- text columns --------------------------------------------------------------------
    columns = _text_columns(frame, weights, extra_columns, pool)
    left_pt = style.left_text_columns(ax, columns, row_y, summary_rows, COLUMN_GAP_PT)
    decimals = style.decimals_for([li.high - li.low for li in lines])
    cells = [(li.y, style.format_interval(li.estimate, li.low, li.high, decimals), li.colour,
              style.SMALL_FONT_SIZE if li.kind == "posterior" else style.FONT_SIZE,
              "bold" if li.kind == "pooled" else "normal") for li in lines]
    right_pt = style.right_text_column(ax, "Estimate\n[95% interval]", cells, COLUMN_GAP_PT)

    # ---- legend --------------------------------------------------------------------------
    handles = [Line2D([], [], color=style.OBSERVED_COLOUR, marker="s", ms=5, lw=1.1,
                      label="Observed effect, 95% CI")]
    for i in with_effects:
        name = "Shrunken posterior effect, 95% CrI"
        handles.append(Line2D([], [], color=colours[i], marker="o", ms=5, lw=1.6,
                              label=name + (f": {labels[i]}" if m > 1 else "")))
    if m == 1 and not with_effects:
        handles.append(Line2D([], [], color=colours[0], marker="D", ms=5, lw=0,
                              label=f"Bayesian: {labels[0]}"))
    handles.append(Line2D([], [], color=style.REFERENCE_LINE_COLOUR, lw=0.9, label="No effect (0)"))
    if mcids:
        handles.append(Line2D([], [], color=style.REFERENCE_LINE_COLOUR, lw=0.9, ls=(0, (4, 3)),
                              label="MCID " + ", ".join(style.format_number(float(v)) for v in mcids)))

    notes = _footnote(results, labels, meta, k, frame)
    legend = ax.legend(handles=handles, loc="upper left", frameon=False,
                       fontsize=style.SMALL_FONT_SIZE, ncol=2 if len(handles) > 3 else 1,
                       bbox_to_anchor=(0, 0), bbox_transform=ax.transAxes + style.inch_shift(
                           fig, -left_pt / 72, -(0.68 if favours else 0.45)))
    legend.set_in_layout(False)
    heading = title or style.figure_title("Posterior forest plot", meta["outcome"], meta["month"],
                                          meta["measure"], meta["simulated"])
    if own:
        # Title and notes hang from the top-left corner in inches, so resizing keeps them.
        corner = fig.transFigure
        head = fig.text(0, 1, heading, transform=corner + style.inch_shift(fig, 0.12, -0.12), ha="left",
                        va="top", fontsize=style.TITLE_FONT_SIZE, fontweight="bold")
        note = fig.text(0, 1, notes, transform=corner + style.inch_shift(fig, 0.12, -0.42), ha="left",
                        va="top", fontsize=style.SMALL_FONT_SIZE, color="#333333")
        renderer = fig.canvas.get_renderer()
        widest = max(head.get_window_extent(renderer).width, note.get_window_extent(renderer).width,
                     legend.get_window_extent(renderer).width) / fig.dpi
        _size_own_figure(fig, ax, total, left_pt, right_pt, len(handles), bool(favours), widest)
    else:
        ax.set_title(heading, loc="left", fontsize=style.TITLE_FONT_SIZE, pad=36)
    return fig


def _layout(frame: pd.DataFrame, results: list[Any], pool: Any, colours: list[str],
            labels: list[str]) -> tuple[list[_Line], list[float], list[tuple[float, str]], float, float]:
    """Every interval's height (y grows downwards, in lines), the comparisons' label heights,
    the summary rows' labels, the separator's height and the total height."""
    k, m = len(frame), len(results)
    with_effects = [i for i, r in enumerate(results) if r.study_effects is not None]
    crit = float(norm.isf((1 - CI_LEVEL) / 2))
    lines: list[_Line] = []
    row_y: list[float] = []
    y = 0.0
    yi = frame["yi"].to_numpy(float)
    se = np.sqrt(frame["vi"].to_numpy(float))
    for j in range(k):
        n_lines = 1 + len(with_effects)
        row_y.append(y + (n_lines - 1) / 2)
        lines.append(_Line(y, yi[j], yi[j] - crit * se[j], yi[j] + crit * se[j],
                           style.OBSERVED_COLOUR, "observed"))
        for pos, i in enumerate(with_effects, start=1):
            est = _study_effect(results[i].study_effects, frame["study"].iloc[j],
                                frame["comparison"].iloc[j])
            if est is not None:
                lines.append(_Line(y + pos, *est, colours[i], "posterior"))
        y += n_lines + ROW_GAP
    separator = y - ROW_GAP / 2
    y += 0.35
    summary_rows: list[tuple[float, str]] = []
    for i, r in enumerate(results):
        name = "Effect at mean covariates" if r.covariates else "Pooled effect \u03bc"
        row = _parameter(r, "mu_at_mean" if r.covariates else "mu")
        suffix = f" ({labels[i]})" if m > 1 else ""
        if row is not None:
            summary_rows.append((y, f"{name}, Bayesian{suffix}"))
            lines.append(_Line(y, *row, colours[i], "pooled"))
            y += SUMMARY_LINE
        pred = _parameter(r, "theta_new")
        if pred is not None:
            summary_rows.append((y, f"Prediction for a new study{suffix}"))
            lines.append(_Line(y, *pred, colours[i], "predictive"))
            y += SUMMARY_LINE
    if pool is not None:
        what = style.method_name(pool.method)
        kind = "random effects" if pool.random_effects else "fixed effect"
        summary_rows.append((y, f"{what} {kind} (frequentist)"))
        lines.append(_Line(y, pool.estimate, pool.ci_low, pool.ci_high,
                           style.FREQUENTIST_COLOUR, "pooled"))
        y += SUMMARY_LINE
        if pool.random_effects and np.isfinite(pool.pi_low):
            summary_rows.append((y, f"{what} prediction interval"))
            lines.append(_Line(y, pool.estimate, pool.pi_low, pool.pi_high,
                               style.FREQUENTIST_COLOUR, "predictive"))
            y += SUMMARY_LINE
    total = y - SUMMARY_LINE + 0.9
    return lines, row_y, summary_rows, separator, total


def _draw_marks(ax: Any, lines: list[_Line], weights: np.ndarray | None) -> None:
    """Squares (observed; area by weight), dots (posterior), diamonds (pooled) and bars
    (predictive)."""
    from matplotlib.patches import Polygon

    wmax = np.nanmax(weights) if weights is not None and np.any(np.isfinite(weights)) else None
    obs_j = 0
    for line in lines:
        if line.kind == "observed":
            size = 5.0
            if wmax:
                size = 3.5 + 5.5 * float(np.sqrt(weights[obs_j] / wmax))
            obs_j += 1
            ax.plot([line.low, line.high], [line.y, line.y], color=line.colour, lw=1.1,
                    solid_capstyle="butt", zorder=3)
            ax.plot([line.estimate], [line.y], marker="s", ms=size, color=line.colour, zorder=4)
        elif line.kind == "posterior":
            ax.plot([line.low, line.high], [line.y, line.y], color=line.colour, lw=1.6, zorder=3)
            ax.plot([line.estimate], [line.y], marker="o", ms=5, color=line.colour,
                    markeredgecolor="white", markeredgewidth=0.6, zorder=4)
        elif line.kind == "pooled":
            half = 0.42
            ax.add_patch(Polygon([(line.low, line.y), (line.estimate, line.y - half),
                                  (line.high, line.y), (line.estimate, line.y + half)],
                                 closed=True, facecolor=line.colour, edgecolor=line.colour,
                                 zorder=4))
        else:
            ax.errorbar([line.estimate], [line.y],
                        xerr=[[line.estimate - line.low], [line.high - line.estimate]],
                        fmt="none", ecolor=line.colour, elinewidth=1.3, capsize=3.5,
                        capthick=1.3, zorder=3)
            ax.plot([line.low, line.high], [line.y, line.y], color=line.colour, lw=5,
                    alpha=0.22, solid_capstyle="butt", zorder=2)


# ---- data helpers ----------------------------------------------------------------------


def _as_list(results: Any) -> list[Any]:
    if isinstance(results, (list, tuple)):
        out = list(results)
    else:
        out = [results]
    if not out:
        raise ValueError("posterior_forest needs at least one Bayesian result")
    return out


def _effects_frame(effects: Any, results: list[Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
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
        "rescale": getattr(table, "rescale", None),
        "simulated": bool(getattr(table, "simulated", False))
        or any(bool(getattr(r, "simulated", False)) for r in results),
        "multiarm": getattr(table, "multiarm", getattr(first, "multiarm", None)),
    }
    return frame.reset_index(drop=True), meta


def _check_same_analysis(results: list[Any], pool: Any, meta: dict[str, Any]) -> None:
    """Every result must be of the effect table's outcome and month (when both say)."""
    for obj in [*results, pool]:
        if obj is None:
            continue
        for attr in ("outcome", "month"):
            mine, theirs = meta[attr], getattr(obj, attr, None)
            if mine is not None and theirs is not None and str(mine) != str(theirs) \
                    and not _same_number(mine, theirs):
                raise ValueError(f"{type(obj).__name__} is for {attr} {theirs!r}, "
                                 f"the effect table for {mine!r}")
    if pool is not None:
        meta["simulated"] = meta["simulated"] or bool(getattr(pool, "simulated", False))


def _same_number(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def _study_effect(study_effects: pd.DataFrame, study: str,
                  comparison: str) -> tuple[float, float, float] | None:
    """The shrunken effect of one comparison, matched on study and comparison (comparison
    labels such as "msc_40m vs placebo" repeat across studies)."""
    hit = study_effects["comparison"].astype(str) == str(comparison)
    if "study" in study_effects.columns:
        hit &= study_effects["study"].astype(str) == str(study)
    rows = study_effects.loc[hit]
    if rows.empty:
        return None
    row = rows.iloc[0]
    return float(row["mean"]), float(row["eti_low"]), float(row["eti_high"])


def _parameter(result: Any, name: str) -> tuple[float, float, float] | None:
    p = result.parameters
    if name not in p.index:
        return None
    row = p.loc[name]
    return float(row["mean"]), float(row["eti_low"]), float(row["eti_high"])


def _weights(frame: pd.DataFrame, pool: Any) -> np.ndarray | None:
    """The pool's weights (percent) in the frame's comparison order: by position when the
    pool lists the frame's comparisons in order, else by label when labels are unique."""
    if pool is None:
        return None
    labels = [str(x) for x in pool.labels]
    weights = np.asarray(pool.weights, dtype=float)
    comparisons = [str(c) for c in frame["comparison"]]
    if labels == comparisons:
        return weights
    by_label = dict(zip(labels, weights))
    if len(by_label) == len(labels) and set(comparisons) <= set(by_label):
        return np.array([by_label[c] for c in comparisons])
    raise ValueError("the pool's comparison labels do not match the effect table's "
                     f"comparisons: {sorted(set(comparisons) - set(by_label))} not in the pool"
                     if not set(comparisons) <= set(by_label) else
                     "the pool's comparison labels repeat and are not in the effect table's order")


def _text_columns(frame: pd.DataFrame, weights: np.ndarray | None, extra: Sequence[str],
                  pool: Any) -> list[tuple[str, list[str]]]:
    """(header, cells) of the left-hand columns."""
    cols = [("Study", [str(s) for s in frame["study"]])]
    if {"treatment_arm", "control_arm"} <= set(frame.columns):
        cells = [f"{t} vs {c}" for t, c in zip(frame["treatment_arm"], frame["control_arm"])]
    else:
        cells = [str(c) for c in frame["comparison"]]
    if cells != cols[0][1]:  # a comparison named like its study says nothing new
        cols.append(("Comparison", cells))
    for name in extra:
        if name == "weight":
            if weights is not None:
                cols.append((f"Weight\n({pool.method.upper()}, %)",
                             [style.format_number(w, 1) for w in weights]))
        elif name in frame.columns and frame[name].notna().any():
            header = style.covariate_label(name, two_lines=True)
            cols.append((header, [_cell(v) for v in frame[name]]))
    if {"n_treatment", "n_control"} <= set(frame.columns) \
            and frame[["n_treatment", "n_control"]].notna().any(axis=None):
        cols.append(("n\n(T/C)", [f"{_cell(a)}/{_cell(b)}"
                                  for a, b in zip(frame["n_treatment"], frame["n_control"])]))
    return cols


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return "\u2013"
    if isinstance(v, (int, float, np.integer, np.floating)):
        return style.format_number(round(float(v), 2))
    return str(v)


def _favours(ax: Any, favours: tuple[str, str]) -> None:
    fig = ax.figure
    below = style.inch_shift(fig, 0, -0.27)
    ax.text(0, 0, "\u2190 " + favours[0], transform=ax.transAxes + below, ha="left", va="top",
            fontsize=style.SMALL_FONT_SIZE, color="#333333")
    ax.text(1, 0, favours[1] + " \u2192", transform=ax.transAxes + below, ha="right", va="top",
            fontsize=style.SMALL_FONT_SIZE, color="#333333")


MULTIARM_TEXT = {
    "split": "a shared control's n is split among its comparisons",
    "shared": "a shared control is kept whole and the comparisons' correlation modelled",
}


def _footnote(results: list[Any], labels: list[str], meta: dict[str, Any], k: int,
              frame: pd.DataFrame) -> str:
    """Two lines: what the rows are, then what the Bayesian marks are."""
    studies = frame["study"].nunique()
    first = [f"{k} comparison{'s' * (k != 1)} from {studies} stud{'ies' if studies != 1 else 'y'}"]
    if meta.get("multiarm"):
        first.append("multi-arm trials: " + MULTIARM_TEXT.get(meta["multiarm"], meta["multiarm"]))
    second = ["Bayesian: posterior mean and 95% equal-tailed credible interval"]
    if len(results) == 1:
        second.append(labels[0])
    return "; ".join(first) + "\n" + "; ".join(second)


def _size_own_figure(fig: Any, ax: Any, total_lines: float, left_pt: float, right_pt: float,
                     n_handles: int, favours: bool, text_inches: float) -> None:
    """Size the figure so every row, column, legend and title (``text_inches`` wide) fits."""
    top = 0.8 + 0.42  # title and two lines of notes, then the two-line column headers
    legend_rows = (n_handles + 1) // 2 if n_handles > 3 else n_handles
    bottom = (0.68 if favours else 0.45) + 0.2 * legend_rows + 0.2
    plot_h = max(total_lines * LINE_INCHES, 1.5)
    width = 0.15 + left_pt / 72 + PLOT_INCHES + right_pt / 72 + 0.15
    width = max(width, text_inches + 0.35)
    height = top + plot_h + bottom
    fig.set_size_inches(width, height)
    x0 = 0.15 + left_pt / 72
    ax.set_position((x0 / width, bottom / height, PLOT_INCHES / width, plot_h / height))

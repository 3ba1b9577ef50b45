"""Figures of a simulation study: one performance measure by design and method.

:func:`performance_figure` draws, for each design (a row) and each method (a colour and
marker, rows dodged), the measure with a bar of +/- 1.96 Monte Carlo SEs (the 95% Monte
Carlo interval of the measure), and the reference the measure is judged against (the
nominal level for coverage, 0 for bias, the nominal error rate for power where the true
mu is 0). Built on a matplotlib Figure without pyplot, public API only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayes_msc.plots.style import (
    FONT_SIZE,
    PALETTE,
    REFERENCE_LINE_COLOUR,
    SIMULATED_TAG,
    SMALL_FONT_SIZE,
    TITLE_FONT_SIZE,
    new_figure,
)

MEASURE_LABELS: dict[str, str] = {
    "coverage": "Coverage of the {level:g}% interval",
    "width": "Mean width of the {level:g}% interval",
    "bias": "Bias of the estimate of mu",
    "rmse": "Root mean squared error",
    "power": "Rejection rate of mu = 0 (power; type I error where mu = 0)",
    "empirical_se": "Empirical SE of the estimate",
}
PROPORTIONS = ("coverage", "power")
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "<", ">")
MC_Z = 1.959963984540054


def _table(result: Any) -> Any:
    return result.summary() if hasattr(result, "summary") else result


def performance_figure(result: Any, measure: str = "coverage", *, level: float = 0.95, title: str | None = None) -> Any:
    """One measure of a simulation study by design (rows) and method (colours).

    Parameters
    ----------
    result : SimulationStudyResult or DataFrame
        The study's result, or its ``summary()`` table.
    measure : {"coverage", "width", "bias", "rmse", "power", "empirical_se"}
    level : float
        The study's interval level (for the coverage reference line and the labels).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if measure not in MEASURE_LABELS:
        raise ValueError(f"measure must be one of {', '.join(MEASURE_LABELS)}, not {measure!r}")
    if hasattr(result, "study"):
        level = result.study.level
    table = _table(result)
    designs = list(dict.fromkeys(table["design"]))
    methods = list(dict.fromkeys(table["method"]))
    height = 1.3 + 0.32 * len(designs) * max(len(methods), 2) ** 0.5 + 0.25 * len(methods)
    fig = new_figure(7.5, max(3.0, height))
    ax = fig.add_axes((0.3, 0.14 + 0.035 * len(methods), 0.66, 0.74 - 0.035 * len(methods)))
    step = 0.7 / max(len(methods), 1)
    for j, method in enumerate(methods):
        rows = table[table["method"] == method].set_index("design").reindex(designs)
        y = np.arange(len(designs)) - 0.35 + step * (j + 0.5)
        value = rows[measure].to_numpy(dtype=float)
        half = MC_Z * rows[f"{measure}_mcse"].to_numpy(dtype=float)
        half = np.where(np.isfinite(half), half, 0.0)
        low = high = half
        if measure in PROPORTIONS:  # a proportion's bar stops at 0 and 1
            low, high = np.minimum(half, value), np.minimum(half, 1.0 - value)
        colour = PALETTE[j % len(PALETTE)]
        ax.errorbar(
            value,
            y,
            xerr=np.vstack([low, high]),
            fmt=MARKERS[j % len(MARKERS)],
            color=colour,
            markersize=5,
            capsize=2.5,
            elinewidth=1.2,
            label=str(method),
        )
    reference = _reference(table, measure, level)
    if reference is not None:
        ax.axvline(reference, color=REFERENCE_LINE_COLOUR, linestyle="--", linewidth=1.0)
    for i in range(1, len(designs)):
        ax.axhline(i - 0.5, color="#d0d0d0", linewidth=0.6)
    ax.set_yticks(np.arange(len(designs)))
    ax.set_yticklabels(designs, fontsize=FONT_SIZE)
    ax.set_ylim(len(designs) - 0.5, -0.5)
    ax.tick_params(axis="x", labelsize=FONT_SIZE)
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel(MEASURE_LABELS[measure].format(level=100 * level), fontsize=FONT_SIZE)
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.13 - 0.02 * len(methods)),
        ncol=min(len(methods), 4),
        fontsize=SMALL_FONT_SIZE,
        frameon=False,
    )
    head = title or MEASURE_LABELS[measure].format(level=100 * level)
    fig.suptitle(f"{SIMULATED_TAG}: {head}", fontsize=TITLE_FONT_SIZE, x=0.02, ha="left")
    fig.text(
        0.02,
        0.01,
        "bars: \u00b11.96 Monte Carlo SE" + ("" if reference is None else "; dashed line: nominal value"),
        fontsize=SMALL_FONT_SIZE,
        color="#444444",
    )
    return fig


def _reference(table: Any, measure: str, level: float) -> float | None:
    """The value a measure is judged against, where it has one."""
    if measure == "coverage":
        return level
    if measure == "bias":
        return 0.0
    if measure == "power" and bool(np.all(np.isclose(table["mu"].to_numpy(dtype=float), 0.0))):
        return 1.0 - level
    return None

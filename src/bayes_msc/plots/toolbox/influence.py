"""The Baujat plot (metafor ``baujat``) and the forest-style figure of a cumulative
meta-analysis (metafor ``forest(cumul(...))``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from bayes_msc.plots.style import (
    FREQUENTIST_COLOUR,
    OBSERVED_COLOUR,
    PALETTE,
    REFERENCE_LINE_COLOUR,
    SMALL_FONT_SIZE,
    figure_title,
    interval_labels_right,
    measure_label,
    method_name,
    new_figure,
)

MAX_LISTED = 30
"""Comparisons listed by name beside a Baujat plot; beyond that only their numbers show."""


def plot_baujat(x: Any, method: str = "dl", title: str | None = None) -> Any:
    """Baujat plot: each comparison's contribution to the heterogeneity (its squared Pearson
    residual, x axis) against its influence on the pooled estimate (the squared change of
    the estimate when it is left out, scaled by that estimate's variance, y axis); the
    comparisons in the top right drive both. Points are numbered in table order; influential
    comparisons (metafor's rule) are drawn in colour.

    Parameters
    ----------
    x : InfluenceResult, PoolResult or EffectTable
        Influence diagnostics, or what :func:`bayes_msc.frequentist.influence.influence`
        takes (a table is pooled with ``method``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from bayes_msc.frequentist.influence import influence
    from bayes_msc.results.toolbox.influence import InfluenceResult

    inf = x if isinstance(x, InfluenceResult) else influence(x, method=method)
    listed = inf.k <= MAX_LISTED
    fig = new_figure(8.2 if listed else 6.4, max(4.4, 0.17 * inf.k + 1.2) if listed else 4.8)
    ax = fig.add_subplot()
    colours = np.where(inf.inf, PALETTE[1], OBSERVED_COLOUR)
    ax.scatter(inf.baujat_x, inf.baujat_y, s=22, c=list(colours), zorder=3)
    for i, (bx, by) in enumerate(zip(inf.baujat_x, inf.baujat_y, strict=True)):
        ax.annotate(str(i + 1), (bx, by), xytext=(4, 3), textcoords="offset points", fontsize=SMALL_FONT_SIZE)
    what = "Contribution to overall heterogeneity" if inf.method == "fe" else "Squared Pearson residual"
    ax.set_xlabel(what)
    ax.set_ylabel("Influence on the pooled estimate")
    ax.margins(0.08)
    ax.set_title(title or figure_title("Baujat plot", inf.outcome, inf.month, inf.measure, inf.simulated), fontsize=10)
    if listed:
        names = "\n".join(
            f"{i + 1}  {lab}" + ("  *" if f else "") for i, (lab, f) in enumerate(zip(inf.labels, inf.inf, strict=True))
        )
        ax.text(1.03, 1.0, names, transform=ax.transAxes, va="top", ha="left", fontsize=7.0, family="monospace")
        ax.text(
            1.03,
            -0.12,
            f"* influential ({method_name(inf.method)})",
            transform=ax.transAxes,
            fontsize=7.0,
            color=PALETTE[1],
        )
    fig.tight_layout()
    return fig


def plot_cumulative(x: Any, title: str | None = None, reference: float = 0.0) -> Any:
    """Forest-style figure of a cumulative meta-analysis: one row per comparison added (in
    the analysis's order), the pooled estimate and its confidence interval so far.

    Parameters
    ----------
    x : CumulativeResult
    reference : float
        The no-effect line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from bayes_msc.errors import InputError, Problem
    from bayes_msc.results.toolbox.influence import CumulativeResult

    if not isinstance(x, CumulativeResult):
        raise InputError(
            Problem(f"x must be a cumulative result (bm.cumulative), not {type(x).__name__}", argument="x")
        )
    rows = x.rows
    n = len(rows)
    fig = new_figure(8.2, 0.28 * n + 1.5)
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    est = np.array([r.estimate for r in rows])
    lo, hi = np.array([r.ci_low for r in rows]), np.array([r.ci_high for r in rows])
    ax.hlines(y, lo, hi, color=FREQUENTIST_COLOUR, lw=1.2)
    ax.scatter(est, y, marker="s", s=22, color=PALETTE[0], zorder=3)
    ax.axvline(reference, color=REFERENCE_LINE_COLOUR, lw=0.8, ls="--")
    ax.set_yticks(y)
    ax.set_yticklabels([f"+ {r.added} ({r.order_value})" for r in rows], fontsize=SMALL_FONT_SIZE)
    interval_labels_right(ax, y, [(r.estimate, r.ci_low, r.ci_high) for r in rows], 2)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(measure_label(x.measure) + f"; {100 * x.level:g}% CI, {method_name(x.method)}")
    by = x.order + (", decreasing" if x.decreasing else "")
    ax.set_title(
        title or figure_title(f"Cumulative meta-analysis by {by}", x.outcome, x.month, x.measure, x.simulated),
        fontsize=10,
    )
    fig.tight_layout()
    return fig

"""The subgroup figure: each level's pooled effect and confidence interval, with the test for
subgroup differences (metafor's ``forest`` of a subgroup analysis, one row per level)."""

from __future__ import annotations

from typing import Any

import numpy as np

from bayes_msc.plots.style import (
    FREQUENTIST_COLOUR,
    PALETTE,
    REFERENCE_LINE_COLOUR,
    SMALL_FONT_SIZE,
    figure_title,
    format_number,
    interval_labels_right,
    measure_label,
    method_name,
    new_figure,
)


def plot_subgroup(x: Any, title: str | None = None, reference: float = 0.0) -> Any:
    """One row per level of a subgroup analysis: its pooled effect (a filled square; hollow
    for a level whose comparisons come from one study, a within-study summary) and its
    confidence interval; the test for subgroup differences below.

    Parameters
    ----------
    x : SubgroupResult
        From :func:`bayes_msc.subgroup`.
    reference : float
        The no-effect line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from bayes_msc.errors import InputError, Problem
    from bayes_msc.results.subgroup import SubgroupResult

    if not isinstance(x, SubgroupResult):
        raise InputError(Problem(f"x must be a subgroup result (bm.subgroup), not {type(x).__name__}", argument="x"))
    levels = x.levels
    n = len(levels)
    fig = new_figure(8.2, 0.34 * n + 2.1)
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    est = np.array([lv.estimate for lv in levels])
    lo, hi = np.array([lv.ci_low for lv in levels]), np.array([lv.ci_high for lv in levels])
    pooled = np.array([lv.pooled for lv in levels])
    ax.hlines(y, lo, hi, color=FREQUENTIST_COLOUR, lw=1.2)
    ax.scatter(est[pooled], y[pooled], marker="s", s=30, color=PALETTE[0], zorder=3)
    ax.scatter(est[~pooled], y[~pooled], marker="s", s=30, facecolors="white", edgecolors=PALETTE[0], zorder=3)
    ax.axvline(reference, color=REFERENCE_LINE_COLOUR, lw=0.8, ls="--")
    ax.set_yticks(y)
    ax.set_yticklabels(
        [
            f"{lv.level}{' (reference)' if lv.level == x.reference else ''}  k={lv.k}, {lv.n_studies} "
            f"stud{'y' if lv.n_studies == 1 else 'ies'}"
            for lv in levels
        ],
        fontsize=SMALL_FONT_SIZE,
    )
    interval_labels_right(ax, y, [(lv.estimate, lv.ci_low, lv.ci_high) for lv in levels], 2)
    ax.set_ylim(-0.7, n - 0.3)
    tau = "tau^2 per level" if x.tau2_mode == "separate" else "common tau^2"
    ax.set_xlabel(measure_label(x.measure) + f"; {100 * x.ci_level:g}% CI, {method_name(x.method)}, {tau}")
    stat = "Q" if x.q_between_test == "chi2" else "F"
    note = f"Test for subgroup differences: {stat} = {format_number(x.q_between, 2)}, df = {x.q_between_df}, "
    note += f"p = {x.q_between_p:.3g}"
    if not pooled.all():
        note += "\nhollow: a level from one study (a within-study summary, not pooled across studies)"
    fig.text(0.01, 0.01, note, fontsize=7.0, va="bottom", ha="left")
    ax.set_title(title or figure_title(f"Subgroups by {x.by}", x.outcome, x.month, x.measure, x.simulated), fontsize=10)
    fig.tight_layout(rect=(0.0, 0.45 / fig.get_figheight(), 1.0, 1.0))
    return fig

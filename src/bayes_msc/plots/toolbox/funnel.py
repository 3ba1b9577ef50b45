"""The funnel plot (metafor ``funnel``): effects against their standard errors.

The pseudo-confidence region is ``estimate +/- z SE`` for every SE from 0 to the largest; the
contour-enhanced version (Peters et al. 2008, J Clin Epidemiol 61:991) shades, around no
effect, where a single comparison would be significant at 10%, 5% and 1%. The studies added
by trim and fill are drawn as open circles, with the filled estimate.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from bayes_msc.plots.style import (
    FREQUENTIST_COLOUR,
    OBSERVED_COLOUR,
    PALETTE,
    figure_title,
    format_number,
    measure_label,
    method_name,
    new_figure,
)

CONTOUR_GREYS: tuple[str, ...] = ("#ffffff", "#dcdcdc", "#b4b4b4", "#8c8c8c")
"""Shades from p > 10% (white) to p < 1%, as metafor's contour-enhanced funnel."""


def plot_funnel(
    x: Any,
    contours: Sequence[float] | None = None,
    level: float | None = None,
    reference: float = 0.0,
    method: str = "dl",
    title: str | None = None,
) -> Any:
    """Funnel plot of a pooled result, an effect table or a trim-and-fill result.

    Parameters
    ----------
    x : PoolResult, EffectTable or TrimfillResult
        A table is pooled with ``method`` first. A trim-and-fill result adds its filled
        studies (open circles) and its filled estimate (dashed).
    contours : sequence of float, optional
        Significance levels of a contour-enhanced funnel around ``reference``, e.g.
        ``(0.10, 0.05, 0.01)``; None: the plain funnel.
    level : float, optional
        Probability of the pseudo-confidence region (default: the pooled result's level).
    reference : float
        The no-effect line of the contours.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from scipy import stats

    from bayes_msc.frequentist.pooling import pooled
    from bayes_msc.results.toolbox.small_study import TrimfillResult

    trim = x if isinstance(x, TrimfillResult) else None
    res = trim.original if trim is not None else pooled(x, method=method)[0]
    level = res.level if level is None else level
    se = np.sqrt(res.vi)
    fill_se = np.sqrt(trim.fill_vi) if trim is not None else np.empty(0)
    top = 1.08 * float(max(se.max(), fill_se.max() if fill_se.size else 0.0))
    grid = np.linspace(0.0, top, 200)
    fig = new_figure(8.2, 4.6)
    ax = fig.add_subplot()
    if contours:
        _contours(ax, sorted(contours, reverse=True), grid, reference, far=float(np.abs(res.yi - reference).max()))
    z = float(stats.norm.isf((1 - level) / 2))
    ax.plot(res.estimate - z * grid, grid, color=FREQUENTIST_COLOUR, lw=0.9, ls=":")
    ax.plot(
        res.estimate + z * grid, grid, color=FREQUENTIST_COLOUR, lw=0.9, ls=":", label=f"{100 * level:g}% pseudo-CI"
    )
    ax.axvline(
        res.estimate,
        color=PALETTE[0],
        lw=1.2,
        label=f"pooled ({method_name(res.method)}): {format_number(res.estimate, 2)}",
    )
    ax.scatter(res.yi, se, s=28, color=OBSERVED_COLOUR, zorder=3, label=f"comparisons (k = {res.k})")
    if trim is not None and trim.k0:
        ax.scatter(
            trim.fill_yi,
            fill_se,
            s=28,
            facecolor="white",
            edgecolor=OBSERVED_COLOUR,
            zorder=3,
            label=f"filled by trim and fill ({trim.k0})",
        )
        ax.axvline(
            trim.filled.estimate,
            color=PALETTE[1],
            lw=1.2,
            ls="--",
            label=f"after trim and fill: {format_number(trim.filled.estimate, 2)}",
        )
    xs = np.concatenate(
        [res.yi, trim.fill_yi if trim is not None else [], [res.estimate - z * top, res.estimate + z * top]]
    )
    pad = 0.05 * float(np.ptp(xs))
    ax.set_xlim(float(xs.min()) - pad, float(xs.max()) + pad)
    ax.set_ylim(top, 0)
    ax.set_ylabel("Standard error")
    ax.set_xlabel(measure_label(res.measure))
    ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    ax.set_title(title or figure_title("Funnel plot", res.outcome, res.month, res.measure, res.simulated), fontsize=10)
    fig.tight_layout()
    return fig


def _contours(ax: Any, levels: list[float], grid: np.ndarray, reference: float, far: float) -> None:
    """Shade where one comparison's z test against ``reference`` has p above the largest
    level (white), between consecutive levels, and below the smallest (darkest)."""
    from scipy import stats

    if len(levels) > len(CONTOUR_GREYS) - 1 or not all(0 < a < 1 for a in levels):
        raise ValueError(f"contours: up to {len(CONTOUR_GREYS) - 1} levels between 0 and 1")
    crit = [float(stats.norm.isf(a / 2)) for a in levels]  # increasing
    far = max(far, crit[-1] * grid[-1]) * 1.3
    shades = CONTOUR_GREYS[: len(levels) + 1]
    ax.fill_betweenx(grid, reference - far, reference + far, color=shades[-1], lw=0)
    for c, shade in zip(crit[::-1], shades[-2::-1], strict=True):
        ax.fill_betweenx(grid, reference - c * grid, reference + c * grid, color=shade, lw=0)
    labels = [f"p > {format_number(levels[0])}"]
    labels += [f"{format_number(lo)} < p < {format_number(hi)}" for hi, lo in itertools.pairwise(levels)]
    labels.append(f"p < {format_number(levels[-1])}")
    for shade, lab in zip(shades, labels, strict=True):
        ax.fill_between([], [], color=shade, label=lab, ec="#8c8c8c", lw=0.5)

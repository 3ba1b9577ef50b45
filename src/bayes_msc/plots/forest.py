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

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bayes_msc.plots import forest_data as fd
from bayes_msc.plots import style, text_layout

LINE_INCHES = 0.19
"""Height of one drawn line (an interval) in inches; rows are made of such lines."""
PLOT_INCHES = 4.2
COLUMN_GAP_PT = 10.0


def posterior_forest(
    results: Any,
    effects: Any,
    pool: Any = None,
    extra_columns: Sequence[str] = (),
    mcid: float | Sequence[float] | None = None,
    ax: Any = None,
    *,
    favours: tuple[str, str] | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    study_labels: Mapping[str, str] | None = None,
    heterogeneity: Any = True,
) -> Any:
    """Forest plot of observed and shrunken posterior effects, pooled and predicted effects.

    Parameters
    ----------
    results : BayesResult or sequence of BayesResult
        One or more posteriors of the same outcome and month (prior sets or models); their
        ``study_effects`` give the shrunken effects (matched by ``comparison``), their
        ``parameters`` give ``mu`` (with covariates: at their reference values) and ``theta_new``.
        Several results are drawn side by side, one colour each, with a legend.
    effects : EffectTable or DataFrame
        The effect-size table (``study, comparison, treatment_arm, control_arm, yi, vi,
        n_treatment, n_control`` and covariates); one row per comparison, in this order.
    pool : PoolResult, optional
        Frequentist pool drawn as a reference row (diamond and prediction interval); it
        also gives the ``weight`` column (matched by comparison label).
    extra_columns : sequence of str
        Text columns between the comparison and n: effect-table columns (covariates such
        as ``dose_million``), or ``weight`` (needs ``pool``). Columns the data do not have
        are left out.
    mcid : float or sequence of float, optional
        Minimal clinically important difference(s), drawn as dashed vertical lines.
    ax : matplotlib Axes, optional
        Draw into this axes. Text columns go outside it (left and right); the figure of a
        subplot (``fig.subplots``, ``add_subplot``) without a layout engine gets matplotlib's
        constrained layout, which makes room for them (an axes placed by hand stays where it
        is). Without ``ax`` a figure is sized to fit everything.
    favours : (str, str), optional
        Labels under the axis for its left and right side, e.g.
        ``("favours MSCs", "favours control")`` for a pain score.
    xlabel, title : str, optional
        Override the axis label (default: the measure and the scale the effect table's
        values are on) and the title.
    study_labels : mapping, optional
        Study id -> the label shown (``Dataset.study_labels()``: "Lamo-Espinosa 2016").
    heterogeneity : bool or PoolResult
        The footnote's heterogeneity line (I^2, tau^2, Q and its p): of ``pool`` (True),
        of the PoolResult given, or none (False or None).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.lines import Line2D

    results = fd.as_list(results)
    frame, meta = fd.effects_frame(effects, results)
    fd.check_same_analysis(results, pool, meta)
    k, m = len(frame), len(results)
    colours = [style.PALETTE[i % len(style.PALETTE)] for i in range(m)]
    labels = style.series_labels(results)
    with_effects = [i for i, r in enumerate(results) if r.study_effects is not None]
    weights = fd.weights_of(frame, pool)
    lines, row_y, summary_rows, separator, total = fd.layout(frame, results, pool, colours, labels)

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
    ax.set_xlabel(
        xlabel or style.measure_label(meta["measure"], meta["scale"]),
        fontsize=style.FONT_SIZE,
        labelpad=17 if favours else 4,
    )
    if favours:
        _favours(ax, favours)

    # ---- text columns --------------------------------------------------------------------
    columns = fd.text_columns(frame, weights, extra_columns, pool, study_labels)
    left_pt = text_layout.left_text_columns(ax, columns, row_y, summary_rows, COLUMN_GAP_PT)
    decimals = style.decimals_for([li.high - li.low for li in lines])
    cells = [
        (
            li.y,
            style.format_interval(li.estimate, li.low, li.high, decimals),
            li.colour,
            style.SMALL_FONT_SIZE if li.kind == "posterior" else style.FONT_SIZE,
            "bold" if li.kind == "pooled" else "normal",
        )
        for li in lines
    ]
    right_pt = text_layout.right_text_column(ax, "Estimate\n[95% interval]", cells, COLUMN_GAP_PT)

    # ---- legend --------------------------------------------------------------------------
    handles = [Line2D([], [], color=style.OBSERVED_COLOUR, marker="s", ms=5, lw=1.1, label="Observed effect, 95% CI")]
    for i in with_effects:
        name = "Shrunken posterior effect, 95% CrI"
        handles.append(
            Line2D([], [], color=colours[i], marker="o", ms=5, lw=1.6, label=name + (f": {labels[i]}" if m > 1 else ""))
        )
    if m == 1 and not with_effects:
        handles.append(Line2D([], [], color=colours[0], marker="D", ms=5, lw=0, label=f"Bayesian: {labels[0]}"))
    handles.append(Line2D([], [], color=style.REFERENCE_LINE_COLOUR, lw=0.9, label="No effect (0)"))
    if mcids:
        handles.append(
            Line2D(
                [],
                [],
                color=style.REFERENCE_LINE_COLOUR,
                lw=0.9,
                ls=(0, (4, 3)),
                label="MCID " + ", ".join(style.format_number(float(v)) for v in mcids),
            )
        )

    het = pool if heterogeneity is True else (heterogeneity or None)
    notes = fd.footnote(results, labels, meta, k, frame, het)
    legend = ax.legend(
        handles=handles,
        loc="upper left",
        frameon=False,
        fontsize=style.SMALL_FONT_SIZE,
        ncol=2 if len(handles) > 3 else 1,
        bbox_to_anchor=(0, 0),
        bbox_transform=ax.transAxes + text_layout.inch_shift(fig, -left_pt / 72, -(0.68 if favours else 0.45)),
    )
    legend.set_in_layout(not own)  # a given axes' figure lays itself out, legend included
    heading = title or style.figure_title(
        "Posterior forest plot", meta["outcome"], meta["month"], meta["measure"], meta["simulated"]
    )
    if own:
        # Title and notes hang from the top-left corner in inches, so resizing keeps them.
        corner = fig.transFigure
        head = fig.text(
            0,
            1,
            heading,
            transform=corner + text_layout.inch_shift(fig, 0.12, -0.12),
            ha="left",
            va="top",
            fontsize=style.TITLE_FONT_SIZE,
            fontweight="bold",
        )
        note = fig.text(
            0,
            1,
            notes,
            transform=corner + text_layout.inch_shift(fig, 0.12, -0.42),
            ha="left",
            va="top",
            fontsize=style.SMALL_FONT_SIZE,
            color="#333333",
        )
        renderer = text_layout.measuring_renderer(fig)
        widest = (
            max(
                head.get_window_extent(renderer).width,
                note.get_window_extent(renderer).width,
                legend.get_window_extent(renderer).width,
            )
            / fig.dpi
        )
        _size_own_figure(fig, ax, total, left_pt, right_pt, len(handles), bool(favours), widest, notes.count("\n"))
    else:
        # Title and notes start at the text columns' left edge, in the layout (a figure
        # without a layout engine gets constrained layout), wrapped to the figure's width.
        legend_h = 0.2 * ((len(handles) + 1) // 2 if len(handles) > 3 else len(handles))
        width_in = fig.get_figwidth()
        ax.text(
            0,
            1,
            text_layout.wrap(heading, fig, width_in - 0.3, style.TITLE_FONT_SIZE, "bold"),
            transform=ax.transAxes + text_layout.inch_shift(fig, -left_pt / 72, 0.5),
            ha="left",
            va="bottom",
            fontsize=style.TITLE_FONT_SIZE,
            fontweight="bold",
        )
        ax.text(
            0,
            0,
            text_layout.wrap(notes, fig, width_in - 0.3, style.SMALL_FONT_SIZE),
            transform=ax.transAxes
            + text_layout.inch_shift(fig, -left_pt / 72, -(0.68 if favours else 0.45) - legend_h - 0.1),
            ha="left",
            va="top",
            fontsize=style.SMALL_FONT_SIZE,
            color="#333333",
        )
        if fig.get_layout_engine() is None and ax.get_subplotspec() is not None:  # placed by hand: left so
            fig.set_layout_engine("constrained")
    return fig


def _draw_marks(ax: Any, lines: list[fd.Line], weights: np.ndarray | None) -> None:
    """Squares (observed; area by weight), dots (posterior), diamonds (pooled) and bars
    (predictive).

    Markers and bars are one collection per kind rather than an artist per interval
    (matplotlib's cost is per artist); each observed and posterior interval stays its own
    line, so the figure can be read back interval by interval.
    """
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.lines import Line2D

    wmax = np.nanmax(weights) if weights is not None and np.any(np.isfinite(weights)) else None
    by_kind: dict[str, list[fd.Line]] = {"observed": [], "posterior": [], "pooled": [], "predictive": []}
    for line in lines:
        by_kind[line.kind].append(line)

    def segments(group: list[fd.Line]) -> list[list[tuple[float, float]]]:
        return [[(li.low, li.y), (li.high, li.y)] for li in group]

    def colours(group: list[fd.Line]) -> list[str]:
        return [li.colour for li in group]

    def intervals(group: list[fd.Line], **kw: Any) -> None:
        for li in group:  # add_artist: the axis limits are set by the caller
            ax.add_artist(Line2D([li.low, li.high], [li.y, li.y], color=li.colour, zorder=3, **kw))

    observed, posterior = by_kind["observed"], by_kind["posterior"]
    pooled, predictive = by_kind["pooled"], by_kind["predictive"]
    if observed:
        sizes = np.full(len(observed), 5.0)
        if wmax:
            sizes = 3.5 + 5.5 * np.sqrt(np.asarray(weights, float) / wmax)
        intervals(observed, lw=1.1, solid_capstyle="butt")
        ax.scatter(
            [li.estimate for li in observed],
            [li.y for li in observed],
            s=sizes**2,
            marker="s",
            c=colours(observed),
            edgecolors=colours(observed),
            linewidths=1.0,
            zorder=4,
        )
    if posterior:
        intervals(posterior, lw=1.6)
        ax.scatter(
            [li.estimate for li in posterior],
            [li.y for li in posterior],
            s=5.0**2,
            marker="o",
            c=colours(posterior),
            edgecolors="white",
            linewidths=0.6,
            zorder=4,
        )
    if pooled:
        half = 0.42
        ax.add_collection(
            PolyCollection(
                [
                    [(li.low, li.y), (li.estimate, li.y - half), (li.high, li.y), (li.estimate, li.y + half)]
                    for li in pooled
                ],
                facecolors=colours(pooled),
                edgecolors=colours(pooled),
                zorder=4,
            ),
            autolim=False,
        )
    if predictive:
        # A bar with end caps over a faint wide band.
        ax.add_collection(
            LineCollection(
                segments(predictive), colors=colours(predictive), linewidths=5, alpha=0.22, capstyle="butt", zorder=2
            ),
            autolim=False,
        )
        ax.add_collection(
            LineCollection(segments(predictive), colors=colours(predictive), linewidths=1.3, zorder=3), autolim=False
        )
        ends = [(x, li.y, li.colour) for li in predictive for x in (li.low, li.high)]
        ax.scatter(
            [e[0] for e in ends],
            [e[1] for e in ends],
            s=7.0**2,
            marker="|",
            c=[e[2] for e in ends],
            linewidths=1.3,
            zorder=3,
        )


def _favours(ax: Any, favours: tuple[str, str]) -> None:
    fig = ax.figure
    below = text_layout.inch_shift(fig, 0, -0.27)
    ax.text(
        0,
        0,
        "\u2190 " + favours[0],
        transform=ax.transAxes + below,
        ha="left",
        va="top",
        fontsize=style.SMALL_FONT_SIZE,
        color="#333333",
    )
    ax.text(
        1,
        0,
        favours[1] + " \u2192",
        transform=ax.transAxes + below,
        ha="right",
        va="top",
        fontsize=style.SMALL_FONT_SIZE,
        color="#333333",
    )


def _size_own_figure(
    fig: Any,
    ax: Any,
    total_lines: float,
    left_pt: float,
    right_pt: float,
    n_handles: int,
    favours: bool,
    text_inches: float,
    note_lines: int = 2,
) -> None:
    """Size the figure so every row, column, legend and title (``text_inches`` wide) fits."""
    top = 0.8 + 0.14 * (note_lines - 2) + 0.42  # title and the notes, then the two-line column headers
    legend_rows = (n_handles + 1) // 2 if n_handles > 3 else n_handles
    bottom = (0.68 if favours else 0.45) + 0.2 * legend_rows + 0.2
    plot_h = max(total_lines * LINE_INCHES, 1.5)
    width = 0.15 + left_pt / 72 + PLOT_INCHES + right_pt / 72 + 0.15
    width = max(width, text_inches + 0.35)
    height = top + plot_h + bottom
    fig.set_size_inches(width, height)
    x0 = 0.15 + left_pt / 72
    ax.set_position((x0 / width, bottom / height, PLOT_INCHES / width, plot_h / height))

"""Prior-comparison figure: posterior densities of mu and tau under each prior set, each
prior drawn faintly beneath its posterior in the same colour, and a compact table below.

Decision on the table: the figure renders a compact table itself (one row per prior set:
mu mean and 95% CrI, tau median and 95% CrI, the posterior probabilities all results
share, the diagnostics verdict) so that the PNG stands on its own in a paper or a slide;
the HTML report keeps the full compare-priors table. ``table=False`` leaves it out, a
DataFrame is rendered as given.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.plots import style, text_layout

PANEL_INCHES = (4.1, 2.6)
TABLE_ROW_INCHES = 0.27

PARAMETER_TITLES = {"mu": "Pooled effect \u03bc", "tau": "Between-study SD \u03c4"}


def kde_density(draws: np.ndarray, lower: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Kernel density of ``draws``: ``(grid, density)`` from ArviZ (``arviz_stats.kde``:
    its default bandwidth, with boundary correction at the edges of the data).

    With ``lower`` (tau: 0) the density's support starts at the bound, so the density of a
    parameter that cannot be negative neither spills below it nor dips at it.
    """
    from arviz_stats import kde

    draws = np.asarray(draws, dtype=float).reshape(-1)
    draws = draws[np.isfinite(draws)]
    if draws.size < 2 or np.ptp(draws) == 0:
        raise ValueError("a density needs at least two distinct finite draws")
    options: dict[str, Any] = {} if lower is None else {"custom_lims": (lower, None)}
    grid, dens, _ = kde(draws, **options)
    return np.asarray(grid, dtype=float), np.asarray(dens, dtype=float)


def prior_comparison_figure(
    comparison: Any,
    table: pd.DataFrame | bool | None = None,
    *,
    parameters: Sequence[str] = ("mu", "tau"),
    fig: Any = None,
    title: str | None = None,
) -> Any:
    """Posterior densities of ``mu`` and ``tau`` per prior set, priors drawn faintly beneath.

    Parameters
    ----------
    comparison : PriorComparison or mapping
        A ``PriorComparison`` (its ``results``, each with the resolved ``prior_set`` it
        used), or a mapping prior name -> ``(BayesResult, PriorSet)`` or -> ``BayesResult``. A prior set (resolved, with ``mu.logpdf`` and
        ``tau_logpdf``) adds the prior's density; without one only the posterior is drawn.
    table : DataFrame, bool or None
        ``None`` (default) or ``True``: a compact table built from the results beneath the
        panels; ``False``: no table; a DataFrame: that table, rendered as given.
    parameters : sequence of str
        Parameters to draw, one panel each (``mu``, ``tau``, or a covariate slope).
    fig : matplotlib Figure, optional
        Draw into this (empty) figure instead of a new one.
    title : str, optional
        Override the title.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Densities are the exact engine's marginal densities (its ``densities`` attribute,
    mapping parameter -> ``(grid, density)``) where a result has them, otherwise kernel
    density estimates of the posterior draws (ArviZ's, bounded at 0 for ``tau``); a result
    with neither is a ValueError. With covariates ``mu`` is the effect at the covariates'
    reference values, which is what a prior set's ``mu`` prior is about. A fit whose verdict
    warns (a bounded prior that cuts its posterior off) is marked in the table's Diagnostics
    column and its warning is printed beneath the table. Slope
    panels show no prior: the ``beta`` prior is per SD of the covariate, the slopes are
    reported per unit.
    """
    from matplotlib.lines import Line2D

    entries = _entries(comparison)
    names = list(entries)
    results = [entries[n][0] for n in names]
    colours = {n: style.PALETTE[i % len(style.PALETTE)] for i, n in enumerate(names)}
    rows = _table(results, names) if table is None or table is True else table
    warned = [w for r in results for w in getattr(getattr(r, "verdict", None), "warnings", ())]
    note = "\n".join(textwrap.fill("\u26a0 " + w, 150) for w in dict.fromkeys(warned))
    note_h = 0.0 if not note else 0.17 * (note.count("\n") + 1) + 0.15
    n_panels = len(parameters)
    ncols = min(n_panels, 3)
    nrows_p = -(-n_panels // ncols)
    table_h = 0.0 if rows is False else TABLE_ROW_INCHES * (len(rows) + 1.6) + 0.25
    n_handles = len(names) + 2
    legend_cols = min(n_handles, 4)
    top, legend_h = 0.45, 0.4 + 0.22 * (-(-n_handles // legend_cols))
    width = max(PANEL_INCHES[0] * ncols + 0.5, 8.0)
    height = top + legend_h + (PANEL_INCHES[1] + 0.25) * nrows_p + 0.5 + table_h + note_h
    own = fig is None
    if own:
        fig = style.new_figure(width, height)
    else:
        width, height = fig.get_figwidth(), fig.get_figheight()
    if rows is not False:
        table_w = _render_table(fig, rows, 0.3, table_h + note_h, table_h - 0.15)
        if own and table_w + 0.6 > width:  # a wide table widens the figure, never cut off
            width = table_w + 0.6
            fig.set_figwidth(width)
    if note:
        text = fig.text(
            0.3,
            note_h - 0.05,
            note,
            transform=fig.dpi_scale_trans,
            ha="left",
            va="top",
            fontsize=style.SMALL_FONT_SIZE,
            color="#b00020",
        )
        if own:
            fig.set_figwidth(max(fig.get_figwidth(), text_layout.text_width_pt([text]) / 72 + 0.6))
            width = fig.get_figwidth()
    panels_top = 1 - (top + legend_h) / height
    panels_bottom = (table_h + note_h + 0.75) / height
    grid = fig.add_gridspec(
        nrows_p,
        ncols,
        left=0.7 / width,
        right=1 - 0.45 / width,
        top=panels_top,
        bottom=panels_bottom,
        wspace=0.28,
        hspace=0.55,
    )
    for p_i, param in enumerate(parameters):
        ax = fig.add_subplot(grid[p_i // ncols, p_i % ncols])
        _panel(ax, param, names, entries, colours, _axis_label(param, results[0]))

    simulated = any(bool(getattr(r, "simulated", False)) for r in results)
    first = results[0]
    heading = title or style.figure_title(
        "Posterior under each prior set", first.outcome, first.month, first.measure, simulated
    )
    fig.text(
        0.12 / width, 1 - 0.12 / height, heading, ha="left", va="top", fontsize=style.TITLE_FONT_SIZE, fontweight="bold"
    )
    handles = [Line2D([], [], color=colours[n], lw=2, label=n) for n in names]
    handles += [
        Line2D([], [], color="#555555", lw=2, label="posterior"),
        Line2D([], [], color="#555555", lw=1.4, ls=(0, (3, 2)), alpha=0.55, label="prior (same colour, faint)"),
    ]
    fig.legend(
        handles=handles,
        loc="upper left",
        ncol=legend_cols,
        frameon=False,
        fontsize=style.FONT_SIZE,
        bbox_to_anchor=(0.5 / width, 1 - top / height),
    )
    return fig


def _entries(comparison: Any) -> dict[str, tuple[Any, Any]]:
    """prior name -> (result, prior set or None)."""
    if hasattr(comparison, "results"):  # a PriorComparison: each fit keeps its resolved prior set
        return {str(r.prior): (r, getattr(r, "prior_set", None)) for r in comparison.results}
    if not isinstance(comparison, Mapping) or not comparison:
        raise TypeError(
            "comparison must be a PriorComparison or a non-empty mapping "
            "prior name -> BayesResult or (BayesResult, PriorSet)"
        )
    out = {}
    for name, value in comparison.items():
        if isinstance(value, tuple):
            out[str(name)] = (value[0], value[1] if len(value) > 1 else None)
        else:
            out[str(name)] = (value, None)
    return out


def _posterior_density(result: Any, param: str) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """(draws or None, grid, density) of one parameter: the exact engine's marginal density
    where the result has it (exact, and no kernel estimate to compute), else a kernel
    density estimate from the draws."""
    densities = getattr(result, "densities", None) or {}
    if param in densities:
        grid, dens = densities[param]
        return None, np.asarray(grid, float), np.asarray(dens, float)
    draws = style.posterior_draws(result, param)
    if draws is not None:
        grid, dens = kde_density(draws, 0.0 if param == "tau" else None)
        # The panel shows the bulk (the 0.1% tails and a margin), not the farthest draw.
        lo, hi = np.quantile(draws, [0.001, 0.999])
        keep = (grid >= lo - 0.1 * (hi - lo)) & (grid <= hi + 0.1 * (hi - lo))
        return draws, grid[keep], dens[keep]
    raise ValueError(f"result for prior {result.prior!r} has neither posterior draws nor an exact density of {param!r}")


def _prior_density(prior_set: Any, param: str, grid: np.ndarray) -> np.ndarray | None:
    """The prior's density on ``grid`` (tau and mu only; see the Notes above)."""
    if prior_set is None:
        return None
    if param == "tau":
        logp = prior_set.tau_logpdf(grid)
    elif param == "mu":
        logp = prior_set.mu.logpdf(grid)
    else:
        return None
    with np.errstate(over="ignore"):
        return np.exp(np.asarray(logp, dtype=float))


def _shown(result: Any, param: str) -> str:
    """The parameter drawn for ``param`` (``mu`` is at the covariates' reference values in
    a covariate model: one meaning of mu everywhere)."""
    return param


def _with_covariates(results: Sequence[Any]) -> set[bool]:
    return {bool(getattr(r, "covariates", None)) for r in results}


def _panel(
    ax: Any, param: str, names: list[str], entries: dict[str, tuple[Any, Any]], colours: dict[str, str], xlabel: str
) -> None:
    curves = {n: _posterior_density(entries[n][0], _shown(entries[n][0], param)) for n in names}
    lo = min(c[1][0] for c in curves.values())
    hi = max(c[1][-1] for c in curves.values())
    grid = np.linspace(lo, hi, 500)
    top = 0.0
    for n in names:
        _, g, dens = curves[n]
        ax.plot(g, dens, color=colours[n], lw=2, zorder=3)
        top = max(top, float(np.nanmax(dens)))
    for n in names:
        prior = _prior_density(entries[n][1], _shown(entries[n][0], param), grid)
        if prior is not None:
            ax.plot(grid, prior, color=colours[n], lw=1.4, ls=(0, (3, 2)), alpha=0.55, zorder=2)
            ax.fill_between(grid, prior, color=colours[n], alpha=0.06, lw=0, zorder=1)
    # Scale to the posteriors: a sharp prior may stick out of the top, its shape is what
    # matters; a flat one still shows as a faint line along the bottom.
    ax.set_ylim(0, top * 1.12)
    ax.set_xlim(lo, hi)
    kinds = _with_covariates([entries[n][0] for n in names])
    heading = PARAMETER_TITLES.get(param, f"Slope of {param}")
    if param == "mu" and kinds == {True}:
        heading = "Pooled effect \u03bc at the covariates' reference values"
    elif param == "mu" and len(kinds) > 1:
        heading += "\n(models with covariates: at their reference values)"
    ax.set_title(heading, fontsize=style.FONT_SIZE + 1, loc="left", y=1.0)
    ax.set_xlabel(xlabel, fontsize=style.FONT_SIZE)
    ax.set_ylabel("density", fontsize=style.FONT_SIZE)
    ax.tick_params(labelsize=style.SMALL_FONT_SIZE)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    if param != "tau" and lo < 0 < hi:
        ax.axvline(0, color=style.REFERENCE_LINE_COLOUR, lw=0.8, zorder=0)


def _axis_label(param: str, result: Any) -> str:
    measure = style.measure_label(getattr(result, "measure", None))
    if param == "mu":
        return measure
    if param == "tau":
        return f"\u03c4 (same units as the {measure.lower()})"
    return f"change in effect per unit of {param}"


def _table(results: list[Any], names: list[str]) -> pd.DataFrame:
    """Compact table: one row per prior set."""
    widths = []
    for r in results:
        p = r.parameters
        widths += [p.loc[x, "eti_high"] - p.loc[x, "eti_low"] for x in (_shown(r, "mu"), "tau") if x in p.index]
    d = style.decimals_for(widths)
    common = [k for k in results[0].probabilities if all(k in r.probabilities for r in results)][:2]
    kinds = _with_covariates(results)
    mu_head = (
        "\u03bc at the covariates' reference values"
        if kinds == {True}
        else "\u03bc (at the reference values in models with covariates)"
        if len(kinds) > 1
        else "\u03bc"
    )
    rows = []
    for n, r in zip(names, results, strict=False):
        p = r.parameters
        row = {"Prior set": n}
        mu = _shown(r, "mu")
        if mu in p.index:
            row[f"{mu_head}: mean [95% CrI]"] = style.format_interval(
                p.loc[mu, "mean"], p.loc[mu, "eti_low"], p.loc[mu, "eti_high"], d
            )
        if "tau" in p.index:
            row["\u03c4: median [95% CrI]"] = style.format_interval(
                p.loc["tau", "median"], p.loc["tau", "eti_low"], p.loc["tau", "eti_high"], d
            )
        for k in common:
            row[k] = style.format_number(float(r.probabilities[k]), 3)
        row["Diagnostics"] = ("pass" if r.verdict.passed else "FAIL") + (
            " \u26a0 warning" if getattr(r.verdict, "warnings", ()) else ""
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _render_table(fig: Any, frame: pd.DataFrame, left: float, top: float, height: float) -> float:
    """``frame`` as a grid whose top-left corner is ``left``, ``top`` inches from the
    figure's bottom-left corner, ``height`` inches high: a grey bold header row, then one
    row per table row (each ``height / (rows + 0.6)``), columns as wide as their widest
    text plus 10% padding on either side, text left-aligned. Returns its width in inches.

    Plain texts over one collection of rules, placed in inches (not a matplotlib Table in
    an axes of its own, whose cells re-measure their texts at every draw).
    """
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Rectangle

    inches = fig.dpi_scale_trans
    header = [str(c) for c in frame.columns]
    rows = [[_fmt(v) for v in row] for row in frame.itertuples(index=False)]
    n = len(rows) + 1
    row_h = height / (n + 0.6)
    edges = [left]
    for j, head in enumerate(header):
        texts = [
            fig.text(
                0,
                top - (i + 0.5) * row_h,
                cell,
                transform=inches,
                ha="left",
                va="center",
                fontsize=style.FONT_SIZE,
                fontweight="bold" if i == 0 else "normal",
            )
            for i, cell in enumerate([head, *(r[j] for r in rows)])
        ]
        width = text_layout.text_width_pt(texts) * 1.2 / 72
        for t in texts:
            t.set_x(edges[-1] + 0.1 * width)
        edges.append(edges[-1] + width)
    right, bottom = edges[-1], top - n * row_h
    fig.add_artist(
        Rectangle(
            (left, top - row_h), right - left, row_h, transform=inches, facecolor="#eeeeee", edgecolor="none", zorder=0
        )
    )
    rules = [[(left, top - i * row_h), (right, top - i * row_h)] for i in range(n + 1)]
    rules += [[(x, bottom), (x, top)] for x in edges]
    fig.add_artist(LineCollection(rules, transform=inches, colors="#bbbbbb", linewidths=0.5, zorder=1))
    return right - left


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return style.format_number(float(f"{float(v):.3g}")) if np.isfinite(v) else "NA"
    return str(v)

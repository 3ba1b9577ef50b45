"""Meta-regression figure: effects against one covariate (dose-response).

Each comparison is a bubble at its covariate value and observed effect (area in proportion
to its random-effects weight ``1 / (vi + tau^2)``, with its 95% CI as a faint bar); the
regression's mean line and 95% band run through them: for a Bayesian fit (either engine)
the posterior mean line and the equal-tailed *credible* band of
``mu + beta * (x - x_ref)`` computed from the fit's own draws (``mu`` is the pooled effect at
the covariates' reference values ``x_ref``, so the other covariates sit at theirs); for a
frequentist meta-regression the fitted line and *confidence* band from its coefficients and
their covariance (as metafor's ``predict``, other covariates at their means). The figure
always shows the analysis it is given; nothing is substituted.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as student_t

from bayes_msc.data.covariates import Term, parse_term, term_values
from bayes_msc.plots import style, text_layout
from bayes_msc.results.layout import CI_LEVEL

GRID_POINTS = 200
FIGSIZE = (7.2, 5.0)


def band_from_coefficients(
    xt: np.ndarray, coefficients: np.ndarray, vcov: np.ndarray, index: int, fixed: np.ndarray, crit: float
) -> tuple[np.ndarray, ...]:
    """Mean line and confidence band of a linear meta-regression along one term.

    Parameters
    ----------
    xt : ndarray
        Values of the term (transformed, as in the model) along the line.
    coefficients, vcov : ndarray
        Estimates (intercept first) and their covariance matrix.
    index : int
        Position of the term in ``coefficients``.
    fixed : ndarray
        A full design row (intercept 1 first) giving the other terms' values.
    crit : float
        Critical value (1.96 for a z-based 95% interval).

    Returns
    -------
    (mean, low, high) : ndarrays like ``xt``; ``mean +/- crit * sqrt(x V x')`` (metafor's
    ``predict(..., newmods=)`` confidence interval).
    """
    rows = np.tile(np.asarray(fixed, dtype=float), (len(xt), 1))
    rows[:, index] = xt
    mean = rows @ np.asarray(coefficients, dtype=float)
    se = np.sqrt(np.einsum("ij,jk,ik->i", rows, np.asarray(vcov, dtype=float), rows))
    return mean, mean - crit * se, mean + crit * se


def band_from_draws(
    xt: np.ndarray, intercept: np.ndarray, slope: np.ndarray, offset: np.ndarray | float = 0.0, level: float = CI_LEVEL
) -> tuple[np.ndarray, ...]:
    """Posterior mean line and equal-tailed band of ``intercept + slope * xt + offset``.

    ``intercept``, ``slope`` and ``offset`` (the other terms' contribution) are draws of
    the same length; returns ``(mean, low, high)`` along ``xt``.
    """
    lines = (
        np.asarray(intercept, dtype=float)[:, None]
        + np.asarray(slope, dtype=float)[:, None] * np.asarray(xt, dtype=float)[None, :]
        + np.asarray(offset, dtype=float).reshape(-1, 1)
    )
    a = (1 - level) / 2
    low, high = np.quantile(lines, [a, 1 - a], axis=0)
    return lines.mean(axis=0), low, high


def metareg_figure(
    effects: Any,
    term: str,
    result: Any,
    log_x: bool | None = None,
    ax: Any = None,
    *,
    xlabel: str | None = None,
    title: str | None = None,
) -> Any:
    """Effect against a covariate with the regression line and its 95% band.

    Parameters
    ----------
    effects : EffectTable or DataFrame
        The effect-size table (``yi``, ``vi``, the covariate column).
    term : str
        The covariate term as fitted: a column (``age_mean``) or ``log10(NAME)`` /
        ``log(NAME)``. The x axis shows the column itself (on a log axis when
        ``log_x``), the line follows the term as the model used it.
    result : BayesResult or MetaRegResult
        A Bayesian fit (either engine) with draws of ``mu`` (the effect at the covariates'
        reference values ``result.covariate_at``), ``tau`` and the slope named ``term``;
        or a frequentist meta-regression with ``term`` among its coefficients.
    log_x : bool, optional
        Log axis for the covariate (dose). Default: a log axis when the term is a
        logarithm (``log10(dose_million)``), a linear one otherwise. A log axis needs
        every shown value > 0 (else the axis is linear).
    ax : matplotlib Axes, optional
    xlabel, title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    frame = getattr(effects, "data", effects)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError("effects must be an EffectTable or its DataFrame")
    parsed = parse_term(term)
    if parsed.column not in frame.columns:
        raise ValueError(f"the effect table has no column {parsed.column!r} for term {term!r}")
    raw = frame[parsed.column].to_numpy(dtype=float)
    shown = np.isfinite(raw)
    if log_x is None:
        log_x = parsed.transform is not None
    log_axis = bool(log_x) and bool(np.all(raw[shown] > 0))
    if shown.sum() == 0:
        raise ValueError(f"no comparison has a value of {parsed.column!r}")
    yi = frame["yi"].to_numpy(float)
    vi = frame["vi"].to_numpy(float)

    lo, hi = np.nanmin(raw[shown]), np.nanmax(raw[shown])
    if log_axis:
        grid = np.geomspace(lo / 1.15, hi * 1.15, GRID_POINTS)
    else:
        pad = 0.05 * (hi - lo if hi > lo else 1.0)
        grid = np.linspace(lo - pad, hi + pad, GRID_POINTS)
    xt = _transform(grid, parsed)
    mean, low, high, tau2, describe = _line(result, parsed, frame, xt)

    own = ax is None
    if own:
        fig = style.new_figure(*FIGSIZE)
        ax = fig.add_axes((0.12, 0.29, 0.84, 0.57))  # placed again below, once the note is known
    fig = ax.figure
    colour = style.PALETTE[0]
    weight = 1.0 / (vi + tau2)
    area = 25 + 475 * weight / np.nanmax(weight[shown])
    crit = float(norm.isf((1 - CI_LEVEL) / 2))
    ax.fill_between(grid, low, high, color=colour, alpha=0.18, lw=0, zorder=1)
    ax.plot(grid, mean, color=colour, lw=2, zorder=2)
    ax.vlines(
        raw[shown],
        (yi - crit * np.sqrt(vi))[shown],
        (yi + crit * np.sqrt(vi))[shown],
        color="#9a9a9a",
        lw=0.9,
        zorder=2,
    )
    ax.scatter(
        raw[shown],
        yi[shown],
        s=area[shown],
        color=style.PALETTE[1],
        alpha=0.65,
        edgecolors="#333333",
        linewidths=0.7,
        zorder=3,
    )
    ax.axhline(0, color=style.REFERENCE_LINE_COLOUR, lw=0.8, zorder=0)
    if log_axis:
        ax.set_xscale("log")
        ticks = _nice_log_ticks(grid[0], grid[-1])
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(_plain_formatter())
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(grid[0], grid[-1])
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.tick_params(labelsize=style.FONT_SIZE)
    table = None if isinstance(effects, pd.DataFrame) else effects  # a frame says neither
    measure = getattr(table, "measure", None) or getattr(result, "measure", None)
    ax.set_ylabel(style.measure_label(measure, getattr(table, "scale", None)), fontsize=style.FONT_SIZE)
    ax.set_xlabel(
        xlabel or (style.covariate_label(parsed.column) + (" (log scale)" if log_axis else "")),
        fontsize=style.FONT_SIZE,
    )

    handles = [
        Line2D([], [], color=colour, lw=2, label=describe["line"]),
        Patch(color=colour, alpha=0.18, label=describe["band"]),
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            ms=8,
            color=style.PALETTE[1],
            alpha=0.65,
            markeredgecolor="#333333",
            label="Comparison (area \u221d 1/(v\u1d62 + \u03c4\u00b2)), 95% CI",
        ),
    ]
    legend = ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0, 0),
        bbox_transform=ax.transAxes + text_layout.inch_shift(fig, -0.1, -0.5),
        frameon=False,
        fontsize=style.SMALL_FONT_SIZE,
        ncol=1,
    )
    legend.set_in_layout(False)
    simulated = bool(getattr(table, "simulated", False)) or bool(getattr(result, "simulated", False))
    outcome = getattr(result, "outcome", None) or _single(frame, "outcome")
    month = getattr(result, "month", None)
    month = month if month is not None else _single(frame, "month")
    heading = title or style.figure_title(f"Meta-regression on {parsed.name}", outcome, month, measure, simulated)
    dropped = [f"{s}: {c}" for s, c, keep in zip(frame["study"], frame["comparison"], shown, strict=False) if not keep]
    note = describe["slope"]
    if dropped:
        note += f". Not shown (no {parsed.column}): " + "; ".join(dropped)
    if own:
        note = textwrap.fill(note, 120)
        # Title and note hang from the top-left corner in inches; a title wider than the
        # figure widens it (a long outcome or term name would be cut off).
        corner = fig.transFigure
        head = fig.text(
            0,
            1,
            heading,
            transform=corner + text_layout.inch_shift(fig, 0.1, -0.08),
            ha="left",
            va="top",
            fontsize=style.TITLE_FONT_SIZE,
            fontweight="bold",
        )
        notes = fig.text(
            0,
            1,
            note,
            transform=corner + text_layout.inch_shift(fig, 0.1, -0.42),
            ha="left",
            va="top",
            fontsize=style.SMALL_FONT_SIZE,
            color="#333333",
        )
        fig.set_figwidth(max(fig.get_figwidth(), text_layout.text_width_pt([head, notes]) / 72 + 0.25))
        width, height = fig.get_figwidth(), fig.get_figheight()
        top_in = 0.62 + 0.16 * (note.count("\n") + 1)
        bottom_in = 1.4
        ax.set_position((0.85 / width, bottom_in / height, 1 - 1.1 / width, 1 - (top_in + bottom_in) / height))
    else:
        ax.set_title(heading, loc="left", fontsize=style.TITLE_FONT_SIZE)
    return fig


def _transform(x: np.ndarray, term: Term) -> np.ndarray:
    if term.transform == "log10":
        return np.log10(x)
    if term.transform == "log":
        return np.log(x)
    return np.asarray(x, dtype=float)


def _unit(term: Term) -> str:
    """What one unit of the term is, in words a reader can use."""
    if term.transform == "log10":
        return f"10-fold increase of {term.column} (one unit of {term.name})"
    if term.transform == "log":
        return f"e-fold (2.72-fold) increase of {term.column} (one unit of {term.name})"
    return f"unit of {term.column}"


def _single(frame: pd.DataFrame, col: str) -> Any:
    if col in frame.columns and frame[col].nunique() == 1:
        return frame[col].iloc[0]
    return None


def _line(result: Any, term: Term, frame: pd.DataFrame, xt: np.ndarray):
    """(mean, low, high, tau2, descriptions) of the regression line along ``xt``."""
    if hasattr(result, "coefficients") and hasattr(result, "vcov"):
        names = ["intercept", *result.names]
        if term.name not in names:
            raise ValueError(f"the meta-regression has no coefficient {term.name!r}; it has {names[1:]}")
        j = names.index(term.name)
        coefs = np.array([c.estimate for c in result.coefficients], dtype=float)
        fixed = np.concatenate([[1.0], np.asarray(result.x, dtype=float).mean(axis=0)])
        level = getattr(result, "level", CI_LEVEL)
        if getattr(result, "test", "z") == "t":
            crit = float(student_t.isf((1 - level) / 2, result.df))
        else:
            crit = float(norm.isf((1 - level) / 2))
        mean, low, high = band_from_coefficients(xt, coefs, result.vcov, j, fixed, crit)
        c = result.coefficient(term.name)
        d = style.decimals_for([c.ci_high - c.ci_low])
        slope = (
            f"Slope per {_unit(term)}: "
            f"{style.format_interval(c.estimate, c.ci_low, c.ci_high, d)} "
            f"({style.method_name(result.method)}, {len(result.yi)} comparisons)"
        )
        others = " (other covariates at their means)" if len(result.names) > 1 else ""
        return (
            mean,
            low,
            high,
            float(result.tau2),
            {"line": f"Fitted mean effect{others}", "band": f"{round(100 * level)}% confidence band", "slope": slope},
        )
    mu = style.posterior_draws(result, "mu")
    beta = style.posterior_draws(result, term.name)
    if mu is None or beta is None:
        raise ValueError(f"the Bayesian result has no posterior draws of mu and {term.name!r}")
    other_terms = [c for c in getattr(result, "covariates", ()) if c != term.name]
    refs = dict(getattr(result, "covariate_at", None) or {})
    if term.name not in refs:  # a result that does not say: the mean over the comparisons with every term
        vals = np.column_stack([term_values(frame, c) for c in (term.name, *other_terms)])
        refs[term.name] = float(vals[np.all(np.isfinite(vals), axis=1), 0].mean())
    level = getattr(result, "ci_prob", CI_LEVEL)
    # mu is the effect at the reference values: the line through them, other terms held there
    mean, low, high = band_from_draws(xt - refs[term.name], mu, beta, 0.0, level)
    tau = style.posterior_draws(result, "tau")
    tau2 = float(np.mean(tau**2)) if tau is not None else float(result.parameters.loc["tau", "median"]) ** 2
    p = result.parameters.loc[term.name]
    d = style.decimals_for([p["eti_high"] - p["eti_low"]])
    slope = (
        f"Slope per {_unit(term)}: posterior mean "
        f"{style.format_interval(p['mean'], p['eti_low'], p['eti_high'], d)}; "
        f"model {result.model}, prior {result.prior}, {getattr(result, 'engine', 'Bayesian')} engine"
    )
    note = " (other covariates at their reference values)" if other_terms else ""
    return (
        mean,
        low,
        high,
        tau2,
        {"line": f"Posterior mean effect{note}", "band": f"{round(100 * level)}% credible band", "slope": slope},
    )


def _nice_log_ticks(lo: float, hi: float) -> list[float]:
    """Round ticks between ``lo`` and ``hi``: 1-2-5 per decade, denser when that gives
    fewer than four ticks or leaves a quarter of the axis at either end without one."""
    span = np.log(hi / lo)
    out: list[float] = []
    sets: tuple[tuple[float, ...], ...] = ((1, 2, 5), (1, 2, 3, 5), (1, 2, 3, 4, 5, 6, 8), (1, 1.5, 2, 3, 4, 5, 6, 8))
    if span > 4 * np.log(10):  # more than four decades: powers of ten only
        sets = ((1,),)
    for mantissas in sets:
        out = [
            m * 10.0**e
            for e in range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 1)
            for m in mantissas
            if lo <= m * 10.0**e <= hi
        ]
        if len(out) >= 4 and np.log(out[0] / lo) < span / 4 and np.log(hi / out[-1]) < span / 4:
            break
    if len(out) < 2:
        out = sorted({float(f"{lo:.2g}"), float(f"{hi:.2g}")})
    return out


def _plain_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: style.format_number(float(f"{v:.3g}")))

"""Convergence diagnostics figure: trace and rank plots of mu, tau and the slopes.

Checked with ArviZ 1.3: arviz-plots 1.3.2's ``plot_rank`` and ``plot_trace_dist`` do work
with ``backend="matplotlib"``, but they build their own figure (no ``fig``/``ax`` to draw
into), ``plot_rank`` draws the rank-ECDF-difference variant without a count scale, vector
variables' titles clip at the top, and importing them costs about 2 s. So this module
draws by hand from the draws: per parameter a trace (one line per chain, divergent draws
marked) and a rank histogram per chain (Vehtari et al. 2021, Bayesian Analysis 16:667,
section 4.1), with the R-hat and ESS of the result's parameter table beside it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import binom, rankdata

from bayes_msc.plots import style

if TYPE_CHECKING:
    from matplotlib.artist import Artist

ROW_INCHES = 1.55
WIDTH_INCHES = 9.5
RANK_BINS = 20


def rank_counts(draws: np.ndarray, bins: int = RANK_BINS) -> np.ndarray:
    """Counts of each chain's draws in ``bins`` equal bins of the pooled ranks.

    ``draws`` has shape ``(chain, draw)``; all draws are ranked together (ties share their
    average rank) and the counts returned have shape ``(chain, bins)``. Well-mixed chains
    give counts near ``draws / bins`` in every bin.
    """
    draws = np.asarray(draws, dtype=float)
    if draws.ndim != 2:
        raise ValueError("draws must have shape (chain, draw)")
    ranks = rankdata(draws, axis=None).reshape(draws.shape)
    edges = np.linspace(0.5, draws.size + 0.5, bins + 1)
    return np.stack([np.histogram(r, bins=edges)[0] for r in ranks])


def uniform_rank_band(draws_per_chain: int, bins: int = RANK_BINS, prob: float = 0.99) -> tuple[float, float]:
    """Central ``prob`` range of one bin's count under uniform ranks (binomial)."""
    a = (1 - prob) / 2
    dist = binom(draws_per_chain, 1.0 / bins)
    return float(dist.ppf(a)), float(dist.ppf(1 - a))


def trace_rank_figure(
    result: Any, var_names: Sequence[str] | None = None, *, fig: Any = None, title: str | None = None
) -> Any:
    """Trace and rank plots of ``mu``, ``tau`` and the covariate slopes of one posterior.

    Parameters
    ----------
    result : BayesResult
        An MCMC result with ``idata`` (posterior draws by chain; divergences from
        ``sample_stats.diverging`` when present).
    var_names : sequence of str, optional
        Parameters to show (default ``mu``, ``tau`` and every covariate slope).
    fig : matplotlib Figure, optional
        Draw into this (empty) figure instead of a new one.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When the result has no draws (exact engine) or lacks a parameter asked for.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if getattr(result, "idata", None) is None:
        raise ValueError("trace and rank plots need posterior draws; this result has none (exact engine?)")
    names = list(var_names) if var_names is not None else ["mu", "tau", *result.covariates]
    draws = {}
    for n in names:
        d = style.posterior_draws(result, n, by_chain=True)
        if d is None:
            raise ValueError(f"no posterior draws of {n!r} in this result")
        draws[n] = d
    chains, n_draws = draws[names[0]].shape

    diverging = _divergences(result, chains, n_draws)
    sub = _subtitle(result, chains, n_draws, diverging)
    n_div = int(diverging.sum()) if diverging is not None else None
    legend_rows = -(-(chains + 1 + bool(n_div)) // 6)
    top = 1.2 + 0.16 * sub.count("\n") + 0.2 * (legend_rows - 1)
    height = top + ROW_INCHES * len(names) + 0.35
    if fig is None:
        fig = style.new_figure(WIDTH_INCHES, height)
    else:
        height = fig.get_figheight()
    width = fig.get_figwidth()
    grid = fig.add_gridspec(
        len(names),
        2,
        width_ratios=(2.3, 1.0),
        left=0.75 / width,
        right=1 - 0.4 / width,
        top=1 - top / height,
        bottom=0.45 / height,
        hspace=0.75,
        wspace=0.22,
    )
    colours = [style.PALETTE[c % len(style.PALETTE)] for c in range(chains)]
    band = uniform_rank_band(n_draws)
    for row, n in enumerate(names):
        tax = fig.add_subplot(grid[row, 0])
        rax = fig.add_subplot(grid[row, 1])
        d = draws[n]
        for c in range(chains):
            tax.plot(np.arange(n_draws), d[c], color=colours[c], lw=0.5, alpha=0.75)
        if diverging is not None and diverging.any():
            ymin = np.min(d)
            _, dd = np.nonzero(diverging)
            tax.plot(dd, np.full(dd.shape, ymin), ls="", marker="|", ms=7, color="#c00000")
        tax.set_ylabel(_label(n), fontsize=style.FONT_SIZE)
        tax.set_title(_stats_line(result, n), loc="left", fontsize=style.FONT_SIZE)
        tax.set_xlim(0, n_draws - 1)
        counts = rank_counts(d)
        edges = np.arange(RANK_BINS + 1)
        rax.axhspan(*band, color="#d9d9d9", lw=0, zorder=0)
        rax.axhline(n_draws / RANK_BINS, color="#7f7f7f", lw=0.8, zorder=1)
        for c in range(chains):
            rax.stairs(counts[c], edges, baseline=None, color=colours[c], lw=1.2, zorder=2)
        rax.set_xlim(0, RANK_BINS)
        rax.set_ylim(0, max(counts.max(), band[1]) * 1.15)
        rax.set_xticks([0, RANK_BINS / 2, RANK_BINS], ["low", "", "high"])
        rax.set_title("rank histogram per chain", loc="left", fontsize=style.SMALL_FONT_SIZE, color="#333333")
        rax.set_ylabel("draws per bin", fontsize=style.SMALL_FONT_SIZE)
        for ax in (tax, rax):
            ax.tick_params(labelsize=style.SMALL_FONT_SIZE)
            ax.spines["top"].set_visible(False)
            ax.spines["right"].set_visible(False)
        if row == len(names) - 1:
            tax.set_xlabel("draw (after tuning)", fontsize=style.FONT_SIZE)
            rax.set_xlabel("rank of the draw among all chains", fontsize=style.FONT_SIZE)

    heading = title or style.figure_title(
        f"Convergence diagnostics, model {result.model}, prior {result.prior}",
        result.outcome,
        result.month,
        None,
        bool(getattr(result, "simulated", False)),
    )
    fig.text(
        0.12 / width, 1 - 0.12 / height, heading, ha="left", va="top", fontsize=style.TITLE_FONT_SIZE, fontweight="bold"
    )
    fig.text(0.12 / width, 1 - 0.42 / height, sub, ha="left", va="top", fontsize=style.SMALL_FONT_SIZE, color="#333333")
    handles: list[Artist] = [Line2D([], [], color=colours[c], lw=1.2, label=f"chain {c + 1}") for c in range(chains)]
    handles.append(Patch(color="#d9d9d9", label="99% range of a bin's count if ranks are uniform"))
    if n_div:
        handles.append(Line2D([], [], ls="", marker="|", ms=7, color="#c00000", label="divergent draw"))
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.6 / width, 1 - (0.62 + 0.16 * sub.count("\n")) / height),
        ncol=min(len(handles), 6),
        frameon=False,
        fontsize=style.SMALL_FONT_SIZE,
    )
    return fig


def _subtitle(result: Any, chains: int, n_draws: int, diverging: np.ndarray | None) -> str:
    """Sampler settings and the verdict, wrapped to the figure's width."""
    n_div = int(diverging.sum()) if diverging is not None else None
    sub = [f"{chains} chains \u00d7 {n_draws} draws", f"divergences: {'not recorded' if n_div is None else n_div}"]
    if getattr(result, "parameterisation", None):
        sub.append(f"{result.parameterisation} parameterisation")
    verdict = getattr(result, "verdict", None)
    if verdict is not None:
        sub.append(
            f"verdict: {verdict} (R-hat \u2264 {verdict.r_hat_max:g}, "
            f"ESS bulk \u2265 {verdict.ess_min:g}, no divergences)"
        )
    return textwrap.fill("; ".join(sub), 150)


def _divergences(result: Any, chains: int, n_draws: int) -> np.ndarray | None:
    idata = result.idata
    try:
        stats = idata["sample_stats"]
    except (KeyError, TypeError):
        return None
    if "diverging" not in stats:
        return None
    arr = np.asarray(stats["diverging"].transpose("chain", "draw").values, dtype=bool)
    return arr if arr.shape == (chains, n_draws) else None


def _label(name: str) -> str:
    return {"mu": "\u03bc", "tau": "\u03c4"}.get(name, name)


def _stats_line(result: Any, name: str) -> str:
    p = getattr(result, "parameters", None)
    head = f"{_label(name)}" if name in ("mu", "tau") else f"slope of {name}"
    if p is None or name not in p.index:
        return head
    row = p.loc[name]
    parts = []
    if np.isfinite(row.get("r_hat", np.nan)):
        parts.append(f"R-hat {row['r_hat']:.3f}")
    if np.isfinite(row.get("ess_bulk", np.nan)):
        parts.append(f"ESS bulk {row['ess_bulk']:.0f}")
    if np.isfinite(row.get("ess_tail", np.nan)):
        parts.append(f"ESS tail {row['ess_tail']:.0f}")
    return head + (": " + ", ".join(parts) if parts else "")

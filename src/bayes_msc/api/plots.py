"""The figures of the Python API: one public ``plot_*`` function per figure, each returning a
matplotlib Figure (re-exported by :mod:`bayes_msc.api`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bayes_msc.data.effects import EffectTable

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from bayes_msc.results.bayes import BayesResult
    from bayes_msc.results.comparison import PriorComparison
    from bayes_msc.results.frequentist import MetaRegResult, PoolResult
    from bayes_msc.results.toolbox.influence import CumulativeResult, InfluenceResult
    from bayes_msc.results.toolbox.small_study import TrimfillResult

__all__ = [
    "plot_baujat",
    "plot_cumulative",
    "plot_forest",
    "plot_funnel",
    "plot_metareg",
    "plot_priors",
    "plot_trace",
]


def plot_funnel(x: PoolResult | EffectTable | TrimfillResult, **options: Any) -> Figure:
    """Funnel plot: effects against their standard errors with the pseudo-confidence region,
    optionally contour-enhanced; a trim-and-fill result adds its filled studies
    (:func:`bayes_msc.plots.toolbox.funnel.plot_funnel`)."""
    from bayes_msc.plots.toolbox.funnel import plot_funnel as _plot

    return _plot(x, **options)


def plot_baujat(x: InfluenceResult | PoolResult | EffectTable, **options: Any) -> Figure:
    """Baujat plot: each comparison's contribution to Q against its influence on the pooled
    estimate (:func:`bayes_msc.plots.toolbox.influence.plot_baujat`)."""
    from bayes_msc.plots.toolbox.influence import plot_baujat as _plot

    return _plot(x, **options)


def plot_cumulative(x: CumulativeResult, **options: Any) -> Figure:
    """Forest-style figure of a cumulative meta-analysis
    (:func:`bayes_msc.plots.toolbox.influence.plot_cumulative`)."""
    from bayes_msc.plots.toolbox.influence import plot_cumulative as _plot

    return _plot(x, **options)


def plot_forest(
    results: BayesResult | Sequence[BayesResult] | PriorComparison,
    effects: EffectTable | pd.DataFrame | None = None,
    pool: PoolResult | None = None,
    **options: Any,
) -> Figure:
    """Posterior forest plot: each comparison's observed effect, its shrunken posterior effect
    under every result given, the pooled effects and the predictions for a new study.

    Parameters
    ----------
    results : BayesResult, list of BayesResult or PriorComparison
        Posteriors of one outcome and month (prior sets or models side by side, one colour
        each).
    effects : EffectTable, optional
        The effect table the results were fitted to (its comparisons, n, covariates and
        the scale of its values give the rows, columns and axis label). Default: the
        observed effects each result keeps (``study_effects``).
    pool : PoolResult, optional
        A frequentist pool (:func:`pool`) drawn as a reference row with its prediction
        interval, and giving the ``weight`` column and the heterogeneity line.
    **options
        ``columns`` (effect-table columns such as ``"dose_million"``, or ``"weight"``),
        ``mcid`` (dashed line(s)), ``better`` (``"lower"`` or ``"higher"``: which direction
        of the outcome is better, for the favours-labels), ``favours`` (the two labels
        themselves), ``study_labels`` (``ds.study_labels()``), ``heterogeneity`` (the
        I^2/tau^2/Q line; default True: of ``pool``, else of a DerSimonian-Laird pool of
        ``effects``), ``ax``, ``xlabel``, ``title``.

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig("forest.png")``; everything lies inside it.

    Examples
    --------
    >>> res = bm.fit(effects)                                              # doctest: +SKIP
    >>> bm.plot_forest(res, effects, bm.pool(effects), better="lower").savefig("forest.png")  # doctest: +SKIP
    """
    from bayes_msc.plots.public import plot_forest as _plot

    return _plot(results, effects, pool, **options)


def plot_priors(comparison: PriorComparison | Sequence[BayesResult], **options: Any) -> Figure:
    """Posterior densities of mu and tau under each prior set, each prior drawn faintly
    beneath its posterior in the same colour, with a compact table of the fits.

    Parameters
    ----------
    comparison : PriorComparison or list of BayesResult
        :func:`compare_priors`'s result, or fits of one model under several prior sets.
    **options
        ``parameters`` (default ``("mu", "tau")``; a covariate term draws its slope),
        ``table`` (False: no table), ``fig`` (an empty Figure to draw into), ``title``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from bayes_msc.plots.public import plot_priors as _plot

    return _plot(comparison, **options)


def plot_metareg(
    result: MetaRegResult | BayesResult,
    term: str | None = None,
    effects: EffectTable | pd.DataFrame | None = None,
    **options: Any,
) -> Figure:
    """Effects against one covariate term with the regression line and its band (bubbles
    sized by weight), as metafor's ``regplot``.

    Parameters
    ----------
    result : MetaRegResult or BayesResult
        A frequentist meta-regression (:func:`metareg`) or a Bayesian fit with covariates.
    term : str, optional
        The term on the x axis (default: the result's first covariate term); the axis shows
        its column (``dose_million`` for ``log10(dose_million)``, on a log axis).
    effects : EffectTable, optional
        The effect table; needed for a Bayesian result (it keeps no covariate values).
    **options
        ``log_x``, ``ax``, ``xlabel``, ``title``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from bayes_msc.plots.public import plot_metareg as _plot

    return _plot(result, term, effects, **options)


def plot_trace(result: BayesResult, var_names: Sequence[str] | None = None, **options: Any) -> Figure:
    """Trace and rank plots (one line per chain; rank histograms with the band of uniform
    ranks) of mu, tau and the slopes of an MCMC fit, with R-hat, ESS and divergences.

    Parameters
    ----------
    result : BayesResult
        A fit by the MCMC engine (``engine="mcmc"``); an exact fit has no chains to show.
    var_names : sequence of str, optional
        Parameters to show (default mu, tau and every slope).
    **options
        ``fig``, ``title``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from bayes_msc.plots.public import plot_trace as _plot

    return _plot(result, var_names, **options)

"""The public figure functions: ``bm.plot_forest``, ``bm.plot_priors``, ``bm.plot_metareg``
and ``bm.plot_trace``.

Each returns a :class:`matplotlib.figure.Figure` (built without pyplot, so it works under
any backend and never opens a window; in a notebook it shows as the cell's value) and
survives a plain ``fig.savefig(path)``: a figure the function makes is sized so that its
title, notes, legend and text columns lie inside it; drawn into a given ``ax`` the figure
gets matplotlib's constrained layout (unless it has a layout engine already) so they fit
there too. The arguments are the package's own results; these functions turn them into
what the figure modules (:mod:`~bayes_msc.plots.forest`, :mod:`~bayes_msc.plots.priors`,
:mod:`~bayes_msc.plots.metareg`, :mod:`~bayes_msc.plots.diagnostics`) draw, and say which
argument is wrong when one is (:class:`~bayes_msc.errors.InputError`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.errors import InputError, Problem

BETTER = ("lower", "higher")


def _bad(message: str, argument: str) -> InputError:
    return InputError(Problem(message, argument=argument))


def bayes_results(results: Any, argument: str = "results") -> list[Any]:
    """A BayesResult, a sequence of them or a PriorComparison (its results), as a list."""
    from bayes_msc.results.bayes import BayesResult
    from bayes_msc.results.comparison import PriorComparison

    if isinstance(results, PriorComparison):
        out = list(results.results)
    elif isinstance(results, BayesResult):
        out = [results]
    elif isinstance(results, Sequence) and not isinstance(results, str):
        out = list(results)
    else:
        raise _bad(
            f"{argument} must be a BayesResult (bm.fit), a list of them or a PriorComparison, "
            f"not {type(results).__name__}",
            argument,
        )
    if not out or not all(isinstance(r, BayesResult) for r in out):
        raise _bad(f"{argument} must hold at least one BayesResult and nothing else", argument)
    return out


def favours_labels(better: str | None, mcid: Any = None) -> tuple[str, str] | None:
    """The labels under a forest's axis, left then right of 0, from which direction of the
    outcome is better (``"lower"``: a negative difference favours the treatment), else
    from the sign of a single MCID; None when neither says."""
    if better is None and isinstance(mcid, (int, float)):
        better = "lower" if mcid < 0 else "higher"
    if better is None:
        return None
    if better not in BETTER:
        raise _bad(f"better must be 'lower' or 'higher', not {better!r}", "better")
    if better == "lower":
        return ("favours treatment", "favours control")
    return ("favours control", "favours treatment")


def _effects_from(results: list[Any]) -> pd.DataFrame:
    """The observed effects of a result's ``study_effects`` (for a forest without a table)."""
    se = results[0].study_effects
    if se is None or not {"study", "comparison", "yi", "sei"} <= set(se.columns):
        raise _bad(
            "this result keeps no observed study effects: give effects=the effect table it was fitted to", "effects"
        )
    frame = se[["study", "comparison", "yi"]].copy()
    frame["vi"] = se["sei"].to_numpy(dtype=float) ** 2
    return frame


def _dl_pool(effects: Any) -> Any:
    """A DerSimonian-Laird pool of the effect table, for the heterogeneity line."""
    from bayes_msc.data.effects import EffectTable
    from bayes_msc.frequentist.pooling import pool_effects
    from bayes_msc.frequentist.rma import rma

    if isinstance(effects, EffectTable):
        return pool_effects(effects, "dl") if effects.k > 1 else None
    frame = getattr(effects, "data", effects)
    if len(frame) < 2:
        return None
    return rma(frame["yi"].to_numpy(float), frame["vi"].to_numpy(float), method="dl")


def plot_forest(
    results: Any,
    effects: Any = None,
    pool: Any = None,
    *,
    columns: Sequence[str] = (),
    mcid: float | Sequence[float] | None = None,
    better: str | None = None,
    favours: tuple[str, str] | None = None,
    study_labels: Mapping[str, str] | None = None,
    heterogeneity: bool = True,
    ax: Any = None,
    xlabel: str | None = None,
    title: str | None = None,
) -> Any:
    """Posterior forest plot (see :func:`bayes_msc.api.plot_forest`)."""
    from bayes_msc.plots.forest import posterior_forest

    found = bayes_results(results)
    table = _effects_from(found) if effects is None else effects
    line_pool = pool if pool is not None or not heterogeneity else _dl_pool(table)
    labels = favours if favours is not None else favours_labels(better, mcid)
    try:
        return posterior_forest(
            found,
            table,
            pool=pool,
            extra_columns=columns,
            mcid=mcid,
            ax=ax,
            favours=labels,
            xlabel=xlabel,
            title=title,
            study_labels=study_labels,
            heterogeneity=line_pool if heterogeneity else False,
        )
    except (TypeError, ValueError) as exc:  # mismatched inputs: say so the package's way
        raise _bad(str(exc), "effects" if effects is not None else "results") from None


def plot_priors(
    comparison: Any,
    *,
    parameters: Sequence[str] = ("mu", "tau"),
    table: bool | pd.DataFrame = True,
    fig: Any = None,
    title: str | None = None,
) -> Any:
    """Posteriors under each prior set (see :func:`bayes_msc.api.plot_priors`)."""
    from bayes_msc.plots.priors import prior_comparison_figure

    if isinstance(comparison, Mapping):
        entries = comparison
    else:
        entries = {r.prior: (r, r.prior_set) for r in bayes_results(comparison, "comparison")}
    try:
        return prior_comparison_figure(entries, table, parameters=parameters, fig=fig, title=title)
    except (TypeError, ValueError) as exc:
        raise _bad(str(exc), "comparison") from None


def _metareg_effects(result: Any, term: str) -> pd.DataFrame:
    """The comparisons of a frequentist meta-regression with the raw values of ``term``'s
    column (the result keeps the terms as modelled: ``log10(dose)`` is turned back)."""
    from bayes_msc.data.covariates import parse_term

    parsed = parse_term(term, "term")
    j = list(result.names).index(parsed.name)
    x = np.asarray(result.x, dtype=float)[:, j]
    raw = 10.0**x if parsed.transform == "log10" else np.exp(x) if parsed.transform == "log" else x
    split = [str(lab).split(": ", 1) for lab in result.labels]
    return pd.DataFrame(
        {
            "study": [s[0] for s in split],
            "comparison": [s[-1] for s in split],
            "yi": np.asarray(result.yi, dtype=float),
            "vi": np.asarray(result.vi, dtype=float),
            parsed.column: raw,
        }
    )


def plot_metareg(
    result: Any,
    term: str | None = None,
    effects: Any = None,
    *,
    log_x: bool | None = None,
    ax: Any = None,
    xlabel: str | None = None,
    title: str | None = None,
) -> Any:
    """Effect against one covariate term (see :func:`bayes_msc.api.plot_metareg`)."""
    from bayes_msc.plots.metareg import metareg_figure
    from bayes_msc.results.bayes import BayesResult
    from bayes_msc.results.metareg import MetaRegResult

    if isinstance(result, MetaRegResult):
        terms = tuple(result.names)
    elif isinstance(result, BayesResult):
        terms = tuple(result.covariates)
    else:
        raise _bad(
            f"result must be a MetaRegResult (bm.metareg) or a BayesResult with covariates, not {type(result).__name__}",
            "result",
        )
    if not terms:
        raise _bad("result has no covariates: fit it with covariates=[...]", "result")
    term = terms[0] if term is None else term
    if term not in terms:
        raise _bad(f"term {term!r} is not a covariate of the result; it has: {', '.join(terms)}", "term")
    if isinstance(result, BayesResult) and result.idata is None:
        raise _bad(
            "this Bayesian fit keeps no posterior draws to draw the regression band from: fit it with "
            "engine='mcmc', or draw the frequentist bm.metareg result",
            "result",
        )
    if effects is None:
        if not isinstance(result, MetaRegResult):
            raise _bad("a Bayesian result keeps no covariate values: give effects=the effect table", "effects")
        effects = _metareg_effects(result, term)
    try:
        fig = metareg_figure(effects, term, result, log_x, ax, xlabel=xlabel, title=title)
    except (TypeError, ValueError) as exc:
        raise _bad(str(exc), "result") from None
    if ax is not None:
        _fit_into(fig, ax)
    return fig


def _fit_into(fig: Any, ax: Any) -> None:
    """Make what a figure function drew into a given axes fit the figure when saved: the
    legend in the layout, the title wrapped to the figure's width, constrained layout."""
    from bayes_msc.plots import style, text_layout

    legend = ax.get_legend()
    if legend is not None:
        legend.set_in_layout(True)
    head = ax.get_title(loc="left")
    if head:
        # The title starts at the axes' left edge, the width of the axis labels in.
        wrapped = text_layout.wrap(head, fig, fig.get_figwidth() - 1.1, style.TITLE_FONT_SIZE)
        ax.set_title(wrapped, loc="left", fontsize=style.TITLE_FONT_SIZE)
    if fig.get_layout_engine() is None and ax.get_subplotspec() is not None:  # placed by hand: left so
        fig.set_layout_engine("constrained")


def plot_trace(
    result: Any, var_names: Sequence[str] | None = None, *, fig: Any = None, title: str | None = None
) -> Any:
    """Trace and rank plots of an MCMC fit (see :func:`bayes_msc.api.plot_trace`)."""
    from bayes_msc.plots.diagnostics import trace_rank_figure
    from bayes_msc.results.bayes import BayesResult

    if not isinstance(result, BayesResult):
        raise _bad(f"result must be a BayesResult (bm.fit), not {type(result).__name__}", "result")
    if result.engine != "mcmc" or result.idata is None:
        raise _bad(
            f"trace and rank plots need MCMC draws; this fit's engine is {result.engine!r} (exact posterior, "
            "no Monte Carlo error): fit it with engine='mcmc' to see them",
            "result",
        )
    try:
        return trace_rank_figure(result, var_names, fig=fig, title=title)
    except ValueError as exc:
        raise _bad(str(exc), "var_names") from None

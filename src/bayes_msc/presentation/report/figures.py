"""Render the report's figures once each, as PNG (shown) and SVG (linked) files.

Which figures (each only where its inputs exist):

- ``forest_<cell>``: posterior forest plot of the cell's ``re`` fits without covariates
  (every prior set side by side) with the frequentist pool as reference;
- ``priors_<cell>``: prior comparison (posteriors of mu and tau per prior set, priors
  beneath) when the cell has fits under more than one prior set, each with draws or
  exact marginal densities of mu and tau;
- ``metareg_<fit>``: effect against the first covariate term, with the regression band of
  the first covariate prior's fit (of the frequentist meta-regression for the exact engine);
- ``trace_<fit>``: trace and rank plots of every fit that failed its diagnostics (so a
  failure can be inspected), and of the first MCMC fit as an example when none failed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bayes_msc.presentation.report.contents import FitRecord, RunResults

FIGURE_DIR = "figures"


def trace_fits(res: RunResults) -> list[FitRecord]:
    """Fits that get trace and rank plots (see the module docstring)."""
    mcmc = [f for f in res.fits if f.result.idata is not None]
    failed = [f for f in mcmc if not f.result.verdict.passed]
    return failed or mcmc[:1]


def _favours(mcid: float | None) -> tuple[str, str] | None:
    # The MCID's sign says which direction is better; without it the plot cannot know.
    if mcid is None:
        return None
    return ("favours treatment", "favours control") if mcid < 0 else ("favours control", "favours treatment")


def _has_densities(result: Any) -> bool:
    # Posterior densities come from draws (MCMC) or from the exact engine's marginal
    # densities when it gives them.
    return result.idata is not None or {"mu", "tau"} <= set(result.densities or {})


def render_figures(res: RunResults, out: Path, timer: Callable[[str], Any]) -> dict[str, str]:
    """Draw every figure into ``out/figures``.

    Parameters
    ----------
    res : RunResults
    out : Path
        The report folder being written.
    timer : callable
        ``timer(step)`` returns a context manager that adds the time spent to the
        run's profile under ``step``.

    Returns
    -------
    dict
        Figure id -> PNG path relative to ``out`` (the SVG sits beside it).
    """
    from bayes_msc.presentation.plots.diagnostics import trace_rank_figure
    from bayes_msc.presentation.plots.forest import posterior_forest
    from bayes_msc.presentation.plots.metareg import metareg_figure
    from bayes_msc.presentation.plots.priors import prior_comparison_figure
    from bayes_msc.presentation.plots.style import save_figure

    figures: dict[str, str] = {}

    def save(fig: Any, name: str) -> None:
        png, _ = save_figure(fig, out / FIGURE_DIR / name)
        figures[name] = png.relative_to(out).as_posix()

    for cr in res.cells:
        cell = cr.cell
        fits = res.fits_of(cell.outcome, cell.month, "re", ())
        if not fits:
            continue
        mcid = res.spec.mcid.get(cell.outcome)
        with timer("figures: forest"):
            save(posterior_forest([f.result for f in fits], cell.effects, pool=cr.pool, mcid=mcid,
                                  favours=_favours(mcid)), f"forest_{cell.key}")
        if len(fits) > 1 and all(_has_densities(f.result) for f in fits):
            with timer("figures: prior comparison"):
                save(prior_comparison_figure({f.task.prior: (f.result, f.prior_set) for f in fits}),
                     f"priors_{cell.key}")
    first_prior = res.spec.covariate_priors[:1]
    for rec in res.fits:
        if rec.task.covariates and rec.task.prior in first_prior:
            cr = next(c for c in res.cells if (c.cell.outcome, c.cell.month) == (rec.task.outcome, rec.task.month))
            # The band needs posterior draws; for the exact engine the frequentist
            # meta-regression of the same terms draws it instead.
            result = rec.result if rec.result.idata is not None else next(
                m for m in cr.metaregs if m.names == rec.task.covariates)
            with timer("figures: meta-regression"):
                save(metareg_figure(cr.cell.effects, rec.task.covariates[0], result),
                     f"metareg_{rec.task.key}")
    for rec in trace_fits(res):
        with timer("figures: trace/rank"):
            save(trace_rank_figure(rec.result), f"trace_{rec.task.key}")
    return figures

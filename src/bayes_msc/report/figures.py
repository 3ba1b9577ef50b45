"""Render the report's figures once each, as PNG files (shown), and as SVG files (linked from
the PNG) when the spec asks for them (``[report] svg = true``).

Which figures (each only where its inputs exist):

- ``forest_<cell>``: posterior forest plot of the cell's ``re`` fits without covariates
  (every prior set side by side) with the frequentist pool as reference;
- ``priors_<cell>``: prior comparison (posteriors of mu and tau per prior set, priors
  beneath) when the cell has fits under more than one prior set, each with draws or
  exact marginal densities of mu and tau;
- ``metareg_<fit>``: effect against the first covariate term, with the posterior mean line
  and the credible band of the first covariate prior's fit, from that fit's draws (either
  engine: every figure shows the fit it is captioned with, never another analysis);
- ``trace_<fit>``: trace and rank plots of every MCMC fit that failed its diagnostics (so
  a failure can be inspected), and of the first passing MCMC fit of each model as an
  example. Exact fits have no chains to show;
- the toolbox's funnel, Baujat and cumulative figures where the spec asks
  (:mod:`bayes_msc.report.toolbox`).

A figure that cannot be drawn is not left out silently: :func:`figure_plan` lists it with
its reason, and so does :func:`render_figures` for a figure whose drawing refuses its
inputs (a ``ValueError``); the report shows the reason where the figure would be.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bayes_msc.guard.workers import worker_signals
from bayes_msc.workflow.results import FitRecord, RunResults

FIGURE_DIR = "figures"


def trace_fits(res: RunResults) -> list[FitRecord]:
    """Fits that get trace and rank plots (see the module docstring): MCMC fits only (the
    exact engine's draws are independent; there is no chain to inspect)."""
    mcmc = [f for f in res.fits if f.result.engine == "mcmc" and f.result.has_draws]
    examples: dict[str, FitRecord] = {}
    for f in mcmc:
        if f.result.verdict.passed:
            examples.setdefault(f.task.model, f)
    shown = {id(f) for f in mcmc if not f.result.verdict.passed} | {id(f) for f in examples.values()}
    return [f for f in mcmc if id(f) in shown]


def _has_densities(result: Any) -> bool:
    # Posterior densities come from draws (either engine) or from the exact engine's
    # marginal densities.
    return {"mu", "tau"} <= set(result.densities or {}) or result.has_draws


Job = tuple[str, str, Callable[[], Any]]


def figure_jobs(res: RunResults) -> list[Job]:
    """Every figure of the report as ``(kind, name, draw)``; ``draw()`` returns the Figure."""
    return figure_plan(res)[0]


def figure_plan(res: RunResults) -> tuple[list[Job], dict[str, str]]:
    """The figures to draw, ``(kind, name, draw)``, and those that cannot be drawn:
    figure name -> the reason."""
    from bayes_msc.plots.diagnostics import trace_rank_figure
    from bayes_msc.plots.forest import posterior_forest
    from bayes_msc.plots.metareg import metareg_figure
    from bayes_msc.plots.priors import prior_comparison_figure
    from bayes_msc.plots.public import favours_labels

    labels = res.dataset.study_labels()

    jobs: list[Job] = []
    skipped: dict[str, str] = {}
    for cr in res.cells:
        cell = cr.cell
        fits = res.fits_of(cell.outcome, cell.month, "re", ())
        if not fits:
            if (cell.outcome, cell.month) in res.plan.single_study and res.spec.models:
                reason = "1 study: within-study comparison only; no random-effects fit to draw"
                skipped[f"forest_{cell.key}"] = skipped[f"priors_{cell.key}"] = reason
            continue
        mcid = res.spec.mcid.get(cell.outcome)
        results = [f.result for f in fits]
        # Which direction is better: the spec's analysis.better, else the sign of the MCID.
        favours = favours_labels(res.spec.better.get(cell.outcome), mcid)
        jobs.append(
            (
                "forest",
                f"forest_{cell.key}",
                partial(
                    posterior_forest,
                    results,
                    cell.effects,
                    pool=cr.pool,
                    mcid=mcid,
                    favours=favours,
                    study_labels=labels,
                ),
            )
        )
        if len(fits) > 1:
            lacking = [f.task.prior for f in fits if not _has_densities(f.result)]
            if lacking:
                skipped[f"priors_{cell.key}"] = "no draws or densities of mu and tau for prior set(s) " + ", ".join(
                    lacking
                )
            else:
                jobs.append(
                    (
                        "prior comparison",
                        f"priors_{cell.key}",
                        partial(prior_comparison_figure, {f.task.prior: (f.result, f.prior_set) for f in fits}),
                    )
                )
    first_prior = res.spec.covariate_priors[:1]
    for rec in res.fits:
        if rec.task.covariates and rec.task.prior in first_prior:
            name = f"metareg_{rec.task.key}"
            if not rec.result.has_draws:
                skipped[name] = "the fit has no posterior draws to draw its regression line from"
                continue
            cr = next(c for c in res.cells if (c.cell.outcome, c.cell.month) == (rec.task.outcome, rec.task.month))
            jobs.append(
                ("meta-regression", name, partial(metareg_figure, cr.cell.effects, rec.task.covariates[0], rec.result))
            )
    for rec in trace_fits(res):
        jobs.append(("trace/rank", f"trace_{rec.task.key}", partial(trace_rank_figure, rec.result)))
    from bayes_msc.report.toolbox import figure_jobs as toolbox_jobs

    return jobs + toolbox_jobs(res), skipped  # funnel, Baujat, cumulative where the spec asks


# The jobs of the running render_figures, read by forked workers (inherited, not pickled:
# results with posterior draws are large).
_JOBS: list[Job] = []
_FOLDER: list[Path] = []
_SVG: list[bool] = []


def _draw_and_save(i: int) -> tuple[str, str | None, str | None, float, str | None]:
    """(kind, PNG path, SVG path, seconds, None), or (kind, None, None, seconds, the reason)
    when the figure's function refuses its inputs (ValueError)."""
    import time

    import matplotlib

    from bayes_msc.plots.style import REPORT_RC, save_figure

    kind, name, draw = _JOBS[i]
    start = time.perf_counter()
    folder = _FOLDER[0]
    with matplotlib.rc_context(REPORT_RC):
        try:
            fig = draw()
        except ValueError as exc:  # the plot functions refuse inputs they cannot draw with ValueError
            return kind, None, None, time.perf_counter() - start, str(exc)
        png, svg = save_figure(fig, folder / FIGURE_DIR / name, svg=_SVG[0])
    svg_path = None if svg is None else svg.relative_to(folder).as_posix()
    return kind, png.relative_to(folder).as_posix(), svg_path, time.perf_counter() - start, None


def workers(n_jobs: int) -> int:
    """Processes that draw figures: one per CPU this process may use, at most one per
    figure; one (this process) once nutpie has sampled here (see :func:`fork_safe`)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, n_jobs)) if fork_safe() else 1


def fork_safe() -> bool:
    """Whether forking workers is safe: not after nutpie has sampled in this process. Its
    samplers own threads that a forked child does not have, and a child that frees a copied
    sampler object waits for them forever (seen as a hung report)."""
    from bayes_msc.bayes.mcmc.sampler import samplers_started

    return not samplers_started()


def render_figures(res: RunResults, out: Path, timer: Callable[[str], Any]) -> dict[str, str]:
    """Draw every figure into ``out/figures``, in parallel processes when there are CPUs.

    Drawing (matplotlib's Agg renderer, and its SVG one when asked) is most of a report's
    cost and every figure is independent; forked workers inherit the results instead of
    receiving a copy. A figure's bytes do not depend on the process that drew it. Figures
    are built and saved under :data:`bayes_msc.plots.style.REPORT_RC`.

    Parameters
    ----------
    res : RunResults
    out : Path
        The report folder being written.
    timer : callable
        ``timer(step)`` returns a context manager that adds the time spent to the
        run's profile under ``step``.
        When ``timer`` also has a method ``add(step, seconds)``, each figure's drawing
        time (measured in its worker) is added to the profile per kind of figure.

    Returns
    -------
    dict
        Figure id -> PNG path relative to ``out``; with the spec's ``[report] svg``, also
        ``<figure id>.svg`` -> SVG path relative to ``out``; for a figure that could not
        be drawn, ``<figure id>.skipped`` -> the reason.
    """
    import gc
    import multiprocessing

    from bayes_msc.plots.style import new_figure

    jobs, skipped = figure_plan(res)
    _JOBS[:], _FOLDER[:], _SVG[:] = jobs, [out], [res.spec.svg]
    n = workers(len(jobs))
    try:
        with timer(f"figures ({len(jobs)}, {n} process{'es' if n > 1 else ''})"):
            if n > 1 and "fork" in multiprocessing.get_all_start_methods():
                # matplotlib imported once here rather than in every worker; the frozen
                # heap is not copied page by page when a worker's garbage collector runs.
                new_figure(1, 1)
                gc.freeze()
                try:
                    with multiprocessing.get_context("fork").Pool(n, initializer=worker_signals) as pool:
                        done = pool.map(_draw_and_save, range(len(jobs)), chunksize=1)
                finally:
                    gc.unfreeze()
            else:
                done = [_draw_and_save(i) for i in range(len(jobs))]
    finally:
        _JOBS.clear()
        _FOLDER.clear()
        _SVG.clear()
    record = getattr(timer, "add", None)
    if record is not None:
        for kind, _, _, seconds, _ in done:  # drawing time per kind of figure, summed over the workers
            record(f"  figures: {kind} (in workers)", seconds)
    paths = {f"{name}.skipped": reason for name, reason in skipped.items()}
    for (_, name, _), (_, png, svg, _, reason) in zip(jobs, done, strict=True):
        if png is None:
            paths[name + ".skipped"] = reason or "could not be drawn"
            continue
        paths[name] = png
        if svg is not None:
            paths[name + ".svg"] = svg
    return paths

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

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bayes_msc.workflow.results import FitRecord, RunResults

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


def figure_jobs(res: RunResults) -> list[tuple[str, str, Callable[[], Any]]]:
    """Every figure of the report as ``(kind, name, draw)``; ``draw()`` returns the Figure."""
    from bayes_msc.plots.diagnostics import trace_rank_figure
    from bayes_msc.plots.forest import posterior_forest
    from bayes_msc.plots.metareg import metareg_figure
    from bayes_msc.plots.priors import prior_comparison_figure

    jobs: list[tuple[str, str, Callable[[], Any]]] = []
    for cr in res.cells:
        cell = cr.cell
        fits = res.fits_of(cell.outcome, cell.month, "re", ())
        if not fits:
            continue
        mcid = res.spec.mcid.get(cell.outcome)
        results = [f.result for f in fits]
        jobs.append(
            (
                "forest",
                f"forest_{cell.key}",
                partial(posterior_forest, results, cell.effects, pool=cr.pool, mcid=mcid, favours=_favours(mcid)),
            )
        )
        if len(fits) > 1 and all(_has_densities(f.result) for f in fits):
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
            cr = next(c for c in res.cells if (c.cell.outcome, c.cell.month) == (rec.task.outcome, rec.task.month))
            # The band needs posterior draws; for the exact engine the frequentist
            # meta-regression of the same terms draws it instead.
            result = (
                rec.result
                if rec.result.idata is not None
                else next(m for m in cr.metaregs if m.names == rec.task.covariates)
            )
            jobs.append(
                (
                    "meta-regression",
                    f"metareg_{rec.task.key}",
                    partial(metareg_figure, cr.cell.effects, rec.task.covariates[0], result),
                )
            )
    for rec in trace_fits(res):
        jobs.append(("trace/rank", f"trace_{rec.task.key}", partial(trace_rank_figure, rec.result)))
    return jobs


# The jobs of the running render_figures, read by forked workers (inherited, not pickled:
# results with posterior draws are large).
_JOBS: list[tuple[str, str, Callable[[], Any]]] = []
_FOLDER: list[Path] = []


def _draw_and_save(i: int) -> tuple[str, str, float]:
    import time

    from bayes_msc.plots.style import save_figure

    kind, name, draw = _JOBS[i]
    start = time.perf_counter()
    png, _ = save_figure(draw(), _FOLDER[0] / FIGURE_DIR / name)
    return kind, png.relative_to(_FOLDER[0]).as_posix(), time.perf_counter() - start


def _worker_signals() -> None:
    """A drawing worker leaves stop signals to its parent: Ctrl-C (sent to the whole
    process group) is ignored, SIGTERM and SIGHUP (the pool's own shutdown) end it
    quietly, not with the parent's handler and a traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)


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

    Drawing (matplotlib's Agg and SVG renderers) is most of a report's cost and every
    figure is independent; forked workers inherit the results instead of receiving a copy.
    A figure's bytes do not depend on the process that drew it.

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
        Figure id -> PNG path relative to ``out`` (the SVG sits beside it).
    """
    import gc
    import multiprocessing

    from bayes_msc.plots.canvas import new_figure

    jobs = figure_jobs(res)
    _JOBS[:], _FOLDER[:] = jobs, [out]
    n = workers(len(jobs))
    try:
        with timer(f"figures ({len(jobs)}, {n} process{'es' if n > 1 else ''})"):
            if n > 1 and "fork" in multiprocessing.get_all_start_methods():
                # matplotlib imported once here rather than in every worker; the frozen
                # heap is not copied page by page when a worker's garbage collector runs.
                new_figure(1, 1)
                gc.freeze()
                try:
                    with multiprocessing.get_context("fork").Pool(n, initializer=_worker_signals) as pool:
                        done = pool.map(_draw_and_save, range(len(jobs)), chunksize=1)
                finally:
                    gc.unfreeze()
            else:
                done = [_draw_and_save(i) for i in range(len(jobs))]
    finally:
        _JOBS.clear()
        _FOLDER.clear()
    record = getattr(timer, "add", None)
    if record is not None:
        for kind, _, seconds in done:  # drawing time per kind of figure, summed over the workers
            record(f"  figures: {kind} (in workers)", seconds)
    return {name: png for (_, name, _), (_, png, _) in zip(jobs, done, strict=False)}

"""Simulation studies in the Python API: a grid of designs x replications x methods, run on
Dask (re-exported by :mod:`bayes_msc.api`); the work is in :mod:`bayes_msc.simstudy`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bayes_msc.errors import InputError, Problem

if TYPE_CHECKING:
    from bayes_msc.simstudy.result import SimulationStudyResult
    from bayes_msc.simstudy.spec import Study

__all__ = ["load_study", "plot_simulation_study", "simulation_study"]

PathLike = str | os.PathLike[str]


def load_study(path: PathLike) -> Study:
    """Read and check a simulation-study file (:func:`bayes_msc.simstudy.spec.load_study`;
    the format is in docs/FORMAT.md)."""
    from bayes_msc.simstudy.spec import load_study as _load

    return _load(path)


def simulation_study(
    study: Study | PathLike | dict[str, Any],
    out: PathLike | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    progress: bool = False,
) -> SimulationStudyResult:
    """Run a simulation study, as ``bayes-msc simulation-study`` does.

    Each replication simulates one meta-analysis per design and every method analyses it;
    the result gives per design x method the coverage of the intervals, bias, RMSE,
    interval width and power, each with its Monte Carlo SE. The results depend only on the
    study and its seed, not on where it ran. Start a study from a script under
    ``if __name__ == "__main__":`` (the local cluster's worker processes import it).

    Parameters
    ----------
    study : path, dict or Study
        A study file (TOML, docs/FORMAT.md), a dict with its tables, or :func:`load_study`'s result.
    out : path, optional
        The study folder: ``study.json``, ``chunks/`` (each chunk saved as it completes),
        then ``summary.csv``, ``summary.json``, ``figures/`` and ``index.html``. An existing
        folder must be one this function wrote; it is started over unless ``resume``.
        None: nothing is written.
    scheduler : str, optional
        ``tcp://HOST:PORT`` of a running Dask scheduler, or ``"serial"`` (this process, no
        Dask). Default: the study's ``[cluster] scheduler``, else a local Dask cluster.
    workers : int, optional
        Worker processes of the local cluster (default: the study's ``[cluster] workers``,
        else the machine's cores).
    resume : bool
        Continue the study in ``out``: its finished chunks are read back, not recomputed.
    progress : bool
        A progress bar of the chunks done on stderr.

    Returns
    -------
    SimulationStudyResult
        ``summary()`` (one row per design x method), ``replications`` (every analysis),
        ``to_dict()`` (summary.json); figures with :func:`plot_simulation_study`.

    Raises
    ------
    InputError
        A bad study, output folder, scheduler or option, found before any work.
    """
    from bayes_msc.simstudy.study import as_study, run_study

    if out is not None and (not isinstance(out, (str, os.PathLike)) or not str(out)):
        raise InputError(Problem(f"out must name a folder, not {out!r}", argument="out"))
    target = None if out is None else Path(out)
    res = run_study(as_study(study), target, scheduler=scheduler, workers=workers, resume=resume, progress=progress)
    if target is not None:
        from bayes_msc.report.simstudy import write_study_report

        write_study_report(res, target)
    return res


def plot_simulation_study(result: SimulationStudyResult, measure: str = "coverage") -> Any:
    """One measure of a simulation study (``coverage``, ``width``, ``bias``, ``rmse``,
    ``power``, ``empirical_se``) by design and method, with +/- 1.96 Monte Carlo SE bars:
    a matplotlib Figure (:func:`bayes_msc.plots.simstudy.performance_figure`)."""
    from bayes_msc.plots.simstudy import MEASURE_LABELS, performance_figure

    if measure not in MEASURE_LABELS:
        raise InputError(
            Problem(f"unknown measure '{measure}'; allowed: {', '.join(MEASURE_LABELS)}", argument="measure")
        )
    return performance_figure(result, measure)

"""The Python API of bayes-msc: one import for the whole workflow.

>>> import bayes_msc as bm
>>> ds = bm.read_dataset("data/msc_knee_oa_simulated")                  # doctest: +SKIP
>>> effects = bm.effect_table(ds, "vas", 12)                            # doctest: +SKIP
>>> bm.pool(effects, method="reml").summary()                           # doctest: +SKIP
>>> result = bm.fit(effects, prior="weakly_informative")                # doctest: +SKIP
>>> result.summary(); result.verdict                                    # doctest: +SKIP
>>> bm.compare_priors(effects).summary()                                # doctest: +SKIP
>>> review = bm.run_spec("models/simulated_demo.toml", out="reports/demo")  # doctest: +SKIP

Stage 1 (data): :func:`read_dataset`, :func:`effect_table` (``yi``/``vi`` per comparison,
metafor's ``escalc``), :func:`arm_table` (arm-level data for the ``arm`` model).
Stage 2 (inference): :func:`pool`, :func:`metareg` and :func:`leave1out` (frequentist, as
metafor's ``rma`` and ``leave1out``), :func:`fit` (exact quadrature or PyMC/nutpie, the
engine chosen per model), :func:`exact_posterior`, :func:`compare_priors`,
:func:`simulate` (outcomes for a design from stated true parameters).
The whole review: :func:`load_spec` and :func:`run_spec` (what ``bayes-msc run`` does).

Every function raises :class:`bayes_msc.errors.InputError` on bad input. Heavy libraries
(PyMC, ArviZ, nutpie, matplotlib) are imported only by the functions that need them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bayes_msc.bayes.compare import compare_priors
from bayes_msc.bayes.fit import fit
from bayes_msc.data.dataset import Dataset
from bayes_msc.data.effects import ArmTable, EffectTable
from bayes_msc.errors import InputError, Problem
from bayes_msc.results.layout import CI_LEVEL
from bayes_msc.workflow.spec import Spec, load_spec

if TYPE_CHECKING:
    import pandas as pd

    from bayes_msc.priors import PriorSet
    from bayes_msc.results.bayes import BayesResult
    from bayes_msc.results.frequentist import LeaveOneOutResult, MetaRegResult, PoolResult
    from bayes_msc.simstudy.result import SimulationStudyResult
    from bayes_msc.simstudy.spec import Study
    from bayes_msc.simulation.params import SimulationParams
    from bayes_msc.workflow.profile import Profile
    from bayes_msc.workflow.results import RunResults

__all__ = [
    "arm_table",
    "compare_priors",
    "effect_table",
    "exact_posterior",
    "fit",
    "leave1out",
    "load_spec",
    "load_study",
    "metareg",
    "pool",
    "read_dataset",
    "run_spec",
    "simulate",
    "simulate_dataset",
    "simulation_study",
    "simulation_study_figure",
]

PathLike = str | os.PathLike[str]


def read_dataset(path: PathLike) -> Dataset:
    """Read and validate a dataset folder (:func:`bayes_msc.data.reader.read_dataset`)."""
    from bayes_msc.data.reader import read_dataset as _read

    return _read(Path(path))


def _dataset(dataset: Dataset | PathLike) -> Dataset:
    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, (str, os.PathLike)):
        return read_dataset(dataset)
    raise InputError(
        Problem(
            f"dataset must be a Dataset (bm.read_dataset) or a folder path, not {type(dataset).__name__}",
            argument="dataset",
        )
    )


def _effects(effects: Any) -> EffectTable:
    if not isinstance(effects, EffectTable):
        raise InputError(
            Problem(
                f"effects must be an effect table (bm.effect_table), not {type(effects).__name__}", argument="effects"
            )
        )
    return effects


def effect_table(dataset: Dataset | PathLike, outcome: str, month: float, **options: Any) -> EffectTable:
    """Effect sizes of one outcome at one month (:func:`bayes_msc.data.effects.effect_table`;
    ``dataset`` may be a folder path). Options: ``measure``, ``multiarm``, ``basis``, ``r``,
    ``rescale``, ``conversion``."""
    from bayes_msc.data.effects import effect_table as _table

    return _table(_dataset(dataset), outcome, month, **options)


def arm_table(dataset: Dataset | PathLike, outcome: str, month: float, **options: Any) -> ArmTable:
    """Arm-level data of one outcome at one month for the ``arm`` model
    (:func:`bayes_msc.data.effects.arm_table`; ``dataset`` may be a folder path)."""
    from bayes_msc.data.effects import arm_table as _arms

    return _arms(_dataset(dataset), outcome, month, **options)


def pool(
    effects: EffectTable, method: str = "dl", hksj: bool = False, level: float = CI_LEVEL, pi: str = "z"
) -> PoolResult:
    """Frequentist pooling of an effect table, as metafor's ``rma(yi, vi, method=...)``
    (:func:`bayes_msc.frequentist.pooling.pool_effects`), with the comparisons' covariance
    when they share an arm. ``method``: ``fe``, ``dl`` (default), ``reml``, ``pm``, ``ml``,
    ``he``, ``sj``, ``eb`` or ``paper`` (Qu & Sun's FE/DL rule); ``hksj``: Knapp-Hartung;
    ``pi``: ``z`` (metafor) or ``t`` (k - 2 df) prediction interval."""
    from bayes_msc.frequentist.pooling import pool_effects

    return pool_effects(_effects(effects), method=method, hksj=hksj, level=level, pi=pi)


def metareg(
    effects: EffectTable, covariates: Sequence[str], method: str = "reml", hksj: bool = False, level: float = CI_LEVEL
) -> MetaRegResult:
    """Frequentist meta-regression on covariate terms (``age_mean``, ``log10(dose_million)``),
    as metafor's ``rma(yi, vi, mods = ~ ...)``; comparisons lacking a covariate are dropped
    and listed in ``excluded``."""
    from bayes_msc.frequentist.pooling import metareg_effects

    return metareg_effects(_effects(effects), covariates, method=method, hksj=hksj, level=level)


def leave1out(
    effects: EffectTable, method: str = "dl", hksj: bool = False, level: float = CI_LEVEL
) -> LeaveOneOutResult:
    """Pool the comparisons without each one in turn, as metafor's ``leave1out``; with
    ``method="paper"`` the paper's FE/DL rule is applied again to each subset."""
    from bayes_msc.frequentist.pooling import leave1out_effects

    return leave1out_effects(_effects(effects), method=method, hksj=hksj, level=level)


def exact_posterior(
    data: EffectTable | ArmTable,
    prior: str | PriorSet | dict[str, Any] = "weakly_informative",
    covariates: Sequence[str] = (),
    *,
    priors_path: PathLike | None = None,
    ci_prob: float = CI_LEVEL,
    mcid: float | None = None,
) -> BayesResult:
    """The exact (quadrature) posterior of the ``re`` model of an effect table, or of the
    ``arm`` model of an arm table: :func:`fit` with ``engine="exact"``."""
    return fit(data, None, prior, covariates, priors_path=priors_path, engine="exact", ci_prob=ci_prob, mcid=mcid)


def simulate(
    design: PathLike | pd.DataFrame,
    params: PathLike | SimulationParams,
    seed: int | None = None,
    studies: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Simulated ``outcomes.csv`` rows for a design (:func:`bayes_msc.simulation.simulate.simulate_outcomes`).

    Parameters
    ----------
    design : path or DataFrame
        A folder with ``arms.csv`` (and ``studies.csv``), or the arms frame itself.
    params : path or SimulationParams
        The true parameters (a TOML file, :func:`bayes_msc.simulation.simulate.load_params`).
    seed : int, optional
        Overrides the parameters' seed.
    studies : DataFrame, optional
        ``studies.csv`` when ``design`` is a frame.
    """
    import pandas as pd

    from bayes_msc.simulation.simulate import load_params, simulate_outcomes

    if isinstance(design, (str, os.PathLike)):
        folder = Path(design)
        if not (folder / "arms.csv").is_file():
            raise InputError(Problem("file not found in the design folder", file=str(folder / "arms.csv")))
        arms = pd.read_csv(folder / "arms.csv")
        studies = pd.read_csv(folder / "studies.csv") if (folder / "studies.csv").is_file() else None
    else:
        arms = design
    if isinstance(params, (str, os.PathLike)):
        params = load_params(Path(params))
    seed = params.seed if seed is None else seed
    if seed is None:
        raise InputError(Problem("no seed: give one, or set seed in the parameters file", argument="seed"))
    return simulate_outcomes(arms, studies, params, seed)


def simulate_dataset(design: PathLike, params: PathLike, out: PathLike, seed: int | None = None) -> dict[str, Any]:
    """A complete simulated dataset folder (arms, studies, outcomes, parameters, dataset.toml
    and a README saying it is simulated) for a design, as ``bayes-msc simulate`` writes it
    (:func:`bayes_msc.simulation.dataset_folder.simulate_dataset`)."""
    from bayes_msc.simulation.dataset_folder import simulate_dataset as _simulate_dataset

    return _simulate_dataset(design, params, out, seed=seed)


def run_spec(
    spec: Spec | PathLike | dict[str, Any],
    out: PathLike | None = None,
    *,
    progress: bool = False,
    profile: Profile | None = None,
) -> RunResults:
    """Run a whole review from an analysis spec, as ``bayes-msc run`` does.

    Parameters
    ----------
    spec : Spec, path or dict
        A spec file (TOML; :func:`load_spec`), a loaded :class:`~bayes_msc.workflow.spec.Spec`
        or a dict with the file's tables (relative paths then resolve against the working
        directory).
    out : path, optional
        The report folder: ``index.html``, ``summary.json``, ``tables/``, ``figures/``,
        ``posteriors/``. Written atomically (complete or not at all); an existing folder is
        replaced only when it is a report this package wrote. None: nothing is written.
    progress : bool
        A progress bar of the Bayesian fits on stderr (when it is a terminal).
    profile : Profile, optional
        Collects the wall time per step (:class:`bayes_msc.workflow.profile.Profile`).

    Returns
    -------
    RunResults
        Every result of the review: ``cells`` (frequentist pools, leave-one-out,
        meta-regressions), ``fits`` (Bayesian results), ``reproduction``, ``plan``
        (including what the data do not allow and why); ``report`` is ``out``.

    Raises
    ------
    InputError
        Any problem of the spec, dataset, prior sets or output folder, found before any work.
    """
    from dataclasses import replace

    from bayes_msc.workflow.profile import Profile
    from bayes_msc.workflow.review import prepare_review, run_review

    profile = Profile() if profile is None else profile
    target = None if out is None else Path(out)
    if target is not None and not str(out):
        raise InputError(Problem("out must name a folder, not an empty string", argument="out"))
    with profile.step("validate"):
        review = prepare_review(spec)
        if target is not None:
            from bayes_msc.report.folder import check_out

            check_out(target)
    res = run_review(review, progress=progress, profile=profile)
    if target is None:
        return res
    from bayes_msc.report.folder import write_report_folder

    write_report_folder(res, target, profile)
    return replace(res, report=target)


# --- simulation studies (issue 18) -------------------------------------------------------


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
        ``to_dict()`` (summary.json); figures with :func:`simulation_study_figure`.

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


def simulation_study_figure(result: SimulationStudyResult, measure: str = "coverage") -> Any:
    """One measure of a simulation study (``coverage``, ``width``, ``bias``, ``rmse``,
    ``power``, ``empirical_se``) by design and method, with +/- 1.96 Monte Carlo SE bars:
    a matplotlib Figure (:func:`bayes_msc.plots.simstudy.performance_figure`)."""
    from bayes_msc.plots.simstudy import MEASURE_LABELS, performance_figure

    if measure not in MEASURE_LABELS:
        raise InputError(
            Problem(f"unknown measure '{measure}'; allowed: {', '.join(MEASURE_LABELS)}", argument="measure")
        )
    return performance_figure(result, measure)

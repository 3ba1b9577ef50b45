"""The core of the Python API: data, frequentist pooling, Bayesian fits, whole reviews
(re-exported by :mod:`bayes_msc.api`)."""

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
from bayes_msc.guard.arguments import check_flag, check_number, check_path, check_terms, check_text
from bayes_msc.results.layout import CI_LEVEL
from bayes_msc.workflow.spec import Spec, load_spec

if TYPE_CHECKING:
    import pandas as pd

    from bayes_msc.priors import PriorSet
    from bayes_msc.results.bayes import BayesResult
    from bayes_msc.results.frequentist import LeaveOneOutResult, MetaRegResult, PoolResult
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
    "load_result",
    "load_spec",
    "metareg",
    "pool",
    "read_dataset",
    "run_spec",
    "simulate",
    "simulate_dataset",
]

PathLike = str | os.PathLike[str]


def read_dataset(path: PathLike) -> Dataset:
    """Read and validate a dataset folder (:func:`bayes_msc.data.reader.read_dataset`)."""
    from bayes_msc.data.reader import read_dataset as _read

    return _read(Path(check_path(path, "path", "a dataset folder")))


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


def _cell(outcome: Any, month: Any) -> tuple[str, float]:
    return check_text(outcome, "outcome", "an outcome name"), check_number(month, "month", low=0)


_EFFECT_OPTIONS = {
    "effect_table": ("measure", "multiarm", "basis", "r", "rescale", "conversion"),
    "arm_table": ("basis", "r", "rescale", "conversion"),
}


def _options(options: dict[str, Any], function: str) -> dict[str, Any]:
    """The effect-size options with their types checked (their values are checked where used)."""
    out = dict(options)
    allowed = _EFFECT_OPTIONS[function]
    unknown = [k for k in out if k not in allowed]
    if unknown:
        raise InputError(
            Problem(f"{function} has no option {unknown[0]!r}; options: {', '.join(allowed)}", argument=unknown[0])
        )
    for name in ("measure", "multiarm", "basis", "conversion"):
        if name in out:
            out[name] = check_text(out[name], name, "an option name")
    if "r" in out:
        out["r"] = check_number(out["r"], "r", low=-1, high=1)
    if "rescale" in out:
        out["rescale"] = check_flag(out["rescale"], "rescale")
    return out


def _frequentist(hksj: Any, level: Any) -> tuple[bool, float]:
    return check_flag(hksj, "hksj"), check_number(level, "level", low=0, high=1, open_low=True, open_high=True)


def effect_table(dataset: Dataset | PathLike, outcome: str, month: float, **options: Any) -> EffectTable:
    """Effect sizes of one outcome at one month (:func:`bayes_msc.data.effects.effect_table`;
    ``dataset`` may be a folder path). Options: ``measure``, ``multiarm``, ``basis``, ``r``,
    ``rescale``, ``conversion``."""
    from bayes_msc.data.effects import effect_table as _table

    return _table(_dataset(dataset), *_cell(outcome, month), **_options(options, "effect_table"))


def arm_table(dataset: Dataset | PathLike, outcome: str, month: float, **options: Any) -> ArmTable:
    """Arm-level data of one outcome at one month for the ``arm`` model
    (:func:`bayes_msc.data.effects.arm_table`; ``dataset`` may be a folder path)."""
    from bayes_msc.data.effects import arm_table as _arms

    return _arms(_dataset(dataset), *_cell(outcome, month), **_options(options, "arm_table"))


def pool(
    effects: EffectTable, method: str = "dl", hksj: bool = False, level: float = CI_LEVEL, pi: str = "z"
) -> PoolResult:
    """Frequentist pooling of an effect table, as metafor's ``rma(yi, vi, method=...)``
    (:func:`bayes_msc.frequentist.pooling.pool_effects`), with the comparisons' covariance
    when they share an arm. ``method``: ``fe``, ``dl`` (default), ``reml``, ``pm``, ``ml``,
    ``he``, ``sj``, ``eb`` or ``paper`` (Qu & Sun's FE/DL rule); ``hksj``: Knapp-Hartung;
    ``pi``: ``z`` (metafor) or ``t`` (k - 2 df) prediction interval."""
    from bayes_msc.frequentist.pooling import pool_effects

    hksj, level = _frequentist(hksj, level)
    return pool_effects(_effects(effects), method=check_text(method, "method"), hksj=hksj, level=level, pi=pi)


def metareg(
    effects: EffectTable, covariates: Sequence[str], method: str = "reml", hksj: bool = False, level: float = CI_LEVEL
) -> MetaRegResult:
    """Frequentist meta-regression on covariate terms (``age_mean``, ``log10(dose_million)``),
    as metafor's ``rma(yi, vi, mods = ~ ...)``; comparisons lacking a covariate are dropped
    and listed in ``excluded``."""
    from bayes_msc.frequentist.pooling import metareg_effects

    hksj, level = _frequentist(hksj, level)
    terms = check_terms(covariates, "covariates")
    return metareg_effects(_effects(effects), terms, method=check_text(method, "method"), hksj=hksj, level=level)


def leave1out(
    effects: EffectTable, method: str = "dl", hksj: bool = False, level: float = CI_LEVEL
) -> LeaveOneOutResult:
    """Pool the comparisons without each one in turn, as metafor's ``leave1out``; with
    ``method="paper"`` the paper's FE/DL rule is applied again to each subset."""
    from bayes_msc.frequentist.pooling import leave1out_effects

    hksj, level = _frequentist(hksj, level)
    return leave1out_effects(_effects(effects), method=check_text(method, "method"), hksj=hksj, level=level)


def exact_posterior(
    data: EffectTable | ArmTable,
    prior: str | PriorSet | dict[str, Any] = "weakly_informative",
    covariates: Sequence[str] = (),
    *,
    covariate_at: dict[str, float] | None = None,
    priors_path: PathLike | None = None,
    ci_prob: float = CI_LEVEL,
    mcid: float | None = None,
) -> BayesResult:
    """The exact (quadrature) posterior of the ``re`` model of an effect table, or of the
    ``arm`` model of an arm table: :func:`fit` with ``engine="exact"``."""
    return fit(
        data,
        None,
        prior,
        covariates,
        covariate_at=covariate_at,
        priors_path=priors_path,
        engine="exact",
        ci_prob=ci_prob,
        mcid=mcid,
    )


def load_result(path: PathLike) -> BayesResult:
    """A fit saved as a posterior file (``fit(..., save=)``, ``bayes-msc fit --save``, a
    report's ``posteriors/<fit>.nc``), with the summaries printed when it was made and its
    draws as ``idata`` (:func:`bayes_msc.bayes.saved.load_result`)."""
    from bayes_msc.bayes.saved import load_result as _load

    return _load(path)


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
    from bayes_msc.simulation.design import simulate_from

    return simulate_from(design, params, seed, studies)


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
    from contextlib import nullcontext
    from dataclasses import replace

    from bayes_msc.workflow.profile import Profile
    from bayes_msc.workflow.review import prepare_review, review_inputs, run_review

    profile = Profile() if profile is None else profile
    target = None if out is None else Path(check_path(out, "out", "a folder"))
    progress = check_flag(progress, "progress")
    with profile.step("validate"):
        review = prepare_review(spec)
        if target is not None:
            from bayes_msc.report.folder import claim_out

            # checked and locked before any work; its stale temporaries removed
            claimed = claim_out(target, review_inputs(review))
    with claimed if target is not None else nullcontext():
        res = run_review(review, progress=progress, profile=profile)
        if target is None:
            return res
        from bayes_msc.report.folder import write_report_folder

        write_report_folder(res, target, profile, claimed)
    return replace(res, report=target)

"""A whole review from a spec: check everything, then compute every result in memory.

Two steps, so that bad input stops a run before any work and before anything is written:

1. :func:`prepare_review` checks the spec (:func:`~bayes_msc.workflow.spec.load_spec`),
   reads the dataset, loads the prior sets and checks the spec against both while it
   builds every effect table (:func:`~bayes_msc.workflow.plan.make_plan`).
2. :func:`run_review` computes: per cell the frequentist pool (the spec's method; the
   paper's rule by default), leave-one-out and meta-regressions; every Bayesian fit of the
   plan (each by the engine :func:`bayes_msc.bayes.fit.fit` chooses for the spec's
   ``engine``); the reproduction of the publication's pooled results when the dataset has
   them. It writes nothing: the report (:mod:`bayes_msc.report`) is written from the
   returned :class:`~bayes_msc.workflow.results.RunResults`.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bayes_msc.errors import InputError, Problem
from bayes_msc.workflow.plan import Cell, FitTask, Plan, make_plan
from bayes_msc.workflow.profile import Profile
from bayes_msc.workflow.results import CellResult, FitRecord, RunResults
from bayes_msc.workflow.spec import Spec, load_spec, spec_from_mapping

if TYPE_CHECKING:
    from bayes_msc.data.dataset import Dataset
    from bayes_msc.priors import PriorSet
    from bayes_msc.results.bayes import BayesResult


@dataclass(frozen=True, eq=False)
class Review:
    """A checked spec with its dataset, prior sets and plan: ready to run."""

    spec: Spec
    dataset: Dataset
    prior_sets: dict[str, PriorSet]
    plan: Plan


def as_spec(spec: Spec | str | os.PathLike[str] | dict[str, Any]) -> Spec:
    """A :class:`Spec` from a spec object, a TOML file's path or a mapping of its tables."""
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, dict):
        return spec_from_mapping(spec)
    if isinstance(spec, (str, os.PathLike)):
        return load_spec(Path(spec))
    raise InputError(
        Problem(
            f"spec must be a Spec, a path to a spec file or a dict of its tables, not {type(spec).__name__}",
            argument="spec",
        )
    )


def prepare_review(spec: Spec | str | os.PathLike[str] | dict[str, Any]) -> Review:
    """Check a spec against its dataset and prior sets, and plan the work.

    Raises
    ------
    InputError
        Every problem of the spec, the dataset, the prior sets or the spec against them.
    """
    from bayes_msc.data.reader import read_dataset
    from bayes_msc.priors import available_prior_sets

    spec = as_spec(spec)
    dataset = read_dataset(spec.dataset)
    prior_sets = available_prior_sets(spec.prior_file)  # the spec's file adds to the bundled sets
    from bayes_msc.workflow.toolbox import check_toolbox

    plan = make_plan(spec, dataset, prior_sets)
    check_toolbox(spec, plan)
    _check_memory(spec, plan, prior_sets)
    return Review(spec, dataset, prior_sets, plan)


def _check_memory(spec: Spec, plan: Plan, prior_sets: dict[str, PriorSet]) -> None:
    """Refuse draws x chains that the largest MCMC fit of the plan could not hold in memory."""
    from bayes_msc.bayes.options import values_per_draw
    from bayes_msc.guard.limits import memory_problem

    sizes = [
        values_per_draw(cell.effects.k, len(task.covariates), task.model)
        for task in plan.fits
        if engine_for(spec, cell := plan.cell(task.outcome, task.month), task, prior_sets) == "mcmc"
    ]
    copies = 3 if spec.parameterisation == "auto" else 1
    problem = memory_problem(spec.draws, spec.chains, max(sizes), copies) if sizes else None
    if problem:
        raise InputError(Problem(problem, file=str(spec.path), key="bayes.draws"))


def review_inputs(review: Review) -> list[Path]:
    """The files and folders a review reads: its outputs must be none of them."""
    spec = review.spec
    found = [spec.path, spec.dataset] + ([spec.prior_file] if spec.prior_file else [])
    return [Path(p) for p in found if p is not None]


def _frequentist(spec: Spec, plan: Plan, cell: Cell) -> CellResult:
    """The cell's pool (the spec's method; the fixed-effect summary of a one-study cell,
    whose comparisons cannot identify a between-study variance), leave-one-out and
    meta-regressions."""
    from dataclasses import replace

    from bayes_msc.frequentist.pooling import leave1out_effects, metareg_effects, pool_effects

    et = cell.effects
    method, hksj = spec.method, spec.hksj
    if (cell.outcome, cell.month) in plan.single_study:
        study = str(et.data["study"].iat[0])
        pool = replace(
            pool_effects(et, "fe", False, pi=spec.pi),
            why=f"1 study: within-study comparison only ({study}): fixed-effect summary of its comparisons",
        )
        return CellResult(cell, pool, None, ())
    pool = pool_effects(et, method, hksj, pi=spec.pi)
    loo = leave1out_effects(et, method, hksj) if (cell.outcome, cell.month) in plan.loo else None
    metaregs = tuple(
        metareg_effects(et, terms, method, hksj)
        for o, m, terms in plan.metaregs
        if (o, m) == (cell.outcome, cell.month)
    )
    from bayes_msc.workflow.toolbox import cell_toolbox

    return CellResult(cell, pool, loo, metaregs, cell_toolbox(spec, cell, pool))


def _mcid_probability(result: BayesResult, mcid: float | None) -> float | None:
    """P(mu < mcid) for a negative MCID, P(mu > mcid) for a positive one, as the fit
    computed it (``mu`` at the covariates' reference values in a covariate model)."""
    from bayes_msc.results.bayes import mcid_label

    return None if mcid is None else result.probabilities.get(mcid_label(mcid))


def _fit(spec: Spec, cell: Cell, task: FitTask, prior_sets: dict[str, PriorSet]) -> BayesResult:
    """One Bayesian fit of the plan, by the engine the spec asks for (``auto``: exact where
    it gives the model's posterior, MCMC otherwise)."""
    from bayes_msc.bayes.fit import fit
    from bayes_msc.data.covariates import parse_term

    data = cell.arms if task.model == "arm" else cell.effects
    terms = [parse_term(t) for t in task.covariates]
    at = {key: v for key, v in spec.covariate_at.items() if any(key in (t.name, t.column) for t in terms)}
    return fit(
        data,  # type: ignore[arg-type]  # the plan has an arm table wherever it plans an arm fit
        model=task.model,
        prior=prior_sets[task.prior],
        covariates=task.covariates,
        covariate_at=at or None,
        draws=spec.draws,
        tune=spec.tune,
        chains=spec.chains,
        seed=spec.seed,
        engine=spec.engine,
        parameterisation=spec.parameterisation,
        mcid=spec.mcid.get(task.outcome),
    )


def posterior_file(task: FitTask) -> str:
    """Where a fit's posterior is written, relative to the report folder."""
    return f"posteriors/{task.key}.nc"


def run_review(review: Review, *, progress: bool = False, profile: Profile | None = None) -> RunResults:
    """Compute every result of a prepared review (nothing is written).

    Parameters
    ----------
    review : Review
        From :func:`prepare_review`.
    progress : bool
        A progress bar of the Bayesian fits on stderr (only when it is a terminal).
    profile : Profile, optional
        Collects the wall time per step.
    """
    from tqdm import tqdm

    from bayes_msc.workflow.toolbox import fit_bayes_factors

    spec, plan = review.spec, review.plan
    profile = Profile() if profile is None else profile
    with profile.step("frequentist"):
        cells = tuple(_frequentist(spec, plan, cell) for cell in plan.cells)
    fits = []
    bar = tqdm(
        plan.fits,
        desc="Bayesian fits",
        unit="fit",
        file=sys.stderr,
        disable=True if not progress else None,
        dynamic_ncols=True,
    )
    for task in bar:
        bar.set_postfix_str(task.key, refresh=False)
        start = time.perf_counter()
        result = _fit(spec, plan.cell(task.outcome, task.month), task, review.prior_sets)
        seconds = time.perf_counter() - start
        profile.add(f"fit: {task.model}{' + covariates' if task.covariates else ''} ({result.engine})", seconds)
        fits.append(
            FitRecord(
                task,
                result,
                seconds,
                posterior_file(task) if result.has_draws else None,
                result.prior_set,
                _mcid_probability(result, spec.mcid.get(task.outcome)),
                fit_bayes_factors(spec, task, result),
            )
        )
    bar.close()
    reproduction = None
    if review.dataset.published is not None:
        from bayes_msc.studies.qu_sun_2021.reproduce import reproduce
        from bayes_msc.studies.qu_sun_2021.table2 import EffectTables

        with profile.step("reproduction"):
            tables = EffectTables(review.dataset, "md")  # the published results are mean differences
            for cell in plan.cells:  # the plan's tables, where they are the reproduction's
                tables.put(cell.effects)
            reproduction = reproduce(review.dataset, multiarm=spec.multiarm, rescale=spec.rescale, tables=tables)
    return RunResults(spec, review.dataset, plan, cells, tuple(fits), review.prior_sets, reproduction)


def default_out(spec: Spec) -> Path:
    """The report folder when none is given: ``reports/<spec name>``."""
    return Path("reports") / spec.name


def engine_for(spec: Spec, cell: Cell, task: FitTask, prior_sets: dict[str, PriorSet]) -> str:
    """The engine that :func:`bayes_msc.bayes.fit.fit` will use for one fit of the plan:
    the spec's, or for ``engine = "auto"`` the one :func:`bayes_msc.bayes.engines.choose_engine`
    picks (exact where it gives the model's posterior, MCMC everywhere else)."""
    from bayes_msc.bayes.engines import choose_engine

    return choose_engine(spec.engine, task.model, prior_sets[task.prior], task.covariates, cell.effects.vcov)

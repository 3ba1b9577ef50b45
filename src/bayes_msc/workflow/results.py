"""What a run produced, handed from the orchestration to the report writers.

Frozen containers only; the report modules read them and compute nothing statistical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bayes_msc.data.dataset import Dataset
from bayes_msc.results.bayes import BayesResult
from bayes_msc.results.frequentist import LeaveOneOutResult, MetaRegResult, PoolResult
from bayes_msc.workflow.plan import Cell, FitTask, Plan
from bayes_msc.workflow.spec import Spec


@dataclass(frozen=True, eq=False)
class FitRecord:
    """One Bayesian fit: what was asked, what came out, where its draws are stored.

    ``posterior`` is the ``.nc`` file's path relative to the report folder (None for the
    exact engine); ``prior_set`` is the resolved prior set (for prior densities).
    """

    task: FitTask
    result: BayesResult
    seconds: float
    posterior: str | None = None
    prior_set: Any = None
    mcid_probability: float | None = None


@dataclass(frozen=True, eq=False)
class CellResult:
    """The frequentist results of one cell."""

    cell: Cell
    pool: PoolResult
    loo: LeaveOneOutResult | None = None
    metaregs: tuple[MetaRegResult, ...] = ()


@dataclass(frozen=True, eq=False)
class RunResults:
    """Everything one ``bayes-msc run`` computed."""

    spec: Spec
    dataset: Dataset
    plan: Plan
    cells: tuple[CellResult, ...]
    fits: tuple[FitRecord, ...]
    prior_sets: dict[str, Any]
    reproduction: Any = None

    def fits_of(
        self, outcome: str, month: float, model: str | None = None, covariates: tuple[str, ...] | None = ()
    ) -> list[FitRecord]:
        """The fits of one cell, optionally of one model and covariate set (None: any)."""
        return [
            f
            for f in self.fits
            if f.task.outcome == outcome
            and f.task.month == month
            and (model is None or f.task.model == model)
            and (covariates is None or f.task.covariates == covariates)
        ]

    @property
    def failed(self) -> list[FitRecord]:
        """Fits whose diagnostics verdict failed."""
        return [f for f in self.fits if not f.result.verdict.passed]

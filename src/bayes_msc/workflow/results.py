"""What a review produced (:func:`bayes_msc.run_spec`), handed to the report writers.

Frozen containers only; the report modules read them and compute nothing statistical.
:class:`RunResults` describes itself: a short ``repr``, a text ``print()``, ``summary()``
(one row per Bayesian fit) and ``to_dict()`` (cells, fits and what was skipped, as
summary.json gives them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_msc.data.dataset import Dataset
from bayes_msc.results.bayes import BayesResult
from bayes_msc.results.frequentist import LeaveOneOutResult, MetaRegResult, PoolResult
from bayes_msc.results.layout import CI_LEVEL
from bayes_msc.workflow.plan import Cell, FitTask, Plan
from bayes_msc.workflow.spec import Spec


@dataclass(frozen=True, eq=False)
class FitRecord:
    """One Bayesian fit: what was asked, what came out, where its draws are stored.

    ``posterior`` is the ``.nc`` file's path relative to the report folder (every fit of
    either engine has one); ``prior_set`` is the resolved prior set (for prior densities);
    ``mcid_probability`` the probability the outcome's signed MCID asks for.
    """

    task: FitTask
    result: BayesResult
    seconds: float
    posterior: str | None = None
    prior_set: Any = None
    mcid_probability: float | None = None
    bayes_factors: Any = None  # BayesFactors when the spec asks (bayes.bayes_factors)


@dataclass(frozen=True, eq=False)
class CellResult:
    """The frequentist results of one cell."""

    cell: Cell
    pool: PoolResult
    loo: LeaveOneOutResult | None = None
    metaregs: tuple[MetaRegResult, ...] = ()
    toolbox: Any = None  # workflow.toolbox.CellToolbox: confint, small-study, influence, cumulative


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
    report: Path | None = None

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

    def __repr__(self) -> str:
        where = f", report={str(self.report)!r}" if self.report is not None else ""
        return (
            f"RunResults(spec={self.spec.name!r}, dataset={self.dataset.name!r}, cells={len(self.cells)}, "
            f"fits={len(self.fits)}, failed={len(self.failed)}{where})"
        )

    def __str__(self) -> str:
        lines = [f"*** SIMULATED DATA (dataset {self.dataset.name}) ***", ""] if self.dataset.simulated else []
        lines.append(f"Review '{self.spec.title}' (spec {self.spec.name}, dataset {self.dataset.name})")
        lines.append(
            f"{len(self.cells)} outcome x month cell(s) pooled; {len(self.fits)} Bayesian fit(s), "
            f"{len(self.failed)} failed their diagnostics; {len(self.plan.skipped)} analysis(es) the data do not allow"
        )
        if self.report is not None:
            lines.append(f"Report: {self.report / 'index.html'}")
        if self.fits:
            table = self.summary()
            lines += ["", table.to_string(index=False, float_format=lambda x: f"{x:.3f}")]
        return "\n".join(lines) + "\n"

    def summary(self) -> pd.DataFrame:
        """One row per Bayesian fit: the cell, model, prior set, covariates, engine, mu
        (posterior mean and equal-tailed interval; in a covariate model at the reference
        values ``covariate_at``), tau (median) and the verdict."""
        rows = []
        for rec in self.fits:
            r = rec.result
            rows.append(
                {
                    "outcome": rec.task.outcome,
                    "month": rec.task.month,
                    "model": rec.task.model,
                    "prior": rec.task.prior,
                    "covariates": ", ".join(rec.task.covariates),
                    "covariate_at": _at_text(r.covariate_at),
                    "engine": r.engine,
                    "k": r.k,
                    "mu_mean": rec.result.value("mu", "mean"),
                    "mu_low": rec.result.value("mu", "eti_low"),
                    "mu_high": rec.result.value("mu", "eti_high"),
                    "tau_median": rec.result.value("tau", "median"),
                    "verdict": str(r.verdict),
                }
            )
        return pd.DataFrame(rows)

    def fit_records(self) -> list[dict[str, Any]]:
        """summary.json's ``fits``: one object per fit (``seconds`` is its only timing)."""
        out = []
        for rec in self.fits:
            r, v = rec.result, rec.result.verdict
            out.append(
                {
                    "outcome": rec.task.outcome,
                    "month": rec.task.month,
                    "model": rec.task.model,
                    "prior": rec.task.prior,
                    "covariates": list(rec.task.covariates),
                    "engine": r.engine,
                    "parameterisation": r.parameterisation,
                    "k": r.k,
                    "verdict": "pass" if v.passed else "fail",
                    "reasons": list(v.reasons),
                    "warnings": list(v.warnings),
                    "covariate_at": dict(r.covariate_at),
                    "max_r_hat": v.max_r_hat,
                    "min_ess_bulk": v.min_ess_bulk,
                    "divergences": v.divergences,
                    "posterior": rec.posterior,
                    "mu_mean": rec.result.value("mu", "mean"),
                    "tau_median": rec.result.value("tau", "median"),
                    "mcid": self.spec.mcid.get(rec.task.outcome),
                    "mcid_probability": rec.mcid_probability,
                    "seconds": round(rec.seconds, 3),
                }
            )
            if rec.bayes_factors is not None:
                out[-1]["bayes_factors"] = rec.bayes_factors.to_dict()["bayes_factors"]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The review as JSON-ready data: spec, dataset, options, every cell's frequentist
        results, every fit (as summary.json), and what was skipped and why."""
        return {
            "spec": self.spec.name,
            "title": self.spec.title,
            "dataset": self.dataset.name,
            "simulated": self.dataset.simulated,
            "ci_level": CI_LEVEL,
            "options": self.spec.options(),
            "cells": [
                {
                    "outcome": cr.cell.outcome,
                    "month": cr.cell.month,
                    "k": cr.cell.effects.k,
                    "frequentist": cr.pool.to_dict(),
                    "metareg": [m.to_dict() for m in cr.metaregs],
                    **({"toolbox": cr.toolbox.to_dict()} if cr.toolbox is not None else {}),
                }
                for cr in self.cells
            ],
            "fits": self.fit_records(),
            "failed": len(self.failed),
            "skipped": [
                {"outcome": s.outcome, "month": s.month, "what": s.what, "reason": s.reason} for s in self.plan.skipped
            ],
        }


def _at_text(at: dict[str, float]) -> str:
    """``log10(dose_million) = 1.64, age_mean = 55.1``: where mu is the pooled effect."""
    return ", ".join(f"{t} = {v:.4g}" for t, v in at.items())

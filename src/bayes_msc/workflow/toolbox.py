"""The metafor/bayesmeta toolbox inside a review (the spec's ``[frequentist]`` toolbox keys
and ``bayes.bayes_factors``): what each cell gets, computed in memory.

- Heterogeneity intervals (``confint``, on by default) for every cell with k >= 2.
- Small-study tests and trim and fill (``small_study``) on the cells asked for, run only
  where k >= ``small_study_min_k`` (10 by default: Cochrane Handbook 13.3.5.4 and the
  paper's choice); a cell below it records why it was not run.
- Influence diagnostics (``influence``) and cumulative meta-analysis (``cumulative``,
  ordered by ``cumulative_order``) on the cells asked for.
- Bayes factors (``bayes_factors``) of every ``re`` fit without covariates.

Each is skipped with its reason where the cell does not allow it (a fixed-effect pool has
no tau^2; shared arms have no metafor method), never silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bayes_msc.errors import InputError, Problem

if TYPE_CHECKING:
    from bayes_msc.results.frequentist import PoolResult
    from bayes_msc.workflow.plan import Cell, FitTask, Plan
    from bayes_msc.workflow.spec import Spec


@dataclass(frozen=True, eq=False)
class CellToolbox:
    """The toolbox results of one cell (None where not asked for or not possible; ``notes``
    says why for what was asked but not run)."""

    confint: Any = None
    regtest: Any = None
    ranktest: Any = None
    trimfill: Any = None
    influence: Any = None
    cumulative: Any = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Each result's JSON (as its command-line verb gives it) and the notes."""
        names = ("confint", "regtest", "ranktest", "trimfill", "influence", "cumulative")
        return {n: getattr(self, n).to_dict() for n in names if getattr(self, n) is not None} | {
            "notes": list(self.notes)
        }


def check_toolbox(spec: Spec, plan: Plan) -> None:
    """Before any work: the column ``cumulative_order`` exists in every cell it orders."""
    tb = spec.toolbox
    for cell in plan.cells:
        if tb.asks("cumulative", cell.outcome, cell.month) and tb.cumulative_order not in cell.effects.data.columns:
            raise InputError(
                Problem(
                    f"no column {tb.cumulative_order!r} to order the cumulative meta-analysis of "
                    f"{cell.outcome} at month {cell.month:g} by",
                    file=str(spec.path),
                    key="frequentist.cumulative_order",
                )
            )


def _try(notes: list[str], what: str, call: Any) -> Any:
    """``call()``, or None with the reason in ``notes`` when the cell does not allow it."""
    try:
        return call()
    except InputError as err:
        notes.append(f"{what}: " + "; ".join(p.message for p in err.problems))
        return None


def cell_toolbox(spec: Spec, cell: Cell, pool: PoolResult) -> CellToolbox:
    """The toolbox results the spec asks for in one cell."""
    from bayes_msc.frequentist.heterogeneity import confint
    from bayes_msc.frequentist.influence import cumulative, influence
    from bayes_msc.frequentist.small_study import ranktest, regtest, trimfill

    tb, et = spec.toolbox, cell.effects
    notes: list[str] = []
    out: dict[str, Any] = {}
    x = et if pool.shared_covariance else pool
    if tb.confint and pool.k >= 2:
        # the Q-profile interval does not depend on the estimator: a fixed-effect pool
        # (the paper's rule) gets it from the DerSimonian-Laird fit's Q profile
        out["confint"] = _try(notes, "confint", lambda: confint(et if pool.method == "fe" else x, method="dl"))
    if tb.asks("small_study", cell.outcome, cell.month):
        if pool.k < tb.small_study_min_k:
            notes.append(
                f"small-study tests not run: k = {pool.k} < {tb.small_study_min_k} "
                "(too few comparisons to tell chance from asymmetry; Cochrane Handbook 13.3.5.4)"
            )
        else:
            out["regtest"] = _try(notes, "regtest", lambda: regtest(x))
            out["ranktest"] = _try(notes, "ranktest", lambda: ranktest(x))
            out["trimfill"] = _try(notes, "trimfill", lambda: trimfill(x))
    if tb.asks("influence", cell.outcome, cell.month):
        out["influence"] = _try(notes, "influence", lambda: influence(x))
    if tb.asks("cumulative", cell.outcome, cell.month):
        out["cumulative"] = _try(
            notes, "cumulative", lambda: cumulative(et, order=tb.cumulative_order, method=pool.method, hksj=pool.hksj)
        )
    return CellToolbox(**out, notes=tuple(notes))


def fit_bayes_factors(spec: Spec, task: FitTask, result: Any) -> Any:
    """The Bayes factors of one fit when the spec asks for them and the fit is an ``re``
    model without covariates; None otherwise."""
    if not spec.toolbox.bayes_factors or task.model != "re" or task.covariates:
        return None
    from bayes_msc.bayes.evidence import bayes_factors

    return bayes_factors(result)

"""What a ``bayes-msc run`` will do: the checked list of cells, fits and what cannot be done.

:func:`make_plan` checks a spec against its dataset and prior sets (every problem at once,
as an :class:`~bayes_msc.errors.InputError`) and builds the effect tables, so that
bad input stops the run before any fit and before anything is written. What the data do
not allow (a cell without data, too few comparisons for a covariate model, ...) is not an
error: it becomes a :class:`Skip` that the report shows.

Minimum sizes (each a :class:`Skip` below it, with the reason):

- leave-one-out needs k >= 3 comparisons (with 2, each subset is a single comparison);
- a Bayesian fit needs k >= 2 (with 1, tau is not informed by the data at all);
- a covariate model with p terms needs k >= p + 2 comparisons with every value (the
  intercept, p slopes and tau each need one), and each term must vary across them;
- every random-effects analysis (Bayesian fits, hence the prior comparison, leave-one-out,
  covariate models) needs comparisons from at least :data:`MIN_STUDIES` studies: the
  comparisons of one study (e.g. two dose arms against one control) cannot identify a
  between-study SD, and their pooled effect is not a pooled effect across studies. Such a
  cell is a within-study comparison only (:func:`one_study_reason`); its frequentist table
  gives the fixed-effect summary of its comparisons (:mod:`bayes_msc.workflow.review`).

A plan with no cell to analyse, or with none of the Bayesian fits the spec asks for for a
reason other than the one-study rule (which the report states cell by cell), is an
:class:`~bayes_msc.errors.InputError` that says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayes_msc.data.covariates import parse_term
from bayes_msc.data.dataset import Dataset
from bayes_msc.data.effects import ArmTable, EffectTable, arm_table, effect_table
from bayes_msc.data.reader import cell_summary, covariate_columns
from bayes_msc.errors import InputError, Problem
from bayes_msc.workflow.keys import capped, check_keys, file_id, month_id
from bayes_msc.workflow.spec import CellSelector, Spec

MIN_K_LOO = 3
MIN_K_BAYES = 2
MIN_STUDIES = 2


@dataclass(frozen=True)
class Skip:
    """Something the spec asks for that the data do not allow, and why."""

    outcome: str
    month: float | None
    what: str
    reason: str


@dataclass(frozen=True, eq=False)
class Cell:
    """One outcome x month with data: its effect table (and arm table for the arm model)."""

    outcome: str
    month: float
    effects: EffectTable
    arms: ArmTable | None = None

    @property
    def key(self) -> str:
        """File-name-safe id: ``vas_m6`` (see :func:`file_id`)."""
        return capped(f"{file_id(self.outcome)}_m{month_id(self.month)}")


@dataclass(frozen=True)
class FitTask:
    """One Bayesian fit to run."""

    outcome: str
    month: float
    model: str
    prior: str
    covariates: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """File-name-safe id: ``vas_m6_re_weakly_informative[_cov-...]`` (see :func:`file_id`)."""
        base = f"{file_id(self.outcome)}_m{month_id(self.month)}_{self.model}_{file_id(self.prior)}"
        if self.covariates:
            base += "_cov-" + "-".join(file_id(t) for t in self.covariates)
        return capped(base)


@dataclass(frozen=True)
class Plan:
    """Everything a run will compute, in order, and everything it cannot."""

    cells: tuple[Cell, ...]
    fits: tuple[FitTask, ...]
    metaregs: tuple[tuple[str, float, tuple[str, ...]], ...]
    skipped: tuple[Skip, ...]
    loo: frozenset[tuple[str, float]]
    single_study: frozenset[tuple[str, float]] = frozenset()

    def cell(self, outcome: str, month: float) -> Cell:
        for c in self.cells:
            if c.outcome == outcome and c.month == month:
                return c
        raise KeyError((outcome, month))


def _matches(selectors: tuple[CellSelector, ...] | None, outcome: str, month: float) -> bool:
    return selectors is None or any(s.matches(outcome, month) for s in selectors)


def _check(spec: Spec, ds: Dataset, prior_sets: dict[str, Any], outcomes: list[str]) -> None:
    """Names in the spec that the dataset or the prior sets do not have."""
    file = str(spec.path)
    problems = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(message, file=file, key=key))

    known = ", ".join(outcomes)
    for o in spec.outcomes or ():
        if o not in outcomes:
            bad("analysis.outcomes", f"outcome '{o}' is not in dataset {ds.name}; it has: {known}")
    months = {float(m) for m in ds.outcomes["month"]}
    for m in spec.months or ():
        if m not in months:
            bad(
                "analysis.months",
                f"no outcome of dataset {ds.name} has month {m:g}; months: "
                + ", ".join(f"{x:g}" for x in sorted(months)),
            )
    analysed = set(spec.outcomes or outcomes)
    selectors = [(f"bayes.cells.{m}", s) for m, sel in spec.model_cells.items() for s in sel or ()]
    selectors += [("bayes.covariate_cells", s) for s in spec.covariate_cells or ()]
    for key, s in selectors:
        if s.outcome not in analysed:
            bad(
                key,
                f"outcome '{s.outcome}' is not analysed (analysis.outcomes); analysed: " + ", ".join(sorted(analysed)),
            )
    for o in spec.mcid:
        if o not in outcomes:
            bad(f"bayes.mcid.{o}", f"outcome '{o}' is not in dataset {ds.name}; it has: {known}")
    for o, direction in spec.better.items():
        if o not in outcomes:
            bad(f"analysis.better.{o}", f"outcome '{o}' is not in dataset {ds.name}; it has: {known}")
        elif o in spec.mcid and (spec.mcid[o] < 0) != (direction == "lower"):
            bad(
                f"analysis.better.{o}",
                f"says {direction} is better, but bayes.mcid.{o} = {spec.mcid[o]:g} says the opposite",
            )
    terms_of = [parse_term(t) for terms in spec.covariates for t in terms if _is_term(t)]
    for key in spec.covariate_at:
        if not any(key in (t.name, t.column) for t in terms_of):
            bad(
                f"bayes.covariate_at.{key}",
                f"'{key}' is not a term of bayes.covariates; terms: "
                + ", ".join(dict.fromkeys(t.name for t in terms_of)),
            )
    for key, names in (("bayes.priors", spec.priors), ("bayes.covariate_priors", spec.covariate_priors)):
        for name in names:
            if name not in prior_sets:
                bad(
                    key,
                    f"unknown prior set '{name}'; available: {', '.join(prior_sets)}"
                    + (f" (bundled, and from {spec.prior_file})" if spec.prior_file else " (bundled)"),
                )
    available = covariate_columns(ds)
    for terms in spec.covariates:
        for text in terms:
            try:
                term = parse_term(text, "bayes.covariates")
            except InputError as err:  # gathered with the others and raised below
                problems.extend(Problem(p.message, file=file, key="bayes.covariates") for p in err.problems)
                continue
            if term.column not in available:
                bad(
                    "bayes.covariates",
                    f"unknown covariate '{term.column}' in '{text}'; available: {', '.join(available)}",
                )
    if problems:
        raise InputError(problems)


def _is_term(text: str) -> bool:
    try:
        parse_term(text)
    except InputError:
        return False
    return True


def make_plan(spec: Spec, ds: Dataset, prior_sets: dict[str, Any]) -> Plan:
    """Check ``spec`` against the dataset and prior sets, and list the work.

    Parameters
    ----------
    spec : Spec
    ds : Dataset
    prior_sets : dict
        Prior-set name -> PriorSet (the spec's prior file, or the bundled sets).

    Returns
    -------
    Plan

    Raises
    ------
    InputError
        Names in the spec that the dataset or prior sets lack (outcomes, months, prior
        sets, covariates), or bad data met while building an effect table.
    """
    summary = cell_summary(ds)
    outcomes = sorted(set(summary["outcome"]))
    _check(spec, ds, prior_sets, outcomes)
    cells: list[Cell] = []
    skipped: list[Skip] = []
    for outcome in spec.outcomes or outcomes:
        rows = summary[summary["outcome"] == outcome]
        records: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in rows.to_dict(orient="records")]
        for whole in (r for r in records if math.isnan(r["month"])):
            skipped.append(
                Skip(
                    outcome,
                    None,
                    "all analyses",
                    f"contrasts over the whole follow-up without a month ({whole['contrasts']}) "
                    "cannot enter a per-month analysis",
                )
            )
        present = {float(r["month"]): r for r in records if not math.isnan(r["month"])}
        # "all": every month the dataset mentions, so that cells whose values are all
        # declared missing are listed as such rather than silently left out; month 0 too
        # unless it is the baseline of later months (then the skip says so).
        months = spec.months if spec.months is not None else tuple(sorted(present))
        later = [m for m in sorted(present) if m > 0]
        if spec.months is None and 0.0 in present and later:
            months = tuple(later)
            skipped.append(
                Skip(
                    outcome,
                    0.0,
                    "all analyses",
                    "month 0 is the baseline of months "
                    + ", ".join(f"{m:g}" for m in later)
                    + ", not a follow-up; list 0 in analysis.months to analyse it",
                )
            )
        for month in months:
            rec = present.get(month)
            if rec is None:
                skipped.append(Skip(outcome, month, "all analyses", "the dataset has no rows for this cell"))
                continue
            et = None
            if rec["n_studies"] + rec["n_contrasts"] > 0:  # otherwise no effect table can have rows
                et = effect_table(
                    ds, outcome, month, spec.measure, spec.multiarm, spec.basis, spec.r, spec.rescale, spec.conversion
                )
            if et is None or et.k == 0:
                why = f"declared missing for {rec['missing']}" if rec["n_missing"] else "no usable comparison"
                skipped.append(Skip(outcome, month, "all analyses", f"no data: {why}"))
                continue
            needs_arm = "arm" in spec.models and _matches(spec.model_cells.get("arm"), outcome, month)
            arms = (
                arm_table(ds, outcome, month, spec.basis, spec.r, spec.rescale, spec.conversion)
                if needs_arm and spec.measure == "md"
                else None
            )
            cells.append(Cell(outcome, month, et, arms))

    fits: list[FitTask] = []
    metaregs: list[tuple[str, float, tuple[str, ...]]] = []
    loo = set()
    single = set()
    for cell in cells:
        o, m, k = cell.outcome, cell.month, cell.effects.k
        alone = one_study_reason(cell.effects)
        if alone is not None:
            single.add((o, m))
            for what in (
                "leave-one-out",
                *(f"model {model}" for model in spec.models if _matches(spec.model_cells.get(model), o, m)),
            ):
                skipped.append(Skip(o, m, what, alone))
            if _matches(spec.covariate_cells, o, m):
                skipped += [Skip(o, m, "covariates " + ", ".join(terms), alone) for terms in spec.covariates]
            continue
        if k >= MIN_K_LOO:
            loo.add((o, m))
        else:
            skipped.append(Skip(o, m, "leave-one-out", f"needs k >= {MIN_K_LOO} comparisons (k = {k})"))
        for model in spec.models:
            if not _matches(spec.model_cells.get(model), o, m):
                continue
            k_model = k if model == "re" else (0 if cell.arms is None else len(cell.arms.comparisons))
            if model == "arm" and cell.arms is None:
                skipped.append(Skip(o, m, "model arm", 'the arm-level model needs measure = "md"'))
            elif k_model < MIN_K_BAYES:
                skipped.append(
                    Skip(
                        o,
                        m,
                        f"model {model}",
                        f"needs k >= {MIN_K_BAYES} comparisons "
                        f"(k = {k_model}); with one, tau is not informed by the data",
                    )
                )
            else:
                fits += [FitTask(o, m, model, p) for p in spec.priors]
        if not _matches(spec.covariate_cells, o, m):
            continue
        for terms in spec.covariates:
            reason = _covariate_problem(cell.effects, terms)
            if reason:
                skipped.append(Skip(o, m, "covariates " + ", ".join(terms), reason))
                continue
            metaregs.append((o, m, terms))
            fits += [FitTask(o, m, "re", p, terms) for p in spec.covariate_priors]
    _check_not_empty(spec, cells, fits, skipped, single)
    check_keys(spec, cells, fits)
    return Plan(tuple(cells), tuple(fits), tuple(metaregs), tuple(skipped), frozenset(loo), frozenset(single))


def one_study_reason(et: EffectTable) -> str | None:
    """Why a cell whose comparisons come from fewer than :data:`MIN_STUDIES` studies gets no
    random-effects analysis, with its comparisons (effect [95% CI]); None otherwise."""
    studies = list(dict.fromkeys(str(s) for s in et.data["study"]))
    if len(studies) >= MIN_STUDIES:
        return None
    comps = "; ".join(
        f"{c}: {y:.3g} [{y - 1.96 * v**0.5:.3g}, {y + 1.96 * v**0.5:.3g}]"
        for c, y, v in zip(et.data["comparison"], et.data["yi"], et.data["vi"], strict=True)
    )
    return (
        f"1 study: within-study comparison only ({studies[0]}; its {et.k} comparison{'s' if et.k != 1 else ''}: "
        f"{comps}); random effects between studies are not identified from one study "
        "(fixed-effect summary in the frequentist table)"
    )


def _check_not_empty(
    spec: Spec, cells: list[Cell], fits: list[FitTask], skipped: list[Skip], single: set[tuple[str, float]]
) -> None:
    """A run that would analyse nothing, or fit none of the Bayesian models it asks for, is
    an error that says why (never a silent report of 0 fits), unless some cell holds several
    comparisons of one study: the report shows those as within-study comparisons, saying
    why no random-effects fit is made (the real MSC data today)."""

    def why(items: list[Skip]) -> str:
        shown = [
            f"{s.outcome} month {'NA' if s.month is None else f'{s.month:g}'}, {s.what}: {s.reason}" for s in items
        ]
        return "; ".join(shown[:6]) + (f"; and {len(shown) - 6} more" if len(shown) > 6 else "")

    if not cells:
        raise InputError(
            Problem(
                "no outcome x month cell has data to analyse: " + (why(skipped) or "the dataset has no outcome rows"),
                file=str(spec.path),
                key="analysis.months",
            )
        )
    within = [c for c in cells if (c.outcome, c.month) in single and c.effects.k >= 2]
    if spec.models and not fits and not within:
        bayes = [s for s in skipped if s.what.startswith("model")]
        raise InputError(
            Problem(
                "the data allow none of the Bayesian fits asked for: "
                + (why(bayes) or "no cell has the comparisons they need")
                + "; drop [bayes] for a frequentist report",
                file=str(spec.path),
                key="bayes.models",
            )
        )


def _covariate_problem(et: EffectTable, terms: tuple[str, ...]) -> str | None:
    """Why a covariate model cannot be fitted to this cell, or None."""
    x, names, kept = et.design(terms)
    need = len(terms) + 2
    if int(kept.sum()) < need:
        dropped = "; ".join(et.design_report(terms))
        return f"needs k >= {need} comparisons with every value; {int(kept.sum())} of {et.k} have them" + (
            f" ({dropped})" if dropped else ""
        )
    constant = [n for j, n in enumerate(names) if np.ptp(x[:, j]) == 0]
    if constant:
        return f"{', '.join(constant)} does not vary across the comparisons; its slope cannot be estimated"
    return None

"""Effect sizes of treatment-vs-control comparisons (metafor's ``escalc``, then the table).

:func:`effect_table` turns one outcome at one month of a :class:`Dataset` into an
:class:`EffectTable` (``yi``, ``vi`` per comparison, plus covariates and, for multi-arm
trials kept whole, the comparisons' covariance matrix). :func:`arm_table` gives the same
comparisons at arm level for the arm-based Bayesian model.

Comparisons are every (treatment, control) pair of arms within a study, ordered by study
(order of first appearance in ``arms.csv``), then treatment arm, then control arm (order
of ``arms.csv``). Multi-arm trials (Cochrane Handbook 23.3.4): with ``multiarm="split"``
an arm entering m > 1 comparisons keeps its mean and SD and contributes n/m patients to
each; with ``multiarm="shared"`` n stays whole and ``vcov`` holds the comparisons'
covariance: the shared arm's ``sd^2 / n`` for mean differences, and for standardised
mean differences the large-sample approximation of Gleser & Olkin (2009, "Stochastically
dependent effect sizes", Handbook of Research Synthesis and Meta-Analysis, 2nd ed.,
ch. 19, multiple-treatment studies): ``1/n_shared + y_a y_b / (2 N)``, N the study's
total n over the arms entering.

The pairs, effect sizes (:func:`escalc_md`, :func:`escalc_smd`), multi-arm notes and
covariances are computed in :mod:`bayes_msc.data.comparisons`; this module assembles
the tables (:class:`EffectTable`, :class:`ArmTable`, defined in :mod:`bayes_msc.data.tables`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayes_msc.data.cells import ArmValues, arm_values, conversion_notes
from bayes_msc.data.comparisons import (
    Comparison,
    comparison_frame,
    compute,
    defined,
    escalc_md,
    escalc_smd,
    multiarm_notes,
    pair_rows,
    shared_vcov,
    smd_shared_covariance,
)
from bayes_msc.data.covariates import arm_covariate_arrays, comparison_covariate_arrays
from bayes_msc.data.dataset import Dataset
from bayes_msc.data.tables import FIXED_COLUMNS, ArmTable, EffectTable
from bayes_msc.errors import InputError, Problem

MEASURES: tuple[str, ...] = ("md", "smd")
MULTIARM: tuple[str, ...] = ("split", "shared")
__all__ = [
    "FIXED_COLUMNS",
    "MEASURES",
    "MULTIARM",
    "ArmTable",
    "EffectTable",
    "arm_table",
    "effect_table",
    "escalc_md",
    "escalc_smd",
    "smd_shared_covariance",
]


def _check_options(measure: str, multiarm: str) -> None:
    problems = []
    if measure not in MEASURES:
        problems.append(Problem(f"unknown measure '{measure}'; allowed: {', '.join(MEASURES)}", argument="measure"))
    if multiarm not in MULTIARM:
        problems.append(
            Problem(f"unknown multi-arm handling '{multiarm}'; allowed: {', '.join(MULTIARM)}", argument="multiarm")
        )
    if problems:
        raise InputError(problems)


def _build(
    dataset: Dataset,
    outcome: str,
    month: float,
    measure: str,
    multiarm: str,
    basis: str,
    r: float,
    rescale: bool,
    conversion: str,
) -> tuple[ArmValues, list[Comparison], list[bool], list[str], list[str], list[tuple[str, str]]]:
    """The cell's values and comparisons: ``(cell, comps, keep, missing, notes, used)``, ``keep``
    flagging the comparisons with a defined effect size, ``used`` the arms they use."""
    _check_options(measure, multiarm)
    cell = arm_values(dataset, outcome, float(month), basis, r, rescale, conversion)
    comps, missing, notes = pair_rows(dataset, cell, outcome, float(month), measure)
    compute(comps, measure, multiarm)
    keep = [defined(x) for x in comps]
    for x, ok in zip(comps, keep, strict=True):
        if not ok:
            missing.append(
                f"{x.study}: {x.treatment_arm} vs {x.control_arm}: effect size undefined "
                f"(n {x.n_treatment:g} and {x.n_control:g})"
            )
    kept = [x for x, ok in zip(comps, keep, strict=True) if ok]
    order = {
        key: i for i, key in enumerate(zip(dataset.arms["study"].tolist(), dataset.arms["arm"].tolist(), strict=True))
    }
    used = sorted(
        {(x.study, a) for x in kept if x.source_kind == "arms" for a in (x.treatment_arm, x.control_arm)},
        key=lambda key: order.get(key, len(order)),
    )
    notes = conversion_notes(cell, used) + multiarm_notes(kept, multiarm, measure) + notes
    return cell, comps, keep, missing, notes, used


def _scale(cell: ArmValues, comps: list[Comparison], keep: list[bool], used: list[tuple[str, str]]) -> str:
    """The scale the table's values are on: ``"0-100"`` (every value rescaled, or given on
    0-100), ``"LOW-HIGH"`` (every value on that native scale), ``"native"`` (no scale
    given: the outcome's own units) or ``"mixed"`` (values on different scales)."""

    def one(rescaled: bool, lo: float, hi: float) -> str:
        if rescaled:
            return "0-100"
        return f"{lo:g}-{hi:g}" if np.isfinite(lo) and np.isfinite(hi) else "native"

    found = {one(r.rescaled, r.scale_min, r.scale_max) for r in (cell.rows[k] for k in used)}
    con = cell.contrasts
    for x, ok in zip(comps, keep, strict=True):
        if ok and x.source_kind == "contrast" and len(con):
            hit = con[
                (con["study"] == x.study)
                & (con["treatment_arm"] == x.treatment_arm)
                & (con["control_arm"] == x.control_arm)
            ]
            for rec in hit.to_dict(orient="records"):
                found.add(one(bool(rec["rescaled"]), rec.get("scale_min", np.nan), rec.get("scale_max", np.nan)))
    if not found:
        return "native"
    return found.pop() if len(found) == 1 else "mixed"


def effect_table(
    dataset: Dataset,
    outcome: str,
    month: float,
    measure: str = "md",
    multiarm: str = "split",
    basis: str = "final",
    r: float = 0.5,
    rescale: bool = True,
    conversion: str = "luo_shi",
) -> EffectTable:
    """Effect sizes (``yi``, ``vi``) of every treatment-vs-control comparison.

    Parameters
    ----------
    dataset : Dataset
    outcome : str
        Outcome name as in ``outcomes.csv``.
    month : float
        Follow-up month.
    measure : {"md", "smd"}
        Mean difference or Hedges' g (:func:`escalc_md`, :func:`escalc_smd`).
    multiarm : {"split", "shared"}
        Multi-arm trials: split a shared arm's n, or keep it whole with the covariance
        in ``vcov`` (see the module docstring).
    basis : {"final", "change"}
        Final values (``kind == "final"`` rows at ``month``) or change from baseline
        (``kind == "change"`` rows at ``month``, else built from the month-0 and
        ``month`` final rows with correlation ``r``, Cochrane Handbook 6.5.2.8).
    r : float
        Baseline/follow-up correlation for built change scores (reported in notes).
    rescale : bool
        Map values to 0-100 where ``scale_min``/``scale_max`` are given (reported).
    conversion : {"luo_shi", "wan"}
        Median/quantile conversion (:func:`bayes_msc.data.conversions.to_mean_sd`).

    Returns
    -------
    EffectTable
        ``contrasts.csv`` rows at this outcome and month enter too (measure "md"
        only; ``vi = se^2`` or ``((ci_high - ci_low) / (2 z_0.975))^2``), with
        ``source_kind == "contrast"``, when arm data do not give that comparison.

    Raises
    ------
    InputError
        Unknown outcome, a month without rows for it (both list what is available),
        or invalid options.
    """
    cell, comps, keep, missing, notes, used = _build(
        dataset, outcome, month, measure, multiarm, basis, r, rescale, conversion
    )
    # covariates of every comparison, filtered with them (a comparison's values depend on it alone)
    cov = comparison_covariate_arrays(
        dataset.arms, dataset.studies, [(x.study, x.treatment_arm, x.control_arm) for x in comps]
    )
    # The arms' own n beside the (possibly split) n of the effect sizes, for display.
    whole = {
        "n_treatment_arm": np.array([x.n_t_whole for x in comps], dtype=float),
        "n_control_arm": np.array([x.n_c_whole for x in comps], dtype=float),
    }
    data = comparison_frame(
        comps, keep, FIXED_COLUMNS, whole | {c: v for c, v in cov.items() if c not in FIXED_COLUMNS}
    )
    kept = [x for x, ok in zip(comps, keep, strict=True) if ok]
    vcov = shared_vcov(kept, measure) if multiarm == "shared" else np.diag(data["vi"].to_numpy(dtype=float))
    return EffectTable(
        data=data,
        vcov=vcov,
        outcome=outcome,
        month=float(month),
        measure=measure,
        multiarm=multiarm,
        basis=basis,
        r=float(r),
        rescale=bool(rescale),
        simulated=bool(dataset.simulated),
        dataset=dataset.name,
        missing=tuple(missing),
        notes=tuple(notes),
        covariates=tuple(c for c in cov if c not in FIXED_COLUMNS),
        scale="SD units" if measure == "smd" else _scale(cell, comps, keep, used),
    )


def arm_table(
    dataset: Dataset,
    outcome: str,
    month: float,
    basis: str = "final",
    r: float = 0.5,
    rescale: bool = True,
    conversion: str = "luo_shi",
) -> ArmTable:
    """Arm-level means, SDs and covariates for the arm-based model (see :class:`ArmTable`).

    Same selection, conversions and comparisons as :func:`effect_table` (measure "md");
    contrasts cannot enter at arm level and are listed in ``missing``.
    """
    cell, comps, keep, missing, notes, keys = _build(
        dataset, outcome, month, "md", "shared", basis, r, rescale, conversion
    )
    for x, ok in zip(comps, keep, strict=True):
        if ok and x.source_kind == "contrast":
            missing.append(
                f"{x.study}: {x.treatment_arm} vs {x.control_arm}: only a contrast is available; "
                "it cannot enter the arm-level model"
            )
    comparisons = comparison_frame(
        comps,
        [ok and x.source_kind == "arms" for x, ok in zip(comps, keep, strict=True)],
        ("study", "treatment_arm", "control_arm"),
    )
    notes = [n for n in notes if " enters " not in n]
    role = dict(
        zip(
            zip(dataset.arms["study"].tolist(), dataset.arms["arm"].tolist(), strict=True),
            dataset.arms["role"].tolist(),
            strict=True,
        )
    )
    rows = [cell.rows[k] for k in keys]
    n, sd = np.array([float(x.n) for x in rows]), np.array([float(x.sd) for x in rows])
    columns = {
        "study": [s for s, _ in keys],
        "arm": [a for _, a in keys],
        "role": [role.get(k, "") for k in keys],
        "n": n,
        "mean": np.array([float(x.mean) for x in rows]),
        "sd": sd,
        "se": sd / np.sqrt(n),
    }
    cov = arm_covariate_arrays(dataset.arms, dataset.studies, keys)
    data = pd.DataFrame(columns | {c: v for c, v in cov.items() if c not in columns})
    return ArmTable(
        data=data,
        comparisons=comparisons,
        outcome=outcome,
        month=float(month),
        basis=basis,
        r=float(r),
        rescale=bool(rescale),
        simulated=bool(dataset.simulated),
        dataset=dataset.name,
        missing=tuple(missing),
        notes=tuple(notes),
        covariates=tuple(c for c in cov if c not in ("study", "arm", "role", "n", "mean", "sd", "se")),
        scale=_scale(cell, comps, [False] * len(comps), keys),
    )

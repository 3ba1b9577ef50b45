"""From an effect table or an arm table to the inputs of a Bayesian model.

Contrast level (``re``): the effect table's comparisons, ``yi`` and ``vcov``; with
covariates, the comparisons that have a value for every term (the others are dropped and
listed in the notes), covariates centred at their reference values (their means over the kept comparisons
unless ``covariate_at`` sets them) and scaled by their SDs
(:func:`bayes_msc.bayes.design.standardise`).

Arm level (``arm``): each study's arms, the shared control entered once. Each treatment arm
gets one random effect ``delta``: its difference from the study's *reference control*, the
control arm of the study's first comparison in ``ArmTable.comparisons``. A study with
several control arms keeps only the reference control (its other controls would inform
nothing but their own baselines and are left out, with a note). The covariates of a
treatment arm's effect follow the effect table's rule for a comparison (docs/FORMAT.md, "The dataset folder"): the
mean of the two arms weighted by their n when both give a value, else the arm that gives
one (the study's value is already on both arms for study-level covariates).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.bayes.design import Standardised, reference_values, standardise
from bayes_msc.bayes.mcmc.models import ModelInputs
from bayes_msc.data.covariates import parse_term, term_values
from bayes_msc.errors import InputError, Problem


@dataclass(frozen=True, eq=False)
class Prepared:
    """Model inputs plus what the result needs to say about them."""

    inputs: ModelInputs
    standardised: Standardised | None
    terms: tuple[str, ...]
    n_treatment: np.ndarray
    n_control: np.ndarray
    comparisons: tuple[str, ...]
    arm_means: np.ndarray | None
    notes: tuple[str, ...]


def _no_data(table: Any, what: str) -> InputError:
    lines = [f"no {what} with data for outcome '{table.outcome}' at month {table.month:g}"]
    lines += [f"left out: {m}" for m in table.missing]
    return InputError([Problem(line) for line in lines])


def _standardise(
    x: np.ndarray, names: tuple[str, ...], covariate_at: Mapping[str, float] | None
) -> Standardised | None:
    if not names:
        if covariate_at:
            raise InputError(Problem("covariate_at is given but the model has no covariates", argument="covariate_at"))
        return None
    centre, given = reference_values(names, x, covariate_at)
    return standardise(x, names, centre, given)


def prepare_effects(
    effects: Any, covariates: Sequence[str] = (), covariate_at: Mapping[str, float] | None = None
) -> Prepared:
    """Inputs of the ``re`` model from an :class:`~bayes_msc.data.effects.EffectTable`;
    ``covariate_at`` sets reference values of covariate terms (default: their means).

    Raises
    ------
    InputError
        No comparison with data; an unknown covariate, a constant one, or none left.
    """
    if effects.k == 0:
        raise _no_data(effects, "comparison")
    notes: list[str] = []
    data = effects.data
    if covariates:
        x, names, kept = effects.design(list(covariates))
        notes += list(effects.design_report(list(covariates)))
        if not kept.any():
            raise InputError(
                Problem("no comparison has a value for every covariate: " + ", ".join(names), argument="covariates")
            )
    else:
        x, names, kept = np.empty((effects.k, 0)), (), np.ones(effects.k, dtype=bool)
    std = _standardise(x, names, covariate_at)
    data = data[kept].reset_index(drop=True)
    vcov = np.asarray(effects.vcov, dtype=float)[np.ix_(kept, kept)]
    inputs = ModelInputs(
        kind="re",
        labels=tuple(f"{s}: {c}" for s, c in zip(data["study"], data["comparison"], strict=True)),
        studies=tuple(str(s) for s in data["study"]),
        yi=data["yi"].to_numpy(dtype=float),
        vi=data["vi"].to_numpy(dtype=float),
        z=std.z if std is not None else np.empty((len(data), 0)),
        vcov=vcov,
    )
    return Prepared(
        inputs=inputs,
        standardised=std,
        terms=tuple(names),
        n_treatment=data["n_treatment"].to_numpy(dtype=float),
        n_control=data["n_control"].to_numpy(dtype=float),
        comparisons=tuple(str(c) for c in data["comparison"]),
        arm_means=None,
        notes=tuple(notes),
    )


def _pair_covariates(arms: pd.DataFrame, names: Sequence[str], ti: np.ndarray, ci: np.ndarray) -> pd.DataFrame:
    """Covariates of (treatment, control) arm pairs by the effect table's rule."""
    n = arms["n"].to_numpy(dtype=float)
    cols = {}
    for c in names:
        v = arms[c].to_numpy(dtype=float)
        vt, vc = v[ti], v[ci]
        both = np.isfinite(vt) & np.isfinite(vc)
        with np.errstate(invalid="ignore", divide="ignore"):
            weighted = (n[ti] * vt + n[ci] * vc) / (n[ti] + n[ci])
        cols[c] = np.where(both, weighted, np.where(np.isfinite(vt), vt, vc))
    return pd.DataFrame(cols)


def prepare_arms(
    arms: Any, covariates: Sequence[str] = (), covariate_at: Mapping[str, float] | None = None
) -> Prepared:
    """Inputs of the ``arm`` model from an :class:`~bayes_msc.data.effects.ArmTable`
    (see the module docstring for the reference control and the covariates).

    Raises
    ------
    InputError
        No comparison with arm data; an unknown or constant covariate, or none left.
    """
    comps = arms.comparisons
    if len(comps) == 0:
        raise _no_data(arms, "comparison")
    data = arms.data.reset_index(drop=True)
    where = {(s, a): i for i, (s, a) in enumerate(zip(data["study"], data["arm"], strict=True))}
    notes: list[str] = []
    ref: dict[str, str] = {}
    pairs: list[tuple[str, str, str]] = []
    for s, t, c in zip(comps["study"], comps["treatment_arm"], comps["control_arm"], strict=True):
        ref.setdefault(s, c)
        if c == ref[s] and (s, t, c) not in pairs:
            pairs.append((s, t, c))
    for s, c in sorted({(s, c) for s, c in zip(comps["study"], comps["control_arm"], strict=True) if c != ref[s]}):
        notes.append(
            f"{s}: control arm '{c}' left out of the arm model (each treatment arm is "
            f"compared with one control per study, the reference '{ref[s]}')"
        )
    ti = np.array([where[(s, t)] for s, t, _ in pairs])
    ci = np.array([where[(s, c)] for s, _, c in pairs])
    terms = [parse_term(t) for t in covariates]
    if terms:
        frame = _pair_covariates(data, arms.covariates, ti, ci)
        x = np.column_stack([term_values(frame, t, available=arms.covariates) for t in terms])
        kept = np.all(np.isfinite(x), axis=1)
        for i in np.flatnonzero(~kept):
            lacking = [t.name for j, t in enumerate(terms) if not np.isfinite(x[i, j])]
            notes.append(
                f"{pairs[i][0]}: {pairs[i][1]} vs {pairs[i][2]} dropped from the regression: "
                f"no value for {', '.join(lacking)}"
            )
        if not kept.any():
            raise InputError(
                Problem(
                    "no comparison has a value for every covariate: " + ", ".join(t.name for t in terms),
                    argument="covariates",
                )
            )
        pairs = [p for p, k in zip(pairs, kept, strict=True) if k]
        ti, ci, x = ti[kept], ci[kept], x[kept]
    else:
        x = np.empty((len(pairs), 0))
    names = tuple(t.name for t in terms)
    std = _standardise(x, names, covariate_at)
    studies = list(dict.fromkeys(s for s, _, _ in pairs))
    arm_rows = [where[(s, ref[s])] for s in studies] + list(ti)
    arm_effect = np.array([-1] * len(studies) + list(range(len(pairs))))
    arm_study = np.array([studies.index(data["study"].iat[i]) for i in arm_rows])
    mean, se, n = (data[c].to_numpy(dtype=float) for c in ("mean", "se", "n"))
    inputs = ModelInputs(
        kind="arm",
        labels=tuple(f"{s}: {t} vs {c}" for s, t, c in pairs),
        studies=tuple(s for s, _, _ in pairs),
        yi=mean[ti] - mean[ci],
        vi=se[ti] ** 2 + se[ci] ** 2,
        z=std.z if std is not None else np.empty((len(pairs), 0)),
        arm_mean=mean[arm_rows],
        arm_se=se[arm_rows],
        arm_study=arm_study,
        arm_effect=arm_effect,
        arm_labels=tuple(f"{data['study'].iat[i]}: {data['arm'].iat[i]}" for i in arm_rows),
        study_labels=tuple(studies),
    )
    return Prepared(
        inputs=inputs,
        standardised=std,
        terms=names,
        n_treatment=n[ti],
        n_control=n[ci],
        comparisons=tuple(f"{t} vs {c}" for _, t, c in pairs),
        arm_means=mean[arm_rows],
        notes=tuple(notes),
    )


def resolve_priors(prior_set: Any, prepared: Prepared, measure: str) -> Any:
    """The prior set resolved for these data (:func:`bayes_msc.priors.prior_context`).

    Comparisons without arm sizes (e.g. from reported contrasts only) have no
    unit-information SD: a prior set given in absolute numbers is then used as it is,
    and a data-scaled one is an error naming what is missing.
    """
    from bayes_msc.priors import prior_context

    inp = prepared.inputs
    n = prepared.n_treatment + prepared.n_control
    if not np.all(np.isfinite(n) & (n > 0)):
        needs = (
            not prior_set.resolved
            or (inp.p and prior_set.beta is None)
            or (inp.kind == "arm" and prior_set.alpha is None)
        )
        if needs:
            raise InputError(
                Problem(
                    f"prior set '{prior_set.name}' scales with the data, which needs every comparison's "
                    "arm sizes (n); some are missing: use a prior set given in absolute numbers"
                )
            )
        return prior_set
    ctx = prior_context(
        inp.yi,
        inp.vi,
        prepared.n_treatment + prepared.n_control,
        prepared.n_treatment,
        prepared.n_control,
        arm_means=prepared.arm_means,
        measure=measure,
    )
    return prior_set.resolve(ctx)

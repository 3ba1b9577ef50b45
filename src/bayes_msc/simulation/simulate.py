"""Simulated outcomes for a design of randomised arms, from stated true parameters.

The model, per outcome and on the outcome's own scale (``s`` a study, ``a`` an arm of
``n_a`` patients, ``m`` a month; month 0 is the baseline)::

    d_s       ~ N(0, sd_between^2)                  study offset, shared by all months
    b_{s,m}   = control_mean[m] + d_s               true mean of the study's control arms
    z         ~ N(0, 1)                             one per study (random_effect = "study",
                                                    shared by its treatment arms) or one per
                                                    treatment arm ("arm"); shared by all months
    theta_{a,m} = mu[m] + sum_j slope_j * (x_{a,j} - centre_j) + tau[m] * z    (0 at month 0)
    observed mean ~ N(b_{s,m} + theta_{a,m}, sd[m]^2 / n_a)        (theta = 0 for controls)
    observed SD   = sd[m] * sqrt(chi2(n_a - 1) / (n_a - 1))

``x_{a,j}`` is the comparison's covariate as the effect table builds it: the treatment
arm's value, n-weighted with the study's control arms where they give one too (age), the
study's value for a studies.csv column; ``log10(NAME)`` / ``log(NAME)`` transform it.
Randomisation balances the arms at baseline, hence theta = 0 at month 0. Drawing ``z``
once per study and scaling it by ``tau[m]`` makes a trial that does well at one month do
well at the others (true effects perfectly correlated over time).

The parameters file is described in :mod:`bayes_msc.simulation.params`.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.data.covariates import comparison_covariates, derive_covariates, parse_term, term_values
from bayes_msc.errors import InputError, Problem, data_row
from bayes_msc.simulation.params import (  # re-exported: the public API is here
    DISTS,
    CovariateFill,
    OutcomeParams,
    SimulationParams,
    load_params,
    params_from_mapping,
    params_from_text,
)

__all__ = [
    "DISTS",
    "CovariateFill",
    "OutcomeParams",
    "SimulationParams",
    "check_design",
    "fill_covariates",
    "load_params",
    "params_from_mapping",
    "params_from_text",
    "simulate_outcomes",
]


# ----------------------------------------------------------------------------- design
def _rows(frame: pd.DataFrame) -> list[int]:
    """Spreadsheet rows of a frame's lines (the reader's ``_row`` when present)."""
    if "_row" in frame.columns:
        return [int(r) for r in frame["_row"]]
    return [data_row(i) for i in range(len(frame))]


def check_design(arms: pd.DataFrame, studies: pd.DataFrame | None = None) -> None:
    """Minimal checks of a design (arms.csv, studies.csv) that has no outcomes yet.

    Raises
    ------
    InputError
        Missing columns, a bad ``role`` or ``n`` (a whole number >= 2 is needed to draw an
        SD), a repeated (study, arm), a study without a treatment and a control arm, or a
        repeated study in studies.csv.
    """
    problems = []
    missing = [c for c in ("study", "arm", "role", "n") if c not in arms.columns]
    if missing:
        raise InputError([Problem("required column is missing", "arms.csv", 1, c) for c in missing])
    n = pd.to_numeric(arms["n"], errors="coerce").to_numpy(dtype=float)
    seen = set()
    for i, row in enumerate(_rows(arms)):
        study, arm, role = arms["study"].iloc[i], arms["arm"].iloc[i], arms["role"].iloc[i]
        if role not in ("treatment", "control"):
            problems.append(Problem(f"role must be 'treatment' or 'control', not {role!r}", "arms.csv", row, "role"))
        if not (np.isfinite(n[i]) and n[i] == round(n[i]) and n[i] >= 2):
            problems.append(
                Problem(
                    f"n must be a whole number >= 2 to simulate an SD, not {arms['n'].iloc[i]!r}", "arms.csv", row, "n"
                )
            )
        if (study, arm) in seen:
            problems.append(Problem(f"arm '{arm}' appears twice in study '{study}'", "arms.csv", row, "arm"))
        seen.add((study, arm))
    for study, roles in arms.groupby("study", sort=False)["role"]:
        study = str(study)
        if not {"treatment", "control"} <= set(roles):
            row = _rows(arms)[int(np.flatnonzero(arms["study"].to_numpy() == study)[0])]
            problems.append(
                Problem(f"study '{study}' needs at least one treatment and one control arm", "arms.csv", row, "role")
            )
    if studies is not None:
        if "study" not in studies.columns:
            problems.append(Problem("required column is missing", "studies.csv", 1, "study"))
        else:
            dup = studies["study"].duplicated().to_numpy()
            problems += [
                Problem(f"study '{studies['study'].iloc[i]}' appears twice", "studies.csv", r, "study")
                for i, r in enumerate(_rows(studies))
                if dup[i]
            ]
    if problems:
        raise InputError(problems)


def _follow_up(studies: pd.DataFrame | None, study: str, key: str, file: str) -> tuple[list[float], Problem | None]:
    """A study's follow-up months from studies.csv ``follow_up_months`` ("3;6", "3,6" or 12)."""
    if studies is None or "follow_up_months" not in studies.columns:
        return [], Problem('months = "follow_up" needs studies.csv with a follow_up_months column', file, key=key)
    hit = np.flatnonzero(studies["study"].to_numpy() == study)
    if not len(hit):
        return [], Problem(f"study '{study}' of arms.csv is not in studies.csv", "studies.csv", None, "study")
    value = studies["follow_up_months"].iloc[hit[0]]
    parts = [p for p in re.split(r"[;,\s]+", str(value).strip()) if p] if pd.notna(value) else []
    try:
        months = [float(p) for p in parts]
    except ValueError:
        months = []
    if not months or not all(math.isfinite(m) and m > 0 for m in months):
        row = _rows(studies)[hit[0]]
        return [], Problem(
            f"follow_up_months must list months > 0 such as '3;6', not {value!r}",
            "studies.csv",
            row,
            "follow_up_months",
        )
    return months, None


def _term_values(
    arms: pd.DataFrame, studies: pd.DataFrame | None, term: str, key: str, problems: list[Problem]
) -> np.ndarray:
    """The comparison value of a covariate term for every treatment arm (NaN for controls).

    Built by the effect table's own rule (:func:`bayes_msc.data.covariates.comparison_covariates`)
    for the comparison of the arm with its study's first control arm, so that an analysis
    of the simulated data sees the covariate the simulation used.
    """
    treat = np.flatnonzero(arms["role"].to_numpy() == "treatment")
    first_control: dict[str, str] = {}
    for s, a, r in zip(arms["study"], arms["arm"], arms["role"], strict=False):
        if r == "control":
            first_control.setdefault(s, a)
    pairs = [(arms["study"].iloc[j], arms["arm"].iloc[j], first_control[arms["study"].iloc[j]]) for j in treat]
    x = np.full(len(arms), np.nan)
    try:
        x[treat] = term_values(comparison_covariates(arms, studies, pairs), term, option=key)
    except InputError as err:
        problems.extend(err.problems)
        return x
    column = parse_term(term, key).column
    rows = _rows(arms)
    for j in treat[~np.isfinite(x[treat])]:
        problems.append(
            Problem(
                f"treatment arm '{arms['arm'].iloc[j]}' of study '{arms['study'].iloc[j]}' has no {column}, needed by "
                f"{key}; give it or fill it with a [covariates.{column}] table",
                "arms.csv",
                rows[j],
                column,
            )
        )
    return x


# ----------------------------------------------------------------------------- simulation
def _rng(seed: int, label: str) -> np.random.Generator:
    """An independent stream per label, so adding an outcome leaves the others unchanged."""
    return np.random.default_rng([int(seed), zlib.crc32(label.encode("utf-8"))])


def fill_covariates(arms: pd.DataFrame, params: SimulationParams, seed: int) -> pd.DataFrame:
    """Fill the arms' missing covariates from the distributions in ``params.covariates``.

    Only empty cells of arms whose role is listed are filled (for multinomial counts:
    arms where every listed column is empty; counts sum to the arm's n). The column
    ``simulated_covariates`` lists, per arm, the columns that were filled (';'-separated).

    Returns
    -------
    DataFrame
        A copy of ``arms`` with the filled values and ``simulated_covariates``.
    """
    out = arms.copy()
    filled = [
        [p for p in str(v).split(";") if p] if pd.notna(v) else []
        for v in (out["simulated_covariates"] if "simulated_covariates" in out else [None] * len(out))
    ]
    n = out["n"].to_numpy(dtype=float)
    for fill in params.covariates:
        rng = _rng(seed, f"covariates.{fill.name}")
        values = np.column_stack(
            [
                pd.to_numeric(out[c], errors="coerce").to_numpy(dtype=float) if c in out else np.full(len(out), np.nan)
                for c in fill.columns
            ]
        )
        todo = np.flatnonzero(np.isin(out["role"].to_numpy(), fill.roles) & np.isnan(values).all(axis=1))
        a = fill.args
        if fill.dist == "multinomial":
            for j in todo:
                values[j] = rng.multinomial(int(n[j]), np.asarray(a["p"]) / sum(a["p"]))
        else:
            groups = [np.array([j]) for j in todo]
            if fill.per == "study":
                study = out["study"].to_numpy()[todo]
                groups = [todo[study == s] for s in pd.unique(study)]
            k = len(groups)
            if fill.dist == "normal":
                draws = rng.normal(a["mean"], a["sd"], k)
            elif fill.dist == "uniform":
                draws = rng.uniform(a["low"], a["high"], k)
            elif fill.dist == "loguniform":
                draws = np.exp(rng.uniform(np.log(a["low"]), np.log(a["high"]), k))
            else:
                draws = rng.choice(np.asarray(a["values"]), size=k, p=a.get("p"))
            for g, v in zip(groups, draws, strict=False):
                values[g, 0] = round(float(v), fill.decimals)
        for i, c in enumerate(fill.columns):
            out[c] = values[:, i]
        for j in todo:
            filled[j] += [c for c in fill.columns if c not in filled[j]]
    out["simulated_covariates"] = [";".join(f) for f in filled]
    # derived columns (e.g. from read_dataset) computed before filling would be stale
    stale = [c for c in ("female_pct", "kl_grade_mean") if c in out.columns]
    if params.covariates and stale:
        out = derive_covariates(out.drop(columns=stale))
    return out


def _at(value: float | Mapping[float, float], month: float) -> float | None:
    return value.get(month) if isinstance(value, Mapping) else value


def _needed(value: float | Mapping[float, float], month: float) -> float:
    """A value the plan checked exists (0 where a month-0 row does not use it)."""
    found = _at(value, month)
    return 0.0 if found is None else found


def simulate_outcomes(
    arms: pd.DataFrame, studies: pd.DataFrame | None, params: SimulationParams, seed: int
) -> pd.DataFrame:
    """Simulate outcomes.csv rows (mean and SD per arm, outcome and month) for a design.

    Parameters
    ----------
    arms : DataFrame
        arms.csv of the design (``study, arm, role, n`` and covariates).
    studies : DataFrame or None
        studies.csv (``follow_up_months`` when ``months = "follow_up"``; study covariates).
    params : SimulationParams
        True parameters (:func:`load_params`). Missing covariates are filled first as
        :func:`fill_covariates` does with the same seed.
    seed : int
        Seed of numpy's Generator; the same inputs and seed give an identical frame.

    Returns
    -------
    DataFrame
        ``study, arm, outcome, month, n, mean, sd, kind, scale_min, scale_max, source``;
        every row's ``source`` says it is simulated, with the seed and parameters file.

    Raises
    ------
    InputError
        Bad design, a month without a parameter value, a covariate a slope needs that is
        missing, or a simulated mean outside [scale_min, scale_max].
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise InputError(Problem(f"seed must be a whole number >= 0, not {seed!r}", argument="seed"))
    check_design(arms, studies)
    arms = fill_covariates(arms.reset_index(drop=True), params, seed)
    file = params.origin
    problems: list[Problem] = []
    records: list[tuple[Any, ...]] = []
    source = f"simulated (seed {seed}; params file {params.origin})"
    n = arms["n"].to_numpy(dtype=float)
    treat = arms["role"].to_numpy() == "treatment"
    for op in params.outcomes:
        key = f"outcomes.{op.name}"
        xb = np.zeros(len(arms))
        for term, slope in op.slopes.items():
            xb += slope * (
                _term_values(arms, studies, term, f"{key}.slopes.{term}", problems) - op.centres.get(term, 0.0)
            )
        plan = {}
        for study in pd.unique(arms["study"]):
            spec = op.months if op.months is not None else params.months
            months: list[float]
            problem: Problem | None
            if isinstance(spec, str):  # "follow_up": the study's own follow-up months
                months, problem = _follow_up(studies, str(study), f"{key}.months" if op.months else "months", file)
            else:
                months, problem = [float(m) for m in spec], None
            if problem:
                problems.append(problem)
            months = sorted(set(months) | ({0.0} if params.baseline else set()))
            for m in months:
                for name in ("control_mean", "sd") if m == 0 else ("mu", "control_mean", "sd", "tau"):
                    if _at(getattr(op, name), m) is None:
                        problems.append(
                            Problem(f"no value for month {m:g}, which study '{study}' needs", file, key=f"{key}.{name}")
                        )
            plan[study] = months
        if problems:
            continue
        rng = _rng(seed, f"outcomes.{op.name}")
        for study, months in plan.items():
            idx = np.flatnonzero(arms["study"].to_numpy() == study)
            offset = rng.normal(0.0, op.sd_between)
            z = (
                np.full(len(idx), rng.standard_normal())
                if params.random_effect == "study"
                else rng.standard_normal(len(idx))
            )
            for m in months:
                # every value a month needs was checked above (the plan has no gaps)
                sd, mu, tau, control = (_needed(getattr(op, key), m) for key in ("sd", "mu", "tau", "control_mean"))
                effect = 0.0 if m == 0 else np.where(treat[idx], mu + xb[idx] + tau * z, 0.0)
                means = rng.normal(control + offset + effect, sd / np.sqrt(n[idx]))
                sds = sd * np.sqrt(rng.chisquare(n[idx] - 1) / (n[idx] - 1))
                for j, mean, s in zip(idx, means, sds, strict=False):
                    records.append(
                        (
                            study,
                            arms["arm"].iloc[j],
                            op.name,
                            m,
                            int(n[j]),
                            mean,
                            s,
                            "final",
                            op.scale_min,
                            op.scale_max,
                            source,
                        )
                    )
    if problems:
        raise InputError(list(dict.fromkeys(problems)))
    cols = ["study", "arm", "outcome", "month", "n", "mean", "sd", "kind", "scale_min", "scale_max", "source"]
    out = pd.DataFrame.from_records(records, columns=cols)
    for c in ("mean", "sd"):
        out[c] = out[c].astype(float) if params.decimals is None else out[c].astype(float).round(params.decimals)
    for c in ("scale_min", "scale_max"):
        out[c] = out[c].astype(float)
    if len(out) and (out["month"] == out["month"].round()).all():
        out["month"] = out["month"].astype(int)
    outside = (out["mean"] < out["scale_min"]) | (out["mean"] > out["scale_max"])
    if outside.any():
        raise InputError(
            [
                Problem(
                    f"simulated mean {r.mean:g} of {r.study}/{r.arm} at month {r.month:g} lies outside the scale "
                    f"[{r.scale_min:g}, {r.scale_max:g}]; move control_mean or lower sd/sd_between/tau",
                    file,
                    None,
                    f"outcomes.{r.outcome}",
                )
                for r in out[outside].itertuples()
            ]
        )
    return out

"""Covariates: derived arm columns, covariate terms, and covariates of comparisons.

A covariate *term* is a column name used as given (``age_mean``) or a transform of one:
``log10(NAME)`` or ``log(NAME)`` (natural logarithm).

A comparison's covariate value (docs/FORMAT.md, "Rules of the data"):

- both arms give it: the mean of the two weighted by the arms' randomised ``n`` (age);
- only one arm gives it: that arm's value (dose: the control arm leaves it empty);
- neither gives it: the study's value from ``studies.csv`` when it has that column;
- otherwise missing (NaN).

Every numeric column of ``arms.csv`` other than ``n`` is an arm-level covariate, every
numeric column of ``studies.csv`` a study-level one; the derived ``female_pct`` and
``kl_grade_mean`` are added wherever their inputs exist (:func:`derive_covariates`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_msc.errors import InputError, Problem

TRANSFORMS: tuple[str, ...] = ("log10", "log")
_EXCLUDED = frozenset({"n", "_row"})
_TERM = re.compile(r"^\s*(?:(?P<f>[A-Za-z_][A-Za-z0-9_]*)\s*\(\s*(?P<inner>[^()]*?)\s*\)|(?P<plain>[^()]+?))\s*$")
_KL = re.compile(r"^kl([0-4])$")


@dataclass(frozen=True)
class Term:
    """A parsed covariate term: ``column`` with an optional ``transform`` (``log10``/``log``)."""

    column: str
    transform: str | None = None

    @property
    def name(self) -> str:
        """Canonical text of the term (``log10(dose_million)``, ``age_mean``)."""
        return f"{self.transform}({self.column})" if self.transform else self.column


def parse_term(text: str, option: str = "covariates") -> Term:
    """Parse a covariate term: ``NAME``, ``log10(NAME)`` or ``log(NAME)``.

    Raises
    ------
    InputError
        Empty text or an unknown transform (the problem names ``option``).
    """
    match = _TERM.match(str(text))
    if match is None or not (match.group("plain") or match.group("inner")):
        raise InputError(_problem(f"'{text}' is not a covariate term; write NAME, log10(NAME) or log(NAME)", option))
    if match.group("plain") is not None:
        return Term(match.group("plain"))
    func = match.group("f")
    if func not in TRANSFORMS:
        raise InputError(_problem(f"unknown transform '{func}' in '{text}'; allowed: log10(NAME), log(NAME)", option))
    return Term(match.group("inner"), func)


def _where(frame: pd.DataFrame, i: int) -> str:
    row = frame.iloc[i]
    parts = [f"study '{row['study']}'"] if "study" in frame.columns else []
    if "arm" in frame.columns:
        parts.append(f"arm '{row['arm']}'")
    elif "treatment_arm" in frame.columns and "control_arm" in frame.columns:
        parts.append(f"comparison '{row['treatment_arm']}' vs '{row['control_arm']}'")
    return ", ".join(parts) or f"row {i + 1}"


def term_values(
    frame: pd.DataFrame, term: Term | str, *, option: str = "covariates", available: Sequence[str] | None = None
) -> np.ndarray:
    """Values of a covariate term for every row of ``frame`` (NaN where missing).

    Parameters
    ----------
    frame : DataFrame
        Rows (comparisons or arms) holding the covariate columns.
    term : Term or str
        The term (parsed with :func:`parse_term` when a string).
    option : str
        The option or key the term came from, named in errors.
    available : sequence of str, optional
        Covariate names to list when the column is unknown (default: the numeric
        columns of ``frame``).

    Raises
    ------
    InputError
        Unknown column (lists the available covariates); a logarithm of a value <= 0
        (names the study and arm or comparison).
    """
    term = parse_term(term, option) if isinstance(term, str) else term
    if available is None:
        available = [c for c in frame.columns if _is_numeric(frame[c]) and c not in _EXCLUDED]
    if term.column not in frame.columns or term.column not in available:
        names = ", ".join(sorted(available)) or "(none)"
        raise InputError(
            _problem(f"unknown covariate '{term.column}' in '{term.name}'; available covariates: {names}", option)
        )
    values = frame[term.column].to_numpy(dtype=float)
    if term.transform is None:
        return values
    bad = np.flatnonzero(np.isfinite(values) & (values <= 0))
    if bad.size:
        raise InputError(
            [
                _problem(
                    f"{term.name}: {_where(frame, i)} has {term.column} = {values[i]:g}; a logarithm needs values > 0",
                    option,
                )
                for i in bad.tolist()
            ]
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log10(values) if term.transform == "log10" else np.log(values)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _numeric_names(frame: pd.DataFrame) -> list[str]:
    """Numeric, non-boolean columns of ``frame`` (as :func:`_is_numeric`, read from the dtypes
    without materialising each column)."""
    return [
        str(c)  # the header's text
        for c, dtype in frame.dtypes.items()
        if (
            dtype.kind in "iufc"
            if isinstance(dtype, np.dtype)
            else not isinstance(dtype, pd.StringDtype)
            and pd.api.types.is_numeric_dtype(dtype)
            and not pd.api.types.is_bool_dtype(dtype)
        )
    ]


def _derived(arms: pd.DataFrame) -> pd.DataFrame:
    """``arms`` with the derived covariates: itself when it has them (the reader adds them),
    saving :func:`derive_covariates`' copy."""
    columns = set(arms.columns)
    pct = "female_pct" not in columns and {"female", "male"} <= columns
    kl = "kl_grade_mean" not in columns and any(_KL.match(str(c)) for c in columns)
    return derive_covariates(arms) if pct or kl else arms


def derive_covariates(arms: pd.DataFrame) -> pd.DataFrame:
    """Add ``female_pct`` and ``kl_grade_mean`` where their inputs exist (never overwrites).

    The same definitions as :func:`bayes_msc.data.reader.read_dataset` (which adds them
    when reading): ``female_pct = 100 female / (female + male)``; ``kl_grade_mean`` the
    mean Kellgren-Lawrence grade over the counts given in whichever of ``kl0`` ... ``kl4``
    exist (empty counts are left out; NaN when the arm gives none).
    """
    out = arms.copy()
    if "female_pct" not in out.columns and {"female", "male"} <= set(out.columns):
        f = out["female"].to_numpy(dtype=float)
        m = out["male"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["female_pct"] = np.where(f + m > 0, 100.0 * f / (f + m), np.nan)
    kl = {int(found.group(1)): c for c in out.columns if (found := _KL.match(str(c)))}
    if "kl_grade_mean" not in out.columns and kl:
        counts = np.column_stack([out[c].to_numpy(dtype=float) for c in kl.values()])
        grades = np.array(list(kl.keys()), dtype=float)
        given = np.isfinite(counts).any(axis=1)
        total = np.nansum(counts, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["kl_grade_mean"] = np.where(given & (total > 0), np.nansum(counts * grades, axis=1) / total, np.nan)
    return out


def covariate_columns(arms: pd.DataFrame, studies: pd.DataFrame | None) -> tuple[str, ...]:
    """Names of the arm-level then study-level numeric covariate columns (each once)."""
    names = [c for c in _numeric_names(arms) if c not in _EXCLUDED and c not in ("study", "arm", "role")]
    if studies is not None:
        names += [c for c in _numeric_names(studies) if c not in _EXCLUDED and c != "study" and c not in names]
    return tuple(names)


def _lookup(arms: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {(s, a): i for i, (s, a) in enumerate(zip(arms["study"].tolist(), arms["arm"].tolist(), strict=True))}


def _study_values(studies: pd.DataFrame | None, study_keys: Iterable[str], names: Sequence[str]) -> np.ndarray:
    """Study-level values (keys x names; NaN where the study or the column is absent)."""
    keys = list(study_keys)
    out = np.full((len(keys), len(names)), np.nan)
    if studies is None:
        return out
    index = {s: i for i, s in enumerate(studies["study"].tolist())}
    at = np.array([index.get(s, -1) for s in keys], dtype=int)
    found = at >= 0
    for j, c in enumerate(names):
        if c in studies.columns:
            out[found, j] = studies[c].to_numpy(dtype=float)[at[found]]
    return out


def _arm_matrix(arms: pd.DataFrame, names: Sequence[str], *positions: np.ndarray) -> list[np.ndarray]:
    """Arm-level values (len(at) x names) of the arms at each array of positions ``at``
    (NaN for position -1 and for a study-level column)."""
    cols = [arms[c].to_numpy(dtype=float) if c in arms.columns else None for c in names]
    out = []
    for at in positions:
        values = np.full((len(at), len(names)), np.nan)
        found = at >= 0
        for j, col in enumerate(cols):
            if col is not None:
                values[found, j] = col[at[found]]
        out.append(values)
    return out


def comparison_covariates(
    arms: pd.DataFrame, studies: pd.DataFrame | None, pairs: Sequence[tuple[str, str, str]]
) -> pd.DataFrame:
    """Covariates of comparisons ``(study, treatment_arm, control_arm)`` (see module doc).

    The arms' ``n`` (randomised, from ``arms.csv``) weights the mean of two arm values.
    Returns one row per pair, one column per covariate (:func:`covariate_columns`).
    """
    return pd.DataFrame(comparison_covariate_arrays(arms, studies, pairs), index=pd.RangeIndex(len(pairs)))


def comparison_covariate_arrays(
    arms: pd.DataFrame, studies: pd.DataFrame | None, pairs: Sequence[tuple[str, str, str]]
) -> dict[str, np.ndarray]:
    """The columns of :func:`comparison_covariates` as arrays (name -> one value per pair)."""
    arms = _derived(arms)
    names = covariate_columns(arms, studies)
    where = _lookup(arms)
    ti = np.array([where.get((s, t), -1) for s, t, _ in pairs], dtype=int)
    ci = np.array([where.get((s, c), -1) for s, _, c in pairs], dtype=int)
    n = arms["n"].to_numpy(dtype=float)
    nt = np.where(ti >= 0, n[ti], np.nan)
    nc = np.where(ci >= 0, n[ci], np.nan)
    study_vals = _study_values(studies, (s for s, _, _ in pairs), names)
    # one array operation per rule over all covariates at once (each value depends on its pair alone)
    vt, vc = _arm_matrix(arms, names, ti, ci)
    nt, nc = nt[:, None], nc[:, None]
    both = np.isfinite(vt) & np.isfinite(vc)
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = (nt * vt + nc * vc) / (nt + nc)
    value = np.where(both, weighted, np.where(np.isfinite(vt), vt, vc))
    value = np.where(np.isfinite(value), value, study_vals)
    return {c: value[:, j] for j, c in enumerate(names)}


def arm_covariates(arms: pd.DataFrame, studies: pd.DataFrame | None, keys: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Covariates of arms ``(study, arm)``: the arm's value, else the study's value."""
    return pd.DataFrame(arm_covariate_arrays(arms, studies, keys), index=pd.RangeIndex(len(keys)))


def arm_covariate_arrays(
    arms: pd.DataFrame, studies: pd.DataFrame | None, keys: Sequence[tuple[str, str]]
) -> dict[str, np.ndarray]:
    """The columns of :func:`arm_covariates` as arrays (name -> one value per arm)."""
    arms = _derived(arms)
    names = covariate_columns(arms, studies)
    where = _lookup(arms)
    idx = np.array([where.get(k, -1) for k in keys], dtype=int)
    (value,) = _arm_matrix(arms, names, idx)
    value = np.where(np.isfinite(value), value, _study_values(studies, (s for s, _ in keys), names))
    return {c: value[:, j] for j, c in enumerate(names)}


def _problem(message: str, option: str) -> Problem:
    """A problem of a covariate term given in a TOML key (dotted, ``bayes.covariates``) or
    a Python argument (``covariates``, shown on the command line as ``--covariate``)."""
    return Problem(message, key=option) if "." in option else Problem(message, argument=option)

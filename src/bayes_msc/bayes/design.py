"""Covariate design shared by every engine (frequentist, exact, MCMC).

Bayesian engines centre and scale covariates internally so that one slope prior fits
covariates of any unit: a slope prior is a prior on the change in the effect for a
one-standard-deviation change of the covariate (as seen in the data being fitted).
Slopes are always reported per unit of the covariate as given (after its transform,
e.g. per log10 unit of ``log10(dose_million)``).

The centre is each term's *reference value*: its mean over the analysed comparisons
unless the user sets it (``covariate_at``, :func:`reference_values`). ``mu`` is the
coefficient of the intercept column of the centred design, so ``mu`` (and its prior) is
the pooled effect at the reference values; ``intercept`` (the effect where every term is 0)
is a separate quantity (:meth:`Standardised.intercept_to_original`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bayes_msc.errors import InputError, Problem


@dataclass(frozen=True, eq=False)
class Standardised:
    """Columns of ``X`` centred and scaled: ``Z = (X - centre) / scale``.

    ``centre`` holds the reference values (the columns' means unless set), ``given`` the
    names whose reference value the user set.
    """

    z: np.ndarray
    centre: np.ndarray
    scale: np.ndarray
    names: tuple[str, ...]
    given: tuple[str, ...] = ()

    @property
    def reference(self) -> dict[str, float]:
        """Term name -> its reference value (where ``mu`` is the pooled effect)."""
        return {n: float(c) for n, c in zip(self.names, self.centre, strict=True)}

    def slopes_to_original(self, beta_z: np.ndarray) -> np.ndarray:
        """Per-SD slopes (last axis) to per-unit slopes."""
        return np.asarray(beta_z) / self.scale

    def intercept_to_original(self, mu_z: np.ndarray, beta_z: np.ndarray) -> np.ndarray:
        """The effect at the reference values (``mu``) to the intercept at covariates = 0."""
        beta_z = np.asarray(beta_z)
        return np.asarray(mu_z) - np.sum(beta_z * (self.centre / self.scale), axis=-1)


def standardise(
    x: np.ndarray, names: list[str] | tuple[str, ...], centre: np.ndarray | None = None, given: Sequence[str] = ()
) -> Standardised:
    """Centre each column at ``centre`` (default: its mean) and scale it by its SD (ddof=0).

    Raises
    ------
    InputError
        When a column is constant (its slope is not identified) or not finite.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(names):
        raise ValueError("x must be 2-D with one column per name")
    problems = []
    for j, name in enumerate(names):
        col = x[:, j]
        if not np.all(np.isfinite(col)):
            problems.append(Problem(f"covariate '{name}' has missing or non-finite values", column=name))
        elif np.ptp(col) == 0:
            problems.append(
                Problem(
                    f"covariate '{name}' is constant across the {len(col)} comparisons; its slope cannot be estimated",
                    column=name,
                )
            )
    if problems:
        raise InputError(problems)
    centre = x.mean(axis=0) if centre is None else np.asarray(centre, dtype=float)
    scale = x.std(axis=0)
    return Standardised(z=(x - centre) / scale, centre=centre, scale=scale, names=tuple(names), given=tuple(given))


def reference_values(
    names: Sequence[str], x: np.ndarray, covariate_at: Mapping[str, float] | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The reference value of each term: ``covariate_at[term]`` when given, else the term's
    mean over the rows of ``x`` (the analysed comparisons).

    A key of ``covariate_at`` is a term as fitted (``log10(dose_million)``, ``age_mean``)
    or, for a transformed term, its column (``dose_million``: the value is transformed).

    Returns
    -------
    (centre, given) : ndarray, tuple of str
        One value per term; the terms whose value was given.

    Raises
    ------
    InputError
        A key that names none of the terms, or a value that is not a finite number (or not
        > 0 for a logarithm), naming the argument ``covariate_at``.
    """
    from bayes_msc.data.covariates import parse_term

    x = np.asarray(x, dtype=float).reshape(-1, len(names))
    centre = x.mean(axis=0) if x.shape[0] else np.full(len(names), np.nan)
    given: list[str] = []
    problems = []
    terms = [parse_term(n) for n in names]
    for key, value in (covariate_at or {}).items():
        matches = [j for j, t in enumerate(terms) if key == t.name or (t.transform and key == t.column)]
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
        if not matches:
            problems.append(
                Problem(
                    f"covariate_at: '{key}' is not a covariate of this model; its terms: {', '.join(names) or 'none'}",
                    argument="covariate_at",
                )
            )
            continue
        if not ok or not math.isfinite(float(value)):
            problems.append(
                Problem(f"covariate_at: '{key}' must be a finite number, not {value!r}", argument="covariate_at")
            )
            continue
        for j in matches:
            t, v = terms[j], float(value)
            if t.transform and key == t.column:
                if v <= 0:
                    problems.append(
                        Problem(f"covariate_at: '{key}' = {v:g}: {t.name} needs a value > 0", argument="covariate_at")
                    )
                    continue
                v = math.log10(v) if t.transform == "log10" else math.log(v)
            centre[j] = v
            given.append(t.name)
    if problems:
        raise InputError(problems)
    return centre, tuple(t.name for t in terms if t.name in given)

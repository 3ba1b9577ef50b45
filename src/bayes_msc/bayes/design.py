"""Covariate design shared by every engine (frequentist, exact, MCMC).

Bayesian engines centre and scale covariates internally so that one slope prior fits
covariates of any unit: a slope prior is a prior on the change in the effect for a
one-standard-deviation change of the covariate (as seen in the data being fitted).
Slopes are always reported per unit of the covariate as given (after its transform,
e.g. per log10 unit of ``log10(dose_million)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayes_msc.errors import InputError, Problem


@dataclass(frozen=True, eq=False)
class Standardised:
    """Columns of ``X`` centred and scaled: ``Z = (X - centre) / scale``."""

    z: np.ndarray
    centre: np.ndarray
    scale: np.ndarray
    names: tuple[str, ...]

    def slopes_to_original(self, beta_z: np.ndarray) -> np.ndarray:
        """Per-SD slopes (last axis) to per-unit slopes."""
        return np.asarray(beta_z) / self.scale

    def intercept_to_original(self, mu_z: np.ndarray, beta_z: np.ndarray) -> np.ndarray:
        """Intercept at the covariates' means to the intercept at covariates = 0."""
        beta_z = np.asarray(beta_z)
        return np.asarray(mu_z) - np.sum(beta_z * (self.centre / self.scale), axis=-1)


def standardise(x: np.ndarray, names: list[str] | tuple[str, ...]) -> Standardised:
    """Centre each column at its mean and scale it by its SD (ddof=0).

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
    centre = x.mean(axis=0)
    scale = x.std(axis=0)
    return Standardised(z=(x - centre) / scale, centre=centre, scale=scale, names=tuple(names))

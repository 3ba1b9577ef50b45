"""Frequentist meta-regression result types (made by :func:`bayes_msc.frequentist.rma.rma`
with covariates); conventions as in :mod:`bayes_msc.results.frequentist`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.results.layout import FREQUENTIST_COLUMNS, summary_row
from bayes_msc.results.text import metareg_text, short, where


@dataclass(frozen=True)
class Coefficient:
    """One meta-regression coefficient (``intercept`` or a covariate term)."""

    name: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "z": self.z,
            "p": self.p,
        }


@dataclass(frozen=True, eq=False)
class MetaRegResult:
    """A mixed-effects (or fixed-effect) meta-regression.

    Attributes
    ----------
    coefficients : tuple of Coefficient
        ``intercept`` first, then one per covariate term (per unit of the term as given).
    qm, qm_df, qm_p : float, tuple, float
        Omnibus test of the covariates: chi-square with ``qm_df[0]`` df (z test), or F with
        ``qm_df`` (Knapp-Hartung; metafor divides QM by the number of covariates).
    qe, qe_df, qe_p : float, int, float
        Test for residual heterogeneity.
    r2 : float
        Percentage of tau^2 accounted for by the covariates (metafor: ``100 * (tau2_0 -
        tau2) / tau2_0`` truncated at 0, with tau2_0 from the same method without
        covariates); for ``fe``, metafor's weighted adjusted R^2 in percent.
    x : ndarray, shape (k, q)
        The covariate columns (no intercept).
    """

    k: int
    method: str
    tau2: float
    tau: float
    i2: float
    h2: float
    r2: float
    qm: float
    qm_df: tuple[int, float]
    qm_p: float
    qe: float
    qe_df: int
    qe_p: float
    coefficients: tuple[Coefficient, ...]
    level: float
    test: str
    hksj: bool
    x: np.ndarray
    names: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    labels: tuple[str, ...]
    vcov: np.ndarray
    df: float = float("nan")
    se_tau2: float = float("nan")
    hksj_truncate: bool = False
    shared_covariance: bool = False
    chosen_by: str | None = None
    why: str | None = None
    outcome: str | None = None
    month: float | None = None
    measure: str | None = None
    multiarm: str | None = None
    dataset: str = ""
    simulated: bool = False
    excluded: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def coefficient(self, name: str) -> Coefficient:
        """The coefficient named ``name`` (``intercept`` or a covariate term)."""
        for c in self.coefficients:
            if c.name == name:
                return c
        raise KeyError(name)

    def summary(self) -> pd.DataFrame:
        """The shared layout (:data:`~bayes_msc.results.layout.FREQUENTIST_COLUMNS`): rows
        ``intercept`` and each covariate term (``df`` of the t test under Knapp-Hartung),
        then ``tau2``, ``tau``, ``i2``, ``h2``, ``r2`` (percent), ``qe`` (residual
        heterogeneity, its df and p) and ``qm`` (the test of the covariates: chi-square with
        ``df``, or F with ``df`` numerator df under Knapp-Hartung)."""
        rows = [
            summary_row(c.name, c.estimate, c.se, c.ci_low, c.ci_high, self.level, c.z, c.p, self.df)
            for c in self.coefficients
        ]
        rows += [
            summary_row("tau2", self.tau2, self.se_tau2, level=self.level),
            summary_row("tau", self.tau, level=self.level),
            summary_row("i2", self.i2, level=self.level),
            summary_row("h2", self.h2, level=self.level),
            summary_row("r2", self.r2, level=self.level),
            summary_row("qe", self.qe, level=self.level, p=self.qe_p, df=self.qe_df),
            summary_row("qm", self.qm, level=self.level, p=self.qm_p, df=self.qm_df[0]),
        ]
        return pd.DataFrame(rows, columns=list(FREQUENTIST_COLUMNS))

    def __repr__(self) -> str:
        slopes = ", ".join(f"{c.name}={short(c.estimate)}" for c in self.coefficients[1:4])
        more = ", ..." if len(self.coefficients) > 4 else ""
        return (
            f"MetaRegResult({where(self)}k={self.k}, method={self.method!r}, {slopes}{more}, "
            f"tau2={short(self.tau2)}, qm_p={short(self.qm_p, 3)}{', SIMULATED' if self.simulated else ''})"
        )

    def __str__(self) -> str:
        return metareg_text(self)

    def to_dict(self) -> dict[str, Any]:
        """docs/FORMAT.md's ``metareg`` JSON fields, then the extra fields."""
        return {
            "k": self.k,
            "method": self.method,
            "tau2": self.tau2,
            "i2": self.i2,
            "qm": self.qm,
            "qm_p": self.qm_p,
            "qe": self.qe,
            "qe_p": self.qe_p,
            "coefficients": [c.to_dict() for c in self.coefficients],
            "outcome": self.outcome,
            "month": self.month,
            "measure": self.measure,
            "multiarm": self.multiarm,
            "dataset": self.dataset,
            "simulated": self.simulated,
            "tau": self.tau,
            "h2": self.h2,
            "r2": self.r2,
            "qm_df": list(self.qm_df),
            "qe_df": self.qe_df,
            "hksj": self.hksj,
            "hksj_truncate": self.hksj_truncate,
            "level": self.level,
            "test": self.test,
            "df": self.df,
            "se_tau2": self.se_tau2,
            "shared_covariance": self.shared_covariance,
            "chosen_by": self.chosen_by,
            "why": self.why,
            "excluded": list(self.excluded),
            "notes": list(self.notes),
            "studies": [
                {
                    "comparison": lab,
                    "yi": float(y),
                    "vi": float(v),
                    **{n: float(xv) for n, xv in zip(self.names, row, strict=False)},
                }
                for lab, y, v, row in zip(self.labels, self.yi, self.vi, self.x, strict=False)
            ],
        }

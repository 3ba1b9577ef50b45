"""Frequentist result types: pooled estimate, meta-regression and leave-one-out.

Made by :mod:`bayes_msc.frequentist.rma` (``rma``, ``leave_one_out``). The
``to_dict()`` of :class:`PoolResult` and :class:`MetaRegResult` give exactly the JSON
fields of DESIGN.md for ``bayes-msc pool`` and ``bayes-msc metareg`` first, then extra
fields (``measure``, ``multiarm``, ``dataset``, ``simulated``, ``hksj``, ``level``,
``test``, ...) that say how the numbers were made.

Conventions (metafor's): ``i2`` and ``r2`` are percentages; ``z`` holds the z statistic,
or the t statistic when ``test == "t"`` (Knapp-Hartung); ``weights`` are percentages of
the total weight (the diagonal of ``W`` for a non-diagonal covariance, as
``weights.rma.mv``); ``q`` is the (generalised) Cochran Q of the fixed-effect fit.
Context fields (``outcome``, ``month``, ``measure``, ``multiarm``, ``dataset``,
``simulated``, ``excluded``) are filled in by the caller with :func:`dataclasses.replace`;
``notes`` says when an estimator needed a fallback (see :mod:`bayes_msc.frequentist.tau2`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.results.layout import CI_LEVEL, SUMMARY_COLUMNS

_EXTRA_COLUMNS = ("z", "p")


def _row(
    term: str,
    estimate: float,
    se: float = float("nan"),
    lower: float = float("nan"),
    upper: float = float("nan"),
    level: float = CI_LEVEL,
    z: float = float("nan"),
    p: float = float("nan"),
) -> dict[str, Any]:
    return {
        "term": term,
        "estimate": estimate,
        "se": se,
        "lower": lower,
        "upper": upper,
        "level": level,
        "z": z,
        "p": p,
    }


@dataclass(frozen=True, eq=False)
class PoolResult:
    """An intercept-only (pooled) fixed- or random-effects meta-analysis.

    Attributes
    ----------
    method : str
        The method used: ``fe``, ``dl``, ``reml``, ``pm``, ``ml``, ``he``, ``sj``, ``eb``.
        With the paper's rule it is the one the rule chose; ``chosen_by`` is then
        ``"paper"`` and ``why`` gives the reason.
    test : str
        ``"z"`` or ``"t"`` (Knapp-Hartung/HKSJ, ``df = k - 1``).
    df : float
        Degrees of freedom of the t test (NaN for z).
    pi_type, pi_df : str, float
        ``"z"`` (metafor's default: t with ``df`` under Knapp-Hartung) or ``"t"``
        (Higgins/IntHout, t with k - 2 df); ``pi_df`` NaN for a normal quantile.
    se_tau2 : float
        metafor's standard error of tau^2 for the estimator (NaN for ``fe``).
    shared_covariance : bool
        Whether a non-diagonal sampling covariance (shared arms) was used.
    """

    k: int
    method: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p: float
    tau2: float
    tau: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    pi_low: float
    pi_high: float
    level: float
    test: str
    hksj: bool
    weights: np.ndarray
    labels: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    df: float = float("nan")
    pi_type: str = "z"
    pi_df: float = float("nan")
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

    @property
    def random_effects(self) -> bool:
        """True unless the fixed-effect (inverse variance) model was used."""
        return self.method != "fe"

    def summary(self) -> pd.DataFrame:
        """Rows ``mu``, ``tau2``, ``tau`` in the shared layout, then ``z`` and ``p``."""
        rows = [
            _row("mu", self.estimate, self.se, self.ci_low, self.ci_high, self.level, self.z, self.p),
            _row("tau2", self.tau2, self.se_tau2, level=self.level),
            _row("tau", self.tau, level=self.level),
        ]
        return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS) + list(_EXTRA_COLUMNS))

    def studies(self) -> pd.DataFrame:
        """One row per comparison: ``comparison, yi, vi, se, ci_low, ci_high, weight``."""
        from scipy.stats import norm

        se = np.sqrt(self.vi)
        crit = norm.isf((1 - self.level) / 2)
        return pd.DataFrame(
            {
                "comparison": list(self.labels),
                "yi": self.yi,
                "vi": self.vi,
                "se": se,
                "ci_low": self.yi - crit * se,
                "ci_high": self.yi + crit * se,
                "weight": self.weights,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """DESIGN.md's ``pool`` JSON fields, then the extra fields."""
        return {
            "outcome": self.outcome,
            "month": self.month,
            "k": self.k,
            "method": self.method,
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "z": self.z,
            "p": self.p,
            "tau2": self.tau2,
            "tau": self.tau,
            "i2": self.i2,
            "h2": self.h2,
            "q": self.q,
            "q_df": self.q_df,
            "q_p": self.q_p,
            "pi_low": self.pi_low,
            "pi_high": self.pi_high,
            "measure": self.measure,
            "multiarm": self.multiarm,
            "dataset": self.dataset,
            "simulated": self.simulated,
            "hksj": self.hksj,
            "hksj_truncate": self.hksj_truncate,
            "level": self.level,
            "test": self.test,
            "df": self.df,
            "pi_type": self.pi_type,
            "pi_df": self.pi_df,
            "se_tau2": self.se_tau2,
            "shared_covariance": self.shared_covariance,
            "chosen_by": self.chosen_by,
            "why": self.why,
            "excluded": list(self.excluded),
            "notes": list(self.notes),
            "studies": [
                {"comparison": lab, "yi": float(y), "vi": float(v), "weight": float(w)}
                for lab, y, v, w in zip(self.labels, self.yi, self.vi, self.weights, strict=False)
            ],
        }


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
        """Rows ``intercept``, each covariate, ``tau2``, ``tau`` in the shared layout."""
        rows = [_row(c.name, c.estimate, c.se, c.ci_low, c.ci_high, self.level, c.z, c.p) for c in self.coefficients]
        rows.append(_row("tau2", self.tau2, self.se_tau2, level=self.level))
        rows.append(_row("tau", self.tau, level=self.level))
        return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS) + list(_EXTRA_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """DESIGN.md's ``metareg`` JSON fields, then the extra fields."""
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


@dataclass(frozen=True)
class LeaveOneOutRow:
    """The pooled result without one comparison."""

    left_out: str
    method: str
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_p: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LeaveOneOutResult:
    """Leave-one-out sensitivity analysis: one row per left-out comparison."""

    rows: tuple[LeaveOneOutRow, ...]
    level: float
    test: str
    hksj: bool
    method: str

    def summary(self) -> pd.DataFrame:
        """One ``mu`` row per left-out comparison in the shared layout, then ``left_out,
        method, k, tau2, i2, h2, q, q_p, z, p``."""
        data = [
            {
                "term": "mu",
                "estimate": r.estimate,
                "se": r.se,
                "lower": r.ci_low,
                "upper": r.ci_high,
                "level": self.level,
                "left_out": r.left_out,
                "method": r.method,
                "k": r.k,
                "tau2": r.tau2,
                "i2": r.i2,
                "h2": r.h2,
                "q": r.q,
                "q_p": r.q_p,
                "z": r.z,
                "p": r.p,
            }
            for r in self.rows
        ]
        extra = ["left_out", "method", "k", "tau2", "i2", "h2", "q", "q_p", "z", "p"]
        return pd.DataFrame(data, columns=list(SUMMARY_COLUMNS) + extra)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "test": self.test,
            "hksj": self.hksj,
            "level": self.level,
            "rows": [r.to_dict() for r in self.rows],
        }

"""Frequentist result types: pooled estimate, meta-regression and leave-one-out.

The meta-regression types (:class:`MetaRegResult`, :class:`Coefficient`) are defined in
:mod:`bayes_msc.results.metareg` and importable from here too.

Made by :mod:`bayes_msc.frequentist.rma` (``rma``, ``leave_one_out``). The
``to_dict()`` of :class:`PoolResult` and :class:`MetaRegResult` give exactly the JSON
fields of docs/FORMAT.md for ``bayes-msc pool`` and ``bayes-msc metareg`` first, then extra
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

from bayes_msc.results.layout import FREQUENTIST_COLUMNS, SUMMARY_COLUMNS, summary_row
from bayes_msc.results.metareg import Coefficient, MetaRegResult
from bayes_msc.results.text import loo_text, pool_text, short, where

__all__ = ["Coefficient", "LeaveOneOutResult", "LeaveOneOutRow", "MetaRegResult", "PoolResult"]


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
    pi : str
        The prediction interval asked for: ``"z"`` (metafor's default: the normal quantile,
        or t with the test's ``df`` under Knapp-Hartung) or ``"t"`` (Higgins/IntHout/Riley:
        t with k - 2 df, raised to 1 at k = 2 as metafor does, with a note).
    pi_type, pi_df : str, float
        The quantile the interval used: ``"z"`` (normal; ``pi_df`` NaN) or ``"t"`` with
        ``pi_df`` degrees of freedom.
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
    pi: str = "z"
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
        """The shared layout (:data:`~bayes_msc.results.layout.FREQUENTIST_COLUMNS`), one
        row per quantity, as metafor prints them:

        - ``mu``: the pooled effect, its SE, CI, z (t under Knapp-Hartung, with ``df``), p;
        - ``tau2`` (with metafor's SE), ``tau``, ``i2`` (percent), ``h2``;
        - ``q``: Cochran's Q with its ``df`` and p;
        - ``pi``: the prediction interval (``lower``/``upper``; ``df`` of its t quantile,
          NaN for a normal quantile; NaN throughout for the fixed-effect model).
        """
        rows = [
            summary_row("mu", self.estimate, self.se, self.ci_low, self.ci_high, self.level, self.z, self.p, self.df),
            summary_row("tau2", self.tau2, self.se_tau2, level=self.level),
            summary_row("tau", self.tau, level=self.level),
            summary_row("i2", self.i2, level=self.level),
            summary_row("h2", self.h2, level=self.level),
            summary_row("q", self.q, level=self.level, p=self.q_p, df=self.q_df),
            summary_row(
                "pi",
                self.estimate if np.isfinite(self.pi_low) else float("nan"),
                lower=self.pi_low,
                upper=self.pi_high,
                level=self.level,
                df=self.pi_df,
            ),
        ]
        return pd.DataFrame(rows, columns=list(FREQUENTIST_COLUMNS))

    def __repr__(self) -> str:
        return (
            f"PoolResult({where(self)}k={self.k}, method={self.method!r}, estimate={short(self.estimate)} "
            f"[{short(self.ci_low)}, {short(self.ci_high)}], tau2={short(self.tau2)}, i2={self.i2:.1f}%, "
            f"pi=[{short(self.pi_low)}, {short(self.pi_high)}]{', SIMULATED' if self.simulated else ''})"
        )

    def __str__(self) -> str:
        return pool_text(self)

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
        """docs/FORMAT.md's ``pool`` JSON fields, then the extra fields."""
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
            "pi": self.pi,
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

    def __repr__(self) -> str:
        est = [r.estimate for r in self.rows]
        span = f"[{short(min(est))}, {short(max(est))}]" if est else "[]"
        return f"LeaveOneOutResult(method={self.method!r}, rows={len(self.rows)}, test={self.test!r}, estimate range {span})"

    def __str__(self) -> str:
        return loo_text(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "test": self.test,
            "hksj": self.hksj,
            "level": self.level,
            "rows": [r.to_dict() for r in self.rows],
        }

"""Small-study effect results (metafor ``regtest``, ``ranktest``, ``trimfill``).

Made by :mod:`bayes_msc.frequentist.small_study`. JSON fields follow metafor's value names:
``zval``, ``pval``, ``df``, ``est`` (the limit estimate as SE -> 0) for ``regtest``;
``tau`` (Kendall's tau-b), ``pval`` for ``ranktest``; ``k0``, ``se_k0``, ``side``, ``p_k0``
for ``trimfill``. Every result says ``low_power`` when k < 10 (Cochrane Handbook 13.3.5.4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.results.frequentist import PoolResult
from bayes_msc.results.layout import CI_LEVEL, FREQUENTIST_COLUMNS, summary_row
from bayes_msc.results.text import num
from bayes_msc.results.toolbox.text import LOW_POWER_K, LOW_POWER_NOTE, context_dict, heading, p_eq

PREDICTOR_NAMES = {
    "sei": "standard error",
    "vi": "sampling variance",
    "ni": "sample size",
    "ninv": "inverse of the sample size",
    "sqrtni": "square root of the sample size",
    "sqrtninv": "inverse of the square root of the sample size",
}


def _power_lines(k: int) -> list[str]:
    return ["", "Note: " + LOW_POWER_NOTE.format(k=k)] if k < LOW_POWER_K else []


@dataclass(frozen=True)
class RegtestResult:
    """Egger's regression test: ``zval``/``pval`` test the slope of the effects on the
    predictor (a t statistic on ``df`` df when ``test == "t"``); ``est`` is the intercept,
    the effect expected at SE = 0 (NaN for the ``ni``/``sqrtni`` predictors)."""

    k: int
    model: str
    predictor: str
    method: str
    test: str
    zval: float
    pval: float
    df: float
    slope: float
    est: float
    ci_low: float
    ci_high: float
    level: float = CI_LEVEL
    outcome: str | None = None
    month: float | None = None
    measure: str | None = None
    dataset: str = ""
    simulated: bool = False

    @property
    def low_power(self) -> bool:
        return self.k < LOW_POWER_K

    def __repr__(self) -> str:
        return f"RegtestResult(k={self.k}, model={self.model!r}, zval={self.zval:.4g}, pval={self.pval:.4g})"

    def __str__(self) -> str:
        kind = (
            "weighted regression with multiplicative dispersion"
            if self.model == "lm"
            else (
                "fixed-effects meta-regression model" if self.method == "fe" else "mixed-effects meta-regression model"
            )
        )
        stat = f"t = {num(self.zval)}, df = {self.df:g}" if self.test == "t" else f"z = {num(self.zval)}"
        lines = heading(self) + [
            "Regression Test for Funnel Plot Asymmetry (Egger)",
            "",
            f"Model:     {kind}" + ("" if self.model == "lm" else f" (tau^2 estimator: {self.method.upper()})"),
            f"Predictor: {PREDICTOR_NAMES[self.predictor]}",
            "",
            f"Test for Funnel Plot Asymmetry: {stat}, {p_eq(self.pval)}",
        ]
        if np.isfinite(self.est):
            lines.append(
                f"Limit Estimate (as sei -> 0):   b = {num(self.est)} "
                f"({100 * self.level:g}% CI: {num(self.ci_low)}, {num(self.ci_high)})"
            )
        return "\n".join(lines + _power_lines(self.k)) + "\n"

    def summary(self) -> pd.DataFrame:
        """Rows ``slope`` (the asymmetry test) and ``limit`` (the limit estimate)."""
        rows = [
            summary_row("slope", self.slope, z=self.zval, p=self.pval, level=self.level),
            summary_row("limit", self.est, lower=self.ci_low, upper=self.ci_high, level=self.level),
        ]
        return pd.DataFrame(rows, columns=list(FREQUENTIST_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "model": self.model,
            "predictor": self.predictor,
            "method": self.method,
            "test": self.test,
            "zval": self.zval,
            "pval": self.pval,
            "df": self.df,
            "slope": self.slope,
            "est": self.est,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "level": self.level,
            "low_power": self.low_power,
        } | context_dict(self)


@dataclass(frozen=True)
class RanktestResult:
    """Begg's rank correlation test: Kendall's tau-b and its two-sided p-value (exact
    without ties, ``exact``)."""

    k: int
    tau: float
    pval: float
    exact: bool
    outcome: str | None = None
    month: float | None = None
    measure: str | None = None
    dataset: str = ""
    simulated: bool = False

    @property
    def low_power(self) -> bool:
        return self.k < LOW_POWER_K

    def __repr__(self) -> str:
        return f"RanktestResult(k={self.k}, tau={self.tau:.4g}, pval={self.pval:.4g})"

    def __str__(self) -> str:
        how = "exact" if self.exact else "normal approximation, ties"
        lines = heading(self) + [
            "Rank Correlation Test for Funnel Plot Asymmetry (Begg and Mazumdar)",
            "",
            f"Kendall's tau = {num(self.tau)}, {p_eq(self.pval)} ({how})",
        ]
        return "\n".join(lines + _power_lines(self.k)) + "\n"

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([summary_row("kendall_tau", self.tau, p=self.pval)], columns=list(FREQUENTIST_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "tau": self.tau,
            "pval": self.pval,
            "exact": self.exact,
            "low_power": self.low_power,
        } | context_dict(self)


@dataclass(frozen=True, eq=False)
class TrimfillResult:
    """Trim and fill: ``k0`` studies estimated missing on ``side``; ``filled`` is the pooled
    result with the ``k0`` mirrored studies added (``fill_yi``, ``fill_vi``), ``original``
    the one without them."""

    k: int
    k0: int
    se_k0: float
    side: str
    estimator: str
    p_k0: float
    filled: PoolResult
    original: PoolResult
    fill_yi: np.ndarray = field(default_factory=lambda: np.empty(0))
    fill_vi: np.ndarray = field(default_factory=lambda: np.empty(0))
    outcome: str | None = None
    month: float | None = None
    measure: str | None = None
    dataset: str = ""
    simulated: bool = False

    @property
    def low_power(self) -> bool:
        return self.k < LOW_POWER_K

    def __repr__(self) -> str:
        return (
            f"TrimfillResult(k={self.k}, k0={self.k0}, side={self.side!r}, "
            f"estimate={self.filled.estimate:.4g} (was {self.original.estimate:.4g}))"
        )

    def __str__(self) -> str:
        f = self.filled
        se = f" (SE = {num(self.se_k0)})"
        lines = heading(self) + [
            f"Trim and fill ({self.estimator} estimator; tau^2 estimator: {f.method.upper()})",
            "",
            f"Estimated number of missing studies on the {self.side} side: {self.k0}{se}"
            + (f", p = {num(self.p_k0)}" if np.isfinite(self.p_k0) else ""),
            "",
            f"{'':10}{'k':>4}{'estimate':>10}{'se':>9}{'ci.lb':>10}{'ci.ub':>10}{'tau^2':>10}",
        ]
        for name, r in (("observed", self.original), ("filled", f)):
            lines.append(
                f"{name:10}{r.k:>4}{num(r.estimate):>10}{num(r.se):>9}"
                f"{num(r.ci_low):>10}{num(r.ci_high):>10}{num(r.tau2):>10}"
            )
        return "\n".join(lines + _power_lines(self.k)) + "\n"

    def summary(self) -> pd.DataFrame:
        """Rows ``mu_observed`` and ``mu_filled`` in the shared layout."""
        rows = [
            summary_row(name, r.estimate, r.se, r.ci_low, r.ci_high, r.level, r.z, r.p)
            for name, r in (("mu_observed", self.original), ("mu_filled", self.filled))
        ]
        return pd.DataFrame(rows, columns=list(FREQUENTIST_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        f = self.filled
        return {
            "k": self.k,
            "k0": self.k0,
            "se_k0": self.se_k0,
            "side": self.side,
            "estimator": self.estimator,
            "p_k0": self.p_k0,
            "method": f.method,
            "estimate": f.estimate,
            "se": f.se,
            "ci_low": f.ci_low,
            "ci_high": f.ci_high,
            "zval": f.z,
            "pval": f.p,
            "tau2": f.tau2,
            "i2": f.i2,
            "q": f.q,
            "q_p": f.q_p,
            "observed_estimate": self.original.estimate,
            "filled_studies": [
                {"label": f"Filled {i + 1}", "yi": float(y), "vi": float(v)}
                for i, (y, v) in enumerate(zip(self.fill_yi, self.fill_vi, strict=True))
            ],
            "low_power": self.low_power,
        } | context_dict(self)

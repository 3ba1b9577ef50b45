"""Confidence intervals for the heterogeneity (metafor ``confint(rma)``): :class:`ConfintResult`.

Made by :func:`bayes_msc.frequentist.heterogeneity.confint`. JSON fields (``to_dict``):
``tau2``, ``tau2_ci_low``, ``tau2_ci_high`` and the same for ``tau``, ``i2`` (percent) and
``h2``; ``type`` (``"qp"``: Q-profile), ``level``, ``ci_null`` (the interval is the single
point 0: Q is below even the lower critical value at tau^2 = 0), then the context.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from bayes_msc.results.layout import CI_LEVEL, SUMMARY_COLUMNS
from bayes_msc.results.text import num
from bayes_msc.results.toolbox.text import context_dict, heading

TERMS: tuple[str, ...] = ("tau2", "tau", "i2", "h2")


@dataclass(frozen=True)
class ConfintResult:
    """Estimates and confidence intervals of tau^2, tau, I^2 (percent) and H^2.

    The interval of tau^2 is the Q-profile interval (Viechtbauer 2007, Stat Med 26:37):
    the tau^2 values where the generalised Q statistic ``Q(tau^2)`` equals the chi-square
    quantiles on ``k - 1`` df; the other intervals are its transforms (``tau = sqrt(tau^2)``,
    ``I^2 = 100 tau^2 / (vt + tau^2)``, ``H^2 = tau^2 / vt + 1`` with ``vt`` the typical
    within-study variance), as metafor computes them. The estimates are the pooled model's.
    """

    k: int
    method: str
    tau2: float
    tau2_ci_low: float
    tau2_ci_high: float
    tau: float
    tau_ci_low: float
    tau_ci_high: float
    i2: float
    i2_ci_low: float
    i2_ci_high: float
    h2: float
    h2_ci_low: float
    h2_ci_high: float
    vt: float
    level: float = CI_LEVEL
    type: str = "qp"
    ci_null: bool = False
    shared_covariance: bool = False
    outcome: str | None = None
    month: float | None = None
    measure: str | None = None
    dataset: str = ""
    simulated: bool = False

    def __repr__(self) -> str:
        return (
            f"ConfintResult(k={self.k}, tau2={self.tau2:.4g} [{self.tau2_ci_low:.4g}, {self.tau2_ci_high:.4g}], "
            f"I2={self.i2:.1f}% [{self.i2_ci_low:.1f}, {self.i2_ci_high:.1f}], type={self.type!r})"
        )

    def __str__(self) -> str:
        rows = [
            ("tau^2", self.tau2, self.tau2_ci_low, self.tau2_ci_high, 4),
            ("tau", self.tau, self.tau_ci_low, self.tau_ci_high, 4),
            ("I^2(%)", self.i2, self.i2_ci_low, self.i2_ci_high, 2),
            ("H^2", self.h2, self.h2_ci_low, self.h2_ci_high, 4),
        ]
        width = max(len(num(v, d)) for _, *vals, d in rows for v in vals)
        lines = heading(self) + [
            f"Heterogeneity: {100 * self.level:g}% Q-profile confidence intervals "
            f"(k = {self.k}; tau^2 estimator: {self.method.upper()})",
            "",
            f"{'':8}{'estimate':>{width + 2}}{'ci.lb':>{width + 2}}{'ci.ub':>{width + 2}}",
        ]
        for name, est, lo, hi, d in rows:
            lines.append(f"{name:8}" + "".join(f"{num(v, d):>{width + 2}}" for v in (est, lo, hi)))
        if self.ci_null:
            lines += ["", "The interval is the null set at tau^2 = 0: Q is below its lower critical value."]
        if self.shared_covariance:
            lines += ["", "Q profiled with the comparisons' shared-arm covariance (generalised Q)."]
        return "\n".join(lines) + "\n"

    def summary(self) -> pd.DataFrame:
        """Rows ``tau2``, ``tau``, ``i2``, ``h2`` in the shared layout (no SE)."""
        rows = [
            {
                "term": t,
                "estimate": getattr(self, t),
                "se": float("nan"),
                "lower": getattr(self, f"{t}_ci_low"),
                "upper": getattr(self, f"{t}_ci_high"),
                "level": self.level,
            }
            for t in TERMS
        ]
        return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"k": self.k, "method": self.method}
        for t in TERMS:
            out.update({t: getattr(self, t), f"{t}_ci_low": getattr(self, f"{t}_ci_low")})
            out[f"{t}_ci_high"] = getattr(self, f"{t}_ci_high")
        out.update(
            {
                "type": self.type,
                "level": self.level,
                "ci_null": self.ci_null,
                "vt": self.vt,
                "shared_covariance": self.shared_covariance,
            }
        )
        return out | context_dict(self)

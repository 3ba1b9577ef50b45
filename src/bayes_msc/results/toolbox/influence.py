"""Influence diagnostics and cumulative meta-analysis (metafor ``influence``, ``cumul``).

Made by :mod:`bayes_msc.frequentist.influence`. JSON row fields follow metafor's value names
with dots as underscores: ``rstudent``, ``dffits``, ``cook_d``, ``cov_r``, ``tau2_del``,
``qe_del``, ``hat``, ``weight`` (percent), ``dfbs``, ``inf`` (flagged influential), and the
Baujat coordinates ``baujat_x`` (contribution to Q: squared Pearson residual) and
``baujat_y`` (influence on the pooled estimate). Cumulative rows: ``estimate``, ``se``,
``zval``, ``pval``, ``ci_low``, ``ci_high``, ``q``, ``q_p``, ``tau2``, ``i2``, ``h2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.results.layout import CI_LEVEL, SUMMARY_COLUMNS
from bayes_msc.results.text import grid, num, pval
from bayes_msc.results.toolbox.text import context_dict, heading

INFLUENCE_FIELDS: tuple[str, ...] = (
    "rstudent",
    "dffits",
    "cook_d",
    "cov_r",
    "tau2_del",
    "qe_del",
    "hat",
    "weight",
    "dfbs",
)


@dataclass(frozen=True, eq=False)
class InfluenceResult:
    """Case-deletion diagnostics, one entry per comparison (arrays in ``labels`` order).

    ``estimate_del`` is the pooled estimate without each comparison; ``inf`` flags the
    influential ones by metafor's rule (see :mod:`bayes_msc.frequentist.influence`).
    """

    k: int
    method: str
    test: str
    labels: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    estimate: float
    tau2: float
    qe: float
    rstudent: np.ndarray
    dffits: np.ndarray
    cook_d: np.ndarray
    cov_r: np.ndarray
    tau2_del: np.ndarray
    qe_del: np.ndarray
    hat: np.ndarray
    weight: np.ndarray
    dfbs: np.ndarray
    inf: np.ndarray
    estimate_del: np.ndarray
    baujat_x: np.ndarray
    baujat_y: np.ndarray
    outcome: str | None = None
    month: float | None = None
    measure: str | None = None
    dataset: str = ""
    simulated: bool = False

    @property
    def influential(self) -> tuple[str, ...]:
        """Labels of the comparisons flagged influential."""
        return tuple(lab for lab, f in zip(self.labels, self.inf, strict=True) if f)

    def __repr__(self) -> str:
        return f"InfluenceResult(k={self.k}, method={self.method!r}, influential={list(self.influential)})"

    def __str__(self) -> str:
        rows = [
            [lab]
            + [num(getattr(self, f)[i]) for f in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del")]
            + [num(self.hat[i]), f"{self.weight[i]:.2f}", num(self.dfbs[i]), "*" if self.inf[i] else ""]
            for i, lab in enumerate(self.labels)
        ]
        header = ["comparison", "rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight"]
        lines = heading(self) + [
            f"Influence diagnostics (k = {self.k}; {self.method.upper()}; * = influential by metafor's rule)",
            "",
        ]
        lines += grid(header + ["dfbs", "inf"], rows)
        return "\n".join(lines) + "\n"

    def summary(self) -> pd.DataFrame:
        """One row per comparison: ``comparison``, the diagnostics, ``inf``, ``estimate_del``,
        ``baujat_x``, ``baujat_y``."""
        data: dict[str, Any] = {"comparison": list(self.labels)}
        for f in INFLUENCE_FIELDS:
            data[f] = getattr(self, f)
        data |= {"inf": self.inf, "estimate_del": self.estimate_del}
        data |= {"baujat_x": self.baujat_x, "baujat_y": self.baujat_y}
        return pd.DataFrame(data)

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for i, lab in enumerate(self.labels):
            row: dict[str, Any] = {"comparison": lab, "yi": float(self.yi[i]), "vi": float(self.vi[i])}
            row |= {f: float(getattr(self, f)[i]) for f in INFLUENCE_FIELDS}
            row |= {
                "inf": bool(self.inf[i]),
                "estimate_del": float(self.estimate_del[i]),
                "baujat_x": float(self.baujat_x[i]),
                "baujat_y": float(self.baujat_y[i]),
            }
            rows.append(row)
        out = {"k": self.k, "method": self.method, "test": self.test, "estimate": self.estimate}
        return out | {"tau2": self.tau2, "qe": self.qe, "rows": rows} | context_dict(self)


@dataclass(frozen=True)
class CumulativeRow:
    """The pooled result of the first ``k`` comparisons, the last one being ``added``."""

    added: str
    order_value: Any
    k: int
    estimate: float
    se: float
    zval: float
    pval: float
    ci_low: float
    ci_high: float
    q: float
    q_p: float
    tau2: float
    i2: float
    h2: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CumulativeResult:
    """Cumulative meta-analysis: one row per comparison added, in ``order``."""

    rows: tuple[CumulativeRow, ...]
    method: str
    test: str
    level: float = CI_LEVEL
    order: str = "year"
    decreasing: bool = False
    outcome: str | None = None
    month: float | None = None
    measure: str | None = None
    dataset: str = ""
    simulated: bool = False

    def __repr__(self) -> str:
        last = self.rows[-1]
        return f"CumulativeResult(k={last.k}, order={self.order!r}, final estimate={last.estimate:.4g})"

    def __str__(self) -> str:
        stat = "tval" if self.test == "t" else "zval"
        rows = [
            [
                r.added,
                str(r.order_value),
                num(r.estimate),
                num(r.se),
                num(r.zval),
                pval(r.pval),
                num(r.ci_low),
                num(r.ci_high),
                num(r.q),
                pval(r.q_p),
                num(r.tau2),
                f"{r.i2:.2f}",
            ]
            for r in self.rows
        ]
        by = self.order + (", decreasing" if self.decreasing else "")
        lines = heading(self) + [
            f"Cumulative meta-analysis (ordered by {by}; {self.method.upper()}; {100 * self.level:g}% CI)",
            "",
        ]
        header = ["added", self.order, "estimate", "se", stat, "pval", "ci.lb", "ci.ub", "Q", "Qp", "tau2", "I2 %"]
        return "\n".join(lines + grid(header, rows, left=1)) + "\n"

    def summary(self) -> pd.DataFrame:
        """One ``mu`` row per step in the shared layout, then ``added``, ``order_value``,
        ``k``, ``tau2``, ``i2``, ``h2``, ``q``, ``q_p``, ``z``, ``p``."""
        extra = ["added", "order_value", "k", "tau2", "i2", "h2", "q", "q_p", "z", "p"]
        data = [
            {
                "term": "mu",
                "estimate": r.estimate,
                "se": r.se,
                "lower": r.ci_low,
                "upper": r.ci_high,
                "level": self.level,
                "added": r.added,
                "order_value": r.order_value,
                "k": r.k,
                "tau2": r.tau2,
                "i2": r.i2,
                "h2": r.h2,
                "q": r.q,
                "q_p": r.q_p,
                "z": r.zval,
                "p": r.pval,
            }
            for r in self.rows
        ]
        return pd.DataFrame(data, columns=list(SUMMARY_COLUMNS) + extra)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "test": self.test,
            "level": self.level,
            "order": self.order,
            "decreasing": self.decreasing,
            "rows": [r.to_dict() for r in self.rows],
        } | context_dict(self)

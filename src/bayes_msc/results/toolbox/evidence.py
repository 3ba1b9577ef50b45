"""Bayes factors and posterior predictive p-values of a Bayesian fit (bayesmeta's
``bayesfactor`` and ``pppvalue`` habits).

Made by :mod:`bayes_msc.bayes.evidence`. ``BF01`` is the Bayes factor in favour of the
point hypothesis (``mu = 0`` or ``tau = 0``) against the fitted model, as bayesmeta reports
it; ``BF10 = 1 / BF01``. A Bayes factor depends on the prior of the tested parameter
(its density at the null value) far more than the posterior does: it is reported with the
prior set that made it, and comparing it across prior sets shows that dependence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.results.text import grid, num

HYPOTHESES: tuple[str, ...] = ("mu=0", "tau=0")


def _bf(x: float) -> str:
    if not math.isfinite(x):
        return "NA"
    return f"{x:.4g}" if 1e-3 <= x < 1e4 else f"{x:.3e}"


@dataclass(frozen=True)
class BayesFactors:
    """Bayes factors ``BF01`` for ``mu = 0`` and ``tau = 0``.

    Attributes
    ----------
    bf01 : dict
        ``{"mu=0": BF01, "tau=0": BF01}``; NaN where the prior does not permit one
        (``reasons`` says why).
    mcse : dict
        Monte Carlo standard error of each BF01 (0 for the exact engine).
    method : str
        ``"exact"`` (marginal likelihoods by the quadrature engine: bayesmeta's definition,
        ``p(y | H0) / p(y)``, which is the Savage-Dickey ratio ``p(0 | y) / p(0)``) or
        ``"savage-dickey-kde"`` (that ratio with the posterior density at 0 estimated by a
        Gaussian KDE of the MCMC draws, arviz-stats' bandwidth, reflected at tau = 0).
    prior_density : dict
        The prior density of each tested parameter at 0.
    """

    prior: str
    engine: str
    method: str
    k: int
    bf01: dict[str, float]
    mcse: dict[str, float]
    prior_density: dict[str, float]
    reasons: dict[str, str]
    outcome: str | None = None
    month: float | None = None
    measure: str | None = None
    dataset: str | None = None
    simulated: bool = False

    def bf10(self, hypothesis: str) -> float:
        """The Bayes factor against ``hypothesis`` (``"mu=0"`` or ``"tau=0"``)."""
        x = self.bf01[hypothesis]
        return 1 / x if x > 0 else math.inf

    def __repr__(self) -> str:
        vals = ", ".join(f"BF01[{h}]={_bf(self.bf01[h])}" for h in HYPOTHESES)
        return f"BayesFactors(prior={self.prior!r}, engine={self.engine!r}, {vals})"

    def __str__(self) -> str:
        lines = []
        if self.simulated:
            lines += [f"*** SIMULATED DATA (dataset {self.dataset}) ***", ""]
        lines += [f"Bayes factors (prior set {self.prior!r}; {self.engine} engine, {self.method}; k = {self.k})", ""]
        rows = [
            [
                h,
                _bf(self.bf01[h]),
                _bf(self.bf10(h)) if math.isfinite(self.bf01[h]) else "NA",
                num(self.mcse[h], 4) if self.method != "exact" else "exact",
                num(self.prior_density[h], 6),
            ]
            for h in HYPOTHESES
        ]
        lines += grid(["hypothesis", "BF01", "BF10", "MCSE(BF01)", "prior density at 0"], rows)
        for h, why in self.reasons.items():
            lines.append(f"{h}: not available: {why}")
        lines += [
            "",
            "BF01 > 1 favours the hypothesis, < 1 the model with the parameter free. Bayes factors "
            "depend on the prior of the tested parameter (its density at 0): compare them across prior sets.",
        ]
        return "\n".join(lines) + "\n"

    def summary(self) -> pd.DataFrame:
        """One row per hypothesis: ``hypothesis, bf01, bf10, mcse, prior_density``."""
        return pd.DataFrame(
            [
                {
                    "hypothesis": h,
                    "bf01": self.bf01[h],
                    "bf10": self.bf10(h) if math.isfinite(self.bf01[h]) else float("nan"),
                    "mcse": self.mcse[h],
                    "prior_density": self.prior_density[h],
                }
                for h in HYPOTHESES
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "prior": self.prior,
            "engine": self.engine,
            "method": self.method,
            "k": self.k,
            "bayes_factors": {
                h: {
                    "bf01": self.bf01[h],
                    "bf10": self.bf10(h) if math.isfinite(self.bf01[h]) else None,
                    "mcse": self.mcse[h],
                    "prior_density": self.prior_density[h],
                    "reason": self.reasons.get(h),
                }
                for h in HYPOTHESES
            },
            "outcome": self.outcome,
            "month": self.month,
            "measure": self.measure,
            "dataset": self.dataset,
            "simulated": self.simulated,
        }


@dataclass(frozen=True, eq=False)
class PredictiveCheck:
    """Posterior predictive p-value of each comparison: ``pppvalue = 2 min(F, 1 - F)`` with
    ``F = P(y_rep <= y | data)``, y_rep a replicate of the comparison's observed effect drawn
    from the posterior predictive distribution (its random effect from the posterior, plus
    sampling error). Small values flag a comparison the model fits poorly; the check uses the
    data twice, so it is conservative (Gelman, Meng and Stern 1996)."""

    prior: str
    engine: str
    labels: tuple[str, ...]
    yi: np.ndarray
    p_lower: np.ndarray
    pppvalue: np.ndarray
    outcome: str | None = None
    month: float | None = None
    dataset: str | None = None
    simulated: bool = False

    def __repr__(self) -> str:
        return f"PredictiveCheck(k={len(self.labels)}, min pppvalue={float(np.min(self.pppvalue)):.3g})"

    def __str__(self) -> str:
        lines = [f"*** SIMULATED DATA (dataset {self.dataset}) ***", ""] if self.simulated else []
        lines += [f"Posterior predictive p-values (two-sided; prior set {self.prior!r}; {self.engine} engine)", ""]
        lines += grid(
            ["comparison", "yi", "P(y_rep <= yi)", "pppvalue"],
            [
                [lab, num(y), num(f), num(p)]
                for lab, y, f, p in zip(self.labels, self.yi, self.p_lower, self.pppvalue, strict=True)
            ],
        )
        return "\n".join(lines) + "\n"

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"comparison": list(self.labels), "yi": self.yi, "p_lower": self.p_lower, "pppvalue": self.pppvalue}
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "prior": self.prior,
            "engine": self.engine,
            "studies": [
                {"comparison": lab, "yi": float(y), "p_lower": float(f), "pppvalue": float(p)}
                for lab, y, f, p in zip(self.labels, self.yi, self.p_lower, self.pppvalue, strict=True)
            ],
            "outcome": self.outcome,
            "month": self.month,
            "dataset": self.dataset,
            "simulated": self.simulated,
        }

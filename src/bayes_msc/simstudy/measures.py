"""Performance measures of a method over a design's replications, with Monte Carlo SEs.

Morris, White & Crowther 2019 (Stat Med 38:2074-2102, Table 6), over the n replications
in which the method gave an estimate (theta the true mu, hat-theta_i the estimates):

- bias = mean(hat-theta) - theta; MCSE = sqrt(sum (hat-theta_i - mean)^2 / (n (n - 1)))
- empirical SE = sqrt(sum (hat-theta_i - mean)^2 / (n - 1)); MCSE = empSE / sqrt(2 (n - 1))
- MSE = mean((hat-theta_i - theta)^2); MCSE = sqrt(sum ((hat-theta_i - theta)^2 - MSE)^2 / (n (n - 1)));
  RMSE = sqrt(MSE) with MCSE(MSE) / (2 RMSE) (delta method)
- coverage = the share of intervals holding theta; power = the share of replications
  rejecting mu = 0 (the type I error rate when theta = 0); each with MCSE sqrt(p (1 - p) / n)
- width = mean(upper - lower); MCSE = SD(width) / sqrt(n)

An MCSE needs n >= 2 (NaN otherwise); every measure is NaN when n = 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MEASURES = ("coverage", "bias", "rmse", "width", "power", "empirical_se")
"""Each measure; the summary has ``<measure>`` and ``<measure>_mcse`` columns."""


def _proportion(hits: np.ndarray) -> tuple[float, float]:
    n = hits.size
    if n == 0:
        return math.nan, math.nan
    p = float(hits.mean())
    return p, math.sqrt(p * (1 - p) / n) if n > 1 else math.nan


def performance(estimate: Any, low: Any, high: Any, reject: Any, truth: float) -> dict[str, float]:
    """Every measure of :data:`MEASURES` and its MCSE, from one method's replications in one
    design (rows without an estimate already left out).

    Parameters
    ----------
    estimate, low, high : array_like
        Estimates of mu and the interval ends, one per replication.
    reject : array_like of bool
        Whether each replication rejected mu = 0.
    truth : float
        The true mu.
    """
    est = np.asarray(estimate, dtype=float)
    lo, hi = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    n = est.size
    out: dict[str, float] = {}
    out["coverage"], out["coverage_mcse"] = _proportion((lo <= truth) & (truth <= hi))
    out["power"], out["power_mcse"] = _proportion(np.asarray(reject, dtype=bool))
    if n == 0:
        for m in ("bias", "rmse", "width", "empirical_se"):
            out[m] = out[f"{m}_mcse"] = math.nan
        return out
    mean = est.mean()
    dev2 = float(np.sum((est - mean) ** 2))
    err2 = (est - truth) ** 2
    mse = float(err2.mean())
    width = hi - lo
    many = n > 1
    out["bias"] = float(mean - truth)
    out["bias_mcse"] = math.sqrt(dev2 / (n * (n - 1))) if many else math.nan
    out["rmse"] = math.sqrt(mse)
    mse_mcse = math.sqrt(float(np.sum((err2 - mse) ** 2)) / (n * (n - 1))) if many else math.nan
    out["rmse_mcse"] = mse_mcse / (2 * out["rmse"]) if out["rmse"] > 0 else math.nan
    out["width"] = float(width.mean())
    out["width_mcse"] = float(width.std(ddof=1)) / math.sqrt(n) if many else math.nan
    emp = math.sqrt(dev2 / (n - 1)) if many else math.nan
    out["empirical_se"] = emp
    out["empirical_se_mcse"] = emp / math.sqrt(2 * (n - 1)) if many else math.nan
    return out


def summary_table(study: Any, rows: Any) -> Any:
    """One row per design x method of ``study`` (in the study's order) from the
    replications' ``rows`` (the chunks' columns); see
    :meth:`~bayes_msc.simstudy.result.SimulationStudyResult.summary` for the columns."""
    import pandas as pd

    out = []
    groups = dict(iter(rows.groupby(["design", "method"], sort=False)))
    for d in study.designs:
        for m in study.methods:
            sel = groups.get((d.name, m.name), rows.iloc[:0])
            ok = sel[sel["error"] == ""]
            perf = performance(ok["estimate"], ok["ci_low"], ok["ci_high"], ok["reject"], d.mu)
            out.append(
                {
                    "design": d.name,
                    "method": m.name,
                    "kind": m.kind,
                    "k": d.k,
                    "mu": d.mu,
                    "tau": d.tau,
                    "n_reps": len(ok),
                    "n_failed": len(sel) - len(ok),
                    "n_unconverged": int((~ok["converged"]).sum()),
                    "k_mean": float(ok["k"].mean()) if len(ok) else math.nan,
                    **{f"{name}{tail}": perf[f"{name}{tail}"] for name in MEASURES for tail in ("", "_mcse")},
                }
            )
    return pd.DataFrame(out)

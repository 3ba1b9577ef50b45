"""Influence and robustness, as metafor 3.8: ``influence(rma)`` (case-deletion diagnostics,
with the Baujat plot's coordinates) and ``cumul(rma)`` (cumulative meta-analysis).

Both refit the pooled model on subsets with the same tau^2 estimator and test (Knapp-Hartung
when the pooled result used it), for independent comparisons only (metafor's ``rma.uni``).
The influence measures and the rule flagging an influential comparison are metafor's
(Viechtbauer and Cheung 2010, Res Synth Methods 1:112): a comparison is flagged when
|DFFITS| > 3 sqrt(p / (k - p)), or P(chi2_1 <= Cook's distance) > 0.5, or its hat value
exceeds 3 p / k, or |DFBETAS| > 1 (p = 1 here: pooling has one coefficient).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bayes_msc.errors import InputError, Problem
from bayes_msc.frequentist.gls import GlsFit, fit_gls
from bayes_msc.frequentist.rma import rma
from bayes_msc.results.frequentist import PoolResult
from bayes_msc.results.toolbox.influence import CumulativeResult, CumulativeRow, InfluenceResult


def _context(res: PoolResult) -> dict[str, Any]:
    return {
        "outcome": res.outcome,
        "month": res.month,
        "measure": res.measure,
        "dataset": res.dataset,
        "simulated": res.simulated,
    }


def _fit(res: PoolResult, keep: np.ndarray) -> GlsFit:
    """The pooled model refitted on the comparisons ``keep``."""
    y, v = res.yi[keep], res.vi[keep]
    return fit_gls(y, np.diag(v), np.ones((len(y), 1)), res.method, res.hksj, res.hksj_truncate, res.level)


def influence(x: Any, method: str = "dl", hksj: bool = False) -> InfluenceResult:
    """Case-deletion diagnostics of a pooled model (metafor ``influence``), one row per
    comparison: externally standardised residual (``rstudent``), DFFITS, Cook's distance,
    covariance ratio, tau^2 and Q without it, hat value, weight (percent), DFBETAS, the
    influential flag, and the Baujat plot's coordinates.

    Parameters
    ----------
    x : PoolResult or EffectTable
        A pooled result, or an effect table pooled with ``method`` (and Knapp-Hartung when
        ``hksj``) first.
    """
    from scipy import stats

    from bayes_msc.frequentist.pooling import pooled, require_independent

    res, V, _ = pooled(x, method=method, hksj=hksj)
    require_independent(res, V, "influence")
    k = res.k
    if k < 3:
        raise InputError(Problem(f"influence diagnostics need k >= 3 comparisons (k = {k})", argument="x"))
    y, v = res.yi, res.vi
    full = _fit(res, np.ones(k, dtype=bool))
    beta, vb = float(full.beta[0]), float(full.vb[0, 0])
    w = 1 / (v + full.tau2)
    hat = w / w.sum()
    cols: dict[str, list[float]] = {
        name: []
        for name in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "dfbs", "baujat_y", "beta_del")
    }
    for i in range(k):
        keep = np.arange(k) != i
        d = _fit(res, keep)
        b_del, vb_del = float(d.beta[0]), float(d.vb[0, 0])
        # the Knapp-Hartung factor of the deleted fit (1 for z tests)
        s2w = vb_del * float(np.sum(1 / (v[keep] + d.tau2)))
        resid = y[i] - b_del
        resid = 0.0 if abs(resid) < 100 * np.finfo(float).eps else resid
        cols["rstudent"].append(resid / np.sqrt(v[i] * s2w + vb_del + d.tau2 * s2w))
        cols["dffits"].append((beta - b_del) / np.sqrt(s2w * hat[i] * (d.tau2 + v[i])))
        vb_all = 1 / float(np.sum(1 / (v + d.tau2)))  # deleted tau^2, every comparison
        cols["dfbs"].append((beta - b_del) / np.sqrt(s2w * vb_all))
        cols["cook_d"].append((beta - b_del) ** 2 / vb)
        cols["cov_r"].append(vb_del / vb)
        cols["tau2_del"].append(d.tau2)
        cols["qe_del"].append(d.qe)
        cols["baujat_y"].append((b_del - beta) ** 2 / vb_del)
        cols["beta_del"].append(b_del)
    arr = {key: np.asarray(val, float) for key, val in cols.items()}
    p = 1
    flagged = (
        (np.abs(arr["dffits"]) > 3 * np.sqrt(p / (k - p)))
        | (stats.chi2.cdf(arr["cook_d"], p) > 0.5)
        | (hat > 3 * p / k)
        | (np.abs(arr["dfbs"]) > 1)
    )
    return InfluenceResult(
        k=k,
        method=res.method,
        test=res.test,
        labels=res.labels,
        yi=y,
        vi=v,
        estimate=beta,
        tau2=full.tau2,
        qe=full.qe,
        rstudent=arr["rstudent"],
        dffits=arr["dffits"],
        cook_d=arr["cook_d"],
        cov_r=arr["cov_r"],
        tau2_del=arr["tau2_del"],
        qe_del=arr["qe_del"],
        hat=hat,
        weight=100 * hat,
        dfbs=arr["dfbs"],
        inf=flagged,
        estimate_del=arr["beta_del"],
        baujat_x=(y - beta) ** 2 / (full.tau2 + v),
        baujat_y=arr["baujat_y"],
        **_context(res),
    )


def _order_values(table: Any, res: PoolResult, order: str | Sequence[Any] | None) -> tuple[np.ndarray, str]:
    """The values to order the comparisons by, and what they are called."""
    if order is None:
        return np.arange(1, res.k + 1), "table order"
    if isinstance(order, str):
        if table is None:
            raise InputError(
                Problem("ordering by a column needs the effect table, not a pooled result", argument="order")
            )
        if order not in table.data.columns:
            cols = [c for c in table.data.columns if c not in ("yi", "vi")]
            raise InputError(Problem(f"no column {order!r} to order by; columns: {', '.join(cols)}", argument="order"))
        values = table.data[order].to_numpy()
        if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in values):
            raise InputError(Problem(f"column {order!r} has missing values: cannot order by it", argument="order"))
        return values, order
    values = np.asarray(list(order))
    if len(values) != res.k:
        raise InputError(Problem(f"order has {len(values)} values for {res.k} comparisons", argument="order"))
    return values, "given order"


def cumulative(
    x: Any,
    order: str | Sequence[Any] | None = "year",
    method: str = "dl",
    hksj: bool = False,
    decreasing: bool = False,
) -> CumulativeResult:
    """Cumulative meta-analysis (metafor ``cumul``): the pooled model refitted on the first
    1, 2, ..., k comparisons, ordered by ``order``.

    Parameters
    ----------
    x : PoolResult or EffectTable
        A pooled result, or an effect table pooled with ``method`` (and Knapp-Hartung when
        ``hksj``) first.
    order : str, sequence or None
        A column of the effect table (``year`` by default; needs a table), one value per
        comparison, or None for the table's order. Ties keep the table's order.
    decreasing : bool
        Order from the largest value.
    """
    from bayes_msc.frequentist.pooling import pooled, require_independent

    res, V, table = pooled(x, method=method, hksj=hksj)
    require_independent(res, V, "cumulative")
    values, by = _order_values(table, res, order)
    rank = _rank(values)
    # R's order(): ties keep the table's order, increasing or decreasing
    key = np.asarray(sorted(range(res.k), key=lambda i: (-rank[i] if decreasing else rank[i], i)))
    rows = []
    for i in range(1, res.k + 1):
        idx = key[:i]
        method_i = res.method if i > 1 else "fe"  # one comparison: no tau^2 (metafor: 0)
        r = rma(
            res.yi[idx],
            res.vi[idx],
            method=method_i,
            hksj=res.hksj and i > 1,
            level=res.level,
            hksj_truncate=res.hksj_truncate,
        )
        rows.append(
            CumulativeRow(
                added=res.labels[idx[-1]],
                order_value=_plain(values[idx[-1]]),
                k=i,
                estimate=r.estimate,
                se=r.se,
                zval=r.z,
                pval=r.p,
                ci_low=r.ci_low,
                ci_high=r.ci_high,
                q=r.q,
                q_p=r.q_p,
                tau2=r.tau2,
                i2=r.i2,
                h2=r.h2,
            )
        )
    return CumulativeResult(
        rows=tuple(rows),
        method=res.method,
        test=res.test,
        level=res.level,
        order=by,
        decreasing=decreasing,
        **_context(res),
    )


def _rank(values: np.ndarray) -> np.ndarray:
    """Dense ranks of ``values`` (any sortable type)."""
    uniq = sorted(set(values.tolist()))
    pos = {u: j for j, u in enumerate(uniq)}
    return np.array([pos[u] for u in values.tolist()])


def _plain(value: Any) -> Any:
    """A JSON-friendly order value: numpy scalars to Python, whole floats (years read as
    floats because a column has gaps elsewhere) to int."""
    value = value.item() if hasattr(value, "item") else value
    return int(value) if isinstance(value, float) and value.is_integer() else value

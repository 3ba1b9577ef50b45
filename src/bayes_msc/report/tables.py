"""The report's tables, built once as DataFrames: written as CSV and rendered as HTML.

Each function reads :class:`~bayes_msc.workflow.results.RunResults` and
returns a DataFrame whose values are numbers or text only (no objects), in a fixed row
order (the plan's order), so that the CSV files are the same for the same run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayes_msc.data.reader import cell_summary
from bayes_msc.workflow.results import RunResults


def _nan(x) -> float:
    return float("nan") if x is None else float(x)


def data_summary(res: RunResults) -> pd.DataFrame:
    """Every outcome x month of the dataset: who gives data, who declares it missing, and
    whether this run analyses it."""
    table = cell_summary(res.dataset)
    analysed = {(c.outcome, c.month) for c in res.plan.cells}
    table["analysed"] = [
        "yes" if (o, m) in analysed else "no" for o, m in zip(table["outcome"], table["month"], strict=False)
    ]
    k = {(c.outcome, c.month): c.effects.k for c in res.plan.cells}
    table["k"] = [k.get((o, m), 0) for o, m in zip(table["outcome"], table["month"], strict=False)]
    return table


def skipped(res: RunResults) -> pd.DataFrame:
    """What the spec asked for that the data do not allow, with the reason."""
    return pd.DataFrame(
        [{"outcome": s.outcome, "month": _nan(s.month), "what": s.what, "reason": s.reason} for s in res.plan.skipped],
        columns=["outcome", "month", "what", "reason"],
    )


def frequentist(res: RunResults) -> pd.DataFrame:
    """One row per cell: the pooled result under the spec's method (the paper's rule by
    default, with the method it chose and why), with the Q-profile intervals of tau^2 and
    I^2 where the spec asks (``frequentist.confint``, on by default)."""
    from bayes_msc.report.toolbox import heterogeneity_columns

    rows = []
    for cr in res.cells:
        p = cr.pool
        rows.append(
            {
                "outcome": cr.cell.outcome,
                "month": cr.cell.month,
                "k": p.k,
                "method": p.method,
                "estimate": p.estimate,
                "ci_low": p.ci_low,
                "ci_high": p.ci_high,
                "p": p.p,
                "tau2": p.tau2,
                "i2": p.i2,
                **heterogeneity_columns(cr),  # Q-profile intervals (issue 15)
                "q": p.q,
                "q_p": p.q_p,
                "pi_low": p.pi_low,
                "pi_high": p.pi_high,
                "why": p.why or "",
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "outcome",
            "month",
            "k",
            "method",
            "estimate",
            "ci_low",
            "ci_high",
            "p",
            "tau2",
            "i2",
            "tau2_ci_low",
            "tau2_ci_high",
            "i2_ci_low",
            "i2_ci_high",
            "q",
            "q_p",
            "pi_low",
            "pi_high",
            "why",
        ],
    )


def effects(res: RunResults) -> pd.DataFrame:
    """The effect-size rows of every analysed cell (metafor's ``yi``/``vi``)."""
    frames = [c.effects.to_frame() for c in res.plan.cells]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def leave_one_out(res: RunResults) -> pd.DataFrame:
    """Leave-one-out rows of every cell that has them."""
    frames = []
    for cr in res.cells:
        if cr.loo is not None:
            s = cr.loo.summary()
            s.insert(0, "month", cr.cell.month)
            s.insert(0, "outcome", cr.cell.outcome)
            frames.append(s)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def metareg(res: RunResults) -> pd.DataFrame:
    """Frequentist meta-regression coefficients, one row per cell x model x term."""
    rows = []
    for cr in res.cells:
        for m in cr.metaregs:
            for c in m.coefficients:
                rows.append(
                    {
                        "outcome": cr.cell.outcome,
                        "month": cr.cell.month,
                        "covariates": ", ".join(m.names),
                        "k": m.k,
                        "method": m.method,
                        "term": c.name,
                        "estimate": c.estimate,
                        "se": c.se,
                        "ci_low": c.ci_low,
                        "ci_high": c.ci_high,
                        "p": c.p,
                        "tau2": m.tau2,
                        "r2": m.r2,
                        "qm_p": m.qm_p,
                    }
                )
    return pd.DataFrame(
        rows,
        columns=[
            "outcome",
            "month",
            "covariates",
            "k",
            "method",
            "term",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "p",
            "tau2",
            "r2",
            "qm_p",
        ],
    )


def mcid_label(mcid: float | None) -> str:
    """``P(mu < -19.9)`` for a negative (lower is better) MCID, ``P(mu > 9)`` otherwise."""
    if mcid is None:
        return "P(MCID)"
    return f"P(mu < {mcid:g})" if mcid < 0 else f"P(mu > {mcid:g})"


BAYES_COLUMNS = [
    "outcome",
    "month",
    "model",
    "covariates",
    "mu_at",
    "prior",
    "engine",
    "k",
    "mu",
    "mu_low",
    "mu_high",
    "tau",
    "tau_low",
    "tau_high",
    "new_low",
    "new_high",
    "p_mu_below_0",
    "mcid",
    "p_mcid",
    "verdict",
    "warnings",
]


def bayes(res: RunResults) -> pd.DataFrame:
    """One row per Bayesian fit: mu (mean, interval; in a covariate model at the reference
    values in ``mu_at``), tau (median, interval), the prediction for a new study, P(mu < 0),
    P(MCID), the diagnostics verdict and its warnings (a prior bound that cuts the
    posterior off)."""
    rows = []
    for rec in res.fits:
        t, r = rec.task, rec.result
        mu = "mu"
        rows.append(
            {
                "outcome": t.outcome,
                "month": t.month,
                "model": t.model,
                "covariates": ", ".join(t.covariates),
                "mu_at": ", ".join(f"{k} = {v:.4g}" for k, v in r.covariate_at.items()),
                "prior": t.prior,
                "engine": r.engine,
                "k": r.k,
                "mu": rec.result.value(mu, "mean"),
                "mu_low": rec.result.value(mu, "eti_low"),
                "mu_high": rec.result.value(mu, "eti_high"),
                "tau": rec.result.value("tau", "median"),
                "tau_low": rec.result.value("tau", "eti_low"),
                "tau_high": rec.result.value("tau", "eti_high"),
                "new_low": rec.result.value("theta_new", "eti_low"),
                "new_high": rec.result.value("theta_new", "eti_high"),
                "p_mu_below_0": _nan(r.probabilities.get(f"P({mu} < 0)")),
                "mcid": _nan(res.spec.mcid.get(t.outcome)),
                "p_mcid": _nan(rec.mcid_probability),
                "verdict": str(r.verdict),
                "warnings": "; ".join(r.verdict.warnings),
            }
        )
    return pd.DataFrame(rows, columns=BAYES_COLUMNS)


def slopes(res: RunResults) -> pd.DataFrame:
    """Posterior slopes of the Bayesian covariate models (per unit of each term)."""
    rows = []
    for rec in res.fits:
        for term in rec.task.covariates:
            rows.append(
                {
                    "outcome": rec.task.outcome,
                    "month": rec.task.month,
                    "covariates": ", ".join(rec.task.covariates),
                    "prior": rec.task.prior,
                    "term": term,
                    "mean": rec.result.value(term, "mean"),
                    "eti_low": rec.result.value(term, "eti_low"),
                    "eti_high": rec.result.value(term, "eti_high"),
                    "verdict": str(rec.result.verdict),
                }
            )
    return pd.DataFrame(
        rows, columns=["outcome", "month", "covariates", "prior", "term", "mean", "eti_low", "eti_high", "verdict"]
    )


def diagnostics(res: RunResults) -> pd.DataFrame:
    """Every fit's sampler settings and convergence diagnostics."""
    rows = []
    for rec in res.fits:
        r, v = rec.result, rec.result.verdict
        rows.append(
            {
                "outcome": rec.task.outcome,
                "month": rec.task.month,
                "model": rec.task.model,
                "covariates": ", ".join(rec.task.covariates),
                "prior": rec.task.prior,
                "engine": r.engine,
                "parameterisation": r.parameterisation or "",
                "draws": _nan(r.draws),
                "chains": _nan(r.chains),
                "max_r_hat": _nan(v.max_r_hat),
                "min_ess_bulk": _nan(v.min_ess_bulk),
                "divergences": _nan(v.divergences),
                "verdict": str(v),
                "posterior": rec.posterior or "",
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "outcome",
            "month",
            "model",
            "covariates",
            "prior",
            "engine",
            "parameterisation",
            "draws",
            "chains",
            "max_r_hat",
            "min_ess_bulk",
            "divergences",
            "verdict",
            "posterior",
        ],
    )


def row_classes(frame: pd.DataFrame) -> list[str]:
    """``"fail"`` for rows whose verdict failed (painted red in the report)."""
    if "verdict" not in frame.columns:
        return [""] * len(frame)
    return ["fail" if str(v).startswith("FAIL") else "" for v in frame["verdict"]]


def finite(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Drop columns that are empty (all NaN) in this frame, keeping the others' order."""
    keep = [
        c
        for c in frame.columns
        if c not in columns
        or not (pd.api.types.is_numeric_dtype(frame[c]) and np.all(np.isnan(frame[c].to_numpy(dtype=float))))
    ]
    return frame[keep]


def for_page(
    frame: pd.DataFrame, intervals: dict[str, tuple[str, str, str]] | None = None, drop_empty: bool = True
) -> pd.DataFrame:
    """A table as the page shows it (the CSV keeps every column): each interval
    ``name: (estimate, low, high)`` as one text column ``"est [low, high]"`` in the
    estimate's place (``"[low, high]"`` when the estimate is ``""``), and, with ``drop_empty``, no column that is empty in every row (NaN,
    empty text) or that counts zero in every row with its list empty (``n_missing`` with an
    empty ``missing``)."""

    out = frame.copy()
    for name, (est, lo, hi) in (intervals or {}).items():
        first = est or lo
        ests = out[est] if est else [0.0] * len(out)
        text = [_interval_text(e, a, b, bool(est)) for e, a, b in zip(ests, out[lo], out[hi], strict=True)]
        at = list(out.columns).index(first)
        out = out.drop(columns=[c for c in (est, lo, hi) if c])
        out.insert(at, name, text)
    if not drop_empty:
        return out
    empty = [c for c in out.columns if _empty(out[c])]
    counts = [c for c in out.columns if c.startswith("n_") and c[2:] in empty and not np.any(out[c].to_numpy(float))]
    return out.drop(columns=empty + counts)


def _interval_text(est: float, low: float, high: float, with_estimate: bool) -> str:
    """``"est [low, high]"`` (the interval never broken across lines); the estimate alone
    when it has no interval; a dash when there is nothing."""
    from bayes_msc.report.html import fmt

    has_est, has_ci = np.isfinite(float(est)), np.isfinite(float(low)) and np.isfinite(float(high))
    if not has_est or (not has_ci and not with_estimate):
        return "\u2013"
    if not has_ci:
        return fmt(est)
    return (f"{fmt(est)} " if with_estimate else "") + f"[{fmt(low)},\u00a0{fmt(high)}]"


def _empty(column: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(column):
        return bool(np.all(np.isnan(column.to_numpy(dtype=float))))
    return all(v is None or (isinstance(v, float) and np.isnan(v)) or str(v) == "" for v in column)

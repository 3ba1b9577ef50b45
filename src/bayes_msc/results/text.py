"""The printed form of the frequentist results (``print(result)``, ``str(result)``), as
metafor prints its fits, and the number and table helpers every result's text shares.

``bayes-msc pool`` and ``bayes-msc metareg`` print exactly ``str(result)``; the Bayesian
texts are in :mod:`bayes_msc.results.bayes_text`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from bayes_msc.results.frequentist import LeaveOneOutResult, PoolResult
    from bayes_msc.results.metareg import MetaRegResult


def num(x: Any, digits: int = 4) -> str:
    """metafor-style number: fixed decimals, ``NA`` for a missing value."""
    if x is None or not math.isfinite(float(x)):
        return "NA"
    return f"{float(x):.{digits}f}"


def short(x: Any, digits: int = 4) -> str:
    """A number in a repr: ``digits`` significant digits, ``NA`` for a missing value."""
    if x is None or not math.isfinite(float(x)):
        return "NA"
    return f"{float(x):.{digits}g}"


def fmt(x: Any, digits: int = 4) -> str:
    """A number for a Bayesian table: ``digits`` decimals (significant digits from 1e4 up),
    ``NA`` when missing; text as it is."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "NA"
    if isinstance(x, str):
        return x
    return f"{float(x):.{digits}g}" if abs(float(x)) >= 1e4 else f"{float(x):.{digits}f}"


def pval(p: Any) -> str:
    """metafor-style p-value: ``<.0001`` below 1e-4."""
    if p is None or not math.isfinite(float(p)):
        return "NA"
    return "<.0001" if p < 1e-4 else f"{p:.4f}"


def p_eq(p: Any) -> str:
    """``p-val = 0.0123`` or ``p-val < .0001`` (metafor's wording)."""
    text = pval(p)
    return f"p-val {text[0]} {text[1:]}" if text.startswith("<") else f"p-val = {text}"


def grid(header: Sequence[Any], rows: Sequence[Sequence[Any]], left: int = 1) -> list[str]:
    """Right-aligned columns (the first ``left`` left-aligned) separated by two spaces."""
    table = [list(header), *[list(r) for r in rows]]
    widths = [max(len(str(r[j])) for r in table) for j in range(len(header))]
    out = []
    for r in table:
        cells = [
            str(c).ljust(w) if j < left else str(c).rjust(w) for j, (c, w) in enumerate(zip(r, widths, strict=False))
        ]
        out.append("  ".join(cells).rstrip())
    return out


def banner(simulated: bool, dataset: str | None) -> list[str]:
    """The SIMULATED DATA line (and a blank line) of a simulated dataset's text."""
    return [f"*** SIMULATED DATA (dataset {dataset}) ***", ""] if simulated else []


def notes_block(notes: Any, title: str = "Notes") -> list[str]:
    """``Notes:`` and one indented line per note (nothing without notes)."""
    notes = list(dict.fromkeys(notes))
    return ["", f"{title}:"] + [f"  - {n}" for n in notes] if notes else []


def _heading(res: Any) -> list[str]:
    """Simulated-data mark, dataset/outcome line and the paper's rule, if any."""
    lines = banner(res.simulated, res.dataset)
    if res.outcome is not None:
        month = f"{res.month:g}" if res.month is not None else "?"
        lines.append(
            f"Dataset: {res.dataset}; outcome: {res.outcome}, month {month}; measure: "
            f"{(res.measure or '').upper()}; multi-arm trials: {res.multiarm}"
            + ("; shared-arm covariance used" if res.shared_covariance else "")
        )
    if res.chosen_by == "paper":
        lines.append(f"Method chosen by the paper's rule (Qu & Sun 2021): {res.why}")
    return lines + ([""] if lines else [])


def _heterogeneity(res: Any, residual: bool = False) -> list[str]:
    """metafor's tau^2 / tau / I^2 / H^2 block (nothing for a fixed-effect model's tau)."""
    what = "residual" if residual else "total"
    lines = []
    if res.method != "fe":
        lines += [
            f"tau^2 (estimated amount of {what} heterogeneity): {num(res.tau2)} (SE = {num(res.se_tau2)})",
            f"tau (square root of estimated tau^2 value): {num(res.tau)}",
        ]
    i2_what = (
        "residual heterogeneity / unaccounted variability" if residual else "total heterogeneity / total variability"
    )
    lines += [
        f"I^2 ({i2_what}): {res.i2:.2f}%",
        f"H^2 ({'unaccounted' if residual else 'total'} variability / sampling variability): {res.h2:.2f}",
    ]
    return lines


def _test_name(res: Any) -> str:
    if res.test != "t":
        return "z test"
    return f"Knapp-Hartung t test, df = {res.df:g}" + (", scale factor truncated at 1" if res.hksj_truncate else "")


def _tail(res: Any) -> list[str]:
    """Estimation notes and the comparisons that could not enter."""
    return notes_block(res.notes) + notes_block(res.excluded, "Not included")


def pool_text(res: PoolResult) -> str:
    """A readable, metafor-like print of a :class:`PoolResult`."""
    model = "Fixed-effect model" if res.method == "fe" else "Random-effects model"
    est = f"; tau^2 estimator: {res.method.upper()}" if res.method != "fe" else ""
    lines = (
        _heading(res)
        + [f"{model} (k = {res.k}{est})", ""]
        + _heterogeneity(res)
        + ["", "Test for heterogeneity:", f"Q(df = {res.q_df}) = {num(res.q)}, {p_eq(res.q_p)}", ""]
    )
    stat = "tval" if res.test == "t" else "zval"
    lines += [f"Model results ({_test_name(res)}; {100 * res.level:g}% CI):", ""]
    lines += grid(
        ["estimate", "se", stat, "pval", "ci.lb", "ci.ub"],
        [[num(res.estimate), num(res.se), num(res.z), pval(res.p), num(res.ci_low), num(res.ci_high)]],
        left=0,
    )
    if res.method != "fe":
        kind = f"t, df = {res.pi_df:g}" if math.isfinite(res.pi_df) else "normal quantile"
        lines += ["", f"{100 * res.level:g}% prediction interval: [{num(res.pi_low)}, {num(res.pi_high)}] ({kind})"]
    lines += ["", "Comparisons:"]
    lines += grid(
        ["comparison", "yi", "se", "weight %"],
        [
            [lab, num(y), num(np.sqrt(v)), f"{w:.2f}"]
            for lab, y, v, w in zip(res.labels, res.yi, res.vi, res.weights, strict=False)
        ],
    )
    return "\n".join(lines + _tail(res)) + "\n"


def loo_text(loo: LeaveOneOutResult) -> str:
    """The leave-one-out table of a :class:`LeaveOneOutResult`."""
    rule = "the paper's rule" if loo.method == "paper" else loo.method.upper()
    stat = "tval" if loo.test == "t" else "zval"
    lines = [f"Leave-one-out ({rule}; {stat}; {100 * loo.level:g}% CI):"]
    lines += grid(
        ["left out", "method", "estimate", "se", "pval", "ci.lb", "ci.ub", "tau2", "I2 %", "Q", "Q pval"],
        [
            [
                r.left_out,
                r.method,
                num(r.estimate),
                num(r.se),
                pval(r.p),
                num(r.ci_low),
                num(r.ci_high),
                num(r.tau2),
                f"{r.i2:.2f}",
                num(r.q),
                pval(r.q_p),
            ]
            for r in loo.rows
        ],
    )
    return "\n".join(lines) + "\n"


def metareg_text(res: MetaRegResult) -> str:
    """A readable, metafor-like print of a :class:`MetaRegResult`."""
    model = "Fixed-effects with moderators model" if res.method == "fe" else "Mixed-effects model"
    est = f"; tau^2 estimator: {res.method.upper()}" if res.method != "fe" else ""
    lines = _heading(res) + [f"{model} (k = {res.k}{est})", ""] + _heterogeneity(res, residual=True)
    if np.isfinite(res.r2):
        what = "heterogeneity accounted for" if res.method != "fe" else "weighted adjusted R^2"
        lines.append(f"R^2 ({what}): {res.r2:.2f}%")
    lines += ["", "Test for residual heterogeneity:", f"QE(df = {res.qe_df}) = {num(res.qe)}, {p_eq(res.qe_p)}", ""]
    q = len(res.names)
    lines.append(f"Test of moderators (coefficient{'s' if q > 1 else ''} {'2' if q == 1 else f'2:{q + 1}'}):")
    if res.test == "t":
        lines.append(f"F(df1 = {res.qm_df[0]}, df2 = {res.qm_df[1]:g}) = {num(res.qm)}, {p_eq(res.qm_p)}")
    else:
        lines.append(f"QM(df = {res.qm_df[0]}) = {num(res.qm)}, {p_eq(res.qm_p)}")
    stat = "tval" if res.test == "t" else "zval"
    lines += ["", f"Model results ({_test_name(res)}; {100 * res.level:g}% CI; slopes per unit of each term):", ""]
    lines += grid(
        ["", "estimate", "se", stat, "pval", "ci.lb", "ci.ub"],
        [
            [c.name, num(c.estimate), num(c.se), num(c.z), pval(c.p), num(c.ci_low), num(c.ci_high)]
            for c in res.coefficients
        ],
    )
    lines += ["", "Comparisons:"]
    lines += grid(
        ["comparison", "yi", "se"] + list(res.names),
        [
            [lab, num(y), num(np.sqrt(v))] + [f"{xv:g}" for xv in row]
            for lab, y, v, row in zip(res.labels, res.yi, res.vi, res.x, strict=False)
        ],
    )
    return "\n".join(lines + _tail(res)) + "\n"


def where(obj: Any) -> str:
    """``outcome='vas', month=12, `` for a repr (empty when the result has no outcome)."""
    outcome = getattr(obj, "outcome", None)
    if outcome is None:
        return ""
    month = getattr(obj, "month", None)
    return f"outcome={outcome!r}, month={'NA' if month is None else format(float(month), 'g')}, "

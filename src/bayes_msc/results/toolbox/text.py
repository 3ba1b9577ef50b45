"""metafor-style text for the ``str()`` of the toolbox results (confint, regtest, ranktest,
trimfill, influence, cumulative, Bayes factors): numbers with fixed decimals, ``NA`` for a
missing value, p-values as ``<.0001`` below 1e-4, right-aligned columns.
"""

from __future__ import annotations

from typing import Any

from bayes_msc.results.text import pval

LOW_POWER_K = 10
"""Cochrane Handbook 13.3.5.4: tests for funnel plot asymmetry need at least 10 studies."""

LOW_POWER_NOTE = (
    "k = {k} < 10: tests for funnel plot asymmetry have low power to tell chance from real "
    "asymmetry (Cochrane Handbook 13.3.5.4); read them with caution"
)


def p_eq(p: Any) -> str:
    """``p = 0.0123`` or ``p < .0001``."""
    text = pval(p)
    return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"


def heading(res: Any) -> list[str]:
    """The simulated-data mark and the dataset/outcome line of a result with context fields."""
    lines = []
    if getattr(res, "simulated", False):
        lines += [f"*** SIMULATED DATA (dataset {res.dataset}) ***", ""]
    if getattr(res, "outcome", None) is not None:
        month = f"{res.month:g}" if res.month is not None else "?"
        measure = (getattr(res, "measure", None) or "").upper()
        lines.append(f"Dataset: {res.dataset}; outcome: {res.outcome}, month {month}; measure: {measure}")
        lines.append("")
    return lines


def context_dict(res: Any) -> dict[str, Any]:
    """The context fields every toolbox result carries, for ``to_dict``."""
    return {
        "outcome": res.outcome,
        "month": res.month,
        "measure": res.measure,
        "dataset": res.dataset,
        "simulated": res.simulated,
    }

"""Side-by-side posteriors of one model under several prior sets (``compare-priors``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.results.bayes import BayesResult, mcid_label
from bayes_msc.results.layout import BAYES_SUMMARY_COLUMNS, CI_LEVEL
from bayes_msc.results.text import where

SENSITIVITY_THRESHOLD: float = 0.05
"""Power-scaling sensitivity above which a prior (or likelihood) counts as influential
(Kallioinen et al. 2024, Stat Comput 34:57; ArviZ's ``psense_summary`` default)."""


def diagnosis(prior: float, likelihood: float, threshold: float = SENSITIVITY_THRESHOLD) -> str:
    """ArviZ's ``psense_summary`` verdict for one parameter (``"ok"`` in place of its tick)."""
    if not (np.isfinite(prior) and np.isfinite(likelihood)):
        return "not available"
    if prior >= threshold and likelihood >= threshold:
        return "potential prior-data conflict"
    if prior > threshold > likelihood:
        return "potential strong prior / weak likelihood"
    return "ok"


@dataclass(frozen=True, eq=False)
class PriorComparison:
    """One fit per prior set, with the power-scaling sensitivity of ``mu`` and ``tau``.

    Attributes
    ----------
    results : tuple of BayesResult
        One per prior set, in the order asked for.
    sensitivity : DataFrame
        Index: prior-set name; columns ``mu_prior``, ``mu_likelihood``, ``tau_prior``,
        ``tau_likelihood`` (power-scaling sensitivity: the cumulative Jensen-Shannon
        distance of the posterior when the prior or the likelihood is raised to a power
        near 1), ``mu_diagnosis``, ``tau_diagnosis``.
    mcid : float or None
        The signed MCID asked for (``P(mu < mcid)`` per prior set for a negative one,
        ``P(mu > mcid)`` for a positive one).
    """

    results: tuple[BayesResult, ...]
    sensitivity: pd.DataFrame
    outcome: str | None = None
    month: float | None = None
    model: str = "re"
    covariates: tuple[str, ...] = ()
    ci_prob: float = CI_LEVEL
    mcid: float | None = None
    dataset: str | None = None
    simulated: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def priors(self) -> tuple[str, ...]:
        return tuple(r.prior for r in self.results)

    @property
    def mcid_key(self) -> str | None:
        """The label of the MCID's probability (``P(mu < -19.9)``), or None."""
        return None if self.mcid is None else mcid_label(self.mcid)

    def summary(self) -> pd.DataFrame:
        """One row per prior set. The Bayesian layout's columns come first and describe
        ``mu`` (``mean``, ``sd``, equal-tailed interval ``lower``/``upper``; with covariates at
        their reference values); then ``prior``, ``mu_median``, ``tau_median``/``tau_lower``/
        ``tau_upper``, ``theta_new_lower``/``theta_new_upper``, ``p_mu_below_0``, ``p_mcid``
        (the probability :attr:`mcid_key` names), ``verdict``, ``warnings`` and the
        sensitivities of mu and tau with their diagnoses."""
        rows = []
        for r in self.results:
            p = r.parameters
            mu_name = "mu"
            key = self.mcid_key
            sens = self.sensitivity.loc[r.prior] if r.prior in self.sensitivity.index else None
            rows.append(
                {
                    "term": mu_name,
                    "mean": p.at[mu_name, "mean"],
                    "sd": p.at[mu_name, "sd"],
                    "lower": p.at[mu_name, "eti_low"],
                    "upper": p.at[mu_name, "eti_high"],
                    "level": r.ci_prob,
                    "prior": r.prior,
                    "mu_median": p.at[mu_name, "median"],
                    "tau_median": p.at["tau", "median"],
                    "tau_lower": p.at["tau", "eti_low"],
                    "tau_upper": p.at["tau", "eti_high"],
                    "theta_new_lower": p.at["theta_new", "eti_low"],
                    "theta_new_upper": p.at["theta_new", "eti_high"],
                    "p_mu_below_0": r.probabilities.get(f"P({mu_name} < 0)", np.nan),
                    "p_mcid": r.probabilities.get(key, np.nan) if key else np.nan,
                    "verdict": str(r.verdict),
                    "warnings": "; ".join(r.verdict.warnings),
                    **{
                        c: (sens[c] if sens is not None else np.nan)
                        for c in (
                            "mu_prior",
                            "mu_likelihood",
                            "tau_prior",
                            "tau_likelihood",
                            "mu_diagnosis",
                            "tau_diagnosis",
                        )
                    },
                }
            )
        out = pd.DataFrame(rows)
        assert tuple(out.columns[: len(BAYES_SUMMARY_COLUMNS)]) == BAYES_SUMMARY_COLUMNS
        return out

    def __repr__(self) -> str:
        names = ", ".join(repr(n) for n in self.priors[:4]) + (", ..." if len(self.priors) > 4 else "")
        k = self.results[0].k if self.results else 0
        failed = sum(not r.verdict.passed for r in self.results)
        return (
            f"PriorComparison({where(self)}model={self.model!r}, k={k}, priors=({names}), "
            f"failed={failed}{', SIMULATED' if self.simulated else ''})"
        )

    def __str__(self) -> str:
        from bayes_msc.results.bayes_text import comparison_text

        return comparison_text(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON of ``compare-priors``: the options, then per prior set its summary row,
        its sensitivity and its full ``fit`` JSON; deterministic for a given seed."""
        summary = self.summary()
        sets = []
        for r, (_, row) in zip(self.results, summary.iterrows(), strict=True):
            sets.append(
                {
                    "prior": r.prior,
                    "summary": {k: _plain(v) for k, v in row.items()},
                    "fit": r.to_dict(),
                }
            )
        return {
            "outcome": self.outcome,
            "month": self.month,
            "model": self.model,
            "k": self.results[0].k if self.results else None,
            "covariates": list(self.covariates),
            "ci_prob": self.ci_prob,
            "mcid": self.mcid,
            "mcid_probability": self.mcid_key,
            "covariate_at": dict(self.results[0].covariate_at) if self.results else {},
            "dataset": self.dataset,
            "simulated": self.simulated,
            "notes": list(self.notes),
            "prior_sets": sets,
        }


def _plain(v: Any) -> Any:
    """A JSON-ready scalar: finite floats, None for NaN/inf, text as it is."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        x = float(v)
        return x if np.isfinite(x) else None
    return v

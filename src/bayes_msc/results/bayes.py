"""Bayesian result types, shared by the MCMC and the exact (quadrature) engines.

Parameter names are ``mu`` (the intercept: the pooled effect where every covariate term
is 0; with no covariates, the pooled effect), ``tau`` (between-study SD), one entry per
covariate slope named by its term as given (``age_mean``, ``log10(dose_million)``), and
``theta_new`` (the predictive effect of a new study; with covariates, at the covariates'
means). With covariates, ``mu_at_mean`` is the effect at the covariates' means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.results.layout import BAYES_SUMMARY_COLUMNS, CI_LEVEL
from bayes_msc.results.text import short, where

PARAMETER_FIELDS: tuple[str, ...] = (
    "mean",
    "sd",
    "median",
    "eti_low",
    "eti_high",
    "hdi_low",
    "hdi_high",
    "ess_bulk",
    "ess_tail",
    "r_hat",
)
"""Columns of :attr:`BayesResult.parameters`, in the JSON order of docs/FORMAT.md."""

RHAT_MAX: float = 1.01
ESS_BULK_MIN: float = 1000.0


@dataclass(frozen=True)
class Verdict:
    """The diagnostics verdict of one posterior.

    ``passed`` is true when R-hat <= :data:`RHAT_MAX` and ESS_bulk >= ``ess_min`` for every
    reported parameter and there are no divergences. ``reasons`` says which failed.
    An exact (quadrature) posterior always passes, with the reason ``"exact"``.
    """

    passed: bool
    reasons: tuple[str, ...] = ()
    max_r_hat: float | None = None
    min_ess_bulk: float | None = None
    divergences: int | None = None
    ess_min: float = ESS_BULK_MIN
    r_hat_max: float = RHAT_MAX

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reasons": list(self.reasons),
            "max_r_hat": self.max_r_hat,
            "min_ess_bulk": self.min_ess_bulk,
            "divergences": self.divergences,
            "thresholds": {"r_hat_max": self.r_hat_max, "ess_bulk_min": self.ess_min, "divergences_max": 0},
        }

    def __str__(self) -> str:
        return "PASS" if self.passed else "FAIL: " + "; ".join(self.reasons)


@dataclass(frozen=True, eq=False)
class BayesResult:
    """One posterior of a Bayesian meta-analysis model.

    Attributes
    ----------
    parameters : DataFrame
        Index: parameter name; columns :data:`PARAMETER_FIELDS` (ESS and R-hat are NaN for
        the exact engine).
    probabilities : dict
        Posterior probabilities by label, e.g. ``{"P(mu < 0)": 0.97, "P(mu < -10)": 0.4}``.
    study_effects : DataFrame or None
        Shrunken effect of each comparison: ``comparison, study, yi, sei, mean, sd,
        eti_low, eti_high``.
    idata : xarray.DataTree or None
        The ArviZ data (posterior, sample_stats, observed_data, constant_data); not in JSON.
    densities : dict or None
        Marginal posterior densities ``{name: (grid, density)}`` from the exact engine
        (which has no draws), for figures; not in JSON.
    prior_set : PriorSet or None
        The prior set the fit used, resolved for its data (numbers, not data scalings);
        ``prior_spec`` is its JSON form.
    """

    model: str
    prior: str
    engine: str
    k: int
    parameters: pd.DataFrame
    verdict: Verdict
    outcome: str | None = None
    month: float | None = None
    prior_spec: dict[str, Any] = field(default_factory=dict)
    covariates: tuple[str, ...] = ()
    parameterisation: str | None = None
    draws: int | None = None
    chains: int | None = None
    divergences: int | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    study_effects: pd.DataFrame | None = None
    ci_prob: float = CI_LEVEL
    dataset: str | None = None
    simulated: bool = False
    measure: str = "md"
    multiarm: str = "split"
    notes: tuple[str, ...] = ()
    seed: int | None = None
    idata: Any = None
    densities: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None
    seconds: float | None = None
    prior_set: Any = None  # a resolved bayes_msc.priors.PriorSet (typed Any: results sit below priors)

    def __post_init__(self) -> None:
        # One note per fact: the engines and fit() may each state the same one (k = 1).
        object.__setattr__(self, "notes", tuple(dict.fromkeys(self.notes)))

    def summary(self) -> pd.DataFrame:
        """The Bayesian summary layout (:data:`~bayes_msc.results.layout.BAYES_SUMMARY_COLUMNS`):
        term, mean and sd (posterior mean and SD), lower/upper (the equal-tailed interval,
        ``eti_low``/``eti_high``), level, then median, hdi_low, hdi_high, ess_bulk,
        ess_tail and r_hat (NaN for the exact engine)."""
        p = self.parameters
        out = pd.DataFrame(
            {
                "term": list(p.index),
                "mean": p["mean"].to_numpy(),
                "sd": p["sd"].to_numpy(),
                "lower": p["eti_low"].to_numpy(),
                "upper": p["eti_high"].to_numpy(),
                "level": self.ci_prob,
            }
        )
        for col in ("median", "hdi_low", "hdi_high", "ess_bulk", "ess_tail", "r_hat"):
            out[col] = p[col].to_numpy()
        assert tuple(out.columns[: len(BAYES_SUMMARY_COLUMNS)]) == BAYES_SUMMARY_COLUMNS
        return out

    def __repr__(self) -> str:
        mu = "mu_at_mean" if self.covariates and "mu_at_mean" in self.parameters.index else "mu"
        covs = f", covariates={len(self.covariates)}" if self.covariates else ""
        return (
            f"BayesResult({where(self)}model={self.model!r}, prior={self.prior!r}, engine={self.engine!r}, "
            f"k={self.k}{covs}, {mu}={short(self.value(mu))} [{short(self.value(mu, 'eti_low'))}, "
            f"{short(self.value(mu, 'eti_high'))}], tau={short(self.value('tau', 'median'))}, "
            f"verdict={'PASS' if self.verdict.passed else 'FAIL'}{', SIMULATED' if self.simulated else ''})"
        )

    def __str__(self) -> str:
        from bayes_msc.results.bayes_text import bayes_text

        return bayes_text(self)

    def value(self, name: str, field: str = "mean") -> float:
        """One summary of one parameter (``value("tau", "median")``); NaN when the result
        has no such parameter."""
        p = self.parameters
        if name not in p.index:
            return float("nan")
        return float(p[field].to_numpy(dtype=float)[list(p.index).index(name)])

    def draws_of(self, name: str) -> np.ndarray:
        """Flattened posterior draws of one parameter (MCMC engine only)."""
        if self.idata is None:
            raise ValueError("no draws: this result has no ArviZ data (exact engine?)")
        return np.asarray(self.idata.posterior[name]).reshape(-1)

    def to_dict(self) -> dict[str, Any]:
        """The ``fit`` JSON of docs/FORMAT.md (plus extra fields); deterministic for a given seed."""
        params = {name: {f: _num(row[f]) for f in PARAMETER_FIELDS} for name, row in self.parameters.iterrows()}
        out: dict[str, Any] = {
            "outcome": self.outcome,
            "month": self.month,
            "model": self.model,
            "prior": self.prior,
            "k": self.k,
            "draws": self.draws,
            "chains": self.chains,
            "divergences": self.divergences,
            "parameters": params,
            "engine": self.engine,
            "parameterisation": self.parameterisation,
            "covariates": list(self.covariates),
            "ci_prob": self.ci_prob,
            "verdict": self.verdict.to_dict(),
            "probabilities": {k: _num(v) for k, v in self.probabilities.items()},
            "prior_spec": self.prior_spec,
            "dataset": self.dataset,
            "simulated": self.simulated,
            "measure": self.measure,
            "multiarm": self.multiarm,
            "seed": self.seed,
            "notes": list(self.notes),
        }
        if self.study_effects is not None:
            out["study_effects"] = [
                {k: _num(v) if isinstance(v, (float, np.floating, int, np.integer)) else v for k, v in rec.items()}
                for rec in self.study_effects.to_dict(orient="records")
            ]
        return out


def _num(x: Any) -> float | None:
    """A finite float, or None (JSON null) for NaN/inf/None."""
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None

"""Bayesian result types, shared by the MCMC and the exact (quadrature) engines.

Parameter names are ``mu`` (the pooled effect; with covariates, the pooled effect at the
covariates' reference values :attr:`BayesResult.covariate_at`: their means over the
analysed comparisons unless the user set them), ``tau`` (between-study SD), one entry per
covariate slope named by its term as given (``age_mean``, ``log10(dose_million)``),
``theta_new`` (the predictive effect of a new study, at the same reference values) and,
with covariates, ``intercept`` (the effect where every covariate term is 0, a separate
quantity that is often far outside the data). Headline probabilities (``P(mu < 0)``,
:func:`mcid_label`) are about ``mu`` as defined here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


def mcid_label(mcid: float) -> str:
    """The probability an MCID asks for, signed in the direction of benefit:
    ``P(mu < -19.9)`` for a negative MCID (lower is better), ``P(mu > 9)`` for a positive one."""
    return f"P(mu < {mcid:g})" if mcid < 0 else f"P(mu > {mcid:g})"


@dataclass(frozen=True)
class Verdict:
    """The diagnostics verdict of one posterior.

    ``passed`` is true when R-hat <= :data:`RHAT_MAX` and ESS_bulk >= ``ess_min`` for every
    reported parameter and there are no divergences. ``reasons`` says which failed.
    An exact (quadrature) posterior always passes, with the reason ``"exact"``.
    ``warnings`` say what a passing verdict does not cover: a prior bound that cuts the
    posterior off, comparisons that all come from one study.
    """

    passed: bool
    reasons: tuple[str, ...] = ()
    max_r_hat: float | None = None
    min_ess_bulk: float | None = None
    divergences: int | None = None
    ess_min: float = ESS_BULK_MIN
    r_hat_max: float = RHAT_MAX
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reasons": list(self.reasons),
            "max_r_hat": self.max_r_hat,
            "min_ess_bulk": self.min_ess_bulk,
            "divergences": self.divergences,
            "thresholds": {"r_hat_max": self.r_hat_max, "ess_bulk_min": self.ess_min, "divergences_max": 0},
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Verdict:
        """The verdict of :meth:`to_dict`."""
        limits = d.get("thresholds") or {}
        return cls(
            passed=bool(d["passed"]),
            reasons=tuple(d.get("reasons") or ()),
            max_r_hat=d.get("max_r_hat"),
            min_ess_bulk=d.get("min_ess_bulk"),
            divergences=d.get("divergences"),
            ess_min=float(limits.get("ess_bulk_min", ESS_BULK_MIN)),
            r_hat_max=float(limits.get("r_hat_max", RHAT_MAX)),
            warnings=tuple(d.get("warnings") or ()),
        )

    def __str__(self) -> str:
        return "PASS" if self.passed else "FAIL: " + "; ".join(self.reasons)


class Deferred:
    """A value made when first read: the exact engine's draws (a DataTree) are computed
    only when something asks for ``BayesResult.idata`` (ArviZ, a figure, a file), so a
    review of many exact fits builds each tree where it is written, in parallel."""

    def __init__(self, make: Callable[[], Any]):
        self.make = make


class _Draws:
    """The ``idata`` field: a :class:`Deferred` value is made on first read, then kept."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = f"_{name}"

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return None  # the field's default
        value = obj.__dict__.get(self.key)
        if isinstance(value, Deferred):
            value = value.make()
            obj.__dict__[self.key] = value
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        # dataclass passes the descriptor itself as the default of a field(default=...)
        obj.__dict__[self.key] = None if isinstance(value, _Draws) else value


@dataclass(frozen=True, eq=False)
class BayesResult:
    """One posterior of a Bayesian meta-analysis model.

    Attributes
    ----------
    parameters : DataFrame
        Index: parameter name; columns :data:`PARAMETER_FIELDS`. The exact engine's
        summaries are its quadrature's (no Monte Carlo error); its ESS columns give the
        number of its independent draws and R-hat is NaN.
    probabilities : dict
        Posterior probabilities of ``mu`` by label, e.g. ``{"P(mu < 0)": 0.97,
        "P(mu < -10)": 0.4}`` (:func:`mcid_label`).
    covariate_at : dict
        With covariates: term -> the reference value at which ``mu`` (and ``theta_new``)
        is the pooled effect; ``covariate_at_given`` names the terms whose value the user
        set (the others are the means over the analysed comparisons).
    n_studies : int or None
        Studies the comparisons come from (fewer than 2: a within-study comparison only).
    mcid : float or None
        The signed MCID asked for (its probability is in ``probabilities``).
    study_effects : DataFrame or None
        Shrunken effect of each comparison: ``comparison, study, yi, sei, mean, sd,
        eti_low, eti_high``.
    idata : xarray.DataTree or None
        The ArviZ data of either engine (posterior, sample_stats, log_likelihood,
        log_prior, prior, posterior_predictive, observed_data, constant_data); not in JSON.
        The exact engine's is made when first read (:class:`Deferred`; the same draws
        every time).
    densities : dict or None
        Marginal posterior densities ``{name: (grid, density)}`` from the exact engine,
        for figures; not in JSON.
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
    idata: Any = field(default=_Draws(), repr=False)
    densities: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None
    seconds: float | None = None
    prior_set: Any = None  # a resolved bayes_msc.priors.PriorSet (typed Any: results sit below priors)
    covariate_at: dict[str, float] = field(default_factory=dict)
    covariate_at_given: tuple[str, ...] = ()
    n_studies: int | None = None
    mcid: float | None = None

    @property
    def has_draws(self) -> bool:
        """Whether the result has posterior draws (without making deferred ones)."""
        return self.__dict__.get("_idata") is not None

    def mu_meaning(self) -> str:
        """What ``mu`` is, in words: ``"the pooled effect"``, with covariates ``"the pooled
        effect at age_mean = 60 (given), log10(dose_million) = 1.52 (mean)"``."""
        if not self.covariate_at:
            return "the pooled effect"
        given = set(self.covariate_at_given)
        at = ", ".join(
            f"{t} = {v:.4g} ({'given' if t in given else 'mean of the analysed comparisons'})"
            for t, v in self.covariate_at.items()
        )
        return f"the pooled effect at {at}"

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
        """Flattened posterior draws of one parameter (either engine; a covariate slope by
        its term, e.g. ``draws_of("age_mean")``)."""
        if self.idata is None:
            raise ValueError("no draws: this result has no ArviZ data")
        post = self.idata.posterior
        if name not in post and name in self.covariates:
            return np.asarray(post["beta"].sel(term=name)).reshape(-1)
        return np.asarray(post[name]).reshape(-1)

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
            "covariate_at": dict(self.covariate_at),
            "covariate_at_given": list(self.covariate_at_given),
            "n_studies": self.n_studies,
            "mcid": self.mcid,
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

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, idata: Any = None, prior_set: Any = None) -> BayesResult:
        """The result whose :meth:`to_dict` is ``d`` (what :func:`bayes_msc.load_result`
        reads back from a posterior file), with its draws ``idata``; the summaries are
        those of ``d``, number for number."""
        params = pd.DataFrame.from_dict(
            {name: {f: _nan(row.get(f)) for f in PARAMETER_FIELDS} for name, row in d["parameters"].items()},
            orient="index",
        )
        params.index = pd.Index(list(d["parameters"]), dtype=object)
        effects = d.get("study_effects")
        return cls(
            model=d["model"],
            prior=d["prior"],
            engine=d["engine"],
            k=int(d["k"]),
            parameters=params[list(PARAMETER_FIELDS)],
            verdict=Verdict.from_dict(d["verdict"]),
            outcome=d.get("outcome"),
            month=d.get("month"),
            prior_spec=dict(d.get("prior_spec") or {}),
            covariates=tuple(d.get("covariates") or ()),
            parameterisation=d.get("parameterisation"),
            draws=d.get("draws"),
            chains=d.get("chains"),
            divergences=d.get("divergences"),
            probabilities={k: _nan(v) for k, v in (d.get("probabilities") or {}).items()},
            study_effects=None if effects is None else pd.DataFrame(effects).map(_nan_if_none),
            ci_prob=float(d.get("ci_prob", CI_LEVEL)),
            dataset=d.get("dataset"),
            simulated=bool(d.get("simulated", False)),
            measure=d.get("measure", "md"),
            multiarm=d.get("multiarm", "split"),
            notes=tuple(d.get("notes") or ()),
            seed=d.get("seed"),
            idata=idata,
            prior_set=prior_set,
            covariate_at={k: float(v) for k, v in (d.get("covariate_at") or {}).items()},
            covariate_at_given=tuple(d.get("covariate_at_given") or ()),
            n_studies=d.get("n_studies"),
            mcid=d.get("mcid"),
        )


def _nan(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _nan_if_none(x: Any) -> Any:
    return float("nan") if x is None else x


def _num(x: Any) -> float | None:
    """A finite float, or None (JSON null) for NaN/inf/None."""
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None

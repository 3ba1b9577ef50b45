"""Prior sets: the named groups of priors that the exact and the PyMC engines share.

:class:`PriorSet` holds the priors of ``mu``, ``tau`` (or ``log_tau2_smd``), ``beta`` and
``alpha``; :meth:`PriorSet.resolve` turns data-scaled values into numbers with the
:class:`~bayes_msc.priors.distribution.PriorContext` that :func:`prior_context`
computes from one dataset. The TOML format is described in
:mod:`bayes_msc.priors`; files are read and written by
:mod:`bayes_msc.priors.files`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from bayes_msc.errors import InputError, Problem
from bayes_msc.priors.distribution import SUPPORTED_DISTRIBUTIONS, Prior, PriorContext, Scaled, fits

SET_KEYS = ("description", "mu", "tau", "log_tau2_smd", "beta", "alpha")
"""The keys a prior set's TOML table may have."""

_SUPPORT_OK = {key: tuple(d for d in SUPPORTED_DISTRIBUTIONS if fits(d, key)) for key in SET_KEYS[1:]}


DEFAULT_BETA = Prior("Normal", {"mu": 0.0, "sigma": Scaled(0.25, "unit_info_sd")})
"""Slope prior when a set gives no ``beta``: Normal(0, 0.25 s_u) per SD of the covariate,
the slope prior suggested with unit-information scaling (Roever et al. 2021)."""


def _as_prior(value: object, key: str, where: str) -> Prior:
    """``value`` (a Prior or its mapping) as a Prior whose support fits ``key``."""
    if isinstance(value, Prior) and value.dist in _SUPPORT_OK.get(key, ()) and value.dist != "Uniform":
        return value  # the common case (sets read from files): already checked
    return Prior.from_dict(value, where, role=key)


def default_alpha() -> Prior:
    """Arm-model baseline prior when a set gives no ``alpha`` (docs/FORMAT.md, "Prior-set files"): Normal centred at
    the mean of the arm means, SD 100 x their spread (so it is vague whatever the scale)."""
    return Prior("Normal", {"mu": Scaled(1.0, "arm_mean_centre"), "sigma": Scaled(100.0, "arm_mean_spread")})


PriorLike = Prior | Mapping[str, Any]
"""A :class:`Prior` or its mapping form ``{"dist": "Normal", "mu": 0, "sigma": 20}``."""


@dataclass(frozen=True, init=False)
class PriorSet:
    """A named set of priors. Exactly one of ``tau`` and ``log_tau2_smd`` is given.

    Build one in Python with :class:`Prior` objects (or their mappings)::

        PriorSet(mu=Prior("Normal", mu=0, sigma=20), tau=Prior("HalfCauchy", beta=10))
        PriorSet("mine", "my priors", mu={"dist": "Normal", "mu": 0, "sigma": 20}, tau=...)

    ``name`` defaults to ``"custom"``; ``beta`` (slopes, per SD of each covariate) and
    ``alpha`` (arm-model baselines) default to the package's (:meth:`resolve`).
    ``outcome_sd`` is filled in by :meth:`resolve` (it scales ``log_tau2_smd`` to tau).

    Raises
    ------
    InputError
        ``mu`` missing, not exactly one of ``tau`` and ``log_tau2_smd``, or a prior that does
        not fit its key (a ``tau`` prior must be on [0, inf)), each naming the argument.
    """

    name: str
    description: str
    mu: Prior
    tau: Prior | None
    log_tau2_smd: Prior | None
    beta: Prior | None
    alpha: Prior | None
    outcome_sd: float | None

    def __init__(
        self,
        name: str = "custom",
        description: str = "",
        mu: PriorLike | None = None,
        tau: PriorLike | None = None,
        log_tau2_smd: PriorLike | None = None,
        beta: PriorLike | None = None,
        alpha: PriorLike | None = None,
        outcome_sd: float | None = None,
    ) -> None:
        where = f"prior set {name!r}"
        given = {"mu": mu, "tau": tau, "log_tau2_smd": log_tau2_smd, "beta": beta, "alpha": alpha}
        problems: list[Problem] = []
        priors: dict[str, Prior | None] = {}
        for key, value in given.items():
            try:
                priors[key] = None if value is None else _as_prior(value, key, f"{where}, key {key!r}")
            except InputError as exc:
                problems.extend(replace(p, argument=key) for p in exc.problems)
        if mu is None:
            problems.append(Problem(f"{where}: a prior of mu is needed", argument="mu"))
        if (tau is None) == (log_tau2_smd is None):
            problems.append(Problem(f"{where}: give exactly one of tau and log_tau2_smd", argument="tau"))
        if problems:
            raise InputError(problems)
        object.__setattr__(self, "name", str(name))
        object.__setattr__(self, "description", str(description))
        for key, prior in priors.items():
            object.__setattr__(self, key, prior)
        object.__setattr__(self, "outcome_sd", outcome_sd)

    @property
    def resolved(self) -> bool:
        priors = [p for p in (self.mu, self.tau, self.log_tau2_smd, self.beta, self.alpha) if p]
        return all(p.resolved for p in priors) and (self.log_tau2_smd is None or self.outcome_sd is not None)

    def resolve(self, ctx: PriorContext) -> PriorSet:
        """Numbers only, for the data summarised by ``ctx``; fills the ``beta`` default and,
        when ``ctx`` has arm means, the ``alpha`` default.

        Raises
        ------
        InputError
            A parameter scales with something ``ctx`` lacks, or resolves to a bad value.
        """

        def res(key: str, prior: Prior) -> Prior:
            return prior.resolve(ctx, f"prior set {self.name!r}, key {key!r}", role=key)

        def res_optional(key: str, prior: Prior | None) -> Prior | None:
            return None if prior is None else res(key, prior)

        alpha = self.alpha
        if alpha is None and ctx.arm_mean_centre is not None and ctx.arm_mean_spread is not None:
            alpha = default_alpha()
        osd = self.outcome_sd
        if self.log_tau2_smd is not None and osd is None:
            if ctx.outcome_sd is None:
                raise InputError(
                    Problem(
                        f"prior set {self.name!r}, key 'log_tau2_smd': needs the "
                        "outcome SD, which is not available for these data"
                    )
                )
            osd = float(ctx.outcome_sd)
        return replace(
            self,
            mu=res("mu", self.mu),
            tau=res_optional("tau", self.tau),
            log_tau2_smd=res_optional("log_tau2_smd", self.log_tau2_smd),
            beta=res("beta", self.beta or DEFAULT_BETA),
            alpha=res_optional("alpha", alpha),
            outcome_sd=osd,
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"name", "description", key: Prior.to_dict(), ...}`` (absent keys left out)."""
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        for key in SET_KEYS[1:]:
            prior = getattr(self, key)
            if prior is not None:
                out[key] = prior.to_dict()
        if self.outcome_sd is not None:
            out["outcome_sd"] = self.outcome_sd
        return out

    @classmethod
    def from_dict(cls, name: str, d: object, *, file: str | None = None) -> PriorSet:
        """Parse the TOML table of one set (every problem of it reported together)."""
        where = f"prior set {name!r}"
        col = f"prior_sets.{name}"
        if not isinstance(d, Mapping):
            raise InputError(Problem(f"{where}: must be a table", file=file, key=col))
        problems: list[Problem] = []
        priors: dict[str, Prior] = {}
        for key in d:
            if key not in SET_KEYS:
                problems.append(
                    Problem(
                        f"{where}: unknown key {key!r}; allowed: " + ", ".join(SET_KEYS),
                        file=file,
                        key=f"{col}.{key}",
                    )
                )
        for key in SET_KEYS[1:]:
            if key in d:
                try:
                    priors[key] = Prior.from_dict(
                        d[key], f"{where}, key {key!r}", file=file, column=f"{col}.{key}", role=key
                    )
                except InputError as exc:  # gathered: all problems of a file are reported at once
                    problems.extend(exc.problems)
        if "mu" not in d:
            problems.append(Problem(f"{where}: key 'mu' is missing", file=file, key=f"{col}.mu"))
        if ("tau" in d) == ("log_tau2_smd" in d):
            problems.append(
                Problem(f"{where}: give exactly one of key 'tau' and key 'log_tau2_smd'", file=file, key=f"{col}.tau")
            )
        desc = d.get("description", "")
        if not isinstance(desc, str):
            problems.append(
                Problem(f"{where}: key 'description' must be a string", file=file, key=f"{col}.description")
            )
        if problems:
            raise InputError(problems)
        return cls(
            name=name,
            description=desc,
            mu=priors["mu"],  # present: its absence is a problem above
            tau=priors.get("tau"),
            log_tau2_smd=priors.get("log_tau2_smd"),
            beta=priors.get("beta"),
            alpha=priors.get("alpha"),
        )

    def tau_logpdf(self, tau: np.ndarray) -> np.ndarray:
        """Log prior density of tau on the outcome scale (resolved sets only).

        For ``log_tau2_smd``: with L = 2 log(tau / outcome_sd), p(tau) = p_L(L) * 2 / tau.
        """
        tau = np.asarray(tau, dtype=float)
        if self.tau is not None:
            return self.tau.logpdf(tau)
        log_tau2, osd = self.log_tau2_smd_prior()
        with np.errstate(divide="ignore", invalid="ignore"):
            out = log_tau2.logpdf(2.0 * np.log(tau / osd)) + np.log(2.0 / tau)
        return np.where(tau > 0, out, -np.inf)

    def tau_cdf(self, tau: np.ndarray) -> np.ndarray:
        """Prior distribution function of tau on the outcome scale (resolved sets only)."""
        tau = np.asarray(tau, dtype=float)
        if self.tau is not None:
            return self.tau.cdf(tau)
        log_tau2, osd = self.log_tau2_smd_prior()
        with np.errstate(divide="ignore"):
            return log_tau2.cdf(2.0 * np.log(np.maximum(tau, 0.0) / osd))

    def add_tau(self, name: str = "tau", dims: str | Sequence[str] | None = None) -> Any:
        """Create tau's prior in the current ``pm.Model``; return the tau tensor.

        With ``log_tau2_smd`` the random variable is ``log_tau2_smd`` (``<name>_log_tau2_smd``
        for another name) and tau is a Deterministic named ``name``.
        """
        if self.tau is not None:
            return self.tau.to_pymc(name, dims=dims)
        import pymc as pm

        prior, osd = self.log_tau2_smd_prior()
        rv = "log_tau2_smd" if name == "tau" else f"{name}_log_tau2_smd"
        log_tau2 = prior.to_pymc(rv, dims=dims)
        return pm.Deterministic(name, osd * pm.math.exp(log_tau2 / 2.0), dims=dims)

    def beta_prior(self) -> Prior:
        """The slope prior, for a model with covariates.

        Raises
        ------
        ValueError
            The set has none (:meth:`resolve` fills the default slope prior).
        """
        if self.beta is None:
            raise ValueError("covariates need a beta prior: resolve() the prior set first")
        return self.beta

    def log_tau2_smd_prior(self) -> tuple[Prior, float]:
        """The ``log_tau2_smd`` prior and the outcome SD that scales it to tau (resolved sets
        without ``tau``).

        Raises
        ------
        ValueError
            The set has ``tau`` instead, or is not resolved.
        """
        if self.log_tau2_smd is None:  # excluded by __post_init__ when tau is None
            raise ValueError("a prior set needs exactly one of tau and log_tau2_smd")
        if self.outcome_sd is None:
            raise ValueError("resolve() the prior set first")
        return self.log_tau2_smd, self.outcome_sd


def prior_context(
    yi: ArrayLike,
    vi: ArrayLike,
    n_total: ArrayLike,
    n_treatment: ArrayLike | None = None,
    n_control: ArrayLike | None = None,
    arm_means: ArrayLike | None = None,
    *,
    measure: str = "md",
) -> PriorContext:
    """Summaries of one dataset that data-scaled priors refer to.

    - ``unit_info_sd`` s_u = sqrt(sum(n_i) / sum(1 / vi)) (Roever et al. 2021).
    - ``outcome_sd``: 1.0 for ``measure="smd"``; for mean differences the within-arm SD
      implied by vi and the arm sizes, sqrt(vi / (1/n1 + 1/n2)), pooled over comparisons
      as variances with n1 + n2 - 2 weights; None when the arm sizes are not given.
    - ``arm_mean_centre`` / ``arm_mean_spread``: mean and SD (ddof=1) of the arm means;
      when they do not vary (or there is one), the spread is the outcome SD instead.
    """
    v = np.asarray(vi, dtype=float)
    n = np.asarray(n_total, dtype=float)
    if v.size == 0 or n.shape != v.shape:
        raise InputError(Problem("prior context: vi and n_total must be non-empty and of one length"))
    if not (np.all(np.isfinite(v)) and np.all(v > 0)):
        raise InputError(Problem("prior context: every vi must be finite and > 0"))
    if not (np.all(np.isfinite(n)) and np.all(n > 0)):
        raise InputError(Problem("prior context: every n must be finite and > 0"))
    s_u = math.sqrt(n.sum() / np.sum(1.0 / v))
    if measure == "smd":
        osd: float | None = 1.0
    elif n_treatment is not None and n_control is not None:
        n1, n2 = np.asarray(n_treatment, float), np.asarray(n_control, float)
        var = v / (1.0 / n1 + 1.0 / n2)
        df = np.maximum(n1 + n2 - 2.0, 0.0)
        wts = df if df.sum() > 0 else n1 + n2
        osd = math.sqrt(np.sum(wts * var) / np.sum(wts))
    else:
        osd = None
    centre: float | None = None
    spread: float | None = None
    if arm_means is not None:
        m = np.asarray(arm_means, dtype=float)
        centre = float(m.mean())
        spread = float(m.std(ddof=1)) if m.size > 1 else 0.0
        if not spread > 0:
            spread = osd if osd is not None else s_u
    return PriorContext(unit_info_sd=s_u, outcome_sd=osd, arm_mean_spread=spread, arm_mean_centre=centre)

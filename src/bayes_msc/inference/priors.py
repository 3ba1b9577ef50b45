"""Named prior sets, declared in TOML, shared by the exact and the PyMC engines.

A prior set is a TOML table under ``[prior_sets.NAME]``::

    [prior_sets.weakly_informative]
    description = "..."
    mu   = { dist = "Normal", mu = 0.0, sigma = { unit_info_sd = 1.0 } }
    tau  = { dist = "HalfNormal", sigma = { unit_info_sd = 0.5 } }
    beta = { dist = "Normal", mu = 0.0, sigma = { unit_info_sd = 0.25 } }

``dist`` is a PyMC distribution name and the other keys are that distribution's PyMC
parameters (:data:`SUPPORTED_DISTRIBUTIONS`; scale parameters must be given). A plain
number is absolute, on the outcome's scale. ``{ unit_info_sd = f }`` is ``f`` times the
unit-information SD ``s_u`` of the data (Roever et al. 2021, Res Synth Methods 12:448);
``{ outcome_sd = f }`` is ``f`` times the outcome's within-arm SD (1 for SMDs);
``{ arm_mean_centre = f }`` and ``{ arm_mean_spread = f }`` scale with the arm means (arm
model). :meth:`PriorSet.resolve` turns these into numbers for one dataset.

Keys of a set: ``mu`` (required; the pooled effect, with covariates the effect at the
covariates' means), ``tau`` (between-study SD, a distribution on [0, inf)) or instead
``log_tau2_smd`` (a distribution of log(tau^2) on the SMD scale, as in Rhodes et al. 2015,
J Clin Epidemiol 68:52: tau on the outcome scale is ``outcome_sd * exp(log_tau2_smd / 2)``),
``beta`` (every slope, per SD of its covariate; default :data:`DEFAULT_BETA`), ``alpha``
(arm-model study baselines; default :func:`default_alpha`) and ``description``.
"""

from __future__ import annotations

import functools
import json
import math
import re
import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from bayes_msc.data.errors import InputError, Problem

SCALE_KEYS: tuple[str, ...] = ("unit_info_sd", "outcome_sd", "arm_mean_spread", "arm_mean_centre")
"""What a :class:`Scaled` value may scale with (fields of :class:`PriorContext`)."""


@dataclass(frozen=True)
class _Spec:
    forms: tuple[tuple[str, ...], ...]  # accepted parameter sets, after defaults
    defaults: Mapping[str, float]
    positive: tuple[str, ...]  # parameters that must be > 0
    support: str  # "real", "positive" or "interval"


# PyMC's own names and defaults (checked against PyMC's signatures in tests/test_priors.py),
# kept static so that reading prior sets does not import pymc (~1 s).
_SPECS: dict[str, _Spec] = {
    "Normal": _Spec((("mu", "sigma"), ("mu", "tau")), {"mu": 0.0}, ("sigma", "tau"), "real"),
    "StudentT": _Spec((("nu", "mu", "sigma"), ("nu", "mu", "lam")), {"mu": 0.0},
                      ("nu", "sigma", "lam"), "real"),
    "Cauchy": _Spec((("alpha", "beta"),), {}, ("beta",), "real"),
    "Flat": _Spec(((),), {}, (), "real"),
    "Uniform": _Spec((("lower", "upper"),), {"lower": 0.0, "upper": 1.0}, (), "interval"),
    "HalfNormal": _Spec((("sigma",), ("tau",)), {}, ("sigma", "tau"), "positive"),
    "HalfCauchy": _Spec((("beta",),), {}, ("beta",), "positive"),
    "HalfStudentT": _Spec((("nu", "sigma"), ("nu", "lam")), {}, ("nu", "sigma", "lam"), "positive"),
    "Exponential": _Spec((("lam",), ("scale",)), {}, ("lam", "scale"), "positive"),
    "LogNormal": _Spec((("mu", "sigma"), ("mu", "tau")), {"mu": 0.0}, ("sigma", "tau"), "positive"),
    "Gamma": _Spec((("alpha", "beta"), ("mu", "sigma")), {}, ("alpha", "beta", "mu", "sigma"),
                   "positive"),
    "InverseGamma": _Spec((("alpha", "beta"), ("mu", "sigma")), {},
                          ("alpha", "beta", "mu", "sigma"), "positive"),
    "HalfFlat": _Spec(((),), {}, (), "positive"),
}

SUPPORTED_DISTRIBUTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    name: tuple(dict.fromkeys(p for form in spec.forms for p in form))
    for name, spec in _SPECS.items()})
"""PyMC distribution name -> its parameter names, for every distribution a prior may use."""

_ROLE_DISTS = {  # which distributions fit which key (by support)
    "mu": ("real", "interval"), "beta": ("real", "interval"), "alpha": ("real", "interval"),
    "tau": ("positive", "interval"), "log_tau2_smd": ("real",)}
SET_KEYS = ("description", "mu", "tau", "log_tau2_smd", "beta", "alpha")


@dataclass(frozen=True)
class Scaled:
    """A parameter value that scales with the data: ``factor`` x ``PriorContext.<by>``."""

    factor: float
    by: str

    def __post_init__(self) -> None:
        if self.by not in SCALE_KEYS:
            raise ValueError(f"Scaled.by must be one of {SCALE_KEYS}, not {self.by!r}")


@dataclass(frozen=True)
class PriorContext:
    """The data summaries that :class:`Scaled` values refer to (see :func:`prior_context`)."""

    unit_info_sd: float
    outcome_sd: float | None
    arm_mean_spread: float | None = None
    arm_mean_centre: float | None = None


class _Params(dict):
    """A read-only, hashable dict (picklable and copyable, unlike a mappingproxy)."""

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("prior parameters are read-only")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _read_only  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))

    def __reduce__(self) -> tuple:
        return _Params, (dict(self),)


@dataclass(frozen=True)
class Prior:
    """One prior: a PyMC distribution name and its parameters (numbers or :class:`Scaled`)."""

    dist: str
    params: Mapping[str, float | Scaled]

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _Params(self.params))

    @property
    def resolved(self) -> bool:
        """True when every parameter is a number."""
        return not any(isinstance(v, Scaled) for v in self.params.values())

    @property
    def support(self) -> tuple[float, float]:
        """(lower, upper) of the support (resolved priors only)."""
        kind = _SPECS[self.dist].support
        if kind == "interval":
            p = self._filled()
            return float(p["lower"]), float(p["upper"])
        return (0.0 if kind == "positive" else -math.inf), math.inf

    @property
    def improper(self) -> bool:
        return self.dist in ("Flat", "HalfFlat")

    def to_dict(self) -> dict[str, Any]:
        """The TOML inline-table form: ``{"dist": ..., param: number | {by: factor}}``."""
        out: dict[str, Any] = {"dist": self.dist}
        for k, v in self.params.items():
            out[k] = {v.by: v.factor} if isinstance(v, Scaled) else v
        return out

    @classmethod
    def from_dict(cls, d: Any, where: str, *, file: str | None = None,
                  column: str | None = None, role: str | None = None) -> Prior:
        """Parse and validate ``{"dist": NAME, param: value, ...}`` (as read from TOML).

        ``where`` says where ``d`` comes from in messages (``"prior set 'vague', key 'tau'"``);
        ``file`` and ``column`` (the TOML key path) go on each :class:`Problem`; ``role``
        (``mu``, ``tau``, ``log_tau2_smd``, ``beta``, ``alpha``) checks the support.

        Raises
        ------
        InputError
            Unknown distribution or parameter, missing or invalid parameter values.
        """
        def bad(msg: str) -> Problem:
            return Problem(f"{where}: {msg}", file=file, column=column)

        if not isinstance(d, Mapping):
            raise InputError(bad("must be a table like { dist = \"Normal\", mu = 0.0, sigma = 1.0 }"))
        dist = d.get("dist")
        if dist not in _SPECS:
            what = "key 'dist' is missing" if dist is None else f"unknown distribution {dist!r}"
            raise InputError(bad(f"{what}; allowed (PyMC names): " + ", ".join(sorted(_SPECS))))
        spec, allowed = _SPECS[dist], SUPPORTED_DISTRIBUTIONS[dist]
        problems, params = [], {}
        for key, value in d.items():
            if key == "dist":
                continue
            if key not in allowed:
                problems.append(bad(f"unknown parameter {key!r} of {dist}; allowed: "
                                    + (", ".join(allowed) or "none")))
                continue
            try:
                params[key] = _parse_value(value)
            except ValueError as exc:
                problems.append(bad(f"parameter {key!r}: {exc}"))
        if not problems:
            problems += [bad(m) for m in _check(dist, params)]
        if role is not None and spec.support not in _ROLE_DISTS[role]:
            fit = sorted(n for n, s in _SPECS.items() if s.support in _ROLE_DISTS[role])
            problems.append(bad(f"{dist} does not fit {role!r}; allowed: " + ", ".join(fit)))
        lower = params.get("lower", 0.0)
        if role == "tau" and dist == "Uniform" and (
                lower.factor if isinstance(lower, Scaled) else lower) < 0:
            problems.append(bad("tau is >= 0: a Uniform prior of tau needs lower >= 0"))
        if role == "log_tau2_smd" and dist == "Flat":
            problems.append(bad("an improper prior on log(tau^2) gives an improper posterior"))
        if problems:
            raise InputError(problems)
        return cls(dist, params)

    def resolve(self, ctx: PriorContext, where: str = "prior") -> Prior:
        """The same prior with every :class:`Scaled` value turned into a number."""
        params = {}
        for k, v in self.params.items():
            if isinstance(v, Scaled):
                base = getattr(ctx, v.by)
                if base is None or not math.isfinite(base):
                    raise InputError(Problem(f"{where}: parameter {k!r} scales with {v.by}, "
                                             "which is not available for these data"))
                v = v.factor * float(base)
            params[k] = float(v)
        errors = _check(self.dist, params)
        if errors:
            raise InputError([Problem(f"{where}: {m}") for m in errors])
        return Prior(self.dist, params)

    def _filled(self) -> dict[str, float]:
        if not self.resolved:
            raise ValueError(f"{self.dist} prior has data-scaled parameters: resolve() it first")
        return {**_SPECS[self.dist].defaults, **self.params}

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log density at ``x`` (numpy; scipy's densities in PyMC's parameterisation).

        Improper priors (Flat, HalfFlat) have log density 0 on their support.
        """
        x = np.asarray(x, dtype=float)
        if self.improper:
            lo = self.support[0]
            return np.where(x >= lo, 0.0, -np.inf)
        return _scipy(self.dist, tuple(sorted(self._filled().items()))).logpdf(x)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Cumulative distribution at ``x`` (HalfFlat: ``x``, the improper mass below x)."""
        x = np.asarray(x, dtype=float)
        if self.dist == "HalfFlat":
            return np.maximum(x, 0.0)
        if self.dist == "Flat":
            raise ValueError("a Flat prior has no distribution function")
        return _scipy(self.dist, tuple(sorted(self._filled().items()))).cdf(x)

    def to_pymc(self, name: str, dims: Any = None) -> Any:
        """Create this prior as a PyMC variable in the current ``pm.Model`` and return it."""
        import pymc as pm

        if not self.resolved:
            raise ValueError(f"prior of {name!r} has data-scaled parameters: resolve() it first")
        return getattr(pm, self.dist)(name, **{k: float(v) for k, v in self.params.items()},
                                      dims=dims)


def _parse_value(value: Any) -> float | Scaled:
    if isinstance(value, Scaled):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, Mapping)):
        raise ValueError(f"must be a number or a table like {{ unit_info_sd = 0.5 }}, not {value!r}")
    if isinstance(value, Mapping):
        if len(value) != 1 or next(iter(value)) not in SCALE_KEYS:
            raise ValueError("a data-scaled value is a table with one key, one of: "
                             + ", ".join(SCALE_KEYS))
        (by, factor), = value.items()
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not math.isfinite(factor):
            raise ValueError(f"the factor of {by} must be a finite number")
        return Scaled(float(factor), by)
    if not math.isfinite(value):
        raise ValueError("must be finite")
    return float(value)


def _check(dist: str, params: Mapping[str, float | Scaled]) -> list[str]:
    """Problems with a prior's parameter values (missing, wrong form, not positive)."""
    spec = _SPECS[dist]
    given = set(spec.defaults) | set(params)
    if not any(given == set(form) for form in spec.forms):
        forms = " or ".join("(" + ", ".join(f) + ")" for f in spec.forms)
        return [f"{dist} takes {forms}; got (" + ", ".join(sorted(params)) + ")"]
    out = []
    for k, v in params.items():
        # A data-scaled value is positive when its factor is (every scale but the centre is).
        val = v.factor if isinstance(v, Scaled) and v.by != "arm_mean_centre" else v
        if k in spec.positive and not isinstance(val, Scaled) and not val > 0:
            out.append(f"parameter {k!r} of {dist} must be > 0, not {val}")
    if dist == "Uniform":
        lo, hi = params.get("lower", 0.0), params.get("upper", 1.0)
        if not any(isinstance(v, Scaled) for v in (lo, hi)) and not lo < hi:
            out.append(f"Uniform needs lower < upper, not {lo} and {hi}")
    return out


def _sd(p: Mapping[str, float]) -> float:
    """sigma, or from PyMC's precision ``tau`` / ``lam``."""
    return p["sigma"] if "sigma" in p else p.get("tau", p.get("lam", 1.0)) ** -0.5


def _gamma_ab(dist: str, p: Mapping[str, float]) -> tuple[float, float]:
    if "alpha" in p:
        return p["alpha"], p["beta"]
    r = p["mu"] ** 2 / p["sigma"] ** 2  # PyMC's Gamma/InverseGamma._get_alpha_beta
    return (r, p["mu"] / p["sigma"] ** 2) if dist == "Gamma" else (r + 2.0, p["mu"] * (r + 1.0))


class _HalfT:
    """Half Student-t: twice the t density on [0, inf)."""

    def __init__(self, t: Any):
        self._t = t

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        return np.where(x >= 0, math.log(2.0) + self._t.logpdf(x), -np.inf)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return np.where(x >= 0, 2.0 * self._t.cdf(x) - 1.0, 0.0)


_SCIPY = {  # scipy.stats distribution equal to PyMC's dist(**params)
    "Normal": lambda st, p: st.norm(p["mu"], _sd(p)),
    "StudentT": lambda st, p: st.t(p["nu"], p["mu"], _sd(p)),
    "Cauchy": lambda st, p: st.cauchy(p["alpha"], p["beta"]),
    "Uniform": lambda st, p: st.uniform(p["lower"], p["upper"] - p["lower"]),
    "HalfNormal": lambda st, p: st.halfnorm(scale=_sd(p)),
    "HalfCauchy": lambda st, p: st.halfcauchy(scale=p["beta"]),
    "HalfStudentT": lambda st, p: _HalfT(st.t(p["nu"], 0.0, _sd(p))),
    "Exponential": lambda st, p: st.expon(scale=p.get("scale", 1.0 / p.get("lam", 1.0))),
    "LogNormal": lambda st, p: st.lognorm(s=_sd(p), scale=math.exp(p["mu"])),
    "Gamma": lambda st, p: (lambda a, b: st.gamma(a, scale=1.0 / b))(*_gamma_ab("Gamma", p)),
    "InverseGamma": lambda st, p: (lambda a, b: st.invgamma(a, scale=b))(*_gamma_ab("InverseGamma", p)),
}


@functools.lru_cache(maxsize=256)
def _scipy(dist: str, items: tuple[tuple[str, float], ...]) -> Any:
    """Cached: making a frozen scipy distribution costs ~0.5 ms, and the exact engine
    evaluates the tau prior many times."""
    from scipy import stats

    return _SCIPY[dist](stats, dict(items))


DEFAULT_BETA = Prior("Normal", {"mu": 0.0, "sigma": Scaled(0.25, "unit_info_sd")})
"""Slope prior when a set gives no ``beta``: Normal(0, 0.25 s_u) per SD of the covariate,
the slope prior suggested with unit-information scaling (Roever et al. 2021)."""


def default_alpha() -> Prior:
    """Arm-model baseline prior when a set gives no ``alpha`` (DESIGN.md): Normal centred at
    the mean of the arm means, SD 100 x their spread (so it is vague whatever the scale)."""
    return Prior("Normal", {"mu": Scaled(1.0, "arm_mean_centre"),
                            "sigma": Scaled(100.0, "arm_mean_spread")})


@dataclass(frozen=True)
class PriorSet:
    """A named set of priors. Exactly one of ``tau`` and ``log_tau2_smd`` is given.

    ``outcome_sd`` is filled in by :meth:`resolve` (it scales ``log_tau2_smd`` to tau).
    """

    name: str
    description: str
    mu: Prior
    tau: Prior | None = None
    log_tau2_smd: Prior | None = None
    beta: Prior | None = None
    alpha: Prior | None = None
    outcome_sd: float | None = None

    def __post_init__(self) -> None:
        if (self.tau is None) == (self.log_tau2_smd is None):
            raise ValueError("a prior set needs exactly one of tau and log_tau2_smd")

    @property
    def resolved(self) -> bool:
        priors = [p for p in (self.mu, self.tau, self.log_tau2_smd, self.beta, self.alpha) if p]
        return all(p.resolved for p in priors) and (
            self.log_tau2_smd is None or self.outcome_sd is not None)

    def resolve(self, ctx: PriorContext) -> PriorSet:
        """Numbers only, for the data summarised by ``ctx``; fills the ``beta`` default and,
        when ``ctx`` has arm means, the ``alpha`` default.

        Raises
        ------
        InputError
            A parameter scales with something ``ctx`` lacks, or resolves to a bad value.
        """
        def res(key: str, prior: Prior | None) -> Prior | None:
            return None if prior is None else prior.resolve(ctx, f"prior set {self.name!r}, key {key!r}")

        alpha = self.alpha
        if alpha is None and ctx.arm_mean_centre is not None and ctx.arm_mean_spread is not None:
            alpha = default_alpha()
        osd = self.outcome_sd
        if self.log_tau2_smd is not None and osd is None:
            if ctx.outcome_sd is None:
                raise InputError(Problem(f"prior set {self.name!r}, key 'log_tau2_smd': needs the "
                                         "outcome SD, which is not available for these data"))
            osd = float(ctx.outcome_sd)
        return replace(self, mu=res("mu", self.mu), tau=res("tau", self.tau),
                       log_tau2_smd=res("log_tau2_smd", self.log_tau2_smd),
                       beta=res("beta", self.beta or DEFAULT_BETA), alpha=res("alpha", alpha),
                       outcome_sd=osd)

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
    def from_dict(cls, name: str, d: Any, *, file: str | None = None) -> PriorSet:
        """Parse the TOML table of one set (every problem of it reported together)."""
        where = f"prior set {name!r}"
        col = f"prior_sets.{name}"
        if not isinstance(d, Mapping):
            raise InputError(Problem(f"{where}: must be a table", file=file, column=col))
        problems, priors = [], {}
        for key in d:
            if key not in SET_KEYS:
                problems.append(Problem(f"{where}: unknown key {key!r}; allowed: "
                                        + ", ".join(SET_KEYS), file=file, column=f"{col}.{key}"))
        for key in SET_KEYS[1:]:
            if key in d:
                try:
                    priors[key] = Prior.from_dict(d[key], f"{where}, key {key!r}", file=file,
                                                  column=f"{col}.{key}", role=key)
                except InputError as exc:  # gathered: all problems of a file are reported at once
                    problems.extend(exc.problems)
        if "mu" not in d:
            problems.append(Problem(f"{where}: key 'mu' is missing", file=file, column=f"{col}.mu"))
        if ("tau" in d) == ("log_tau2_smd" in d):
            problems.append(Problem(f"{where}: give exactly one of key 'tau' and key 'log_tau2_smd'",
                                    file=file, column=f"{col}.tau"))
        desc = d.get("description", "")
        if not isinstance(desc, str):
            problems.append(Problem(f"{where}: key 'description' must be a string", file=file,
                                    column=f"{col}.description"))
        if problems:
            raise InputError(problems)
        return cls(name=name, description=desc, **priors)

    def tau_logpdf(self, tau: np.ndarray) -> np.ndarray:
        """Log prior density of tau on the outcome scale (resolved sets only).

        For ``log_tau2_smd``: with L = 2 log(tau / outcome_sd), p(tau) = p_L(L) * 2 / tau.
        """
        tau = np.asarray(tau, dtype=float)
        if self.tau is not None:
            return self.tau.logpdf(tau)
        if self.outcome_sd is None:
            raise ValueError("resolve() the prior set first")
        with np.errstate(divide="ignore", invalid="ignore"):
            out = self.log_tau2_smd.logpdf(2.0 * np.log(tau / self.outcome_sd)) + np.log(2.0 / tau)
        return np.where(tau > 0, out, -np.inf)

    def tau_cdf(self, tau: np.ndarray) -> np.ndarray:
        """Prior distribution function of tau on the outcome scale (resolved sets only)."""
        tau = np.asarray(tau, dtype=float)
        if self.tau is not None:
            return self.tau.cdf(tau)
        with np.errstate(divide="ignore"):
            return self.log_tau2_smd.cdf(2.0 * np.log(np.maximum(tau, 0.0) / self.outcome_sd))

    def add_tau(self, name: str = "tau", dims: Any = None) -> Any:
        """Create tau's prior in the current ``pm.Model``; return the tau tensor.

        With ``log_tau2_smd`` the random variable is ``log_tau2_smd`` (``<name>_log_tau2_smd``
        for another name) and tau is a Deterministic named ``name``.
        """
        if self.tau is not None:
            return self.tau.to_pymc(name, dims=dims)
        import pymc as pm

        if self.outcome_sd is None:
            raise ValueError("resolve() the prior set first")
        rv = "log_tau2_smd" if name == "tau" else f"{name}_log_tau2_smd"
        log_tau2 = self.log_tau2_smd.to_pymc(rv, dims=dims)
        return pm.Deterministic(name, self.outcome_sd * pm.math.exp(log_tau2 / 2.0), dims=dims)


def prior_context(yi: Any, vi: Any, n_total: Any, n_treatment: Any = None, n_control: Any = None,
                  arm_means: Any = None, *, measure: str = "md") -> PriorContext:
    """Summaries of one dataset that data-scaled priors refer to.

    - ``unit_info_sd`` s_u = sqrt(sum(n_i) / sum(1 / vi)) (Roever et al. 2021).
    - ``outcome_sd``: 1.0 for ``measure="smd"``; for mean differences the within-arm SD
      implied by vi and the arm sizes, sqrt(vi / (1/n1 + 1/n2)), pooled over comparisons
      as variances with n1 + n2 - 2 weights; None when the arm sizes are not given.
    - ``arm_mean_centre`` / ``arm_mean_spread``: mean and SD (ddof=1) of the arm means;
      when they do not vary (or there is one), the spread is the outcome SD instead.
    """
    vi = np.asarray(vi, dtype=float)
    n = np.asarray(n_total, dtype=float)
    if vi.size == 0 or n.shape != vi.shape:
        raise InputError(Problem("prior context: vi and n_total must be non-empty and of one length"))
    if not (np.all(np.isfinite(vi)) and np.all(vi > 0)):
        raise InputError(Problem("prior context: every vi must be finite and > 0"))
    if not (np.all(np.isfinite(n)) and np.all(n > 0)):
        raise InputError(Problem("prior context: every n must be finite and > 0"))
    s_u = math.sqrt(n.sum() / np.sum(1.0 / vi))
    if measure == "smd":
        osd: float | None = 1.0
    elif n_treatment is not None and n_control is not None:
        n1, n2 = np.asarray(n_treatment, float), np.asarray(n_control, float)
        var = vi / (1.0 / n1 + 1.0 / n2)
        df = np.maximum(n1 + n2 - 2.0, 0.0)
        wts = df if df.sum() > 0 else n1 + n2
        osd = math.sqrt(np.sum(wts * var) / np.sum(wts))
    else:
        osd = None
    centre = spread = None
    if arm_means is not None:
        m = np.asarray(arm_means, dtype=float)
        centre = float(m.mean())
        spread = float(m.std(ddof=1)) if m.size > 1 else 0.0
        if not spread > 0:
            spread = osd if osd is not None else s_u
    return PriorContext(unit_info_sd=s_u, outcome_sd=osd, arm_mean_spread=spread,
                        arm_mean_centre=centre)


_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def load_prior_sets(path: str | Path) -> dict[str, PriorSet]:
    """Read the prior sets of a TOML file (``[prior_sets.NAME]`` tables).

    Raises
    ------
    InputError
        Missing or malformed file (with the TOML parser's line and column), unknown keys,
        distributions or parameters, missing ``mu`` or tau prior, bad values; all at once.
    """
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(Problem(f"cannot read prior-set file: {exc.strerror}", file=file)) from exc
    except UnicodeDecodeError as exc:
        raise InputError(Problem(f"cannot read prior-set file: not UTF-8 text (byte {exc.start})",
                                 file=file)) from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS.search(str(exc))
        raise InputError(Problem(f"malformed TOML: {exc}", file=file,
                                 row=int(m.group(1)) if m else None)) from exc
    problems = [Problem(f"unknown top-level key {k!r}; allowed: prior_sets", file=file, column=k)
                for k in doc if k != "prior_sets"]
    tables = doc.get("prior_sets")
    if not isinstance(tables, dict) or not tables:
        problems.append(Problem("no prior sets: add tables [prior_sets.NAME]", file=file,
                                column="prior_sets"))
        raise InputError(problems)
    sets = {}
    for name, table in tables.items():
        try:
            sets[name] = PriorSet.from_dict(name, table, file=file)
        except InputError as exc:  # gathered and re-raised below, with every other problem
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return sets


def bundled_prior_sets() -> dict[str, PriorSet]:
    """The prior sets shipped with the package (``models/priors.toml``)."""
    with resources.as_file(resources.files("bayes_msc") / "resources" / "priors.toml") as p:
        return load_prior_sets(p)


def get_prior_set(name: str, path: str | Path | None = None) -> PriorSet:
    """One prior set by name, from ``path`` or the bundled file."""
    sets = bundled_prior_sets() if path is None else load_prior_sets(path)
    if name not in sets:
        raise InputError(Problem(f"unknown prior set {name!r}; available: " + ", ".join(sets),
                                 file=None if path is None else str(path), column="prior"))
    return sets[name]


def prior_sets_to_toml(sets: Mapping[str, PriorSet]) -> str:
    """TOML text that :func:`load_prior_sets` reads back into equal (unresolved) sets."""
    def val(v: Any) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + " }"
        return json.dumps(v) if isinstance(v, str) else repr(float(v))

    lines = []
    for name, ps in sets.items():
        bare = re.fullmatch(r"[A-Za-z0-9_-]+", name) is not None
        lines.append(f"[prior_sets.{name if bare else json.dumps(name)}]")
        for key, value in ps.to_dict().items():
            if key not in ("name", "outcome_sd"):
                lines.append(f"{key} = {val(value)}")
        lines.append("")
    return "\n".join(lines)


__all__ = [
    "DEFAULT_BETA", "Prior", "PriorContext", "PriorSet", "SCALE_KEYS", "SUPPORTED_DISTRIBUTIONS",
    "Scaled", "bundled_prior_sets", "default_alpha", "get_prior_set", "load_prior_sets",
    "prior_context", "prior_sets_to_toml"]

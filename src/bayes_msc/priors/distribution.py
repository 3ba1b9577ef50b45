"""One prior: a PyMC distribution name and its parameters, without importing PyMC.

:class:`Prior` validates a distribution name and its PyMC parameters against a static
table (:data:`SUPPORTED_DISTRIBUTIONS`, checked against PyMC's signatures in
tests/test_priors.py), holds numbers or data-scaled values (:class:`Scaled`, resolved with
a :class:`PriorContext`), and evaluates its log density and distribution function with
scipy in PyMC's parameterisation. Prior sets are in :mod:`bayes_msc.priors.sets`;
the TOML format is described in :mod:`bayes_msc.priors`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from bayes_msc.errors import InputError, Problem
from bayes_msc.priors.ranges import range_problems
from bayes_msc.priors.scipy_forms import scipy_distribution as _scipy

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
    "StudentT": _Spec((("nu", "mu", "sigma"), ("nu", "mu", "lam")), {"mu": 0.0}, ("nu", "sigma", "lam"), "real"),
    "Cauchy": _Spec((("alpha", "beta"),), {}, ("beta",), "real"),
    "Flat": _Spec(((),), {}, (), "real"),
    "Uniform": _Spec((("lower", "upper"),), {"lower": 0.0, "upper": 1.0}, (), "interval"),
    "HalfNormal": _Spec((("sigma",), ("tau",)), {}, ("sigma", "tau"), "positive"),
    "HalfCauchy": _Spec((("beta",),), {}, ("beta",), "positive"),
    "HalfStudentT": _Spec((("nu", "sigma"), ("nu", "lam")), {}, ("nu", "sigma", "lam"), "positive"),
    "Exponential": _Spec((("lam",), ("scale",)), {}, ("lam", "scale"), "positive"),
    "LogNormal": _Spec((("mu", "sigma"), ("mu", "tau")), {"mu": 0.0}, ("sigma", "tau"), "positive"),
    "Gamma": _Spec((("alpha", "beta"), ("mu", "sigma")), {}, ("alpha", "beta", "mu", "sigma"), "positive"),
    "InverseGamma": _Spec((("alpha", "beta"), ("mu", "sigma")), {}, ("alpha", "beta", "mu", "sigma"), "positive"),
    "HalfFlat": _Spec(((),), {}, (), "positive"),
}

SUPPORTED_DISTRIBUTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {name: tuple(dict.fromkeys(p for form in spec.forms for p in form)) for name, spec in _SPECS.items()}
)
"""PyMC distribution name -> its parameter names, for every distribution a prior may use."""

_ROLE_DISTS = {  # which distributions fit which key (by support)
    "mu": ("real", "interval"),
    "beta": ("real", "interval"),
    "alpha": ("real", "interval"),
    "tau": ("positive", "interval"),
    "log_tau2_smd": ("real",),
}


def fits(dist: str, role: str) -> bool:
    """Whether distribution ``dist``'s support suits the prior-set key ``role``."""
    return dist in _SPECS and _SPECS[dist].support in _ROLE_DISTS[role]


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
    """The data summaries that :class:`Scaled` values refer to (see
    :func:`bayes_msc.priors.sets.prior_context`)."""

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


@dataclass(frozen=True, init=False)
class Prior:
    """One prior: a PyMC distribution name and its parameters (numbers or :class:`Scaled`).

    Give the parameters as keywords, with PyMC's names, or as one mapping::

        Prior("Normal", mu=0, sigma=20)
        Prior("HalfCauchy", beta=10)
        Prior("HalfNormal", {"sigma": Scaled(0.5, "unit_info_sd")})   # data-scaled

    Raises
    ------
    InputError
        An unknown distribution or parameter, a missing or invalid value (as in a
        prior-set file).
    """

    dist: str
    params: Mapping[str, float | Scaled]

    def __init__(
        self, dist: str, params: Mapping[str, float | Scaled] | None = None, **keywords: float | Scaled
    ) -> None:
        if params is not None and keywords:
            raise TypeError("give a prior's parameters as keywords or as one mapping, not both")
        given = dict(params if params is not None else keywords)
        problems = _problems(dist, given, f"Prior({dist!r})")
        if problems:
            raise InputError([Problem(m) for m in problems])
        object.__setattr__(self, "dist", dist)
        object.__setattr__(self, "params", _Params({k: _parse_value(v) for k, v in given.items()}))

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Prior({self.dist!r}{args})"

    @property
    def resolved(self) -> bool:
        """True when every parameter is a number."""
        return not any(isinstance(v, Scaled) for v in self.params.values())

    @property
    def support(self) -> tuple[float, float]:
        """(lower, upper) of the support (resolved priors only)."""
        kind = _SPECS[self.dist].support
        if kind == "interval":
            p = self.filled()
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
    def from_dict(
        cls, d: object, where: str, *, file: str | None = None, column: str | None = None, role: str | None = None
    ) -> Prior:
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
            return Problem(f"{where}: {msg}", file=file, key=column)

        if isinstance(d, Prior):
            d = {"dist": d.dist, **d.params}
        if not isinstance(d, Mapping):
            raise InputError(bad('must be a table like { dist = "Normal", mu = 0.0, sigma = 1.0 }'))
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
                problems.append(bad(f"unknown parameter {key!r} of {dist}; allowed: " + (", ".join(allowed) or "none")))
                continue
            try:
                params[key] = _parse_value(value)
            except ValueError as exc:
                problems.append(bad(f"parameter {key!r}: {exc}"))
        if not problems:
            problems += [bad(m) for m in _check(dist, params)]
        if not problems:
            problems += [bad(m) for m in range_problems(dist, params, role)]
        if role is not None and spec.support not in _ROLE_DISTS[role]:
            fit = sorted(n for n, s in _SPECS.items() if s.support in _ROLE_DISTS[role])
            problems.append(bad(f"{dist} does not fit {role!r}; allowed: " + ", ".join(fit)))
        lower = params.get("lower", 0.0)
        if role == "tau" and dist == "Uniform" and (lower.factor if isinstance(lower, Scaled) else lower) < 0:
            problems.append(bad("tau is >= 0: a Uniform prior of tau needs lower >= 0"))
        if role == "log_tau2_smd" and dist == "Flat":
            problems.append(bad("an improper prior on log(tau^2) gives an improper posterior"))
        if problems:
            raise InputError(problems)
        return cls(dist, params)

    def resolve(self, ctx: PriorContext, where: str = "prior", role: str | None = None) -> Prior:
        """The same prior with every :class:`Scaled` value turned into a number.

        Numbers given as numbers are checked against their ranges
        (:mod:`bayes_msc.priors.ranges`; for priors made in Python without
        :meth:`from_dict`); resolved data-scaled values are as large as the data make them.
        """
        given = range_problems(self.dist, {k: v for k, v in self.params.items() if not isinstance(v, Scaled)}, role)
        if given:
            raise InputError([Problem(f"{where}: {m}") for m in given])
        params: dict[str, float] = {}
        for k, v in self.params.items():
            if isinstance(v, Scaled):
                base = getattr(ctx, v.by)
                if base is None or not math.isfinite(base):
                    raise InputError(
                        Problem(f"{where}: parameter {k!r} scales with {v.by}, which is not available for these data")
                    )
                params[k] = float(v.factor * float(base))
            else:
                params[k] = float(v)
        errors = _check(self.dist, params) + [
            f"parameter {k!r} of {self.dist} resolves to {v:g}, which is not a finite number"
            for k, v in params.items()
            if not math.isfinite(v)
        ]
        if errors:
            raise InputError([Problem(f"{where}: {m}") for m in errors])
        return Prior(self.dist, params)

    def filled(self) -> dict[str, float]:
        """Every parameter as a number, PyMC's defaults included (resolved priors only).

        Raises
        ------
        ValueError
            The prior has data-scaled parameters (:meth:`resolve` it first).
        """
        out = dict(_SPECS[self.dist].defaults)
        for k, v in self.params.items():
            if isinstance(v, Scaled):
                raise ValueError(f"{self.dist} prior has data-scaled parameters: resolve() it first")
            out[k] = v
        return out

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log density at ``x`` (numpy; scipy's densities in PyMC's parameterisation).

        Improper priors (Flat, HalfFlat) have log density 0 on their support.
        """
        x = np.asarray(x, dtype=float)
        if self.improper:
            lo = self.support[0]
            return np.where(x >= lo, 0.0, -np.inf)
        return _scipy(self.dist, tuple(sorted(self.filled().items()))).logpdf(x)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Cumulative distribution at ``x`` (HalfFlat: ``x``, the improper mass below x)."""
        x = np.asarray(x, dtype=float)
        if self.dist == "HalfFlat":
            return np.maximum(x, 0.0)
        if self.dist == "Flat":
            raise ValueError("a Flat prior has no distribution function")
        return _scipy(self.dist, tuple(sorted(self.filled().items()))).cdf(x)

    def sample(self, size: int | tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Independent draws (numpy array of shape ``size``; scipy's samplers in PyMC's
        parameterisation), for the prior group of a fit's DataTree.

        Raises
        ------
        ValueError
            An improper prior (Flat, HalfFlat) has no draws.
        """
        if self.improper:
            raise ValueError(f"an improper {self.dist} prior has no draws")
        return np.asarray(_scipy(self.dist, tuple(sorted(self.filled().items()))).rvs(size=size, random_state=rng))

    def to_pymc(self, name: str, dims: str | Sequence[str] | None = None) -> Any:
        """Create this prior as a PyMC variable in the current ``pm.Model`` and return it."""
        import pymc as pm

        params: dict[str, float] = {}
        for k, v in self.params.items():
            if isinstance(v, Scaled):
                raise ValueError(f"prior of {name!r} has data-scaled parameters: resolve() it first")
            params[k] = float(v)
        return getattr(pm, self.dist)(name, **params, dims=dims)


def _parse_value(value: object) -> float | Scaled:
    if isinstance(value, Scaled):
        return value
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, Mapping)):
        raise ValueError(f"must be a number or a table like {{ unit_info_sd = 0.5 }}, not {value!r}")
    if isinstance(value, Mapping):
        if len(value) != 1 or next(iter(value)) not in SCALE_KEYS:
            raise ValueError("a data-scaled value is a table with one key, one of: " + ", ".join(SCALE_KEYS))
        ((by, factor),) = value.items()
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not math.isfinite(factor):
            raise ValueError(f"the factor of {by} must be a finite number")
        return Scaled(float(factor), by)
    if not math.isfinite(float(value)):
        raise ValueError("must be finite")
    return float(value)


def _problems(dist: object, params: Mapping[str, object], where: str) -> list[str]:
    """Problems of a distribution name and its parameters given in Python."""
    if not isinstance(dist, str) or dist not in _SPECS:
        return [f"{where}: unknown distribution {dist!r}; allowed (PyMC names): " + ", ".join(sorted(_SPECS))]
    allowed = SUPPORTED_DISTRIBUTIONS[dist]
    out, values = [], {}
    for key, value in params.items():
        if key not in allowed:
            out.append(f"{where}: unknown parameter {key!r} of {dist}; allowed: " + (", ".join(allowed) or "none"))
            continue
        try:
            values[key] = _parse_value(value)
        except ValueError as exc:
            out.append(f"{where}: parameter {key!r}: {exc}")
    return out or [f"{where}: {m}" for m in _check(dist, values)]


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
        if isinstance(v, Scaled) and v.by == "arm_mean_centre":
            continue
        val = v.factor if isinstance(v, Scaled) else v
        if k in spec.positive and not val > 0:
            out.append(f"parameter {k!r} of {dist} must be > 0, not {val}")
    if dist == "Uniform":
        lo, hi = params.get("lower", 0.0), params.get("upper", 1.0)
        if not isinstance(lo, Scaled) and not isinstance(hi, Scaled) and not lo < hi:
            out.append(f"Uniform needs lower < upper, not {lo} and {hi}")
    return out

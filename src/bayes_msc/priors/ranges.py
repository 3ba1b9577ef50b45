"""The range each prior parameter must lie in, so that every engine can compute with it.

A prior's numbers are checked when a prior-set file is read (and again when a prior set
is resolved for a fit, for priors made in Python): a value outside its range is refused
with the key, the parameter, its value and the allowed range. The ranges are wide for any
outcome scale in use (an SD from 10^-6 to 10^6 units) and narrow enough that the quadrature
and the sampler stay inside double precision: a HalfNormal(1e-9) or Exponential(lam=1e300)
prior of tau, a Uniform(0, 1e-300) or a Normal(1e308, 1) is refused, not sampled.

Each parameter has a kind (:data:`KINDS`); on a log scale (``log_tau2_smd``, and the
``mu``/``sigma`` of a LogNormal) the location and scale ranges are those of logarithms.
Data-scaled values (``{ unit_info_sd = 0.5 }``) are checked by their factor.
"""

from __future__ import annotations

from collections.abc import Mapping

LOCATION_MAX = 1e6
"""Largest magnitude of a location (``mu`` of a Normal, ``lower``/``upper`` of a Uniform)."""
SCALE_RANGE = (1e-6, 1e6)
"""Range of a scale (an SD such as ``sigma``, a Cauchy ``beta``, an Exponential ``scale``)."""
LOG_LOCATION_MAX = {"log_tau2_smd": 30.0, "LogNormal": 15.0}
"""Largest magnitude of a location on the log scale: log(tau^2 / SD^2), log(tau)."""
LOG_SCALE_RANGE = (1e-3, 10.0)
"""Range of a scale on the log scale."""
NU_RANGE = (0.1, 1e6)
"""Range of a Student-t's degrees of freedom."""
SHAPE_RANGE = (1e-2, 1e4)
"""Range of a Gamma's or an inverse Gamma's shape ``alpha``."""
UNIFORM_MIN_WIDTH = 1e-12
"""Smallest width ``upper - lower`` of a Uniform, relative to ``max(1, |lower|, |upper|)``:
far above double precision's 2e-16, so the quadrature and the sampler can still tell the
bounds apart, and small enough to fix tau at a value for a check against metafor (a width
of 2e-9 tau, tests/test_bayes_validation.py)."""

KINDS: Mapping[str, Mapping[str, str]] = {
    "Normal": {"mu": "location", "sigma": "scale", "tau": "precision"},
    "StudentT": {"nu": "nu", "mu": "location", "sigma": "scale", "lam": "precision"},
    "Cauchy": {"alpha": "location", "beta": "scale"},
    "Uniform": {"lower": "location", "upper": "location"},
    "HalfNormal": {"sigma": "scale", "tau": "precision"},
    "HalfCauchy": {"beta": "scale"},
    "HalfStudentT": {"nu": "nu", "sigma": "scale", "lam": "precision"},
    "Exponential": {"lam": "rate", "scale": "scale"},
    "LogNormal": {"mu": "log location", "sigma": "log scale", "tau": "log precision"},
    "Gamma": {"alpha": "shape", "beta": "rate", "mu": "scale", "sigma": "scale"},
    "InverseGamma": {"alpha": "shape", "beta": "scale", "mu": "scale", "sigma": "scale"},
}
"""The kind of every parameter, by distribution."""


def _bounds(kind: str, dist: str, role: str | None) -> tuple[float, float, str]:
    """(low, high, what) of a parameter of ``kind``."""
    log = role == "log_tau2_smd" or kind.startswith("log ")
    base = kind.removeprefix("log ")
    if base == "location":
        top = LOG_LOCATION_MAX["LogNormal" if dist == "LogNormal" else "log_tau2_smd"] if log else LOCATION_MAX
        return -top, top, "a location" + (" on the log scale" if log else "")
    lo, hi = LOG_SCALE_RANGE if log else SCALE_RANGE
    if base == "scale":
        return lo, hi, "a scale" + (" on the log scale" if log else "")
    if base == "precision":  # 1 / scale^2
        return hi**-2, lo**-2, "a precision (1 / scale^2)" + (" on the log scale" if log else "")
    if base == "rate":  # 1 / scale
        return 1 / hi, 1 / lo, "a rate (1 / scale)"
    if base == "nu":
        return NU_RANGE[0], NU_RANGE[1], "degrees of freedom"
    return SHAPE_RANGE[0], SHAPE_RANGE[1], "a shape"


def range_problems(dist: str, params: Mapping[str, object], role: str | None = None) -> list[str]:
    """Messages for the parameters of ``dist`` outside their ranges (numbers, and the
    factors of data-scaled values; ``role`` is the prior's key, e.g. ``log_tau2_smd``)."""
    out = []
    kinds = KINDS.get(dist, {})
    for name, value in params.items():
        factor = getattr(value, "factor", None)
        number = factor if factor is not None else value
        if name not in kinds or not isinstance(number, (int, float)):
            continue
        low, high, what = _bounds(kinds[name], dist, role)
        if not low <= number <= high:
            which = "the factor of parameter" if factor is not None else "parameter"
            out.append(f"{which} {name!r} of {dist} is {number:g}; allowed: {low:g} to {high:g} ({what})")
    if dist == "Uniform":
        lo, hi = params.get("lower", 0.0), params.get("upper", 1.0)
        if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo < hi:
            least = UNIFORM_MIN_WIDTH * max(1.0, abs(lo), abs(hi))
            if hi - lo < least:
                out.append(
                    f"Uniform's width upper - lower is {hi - lo:g}; allowed: at least {least:g} "
                    f"({UNIFORM_MIN_WIDTH:g} x max(1, |lower|, |upper|))"
                )
    return out

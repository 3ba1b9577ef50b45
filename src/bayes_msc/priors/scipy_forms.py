"""scipy.stats forms of the PyMC prior distributions, for the exact engine's densities,
distribution functions and prior draws (PyMC's own logp would compile a graph per call).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import numpy as np


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

    def rvs(self, size: Any = None, random_state: Any = None) -> np.ndarray:
        return np.abs(self._t.rvs(size=size, random_state=random_state))


def _gamma(st: ModuleType, p: Mapping[str, float]) -> Any:
    a, b = _gamma_ab("Gamma", p)
    return st.gamma(a, scale=1.0 / b)


def _inverse_gamma(st: ModuleType, p: Mapping[str, float]) -> Any:
    a, b = _gamma_ab("InverseGamma", p)
    return st.invgamma(a, scale=b)


# scipy.stats distribution equal to PyMC's dist(**params), from scipy.stats and the parameters
_SCIPY: dict[str, Callable[[ModuleType, Mapping[str, float]], Any]] = {
    "Normal": lambda st, p: st.norm(p["mu"], _sd(p)),
    "StudentT": lambda st, p: st.t(p["nu"], p["mu"], _sd(p)),
    "Cauchy": lambda st, p: st.cauchy(p["alpha"], p["beta"]),
    "Uniform": lambda st, p: st.uniform(p["lower"], p["upper"] - p["lower"]),
    "HalfNormal": lambda st, p: st.halfnorm(scale=_sd(p)),
    "HalfCauchy": lambda st, p: st.halfcauchy(scale=p["beta"]),
    "HalfStudentT": lambda st, p: _HalfT(st.t(p["nu"], 0.0, _sd(p))),
    "Exponential": lambda st, p: st.expon(scale=p.get("scale", 1.0 / p.get("lam", 1.0))),
    "LogNormal": lambda st, p: st.lognorm(s=_sd(p), scale=math.exp(p["mu"])),
    "Gamma": _gamma,
    "InverseGamma": _inverse_gamma,
}


@functools.lru_cache(maxsize=256)
def scipy_distribution(dist: str, items: tuple[tuple[str, float], ...]) -> Any:
    """The frozen scipy.stats distribution equal to PyMC's ``dist(**dict(items))``.

    Cached: making a frozen scipy distribution costs ~0.5 ms, and the exact engine
    evaluates the tau prior many times."""
    from scipy import stats

    return _SCIPY[dist](stats, dict(items))

"""bayes-msc: Bayesian and frequentist random-effects meta-analysis of randomised trials.

The Python API (:mod:`bayes_msc.api`) is re-exported here lazily, so ``import bayes_msc``
imports nothing heavy until a function is used::

    import bayes_msc as bm
    effects = bm.effect_table(bm.read_dataset("data/msc_knee_oa_simulated"), "vas", 12)
    result = bm.fit(effects)
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "arm_table",
    "compare_priors",
    "effect_table",
    "exact_posterior",
    "fit",
    "metareg",
    "pool",
    "read_dataset",
    "simulate",
]


def __getattr__(name: str) -> Any:
    """Import :mod:`bayes_msc.api` on first use of one of its functions."""
    if name in __all__:
        from bayes_msc import api

        return getattr(api, name)
    raise AttributeError(f"module 'bayes_msc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)

"""The MCMC sampler: nutpie, one compiled model per model structure for the life of the process.

nutpie compiles a model once per :class:`~bayes_msc.bayes.mcmc.models.Structure` (model
kind, padded size, number of covariates, prior families); data, prior hyperparameters,
padding and the parameterisation are all ``pm.Data``, so any later fit with the same
structure only re-samples (``compiled.with_data(...)``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from bayes_msc.bayes.mcmc.models import Structure, build_model, traced

_COMPILED: dict[Structure, tuple[Any, Any]] = {}
_STARTED = [0]  # nutpie samplers started in this process (see samplers_started)


def samplers_started() -> int:
    """How many nutpie samplers this process has started. Their threads make forking the
    process unsafe afterwards (a forked child that frees a copied sampler waits forever for
    threads it does not have), so code that forks workers asks this first."""
    return _STARTED[0]


def compiled_model(structure: Structure) -> tuple[Any, Any]:
    """``(pm.Model, nutpie compiled model)`` of ``structure``, compiled once per process."""
    hit = _COMPILED.get(structure)
    if hit is None:
        import nutpie
        import pytensor

        model = build_model(structure)
        # Always with PyTensor's numba disk cache (its default): a warm cache halves the
        # compile, and cold and warm give bit-identical draws. The setting itself is fixed
        # here because it selects different kernels (the cache off changed the last bits of
        # the dense model's draws): a user's PYTENSOR_FLAGS must not change a seed's draws.
        cache = pytensor.config.numba__cache
        pytensor.config.numba__cache = True
        try:
            hit = (model, nutpie.compile_pymc_model(model, var_names=traced(model)))
        finally:
            pytensor.config.numba__cache = cache
        _COMPILED[structure] = hit
    return hit


def sample(
    structure: Structure,
    values: dict[str, np.ndarray],
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float,
) -> Any:
    """nutpie's draws (a DataTree) of the compiled ``structure`` with ``values`` as its data."""
    import nutpie
    import pymc as pm

    model, compiled = compiled_model(structure)
    pm.set_data(values, model=model)  # the initial points are computed from the model's data
    _STARTED[0] += 1
    sampler = nutpie.sample(
        compiled.with_data(**values),
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        cores=max(1, min(chains, os.cpu_count() or 1)),
        progress_bar=False,
        save_warmup=False,
        target_accept=target_accept,
        blocking=False,
    )
    try:
        return sampler.wait()
    except KeyboardInterrupt:
        # nutpie's blocking call would return the draws so far; an interrupt must stop the fit
        sampler.cancel()
        raise

"""bayes-msc: Bayesian and frequentist random-effects meta-analysis of randomised trials.

The Python API (:mod:`bayes_msc.api`) and its types are re-exported here lazily, so
``import bayes_msc`` imports nothing heavy until a name is used::

    import bayes_msc as bm
    effects = bm.effect_table(bm.read_dataset("data/msc_knee_oa_simulated"), "vas", 12)
    result = bm.fit(effects)
    review = bm.run_spec("models/simulated_demo.toml", out="reports/simulated_demo")
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_FUNCTIONS = (
    "arm_table",
    "compare_priors",
    "effect_table",
    "exact_posterior",
    "fit",
    "leave1out",
    "load_result",
    "load_spec",
    "metareg",
    "plot_forest",
    "plot_metareg",
    "plot_priors",
    "plot_trace",
    "pool",
    "read_dataset",
    "run_spec",
    "simulate",
    "simulate_dataset",
    # issue 15's toolbox
    "confint",
    "regtest",
    "ranktest",
    "trimfill",
    "influence",
    "cumulative",
    "bayes_factors",
    "pppvalue",
    "plot_funnel",
    "plot_baujat",
    "plot_cumulative",
    # issue 16: subgroups
    "subgroup",
    "subgroup_posterior",
    "plot_subgroup",
    # issue 18: simulation studies
    "load_study",
    "simulation_study",
    "plot_simulation_study",
)
"""Functions of :mod:`bayes_msc.api`."""

_TYPES: dict[str, str] = {
    "InputError": "bayes_msc.errors",
    "Problem": "bayes_msc.errors",
    "Dataset": "bayes_msc.data.dataset",
    "EffectTable": "bayes_msc.data.effects",
    "ArmTable": "bayes_msc.data.effects",
    "PoolResult": "bayes_msc.results.frequentist",
    "MetaRegResult": "bayes_msc.results.frequentist",
    "LeaveOneOutResult": "bayes_msc.results.frequentist",
    "BayesResult": "bayes_msc.results.bayes",
    "Verdict": "bayes_msc.results.bayes",
    "PriorComparison": "bayes_msc.results.comparison",
    "Prior": "bayes_msc.priors",
    "PriorSet": "bayes_msc.priors",
    "load_prior_sets": "bayes_msc.priors",
    "bundled_prior_sets": "bayes_msc.priors",
    "Spec": "bayes_msc.workflow.spec",
    "RunResults": "bayes_msc.workflow.results",
    # issue 15's toolbox
    "ConfintResult": "bayes_msc.results.toolbox.heterogeneity",
    "RegtestResult": "bayes_msc.results.toolbox.small_study",
    "RanktestResult": "bayes_msc.results.toolbox.small_study",
    "TrimfillResult": "bayes_msc.results.toolbox.small_study",
    "InfluenceResult": "bayes_msc.results.toolbox.influence",
    "CumulativeResult": "bayes_msc.results.toolbox.influence",
    "BayesFactors": "bayes_msc.results.toolbox.evidence",
    "PredictiveCheck": "bayes_msc.results.toolbox.evidence",
    # issue 16: subgroups
    "SubgroupResult": "bayes_msc.results.subgroup",
    "BayesSubgroupResult": "bayes_msc.results.subgroup",
    # issue 18: simulation studies
    "Study": "bayes_msc.simstudy.spec",
    "SimulationStudyResult": "bayes_msc.simstudy.result",
}
"""Result types, priors and errors, by the module that defines them."""

__all__ = sorted((*_FUNCTIONS, *_TYPES, "__version__"))


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on its first use."""
    if name in _FUNCTIONS:
        return getattr(importlib.import_module("bayes_msc.api"), name)
    if name in _TYPES:
        return getattr(importlib.import_module(_TYPES[name]), name)
    raise AttributeError(f"module 'bayes_msc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

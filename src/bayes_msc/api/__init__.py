"""The Python API of bayes-msc: one import for the whole workflow.

>>> import bayes_msc as bm
>>> ds = bm.read_dataset("data/msc_knee_oa_simulated")                  # doctest: +SKIP
>>> effects = bm.effect_table(ds, "vas", 12)                            # doctest: +SKIP
>>> bm.pool(effects, method="reml").summary()                           # doctest: +SKIP
>>> result = bm.fit(effects, prior="weakly_informative")                # doctest: +SKIP
>>> result.summary(); result.verdict                                    # doctest: +SKIP
>>> bm.compare_priors(effects).summary()                                # doctest: +SKIP
>>> review = bm.run_spec("models/simulated_demo.toml", out="reports/demo")  # doctest: +SKIP

Stage 1 (data): :func:`read_dataset`, :func:`effect_table` (``yi``/``vi`` per comparison,
metafor's ``escalc``), :func:`arm_table` (arm-level data for the ``arm`` model).
Stage 2 (inference): :func:`pool`, :func:`metareg` and :func:`leave1out` (frequentist, as
metafor's ``rma`` and ``leave1out``), :func:`fit` (exact quadrature or PyMC/nutpie, the
engine chosen per model), :func:`exact_posterior`, :func:`compare_priors`,
:func:`simulate` (outcomes for a design from stated true parameters).
The whole review: :func:`load_spec` and :func:`run_spec` (what ``bayes-msc run`` does).
Figures (each a matplotlib ``Figure``): :func:`plot_forest`, :func:`plot_priors`,
:func:`plot_metareg`, :func:`plot_trace`.
Simulation studies (designs x replications x methods, on Dask): :func:`load_study`,
:func:`simulation_study`, :func:`plot_simulation_study`.

Every function raises :class:`bayes_msc.errors.InputError` on bad input. Heavy libraries
(PyMC, ArviZ, nutpie, matplotlib) are imported only by the functions that need them.
"""

from __future__ import annotations

from bayes_msc.api.core import (
    arm_table,
    compare_priors,
    effect_table,
    exact_posterior,
    fit,
    leave1out,
    load_result,
    load_spec,
    metareg,
    pool,
    read_dataset,
    run_spec,
    simulate,
    simulate_dataset,
)
from bayes_msc.api.door import checked
from bayes_msc.api.plots import (
    plot_baujat,
    plot_cumulative,
    plot_forest,
    plot_funnel,
    plot_metareg,
    plot_priors,
    plot_trace,
)
from bayes_msc.api.simulation import load_study, plot_simulation_study, simulation_study
from bayes_msc.api.subgroups import plot_subgroup, subgroup, subgroup_posterior
from bayes_msc.api.toolbox import bayes_factors, confint, cumulative, influence, pppvalue, ranktest, regtest, trimfill

__all__ = [
    "arm_table",
    "bayes_factors",
    "compare_priors",
    "confint",
    "cumulative",
    "effect_table",
    "exact_posterior",
    "fit",
    "influence",
    "leave1out",
    "load_result",
    "load_spec",
    "load_study",
    "metareg",
    "plot_baujat",
    "plot_cumulative",
    "plot_forest",
    "plot_funnel",
    "plot_metareg",
    "plot_priors",
    "plot_simulation_study",
    "plot_subgroup",
    "plot_trace",
    "pool",
    "pppvalue",
    "ranktest",
    "read_dataset",
    "regtest",
    "run_spec",
    "simulate",
    "simulate_dataset",
    "simulation_study",
    "subgroup",
    "subgroup_posterior",
    "trimfill",
]

# Every public function checks the kinds of its arguments at the door (api/door.py).
_namespace = globals()
for _name in __all__:
    _namespace[_name] = checked(_namespace[_name])
del _namespace, _name

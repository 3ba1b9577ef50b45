"""Subgroups and categorical moderators in the Python API (re-exported by
:mod:`bayes_msc.api`): the work is in :mod:`bayes_msc.frequentist.subgroup` and
:mod:`bayes_msc.bayes.subgroups`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bayes_msc.data.effects import EffectTable
from bayes_msc.results.layout import CI_LEVEL

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bayes_msc.priors import PriorSet
    from bayes_msc.results.subgroup import BayesSubgroupResult, SubgroupResult

__all__ = ["plot_subgroup", "subgroup", "subgroup_posterior"]


def subgroup(
    effects: EffectTable,
    by: str,
    reference: str | None = None,
    method: str = "dl",
    tau2: str = "separate",
    hksj: bool = False,
    level: float = CI_LEVEL,
) -> SubgroupResult:
    """Pooled effect per level of a factor and the test for subgroup differences.

    Parameters
    ----------
    effects : EffectTable
        From :func:`effect_table`; its text columns (``control_type``, ``risk_of_bias``,
        ...) are factors, a numeric column is taken level by level.
    by : str
        The column whose levels form the subgroups.
    reference : str, optional
        The level the differences are taken from (default: the first level, sorted).
    method : str
        tau^2 estimator (as :func:`pool`).
    tau2 : {"separate", "common"}
        A tau^2 per level (metafor ``rma(subset = x == level)``; Q between = the
        fixed-effect Q of the level estimates) or one common tau^2 (metafor ``rma(mods = ~
        factor(x))``; Q between = its ``QM``).
    hksj : bool
        Knapp-Hartung tests and intervals.
    level : float
        Interval probability.

    Returns
    -------
    SubgroupResult
        ``levels`` (each level's pooled effect; ``pooled`` is False for a level whose
        comparisons come from one study), ``differences`` from the reference level,
        ``q_between``, ``q_between_df``, ``q_between_p``.
    """
    from bayes_msc.api.core import _effects, _frequentist
    from bayes_msc.frequentist.subgroup import subgroup_effects
    from bayes_msc.guard.arguments import check_text

    hksj, level = _frequentist(hksj, level)
    return subgroup_effects(
        _effects(effects),
        check_text(by, "by"),
        reference=None if reference is None else check_text(reference, "reference"),
        method=check_text(method, "method"),
        tau2=check_text(tau2, "tau2"),
        hksj=hksj,
        level=level,
    )


def subgroup_posterior(
    effects: EffectTable,
    by: str,
    reference: str | None = None,
    prior: str | PriorSet | dict[str, Any] = "weakly_informative",
    engine: str = "auto",
    **options: Any,
) -> BayesSubgroupResult:
    """Bayesian subgroups: each level's mean effect and the posterior of every difference
    between levels, from one random-effects fit with the factor ``by`` dummy-coded against
    ``reference`` (default: the first level, sorted) and one tau common to the levels.

    The model is linear-Gaussian given tau, so ``engine="auto"`` uses the exact engine
    (``"mcmc"`` samples it with nutpie). ``mu`` of the fit is the reference level's mean
    (its prior is the prior on that level's effect); ``options`` go to :func:`fit`
    (``draws``, ``chains``, ``seed``, ``ci_prob``, ``priors_path``, ...).
    See :func:`bayes_msc.bayes.subgroups.subgroup_posterior`.
    """
    from bayes_msc.api.core import _effects
    from bayes_msc.bayes.subgroups import subgroup_posterior as _posterior
    from bayes_msc.guard.arguments import check_text

    return _posterior(
        _effects(effects),
        check_text(by, "by"),
        reference=None if reference is None else check_text(reference, "reference"),
        prior=prior,
        engine=check_text(engine, "engine"),
        **options,
    )


def plot_subgroup(x: SubgroupResult, title: str | None = None, reference: float = 0.0) -> Figure:
    """Each level's pooled effect and confidence interval (hollow: a level from one study),
    with the test for subgroup differences (:func:`bayes_msc.plots.subgroup.plot_subgroup`)."""
    from bayes_msc.plots.subgroup import plot_subgroup as _plot

    return _plot(x, title=title, reference=reference)

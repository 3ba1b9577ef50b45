"""Exact posterior of the arm-level model (``arm``, :mod:`bayes_msc.bayes.mcmc.models`).

Given tau the arm model is a linear Gaussian model: each arm's observed mean is
``m_j = alpha_s(j) + [treatment] (mu + z_t' beta + u_t) + e_j`` with ``u_t ~ N(0, tau^2)``,
``e_j ~ N(0, se_j^2)``, all independent. Integrating the ``u_t`` out leaves independent
observations with variance ``se_j^2 + tau^2`` (treatment arms) or ``se_j^2`` (control arms)
and a design that is linear in ``b = (mu, beta, alpha)``. With Normal or Flat priors on
``mu``, the slopes and the study baselines ``alpha``, ``b | tau, m`` is normal and the
marginal likelihood of tau is closed-form: the same computation as the contrast-level
model's (:mod:`bayes_msc.bayes.exact.model`), with the baselines as nuisance
coefficients and tau^2 added to the treatment arms only. The quadrature over tau and the
mixtures are shared with :mod:`bayes_msc.bayes.exact.posterior`.

With flat baselines a two-arm study's likelihood is exactly the contrast-level likelihood of
its mean difference (variance ``se_t^2 + se_c^2``), so the arm model then equals the ``re``
model; with the default Normal(mean, 100 x SD) baselines it is a hair from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bayes_msc.bayes.exact.model import ExactModel, finish_model, normal_prior
from bayes_msc.bayes.mcmc.packing import ModelInputs, required
from bayes_msc.errors import InputError, Problem
from bayes_msc.priors import PriorSet

if TYPE_CHECKING:
    from bayes_msc.bayes.design import Standardised


def arm_model(inputs: ModelInputs, standardised: Standardised | None, prior_set: PriorSet) -> ExactModel:
    """The exact model of the arm-level inputs (a ``ModelInputs`` of kind ``arm``).

    Parameters
    ----------
    inputs : ModelInputs
        ``arm_mean``, ``arm_se``, ``arm_study`` (baseline of each arm), ``arm_effect``
        (random effect of each arm, -1 for the reference control), ``z`` (standardised
        covariates per effect), ``yi``/``vi`` (each comparison's observed mean difference,
        shown beside its shrunken effect).
    standardised : Standardised or None
        How ``z`` was made from the covariates (for slopes per unit).
    prior_set : PriorSet
        Resolved, with Normal or Flat priors on ``mu``, ``beta`` and ``alpha``.

    Raises
    ------
    InputError
        Non-finite means, standard errors not > 0, a prior family other than Normal or Flat
        on mu, the slopes or the baselines, or flat priors the data cannot identify.
    """
    alpha = prior_set.alpha
    if not prior_set.resolved or alpha is None:
        raise ValueError("the exact arm model needs a resolved prior set with an alpha prior")
    y = np.asarray(required(inputs.arm_mean, "arm_mean", "arm"), float)
    se = np.asarray(required(inputs.arm_se, "arm_se", "arm"), float)
    study = np.asarray(required(inputs.arm_study, "arm_study", "arm"), int)
    effect = np.asarray(required(inputs.arm_effect, "arm_effect", "arm"), int)
    problems = [
        Problem(f"arm {inputs.arm_labels[i]}: the mean must be finite, not {y[i]}", column="mean")
        for i in np.flatnonzero(~np.isfinite(y))
    ]
    problems += [
        Problem(f"arm {inputs.arm_labels[i]}: the SE must be finite and > 0, not {se[i]}", column="se")
        for i in np.flatnonzero(~(np.isfinite(se) & (se > 0)))
    ]
    if problems:
        raise InputError(problems)
    z = np.asarray(inputs.z, float).reshape(inputs.k, -1)
    p, n_studies = 1 + z.shape[1], max(len(inputs.study_labels), int(study.max()) + 1)
    treated = effect >= 0
    d = np.zeros((y.size, p + n_studies))
    d[treated, 0] = 1.0
    d[treated, 1:p] = z[effect[treated]]
    d[np.arange(y.size), p + study] = 1.0
    m0, p0 = np.zeros(d.shape[1]), np.zeros(d.shape[1])
    slopes = [("beta", prior_set.beta_prior())] * (p - 1) if p > 1 else []
    roles = [("mu", prior_set.mu), *slopes] + [("alpha", alpha)] * n_studies
    for j, (key, prior) in enumerate(roles):
        m0[j], p0[j] = normal_prior(prior_set, key, prior)
    rows = np.empty(inputs.k, dtype=int)
    rows[effect[treated]] = np.flatnonzero(treated)
    return finish_model(
        y,
        se**2,
        d,
        m0,
        p0,
        standardised,
        prior_set,
        rand=treated.astype(float),
        rows=rows,
        n_coef=p,
        shown=(np.asarray(inputs.yi, float), np.asarray(inputs.vi, float)),
    )

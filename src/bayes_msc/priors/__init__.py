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

Keys of a set: ``mu`` (required; the pooled effect, with covariates the pooled effect at
the covariates' reference values: their means over the analysed comparisons unless
``covariate_at`` sets them), ``tau`` (between-study SD, a distribution on [0, inf)) or instead
``log_tau2_smd`` (a distribution of log(tau^2) on the SMD scale, as in Rhodes et al. 2015,
J Clin Epidemiol 68:52: tau on the outcome scale is ``outcome_sd * exp(log_tau2_smd / 2)``),
``beta`` (every slope, per SD of its covariate; default :data:`DEFAULT_BETA`), ``alpha``
(arm-model study baselines; default :func:`default_alpha`) and ``description``.

The code is split by responsibility, and every name is re-exported here:
:mod:`~bayes_msc.priors.distribution` (one :class:`Prior`, data scaling),
:mod:`~bayes_msc.priors.sets` (:class:`PriorSet`, :func:`prior_context`) and
:mod:`~bayes_msc.priors.files` (TOML reading and writing).
"""

from __future__ import annotations

from bayes_msc.priors.distribution import (
    SCALE_KEYS,
    SUPPORTED_DISTRIBUTIONS,
    Prior,
    PriorContext,
    Scaled,
    fits,
)
from bayes_msc.priors.files import (
    as_prior_set,
    available_prior_sets,
    bundled_prior_sets,
    get_prior_set,
    load_prior_sets,
    prior_sets_to_toml,
)
from bayes_msc.priors.sets import (
    DEFAULT_BETA,
    SET_KEYS,
    PriorSet,
    default_alpha,
    prior_context,
)

__all__ = [
    "DEFAULT_BETA",
    "SCALE_KEYS",
    "SET_KEYS",
    "SUPPORTED_DISTRIBUTIONS",
    "Prior",
    "PriorContext",
    "PriorSet",
    "Scaled",
    "as_prior_set",
    "available_prior_sets",
    "bundled_prior_sets",
    "default_alpha",
    "fits",
    "get_prior_set",
    "load_prior_sets",
    "prior_context",
    "prior_sets_to_toml",
]

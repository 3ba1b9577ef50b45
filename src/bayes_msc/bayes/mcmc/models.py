"""The PyMC models of bayes-msc: ``re`` (contrast level) and ``arm`` (arm level).

Both are normal-normal hierarchical models with the between-study SD ``tau`` and an
optional meta-regression on standardised covariates ``Z`` (centred at their means, scaled
by their SDs: slope priors are per SD; see :mod:`bayes_msc.bayes.design`).

``re``
    ``y ~ MvNormal(theta, V)`` with ``V`` the effect table's covariance (diagonal ``vi``
    when comparisons are independent; shared-arm covariances with ``multiarm="shared"``),
    ``theta_i ~ Normal(mu + Z_i beta, tau)``.
``arm``
    Each arm's observed mean ``m_j ~ Normal(alpha_s(j) + delta_j, se_j^2)``,
    ``se_j = sd_j / sqrt(n_j)``; ``delta = 0`` for the study's reference control arm and
    ``delta_t ~ Normal(mu + Z_t beta, tau)`` for each treatment arm, independently (the
    simple independent-delta model: multi-arm deltas of one study are not given the
    consistency covariance ``tau^2 / 2``); free study baselines ``alpha_s``. A shared
    control enters once. Once the baselines are integrated out, a two-arm study gives
    exactly the ``re`` likelihood of its mean difference.

Both likelihoods are written as a Gaussian log density (a ``pm.Potential``; the constant
``log 2 pi`` left out) with a weight per row, or through a precision matrix for correlated
comparisons. That lets one compiled model serve any number of studies up to its size: the
unused rows are padded with weight (or precision) zero and contribute nothing.
Padding and the parameterisation are data, as are every prior hyperparameter, so nutpie
compiles one model per *structure* (model kind, padded sizes, number of covariates, prior
families) and re-samples new data and prior sets without recompiling
(:mod:`bayes_msc.bayes.fit`). All of them sit in one packed ``pm.Data`` vector
(two for ``arm``: floats and indices; :func:`layout`), which numba compiles much faster
than one ``pm.Data`` per input. The structure, the data of a fit and their packing
(:class:`Structure`, :class:`ModelInputs`, :func:`layout`, :func:`data_values`) are in
:mod:`bayes_msc.bayes.mcmc.packing` and importable from here.

Parameterisation: each random effect is written with the centring weight ``w`` (data,
0 or 1; Papaspiliopoulos, Roberts & Skold 2007, Stat Sci 22:59)::

    raw_i ~ Normal(w_i m_i, tau^w_i)        theta_i = m_i + tau^(1 - w_i) (raw_i - w_i m_i)

``w = 1`` is the centred model (``theta = raw``), ``w = 0`` the non-centred one
(``raw ~ N(0, 1)``, ``theta = m + tau raw``); padded effects are non-centred standard
normals that no data touch.

A third form, ``marginal`` (data flag ``marginal = 1``; not with correlated comparisons),
integrates the random effects out: ``y_i ~ Normal(m_i, v_i + tau^2)`` (``re``), treatment
arm means ``~ Normal(alpha + m_t, se_t^2 + tau^2)`` (``arm``). It is the same posterior of
mu, tau and the slopes; the effects are then drawn from their exact conditional normal
given each draw (:mod:`bayes_msc.bayes.mcmc.summary`). It mixes best for tau.

Only the free variables are traced (:func:`traced`); the effects, ``tau`` of the
log-tau^2 form and the log prior densities are computed from them afterwards, which keeps
the compiled functions small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from bayes_msc.bayes.mcmc.packing import (
    FORMS,
    INDEX_INPUTS,
    MODEL_KINDS,
    PAD_MIN,
    ModelInputs,
    Structure,
    data_values,
    layout,
    named_values,
    pack,
    padded,
    placeholders,
    prior_signature,
)

if TYPE_CHECKING:
    import pymc as pm

    from bayes_msc.priors import PriorSet

__all__ = [
    "FORMS",
    "MODEL_KINDS",
    "PAD_MIN",
    "ModelInputs",
    "Structure",
    "build_arm_model",
    "build_model",
    "build_pymc_model",
    "build_re_model",
    "data_values",
    "effects_from_raw",
    "layout",
    "named_values",
    "pack",
    "padded",
    "prior_signature",
    "traced",
]


def _unpacked(structure: Structure) -> dict[str, Any]:
    """The named inputs as slices of the model's packed ``pm.Data`` vectors.

    One ``pm.Data`` vector holds every float input (and one every index) because nutpie's
    compiled model specialises its data access per shared variable: each ``pm.Data`` cost
    about 0.5 s of numba compilation (CPU, 2-core machine), a dozen of them more than the
    model's own graph.
    """
    import pymc as pm

    # one pm.Data per packed vector: "data", and "index" for the arm model
    vectors = {key: pm.Data(key, values) for key, values in pack(structure, placeholders(structure)).items()}
    out = {}
    for name, (where, shape) in layout(structure).items():
        source = vectors["index" if name in INDEX_INPUTS else "data"]
        out[name] = source[where.start] if shape == () else source[where].reshape(shape)
    return out


def _prior_rv(role: str, dist: str, params: tuple[str, ...], inputs: dict[str, Any], dims: str | None = None) -> Any:
    """The prior of ``role`` as a PyMC variable whose hyperparameters are the data inputs
    ``<role>__<parameter>`` (placeholders until :func:`data_values` fills in the real ones)."""
    import pymc as pm

    return getattr(pm, dist)(role, **{k: inputs[f"{role}__{k}"] for k in params}, dims=dims)


def _hyperpriors(structure: Structure, inputs: dict[str, Any]) -> tuple[Any, Any, Any]:
    """mu, tau and beta (None without covariates)."""
    import pymc as pm

    fam = {role: (dist, params) for role, dist, params in structure.priors}
    mu = _prior_rv("mu", *fam["mu"], inputs)
    if "tau" in fam:
        tau = _prior_rv("tau", *fam["tau"], inputs)
    else:  # Rhodes et al. 2015: log(tau^2) of the SMD; tau = outcome_sd * exp(L / 2)
        log_tau2 = _prior_rv("log_tau2_smd", *fam["log_tau2_smd"], inputs)
        tau = pm.Deterministic("tau", inputs["tau__outcome_sd"] * pm.math.exp(log_tau2 / 2.0))
    beta = _prior_rv("beta", *fam["beta"], inputs, dims="term") if structure.p else None
    return mu, tau, beta


def _random_effects(name: str, mean: Any, tau: Any, w: Any) -> Any:
    """Effects ~ Normal(mean, tau), centred or not per element (see the module doc).

    ``tau^w`` is written ``w tau + 1 - w`` (equal for w in {0, 1}): a smaller graph,
    which numba compiles faster.
    """
    import pymc as pm

    dims = "comparison"
    raw = pm.Normal(f"{name}_raw", mu=w * mean, sigma=w * tau + (1.0 - w), dims=dims)
    return pm.Deterministic(name, mean + (w + (1.0 - w) * tau) * (raw - w * mean), dims=dims)


def effects_from_raw(raw: np.ndarray, mean: np.ndarray, tau: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The random effects from their sampled ``raw`` form (numpy; the model's formula)."""
    return mean + (w + (1.0 - w) * tau[..., None]) * (raw - w * mean)


def traced(model: pm.Model) -> list[str]:
    """Names of the free random variables: what the sampler stores."""
    return [rv.name for rv in model.free_RVs]


def build_model(structure: Structure, coords: dict[str, Any] | None = None) -> pm.Model:
    """The ``pm.Model`` of ``structure`` holding placeholder data.

    ``coords`` (optional) names the ``comparison``, ``term``, ``study`` and ``arm``
    entries; by default they are numbered (the compiled, padded models are relabelled
    after sampling).

    Data: ``data`` (every float input, packed) and for ``arm`` ``index`` (the arms' study
    and effect indices); :func:`layout` says where each named input sits, :func:`data_values`
    gives their values for a fit.
    """
    import pymc as pm
    import pytensor.tensor as pt

    if structure.kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {structure.kind!r}")
    k, p, n_arms = structure.n_effects, structure.p, structure.n_arms
    names: dict[str, Any] = {"comparison": [f"c{i}" for i in range(k)], "term": [f"z{j}" for j in range(p)]}
    if structure.kind == "arm":
        names["study"] = [f"s{i}" for i in range(structure.n_studies)]
        names["arm"] = [f"a{i}" for i in range(n_arms)]
    names.update(coords or {})
    # Hyperparameters are checked when prior sets are read: no bound checks in the graph.
    with pm.Model(coords=names, check_bounds=False) as model:
        inputs = _unpacked(structure)
        mu, tau, beta = _hyperpriors(structure, inputs)
        mean = mu + pt.zeros(k) if beta is None else mu + pt.dot(inputs["Z"], beta)
        mean = pt.specify_shape(mean, (k,))
        effects = _random_effects("theta" if structure.kind == "re" else "delta", mean, tau, inputs["centred"])
        if structure.kind == "re" and structure.dense:
            resid = inputs["y"] - effects
            pm.Potential("likelihood", -0.5 * pt.dot(resid, pt.dot(inputs["prec"], resid)))
            return model
        # marginal = 1: the effects are integrated out (y ~ N(mean, v + tau^2)); their
        # sampled form then touches no data and they are drawn from their conditional later.
        marginal = inputs["marginal"]
        loc = marginal * mean + (1.0 - marginal) * effects
        if structure.kind == "re":
            resid = inputs["y"] - loc
            var = inputs["v"] + marginal * tau**2
            weight = inputs["weight"]
        else:
            fam = {role: (dist, params) for role, dist, params in structure.priors}
            alpha = _prior_rv("alpha", *fam["alpha"], inputs, dims="study")
            with_zero = pt.concatenate([loc, pt.zeros(1)])
            resid = inputs["arm_mean"] - alpha[inputs["arm_study"]] - with_zero[inputs["arm_effect"]]
            var = inputs["arm_var"] + marginal * inputs["arm_treated"] * tau**2
            weight = inputs["arm_weight"]
        pm.Potential("likelihood", -0.5 * pt.sum(weight * (pt.log(var) + resid**2 / var)))
    return model


def build_pymc_model(
    inputs: ModelInputs, prior_set: PriorSet, form: str = "noncentred", terms: tuple[str, ...] = ()
) -> pm.Model:
    """A ready, unpadded model of ``inputs`` with its real coordinates, for inspection
    (:func:`bayes_msc.bayes.fit.fit` samples the padded, cached form of the same
    model). ``prior_set`` must be resolved. Returns the ``pm.Model``."""
    import pymc as pm

    structure = inputs.structure(prior_set, pad=False)
    coords: dict[str, Any] = {
        "comparison": list(inputs.labels),
        "term": list(terms or [f"z{j}" for j in range(inputs.p)]),
    }
    if inputs.kind == "arm":
        coords.update(study=list(inputs.study_labels), arm=list(inputs.arm_labels))
    model = build_model(structure, coords)
    pm.set_data(data_values(inputs, structure, prior_set, form), model=model)
    return model


def build_re_model(
    inputs: ModelInputs, prior_set: PriorSet, form: str = "noncentred", terms: tuple[str, ...] = ()
) -> pm.Model:
    """:func:`build_pymc_model` for ``re`` inputs."""
    if inputs.kind != "re":
        raise ValueError("build_re_model needs contrast-level ('re') inputs")
    return build_pymc_model(inputs, prior_set, form, terms)


def build_arm_model(
    inputs: ModelInputs, prior_set: PriorSet, form: str = "noncentred", terms: tuple[str, ...] = ()
) -> pm.Model:
    """:func:`build_pymc_model` for ``arm`` inputs."""
    if inputs.kind != "arm":
        raise ValueError("build_arm_model needs arm-level ('arm') inputs")
    return build_pymc_model(inputs, prior_set, form, terms)

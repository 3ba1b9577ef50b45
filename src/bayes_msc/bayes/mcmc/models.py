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
than one ``pm.Data`` per input.

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

from dataclasses import dataclass
from typing import Any

import numpy as np

PAD_MIN = 16
"""Smallest padded size: models of 1 to 16 effects share one compiled model."""

MODEL_KINDS: tuple[str, ...] = ("re", "arm")


def padded(n: int) -> int:
    """The padded size for ``n`` rows: the next power of two, at least :data:`PAD_MIN`."""
    size = PAD_MIN
    while size < n:
        size *= 2
    return size


@dataclass(frozen=True)
class Structure:
    """What a compiled model depends on (everything else is data).

    ``n_effects``: padded random effects (comparisons for ``re``, treatment arms for
    ``arm``); ``n_arms``/``n_studies``: padded arms and study baselines (``arm`` only);
    ``p``: covariates; ``priors``: the prior families (:func:`prior_signature`);
    ``dense``: ``re`` with correlated comparisons (a full precision matrix instead of a
    vector).
    """

    kind: str
    n_effects: int
    p: int
    priors: tuple[tuple[str, str, tuple[str, ...]], ...]
    n_arms: int = 0
    n_studies: int = 0
    dense: bool = False


def prior_signature(prior_set: Any, p: int, arm: bool) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """The families of a resolved prior set: ``(role, dist, parameter names)`` per role used."""
    roles = ["mu", "tau" if prior_set.tau is not None else "log_tau2_smd"]
    if p:
        roles.append("beta")
    if arm:
        roles.append("alpha")
    return tuple(
        (role, getattr(prior_set, role).dist, tuple(sorted(getattr(prior_set, role).params))) for role in roles
    )


_LOCATIONS = {("Normal", "mu"), ("StudentT", "mu"), ("Cauchy", "alpha"), ("Uniform", "lower"), ("LogNormal", "mu")}
_INDICES = ("arm_study", "arm_effect")


def layout(structure: Structure) -> dict[str, tuple[slice, tuple[int, ...]]]:
    """Where each named input of ``build_model(structure)`` sits in its packed data vector:
    name -> (slice of the vector, shape). Floats go to ``data``; the arm model's
    ``arm_study`` and ``arm_effect`` (indices) to ``index``.

    Named inputs: the hyperparameters ``<role>__<parameter>`` (and ``tau__outcome_sd`` for
    the log-tau^2 form), ``marginal`` (not when ``dense``), ``centred`` and ``Z`` (with
    covariates) per effect; ``re``: ``y`` and either ``prec`` (inverse covariance, zero where
    padded) when ``dense`` or ``v`` (vi) and ``weight`` (1, 0 where padded); ``arm``:
    ``arm_mean``, ``arm_var`` (se^2), ``arm_weight``, ``arm_treated`` per arm.
    """
    k, n_arms = structure.n_effects, structure.n_arms
    floats: list[tuple[str, tuple[int, ...]]] = [
        (f"{role}__{name}", ()) for role, _, params in structure.priors for name in params
    ]
    if all(role != "tau" for role, _, _ in structure.priors):
        floats.append(("tau__outcome_sd", ()))
    if not structure.dense:
        floats.append(("marginal", ()))
    floats.append(("centred", (k,)))
    if structure.p:
        floats.append(("Z", (k, structure.p)))
    if structure.kind == "re":
        floats += [("y", (k,)), ("prec", (k, k))] if structure.dense else [("y", (k,)), ("v", (k,)), ("weight", (k,))]
        ints: list[tuple[str, tuple[int, ...]]] = []
    else:
        floats += [(name, (n_arms,)) for name in ("arm_mean", "arm_var", "arm_weight", "arm_treated")]
        ints = [("arm_study", (n_arms,)), ("arm_effect", (n_arms,))]
    out = {}
    for entries in (floats, ints):
        start = 0
        for name, shape in entries:
            size = int(np.prod(shape, dtype=int))
            out[name] = (slice(start, start + size), shape)
            start += size
    return out


def pack(structure: Structure, named: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The ``pm.Data`` values (``data``, and ``index`` for ``arm``) holding ``named`` inputs
    (every name of :func:`layout`)."""
    places = layout(structure)
    ints = [name for name in places if name in _INDICES]
    data = np.zeros(max(where.stop for name, (where, _) in places.items() if name not in _INDICES))
    index = np.zeros(max((places[name][0].stop for name in ints), default=0), dtype=np.int64)
    for name, (where, _) in places.items():
        (index if name in _INDICES else data)[where] = np.ravel(named[name])
    return {"data": data, "index": index} if ints else {"data": data}


def _placeholders(structure: Structure) -> dict[str, np.ndarray]:
    """Inputs valid for every prior family (0 for locations, 1 otherwise; unit variances,
    weight 0), for compiling before any fit's values are set."""
    places = layout(structure)
    out = {name: np.zeros(shape) for name, (_, shape) in places.items()}
    for role, dist, params in structure.priors:
        for name in params:
            out[f"{role}__{name}"] = np.asarray(0.0 if (dist, name) in _LOCATIONS else 1.0)
    for name in ("tau__outcome_sd", "v", "arm_var"):
        if name in out:
            out[name] = np.ones(places[name][1])
    if "arm_effect" in out:
        out["arm_effect"] = np.full(structure.n_arms, structure.n_effects)
    return out


def _unpacked(structure: Structure) -> dict[str, Any]:
    """The named inputs as slices of the model's packed ``pm.Data`` vectors.

    One ``pm.Data`` vector holds every float input (and one every index) because nutpie's
    compiled model specialises its data access per shared variable: each ``pm.Data`` cost
    about 0.5 s of numba compilation (CPU, 2-core machine), a dozen of them more than the
    model's own graph.
    """
    import pymc as pm

    start = pack(structure, _placeholders(structure))
    data = pm.Data("data", start["data"])
    index = pm.Data("index", start["index"]) if "index" in start else None
    out = {}
    for name, (where, shape) in layout(structure).items():
        source = index if name in _INDICES else data
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


def traced(model: Any) -> list[str]:
    """Names of the free random variables: what the sampler stores."""
    return [rv.name for rv in model.free_RVs]


def build_model(structure: Structure, coords: dict[str, Any] | None = None) -> Any:
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


@dataclass(frozen=True, eq=False)
class ModelInputs:
    """The data of one fit, unpadded.

    Effects (comparisons for ``re``, treatment arms vs their study's reference control
    for ``arm``): ``labels``, ``studies``, ``yi``, ``vi`` (their observed contrasts, for
    the study-effects table and the pilot tau), ``z`` (standardised covariates).
    ``re``: ``vcov``. ``arm``: per arm ``arm_mean``, ``arm_se``, ``arm_study`` (index into
    ``study_labels``), ``arm_effect`` (index into the effects, -1 for a control arm),
    ``arm_labels``.
    """

    kind: str
    labels: tuple[str, ...]
    studies: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    z: np.ndarray
    vcov: np.ndarray | None = None
    arm_mean: np.ndarray | None = None
    arm_se: np.ndarray | None = None
    arm_study: np.ndarray | None = None
    arm_effect: np.ndarray | None = None
    arm_labels: tuple[str, ...] = ()
    study_labels: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        return len(self.labels)

    @property
    def p(self) -> int:
        return int(self.z.shape[1])

    def structure(self, prior_set: Any, pad: bool = True) -> Structure:
        """The structure of these data under a resolved prior set (padded sizes by default)."""
        arm = self.kind == "arm"
        size = padded if pad else int
        return Structure(
            kind=self.kind,
            n_effects=size(self.k),
            p=self.p,
            priors=prior_signature(prior_set, self.p, arm),
            n_arms=size(len(self.arm_labels)) if arm else 0,
            n_studies=size(len(self.study_labels)) if arm else 0,
            dense=not arm and bool(np.count_nonzero(self.vcov - np.diag(np.diag(self.vcov)))),
        )


FORMS: tuple[str, ...] = ("centred", "noncentred", "marginal")
"""How the random effects are sampled (see the module docstring)."""


def data_values(inputs: ModelInputs, structure: Structure, prior_set: Any, form: str) -> dict[str, np.ndarray]:
    """Values of every ``pm.Data`` of ``build_model(structure)`` for one fit, the random
    effects sampled in ``form`` (one of :data:`FORMS`; ``marginal`` not when ``dense``)."""
    return pack(structure, named_values(inputs, structure, prior_set, form))


def named_values(inputs: ModelInputs, structure: Structure, prior_set: Any, form: str) -> dict[str, np.ndarray]:
    """The named inputs (:func:`layout`) of one fit, unpacked (see :func:`data_values`)."""
    if form not in FORMS or (form == "marginal" and structure.dense):
        raise ValueError(f"form {form!r} is not available for this structure")
    k, n = inputs.k, structure.n_effects
    out: dict[str, np.ndarray] = {}
    if structure.p:
        z = np.zeros((n, structure.p))
        z[:k] = inputs.z
        out["Z"] = z
    w = np.zeros(n)
    w[:k] = 1.0 if form == "centred" else 0.0
    out["centred"] = w
    for role, _, params in structure.priors:
        prior = getattr(prior_set, role)
        for name in params:
            out[f"{role}__{name}"] = np.asarray(float(prior.params[name]))
    if prior_set.tau is None:
        out["tau__outcome_sd"] = np.asarray(float(prior_set.outcome_sd))
    if not structure.dense:
        out["marginal"] = np.asarray(1.0 if form == "marginal" else 0.0)
    if inputs.kind == "re":
        y = np.zeros(n)
        y[:k] = inputs.yi
        out["y"] = y
        if structure.dense:
            prec = np.zeros((n, n))
            inv = np.linalg.inv(inputs.vcov)
            prec[:k, :k] = (inv + inv.T) / 2.0  # exactly symmetric against rounding
            out["prec"] = prec
        else:
            v, weight = np.ones(n), np.zeros(n)
            v[:k], weight[:k] = np.diag(inputs.vcov), 1.0
            out.update(v=v, weight=weight)
    else:
        a, n_arms = len(inputs.arm_labels), structure.n_arms
        m, var, weight, treated = np.zeros(n_arms), np.ones(n_arms), np.zeros(n_arms), np.zeros(n_arms)
        m[:a], var[:a], weight[:a] = inputs.arm_mean, inputs.arm_se**2, 1.0
        treated[:a] = inputs.arm_effect >= 0
        study = np.zeros(n_arms, dtype=np.int64)
        study[:a] = inputs.arm_study
        effect = np.full(n_arms, n, dtype=np.int64)
        effect[:a] = np.where(inputs.arm_effect >= 0, inputs.arm_effect, n)
        out.update(arm_mean=m, arm_var=var, arm_weight=weight, arm_treated=treated, arm_study=study, arm_effect=effect)
    return out


def build_pymc_model(inputs: ModelInputs, prior_set: Any, form: str = "noncentred", terms: tuple[str, ...] = ()) -> Any:
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


def build_re_model(inputs: ModelInputs, prior_set: Any, form: str = "noncentred", terms: tuple[str, ...] = ()) -> Any:
    """:func:`build_pymc_model` for ``re`` inputs."""
    if inputs.kind != "re":
        raise ValueError("build_re_model needs contrast-level ('re') inputs")
    return build_pymc_model(inputs, prior_set, form, terms)


def build_arm_model(inputs: ModelInputs, prior_set: Any, form: str = "noncentred", terms: tuple[str, ...] = ()) -> Any:
    """:func:`build_pymc_model` for ``arm`` inputs."""
    if inputs.kind != "arm":
        raise ValueError("build_arm_model needs arm-level ('arm') inputs")
    return build_pymc_model(inputs, prior_set, form, terms)

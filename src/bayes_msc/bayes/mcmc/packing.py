"""The data of the PyMC models (:mod:`bayes_msc.bayes.mcmc.models`) and where it sits.

A compiled model depends only on its :class:`Structure` (model kind, padded sizes, number
of covariates, prior families); the data of a fit (:class:`ModelInputs`, and the prior
set's hyperparameters) are packed into one float vector (and one index vector for
``arm``): :func:`layout` says where each named input sits, :func:`named_values` gives
their values for one fit and :func:`pack` / :func:`data_values` the packed vectors.
Padded rows get weight (or precision) zero, so one compiled model serves any number of
studies up to its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bayes_msc.priors import PriorSet

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


def prior_signature(prior_set: PriorSet, p: int, arm: bool) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
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
INDEX_INPUTS = ("arm_study", "arm_effect")


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
    ints = [name for name in places if name in INDEX_INPUTS]
    data = np.zeros(max(where.stop for name, (where, _) in places.items() if name not in INDEX_INPUTS))
    index = np.zeros(max((places[name][0].stop for name in ints), default=0), dtype=np.int64)
    for name, (where, _) in places.items():
        (index if name in INDEX_INPUTS else data)[where] = np.ravel(named[name])
    return {"data": data, "index": index} if ints else {"data": data}


def placeholders(structure: Structure) -> dict[str, np.ndarray]:
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

    def structure(self, prior_set: PriorSet, pad: bool = True) -> Structure:
        """The structure of these data under a resolved prior set (padded sizes by default)."""
        arm = self.kind == "arm"
        size = padded if pad else int
        vcov = None if arm else required(self.vcov, "vcov", self.kind)
        return Structure(
            kind=self.kind,
            n_effects=size(self.k),
            p=self.p,
            priors=prior_signature(prior_set, self.p, arm),
            n_arms=size(len(self.arm_labels)) if arm else 0,
            n_studies=size(len(self.study_labels)) if arm else 0,
            dense=vcov is not None and bool(np.count_nonzero(vcov - np.diag(np.diag(vcov)))),
        )


def required(value: np.ndarray | None, name: str, kind: str) -> np.ndarray:
    """``value``, an input that :class:`ModelInputs` of this ``kind`` must have (``vcov`` for
    ``re``, ``arm_*`` for ``arm``).

    Raises
    ------
    ValueError
        It is None.
    """
    if value is None:
        raise ValueError(f"{kind!r} model inputs need {name}")
    return value


FORMS: tuple[str, ...] = ("centred", "noncentred", "marginal")
"""How the random effects are sampled (see the module docstring)."""


def data_values(inputs: ModelInputs, structure: Structure, prior_set: PriorSet, form: str) -> dict[str, np.ndarray]:
    """Values of every ``pm.Data`` of ``build_model(structure)`` for one fit, the random
    effects sampled in ``form`` (one of :data:`FORMS`; ``marginal`` not when ``dense``)."""
    return pack(structure, named_values(inputs, structure, prior_set, form))


def named_values(inputs: ModelInputs, structure: Structure, prior_set: PriorSet, form: str) -> dict[str, np.ndarray]:
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
        out["tau__outcome_sd"] = np.asarray(float(prior_set.log_tau2_smd_prior()[1]))
    if not structure.dense:
        out["marginal"] = np.asarray(1.0 if form == "marginal" else 0.0)
    if inputs.kind == "re":
        y = np.zeros(n)
        y[:k] = inputs.yi
        out["y"] = y
        vcov = required(inputs.vcov, "vcov", "re")
        if structure.dense:
            prec = np.zeros((n, n))
            inv = np.linalg.inv(vcov)
            prec[:k, :k] = (inv + inv.T) / 2.0  # exactly symmetric against rounding
            out["prec"] = prec
        else:
            v, weight = np.ones(n), np.zeros(n)
            v[:k], weight[:k] = np.diag(vcov), 1.0
            out.update(v=v, weight=weight)
    else:
        a, n_arms = len(inputs.arm_labels), structure.n_arms
        arm_effect = required(inputs.arm_effect, "arm_effect", "arm")
        m, var, weight, treated = np.zeros(n_arms), np.ones(n_arms), np.zeros(n_arms), np.zeros(n_arms)
        m[:a], var[:a], weight[:a] = (
            required(inputs.arm_mean, "arm_mean", "arm"),
            required(inputs.arm_se, "arm_se", "arm") ** 2,
            1.0,
        )
        treated[:a] = arm_effect >= 0
        study = np.zeros(n_arms, dtype=np.int64)
        study[:a] = required(inputs.arm_study, "arm_study", "arm")
        effect = np.full(n_arms, n, dtype=np.int64)
        effect[:a] = np.where(arm_effect >= 0, arm_effect, n)
        out.update(arm_mean=m, arm_var=var, arm_weight=weight, arm_treated=treated, arm_study=study, arm_effect=effect)
    return out

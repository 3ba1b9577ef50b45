"""The groups of a fit's ArviZ DataTree, the same for both engines.

Both the MCMC engine (:mod:`bayes_msc.bayes.mcmc.run`) and the exact engine
(:mod:`bayes_msc.bayes.exact.tree`) make a ``posterior`` group with the same variables:
``mu`` (the pooled effect; with covariates at their reference values), ``tau``,
``log_tau2_smd`` (when the prior is on it), with covariates ``beta`` (slopes per unit of
each term, dim ``term``), ``beta_per_sd`` and ``intercept`` (the effect where every term is
0), the random effects ``theta`` (``re``) or ``delta`` and the baselines ``alpha`` (``arm``),
dim ``comparison``/``study``, and ``theta_new``. From it, this module computes the other
groups with numpy, exactly (each as a mapping of variables; :func:`fit_tree` assembles
them, the coordinates once at the root, inherited by every group):

- :func:`log_likelihood`: pointwise log likelihood (per comparison; per study for
  comparisons sharing an arm, whose densities are joint; per arm for the arm model);
- :func:`log_prior`: the log prior densities of the hyperparameters (for power-scaling
  sensitivity);
- :func:`prior_group`: independent draws from the prior set of the hyperparameters and of
  ``theta_new`` (the prior predictive effect of a new study; the per-comparison effects,
  whose prior is the same shifted by their covariates, are left out to keep files small);
  a parameter with an improper prior, and what depends on it, is left out;
- :func:`posterior_predictive`: replicated data ``y`` given each posterior draw;
- :func:`data_groups`: ``observed_data`` (``y``: the effects, or the arm means for ``arm``)
  and ``constant_data``.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from bayes_msc.bayes.mcmc.packing import ModelInputs, required

if TYPE_CHECKING:
    from collections.abc import Mapping

    import xarray as xr

    from bayes_msc.bayes.design import Standardised
    from bayes_msc.bayes.inputs import Prepared
    from bayes_msc.priors import Prior, PriorSet

_LOG_2PI = math.log(2.0 * math.pi)

PRIOR_STREAM, PREDICTIVE_STREAM, NEW_STUDY_STREAM = 1, 2, 3
"""Random streams of a fit (``numpy.random.default_rng([seed, stream])``): the prior draws,
the replicated data, the exact engine's new-study draws; the same seed, the same draws."""

Vars = dict[str, tuple[tuple[str, ...], np.ndarray]]
"""Variables of one group: name -> (dimensions, values)."""

SAMPLE = ("chain", "draw")


def _values(post: Any, name: str) -> np.ndarray:
    value = post[name]
    return np.asarray(value[1] if isinstance(value, tuple) else value.values)


def _ll_vars(post: Any, inputs: ModelInputs) -> Vars:
    if inputs.kind == "arm":
        var = _arm_var(inputs)
        ll = -0.5 * (_LOG_2PI + np.log(var) + (_arm_obs(inputs) - _arm_mean(post, inputs)) ** 2 / var)
        return {"y": ((*SAMPLE, "arm"), ll)}
    theta = _values(post, "theta")
    v = required(inputs.vcov, "vcov", "re")
    if np.count_nonzero(v - np.diag(np.diag(v))) == 0:
        var = np.diag(v)
        return {"y": ((*SAMPLE, "comparison"), -0.5 * (_LOG_2PI + np.log(var) + (inputs.yi - theta) ** 2 / var))}
    blocks = []
    for s in _studies(inputs):  # comparisons share arms only within their study: one joint density each
        idx = np.array([i for i, t in enumerate(inputs.studies) if t == s])
        sub = v[np.ix_(idx, idx)]
        resid = inputs.yi[idx] - theta[..., idx]
        quad = np.einsum("...i,ij,...j->...", resid, np.linalg.inv(sub), resid)
        blocks.append(-0.5 * (len(idx) * _LOG_2PI + np.linalg.slogdet(sub)[1] + quad))
    return {"y": ((*SAMPLE, "study"), np.stack(blocks, axis=-1))}


def _studies(inputs: ModelInputs) -> list[str]:
    return list(dict.fromkeys(inputs.studies))


def log_likelihood(post: xr.Dataset, inputs: ModelInputs) -> xr.Dataset:
    """Pointwise log likelihood of the observed data, draw by draw (per comparison; per
    study for comparisons sharing an arm; per arm for the arm model)."""
    import xarray as xr

    ll = _ll_vars(post, inputs)
    dim = ll["y"][0][-1]
    labels = {"arm": list(inputs.arm_labels), "comparison": list(inputs.labels), "study": _studies(inputs)}[dim]
    return xr.Dataset(ll, coords={"chain": post["chain"].values, "draw": post["draw"].values, dim: labels})


def _arm_obs(inputs: ModelInputs) -> np.ndarray:
    return required(inputs.arm_mean, "arm_mean", "arm")


def _arm_var(inputs: ModelInputs) -> np.ndarray:
    return required(inputs.arm_se, "arm_se", "arm") ** 2


def _arm_mean(post: Any, inputs: ModelInputs) -> np.ndarray:
    """Each arm's mean given a draw: its study's baseline plus its random effect (0 for the
    reference control)."""
    alpha = _values(post, "alpha")[..., required(inputs.arm_study, "arm_study", "arm")]
    delta = _values(post, "delta")
    delta = np.concatenate([delta, np.zeros(delta.shape[:-1] + (1,))], axis=-1)
    return alpha + delta[..., required(inputs.arm_effect, "arm_effect", "arm")]  # -1: the appended 0


def _log_prior_vars(post: Any, prior_set: PriorSet, covariates: bool) -> Vars:
    out: Vars = {"mu": (SAMPLE, prior_set.mu.logpdf(_values(post, "mu")))}
    if prior_set.tau is not None:
        out["tau"] = (SAMPLE, prior_set.tau.logpdf(_values(post, "tau")))
    else:
        lt = _values(post, "log_tau2_smd")
        out["log_tau2_smd"] = (SAMPLE, prior_set.log_tau2_smd_prior()[0].logpdf(lt))
    if covariates:
        out["beta"] = ((*SAMPLE, "term"), prior_set.beta_prior().logpdf(_values(post, "beta_per_sd")))
    return out


def log_prior(post: xr.Dataset, prior_set: PriorSet, covariates: bool) -> xr.Dataset:
    """Log prior densities of the hyperparameters, draw by draw (the prior set's own
    densities, :meth:`bayes_msc.priors.Prior.logpdf`): ``mu`` (at the covariates'
    reference values), ``tau`` or ``log_tau2_smd``, ``beta`` (per SD). The arm model's
    vague baselines are left out: they are not a prior choice under study."""
    import xarray as xr

    return xr.Dataset(_log_prior_vars(post, prior_set, covariates), coords=post.coords)


def _sample(prior: Prior | None, size: tuple[int, ...], rng: np.random.Generator) -> np.ndarray | None:
    return None if prior is None or prior.improper else prior.sample(size, rng)


def _prior_vars(
    prior_set: PriorSet, inputs: ModelInputs, std: Standardised | None, shape: tuple[int, int], seed: int
) -> Vars:
    """``chains x draws`` independent draws from the prior set (resolved), with the
    posterior's variable names: ``mu``, ``tau`` (or ``log_tau2_smd`` and ``tau``), the
    slopes (``beta``, ``beta_per_sd``), ``intercept``, ``theta_new`` and the arm model's
    baselines ``alpha``. A parameter with an improper prior (Flat, HalfFlat) has no prior
    draws; it and the quantities that depend on it are left out."""
    rng = np.random.default_rng([seed, PRIOR_STREAM])
    out: Vars = {}
    mu = _sample(prior_set.mu, shape, rng)
    if prior_set.tau is not None:
        tau = _sample(prior_set.tau, shape, rng)
    else:
        lt_prior, osd = prior_set.log_tau2_smd_prior()
        lt = lt_prior.sample(shape, rng)
        out["log_tau2_smd"] = (SAMPLE, lt)
        tau = osd * np.exp(lt / 2.0)
    if std is not None:
        per_sd = _sample(prior_set.beta_prior(), (*shape, len(std.names)), rng)
        if per_sd is not None:
            out["beta"] = ((*SAMPLE, "term"), per_sd / std.scale)
            out["beta_per_sd"] = ((*SAMPLE, "term"), per_sd)
            if mu is not None:
                out["intercept"] = (SAMPLE, std.intercept_to_original(mu, per_sd))
    if mu is not None:
        out["mu"] = (SAMPLE, mu)
    if tau is not None:
        out["tau"] = (SAMPLE, tau)
    if mu is not None and tau is not None:
        # The prior of a new study's effect; that of each comparison's effect is the same
        # shifted by its covariates: left out, it would multiply the file's size.
        out["theta_new"] = (SAMPLE, mu + tau * rng.standard_normal(shape))
    if inputs.kind == "arm" and prior_set.alpha is not None:
        alpha = _sample(prior_set.alpha, (*shape, len(inputs.study_labels)), rng)
        if alpha is not None:
            out["alpha"] = ((*SAMPLE, "study"), alpha)
    return out


def _predictive_vars(post: Any, inputs: ModelInputs, seed: int) -> Vars:
    """Replicated data ``y`` given each posterior draw, named and shaped as the observed
    data: the effects (``re``; jointly normal within a study when comparisons share an arm)
    or the arm means (``arm``)."""
    rng = np.random.default_rng([seed, PREDICTIVE_STREAM])
    if inputs.kind == "arm":
        mean = _arm_mean(post, inputs)
        return {"y": ((*SAMPLE, "arm"), mean + np.sqrt(_arm_var(inputs)) * rng.standard_normal(mean.shape))}
    theta = _values(post, "theta")
    chol = np.linalg.cholesky(required(inputs.vcov, "vcov", "re"))
    return {"y": ((*SAMPLE, "comparison"), theta + rng.standard_normal(theta.shape) @ chol.T)}


def _data_vars(inputs: ModelInputs, prepared: Prepared) -> tuple[Vars, Vars]:
    """``observed_data`` (``y``) and ``constant_data`` (``yi``, ``vi``, the covariates: ``Z``
    standardised, ``covariate_at`` the reference values, ``covariate_scale`` their SDs;
    ``vcov`` for ``re``; the arms' SEs, studies and effects for ``arm``)."""
    const: Vars = {"yi": (("comparison",), inputs.yi), "vi": (("comparison",), inputs.vi)}
    if prepared.standardised is not None:
        const.update(
            Z=(("comparison", "term"), inputs.z),
            covariate_at=(("term",), prepared.standardised.centre),
            covariate_scale=(("term",), prepared.standardised.scale),
        )
    if inputs.kind == "re":
        const["vcov"] = (("comparison", "comparison_b"), required(inputs.vcov, "vcov", "re"))
        return {"y": (("comparison",), inputs.yi)}, const
    const.update(
        arm_se=(("arm",), _arm_var(inputs) ** 0.5),
        arm_study=(("arm",), required(inputs.arm_study, "arm_study", "arm")),
        arm_effect=(("arm",), required(inputs.arm_effect, "arm_effect", "arm")),
    )
    return {"y": (("arm",), _arm_obs(inputs))}, const


def fit_coords(prepared: Prepared, chains: int, draws: int) -> dict[str, Any]:
    """The coordinates of a fit's DataTree (kept once, at its root)."""
    inputs = prepared.inputs
    coords: dict[str, Any] = {
        "chain": np.arange(chains),
        "draw": np.arange(draws),
        "comparison": list(inputs.labels),
    }
    if prepared.terms:
        coords["term"] = list(prepared.terms)
    if inputs.kind == "arm":
        coords.update(study=list(inputs.study_labels), arm=list(inputs.arm_labels))
    else:
        coords["comparison_b"] = list(inputs.labels)
        if inputs.vcov is not None and np.count_nonzero(inputs.vcov - np.diag(np.diag(inputs.vcov))):
            coords["study"] = _studies(inputs)
    return coords


def fit_tree(
    post: Mapping[str, Any] | xr.Dataset,
    stats: Mapping[str, Any] | xr.Dataset,
    prepared: Prepared,
    prior_set: PriorSet,
    options: dict[str, Any],
) -> xr.DataTree:
    """The whole DataTree of a fit from its posterior draws ``post`` and sample statistics
    ``stats`` (each a Dataset or a mapping of variables, dims ``chain`` and ``draw`` first),
    with every group this module computes from them; the coordinates at the root
    (:func:`fit_coords`), the prior set and the options as JSON attributes."""
    import xarray as xr

    inputs, seed = prepared.inputs, int(options["seed"])
    shape = _values(post, "mu").shape
    observed, const = _data_vars(inputs, prepared)

    def plain(group: Mapping[str, Any] | xr.Dataset) -> Vars:
        if isinstance(group, xr.Dataset):  # its coordinates sit at the root
            return {str(k): (tuple(str(d) for d in v.dims), v.values) for k, v in group.data_vars.items()}
        return dict(group)

    def attrs(group: Any) -> dict[str, Any]:
        # the sampler's attributes (inference library, ...), without its creation time:
        # the same call saves the same file
        return {k: v for k, v in getattr(group, "attrs", {}).items() if k != "created_at"}

    groups = {
        "posterior": plain(post),
        "sample_stats": plain(stats),
        "log_likelihood": _ll_vars(post, inputs),
        "log_prior": _log_prior_vars(post, prior_set, bool(prepared.terms)),
        "prior": _prior_vars(prior_set, inputs, prepared.standardised, shape, seed),
        "posterior_predictive": _predictive_vars(post, inputs, seed),
        "observed_data": observed,
        "constant_data": const,
    }
    kept = {"posterior": attrs(post), "sample_stats": attrs(stats)}
    root = xr.Dataset(coords=fit_coords(prepared, *shape))
    tree = xr.DataTree.from_dict(
        {"/": root, **{name: xr.Dataset(v, attrs=kept.get(name)) for name, v in groups.items()}}
    )
    tree.attrs.update(
        prior_set=json.dumps(prior_set.to_dict(), sort_keys=True), options=json.dumps(options, sort_keys=True)
    )
    return tree

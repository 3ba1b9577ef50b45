"""The groups of a fit's ArviZ DataTree, the same for both engines.

Both the MCMC engine (:mod:`bayes_msc.bayes.mcmc.run`) and the exact engine
(:mod:`bayes_msc.bayes.exact.tree`) make a ``posterior`` group with the same variables:
``mu`` (the pooled effect; with covariates at their reference values), ``tau``,
``log_tau2_smd`` (when the prior is on it), with covariates ``beta`` (slopes per unit of
each term, dim ``term``), ``beta_per_sd`` and ``intercept`` (the effect where every term is
0), the random effects ``theta`` (``re``) or ``delta`` and the baselines ``alpha`` (``arm``),
dim ``comparison``/``study``, and ``theta_new``. From it, this module computes the other
groups with numpy, exactly:

- :func:`log_likelihood`: pointwise log likelihood (per comparison; per study for
  comparisons sharing an arm, whose densities are joint; per arm for the arm model);
- :func:`log_prior`: the log prior densities of the hyperparameters (for power-scaling
  sensitivity);
- :func:`prior_group`: independent draws from the prior set (the same variables; a
  parameter with an improper prior, and what depends on it, is left out);
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
    import xarray as xr

    from bayes_msc.bayes.design import Standardised
    from bayes_msc.bayes.inputs import Prepared
    from bayes_msc.priors import Prior, PriorSet

_LOG_2PI = math.log(2.0 * math.pi)

PRIOR_STREAM, PREDICTIVE_STREAM, NEW_STUDY_STREAM = 1, 2, 3
"""Random streams of a fit (``numpy.random.default_rng([seed, stream])``): the prior draws,
the replicated data, the exact engine's new-study draws; the same seed, the same draws."""


def log_likelihood(post: xr.Dataset, inputs: ModelInputs) -> xr.Dataset:
    """Pointwise log likelihood of the observed data, draw by draw."""
    import xarray as xr

    if inputs.kind == "arm":
        ll = -0.5 * (
            _LOG_2PI + np.log(_arm_var(inputs)) + (_arm_obs(inputs) - _arm_mean(post, inputs)) ** 2 / _arm_var(inputs)
        )
        return xr.Dataset(
            {"y": (("chain", "draw", "arm"), ll)},
            coords={"chain": post.chain, "draw": post.draw, "arm": list(inputs.arm_labels)},
        )
    theta = post["theta"].values
    v = required(inputs.vcov, "vcov", "re")
    if np.count_nonzero(v - np.diag(np.diag(v))) == 0:
        var = np.diag(v)
        ll = -0.5 * (_LOG_2PI + np.log(var) + (inputs.yi - theta) ** 2 / var)
        return xr.Dataset(
            {"y": (("chain", "draw", "comparison"), ll)},
            coords={"chain": post.chain, "draw": post.draw, "comparison": list(inputs.labels)},
        )
    studies = list(dict.fromkeys(inputs.studies))
    blocks = []
    for s in studies:  # comparisons share arms only within their study: one joint density each
        idx = np.array([i for i, t in enumerate(inputs.studies) if t == s])
        sub = v[np.ix_(idx, idx)]
        resid = inputs.yi[idx] - theta[..., idx]
        quad = np.einsum("...i,ij,...j->...", resid, np.linalg.inv(sub), resid)
        blocks.append(-0.5 * (len(idx) * _LOG_2PI + np.linalg.slogdet(sub)[1] + quad))
    return xr.Dataset(
        {"y": (("chain", "draw", "study"), np.stack(blocks, axis=-1))},
        coords={"chain": post.chain, "draw": post.draw, "study": studies},
    )


def _arm_obs(inputs: ModelInputs) -> np.ndarray:
    return required(inputs.arm_mean, "arm_mean", "arm")


def _arm_var(inputs: ModelInputs) -> np.ndarray:
    return required(inputs.arm_se, "arm_se", "arm") ** 2


def _arm_mean(post: xr.Dataset, inputs: ModelInputs) -> np.ndarray:
    """Each arm's mean given a draw: its study's baseline plus its random effect (0 for the
    reference control)."""
    alpha = post["alpha"].values[..., required(inputs.arm_study, "arm_study", "arm")]
    delta = np.concatenate([post["delta"].values, np.zeros(post["delta"].shape[:-1] + (1,))], axis=-1)
    return alpha + delta[..., required(inputs.arm_effect, "arm_effect", "arm")]  # -1: the appended 0


def log_prior(post: xr.Dataset, prior_set: PriorSet, covariates: bool) -> xr.Dataset:
    """Log prior densities of the hyperparameters, draw by draw (the prior set's own
    densities, :meth:`bayes_msc.priors.Prior.logpdf`): ``mu`` (at the covariates'
    reference values), ``tau`` or ``log_tau2_smd``, ``beta`` (per SD). The arm model's
    vague baselines are left out: they are not a prior choice under study."""
    import xarray as xr

    mu = post["mu"]
    out = {"mu": xr.DataArray(prior_set.mu.logpdf(mu.values), dims=mu.dims)}
    if prior_set.tau is not None:
        out["tau"] = xr.DataArray(prior_set.tau.logpdf(post["tau"].values), dims=post["tau"].dims)
    else:
        lt = post["log_tau2_smd"]
        out["log_tau2_smd"] = xr.DataArray(prior_set.log_tau2_smd_prior()[0].logpdf(lt.values), dims=lt.dims)
    if covariates:
        b = post["beta_per_sd"]
        out["beta"] = xr.DataArray(prior_set.beta_prior().logpdf(b.values), dims=b.dims, coords={"term": b["term"]})
    return xr.Dataset(out, coords={"chain": post["chain"], "draw": post["draw"]})


def _sample(prior: Prior | None, size: tuple[int, ...], rng: np.random.Generator) -> np.ndarray | None:
    return None if prior is None or prior.improper else prior.sample(size, rng)


def prior_group(
    prior_set: PriorSet,
    inputs: ModelInputs,
    std: Standardised | None,
    terms: tuple[str, ...],
    chains: int,
    draws: int,
    seed: int,
) -> xr.Dataset:
    """``chains x draws`` independent draws from the prior set (resolved), with the
    posterior's variable names. A parameter with an improper prior (Flat, HalfFlat) has no
    prior draws; it and the quantities that depend on it are left out."""
    import xarray as xr

    rng = np.random.default_rng([seed, PRIOR_STREAM])
    shape, k = (chains, draws), inputs.k
    dims: tuple[str, ...] = ("chain", "draw")
    out: dict[str, Any] = {}
    mu = _sample(prior_set.mu, shape, rng)
    if prior_set.tau is not None:
        tau = _sample(prior_set.tau, shape, rng)
    else:
        lt_prior, osd = prior_set.log_tau2_smd_prior()
        lt = lt_prior.sample(shape, rng)
        out["log_tau2_smd"] = (dims, lt)
        tau = osd * np.exp(lt / 2.0)
    mean = None if mu is None else mu[..., None] + np.zeros(k)
    if std is not None:
        per_sd = _sample(prior_set.beta_prior(), (*shape, len(terms)), rng)
        if per_sd is None:
            mean = None
        else:
            out["beta"] = ((*dims, "term"), per_sd / std.scale)
            out["beta_per_sd"] = ((*dims, "term"), per_sd)
            if mu is not None and mean is not None:
                out["intercept"] = (dims, std.intercept_to_original(mu, per_sd))
                mean = mean + np.einsum("cdp,kp->cdk", per_sd, inputs.z)
    if mu is not None:
        out["mu"] = (dims, mu)
    if tau is not None:
        out["tau"] = (dims, tau)
    if mu is not None and mean is not None and tau is not None:
        name = "theta" if inputs.kind == "re" else "delta"
        out[name] = ((*dims, "comparison"), mean + tau[..., None] * rng.standard_normal(mean.shape))
        out["theta_new"] = (dims, mu + tau * rng.standard_normal(shape))
    coords: dict[str, Any] = {"chain": np.arange(chains), "draw": np.arange(draws), "comparison": list(inputs.labels)}
    if terms:
        coords["term"] = list(terms)
    if inputs.kind == "arm" and prior_set.alpha is not None:
        alpha = _sample(prior_set.alpha, (*shape, len(inputs.study_labels)), rng)
        if alpha is not None:
            out["alpha"] = ((*dims, "study"), alpha)
            coords["study"] = list(inputs.study_labels)
    return xr.Dataset(out, coords=coords)


def posterior_predictive(post: xr.Dataset, inputs: ModelInputs, seed: int) -> xr.Dataset:
    """Replicated data ``y`` given each posterior draw, named and shaped as the observed
    data: the effects (``re``; jointly normal within a study when comparisons share an arm)
    or the arm means (``arm``)."""
    import xarray as xr

    rng = np.random.default_rng([seed, PREDICTIVE_STREAM])
    coords: dict[str, Any] = {"chain": post.chain, "draw": post.draw}
    if inputs.kind == "arm":
        mean = _arm_mean(post, inputs)
        y = mean + np.sqrt(_arm_var(inputs)) * rng.standard_normal(mean.shape)
        return xr.Dataset({"y": (("chain", "draw", "arm"), y)}, coords={**coords, "arm": list(inputs.arm_labels)})
    theta = post["theta"].values
    chol = np.linalg.cholesky(required(inputs.vcov, "vcov", "re"))
    y = theta + rng.standard_normal(theta.shape) @ chol.T
    return xr.Dataset({"y": (("chain", "draw", "comparison"), y)}, coords={**coords, "comparison": list(inputs.labels)})


def data_groups(inputs: ModelInputs, prepared: Prepared) -> dict[str, xr.Dataset]:
    """``observed_data`` (``y``) and ``constant_data`` (``yi``, ``vi``, the covariates: ``Z``
    standardised, ``covariate_at`` the reference values, ``covariate_scale`` their SDs;
    ``vcov`` for ``re``; the arms' SEs, studies and effects for ``arm``)."""
    import xarray as xr

    const: dict[str, Any] = {"yi": ("comparison", inputs.yi), "vi": ("comparison", inputs.vi)}
    coords: dict[str, Any] = {"comparison": list(inputs.labels)}
    if prepared.standardised is not None:
        coords["term"] = list(prepared.terms)
        const.update(
            Z=(("comparison", "term"), inputs.z),
            covariate_at=("term", prepared.standardised.centre),
            covariate_scale=("term", prepared.standardised.scale),
        )
    if inputs.kind == "re":
        const["vcov"] = (("comparison", "comparison_b"), inputs.vcov)
        coords["comparison_b"] = list(inputs.labels)
        observed = xr.Dataset({"y": ("comparison", inputs.yi)}, coords={"comparison": list(inputs.labels)})
    else:
        const.update(
            arm_se=("arm", inputs.arm_se), arm_study=("arm", inputs.arm_study), arm_effect=("arm", inputs.arm_effect)
        )
        coords["arm"] = list(inputs.arm_labels)
        observed = xr.Dataset({"y": ("arm", inputs.arm_mean)}, coords={"arm": list(inputs.arm_labels)})
    return {"observed_data": observed, "constant_data": xr.Dataset(const, coords=coords)}


def rooted(groups: dict[str, xr.Dataset]) -> xr.DataTree:
    """A DataTree of ``groups`` whose shared coordinates (``chain``, ``draw``,
    ``comparison``, ...: the same values wherever they appear) sit once, at the root, and
    are inherited by every group. ArviZ sees the same groups; a netCDF file then holds each
    coordinate once, which makes writing it several times faster."""
    import xarray as xr

    names = {str(c) for ds in groups.values() for c in ds.coords}
    shared = {}
    for name in sorted(names):
        values = [ds[name].values for ds in groups.values() if name in ds.dims or name in ds.coords]
        if all(name in ds.coords for ds in groups.values() if name in ds.dims) and all(
            v.shape == values[0].shape and np.array_equal(v, values[0]) for v in values
        ):
            shared[name] = values[0]
    local = {g: ds.drop_vars([c for c in ds.coords if c in shared]) for g, ds in groups.items()}
    return xr.DataTree.from_dict({"/": xr.Dataset(coords=shared), **local})


def fit_tree(
    post: xr.Dataset,
    stats: xr.Dataset,
    prepared: Prepared,
    prior_set: PriorSet,
    options: dict[str, Any],
) -> xr.DataTree:
    """The whole DataTree of a fit: ``post`` and ``stats`` (sample_stats) with every group
    this module computes from them; the prior set and the options as JSON attributes."""

    inputs, terms, seed = prepared.inputs, prepared.terms, int(options["seed"])
    groups = {
        "posterior": post,
        "sample_stats": stats,
        "log_likelihood": log_likelihood(post, inputs),
        "log_prior": log_prior(post, prior_set, bool(terms)),
        "prior": prior_group(
            prior_set, inputs, prepared.standardised, terms, post.sizes["chain"], post.sizes["draw"], seed
        ),
        "posterior_predictive": posterior_predictive(post, inputs, seed),
        **data_groups(inputs, prepared),
    }
    for ds in groups.values():  # no creation times: the same call saves the same file
        ds.attrs.pop("created_at", None)
    tree = rooted(groups)
    tree.attrs.update(
        prior_set=json.dumps(prior_set.to_dict(), sort_keys=True), options=json.dumps(options, sort_keys=True)
    )
    return tree

"""The exact engine's ArviZ DataTree: independent draws of its exact posterior.

The exact engine's summaries are its quadrature's (no Monte Carlo error). For ArviZ, the
figures and posterior files it also gives ``chains x draws`` independent draws of the same
posterior (:func:`bayes_msc.bayes.exact.draws.draw`: tau by inverting its distribution
function, the coefficients given tau, the random effects given both), arranged as the MCMC
engine arranges its draws: the same groups and variable names
(:mod:`bayes_msc.bayes.groups`), ``sample_stats`` holding ``diverging`` (always False).
The draws are independent, so their effective sample size is their number; the "chains"
are consecutive blocks of them, so R-hat is 1 up to Monte Carlo noise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from bayes_msc.bayes.exact.draws import draw
from bayes_msc.bayes.groups import NEW_STUDY_STREAM, fit_tree

if TYPE_CHECKING:
    import xarray as xr

    from bayes_msc.bayes.exact.tau import TauPosterior
    from bayes_msc.bayes.inputs import Prepared
    from bayes_msc.priors import PriorSet


def exact_tree(
    tp: TauPosterior, prepared: Prepared, prior_set: PriorSet, *, chains: int, draws: int, options: dict[str, Any]
) -> xr.DataTree:
    """The DataTree of an exact posterior (``tp``: its full quadrature grid).

    Parameters
    ----------
    tp : TauPosterior
    prepared : Prepared
        The model inputs the posterior was computed from (labels, covariates, data).
    prior_set : PriorSet
        Resolved.
    chains, draws : int
        ``chains x draws`` independent draws, in ``chains`` blocks.
    options : dict
        The fit's options (JSON attribute); ``options["seed"]`` seeds every draw.
    """
    seed = int(options["seed"])
    m, inputs = tp.model, prepared.inputs
    shape, n = (chains, draws), chains * draws
    d = draw(tp, n, seed)
    tau, b, u = d["tau"], d["b"], d["u"]
    p = m.n_coef
    effects = b[:, :p] @ m.d[m.rows][:, :p].T + u  # each random effect: its mean c'b plus u
    dims = ("chain", "draw")
    mu = b[:, 0]
    new = mu + tau * np.random.default_rng([seed, NEW_STUDY_STREAM]).standard_normal(n)
    post: dict[str, Any] = {
        "mu": (dims, mu.reshape(shape)),
        "tau": (dims, tau.reshape(shape)),
        "theta" if inputs.kind == "re" else "delta": ((*dims, "comparison"), effects.reshape(*shape, -1)),
        "theta_new": (dims, new.reshape(shape)),
    }
    if prior_set.tau is None:
        with np.errstate(divide="ignore"):
            post["log_tau2_smd"] = (dims, (2.0 * np.log(tau / prior_set.log_tau2_smd_prior()[1])).reshape(shape))
    std = m.std
    if std is not None:
        per_sd = b[:, 1:p]
        post["beta"] = ((*dims, "term"), (per_sd / std.scale).reshape(*shape, -1))
        post["beta_per_sd"] = ((*dims, "term"), per_sd.reshape(*shape, -1))
        post["intercept"] = (dims, std.intercept_to_original(mu, per_sd).reshape(shape))
    if inputs.kind == "arm":
        post["alpha"] = ((*dims, "study"), b[:, p : p + len(inputs.study_labels)].reshape(*shape, -1))
    stats = {"diverging": (dims, np.zeros(shape, dtype=bool))}
    return fit_tree(post, stats, prepared, prior_set, options)

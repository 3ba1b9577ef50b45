"""Which engine computes a fit: ``auto`` takes the exact (quadrature) engine wherever its
posterior is the model's posterior, with no Monte Carlo error, and MCMC elsewhere.

The exact engine covers the normal-normal models whose coefficients are conditionally
normal given tau: the ``re`` model with independent comparisons and the ``arm`` model,
each with Normal or Flat priors on ``mu``, the slopes and (``arm``) the study baselines;
any prior on tau (:mod:`bayes_msc.bayes.exact.posterior`, :mod:`bayes_msc.bayes.exact.arm`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bayes_msc.frequentist.pooling import independent

EXACT_PRIOR_FAMILIES = ("Normal", "Flat")
"""Priors of ``mu``, ``beta`` and ``alpha`` under which the exact engine's posterior is exact."""


def exact_covers(model: str, prior_set: Any, covariates: Sequence[str] = (), vcov: Any = None) -> bool:
    """Whether the exact engine gives the posterior of ``model`` under ``prior_set``.

    Parameters
    ----------
    model : {"re", "arm"}
    prior_set : PriorSet
        Resolved or not (only the families matter).
    covariates : sequence of str
    vcov : array_like, optional
        The ``re`` model's covariance of the comparisons (correlated comparisons, i.e.
        shared control arms, need MCMC).
    """
    if model == "re" and vcov is not None and not independent(vcov):
        return False
    roles = ["mu"] + (["beta"] if covariates else []) + (["alpha"] if model == "arm" else [])
    families = [getattr(prior_set, role, None) for role in roles]
    return all(f is None or f.dist in EXACT_PRIOR_FAMILIES for f in families)


def choose_engine(engine: str, model: str, prior_set: Any, covariates: Sequence[str] = (), vcov: Any = None) -> str:
    """``engine`` itself, or for ``"auto"``: ``"exact"`` where :func:`exact_covers`, else ``"mcmc"``."""
    if engine != "auto":
        return engine
    return "exact" if exact_covers(model, prior_set, covariates, vcov) else "mcmc"

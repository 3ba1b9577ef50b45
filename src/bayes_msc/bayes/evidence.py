"""Bayes factors for mu = 0 and tau = 0, and posterior predictive p-values per comparison,
of the ``re`` model without covariates (bayesmeta's ``bayesfactor`` and ``pppvalue`` habits).

Exact engine (the quadrature posterior, read through ``BayesResult.densities.tau_posterior``):
``BF01(tau = 0) = p(y | tau = 0) / p(y)`` and ``BF01(mu = 0) = p(y | mu = 0) / p(y)``, the
marginal likelihoods bayesmeta compares. With mu integrated out, ``p(y | tau)`` is the
quadrature's likelihood of tau, so the first is ``L(0) / int L(tau) p(tau) dtau`` (the
normaliser the engine already has); the second is the Savage-Dickey ratio
``p(mu = 0 | y) / p(mu = 0)`` with the posterior density of mu its exact mixture of normals
over tau's nodes. Both need proper priors (bayesmeta: NA otherwise); neither needs the prior
density at 0 to be positive.

MCMC draws: the Savage-Dickey ratio with ``p(0 | y)`` estimated by a Gaussian kernel density
estimate of the draws at 0 (the bandwidth of arviz-stats' KDE; for tau, reflected at its
bound 0), its Monte Carlo standard error from the effective sample size of the kernel values
(arviz-stats). It needs a prior density at 0 that is positive and finite (a Normal mu prior;
HalfNormal, HalfCauchy, HalfStudentT, Uniform(0, U) ... for tau), so it is not given for
the ``log_tau2_smd`` prior, whose density vanishes at tau = 0.

The posterior predictive p-value of comparison i is ``2 min(F_i, 1 - F_i)`` with
``F_i = P(y_rep_i <= y_i | y)`` and ``y_rep_i ~ N(theta_i, v_i)``: given (mu, tau) the
random effect is ``N(s y_i + (1 - s) mu, s v_i)``, ``s = tau^2 / (tau^2 + v_i)``, so F_i is
an average of normal CDFs over the posterior of (mu, tau): exact mixtures for the exact
engine, an average over the draws for MCMC.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bayes_msc.errors import InputError, Problem
from bayes_msc.results.bayes import BayesResult
from bayes_msc.results.toolbox.evidence import BayesFactors, PredictiveCheck


def _check(result: Any) -> BayesResult:
    if not isinstance(result, BayesResult):
        raise InputError(
            Problem(f"result must be a Bayesian fit (bm.fit), not {type(result).__name__}", argument="result")
        )
    if result.model != "re" or result.covariates:
        raise InputError(
            Problem(
                "Bayes factors and predictive p-values are defined here for the 're' model without covariates",
                argument="result",
            )
        )
    return result


def _label(result: BayesResult) -> dict[str, Any]:
    return {
        "outcome": result.outcome,
        "month": result.month,
        "dataset": result.dataset,
        "simulated": result.simulated,
    }


def _prior_densities(result: BayesResult) -> tuple[dict[str, float], dict[str, str]]:
    ps = result.prior_set
    if ps is None:
        raise InputError(Problem("the result keeps no prior set: refit it with bm.fit", argument="result"))
    dens = {
        "mu=0": float(np.exp(ps.mu.logpdf(np.array([0.0]))[0])),
        "tau=0": float(np.exp(ps.tau_logpdf(np.array([0.0]))[0])),
    }
    reasons = {}
    if ps.mu.improper:
        reasons["mu=0"] = f"the mu prior ({ps.mu.dist}) is improper"
    if ps.tau is not None and ps.tau.improper:
        reasons["tau=0"] = f"the tau prior ({ps.tau.dist}) is improper"
    return dens, reasons


def bayes_factors(result: BayesResult) -> BayesFactors:
    """Bayes factors ``BF01`` for ``mu = 0`` and ``tau = 0`` of an ``re`` fit without
    covariates: exact for the exact engine, Savage-Dickey with a KDE of the draws for MCMC
    (with its Monte Carlo standard error). See the module docstring.

    Raises
    ------
    InputError
        Not a Bayesian ``re`` fit without covariates, or an exact result without its
        quadrature posterior.
    """
    result = _check(result)
    dens, reasons = _prior_densities(result)
    if result.engine == "exact":
        bf, mcse, method = _exact(result, reasons), {"mu=0": 0.0, "tau=0": 0.0}, "exact"
    else:
        bf, mcse = _savage_dickey(result, dens, reasons)
        method = "savage-dickey-kde"
    for h in reasons:
        bf[h], mcse[h] = math.nan, math.nan
    return BayesFactors(
        prior=result.prior,
        engine=result.engine,
        method=method,
        k=result.k,
        bf01=bf,
        mcse=mcse,
        prior_density=dens,
        reasons=reasons,
        measure=result.measure,
        **_label(result),
    )


def _tau_posterior(result: BayesResult) -> Any:
    tp = getattr(result.densities, "tau_posterior", None)
    if tp is None:
        raise InputError(Problem("this exact result keeps no quadrature posterior of tau", argument="result"))
    return tp


def _exact(result: BayesResult, reasons: dict[str, str]) -> dict[str, float]:
    from scipy import stats

    from bayes_msc.bayes.exact.model import conditional

    tp = _tau_posterior(result)
    bf = {}
    # L(0) / int L p: the engine's normaliser is log int L(tau) p(tau) dtau on the same scale
    log_l0 = float(conditional(tp.model, np.array([0.0]))[0][0])
    bf["tau=0"] = math.exp(log_l0 - tp.log_norm)
    if "mu=0" not in reasons:
        post0 = float(tp.weight @ stats.norm.pdf(0.0, tp.b_mean[:, 0], np.sqrt(tp.b_cov[:, 0, 0])))
        prior0 = float(np.exp(result.prior_set.mu.logpdf(np.array([0.0]))[0]))
        bf["mu=0"] = post0 / prior0
    else:
        bf["mu=0"] = math.nan
    return bf


def _draws(result: BayesResult, name: str) -> np.ndarray:
    """Draws of ``name`` as (chain, draw)."""
    if result.idata is None or name not in result.idata.posterior:
        raise InputError(Problem(f"the result has no posterior draws of {name}", argument="result"))
    return np.asarray(result.idata.posterior[name], float).reshape(-1, result.idata.posterior.sizes["draw"])


def kde_at_zero(draws: np.ndarray, bounded: bool) -> tuple[float, float]:
    """``(density at 0, its MCSE)``: a Gaussian KDE of ``draws`` (chain, draw) at 0 with
    arviz-stats' bandwidth, reflected at 0 when the parameter is bounded there; the MCSE of
    the mean of the kernel values from their effective sample size (arviz-stats)."""
    import arviz_stats
    from arviz_stats.base import array_stats

    flat = draws.reshape(-1)
    kw = {"custom_lims": (0.0, float(flat.max()))} if bounded else {}
    bw = float(np.asarray(array_stats.kde(flat, **kw)[2]))
    kern = np.exp(-0.5 * (flat / bw) ** 2) / (bw * math.sqrt(2 * math.pi))
    values = (2 * kern if bounded else kern).reshape(draws.shape)
    mcse = float(np.asarray(arviz_stats.mcse(values, method="mean")))
    return float(values.mean()), mcse


def _savage_dickey(
    result: BayesResult, dens: dict[str, float], reasons: dict[str, str]
) -> tuple[dict[str, float], dict[str, float]]:
    bf, mcse = {}, {}
    for h, name in (("mu=0", "mu"), ("tau=0", "tau")):
        prior0 = dens[h]
        if h in reasons:
            continue
        if not (math.isfinite(prior0) and prior0 > 0):
            reasons[h] = (
                f"the {name} prior has density {prior0:g} at 0, so the Savage-Dickey ratio is not "
                "defined; the exact engine gives the marginal-likelihood ratio"
            )
            continue
        post0, se = kde_at_zero(_draws(result, name), bounded=(name == "tau"))
        bf[h], mcse[h] = post0 / prior0, se / prior0
    return bf, mcse


def pppvalue(result: BayesResult) -> PredictiveCheck:
    """Posterior predictive p-value of each comparison (two-sided, on its observed effect)
    of an ``re`` fit without covariates; see the module docstring."""
    from scipy import stats

    result = _check(result)
    se_table = result.study_effects
    if se_table is None:
        raise InputError(Problem("the result has no study effects", argument="result"))
    y = se_table["yi"].to_numpy(float)
    v = se_table["sei"].to_numpy(float) ** 2
    if result.engine == "exact":
        from bayes_msc.bayes.exact.mixtures import mixture_cdf

        tp = _tau_posterior(result)
        t2 = tp.tau[:, None] ** 2  # (nodes, 1)
        s = t2 / (t2 + v)  # (nodes, k)
        mu_m, mu_v = tp.b_mean[:, :1], tp.b_cov[:, 0, :1]
        means = (s * y + (1 - s) * mu_m).T  # (k, nodes)
        sds = np.sqrt(s * v + (1 - s) ** 2 * mu_v + v).T
        f = np.clip(mixture_cdf(y, tp.weight, means, sds), 0.0, 1.0)
    else:
        mu, tau = _draws(result, "mu").reshape(-1, 1), _draws(result, "tau").reshape(-1, 1)
        s = tau**2 / (tau**2 + v)
        f = stats.norm.cdf(y, s * y + (1 - s) * mu, np.sqrt(s * v + v)).mean(axis=0)
    return PredictiveCheck(
        prior=result.prior,
        engine=result.engine,
        labels=tuple(
            c if s == c else f"{s}: {c}"
            for s, c in zip(se_table["study"].astype(str), se_table["comparison"].astype(str), strict=True)
        ),
        yi=y,
        p_lower=np.asarray(f, float),
        pppvalue=np.minimum(1.0, 2 * np.minimum(f, 1 - f)),
        **_label(result),
    )

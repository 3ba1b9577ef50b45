"""Exact posterior of the normal-normal random-effects model and meta-regression.

The model of bayesmeta (Roever 2020, J Stat Softw 93(6)) and its ``bmr``:
y_i ~ N(theta_i, v_i), theta_i ~ N(mu + z_i' beta, tau^2), z the covariates centred at
their reference values and scaled (:func:`bayes_msc.bayes.design.standardise`), so ``mu``
and its prior are the effect at the reference values (the covariates' means unless set)
and the ``beta`` prior is per SD of each covariate. With
Normal or Flat priors on b = (mu, beta), b | tau, y ~ N(b(tau), A(tau)^-1) with
A = D'WD + P0, W = diag(1 / (v_i + tau^2)), D = [1, z]; integrating b out gives the
marginal likelihood L(tau), and p(tau | y) ~ p(tau) L(tau). Every other posterior is a
mixture over tau of normals.

Quadrature: the trapezoid rule on x = log tau (a logistic scale for a Uniform tau prior)
converges geometrically for these analytic integrands; tau's distribution function is
the exact integral of the sinc interpolant of the density (sine integral). The mass at
tau < t0 = 1e-8 min(sqrt v_i), where the likelihood no longer changes, is lumped at t0.
The step is halved until tau's quantiles and the mean and SD of mu change by < tol
(relative to their spread). Slopes are reported per unit of the covariates as given;
``intercept`` is the effect where every covariate term is 0.

The code is split by responsibility; the public names (``__all__``) are importable from here:
:mod:`~bayes_msc.bayes.exact.model` (the model given tau), :mod:`~bayes_msc.bayes.exact.tau`
(tau's posterior, the quadrature), :mod:`~bayes_msc.bayes.exact.mixtures` (mixtures of normals)
and :mod:`~bayes_msc.bayes.exact.densities` (marginal densities for figures).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from bayes_msc.bayes.exact.densities import ExactDensities
from bayes_msc.bayes.exact.mixtures import mixture_cdf, mixture_hdi, mixture_quantile, mixture_summaries
from bayes_msc.bayes.exact.model import coefficients_given_tau, moment_exists, report_map
from bayes_msc.bayes.exact.tau import Quadrature, TauPosterior, quadrature, tau_posterior
from bayes_msc.errors import InputError, Problem
from bayes_msc.priors import PriorSet
from bayes_msc.results.bayes import PARAMETER_FIELDS, BayesResult, Verdict, mcid_label
from bayes_msc.results.layout import CI_LEVEL

Labels = Sequence[str] | pd.DataFrame | None
"""Labels of the comparisons: one per comparison, or a frame with ``study`` and ``comparison``."""

__all__ = [
    "ExactDensities",
    "Quadrature",
    "TauPosterior",
    "coefficients_given_tau",
    "exact_posterior",
    "mixture_cdf",
    "mixture_hdi",
    "mixture_quantile",
    "quadrature",
    "summarise",
    "tau_posterior",
]


def exact_posterior(
    yi: ArrayLike,
    vi: ArrayLike,
    prior_set: PriorSet,
    X: ArrayLike | None = None,
    names: Sequence[str] = (),
    *,
    ci_prob: float = CI_LEVEL,
    mcid: float | None = None,
    labels: Labels = None,
    grid: Quadrature | None = None,
) -> BayesResult:
    """Exact posterior of the normal-normal model (meta-regression with ``X``).

    Parameters
    ----------
    yi, vi : array_like
        Effects and sampling variances.
    prior_set : PriorSet
        Resolved (:meth:`PriorSet.resolve`); Normal or Flat priors on ``mu`` and ``beta``.
    X, names : optional
        Covariate matrix (k x p, as given, no intercept) and the names of its columns.
    ci_prob : float
        Probability of the equal-tailed and shortest intervals.
    mcid : float, optional
        Minimal clinically important difference, signed in the direction of benefit:
        adds ``P(mu < mcid)`` for a negative one, ``P(mu > mcid)`` for a positive one.
    labels : sequence of str or DataFrame with ``study`` and ``comparison``, optional
        Labels of the comparisons in ``study_effects``.
    grid : Quadrature, optional

    Returns
    -------
    BayesResult
        ``engine="exact"``; parameters ``mu`` (with covariates: at their means), ``tau``,
        the slopes, ``theta_new`` and, with covariates, ``intercept``; ESS and R-hat are NaN. ``densities`` holds the marginal
        posterior density of each parameter, ``{name: (grid, density)}`` from its 0.1% to
        its 99.9% quantile (:class:`ExactDensities`, computed when first read).
    """
    if mcid is not None and not (math.isfinite(mcid) and mcid != 0):
        raise InputError(Problem(f"mcid must be a finite number other than 0, not {mcid}", argument="mcid"))
    return summarise(tau_posterior(yi, vi, prior_set, X, names, grid=grid), ci_prob=ci_prob, mcid=mcid, labels=labels)


def summarise(
    full: TauPosterior,
    *,
    ci_prob: float = CI_LEVEL,
    mcid: float | None = None,
    labels: Labels = None,
    model: str = "re",
) -> BayesResult:
    """The BayesResult of a quadrature posterior of tau (see :func:`exact_posterior`);
    ``model`` names the model in the result (``re`` or ``arm``)."""
    prior_set, names = full.model.prior_set, full.model.std.names if full.model.std else ()
    tp = _pruned(full)  # for the mixtures only: its tau grid no longer matches x and g
    m, w = tp.model, tp.weight
    qs = ((1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2)
    tmat, coef = report_map(m)
    means = np.column_stack([tp.b_mean @ tmat.T, tp.b_mean[:, 0]]).T  # (quantities, nodes); theta_new last
    var = np.einsum("qa,jab,qb->qj", tmat, tp.b_cov, tmat)
    sds = np.sqrt(np.vstack([var, tp.b_cov[:, 0, 0] + tp.tau**2]))
    mix = (*coef, "theta_new")
    mean, sd, quant = mixture_summaries(w, means, sds, qs)
    # Given tau, a quantity loading on a flat-prior coefficient has variance ~ tau^2.
    grows = np.append(np.abs(tmat[:, m.p0 == 0]).sum(axis=1) > 0, True)
    sd = np.where(grows & (not moment_exists(m, 2)), np.nan, sd)
    hdi = mixture_hdi(ci_prob, w, means, sds)
    rows = {n: [mean[i], sd[i], quant[i, 1], quant[i, 0], quant[i, 2], *hdi[i]] for i, n in enumerate(mix)}
    tq, t1, t2 = full.quantile(qs), full.moment(1), full.moment(2)
    rows["tau"] = [
        t1,
        math.sqrt(max(t2 - t1**2, 0.0)) if np.isfinite(t2) else np.nan,
        tq[1],
        tq[0],
        tq[2],
        *full.hdi(ci_prob),
    ]
    order = ["mu", "tau", *coef[1:-1], "theta_new"] + (["intercept"] if m.std else [])
    table = pd.DataFrame(
        [rows[n] + [np.nan] * 3 for n in order], columns=list(PARAMETER_FIELDS), index=pd.Index(order, dtype=object)
    )
    probs: dict[str, float] = {}
    cuts = np.array([0.0] + ([mcid] if mcid is not None else []))
    i = mix.index("mu")
    cdf = mixture_cdf(cuts, w, np.repeat(means[i : i + 1], cuts.size, 0), np.repeat(sds[i : i + 1], cuts.size, 0))
    cdf = np.clip(cdf, 0.0, 1.0)  # weights summing to 1 + 1 ulp must not give P > 1
    probs["P(mu < 0)"], probs["P(mu > 0)"] = float(cdf[0]), float(1 - cdf[0])
    if mcid is not None:
        probs[mcid_label(mcid)] = float(cdf[1] if mcid < 0 else 1 - cdf[1])
    notes = [
        text
        for text, on in (
            ("k = 1: tau is prior-driven (one comparison cannot inform the between-study SD)", m.rows.size == 1),
            ("the posterior mean of tau is infinite (heavy tail): reported as null", not moment_exists(m, 1)),
            ("the posterior SD of tau is infinite (heavy tail): reported as null", not moment_exists(m, 2)),
            ("quadrature did not reach its tolerance; results may be inaccurate", not full.converged),
            (
                "the mu prior is on the effect at the covariates' reference values; slope priors per covariate SD",
                m.std is not None,
            ),
        )
        if on
    ]
    return BayesResult(
        model=model,
        prior=prior_set.name,
        engine="exact",
        k=int(m.rows.size),
        parameters=table,
        verdict=Verdict(passed=True, reasons=("exact",)),
        prior_spec=prior_set.to_dict(),
        covariates=tuple(names),
        covariate_at=m.std.reference if m.std else {},
        covariate_at_given=m.std.given if m.std else (),
        mcid=mcid,
        probabilities=probs,
        study_effects=_study_effects(tp, qs, labels),
        ci_prob=ci_prob,
        notes=tuple(notes),
        densities=ExactDensities(full, w, means, sds, mix, order),
    )


def _pruned(tp: TauPosterior) -> TauPosterior:
    """The nodes that carry weight (> 1e-16 of the largest), for the mixtures."""
    on = tp.weight > 1e-16 * tp.weight.max()
    return TauPosterior(
        **{**tp.__dict__, "tau": tp.tau[on], "weight": tp.weight[on], "b_mean": tp.b_mean[on], "b_cov": tp.b_cov[on]}
    )


def _study_effects(tp: TauPosterior, qs: tuple[float, ...], labels: Labels) -> pd.DataFrame:
    """Shrunken effect of each comparison, mixed over tau. Given tau and b, the random effect
    theta = c'b + u of the observation y = x'b + u + e (x = c plus nuisance columns, e.g. an
    arm model's baseline) is N(c'b + s (y - x'b), s v), s = tau^2 / (tau^2 + v); with b
    integrated out: mean s y + g'b(tau), variance s v + g'V(tau)g, g = c - s x."""
    m = tp.model
    x = m.d[m.rows]
    c = np.where(np.arange(x.shape[1]) < m.n_coef, x, 0.0)
    s = tp.tau[:, None] ** 2 / (tp.tau[:, None] ** 2 + m.v[m.rows])  # (nodes, k)
    g = c[None] - s[:, :, None] * x[None]  # (nodes, k, coefficients)
    means = (s * m.y[m.rows] + np.einsum("jka,ja->jk", g, tp.b_mean)).T
    sds = np.sqrt(s * m.v[m.rows] + np.einsum("jka,jab,jkb->jk", g, tp.b_cov, g)).T
    mean, sd, quant = mixture_summaries(tp.weight, means, sds, (qs[0], qs[2]))
    k = m.rows.size
    if isinstance(labels, pd.DataFrame):
        study, comp = labels["study"].astype(str).tolist(), labels["comparison"].astype(str).tolist()
    else:
        comp = [str(x) for x in labels] if labels is not None else [str(i + 1) for i in range(k)]
        study = comp
    yi, vi = m.shown
    return pd.DataFrame(
        {
            "comparison": comp,
            "study": study,
            "yi": yi,
            "sei": np.sqrt(vi),
            "mean": mean,
            "sd": sd,
            "eti_low": quant[:, 0],
            "eti_high": quant[:, 1],
        }
    )

"""One method applied to one replication's trials: the estimate of mu, its interval, the test.

- Frequentist (:func:`bayes_msc.frequentist.rma.rma`, metafor's ``rma``): the estimate, the
  confidence interval at the study's level (z, or t on k - p df with Knapp-Hartung) and
  the test of mu = 0 (rejected when p < 1 - level); ``tau`` is the estimate of tau.
- Bayesian (the prior set resolved for the replication's data, as ``bm.fit`` does): the
  posterior median of mu, its equal-tailed credible interval at the study's level, and
  "reject mu = 0" when that interval excludes 0 (equivalently, P(mu < 0) outside
  [(1 - level) / 2, (1 + level) / 2]); ``tau`` is tau's posterior median. The exact engine
  is the quadrature posterior (:mod:`bayes_msc.bayes.exact`: ``converged`` is its
  quadrature's convergence); MCMC is :func:`bayes_msc.bayes.mcmc.run.fit_mcmc` with its
  parameterisation choice and re-tries (``converged`` is its diagnostics verdict).

With ``dose = true`` the method is a meta-regression on log10(dose) centred at the
design's centre, and mu is its intercept: the effect at the centre. A method that cannot
analyse a replication (too few reporting trials, doses that no longer vary, numerics that
fail: an InputError, ValueError or ArithmeticError) gives a row with ``error`` set and no
estimate; the summary counts these in ``n_failed``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bayes_msc.errors import InputError
from bayes_msc.simstudy.generate import Trials
from bayes_msc.simstudy.spec import Method

DOSE_TERM = "log10(dose)"

ROW_FIELDS = ("k", "estimate", "ci_low", "ci_high", "reject", "tau", "converged", "error")
"""What a method gives for one replication (the per-replication columns of a chunk)."""


def analyse(trials: Trials, method: Method, level: float) -> dict[str, Any]:
    """Apply ``method`` to ``trials``; a dict of :data:`ROW_FIELDS`."""
    try:
        if method.kind == "frequentist":
            row = _frequentist(trials, method, level)
        elif method.engine == "exact":
            row = _exact(trials, method, level)
        else:
            row = _mcmc(trials, method, level)
    except (InputError, ValueError, ArithmeticError) as err:
        # The data of this replication do not allow the method (too few trials, doses that
        # no longer vary) or its numerics failed on them: a failed analysis is a result of
        # the study, counted and shown (n_failed), not a reason to lose the study.
        return {
            "k": trials.k,
            "estimate": math.nan,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "reject": False,
            "tau": math.nan,
            "converged": False,
            "error": _message(err),
        }
    return {"k": trials.k, **row, "error": ""}


def _message(err: Exception) -> str:
    if isinstance(err, InputError):
        return "; ".join(p.message for p in err.problems)
    return f"{type(err).__name__}: {err}"


def _covariate(trials: Trials, method: Method) -> np.ndarray | None:
    if not method.dose:
        return None
    assert trials.dose is not None  # a dose method needs doses in every design (checked on reading)
    return trials.dose[:, None]


def _standardised(x: np.ndarray | None) -> Any:
    """The dose covariate standardised with its reference value at the design's centre
    (x = 0), as ``bm.fit(..., covariate_at={"log10(dose)": centre})`` does: the Bayesian mu
    (and its prior) is then the effect at the centre, the estimand of the frequentist
    intercept, not at the mean dose of the trials that happened to report."""
    from bayes_msc.bayes.design import standardise

    if x is None:
        return None
    return standardise(x, [DOSE_TERM], centre=np.zeros(1), given=(DOSE_TERM,))


def _frequentist(trials: Trials, method: Method, level: float) -> dict[str, Any]:
    from bayes_msc.frequentist.rma import rma

    x = _covariate(trials, method)
    est_, hk, cut = method.estimator, method.hksj, method.hksj_truncate
    if x is None:
        res = rma(trials.yi, trials.vi, method=est_, hksj=hk, hksj_truncate=cut, level=level)
        est, low, high, p, tau2 = res.estimate, res.ci_low, res.ci_high, res.p, res.tau2
    else:
        reg = rma(trials.yi, trials.vi, method=est_, hksj=hk, hksj_truncate=cut, level=level, X=x, names=[DOSE_TERM])
        c = reg.coefficients[0]
        est, low, high, p, tau2 = c.estimate, c.ci_low, c.ci_high, c.p, reg.tau2
    return {
        "estimate": est,
        "ci_low": low,
        "ci_high": high,
        "reject": bool(p < 1 - level),
        "tau": math.sqrt(tau2),
        "converged": True,
    }


def resolved_prior(trials: Trials, method: Method) -> Any:
    """The method's prior set resolved for this replication's data (data-scaled priors use
    its unit-information SD and outcome SD)."""
    from bayes_msc.priors import prior_context

    assert method.prior_set is not None
    n = trials.n_treatment + trials.n_control
    ctx = prior_context(trials.yi, trials.vi, n, trials.n_treatment, trials.n_control, measure="md")
    return method.prior_set.resolve(ctx)


def _exact(trials: Trials, method: Method, level: float) -> dict[str, Any]:
    from bayes_msc.bayes.exact.mixtures import mixture_quantile
    from bayes_msc.bayes.exact.model import make_model, report_map
    from bayes_msc.bayes.exact.tau import quadrature

    std = _standardised(_covariate(trials, method))
    tp = quadrature(make_model(trials.yi, trials.vi, resolved_prior(trials, method), None, (), std=std))
    # mu as the exact engine reports it: row 0 of the map from its coefficients (the effect
    # at the reference value, x = 0: the design's centre of log10 dose when regressing on dose).
    row = report_map(tp.model)[0][0]
    means = (tp.b_mean @ row)[None, :]
    sds = np.sqrt(np.einsum("a,jab,b->j", row, tp.b_cov, row))[None, :]
    a = (1 - level) / 2
    low, mid, high = (float(mixture_quantile(q, tp.weight, means, sds)[0]) for q in (a, 0.5, 1 - a))
    return {
        "estimate": mid,
        "ci_low": low,
        "ci_high": high,
        "reject": bool(low > 0 or high < 0),
        "tau": float(tp.quantile([0.5])[0]),
        "converged": bool(tp.converged),
    }


def _mcmc(trials: Trials, method: Method, level: float) -> dict[str, Any]:
    from bayes_msc.bayes.inputs import Prepared
    from bayes_msc.bayes.mcmc.models import ModelInputs
    from bayes_msc.bayes.mcmc.run import fit_mcmc

    x = _covariate(trials, method)
    std = _standardised(x)
    labels = tuple(f"trial {i + 1}" for i in range(trials.k))
    inputs = ModelInputs(
        kind="re",
        labels=labels,
        studies=labels,
        yi=trials.yi,
        vi=trials.vi,
        z=std.z if std is not None else np.empty((trials.k, 0)),
        vcov=np.diag(trials.vi),
    )
    prepared = Prepared(
        inputs=inputs,
        standardised=std,
        terms=(DOSE_TERM,) if x is not None else (),
        n_treatment=trials.n_treatment,
        n_control=trials.n_control,
        comparisons=labels,
        arm_means=None,
        notes=(),
    )
    label = {"outcome": "simulated", "month": 0.0, "dataset": "simulation study", "simulated": True}
    best, _ = fit_mcmc(
        prepared,
        resolved_prior(trials, method),
        model="re",
        parameterisation="auto",
        draws=method.draws,
        tune=method.tune,
        chains=method.chains,
        seed=trials.seed,
        target_accept=0.95,
        ci_prob=level,
        mcid=None,
        label={**label, "measure": "md", "multiarm": "split"},
    )
    low, high = best.value("mu", "eti_low"), best.value("mu", "eti_high")
    return {
        "estimate": best.value("mu", "median"),
        "ci_low": low,
        "ci_high": high,
        "reject": bool(low > 0 or high < 0),
        "tau": best.value("tau", "median"),
        "converged": bool(best.verdict.passed),
    }

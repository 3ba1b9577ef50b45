"""Bayesian subgroups: each level's mu and the posterior of their differences.

A factor enters the ``re`` model as dummy terms (``NAME[LEVEL]``) against a reference
level, so the model stays linear-Gaussian given tau and ``engine="auto"`` answers it with
the exact engine (MCMC on request). The reference values of the dummy terms are set to 0
(``covariate_at``), so ``mu`` is the reference level's mean and its prior is the prior on
that level's effect; another level's mean is ``mu + beta[LEVEL]`` (``intercept`` equals
``mu`` here). Every level's mean and every pairwise difference are summarised from the
fit's joint posterior draws (independent draws of the exact posterior with the exact
engine; MCMC draws otherwise), so the differences keep the levels' posterior correlation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayes_msc.data.covariates import Term, dummy_code, factor_levels, level_text
from bayes_msc.errors import InputError, Problem
from bayes_msc.results.subgroup import BayesSubgroupResult, PosteriorSummary


def _summary(name: str, draws: np.ndarray, ci_prob: float) -> PosteriorSummary:
    a = (1 - ci_prob) / 2
    lo, med, hi = np.quantile(draws, [a, 0.5, 1 - a])
    return PosteriorSummary(
        name=name,
        mean=float(np.mean(draws)),
        sd=float(np.std(draws, ddof=1)),
        median=float(med),
        eti_low=float(lo),
        eti_high=float(hi),
        p_below_0=float(np.mean(draws < 0)),
    )


def subgroup_posterior(
    effects: Any,
    by: str,
    reference: str | None = None,
    prior: Any = "weakly_informative",
    engine: str = "auto",
    **options: Any,
) -> BayesSubgroupResult:
    """Fit the ``re`` model with the factor ``by`` (dummy terms against ``reference``,
    default the first level) and summarise each level's mean and each pairwise difference.

    ``options`` go to :func:`bayes_msc.bayes.fit.fit` (``draws``, ``chains``, ``seed``,
    ``ci_prob``, ``priors_path``, ...; not ``covariates`` or ``covariate_at``).
    """
    from bayes_msc.bayes.fit import fit

    if by not in effects.data.columns:
        known = ", ".join(sorted((*effects.factors, *effects.covariates))) or "(none)"
        raise InputError(Problem(f"unknown column '{by}'; columns to form subgroups by: {known}", argument="by"))
    bad = {"covariates", "covariate_at"} & set(options)
    if bad:
        raise InputError(Problem(f"{', '.join(sorted(bad))}: set by the subgroup analysis", argument=sorted(bad)[0]))
    texts = [level_text(v) for v in effects.data[by].tolist()]
    found = factor_levels(texts)
    if len(found) < 2:
        raise InputError(
            Problem(
                f"{by} has {len(found)} level(s) among the comparisons ({', '.join(found) or 'none'}); "
                "subgroups need two",
                argument="by",
            )
        )
    _, names, ref, levels = dummy_code([t for t in texts if t is not None], Term(by, "factor", reference), "reference")
    term = f"factor({by}, ref={ref})"
    res = fit(effects, prior=prior, covariates=[term], covariate_at=dict.fromkeys(names, 0.0), engine=engine, **options)
    ci = res.ci_prob
    mu = res.draws_of("mu")
    draws = {
        ref: mu,
        **{lv: mu + res.draws_of(n) for lv, n in zip([x for x in levels if x != ref], names, strict=True)},
    }
    studies = np.asarray([str(s) for s in effects.data["study"]], dtype=object)
    of = np.asarray(texts, dtype=object)
    counts = {lv: (int(np.sum(of == lv)), len(set(studies[of == lv]))) for lv in levels}
    level_rows = tuple(_summary(lv, draws[lv], ci) for lv in levels)
    diffs = tuple(
        _summary(f"{b} - {a}", draws[b] - draws[a], ci) for i, a in enumerate(levels) for b in levels[i + 1 :]
    )
    notes = [f"{by}: {len(levels)} levels ({', '.join(levels)}), reference level '{ref}'"]
    notes += [
        f"{lv}: 1 study: within-study comparison only; its mean borrows tau from the other levels"
        for lv, (_, n) in counts.items()
        if n < 2
    ]
    return BayesSubgroupResult(
        by=by,
        reference=ref,
        levels=level_rows,
        differences=diffs,
        k=tuple(counts[lv][0] for lv in levels),
        n_studies=tuple(counts[lv][1] for lv in levels),
        engine=res.engine,
        ci_prob=ci,
        fit=res,
        notes=tuple(notes),
    )

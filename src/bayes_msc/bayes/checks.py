"""What a passing diagnostics verdict does not cover, as warnings on the verdict.

- **A prior bound that cuts the posterior off** (:func:`bound_warnings`): a parameter whose
  prior is bounded (a ``Uniform`` prior of ``tau``, or of ``mu``, the slopes or the arm
  baselines) and whose posterior presses against the bound: its 99th percentile above 90%
  of the way from the lower to the upper bound (or its 1st percentile below 10%, for a
  lower bound other than tau's natural 0). The posterior is then the prior's truncation,
  not the data's answer; the warning names the prior set and the bound.
- **Comparisons from fewer than two studies** (:func:`one_study_warning`): a random-effects
  model then compares the arms of one study; ``tau`` is not a between-study SD and ``mu``
  is not a pooled effect across studies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

BOUND_QUANTILE = 0.99
"""A posterior quantile beyond :data:`BOUND_SHARE` of a prior's range triggers the warning."""
BOUND_SHARE = 0.9


def _bounds(prior: Any) -> tuple[float, float] | None:
    if prior is None or prior.dist != "Uniform":
        return None
    return prior.support


def _quantiles(result: Any, name: str) -> np.ndarray | None:
    """(1%, 99%) quantiles of a parameter, one row per element (slopes, baselines): exact
    for the exact engine's tau, from the draws otherwise."""
    densities = getattr(result, "densities", None)
    if name == "tau" and densities is not None and hasattr(densities, "tau_posterior"):
        return densities.tau_posterior.quantile([1 - BOUND_QUANTILE, BOUND_QUANTILE])[None, :]
    idata = getattr(result, "idata", None)
    if idata is None or name not in idata.posterior:
        return None
    x = np.asarray(idata.posterior[name].values, dtype=float)
    x = x.reshape(x.shape[0] * x.shape[1], -1)
    return np.quantile(x, [1 - BOUND_QUANTILE, BOUND_QUANTILE], axis=0).T


def bound_warnings(result: Any, prior_set: Any) -> list[str]:
    """One warning per parameter whose posterior presses against its prior's bound (see the
    module docstring), naming the prior set, the prior and the bound."""
    out = []
    roles = (("tau", "tau"), ("mu", "mu"), ("beta", "beta_per_sd"), ("alpha", "alpha"))
    for role, name in roles:
        bounds = _bounds(getattr(prior_set, role, None))
        if bounds is None:
            continue
        q = _quantiles(result, name)
        if q is None:
            continue
        lo, hi = bounds
        prior = f"{role} ~ Uniform({lo:.4g}, {hi:.4g})"
        natural = role == "tau" and lo == 0.0  # tau >= 0 anyway: mass near 0 is not a cut
        for q_lo, q_hi in q:
            if q_hi > lo + BOUND_SHARE * (hi - lo):
                out.append(
                    f"prior set '{prior_set.name}': the posterior of {name} reaches the upper bound of its prior "
                    f"{prior} (99th percentile {q_hi:.4g} > {BOUND_SHARE:.0%} of the bound): the prior cuts the "
                    "posterior off; use a wider or unbounded prior"
                )
                break
            if not natural and q_lo < lo + (1 - BOUND_SHARE) * (hi - lo):
                out.append(
                    f"prior set '{prior_set.name}': the posterior of {name} reaches the lower bound of its prior "
                    f"{prior} (1st percentile {q_lo:.4g}): the prior cuts the posterior off; use a wider prior"
                )
                break
    return out


def one_study_warning(studies: Sequence[str]) -> str | None:
    """The warning for comparisons that all come from one study (None for two or more)."""
    names = list(dict.fromkeys(studies))
    if len(names) >= 2:
        return None
    k = len(studies)
    return (
        f"1 study: within-study comparison only ({names[0] if names else 'no study'}, {k} comparison"
        f"{'s' if k != 1 else ''}): random effects between studies are not identified from one study; "
        "mu and tau describe this study's comparisons, not a pooled effect across studies"
    )

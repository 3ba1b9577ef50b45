"""The one summary-table layout and the one default interval level of the package.

Every result type's ``summary()`` returns a :class:`pandas.DataFrame` whose first
columns are :data:`SUMMARY_COLUMNS`, in this order; result types may append further
columns after them (``z``, ``p`` for frequentist results; ``median``, ``hdi_low``,
``ess_bulk``, ``r_hat`` ... for Bayesian ones).

- ``term``: parameter name (``mu``, ``tau``, ``tau2``, ``intercept``, a covariate name, ...)
- ``estimate``: point estimate (frequentist estimate; posterior mean for Bayesian results)
- ``se``: standard error (frequentist) or posterior standard deviation (Bayesian)
- ``lower``/``upper``: interval at ``level`` (confidence interval; equal-tailed
  credible interval for Bayesian results)
- ``level``: the interval's probability, :data:`CI_LEVEL` unless asked otherwise
"""

from __future__ import annotations

from typing import Any

CI_LEVEL: float = 0.95
"""Default probability of every interval in the package (confidence and credible)."""

SUMMARY_COLUMNS: tuple[str, ...] = ("term", "estimate", "se", "lower", "upper", "level")

FREQUENTIST_COLUMNS: tuple[str, ...] = SUMMARY_COLUMNS + ("z", "p")
"""The ``summary()`` columns of the frequentist results: the shared ones, then ``z`` and ``p``."""


def summary_row(
    term: str,
    estimate: float,
    se: float = float("nan"),
    lower: float = float("nan"),
    upper: float = float("nan"),
    level: float = CI_LEVEL,
    z: float = float("nan"),
    p: float = float("nan"),
) -> dict[str, Any]:
    """One row of a frequentist ``summary()`` (:data:`FREQUENTIST_COLUMNS`), NaN where not given."""
    return {
        "term": term,
        "estimate": estimate,
        "se": se,
        "lower": lower,
        "upper": upper,
        "level": level,
        "z": z,
        "p": p,
    }

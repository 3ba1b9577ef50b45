"""The one summary-table layout and the one default interval level of the package.

Every result type's ``summary()`` returns a :class:`pandas.DataFrame` whose first
columns are :data:`SUMMARY_COLUMNS` (frequentist results) or :data:`BAYES_SUMMARY_COLUMNS`
(Bayesian results), in this order; result types may append further columns after them
(``z``, ``p``, ``df`` for frequentist results; ``median``, ``hdi_low``, ``ess_bulk``,
``r_hat`` ... for Bayesian ones).

- ``term``: parameter name (``mu``, ``tau``, ``tau2``, ``intercept``, a covariate name, ...)
- ``estimate`` and ``se`` (frequentist): the point estimate and its standard error;
  ``mean`` and ``sd`` (Bayesian): the posterior mean and standard deviation
- ``lower``/``upper``: interval at ``level`` (confidence interval; the equal-tailed
  credible interval, ``eti_low``/``eti_high`` in JSON, for Bayesian results)
- ``level``: the interval's probability, :data:`CI_LEVEL` unless asked otherwise
"""

from __future__ import annotations

from typing import Any

CI_LEVEL: float = 0.95
"""Default probability of every interval in the package (confidence and credible)."""

SUMMARY_COLUMNS: tuple[str, ...] = ("term", "estimate", "se", "lower", "upper", "level")

BAYES_SUMMARY_COLUMNS: tuple[str, ...] = ("term", "mean", "sd", "lower", "upper", "level")
"""The first ``summary()`` columns of the Bayesian results (posterior mean and SD)."""

FREQUENTIST_COLUMNS: tuple[str, ...] = SUMMARY_COLUMNS + ("z", "p", "df")
"""The ``summary()`` columns of the frequentist results: the shared ones, then ``z``, ``p``
and ``df`` (of the t test, of Q or of the prediction interval's t quantile; NaN for z)."""


def summary_row(
    term: str,
    estimate: float,
    se: float = float("nan"),
    lower: float = float("nan"),
    upper: float = float("nan"),
    level: float = CI_LEVEL,
    z: float = float("nan"),
    p: float = float("nan"),
    df: float = float("nan"),
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
        "df": df,
    }

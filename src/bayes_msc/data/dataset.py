"""The in-memory form of a dataset folder (the input contract of DESIGN.md).

:func:`read_dataset` (in :mod:`bayes_msc.data.reader`) returns a :class:`Dataset`
whose frames are validated and normalised:

``arms``
    ``study`` (str), ``arm`` (str), ``role`` (``treatment``/``control``), ``n`` (int),
    every further numeric column as float, text columns as str, the derived covariates
    ``female_pct`` (100 * female / (female + male)) and ``kl_grade_mean`` (mean
    Kellgren-Lawrence grade from whichever of ``kl0`` ... ``kl4`` are present) when
    their inputs exist, and ``_row`` (spreadsheet row of the source line).
``outcomes``
    ``study``, ``arm``, ``outcome`` (str), ``month`` (float), ``n`` (float; the arm's
    n where the file leaves it empty), the statistic columns ``mean sd se ci_low
    ci_high median q1 q3 min max`` (float, NaN when empty), ``kind``
    (``final``/``change``), ``scale_min``/``scale_max`` (float or NaN), ``source``,
    ``stat_group`` (one of :data:`STAT_GROUPS` or ``"missing"`` for a row that declares
    an unknown value with every statistic empty) and ``_row``.
``contrasts`` / ``studies`` / ``published``
    Optional files, ``None`` when absent. ``published`` is ``published_pooled.csv``:
    pooled results a publication reports (used by ``bayes-msc reproduce``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

STAT_COLUMNS: tuple[str, ...] = (
    "mean",
    "sd",
    "se",
    "ci_low",
    "ci_high",
    "median",
    "q1",
    "q3",
    "min",
    "max",
)

STAT_GROUPS: dict[str, tuple[str, ...]] = {
    "mean_sd": ("mean", "sd"),
    "mean_se": ("mean", "se"),
    "mean_ci": ("mean", "ci_low", "ci_high"),
    "median_iqr": ("median", "q1", "q3"),
    "median_range": ("median", "min", "max"),
}
"""The complete groups of statistics an outcome row may give (exactly one)."""

ARM_KEY_COLUMNS: tuple[str, ...] = ("study", "arm", "role", "n")
OUTCOME_KEY_COLUMNS: tuple[str, ...] = ("study", "arm", "outcome", "month")
ROLES: tuple[str, ...] = ("treatment", "control")
KINDS: tuple[str, ...] = ("final", "change")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated dataset folder. Build it with :func:`bayes_msc.data.reader.read_dataset`."""

    path: Path
    arms: pd.DataFrame
    outcomes: pd.DataFrame
    studies: pd.DataFrame | None = None
    contrasts: pd.DataFrame | None = None
    published: pd.DataFrame | None = None
    simulated: bool = False

    @property
    def name(self) -> str:
        """The folder's name (``msc_knee_oa``)."""
        return Path(self.path).name

"""The dataset contract of DESIGN.md: the files of a dataset folder and their in-memory form.

Each CSV file of a dataset folder has a :class:`FileSpec` (its known, required, numeric
and text columns, the cells that may not be empty, its key): :data:`ARMS`,
:data:`OUTCOMES`, :data:`CONTRASTS`, :data:`STUDIES`, :data:`PUBLISHED`, in
:data:`SPECS`. :func:`read_dataset` (in :mod:`bayes_msc.data.reader`) returns a :class:`Dataset`
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
``simulated``, ``title``, ``description``
    From the folder's ``dataset.toml`` (:mod:`bayes_msc.data.metadata`); without one,
    ``simulated`` is True when the folder's name contains ``simulated`` (a fallback that
    ``notes`` warns about).
``notes``
    Warnings about the dataset that are not errors (one sentence each).
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


@dataclass(frozen=True)
class FileSpec:
    """The known columns of one dataset file."""

    name: str
    required: tuple[str, ...]
    numeric: tuple[str, ...]
    text: tuple[str, ...]
    not_empty: tuple[str, ...]
    key: tuple[str, ...] = ()

    @property
    def known(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.required + self.numeric + self.text))


KL_COLUMNS = ("kl0", "kl1", "kl2", "kl3", "kl4")
ARMS = FileSpec(
    "arms.csv",
    ("study", "arm", "role", "n"),
    ("n", "female", "male", *KL_COLUMNS),
    ("study", "arm", "role"),
    ("study", "arm", "role", "n"),
    ("study", "arm"),
)
OUTCOMES = FileSpec(
    "outcomes.csv",
    ("study", "arm", "outcome", "month"),
    ("month", "n", *STAT_COLUMNS, "scale_min", "scale_max"),
    ("study", "arm", "outcome", "kind", "source"),
    ("study", "arm", "outcome", "month"),
    ("study", "arm", "outcome", "month"),
)
CONTRASTS = FileSpec(
    "contrasts.csv",
    ("study", "outcome", "month", "treatment_arm", "control_arm", "estimate"),
    ("month", "estimate", "se", "ci_low", "ci_high"),
    ("study", "outcome", "treatment_arm", "control_arm", "source"),
    ("study", "outcome", "treatment_arm", "control_arm", "estimate"),
    ("study", "outcome", "month", "treatment_arm", "control_arm"),
)
STUDIES = FileSpec("studies.csv", ("study",), (), ("study",), ("study",), ("study",))
PUBLISHED = FileSpec(
    "published_pooled.csv",
    ("outcome", "month", "estimate", "ci_low", "ci_high", "p_value", "p_text", "trials", "source"),
    ("month", "estimate", "ci_low", "ci_high", "p_value"),
    ("outcome", "p_text", "trials", "source"),
    ("outcome", "month", "estimate", "ci_low", "ci_high", "trials", "source"),
)
SPECS = (ARMS, OUTCOMES, CONTRASTS, STUDIES, PUBLISHED)


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
    title: str | None = None
    description: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The folder's name (``msc_knee_oa``)."""
        return Path(self.path).name

"""The dataset contract (docs/FORMAT.md, "The dataset folder"): the files of a dataset
folder and their in-memory form.

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

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

    def study_labels(self) -> dict[str, str]:
        """Study id -> a label for tables and figures: ``"<first_author> <year>"`` from
        studies.csv (``first_author`` or ``author``, and ``year``) where it gives them, else
        the study id itself."""
        labels = {str(s): str(s) for s in self.arms["study"].unique()}
        st = self.studies
        if st is None:
            return labels
        author = next((c for c in ("first_author", "author") if c in st.columns), None)
        for rec in st.to_dict(orient="records"):
            name = rec.get(author) if author else None
            year = rec.get("year")
            parts = [str(name).strip() if isinstance(name, str) and name.strip() else None]
            if year is not None and not (isinstance(year, float) and math.isnan(year)):
                parts.append(format(float(year), "g") if isinstance(year, (int, float)) else str(year))
            if parts[0] is not None:
                labels[str(rec["study"])] = " ".join(p for p in parts if p)
        taken = list(labels.values())
        # Two trials of one first author and year keep their ids beside the label.
        return {k: (f"{v} ({k})" if taken.count(v) > 1 and v != k else v) for k, v in labels.items()}

    def __repr__(self) -> str:
        studies, arms = self.arms["study"].nunique(), len(self.arms)
        outcomes = self.outcomes["outcome"].nunique()
        return (
            f"Dataset({self.name!r}, simulated={self.simulated}, studies={studies}, arms={arms}, "
            f"patients={int(self.arms['n'].sum())}, outcomes={outcomes}, outcome_rows={len(self.outcomes)})"
        )

    def summary(self) -> pd.DataFrame:
        """One row per outcome x month: the studies that give data, declare it missing or
        report a contrast (:func:`bayes_msc.data.reader.cell_summary`)."""
        from bayes_msc.data.reader import cell_summary

        return cell_summary(self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``bayes-msc validate --format json`` (docs/FORMAT.md): the dataset's
        name, whether it is simulated, its counts, outcomes, months, covariates, files,
        warnings and one object per outcome x month cell."""
        from bayes_msc.data.reader import covariate_columns

        cells = self.summary()
        months = sorted({float(m) for m in cells["month"] if not math.isnan(m)})
        files = ["arms.csv", "outcomes.csv"] + [name for frame, name in self._optional() if frame is not None]
        return {
            "dataset": self.name,
            "valid": True,
            "simulated": self.simulated,
            "title": self.title,
            "description": self.description,
            "notes": list(self.notes),
            "studies": int(self.arms["study"].nunique()),
            "arms": len(self.arms),
            "patients": int(self.arms["n"].sum()),
            "outcomes": sorted(set(cells["outcome"])),
            "months": months,
            "whole_follow_up_contrasts": bool(cells["month"].isna().any()),
            "covariates": list(covariate_columns(self)),
            "files": files,
            "cells": [
                {
                    "outcome": str(c["outcome"]),
                    "month": None if math.isnan(c["month"]) else float(c["month"]),
                    "n_studies": int(c["n_studies"]),
                    "n_arms": int(c["n_arms"]),
                    "studies": _split(c["studies"]),
                    "missing": _split(c["missing"]),
                    "contrasts": _split(c["contrasts"]),
                }
                for c in cells.to_dict(orient="records")
            ],
        }

    def _optional(self) -> list[tuple[pd.DataFrame | None, str]]:
        return [
            (self.studies, "studies.csv"),
            (self.contrasts, "contrasts.csv"),
            (self.published, "published_pooled.csv"),
        ]

    def __str__(self) -> str:
        """What ``bayes-msc validate`` prints: counts, outcomes, months, covariates, files,
        warnings and the grid of outcome x month cells."""
        from bayes_msc.data.reader import covariate_columns

        arms = self.arms
        lines = [f"Dataset {self.name}" + ("  [SIMULATED data]" if self.simulated else "") + ": valid"]
        lines += [f"  warning: {note}" for note in self.notes]
        lines.append(
            f"  {_plural(arms['study'].nunique(), 'study')}, {_plural(len(arms), 'arm')}, "
            f"{int(arms['n'].sum())} patients (sum of n in arms.csv)"
        )
        cells = self.summary()
        outcomes = sorted(set(cells["outcome"]))
        months = sorted(set(cells["month"].dropna()))
        whole = bool(cells["month"].isna().any())
        lines.append(f"  outcomes: {', '.join(outcomes) if outcomes else 'none'}")
        lines.append(
            f"  months: {', '.join(_month(m) for m in months) if months else 'none'}"
            + ("; and contrasts over a whole follow-up" if whole else "")
        )
        covs = covariate_columns(self)
        lines.append(f"  covariates: {', '.join(covs) if covs else 'none'}")
        lines.append(
            "  files: arms.csv, outcomes.csv"
            + "".join(f", {name} ({_plural(len(df), 'row')})" for df, name in self._optional() if df is not None)
        )
        width = max(len("outcome"), *(len(o) for o in cells["outcome"]))
        lines += [
            "",
            "Cells (outcome x month):",
            f"  {'outcome':<{width}}  {'month':>5}  {'data':<22}  declared missing / contrasts",
        ]
        for cell in cells.to_dict(orient="records"):
            n_studies, n_arms = int(cell["n_studies"]), int(cell["n_arms"])
            data = f"{_plural(n_studies, 'study')}, {_plural(n_arms, 'arm')}" if n_studies else "-"
            notes = []
            if cell["n_missing"]:
                notes.append(f"missing in {cell['n_missing']}: {cell['missing']}")
            if cell["n_contrasts"]:
                notes.append(f"contrasts from {cell['n_contrasts']}: {cell['contrasts']}")
            month = _month(float(cell["month"]))
            lines.append(f"  {cell['outcome']:<{width}}  {month:>5}  {data:<22}  {'; '.join(notes) or '-'}")
        lines += [
            "",
            "data: studies and arms with statistics; missing: studies whose rows declare a value "
            "that was measured but is unknown here (all statistics empty); contrasts: study-level "
            "differences in contrasts.csv" + ("; month 'all': over a whole follow-up" if whole else "") + ".",
        ]
        return "\n".join(lines) + "\n"


def _month(value: float) -> str:
    """A month as a person writes it (3, 1.5); 'all' for a contrast over a whole follow-up."""
    return "all" if math.isnan(value) else format(float(value), "g")


def _plural(k: int, word: str) -> str:
    many = word[:-1] + "ies" if word.endswith("y") else word + "s"
    return f"{k} {word if k == 1 else many}"


def _split(text: str) -> list[str]:
    return [s for s in str(text).split("; ") if s]

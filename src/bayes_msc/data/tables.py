"""The effect-size and arm tables: what :func:`~bayes_msc.data.effects.effect_table` and
:func:`~bayes_msc.data.effects.arm_table` return.

An :class:`EffectTable` holds ``yi``/``vi`` per treatment-vs-control comparison of one
outcome at one month, the comparisons' covariance and covariates, and says what could not
enter and why; an :class:`ArmTable` holds the same comparisons at arm level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.data.covariates import Term, parse_term, term_values

FIXED_COLUMNS: tuple[str, ...] = (
    "study",
    "comparison",
    "treatment_arm",
    "control_arm",
    "outcome",
    "month",
    "yi",
    "vi",
    "n_treatment",
    "n_control",
    "source_kind",
)

TABLE_COLUMNS: tuple[str, ...] = ("study", "comparison", "yi", "vi", "se", "n_treatment", "n_control", "source_kind")
"""The columns :meth:`EffectTable.summary` (and ``print``) shows."""


def _items(title: str, items: Sequence[str]) -> list[str]:
    return [f"{title}:"] + [f"  - {item}" for item in items] if items else []


@dataclass(frozen=True, eq=False)
class EffectTable:
    """Effect sizes of one outcome at one month (see :func:`effect_table`).

    ``data`` has :data:`FIXED_COLUMNS`, ``n_treatment_arm`` and ``n_control_arm`` (the
    arms' n before a shared arm is split; ``n_treatment``/``n_control`` are the n the
    effect sizes use), then one column per name in ``covariates``;
    ``vcov`` is k x k (diagonal ``vi``; shared-arm covariances when ``multiarm ==
    "shared"``); ``missing`` says what could not enter and why; ``notes`` the
    conversions, rescaling and multi-arm handling applied; ``scale`` the scale of ``yi``:
    ``"0-100"`` (rescaled or given on 0-100), ``"LOW-HIGH"`` (a native scale every value
    shares), ``"native"`` (no scale given), ``"mixed"`` or, for SMDs, ``"SD units"``.
    """

    data: pd.DataFrame
    vcov: np.ndarray
    outcome: str
    month: float
    measure: str
    multiarm: str
    basis: str
    r: float
    rescale: bool
    simulated: bool
    dataset: str
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    covariates: tuple[str, ...] = ()
    scale: str = "native"

    @property
    def k(self) -> int:
        """Number of comparisons."""
        return len(self.data)

    @property
    def yi(self) -> np.ndarray:
        return self.data["yi"].to_numpy(dtype=float)

    @property
    def vi(self) -> np.ndarray:
        return self.data["vi"].to_numpy(dtype=float)

    def _terms(self, terms: Sequence[str | Term] | str) -> list[Term]:
        terms = [terms] if isinstance(terms, (str, Term)) else list(terms)
        return [parse_term(t) if isinstance(t, str) else t for t in terms]

    def design(self, terms: Sequence[str | Term] | str) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
        """Covariate matrix (no intercept) of the comparisons with a value for every term.

        Returns
        -------
        X : ndarray, shape (kept, len(terms))
        names : tuple of str
            Canonical term names (``log10(dose_million)``).
        kept_mask : ndarray of bool, shape (k,)
            Comparisons kept; :meth:`design_report` says why the others were dropped.

        Raises
        ------
        InputError
            Unknown covariate (lists the available ones) or a logarithm of a value <= 0.
        """
        parsed = self._terms(terms)
        cols = [term_values(self.data, t, available=self.covariates) for t in parsed]
        x = np.column_stack(cols) if cols else np.empty((self.k, 0))
        kept = np.all(np.isfinite(x), axis=1)
        return x[kept], tuple(t.name for t in parsed), kept

    def design_report(self, terms: Sequence[str | Term] | str) -> tuple[str, ...]:
        """One line per comparison :meth:`design` drops, naming the missing terms."""
        parsed = self._terms(terms)
        vals = {t.name: term_values(self.data, t, available=self.covariates) for t in parsed}
        lines = []
        for i, row in enumerate(self.data.itertuples(index=False)):
            lacking = [name for name, v in vals.items() if not np.isfinite(v[i])]
            if lacking:
                lines.append(
                    f"{row.study}: {row.comparison} dropped from the regression: no value for {', '.join(lacking)}"
                )
        return tuple(lines)

    def to_frame(self) -> pd.DataFrame:
        """The export table: metafor's ``yi``/``vi`` names, one row per comparison."""
        return self.data.copy()

    def summary(self) -> pd.DataFrame:
        """One row per comparison: ``study, comparison, yi, vi, se, n_treatment,
        n_control, source_kind`` (what ``print`` shows; :meth:`to_frame` has every column)."""
        frame = self.data.copy()
        frame["se"] = np.sqrt(frame["vi"].to_numpy(dtype=float))
        return frame[list(TABLE_COLUMNS)]

    def __repr__(self) -> str:
        return (
            f"EffectTable(dataset={self.dataset!r}, outcome={self.outcome!r}, month={self.month:g}, "
            f"measure={self.measure!r}, multiarm={self.multiarm!r}, k={self.k}, missing={len(self.missing)}"
            f"{', SIMULATED' if self.simulated else ''})"
        )

    def __str__(self) -> str:
        """What ``bayes-msc effects`` prints: a banner for simulated data, the options, the
        comparisons, then what was left out and the notes."""
        lines = ["SIMULATED DATA"] if self.simulated else []
        lines.append(
            f"dataset: {self.dataset}  outcome: {self.outcome}  month: {self.month:g}  "
            f"measure: {self.measure}  multiarm: {self.multiarm}  basis: {self.basis}  "
            f"r: {self.r:g}  rescale: {'yes' if self.rescale else 'no'}"
        )
        lines.append(f"k = {self.k} comparison(s)")
        if self.k:
            with pd.option_context("display.width", 200, "display.max_columns", 20):
                lines.append(self.summary().to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        if self.multiarm == "shared" and np.any(self.vcov[~np.eye(self.k, dtype=bool)] != 0):
            lines.append("covariances of comparisons sharing an arm are in the JSON output ('covariances')")
        lines += _items("left out", self.missing) + _items("notes", self.notes)
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``bayes-msc effects`` (docs/FORMAT.md)."""
        effects = []
        for rec in self.data.to_dict(orient="records"):
            effects.append({c: rec[c] for c in self.data.columns if c not in ("outcome", "month")})
        cov = [
            {"a": i, "b": j, "study": str(self.data["study"].iat[i]), "cov": float(self.vcov[i, j])}
            for i in range(self.k)
            for j in range(i + 1, self.k)
            if self.vcov[i, j] != 0.0
        ]
        return {
            "dataset": self.dataset,
            "simulated": self.simulated,
            "outcome": self.outcome,
            "month": self.month,
            "measure": self.measure,
            "multiarm": self.multiarm,
            "basis": self.basis,
            "r": self.r,
            "rescale": self.rescale,
            "k": self.k,
            "missing": list(self.missing),
            "notes": list(self.notes),
            "effects": effects,
            "covariances": cov,
            "scale": self.scale,
        }


@dataclass(frozen=True, eq=False)
class ArmTable:
    """Arm-level data of one outcome at one month (see :func:`arm_table`).

    ``data``: one row per arm entering a comparison (``study, arm, role, n, mean, sd, se,
    <covariates>``), each arm once even when it enters several comparisons (never split);
    ``comparisons``: ``study, treatment_arm, control_arm``, the arm-based comparisons of
    :func:`effect_table` in the same order.
    """

    data: pd.DataFrame
    comparisons: pd.DataFrame
    outcome: str
    month: float
    basis: str
    r: float
    rescale: bool
    simulated: bool
    dataset: str
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    covariates: tuple[str, ...] = ()
    scale: str = "native"

    @property
    def k(self) -> int:
        """Number of comparisons."""
        return len(self.comparisons)

    def __repr__(self) -> str:
        return (
            f"ArmTable(dataset={self.dataset!r}, outcome={self.outcome!r}, month={self.month:g}, "
            f"studies={self.data['study'].nunique()}, arms={len(self.data)}, comparisons={self.k}"
            f"{', SIMULATED' if self.simulated else ''})"
        )

    def __str__(self) -> str:
        """The arms and comparisons of the table, what was left out and the notes."""
        lines = ["SIMULATED DATA"] if self.simulated else []
        lines.append(
            f"dataset: {self.dataset}  outcome: {self.outcome}  month: {self.month:g}  basis: {self.basis}  "
            f"rescale: {'yes' if self.rescale else 'no'}"
        )
        lines.append(f"{len(self.data)} arm(s) in {self.k} comparison(s)")
        shown = [c for c in ("study", "arm", "role", "n", "mean", "sd", "se") if c in self.data.columns]
        if len(self.data):
            with pd.option_context("display.width", 200, "display.max_columns", 20):
                lines.append(self.data[shown].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        lines += _items("left out", self.missing) + _items("notes", self.notes)
        return "\n".join(lines) + "\n"

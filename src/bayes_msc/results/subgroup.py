"""Subgroup analysis results (made by :func:`bayes_msc.frequentist.subgroup.subgroup_effects`).

A :class:`SubgroupResult` holds each level's pooled effect (:class:`SubgroupLevel`), the
differences of each level from the reference level, and the test for subgroup differences
(``q_between`` on ``q_between_df`` df): with a common tau^2 metafor's ``QM`` of
``rma(yi, vi, mods = ~ factor(x))``; with a separate tau^2 per level the fixed-effect Q of
the level estimates (metafor ``rma(est, sei = se, method = "FE")$QE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from bayes_msc.results.layout import FREQUENTIST_COLUMNS, summary_row
from bayes_msc.results.text import banner, fmt, grid, notes_block, p_eq, pval, short, where


@dataclass(frozen=True)
class SubgroupLevel:
    """One level's pooled effect; ``pooled`` is False when its comparisons come from one
    study (a within-study summary, not an effect pooled across studies)."""

    level: str
    k: int
    n_studies: int
    pooled: bool
    method: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p: float
    tau2: float
    tau: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    pi_low: float
    pi_high: float
    df: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """The pool fields of this level, with ``level`` its name."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class LevelDifference:
    """``level`` minus the reference level."""

    level: str
    reference: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class SubgroupResult:
    """Pooled effects per level of a factor ``by`` and the test for subgroup differences.

    ``tau2_mode`` is ``"separate"`` (tau^2 estimated within each level) or ``"common"``
    (one tau^2 of the factor meta-regression); ``q_between_test`` is ``"chi2"`` or, for a
    common tau^2 under Knapp-Hartung, ``"F"`` on (``q_between_df``, ``q_between_df2``) df.
    """

    by: str
    reference: str
    tau2_mode: str
    method: str
    hksj: bool
    ci_level: float
    levels: tuple[SubgroupLevel, ...]
    differences: tuple[LevelDifference, ...]
    q_between: float
    q_between_df: int
    q_between_p: float
    q_between_test: str = "chi2"
    q_between_df2: float = float("nan")
    tau2: float = float("nan")
    test: str = "z"
    k: int = 0
    outcome: str | None = None
    month: float | None = None
    measure: str | None = None
    multiarm: str | None = None
    dataset: str = ""
    simulated: bool = False
    excluded: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def level(self, name: str) -> SubgroupLevel:
        """The level named ``name``."""
        for lv in self.levels:
            if lv.level == name:
                return lv
        raise KeyError(name)

    def summary(self) -> pd.DataFrame:
        """The shared layout: one row ``mu[LEVEL]`` per level, one ``diff[LEVEL]`` per
        difference from the reference, then ``q_between`` (its df and p)."""
        rows = [
            summary_row(f"mu[{x.level}]", x.estimate, x.se, x.ci_low, x.ci_high, self.ci_level, x.z, x.p, x.df)
            for x in self.levels
        ]
        rows += [
            summary_row(f"diff[{d.level}]", d.estimate, d.se, d.ci_low, d.ci_high, self.ci_level, d.z, d.p)
            for d in self.differences
        ]
        rows.append(
            summary_row("q_between", self.q_between, level=self.ci_level, p=self.q_between_p, df=self.q_between_df)
        )
        return pd.DataFrame(rows, columns=list(FREQUENTIST_COLUMNS))

    def __repr__(self) -> str:
        est = ", ".join(f"{x.level}={short(x.estimate)}" for x in self.levels[:4])
        more = ", ..." if len(self.levels) > 4 else ""
        return (
            f"SubgroupResult({where(self)}by={self.by!r}, tau2={self.tau2_mode!r}, method={self.method!r}, "
            f"{est}{more}, q_between_p={short(self.q_between_p, 3)}{', SIMULATED' if self.simulated else ''})"
        )

    def __str__(self) -> str:
        lines = banner(self.simulated, self.dataset)
        if self.outcome is not None:
            lines.append(
                f"Dataset: {self.dataset}; outcome: {self.outcome}, month {self.month:g}; "
                f"measure: {str(self.measure).upper()}; multi-arm trials: {self.multiarm}"
            )
            lines.append("")
        tau = (
            f"one tau^2 common to every level (factor meta-regression), tau^2 = {fmt(self.tau2)}"
            if self.tau2_mode == "common"
            else "tau^2 estimated separately within each level"
        )
        lines.append(f"Subgroups by {self.by} (k = {self.k}; tau^2 estimator: {self.method.upper()}; {tau})")
        lines.append(f"Reference level: {self.reference}")
        lines.append("")
        pct = f"{100 * self.ci_level:g}%"
        rows = [
            [
                x.level,
                x.k,
                x.n_studies,
                fmt(x.estimate),
                fmt(x.se),
                fmt(x.ci_low),
                fmt(x.ci_high),
                pval(x.p),
                fmt(x.tau2),
                "yes" if x.pooled else "no: 1 study",
            ]
            for x in self.levels
        ]
        header = ["level", "k", "studies", "estimate", "se", f"{pct} ci.lb", "ci.ub", "pval", "tau2", "pooled"]
        lines += grid(header, rows)
        if self.differences:
            lines += ["", f"Differences from the reference level ({self.reference}):"]
            lines += grid(
                ["level", "difference", "se", f"{pct} ci.lb", "ci.ub", "pval"],
                [
                    [d.level, fmt(d.estimate), fmt(d.se), fmt(d.ci_low), fmt(d.ci_high), pval(d.p)]
                    for d in self.differences
                ],
            )
        df = f"{self.q_between_df}" if self.q_between_test == "chi2" else f"{self.q_between_df}, {self.q_between_df2:g}"
        stat = "Q_between" if self.q_between_test == "chi2" else "F_between"
        lines += [
            "",
            f"Test for subgroup differences: {stat}(df = {df}) = {fmt(self.q_between)}, {p_eq(self.q_between_p)}",
        ]
        lines += notes_block(self.notes) + notes_block(self.excluded, "Not included")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """docs/FORMAT.md's ``subgroup`` JSON."""
        return {
            "outcome": self.outcome,
            "month": self.month,
            "by": self.by,
            "reference": self.reference,
            "tau2_mode": self.tau2_mode,
            "method": self.method,
            "k": self.k,
            "levels": [x.to_dict() for x in self.levels],
            "differences": [d.to_dict() for d in self.differences],
            "q_between": self.q_between,
            "q_between_df": self.q_between_df,
            "q_between_p": self.q_between_p,
            "q_between_test": self.q_between_test,
            "q_between_df2": self.q_between_df2,
            "tau2": self.tau2,
            "hksj": self.hksj,
            "test": self.test,
            "ci_level": self.ci_level,
            "measure": self.measure,
            "multiarm": self.multiarm,
            "dataset": self.dataset,
            "simulated": self.simulated,
            "excluded": list(self.excluded),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class PosteriorSummary:
    """Posterior summary of one level's mean or one difference (from joint draws)."""

    name: str
    mean: float
    sd: float
    median: float
    eti_low: float
    eti_high: float
    p_below_0: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class BayesSubgroupResult:
    """Each level's posterior mean effect (``mu`` of the level) and every pairwise difference
    (``"B - A"``), from one random-effects fit with the factor's dummy terms (``fit``, a
    :class:`~bayes_msc.results.bayes.BayesResult`; its engine in ``engine``)."""

    by: str
    reference: str
    levels: tuple[PosteriorSummary, ...]
    differences: tuple[PosteriorSummary, ...]
    k: tuple[int, ...]
    n_studies: tuple[int, ...]
    engine: str
    ci_prob: float
    fit: Any
    notes: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        """Rows ``mu[LEVEL]`` then ``diff[B - A]``: ``term, mean, sd, lower, upper, level,
        median, p_below_0``."""
        rows = [("mu[" + x.name + "]", x) for x in self.levels] + [
            ("diff[" + d.name + "]", d) for d in self.differences
        ]
        return pd.DataFrame(
            [
                {
                    "term": t,
                    "mean": x.mean,
                    "sd": x.sd,
                    "lower": x.eti_low,
                    "upper": x.eti_high,
                    "level": self.ci_prob,
                    "median": x.median,
                    "p_below_0": x.p_below_0,
                }
                for t, x in rows
            ]
        )

    def __repr__(self) -> str:
        est = ", ".join(f"{x.name}={short(x.mean)}" for x in self.levels[:4])
        return f"BayesSubgroupResult(by={self.by!r}, engine={self.engine!r}, {est}{', ...' if len(self.levels) > 4 else ''})"

    def __str__(self) -> str:
        fit = self.fit
        lines = banner(getattr(fit, "simulated", False), getattr(fit, "dataset", ""))
        lines.append(
            f"Bayesian subgroups by {self.by} (engine: {self.engine}; prior: {getattr(fit, 'prior', '')}; "
            f"one tau common to every level); reference level: {self.reference}"
        )
        lines.append("")
        pct = f"{100 * self.ci_prob:g}%"
        lines += grid(
            ["level", "k", "studies", "mean", "sd", "median", f"{pct} eti.lb", "eti.ub", "P(<0)"],
            [
                [x.name, k, n, fmt(x.mean), fmt(x.sd), fmt(x.median), fmt(x.eti_low), fmt(x.eti_high), fmt(x.p_below_0)]
                for x, k, n in zip(self.levels, self.k, self.n_studies, strict=True)
            ],
        )
        lines += ["", "Differences between levels (posterior of B - A):"]
        lines += grid(
            ["difference", "mean", "sd", f"{pct} eti.lb", "eti.ub", "P(<0)"],
            [
                [d.name, fmt(d.mean), fmt(d.sd), fmt(d.eti_low), fmt(d.eti_high), fmt(d.p_below_0)]
                for d in self.differences
            ],
        )
        lines += ["", f"Diagnostics of the fit: {'PASS' if fit.verdict.passed else 'FAIL'}"]
        lines += notes_block(self.notes)
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """``by``, ``reference``, ``engine``, ``levels`` (each with ``level``, ``k``,
        ``n_studies`` and the summary), ``differences``, ``notes`` and the ``fit`` JSON."""
        return {
            "by": self.by,
            "reference": self.reference,
            "engine": self.engine,
            "ci_prob": self.ci_prob,
            "levels": [
                {"level": x.name, "k": k, "n_studies": n, **x.to_dict()}
                for x, k, n in zip(self.levels, self.k, self.n_studies, strict=True)
            ],
            "differences": [d.to_dict() for d in self.differences],
            "notes": list(self.notes),
            "fit": self.fit.to_dict(),
        }

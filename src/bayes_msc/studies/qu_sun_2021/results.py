"""Result types of ``bayes-msc reproduce``: a publication's pooled results beside ours.

Made by :mod:`bayes_msc.studies.qu_sun_2021.reproduce`. A :class:`Reproduction` holds one
:class:`ReproductionRow` per row of ``published_pooled.csv`` and, when the dataset has
the cells, the meta-regression design of the paper's Table 2 (:class:`Table2`).

Each row carries the published estimate, 95% CI and P (as printed), the trials the paper
pooled, what this package computes from the dataset (:class:`Pooled`: the requested
multi-arm handling, and the paper's handling of multi-arm trials, where a shared control
counts whole in every comparison), which trials are present or missing and why, and a
``status`` with a ``reason``:

``agrees``
    Every expected trial has data and the computed estimate and both CI limits each lie
    within ``tolerance`` (default 5%) of the published CI width of the published values.
``differs``
    Every expected trial has data but the rule above fails; ``reason`` names the causes
    detectable from the data (or says that none is).
``partial``
    Some trials the paper pooled (or some of their comparisons) have no data here: the
    computed value comes from a subset, so it neither reproduces nor refutes the
    published one.
``cannot compute``
    None of the trials the paper pooled has data at that month here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.results.frequentist import MetaRegResult
from bayes_msc.results.layout import CI_LEVEL, SUMMARY_COLUMNS

STATUSES: tuple[str, ...] = ("agrees", "differs", "partial", "cannot compute")

NAN = float("nan")


def p_text(p: float) -> str:
    """A P value printed the paper's way: ``<0.001`` below 0.001, else three decimals."""
    if p is None or not np.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


@dataclass(frozen=True)
class Pooled:
    """One pooling of a cell by the paper's rule (RE-DL if I2 > 50% or P_Q < 0.1, else FE).

    ``variant`` names how the comparisons were made (``computed``: the requested
    multi-arm handling and scales; ``paper_multiarm``: each shared control counted whole
    in every comparison, the comparisons treated as independent; ``native_scales`` and
    ``native_scales_paper_multiarm``: the same without rescaling to 0-100).
    ``agrees`` applies the row's agreement rule to this pooling.
    """

    variant: str
    description: str
    k: int
    studies: tuple[str, ...]
    method: str
    why: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    i2: float
    q_p: float
    agrees: bool
    max_deviation: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "description": self.description,
            "k": self.k,
            "studies": list(self.studies),
            "method": self.method,
            "why": self.why,
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p": self.p,
            "p_text": p_text(self.p),
            "i2": self.i2,
            "q_p": self.q_p,
            "agrees": self.agrees,
            "max_deviation": self.max_deviation,
        }


@dataclass(frozen=True)
class ReproductionRow:
    """One published pooled result and this package's computation of it.

    ``trials_missing``: (study, why) for each trial the paper pooled that is expected at
    this month and has no comparison here, or lacks some of its comparisons (``why`` then
    starts "some comparisons lack data"); ``trials_not_followed``: (study, why) for
    trials the paper pooled for the outcome whose follow-up (``studies.csv``
    ``follow_up_months``) does not include this month and that have no data at it;
    ``trials_extra``: trials with data here that the paper did not pool (left out unless
    ``trials="all"``).
    """

    outcome: str
    month: float
    published_estimate: float
    published_ci_low: float
    published_ci_high: float
    published_p: float
    published_p_text: str
    source: str
    trials_published: tuple[str, ...]
    trial_refs: tuple[str, ...]
    trials_present: tuple[str, ...]
    trials_missing: tuple[tuple[str, str], ...]
    trials_not_followed: tuple[tuple[str, str], ...]
    trials_extra: tuple[str, ...]
    computed: Pooled | None
    paper_multiarm: Pooled | None
    variants: tuple[Pooled, ...]
    status: str
    reason: str
    tolerance: float
    notes: tuple[str, ...] = ()

    @property
    def term(self) -> str:
        return f"{self.outcome}, month {self.month:g}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "month": self.month,
            "published": {
                "estimate": self.published_estimate,
                "ci_low": self.published_ci_low,
                "ci_high": self.published_ci_high,
                "p": self.published_p,
                "p_text": self.published_p_text,
                "source": self.source,
                "trials": list(self.trials_published),
                "trial_refs": list(self.trial_refs),
            },
            "status": self.status,
            "reason": self.reason,
            "tolerance_abs": self.tolerance * (self.published_ci_high - self.published_ci_low),
            "trials_present": list(self.trials_present),
            "trials_missing": [{"study": s, "why": w} for s, w in self.trials_missing],
            "trials_not_followed": [{"study": s, "why": w} for s, w in self.trials_not_followed],
            "trials_extra": list(self.trials_extra),
            "computed": None if self.computed is None else self.computed.to_dict(),
            "paper_multiarm": None if self.paper_multiarm is None else self.paper_multiarm.to_dict(),
            "variants": [v.to_dict() for v in self.variants],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class PublishedCoefficient:
    """One row of the paper's meta-regression table, as printed, with the dataset term
    it corresponds to (``None`` when no dataset column holds it)."""

    label: str
    term: str | None
    coefficient: float
    ci_low: float
    ci_high: float
    t: float
    p: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Table2Fit:
    """One meta-regression of the Table 2 design at one month (``model``: ``joint`` for
    all available covariates together, or ``univariable`` with one term)."""

    month: float
    model: str
    result: MetaRegResult
    dropped: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"month": self.month, "model": self.model, "dropped": list(self.dropped), **self.result.to_dict()}


@dataclass(frozen=True)
class Table2:
    """The paper's Table 2 design (meta-regression of one outcome on study covariates)
    run month by month, beside the published table when the dataset has it."""

    outcome: str
    covariates: tuple[str, ...]
    method: str
    hksj: bool
    fits: tuple[Table2Fit, ...]
    skipped: tuple[tuple[float, str, str], ...]
    unavailable: tuple[tuple[str, str], ...]
    published: tuple[PublishedCoefficient, ...]
    notes: tuple[str, ...] = ()
    level: float = CI_LEVEL

    def summary(self) -> pd.DataFrame:
        """One row per month x model x coefficient, the published coefficient beside it."""
        pub = {c.term: c for c in self.published if c.term is not None}
        rows = []
        for fit in self.fits:
            r = fit.result
            for c in r.coefficients:
                p = pub.get(c.name)
                rows.append(
                    {
                        "term": c.name,
                        "estimate": c.estimate,
                        "se": c.se,
                        "lower": c.ci_low,
                        "upper": c.ci_high,
                        "level": r.level,
                        "month": fit.month,
                        "model": fit.model,
                        "k": r.k,
                        "method": r.method,
                        "test": r.test,
                        "statistic": c.z,
                        "p": c.p,
                        "tau2": r.tau2,
                        "published_label": "" if p is None else p.label,
                        "published_coefficient": NAN if p is None else p.coefficient,
                        "published_ci_low": NAN if p is None else p.ci_low,
                        "published_ci_high": NAN if p is None else p.ci_high,
                        "published_p": NAN if p is None else p.p,
                    }
                )
        extra = [
            "month",
            "model",
            "k",
            "method",
            "test",
            "statistic",
            "p",
            "tau2",
            "published_label",
            "published_coefficient",
            "published_ci_low",
            "published_ci_high",
            "published_p",
        ]
        return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS) + extra)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "covariates": list(self.covariates),
            "method": self.method,
            "hksj": self.hksj,
            "level": self.level,
            "notes": list(self.notes),
            "unavailable": [{"covariate": c, "why": w} for c, w in self.unavailable],
            "published": [c.to_dict() for c in self.published],
            "fits": [f.to_dict() for f in self.fits],
            "skipped": [{"month": m, "model": what, "why": w} for m, what, w in self.skipped],
        }


@dataclass(frozen=True)
class Reproduction:
    """A publication's pooled results beside this package's, row by row (see module doc)."""

    rows: tuple[ReproductionRow, ...]
    dataset: str
    simulated: bool
    measure: str
    multiarm: str
    rescale: bool
    trials: str
    tolerance: float
    rule: str
    published_from: str
    metaregression: Table2 | None = None
    notes: tuple[str, ...] = field(default=())
    level: float = CI_LEVEL

    def counts(self) -> dict[str, int]:
        """How many rows have each status (every status listed, in :data:`STATUSES` order)."""
        return {s: sum(r.status == s for r in self.rows) for s in STATUSES}

    def summary(self) -> pd.DataFrame:
        """One row per published result: the shared layout (``term`` = "outcome, month M",
        ``estimate`` .. ``upper`` = the computed pooling), then the published values, the
        paper's multi-arm handling, the trials, ``status`` and ``reason``."""
        rows = []
        for r in self.rows:
            c, pm = r.computed, r.paper_multiarm
            rows.append(
                {
                    "term": r.term,
                    "estimate": NAN if c is None else c.estimate,
                    "se": NAN if c is None else c.se,
                    "lower": NAN if c is None else c.ci_low,
                    "upper": NAN if c is None else c.ci_high,
                    "level": self.level,
                    "outcome": r.outcome,
                    "month": r.month,
                    "published_estimate": r.published_estimate,
                    "published_ci_low": r.published_ci_low,
                    "published_ci_high": r.published_ci_high,
                    "published_p": r.published_p_text,
                    "k": 0 if c is None else c.k,
                    "method": "" if c is None else c.method,
                    "p": "" if c is None else p_text(c.p),
                    "paper_multiarm_estimate": NAN if pm is None else pm.estimate,
                    "paper_multiarm_ci_low": NAN if pm is None else pm.ci_low,
                    "paper_multiarm_ci_high": NAN if pm is None else pm.ci_high,
                    "trials_published": ";".join(r.trials_published),
                    "trials_present": ";".join(r.trials_present),
                    "trials_missing": ";".join(s for s, _ in r.trials_missing),
                    "status": r.status,
                    "reason": r.reason,
                }
            )
        extra = [
            "outcome",
            "month",
            "published_estimate",
            "published_ci_low",
            "published_ci_high",
            "published_p",
            "k",
            "method",
            "p",
            "paper_multiarm_estimate",
            "paper_multiarm_ci_low",
            "paper_multiarm_ci_high",
            "trials_published",
            "trials_present",
            "trials_missing",
            "status",
            "reason",
        ]
        return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS) + extra)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``bayes-msc reproduce``: settings, ``rows``, ``metaregression``."""
        return {
            "dataset": self.dataset,
            "simulated": self.simulated,
            "measure": self.measure,
            "multiarm": self.multiarm,
            "rescale": self.rescale,
            "trials": self.trials,
            "level": self.level,
            "tolerance": self.tolerance,
            "rule": self.rule,
            "published_from": self.published_from,
            "counts": self.counts(),
            "notes": list(self.notes),
            "rows": [r.to_dict() for r in self.rows],
            "metaregression": None if self.metaregression is None else self.metaregression.to_dict(),
        }

"""The result of a simulation study: one row per design x method, and every replication.

:class:`SimulationStudyResult` describes itself: a short ``repr``, a text ``print()``
(each measure with its Monte Carlo SE), ``summary()`` (the table of summary.csv) and
``to_dict()`` (summary.json). It computes nothing; :mod:`bayes_msc.simstudy.measures`
does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.simstudy.spec import Study

SUMMARY_FORMAT = "bayes-msc simulation-study summary 1"
"""The ``format`` field of summary.json."""

POWER_RULE = {
    "frequentist": "the method's two-sided test of mu = 0 has p < 1 - level",
    "bayes": "the equal-tailed credible interval of mu at the level excludes 0",
}
"""What "rejects mu = 0" means for each kind of method (the ``power`` column)."""

ESTIMATE_RULE = {
    "frequentist": "the pooled estimate (the intercept at the dose centre with dose = true)",
    "bayes": "the posterior median of mu",
}


@dataclass(frozen=True, eq=False)
class SimulationStudyResult:
    """Everything a simulation study computed.

    Attributes
    ----------
    study : Study
        The study as run (designs, methods, seed, replications).
    table : DataFrame
        One row per design x method (the columns of :meth:`summary`).
    replications : DataFrame
        One row per replication x method: ``design``, ``method``, ``replication``, ``k``
        (trials analysed), ``estimate``, ``ci_low``, ``ci_high``, ``reject``, ``tau``,
        ``converged`` and ``error`` (why the method could not analyse it; empty if it did).
    out : Path or None
        The study folder, when one was written.
    computed, resumed : int
        Chunks computed by this call, and chunks read back from an earlier run (--resume).
    """

    study: Study
    table: pd.DataFrame
    replications: pd.DataFrame
    out: Path | None = None
    computed: int = 0
    resumed: int = 0

    simulated = True
    """Every number of a simulation study comes from simulated data."""

    def __repr__(self) -> str:
        where = f", out={str(self.out)!r}" if self.out is not None else ""
        return (
            f"SimulationStudyResult(study={self.study.name!r}, designs={len(self.study.designs)}, "
            f"methods={len(self.study.methods)}, replications={self.study.replications}{where})"
        )

    def __str__(self) -> str:
        s = self.study
        lines = [
            "*** SIMULATED DATA: a simulation study ***",
            "",
            f"{s.title} (study {s.name}, seed {s.seed})",
            f"{len(s.designs)} design(s) x {len(s.methods)} method(s), {s.replications} replication(s) each; "
            f"intervals and tests at level {s.level:g}; (MCSE) after each measure",
        ]
        if self.out is not None:
            lines.append(f"Report: {self.out / 'index.html'}")
        t = self.table
        shown = pd.DataFrame({"design": t["design"], "method": t["method"], "n_reps": t["n_reps"]})
        for m in ("coverage", "bias", "rmse", "width", "power"):
            shown[m] = [f"{v:.3f} ({e:.3f})" for v, e in zip(t[m], t[f"{m}_mcse"], strict=True)]
        lines += ["", shown.to_string(index=False)]
        failed = t[t["n_failed"] > 0]
        for rec in failed.itertuples(index=False):
            lines.append(f"note: {rec.method} could not analyse {rec.n_failed} replication(s) of {rec.design}")
        return "\n".join(lines) + "\n"

    def summary(self) -> pd.DataFrame:
        """One row per design x method: the design (``k``, ``mu``, ``tau``), ``n_reps``
        (replications the method analysed), ``n_failed`` (those it could not),
        ``n_unconverged``, ``k_mean`` (mean trials analysed), then each of ``coverage``,
        ``bias``, ``rmse``, ``width``, ``power`` and ``empirical_se`` with its ``_mcse``."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """summary.json (docs/FORMAT.md): the study, the rules behind the measures and the
        rows of :meth:`summary`; no timings, paths or worker counts, so the same study file
        gives the same bytes wherever it ran."""
        rows = [{k: _plain(v) for k, v in rec.items()} for rec in self.table.to_dict(orient="records")]
        return {
            "format": SUMMARY_FORMAT,
            "simulated": True,
            "study": self.study.name,
            **self.study.to_dict(),
            "estimate": ESTIMATE_RULE,
            "interval": "confidence interval (frequentist), equal-tailed credible interval (bayes), at level",
            "power": POWER_RULE,
            "mcse": "Monte Carlo standard errors as in Morris, White & Crowther 2019, Stat Med 38:2074, Table 6",
            "rows": rows,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value

"""Treatment-vs-control comparisons of one outcome cell (the engine of the effect tables).

Which pairs of arms are compared and why the others cannot be; metafor's ``escalc``
effect sizes; multi-arm handling (split n, or the shared arm's covariance). The rules are
those stated in :mod:`bayes_msc.data.effects`, which builds its tables from these functions.

Comparisons are plain Python rows (:class:`Comparison`) and the arithmetic is numpy on
whole columns: a run builds dozens of tables, and per-row pandas access (``.iloc``,
boolean filters per study, boxed arrow strings) made a table cost over 15 times what it
costs now (``benchmarks/bench_effects.py``). Results are bit-identical to that version.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import partial

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from bayes_msc.data.cells import ArmValues, same_scale
from bayes_msc.data.dataset import Dataset

NAN = float("nan")


def escalc_md(
    m1: ArrayLike, sd1: ArrayLike, n1: ArrayLike, m2: ArrayLike, sd2: ArrayLike, n2: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Raw mean difference, metafor ``escalc(measure="MD")``: ``yi = m1 - m2``,
    ``vi = sd1^2/n1 + sd2^2/n2`` (vtype "LS"/"UB", heteroscedastic). Returns ``(yi, vi)``."""
    m1, sd1, n1, m2, sd2, n2 = (np.asarray(v, dtype=float) for v in (m1, sd1, n1, m2, sd2, n2))
    return m1 - m2, sd1**2 / n1 + sd2**2 / n2


def escalc_smd(
    m1: ArrayLike, sd1: ArrayLike, n1: ArrayLike, m2: ArrayLike, sd2: ArrayLike, n2: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Standardised mean difference (Hedges' g), metafor 3.8 ``escalc(measure="SMD")``.

    ``d = (m1 - m2) / s_pooled`` with ``s_pooled^2 = ((n1-1) sd1^2 + (n2-1) sd2^2) / (n1+n2-2)``;
    ``yi = c(m) d`` with the exact bias correction
    ``c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``, ``m = n1 + n2 - 2`` (NaN for m <= 1);
    ``vi = 1/n1 + 1/n2 + yi^2 / (2 (n1 + n2))`` (metafor's default vtype "LS").
    Returns ``(yi, vi)``.
    """
    from scipy.special import gammaln

    m1, sd1, n1, m2, sd2, n2 = (np.asarray(v, dtype=float) for v in (m1, sd1, n1, m2, sd2, n2))
    m = n1 + n2 - 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        sp = np.sqrt(((n1 - 1.0) * sd1**2 + (n2 - 1.0) * sd2**2) / m)
        cm = np.where(m > 1, np.exp(gammaln(m / 2.0) - 0.5 * np.log(m / 2.0) - gammaln((m - 1.0) / 2.0)), np.nan)
        yi = cm * (m1 - m2) / sp
    return yi, 1.0 / n1 + 1.0 / n2 + yi**2 / (2.0 * (n1 + n2))


def smd_shared_covariance(y_a: ArrayLike, y_b: ArrayLike, n_shared: ArrayLike, n_total: ArrayLike) -> np.ndarray:
    """Covariance of two SMDs sharing one arm: ``1/n_shared + y_a y_b / (2 N)``
    (Gleser & Olkin 2009, multiple-treatment studies; N = the study's total n)."""
    y_a, y_b, n_shared, n_total = (np.asarray(v, dtype=float) for v in (y_a, y_b, n_shared, n_total))
    return 1.0 / n_shared + y_a * y_b / (2.0 * n_total)


@dataclass(slots=True, kw_only=True, eq=False)
class Comparison:
    """One treatment-vs-control pair (the fields of :data:`COLUMNS`; NaN when not given).

    ``n_t_whole``/``n_c_whole`` are the arms' whole n; ``n_treatment``/``n_control`` the
    n entering the effect size (split among a multi-arm trial's comparisons or not).
    """

    study: str
    comparison: str
    treatment_arm: str
    control_arm: str
    outcome: str
    month: float
    source_kind: str
    mean_t: float = NAN
    sd_t: float = NAN
    n_t_whole: float = NAN
    mean_c: float = NAN
    sd_c: float = NAN
    n_c_whole: float = NAN
    yi: float = NAN
    vi: float = NAN
    n_treatment: float = NAN
    n_control: float = NAN


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Comparison))


def _pair_problem(cell: ArmValues, study: str, t: str, c: str) -> str | None:
    """Why the pair (t, c) has no arm-based effect size, or None when it has one."""
    rows = cell.rows
    lacking = {
        arm: cell.reasons.get((study, arm), "not in arms.csv")
        for arm in (t, c)
        if (study, arm) in cell.reasons or (study, arm) not in rows
    }
    if len(lacking) == 2 and len(set(lacking.values())) == 1:
        return f"both arms: {lacking[t]}"
    if lacking:
        return "; ".join(f"{arm}: {why}" for arm, why in lacking.items())
    a, b = rows[(study, t)], rows[(study, c)]
    if cell.rescale and a.rescaled != b.rescaled:
        return "one arm has scale_min/scale_max and the other not, so only one could be rescaled to 0-100"
    if (
        not cell.rescale
        and not same_scale((a.scale_min, a.scale_max), (b.scale_min, b.scale_max))
        and math.isfinite(a.scale_min)
        and math.isfinite(b.scale_min)
    ):
        return "the arms are on different scales (rescaling is off)"
    return None


def _contrast_rows(con: pd.DataFrame) -> dict[str, list[tuple]]:
    """``contrasts.csv`` rows of the cell per study: (treatment_arm, control_arm, yi, vi,
    rescaled, scale_min, scale_max), in file order."""
    if not len(con):
        return {}

    def get(c: str) -> list:
        return con[c].tolist() if c in con.columns else [NAN] * len(con)

    out: dict[str, list[tuple]] = {}
    for study, *rest in zip(
        *(get(c) for c in ("study", "treatment_arm", "control_arm", "yi", "vi", "rescaled", "scale_min", "scale_max")),
        strict=True,
    ):
        out.setdefault(study, []).append(tuple(rest))
    return out


def pair_rows(
    dataset: Dataset, cell: ArmValues, outcome: str, month: float, measure: str
) -> tuple[list[Comparison], list[str], list[str]]:
    """Every (treatment, control) pair: arm-based rows, contrast rows, what is missing, notes."""
    arms = dataset.arms
    a_study, a_arm, a_role = (arms[c].to_numpy(dtype=object).tolist() for c in ("study", "arm", "role"))
    n_arm = dict(zip(zip(a_study, a_arm, strict=True), arms["n"].astype(float).tolist(), strict=True))
    by_study: dict[str, list[tuple[str, str]]] = {}
    for s, a, role in zip(a_study, a_arm, a_role, strict=True):
        by_study.setdefault(s, []).append((a, role))
    contrasts = _contrast_rows(cell.contrasts)
    studies = list(by_study) + [s for s in contrasts if s not in by_study]
    any_rescaled = cell.rescale and any(r.rescaled for r in cell.rows.values())
    rows: list[Comparison] = []
    missing: list[str] = []
    notes: list[str] = []
    for study in studies:
        own = by_study.get(study, [])
        pairs = [(t, c) for t, rt in own if rt == "treatment" for c, rc in own if rc == "control"]
        cs = contrasts.get(study, [])
        pairs += [(rec[0], rec[1]) for rec in cs if (rec[0], rec[1]) not in pairs]
        for t, c in pairs:
            match = [rec for rec in cs if rec[0] == t and rec[1] == c]
            pair = partial(
                Comparison,
                study=study,
                comparison=f"{t} vs {c}",
                treatment_arm=t,
                control_arm=c,
                outcome=outcome,
                month=month,
            )
            problem = _pair_problem(cell, study, t, c)
            if problem is None:
                vt, vc = cell.rows[(study, t)], cell.rows[(study, c)]
                rows.append(
                    pair(
                        source_kind="arms",
                        mean_t=vt.mean,
                        sd_t=vt.sd,
                        n_t_whole=vt.n,
                        mean_c=vc.mean,
                        sd_c=vc.sd,
                        n_c_whole=vc.n,
                    )
                )
                if match:
                    notes.append(f"{study}: the contrasts.csv row for {t} vs {c} is not used: arm data give it")
            elif match and measure == "smd":
                missing.append(
                    f"{study}: {t} vs {c}: only a contrast (a raw difference) is available; "
                    f"an SMD needs arm means and SDs ({problem})"
                )
            elif match:
                _, _, yi, vi, rescaled, lo, hi = match[0]
                rows.append(
                    pair(
                        source_kind="contrast",
                        n_t_whole=n_arm.get((study, t), NAN),
                        n_c_whole=n_arm.get((study, c), NAN),
                        yi=yi,
                        vi=vi,
                    )
                )
                if rescaled:
                    notes.append(f"{study}: contrast {t} vs {c} rescaled from {lo:g}-{hi:g} to 0-100")
                elif any_rescaled:
                    notes.append(
                        f"{study}: contrast {t} vs {c} is on its reported scale "
                        "(contrasts.csv gives no scale_min/scale_max)"
                    )
            else:
                missing.append(f"{study}: {t} vs {c}: {problem}")
    return rows, missing, notes


def compute(comps: list[Comparison], measure: str, multiarm: str) -> None:
    """Fill ``yi``, ``vi``, ``n_treatment``, ``n_control`` of the arm-based comparisons (in place)."""
    for x in comps:
        x.n_treatment, x.n_control = float(x.n_t_whole), float(x.n_c_whole)
    arm_rows = [x for x in comps if x.source_kind == "arms"]
    if multiarm == "split":
        m_t, m_c = _counts(arm_rows, "treatment_arm"), _counts(arm_rows, "control_arm")
        for x in arm_rows:
            x.n_treatment = x.n_t_whole / m_t[(x.study, x.treatment_arm)]
            x.n_control = x.n_c_whole / m_c[(x.study, x.control_arm)]
    f = escalc_md if measure == "md" else escalc_smd

    def col(name: str) -> np.ndarray:
        return np.array([getattr(x, name) for x in arm_rows], dtype=float)

    yi, vi = f(col("mean_t"), col("sd_t"), col("n_treatment"), col("mean_c"), col("sd_c"), col("n_control"))
    for x, y, v in zip(arm_rows, yi.tolist(), vi.tolist(), strict=True):
        x.yi, x.vi = y, v


def _counts(rows: list[Comparison], field: str) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for x in rows:
        key = (x.study, getattr(x, field))
        counts[key] = counts.get(key, 0) + 1
    return counts


def defined(x: Comparison) -> bool:
    """Whether the comparison has a usable effect size (finite yi, finite vi > 0)."""
    return math.isfinite(x.yi) and math.isfinite(x.vi) and x.vi > 0


def multiarm_notes(comps: list[Comparison], multiarm: str, measure: str) -> list[str]:
    """Notes on the arms entering several comparisons, and on singular covariances."""
    notes = []
    arm_rows = [x for x in comps if x.source_kind == "arms"]
    for role, col, ncol in (("treatment", "treatment_arm", "n_t_whole"), ("control", "control_arm", "n_c_whole")):
        counts: dict[tuple[str, str], list] = {}
        for x in arm_rows:
            rec = counts.setdefault((x.study, getattr(x, col)), [0, NAN])
            rec[0] += 1
            if math.isnan(rec[1]):  # pandas' groupby "first": the first non-missing n
                rec[1] = getattr(x, ncol)
        for (study, arm), (m, n) in counts.items():
            if m < 2:
                continue
            if multiarm == "split":
                notes.append(
                    f"{study}: {role} arm '{arm}' enters {m} comparisons; its n ({n:g}) "
                    f"is split to {n / m:g} in each (Cochrane Handbook 23.3.4)"
                )
            else:
                how = "sd^2/n of the shared arm" if measure == "md" else "Gleser & Olkin 2009 approximation"
                notes.append(
                    f"{study}: {role} arm '{arm}' enters {m} comparisons with its whole n "
                    f"({n:g}); their covariance ({how}) is in vcov"
                )
    if multiarm == "shared":
        groups: dict[str, list[Comparison]] = {}
        for x in arm_rows:
            groups.setdefault(x.study, []).append(x)
        for study, group in groups.items():
            n_arms = len({x.treatment_arm for x in group}) + len({x.control_arm for x in group})
            if len(group) > n_arms - 1:
                notes.append(
                    f"{study}: its {len(group)} comparisons of {n_arms} arms are linearly dependent, "
                    "so vcov is singular (pool with a generalised inverse, or use multiarm 'split')"
                )
    return notes


def _study_total(comps: list[Comparison], study: str) -> float:
    """A study's total n over the arms entering its arm-based comparisons (each arm once)."""
    rows = [x for x in comps if x.study == study and x.source_kind == "arms"]

    def firsts(col: str, ncol: str) -> list[float]:
        seen: dict[str, float] = {}
        for x in rows:
            seen.setdefault(getattr(x, col), getattr(x, ncol))
        return list(seen.values())

    # pandas' sums, as the totals were first computed (summation order matters to the last bit)
    return (
        pd.Series(firsts("treatment_arm", "n_t_whole"), dtype=float).sum()
        + pd.Series(firsts("control_arm", "n_c_whole"), dtype=float).sum()
    )


def shared_vcov(comps: list[Comparison], measure: str) -> np.ndarray:
    """k x k covariance of the comparisons with multi-arm arms kept whole (see the effects module)."""
    k = len(comps)
    v = np.diag(np.array([x.vi for x in comps], dtype=float)) if k else np.zeros((0, 0))
    totals: dict[str, float] = {}
    for i in range(k):
        a = comps[i]
        if a.source_kind != "arms":
            continue
        for j in range(i + 1, k):
            b = comps[j]
            if b.source_kind != "arms" or a.study != b.study:
                continue
            if a.treatment_arm == b.treatment_arm:
                sd, n = a.sd_t, a.n_t_whole
            elif a.control_arm == b.control_arm:
                sd, n = a.sd_c, a.n_c_whole
            else:
                continue
            if measure == "md":
                cov = sd**2 / n
            else:
                if a.study not in totals:
                    totals[a.study] = _study_total(comps, a.study)
                cov = float(smd_shared_covariance(a.yi, b.yi, n, totals[a.study]))
            v[i, j] = v[j, i] = cov
    return v


def comparison_frame(
    comps: list[Comparison], keep: list[bool], columns: tuple[str, ...], extra: dict[str, np.ndarray] | None = None
) -> pd.DataFrame:
    """The ``columns`` (then ``extra``, one value per comparison) of the kept comparisons.

    Column types are those of one frame of all comparisons, filtered: text columns stay
    text when no comparison is kept, but with no comparison at all every column but the
    n's is of object type.
    """
    if not comps:
        data = {
            c: np.array([], dtype=object) if c not in ("n_treatment", "n_control") else np.array([], dtype=float)
            for c in columns
        }
        return pd.DataFrame(data | {c: np.asarray(v)[:0] for c, v in (extra or {}).items()})
    values = {c: [getattr(x, c) for x in comps] for c in columns}
    frame = pd.DataFrame(values | (extra or {}))
    return frame if all(keep) else frame[np.array(keep, dtype=bool)].reset_index(drop=True)

"""Subgroup analysis: pooled effects per level of a factor and the test for subgroup
differences, equal to metafor 3.8.

- ``tau2="separate"``: each level pooled alone, ``rma(yi, vi, subset = x == level, method)``;
  the test is the fixed-effect Q of the level estimates, ``rma(est, sei = se, method =
  "FE")$QE`` on (levels - 1) df (the "test for subgroup differences" of RevMan and meta).
- ``tau2="common"``: one tau^2 for every level, the factor meta-regression ``rma(yi, vi,
  mods = ~ factor(x), method)``; a level's effect is the intercept plus its coefficient
  (equal to ``mods = ~ factor(x) - 1``) and the test is the model's ``QM`` (an F test
  under Knapp-Hartung, as metafor).

A level whose comparisons all come from one study is not an effect pooled across studies:
with a separate tau^2 it gets the fixed-effect summary of that study's comparisons, and
either way it is marked ``pooled = False`` with a note.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from bayes_msc.data.covariates import Term, dummy_code, factor_levels, level_text
from bayes_msc.errors import InputError, Problem
from bayes_msc.frequentist.pooling import context, require_data, rma_inputs
from bayes_msc.frequentist.rma import rma
from bayes_msc.results.frequentist import PoolResult
from bayes_msc.results.layout import CI_LEVEL
from bayes_msc.results.metareg import MetaRegResult
from bayes_msc.results.subgroup import LevelDifference, SubgroupLevel, SubgroupResult

TAU2_MODES: tuple[str, ...] = ("separate", "common")


def subgroup_effects(
    effects: object,
    by: str,
    reference: str | None = None,
    method: str = "dl",
    tau2: str = "separate",
    hksj: bool = False,
    level: float = CI_LEVEL,
) -> SubgroupResult:
    """Pool the comparisons of ``effects`` within each level of the column ``by`` (see the
    module doc); ``reference`` is the level the differences are taken from (default: the
    first level in sorted order). Comparisons without a level are left out and listed."""
    from bayes_msc.data.effects import EffectTable

    assert isinstance(effects, EffectTable)
    require_data(effects)
    if tau2 not in TAU2_MODES:
        raise InputError(Problem(f"tau2 must be one of {', '.join(TAU2_MODES)}, not {tau2!r}", argument="tau2"))
    if by not in effects.data.columns or by in ("yi", "vi", "study", "comparison"):
        known = ", ".join(sorted((*effects.factors, *effects.covariates))) or "(none)"
        raise InputError(Problem(f"unknown column '{by}'; columns to form subgroups by: {known}", argument="by"))
    texts = [level_text(v) for v in effects.data[by].tolist()]
    kept = np.array([t is not None for t in texts])
    if not kept.any():
        raise InputError(Problem(f"no comparison has a value of {by}", argument="by"))
    found = factor_levels(texts)
    if len(found) < 2:
        raise InputError(
            Problem(
                f"{by} has {len(found)} level(s) among the comparisons ({', '.join(found) or 'none'}); "
                "subgroups need two",
                argument="by",
            )
        )
    term = Term(by, "factor", reference)
    x, names, ref, levels = dummy_code([t for t in texts if t is not None], term, "reference")
    studies = effects.data["study"].astype(str).to_numpy()
    of = np.array(texts, dtype=object)
    excluded = tuple(
        f"{s}: {c} left out: no value of {by}"
        for s, c, t in zip(effects.data["study"], effects.data["comparison"], texts, strict=True)
        if t is None
    )
    notes: list[str] = [f"{by}: {len(levels)} levels ({', '.join(levels)}), reference level '{ref}'"]
    alone = [lv for lv in levels if len(set(studies[of == lv])) < 2]
    notes += [
        f"{lv}: 1 study ({studies[of == lv][0]}): within-study comparison only, not pooled across studies"
        + (" (fixed-effect summary)" if tau2 == "separate" else "")
        for lv in alone
    ]
    if tau2 == "separate":
        rows, diffs, q = _separate(effects, studies, of, levels, ref, alone, method, hksj, level)
        extra: dict[str, object] = {"q_between": q[0], "q_between_df": q[1], "q_between_p": q[2]}
        extra["test"] = "t" if hksj else "z"
        if effects.multiarm == "shared" and rma_inputs(effects)["V"] is not None:
            notes.append("the levels' estimates are treated as independent in the test and the differences")
    else:
        model = rma(method=method, hksj=hksj, level=level, X=x, names=names, **rma_inputs(effects, kept))
        assert isinstance(model, MetaRegResult)
        rows, diffs = _common(model, studies[kept], of[kept], levels, ref, alone, hksj, level)
        f_test = hksj
        extra = {
            "q_between": model.qm,
            "q_between_df": int(model.qm_df[0]),
            "q_between_p": model.qm_p,
            "q_between_test": "F" if f_test else "chi2",
            "q_between_df2": float(model.qm_df[1]) if f_test else float("nan"),
            "tau2": model.tau2,
            "test": model.test,
        }
        notes += list(model.notes)
    ctx = context(effects, excluded)
    return SubgroupResult(
        by=by,
        reference=ref,
        tau2_mode=tau2,
        method=rows[0].method if tau2 == "common" else method,
        hksj=hksj,
        ci_level=level,
        levels=tuple(rows),
        differences=tuple(diffs),
        k=int(kept.sum()),
        notes=tuple(notes),
        **ctx,
        **extra,  # type: ignore[arg-type]
    )


def _crit(level: float, df: float) -> float:
    alpha = 1 - level
    return float(stats.t.isf(alpha / 2, df)) if np.isfinite(df) else float(stats.norm.isf(alpha / 2))


def _p(z: float, df: float) -> float:
    return float(2 * (stats.t.sf(abs(z), df) if np.isfinite(df) else stats.norm.sf(abs(z))))


def _separate(
    effects: object,
    studies: np.ndarray,
    of: np.ndarray,
    levels: Sequence[str],
    ref: str,
    alone: Sequence[str],
    method: str,
    hksj: bool,
    level: float,
) -> tuple[list[SubgroupLevel], list[LevelDifference], tuple[float, int, float]]:
    rows = []
    for lv in levels:
        inputs = rma_inputs(effects, of == lv)  # type: ignore[arg-type]
        solo = lv in alone
        k = len(inputs["yi"])
        how = "fe" if solo or k == 1 else method
        res = rma(method=how, hksj=hksj and k > 1, level=level, **inputs)
        assert isinstance(res, PoolResult)
        rows.append(_row(lv, res, len(set(studies[of == lv])), not solo))
    est = np.array([r.estimate for r in rows])
    w = 1.0 / np.array([r.se for r in rows]) ** 2
    q = float(np.sum(w * (est - np.sum(w * est) / np.sum(w)) ** 2))
    dfq = len(rows) - 1
    at = {r.level: r for r in rows}
    diffs = []
    crit = _crit(level, float("nan"))
    for r in rows:
        if r.level == ref:
            continue
        d = r.estimate - at[ref].estimate
        se = float(np.hypot(r.se, at[ref].se))
        diffs.append(
            LevelDifference(r.level, ref, d, se, d - crit * se, d + crit * se, d / se, _p(d / se, float("nan")))
        )
    return rows, diffs, (q, dfq, float(stats.chi2.sf(q, dfq)))


def _row(name: str, res: PoolResult, n_studies: int, pooled: bool) -> SubgroupLevel:
    return SubgroupLevel(
        level=name,
        k=res.k,
        n_studies=n_studies,
        pooled=pooled,
        method=res.method,
        estimate=res.estimate,
        se=res.se,
        ci_low=res.ci_low,
        ci_high=res.ci_high,
        z=res.z,
        p=res.p,
        tau2=res.tau2,
        tau=res.tau,
        i2=res.i2,
        h2=res.h2,
        q=res.q,
        q_df=res.q_df,
        q_p=res.q_p,
        pi_low=res.pi_low,
        pi_high=res.pi_high,
        df=res.df,
    )


def _common(
    model: MetaRegResult,
    studies: np.ndarray,
    of: np.ndarray,
    levels: Sequence[str],
    ref: str,
    alone: Sequence[str],
    hksj: bool,
    level: float,
) -> tuple[list[SubgroupLevel], list[LevelDifference]]:
    """Each level's effect as a contrast of the factor model's coefficients (intercept =
    the reference level), and the coefficients as the differences."""
    vb = np.asarray(model.vcov, dtype=float)
    b = np.array([c.estimate for c in model.coefficients])
    others = [lv for lv in levels if lv != ref]
    df = model.df if hksj else float("nan")
    crit = _crit(level, df)
    yi, vi = np.asarray(model.yi), np.asarray(model.vi)
    rows = []
    for lv in levels:
        c = np.zeros(len(b))
        c[0] = 1.0
        if lv != ref:
            c[1 + others.index(lv)] = 1.0
        est = float(c @ b)
        se = float(np.sqrt(c @ vb @ c))
        half = crit * np.sqrt(model.tau2 + se**2)
        mask = of == lv
        q, q_df, q_p = _within_q(yi[mask], vi[mask])
        n_studies = len(set(studies[mask]))
        rows.append(
            SubgroupLevel(
                level=lv,
                k=int(mask.sum()),
                n_studies=n_studies,
                pooled=lv not in alone,
                method=model.method,
                estimate=est,
                se=se,
                ci_low=est - crit * se,
                ci_high=est + crit * se,
                z=est / se,
                p=_p(est / se, df),
                tau2=model.tau2,
                tau=model.tau,
                i2=float("nan"),
                h2=float("nan"),
                q=q,
                q_df=q_df,
                q_p=q_p,
                pi_low=est - half,
                pi_high=est + half,
                df=df,
            )
        )
    diffs = [
        LevelDifference(lv, ref, co.estimate, co.se, co.ci_low, co.ci_high, co.z, co.p)
        for lv, co in zip(others, model.coefficients[1:], strict=True)
    ]
    return rows, diffs


def _within_q(y: np.ndarray, v: np.ndarray) -> tuple[float, int, float]:
    """Cochran's Q of one level's comparisons about their fixed-effect mean (variances only)."""
    w = 1.0 / v
    q = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))
    return q, len(y) - 1, float(stats.chi2.sf(q, len(y) - 1)) if len(y) > 1 else float("nan")

"""Effect sizes of treatment-vs-control comparisons (metafor's ``escalc``, then the table).

:func:`effect_table` turns one outcome at one month of a :class:`Dataset` into an
:class:`EffectTable` (``yi``, ``vi`` per comparison, plus covariates and, for multi-arm
trials kept whole, the comparisons' covariance matrix). :func:`arm_table` gives the same
comparisons at arm level for the arm-based Bayesian model.

Comparisons are every (treatment, control) pair of arms within a study, ordered by study
(order of first appearance in ``arms.csv``), then treatment arm, then control arm (order
of ``arms.csv``). Multi-arm trials (Cochrane Handbook 23.3.4): with ``multiarm="split"``
an arm entering m > 1 comparisons keeps its mean and SD and contributes n/m patients to
each; with ``multiarm="shared"`` n stays whole and ``vcov`` holds the comparisons'
covariance: the shared arm's ``sd^2 / n`` for mean differences, and for standardised
mean differences the large-sample approximation of Gleser & Olkin (2009, "Stochastically
dependent effect sizes", Handbook of Research Synthesis and Meta-Analysis, 2nd ed.,
ch. 19, multiple-treatment studies): ``1/n_shared + y_a y_b / (2 N)``, N the study's
total n over the arms entering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_msc.data.cells import ArmValues, arm_values, conversion_notes
from bayes_msc.data.covariates import Term, arm_covariates, comparison_covariates, parse_term, term_values
from bayes_msc.data.dataset import Dataset
from bayes_msc.data.errors import InputError, Problem

MEASURES: tuple[str, ...] = ("md", "smd")
MULTIARM: tuple[str, ...] = ("split", "shared")
FIXED_COLUMNS: tuple[str, ...] = (
    "study", "comparison", "treatment_arm", "control_arm", "outcome", "month",
    "yi", "vi", "n_treatment", "n_control", "source_kind",
)


def escalc_md(m1, sd1, n1, m2, sd2, n2):
    """Raw mean difference, metafor ``escalc(measure="MD")``: ``yi = m1 - m2``,
    ``vi = sd1^2/n1 + sd2^2/n2`` (vtype "LS"/"UB", heteroscedastic). Returns ``(yi, vi)``."""
    m1, sd1, n1, m2, sd2, n2 = (np.asarray(v, dtype=float) for v in (m1, sd1, n1, m2, sd2, n2))
    return m1 - m2, sd1**2 / n1 + sd2**2 / n2


def escalc_smd(m1, sd1, n1, m2, sd2, n2):
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


def smd_shared_covariance(y_a, y_b, n_shared, n_total):
    """Covariance of two SMDs sharing one arm: ``1/n_shared + y_a y_b / (2 N)``
    (Gleser & Olkin 2009, multiple-treatment studies; N = the study's total n)."""
    y_a, y_b, n_shared, n_total = (np.asarray(v, dtype=float) for v in (y_a, y_b, n_shared, n_total))
    return 1.0 / n_shared + y_a * y_b / (2.0 * n_total)


@dataclass(frozen=True, eq=False)
class EffectTable:
    """Effect sizes of one outcome at one month (see :func:`effect_table`).

    ``data`` has :data:`FIXED_COLUMNS` then one column per name in ``covariates``;
    ``vcov`` is k x k (diagonal ``vi``; shared-arm covariances when ``multiarm ==
    "shared"``); ``missing`` says what could not enter and why; ``notes`` the
    conversions, rescaling and multi-arm handling applied.
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
                lines.append(f"{row.study}: {row.comparison} dropped from the regression: "
                             f"no value for {', '.join(lacking)}")
        return tuple(lines)

    def to_frame(self) -> pd.DataFrame:
        """The export table: metafor's ``yi``/``vi`` names, one row per comparison."""
        return self.data.copy()

    def to_dict(self) -> dict:
        """The JSON of ``bayes-msc effects`` (DESIGN.md)."""
        effects = []
        for rec in self.data.to_dict(orient="records"):
            effects.append({c: rec[c] for c in self.data.columns if c not in ("outcome", "month")})
        cov = [{"a": i, "b": j, "study": str(self.data["study"].iat[i]), "cov": float(self.vcov[i, j])}
               for i in range(self.k) for j in range(i + 1, self.k) if self.vcov[i, j] != 0.0]
        return {
            "dataset": self.dataset, "simulated": self.simulated, "outcome": self.outcome,
            "month": self.month, "measure": self.measure, "multiarm": self.multiarm,
            "basis": self.basis, "r": self.r, "rescale": self.rescale, "k": self.k,
            "missing": list(self.missing), "notes": list(self.notes), "effects": effects,
            "covariances": cov,
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


def _check_options(measure: str, multiarm: str) -> None:
    problems = []
    if measure not in MEASURES:
        problems.append(Problem(f"unknown measure '{measure}'; allowed: {', '.join(MEASURES)}", column="--measure"))
    if multiarm not in MULTIARM:
        problems.append(Problem(f"unknown multi-arm handling '{multiarm}'; allowed: {', '.join(MULTIARM)}",
                                column="--multiarm"))
    if problems:
        raise InputError(problems)


def _multiarm_notes(comps: pd.DataFrame, multiarm: str, measure: str) -> list[str]:
    notes = []
    arm_rows = comps[comps["source_kind"] == "arms"]
    for role, col, ncol in (("treatment", "treatment_arm", "n_t_whole"), ("control", "control_arm", "n_c_whole")):
        counts = arm_rows.groupby(["study", col], sort=False).agg(m=("yi", "size"), n=(ncol, "first"))
        for (study, arm), rec in counts.iterrows():
            m = int(rec["m"])
            if m < 2:
                continue
            if multiarm == "split":
                notes.append(f"{study}: {role} arm '{arm}' enters {m} comparisons; its n ({rec['n']:g}) "
                             f"is split to {rec['n'] / m:g} in each (Cochrane Handbook 23.3.4)")
            else:
                how = "sd^2/n of the shared arm" if measure == "md" else "Gleser & Olkin 2009 approximation"
                notes.append(f"{study}: {role} arm '{arm}' enters {m} comparisons with its whole n "
                             f"({rec['n']:g}); their covariance ({how}) is in vcov")
    if multiarm == "shared":
        for study, group in arm_rows.groupby("study", sort=False):
            n_arms = group["treatment_arm"].nunique() + group["control_arm"].nunique()
            if len(group) > n_arms - 1:
                notes.append(f"{study}: its {len(group)} comparisons of {n_arms} arms are linearly dependent, "
                             "so vcov is singular (pool with a generalised inverse, or use multiarm 'split')")
    return notes


def _shared_vcov(comps: pd.DataFrame, measure: str) -> np.ndarray:
    k = len(comps)
    v = np.diag(comps["vi"].to_numpy(dtype=float)) if k else np.zeros((0, 0))
    rows = list(comps.itertuples(index=False))
    for i in range(k):
        for j in range(i + 1, k):
            a, b = rows[i], rows[j]
            if a.source_kind != "arms" or b.source_kind != "arms" or a.study != b.study:
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
                study = comps[(comps["study"] == a.study) & (comps["source_kind"] == "arms")]
                total = (study.drop_duplicates("treatment_arm")["n_t_whole"].sum()
                         + study.drop_duplicates("control_arm")["n_c_whole"].sum())
                cov = float(smd_shared_covariance(a.yi, b.yi, n, total))
            v[i, j] = v[j, i] = cov
    return v


def _compute(comps: pd.DataFrame, measure: str, multiarm: str) -> pd.DataFrame:
    """Fill yi, vi, n_treatment, n_control of the comparisons (arm-based and contrasts)."""
    comps = comps.copy()
    arms = comps["source_kind"] == "arms"
    m_t = comps[arms].groupby(["study", "treatment_arm"])["yi"].transform("size")
    m_c = comps[arms].groupby(["study", "control_arm"])["yi"].transform("size")
    split = multiarm == "split"
    comps["n_treatment"] = comps["n_t_whole"].astype(float)
    comps["n_control"] = comps["n_c_whole"].astype(float)
    if split and arms.any():
        comps.loc[arms, "n_treatment"] = comps.loc[arms, "n_t_whole"] / m_t
        comps.loc[arms, "n_control"] = comps.loc[arms, "n_c_whole"] / m_c
    f = escalc_md if measure == "md" else escalc_smd
    a = comps[arms]
    yi, vi = f(a["mean_t"], a["sd_t"], a["n_treatment"], a["mean_c"], a["sd_c"], a["n_control"])
    comps.loc[arms, "yi"] = yi
    comps.loc[arms, "vi"] = vi
    return comps


def _pair_problem(cell: ArmValues, study: str, t: str, c: str) -> str | None:
    """Why the pair (t, c) has no arm-based effect size, or None when it has one."""
    lacking = {arm: cell.reasons.get((study, arm), "not in arms.csv") for arm in (t, c)
               if (study, arm) in cell.reasons or (study, arm) not in cell.index}
    if len(lacking) == 2 and len(set(lacking.values())) == 1:
        return f"both arms: {lacking[t]}"
    if lacking:
        return "; ".join(f"{arm}: {why}" for arm, why in lacking.items())
    a, b = (cell.values.iloc[cell.index[(study, arm)]] for arm in (t, c))
    if cell.rescale and a["rescaled"] != b["rescaled"]:
        return "one arm has scale_min/scale_max and the other not, so only one could be rescaled to 0-100"
    if not cell.rescale and not np.allclose([a["scale_min"], a["scale_max"]], [b["scale_min"], b["scale_max"]],
                                            equal_nan=True) and np.isfinite([a["scale_min"], b["scale_min"]]).all():
        return "the arms are on different scales (rescaling is off)"
    return None


def _comparisons(dataset: Dataset, cell: ArmValues, outcome: str, month: float, measure: str):
    """Every (treatment, control) pair: arm-based rows, contrast rows, and what is missing."""
    arms, con = dataset.arms, cell.contrasts
    n_arm = dict(zip(zip(arms["study"], arms["arm"], strict=True), arms["n"].astype(float), strict=True))
    studies = list(dict.fromkeys(arms["study"]))
    studies += [s for s in dict.fromkeys(con["study"]) if s not in studies] if len(con) else []
    rows, missing, notes = [], [], []
    for study in studies:
        a = arms[arms["study"] == study]
        pairs = [(t, c) for t in a.loc[a["role"] == "treatment", "arm"] for c in a.loc[a["role"] == "control", "arm"]]
        cs = con[con["study"] == study] if len(con) else con
        pairs += [(t, c) for t, c in zip(cs.get("treatment_arm", []), cs.get("control_arm", []), strict=True)
                  if (t, c) not in pairs]
        for t, c in pairs:
            match = cs[(cs["treatment_arm"] == t) & (cs["control_arm"] == c)] if len(cs) else cs
            base = {"study": study, "comparison": f"{t} vs {c}", "treatment_arm": t, "control_arm": c,
                    "outcome": outcome, "month": month, "n_t_whole": n_arm.get((study, t), np.nan),
                    "n_c_whole": n_arm.get((study, c), np.nan)}
            problem = _pair_problem(cell, study, t, c)
            if problem is None:
                vt, vc = (cell.values.iloc[cell.index[(study, arm)]] for arm in (t, c))
                rows.append(base | {"source_kind": "arms", "mean_t": vt["mean"], "sd_t": vt["sd"], "n_t_whole": vt["n"],
                                    "mean_c": vc["mean"], "sd_c": vc["sd"], "n_c_whole": vc["n"],
                                    "yi": np.nan, "vi": np.nan})
                if len(match):
                    notes.append(f"{study}: the contrasts.csv row for {t} vs {c} is not used: arm data give it")
            elif len(match) and measure == "smd":
                missing.append(f"{study}: {t} vs {c}: only a contrast (a raw difference) is available; "
                               f"an SMD needs arm means and SDs ({problem})")
            elif len(match):
                rec = match.iloc[0]
                rows.append(base | {"source_kind": "contrast", "yi": rec["yi"], "vi": rec["vi"]})
                if rec["rescaled"]:
                    notes.append(f"{study}: contrast {t} vs {c} rescaled from "
                                 f"{rec['scale_min']:g}-{rec['scale_max']:g} to 0-100")
                elif cell.rescale and cell.values["rescaled"].any():
                    notes.append(f"{study}: contrast {t} vs {c} is on its reported scale "
                                 "(contrasts.csv gives no scale_min/scale_max)")
            else:
                missing.append(f"{study}: {t} vs {c}: {problem}")
    cols = ["study", "comparison", "treatment_arm", "control_arm", "outcome", "month", "source_kind", "mean_t",
            "sd_t", "n_t_whole", "mean_c", "sd_c", "n_c_whole", "yi", "vi"]
    return pd.DataFrame.from_records(rows, columns=cols), missing, notes


def _build(dataset: Dataset, outcome: str, month: float, measure: str, multiarm: str, basis: str,
           r: float, rescale: bool, conversion: str):
    _check_options(measure, multiarm)
    cell = arm_values(dataset, outcome, float(month), basis, r, rescale, conversion)
    comps, missing, notes = _comparisons(dataset, cell, outcome, float(month), measure)
    comps = _compute(comps, measure, multiarm)
    yi, vi = comps["yi"].to_numpy(dtype=float), comps["vi"].to_numpy(dtype=float)
    bad = ~(np.isfinite(yi) & np.isfinite(vi) & (vi > 0))
    for rec in comps[bad].itertuples(index=False):
        missing.append(f"{rec.study}: {rec.treatment_arm} vs {rec.control_arm}: effect size undefined "
                       f"(n {rec.n_treatment:g} and {rec.n_control:g})")
    comps = comps[~bad].reset_index(drop=True)
    arm_rows = comps[comps["source_kind"] == "arms"]
    order = {key: i for i, key in enumerate(zip(dataset.arms["study"], dataset.arms["arm"], strict=True))}
    used = sorted({(s, a) for s, t, c in zip(arm_rows["study"], arm_rows["treatment_arm"], arm_rows["control_arm"],
                                            strict=True) for a in (t, c)}, key=lambda key: order.get(key, len(order)))
    notes = conversion_notes(cell.values, used) + _multiarm_notes(comps, multiarm, measure) + notes
    return cell, comps, missing, notes, used


def effect_table(dataset: Dataset, outcome: str, month: float, measure: str = "md", multiarm: str = "split",
                 basis: str = "final", r: float = 0.5, rescale: bool = True,
                 conversion: str = "luo_shi") -> EffectTable:
    """Effect sizes (``yi``, ``vi``) of every treatment-vs-control comparison.

    Parameters
    ----------
    dataset : Dataset
    outcome : str
        Outcome name as in ``outcomes.csv``.
    month : float
        Follow-up month.
    measure : {"md", "smd"}
        Mean difference or Hedges' g (:func:`escalc_md`, :func:`escalc_smd`).
    multiarm : {"split", "shared"}
        Multi-arm trials: split a shared arm's n, or keep it whole with the covariance
        in ``vcov`` (see the module docstring).
    basis : {"final", "change"}
        Final values (``kind == "final"`` rows at ``month``) or change from baseline
        (``kind == "change"`` rows at ``month``, else built from the month-0 and
        ``month`` final rows with correlation ``r``, Cochrane Handbook 6.5.2.8).
    r : float
        Baseline/follow-up correlation for built change scores (reported in notes).
    rescale : bool
        Map values to 0-100 where ``scale_min``/``scale_max`` are given (reported).
    conversion : {"luo_shi", "wan"}
        Median/quantile conversion (:func:`bayes_msc.data.conversions.to_mean_sd`).

    Returns
    -------
    EffectTable
        ``contrasts.csv`` rows at this outcome and month enter too (measure "md"
        only; ``vi = se^2`` or ``((ci_high - ci_low) / (2 z_0.975))^2``), with
        ``source_kind == "contrast"``, when arm data do not give that comparison.

    Raises
    ------
    InputError
        Unknown outcome, a month without rows for it (both list what is available),
        or invalid options.
    """
    _, comps, missing, notes, _ = _build(dataset, outcome, month, measure, multiarm, basis, r, rescale, conversion)
    pairs = list(zip(comps["study"], comps["treatment_arm"], comps["control_arm"], strict=True))
    cov = comparison_covariates(dataset.arms, dataset.studies, pairs)
    data = comps[list(FIXED_COLUMNS)].reset_index(drop=True)
    data = pd.concat([data, cov.drop(columns=[c for c in cov.columns if c in data.columns])], axis=1)
    vcov = _shared_vcov(comps, measure) if multiarm == "shared" else np.diag(data["vi"].to_numpy(dtype=float))
    return EffectTable(
        data=data, vcov=vcov, outcome=outcome, month=float(month), measure=measure, multiarm=multiarm,
        basis=basis, r=float(r), rescale=bool(rescale), simulated=bool(dataset.simulated), dataset=dataset.name,
        missing=tuple(missing), notes=tuple(notes),
        covariates=tuple(c for c in cov.columns if c not in FIXED_COLUMNS),
    )


def arm_table(dataset: Dataset, outcome: str, month: float, basis: str = "final", r: float = 0.5,
              rescale: bool = True, conversion: str = "luo_shi") -> ArmTable:
    """Arm-level means, SDs and covariates for the arm-based model (see :class:`ArmTable`).

    Same selection, conversions and comparisons as :func:`effect_table` (measure "md");
    contrasts cannot enter at arm level and are listed in ``missing``.
    """
    cell, comps, missing, notes, keys = _build(dataset, outcome, month, "md", "shared", basis, r, rescale,
                                               conversion)
    for rec in comps[comps["source_kind"] == "contrast"].itertuples(index=False):
        missing.append(f"{rec.study}: {rec.treatment_arm} vs {rec.control_arm}: only a contrast is available; "
                       "it cannot enter the arm-level model")
    comps = comps[comps["source_kind"] == "arms"].reset_index(drop=True)
    notes = [n for n in notes if " enters " not in n]
    role = dict(zip(zip(dataset.arms["study"], dataset.arms["arm"], strict=True), dataset.arms["role"], strict=True))
    vals = cell.values.set_index(["study", "arm"])
    data = pd.DataFrame({
        "study": [s for s, _ in keys], "arm": [a for _, a in keys], "role": [role.get(k, "") for k in keys],
        "n": [float(vals.at[k, "n"]) for k in keys], "mean": [float(vals.at[k, "mean"]) for k in keys],
        "sd": [float(vals.at[k, "sd"]) for k in keys]})
    data["se"] = data["sd"] / np.sqrt(data["n"])
    cov = arm_covariates(dataset.arms, dataset.studies, keys)
    data = pd.concat([data, cov.drop(columns=[c for c in cov.columns if c in data.columns])], axis=1)
    return ArmTable(
        data=data, comparisons=comps[["study", "treatment_arm", "control_arm"]].copy(), outcome=outcome,
        month=float(month), basis=basis, r=float(r), rescale=bool(rescale), simulated=bool(dataset.simulated),
        dataset=dataset.name, missing=tuple(missing), notes=tuple(notes),
        covariates=tuple(c for c in cov.columns if c not in ("study", "arm", "role", "n", "mean", "sd", "se")),
    )

"""The paper's Table 2 design as a reusable analysis (part of ``bayes-msc reproduce``).

Qu & Sun 2021, Table 2: a meta-regression of the VAS score on mean age, sex, K-L grade,
dose of MSCs and "duration of disease" (which no column of the bundled data holds). The
table prints t values, as Stata's ``metareg`` (the paper used Stata 12) does by default
with its Knapp-Hartung variance and REML (Harbord & Higgins 2008, Stata Journal
8(4):493-519), so :func:`table2_metareg` uses REML with Knapp-Hartung t tests unless told
otherwise. The paper does not say which month it used; every month with enough
comparisons is run. It also calls the table "multivariate" while printing one row per
covariate, so both the joint model and one model per covariate are given.

:class:`EffectTables` builds each effect table of a dataset once (shared with
:mod:`bayes_msc.studies.qu_sun_2021.reproduce`: ``effect_table`` takes a few ms per call (benchmarks/bench_effects.py)).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_msc.data.covariates import parse_term
from bayes_msc.data.dataset import Dataset
from bayes_msc.data.effects import MEASURES, MULTIARM, EffectTable, effect_table
from bayes_msc.data.reader import covariate_columns
from bayes_msc.errors import InputError, Problem, data_row
from bayes_msc.frequentist.rma import rma
from bayes_msc.results.frequentist import MetaRegResult
from bayes_msc.studies.qu_sun_2021.results import PublishedCoefficient, Table2, Table2Fit

TRIALS: tuple[str, ...] = ("published", "all")
METAREG_FILE = "published_metareg.csv"
TABLE2_OUTCOME = "vas"
TABLE2_COVARIATES: tuple[str, ...] = ("age_mean", "female_pct", "kl_grade_mean", "dose_million")
TABLE2_TERMS: dict[str, str | None] = {
    "Age": "age_mean",
    "Gender": "female_pct",
    "Grade of osteoarthritis": "kl_grade_mean",
    "Dose of MSCs": "dose_million",
    "Duration of disease": None,
}
"""Qu & Sun's Table 2 labels and the dataset terms they correspond to (used when
``published_metareg.csv`` has no ``term`` column); None: no dataset column holds it."""


def split_list(text: object) -> tuple[str, ...]:
    """``"a;b; c"`` -> ``("a", "b", "c")``; empty for missing text."""
    return tuple(p.strip() for p in text.split(";") if p.strip()) if isinstance(text, str) else ()


def check_options(measure: str, multiarm: str, trials: str) -> None:
    """Raise InputError naming every unknown option value."""
    problems = [
        Problem(f"unknown {what} '{v}'; allowed: {', '.join(allowed)}", argument=what)
        for what, v, allowed in (
            ("measure", measure, MEASURES),
            ("multiarm", multiarm, MULTIARM),
            ("trials", trials, TRIALS),
        )
        if v not in allowed
    ]
    if problems:
        raise InputError(problems)


def at_month(values: pd.Series, month: float) -> np.ndarray:
    return np.isclose(values.to_numpy(dtype=float), month, rtol=0.0, atol=1e-9)


class EffectTables:
    """The effect tables of one dataset, each (outcome, month, multiarm, rescale) built once.

    :meth:`get` returns None for a cell without any row in ``outcomes.csv`` or
    ``contrasts.csv`` (``effect_table`` would raise for it).
    """

    def __init__(self, dataset: Dataset, measure: str = "md"):
        self.dataset, self.measure = dataset, measure
        self._cache: dict[tuple[str, float, str, bool], EffectTable | None] = {}

    def has_rows(self, outcome: str, month: float) -> bool:
        o, con = self.dataset.outcomes, self.dataset.contrasts
        rows = bool(((o["outcome"] == outcome).to_numpy() & at_month(o["month"], month)).any())
        return rows or (
            con is not None and bool(((con["outcome"] == outcome).to_numpy() & at_month(con["month"], month)).any())
        )

    def put(self, table: EffectTable) -> bool:
        """Reuse a table of this dataset built elsewhere (its ``conversion`` must be
        effect_table's default), when it is what :meth:`get` would build: the same
        ``measure`` and effect_table's default ``basis`` and ``r``. Returns whether it was kept."""
        defaults = inspect.signature(effect_table).parameters
        if (table.measure, table.basis, table.r) != (self.measure, defaults["basis"].default, defaults["r"].default):
            return False
        self._cache[(table.outcome, float(table.month), table.multiarm, bool(table.rescale))] = table
        return True

    def get(self, outcome: str, month: float, multiarm: str, rescale: bool) -> EffectTable | None:
        key = (outcome, float(month), multiarm, bool(rescale))
        if key not in self._cache:
            self._cache[key] = (
                effect_table(self.dataset, outcome, month, measure=self.measure, multiarm=multiarm, rescale=rescale)
                if self.has_rows(outcome, month)
                else None
            )
        return self._cache[key]


def read_published_metareg(dataset: Dataset) -> pd.DataFrame | None:
    """``published_metareg.csv`` of the dataset folder (None when absent), numbers checked.

    Columns: ``covariate`` (label as printed), ``outcome``, ``coefficient``, ``ci_low``,
    ``ci_high``, optional ``t``, ``p``, ``term`` (the dataset term) and ``source``.
    """
    path = Path(dataset.path) / METAREG_FILE
    if not path.is_file():
        return None
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    lacking = [c for c in ("covariate", "outcome", "coefficient", "ci_low", "ci_high") if c not in frame.columns]
    if lacking:
        raise InputError([Problem(f"required column '{c}' is missing", METAREG_FILE, 1, c) for c in lacking])
    problems = []
    for col in ("coefficient", "ci_low", "ci_high", "t", "p"):
        if col in frame.columns:
            text = frame[col].str.strip()
            values = pd.to_numeric(text.where(text != ""), errors="coerce")
            for i in np.flatnonzero(values.isna() & (text != "")).tolist():
                problems.append(Problem(f"'{text.iat[i]}' is not a number", METAREG_FILE, data_row(i), col))
            frame[col] = values
    if problems:
        raise InputError(problems)
    return frame


def _published_coefficients(pm: pd.DataFrame | None, outcome: str) -> tuple[PublishedCoefficient, ...]:
    if pm is None:
        return ()
    out = []
    for rec in pm[pm["outcome"] == outcome].to_dict(orient="records"):
        label = str(rec["covariate"])
        term = rec.get("term") if "term" in pm.columns else TABLE2_TERMS.get(label)
        out.append(
            PublishedCoefficient(
                label=label,
                term=str(term) if isinstance(term, str) and term else None,
                coefficient=float(rec["coefficient"]),
                ci_low=float(rec["ci_low"]),
                ci_high=float(rec["ci_high"]),
                t=float(rec.get("t", math.nan)),
                p=float(rec.get("p", math.nan)),
                source=str(rec.get("source", "")),
            )
        )
    return tuple(out)


def _fit_or_why(
    t: EffectTable, mask: np.ndarray, terms: Sequence[str], method: str, hksj: bool, multiarm: str
) -> tuple[MetaRegResult | None, str, tuple[str, ...]]:
    """A meta-regression of the comparisons in ``mask`` on ``terms``, or why it cannot run."""
    x, names, kept = t.design(list(terms))
    use = kept & mask
    x = x[mask[kept]]
    dropped = tuple(
        line for line in t.design_report(list(terms)) if line.split(":")[0] in set(t.data.loc[mask, "study"])
    )
    k, q = int(use.sum()), len(names)
    if k < q + 2:
        return (
            None,
            f"k = {k} comparison(s) with every covariate; at least {q + 2} needed (k > p + 1, p = {q})",
            dropped,
        )
    const = [n for j, n in enumerate(names) if np.ptp(x[:, j]) == 0]
    if const:
        return None, f"{', '.join(const)} constant across the {k} comparisons", dropped
    if np.linalg.matrix_rank(np.column_stack([np.ones(k), x])) < q + 1:
        return None, f"covariates collinear across the {k} comparisons", dropped
    d = t.data[use]
    v = t.vcov[np.ix_(use, use)]
    shared = multiarm == "shared" and bool(np.any(v != np.diag(np.diag(v))))
    res = rma(
        d["yi"].to_numpy(dtype=float),
        d["vi"].to_numpy(dtype=float),
        method=method,
        hksj=hksj,
        X=x,
        names=names,
        V=v if shared else None,
        labels=[f"{s}: {c}" for s, c in zip(d["study"], d["comparison"], strict=True)],
    )
    return res, "", dropped


def table2_metareg(
    dataset: Dataset,
    outcome: str = TABLE2_OUTCOME,
    month: float | None = None,
    covariates: Sequence[str] = TABLE2_COVARIATES,
    method: str = "reml",
    hksj: bool = True,
    measure: str = "md",
    multiarm: str = "split",
    rescale: bool = True,
    trials: str = "published",
    published: pd.DataFrame | None = None,
    published_metareg: pd.DataFrame | None = None,
    tables: EffectTables | None = None,
) -> Table2:
    """The paper's Table 2 design: meta-regression of ``outcome`` on ``covariates``, per month.

    Runs one joint model with every available covariate and one model per covariate (Table 2
    prints one row per covariate without saying whether they were fitted together) at
    ``month``, or at every follow-up month (> 0) of ``outcome`` when ``month`` is None, when
    there are more comparisons than coefficients plus one (k > p + 1); other months are in
    ``skipped`` with the reason. ``tables`` may hold effect tables already built. Covariates no dataset column holds (the paper's "duration
    of disease") are listed in ``unavailable``. With ``trials="published"`` only the trials
    the paper pooled for ``outcome`` (``published_pooled.csv``) enter, when it lists any.

    Raises
    ------
    InputError
        Unknown options, or ``month`` given without rows for ``outcome``.
    """
    check_options(measure, multiarm, trials)
    pm = published_metareg if published_metareg is not None else read_published_metareg(dataset)
    pub = _published_coefficients(pm, outcome)
    have = set(covariate_columns(dataset))
    terms = tuple(parse_term(c).name for c in covariates if parse_term(c).column in have)
    labels = (
        [c.label for c in pub if c.term is None]
        if pm is not None
        else [label for label, term in TABLE2_TERMS.items() if term is None]
    )
    unavailable = [(label, f"in the paper's Table 2; no column of dataset {dataset.name} holds it") for label in labels]
    unavailable += [
        (c, f"not a column of {dataset.name}'s arms.csv or studies.csv")
        for c in covariates
        if parse_term(c).column not in have
    ]
    table = dataset.published if published is None else published
    pooled_by_paper: tuple[str, ...] = ()
    if trials == "published" and table is not None:
        rows = table[table["outcome"] == outcome]
        pooled_by_paper = tuple(dict.fromkeys(s for t in rows["trials"] for s in split_list(t)))
    notes = [f"method {method.upper()}{' with Knapp-Hartung t tests' if hksj else ''}; multi-arm trials: {multiarm}"]
    if pooled_by_paper:
        notes.append(f"only the trials the paper pooled for {outcome} enter: {', '.join(pooled_by_paper)}")
    if month is None:
        values = dataset.outcomes[(dataset.outcomes["outcome"] == outcome) & (dataset.outcomes["month"] > 0)]
        months = sorted(set(values["month"].astype(float)))
        notes.append("the paper does not say at which month; every follow-up month with enough comparisons is run")
    else:
        months = [float(month)]
    tables = EffectTables(dataset, measure) if tables is None or tables.measure != measure else tables
    if month is not None and not tables.has_rows(outcome, float(month)):
        raise InputError(Problem(f"no rows for outcome '{outcome}' at month {float(month):g}", argument="month"))
    fits: list[Table2Fit] = []
    skipped: list[tuple[float, str, str]] = []
    models = [("joint", terms)] + ([(f"univariable: {t}", (t,)) for t in terms] if len(terms) > 1 else [])
    for m in months:
        t = tables.get(outcome, m, multiarm, rescale)
        if t is None:
            skipped.append((m, "every model", f"no row for {outcome} at month {m:g}"))
            continue
        mask = t.data["study"].isin(pooled_by_paper).to_numpy() if pooled_by_paper else np.ones(t.k, dtype=bool)
        if int(mask.sum()) < 3:  # too few for any model, even with one covariate (k > p + 1)
            skipped.append(
                (
                    m,
                    "every model",
                    (f"k = {int(mask.sum())} comparison(s); at least 3 needed even for one covariate (k > p + 1)"),
                )
            )
            continue
        for model, model_terms in models:
            if not model_terms:
                skipped.append((m, model, "no covariate available"))
                continue
            res, why, dropped = _fit_or_why(t, mask, model_terms, method, hksj, multiarm)
            if res is None:
                skipped.append((m, model, why))
            else:
                res = dataclasses.replace(
                    res,
                    outcome=outcome,
                    month=m,
                    measure=measure,
                    multiarm=multiarm,
                    dataset=dataset.name,
                    simulated=bool(dataset.simulated),
                    excluded=dropped,
                )
                fits.append(Table2Fit(month=m, model=model, result=res, dropped=dropped))
    return Table2(
        outcome=outcome,
        covariates=terms,
        method=method,
        hksj=bool(hksj),
        fits=tuple(fits),
        skipped=tuple(skipped),
        unavailable=tuple(unavailable),
        published=pub,
        notes=tuple(notes),
    )

"""Reproduce a publication's pooled results from a dataset, row by row (``bayes-msc reproduce``).

For each row of ``published_pooled.csv`` (outcome, month, published WMD, 95% CI, P, the
trials pooled) :func:`reproduce` builds the effect table of that cell
(:func:`bayes_msc.data.effects.effect_table`), keeps the trials the paper pooled, and pools
them with the paper's rule (Qu & Sun 2021: random effects, DerSimonian-Laird, when
I2 > 50% or P_Q < 0.1, otherwise fixed effect; ``rma(method="paper")``). It pools a second
time the way the paper handled multi-arm trials: every dose arm against the whole shared
control, the comparisons treated as independent, so the control patients count once per
comparison (double counting; Cochrane Handbook 23.3.4 advises against it). Where rescaling
to 0-100 changed the values it also pools the native scales. The agreement rule and the
statuses are described in :mod:`bayes_msc.studies.qu_sun_2021.results`; each row's status
and its reason in words are decided in :mod:`bayes_msc.studies.qu_sun_2021.verdict`.

The paper's Table 2 meta-regression design is in :mod:`bayes_msc.studies.qu_sun_2021.table2`;
:func:`reproduce` adds it to its result.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.data.dataset import Dataset
from bayes_msc.errors import InputError, Problem
from bayes_msc.frequentist.rma import rma
from bayes_msc.studies.qu_sun_2021.results import Pooled, Reproduction, ReproductionRow, p_text
from bayes_msc.studies.qu_sun_2021.table2 import (
    TABLE2_OUTCOME,
    EffectTables,
    check_options,
    read_published_metareg,
    split_list,
    table2_metareg,
)
from bayes_msc.studies.qu_sun_2021.verdict import Cell, RowFacts, outcome_rows, status, why_missing

TOLERANCE = 0.05
"""Agreement: estimate and both CI limits within this fraction of the published CI width."""

PUBLISHED_FILE = "published_pooled.csv"


def agreement(
    published: Sequence[float], computed: Sequence[float], tolerance: float = TOLERANCE
) -> tuple[bool, float]:
    """Whether ``computed`` (estimate, ci_low, ci_high) agrees with ``published``.

    Agreement: each of the three computed values lies within ``tolerance`` times the
    published CI width (ci_high - ci_low) of the published value. Returns the verdict
    and the largest absolute deviation.
    """
    pub, com = np.asarray(published, dtype=float), np.asarray(computed, dtype=float)
    dev = float(np.max(np.abs(com - pub)))
    return bool(dev <= tolerance * (pub[2] - pub[1])), dev


def _cell(
    tables: EffectTables, outcome: str, month: float, multiarm: str, rescale: bool, studies: Collection[str] | None
) -> Cell:
    """The cell's comparisons of ``studies`` (all studies when None); empty without rows."""
    t = tables.get(outcome, month, multiarm, rescale)
    if t is None:
        return Cell(pd.DataFrame(columns=["study", "comparison", "yi", "vi"]), np.zeros((0, 0)), (), ())
    keep = np.ones(t.k, dtype=bool) if studies is None else t.data["study"].isin(studies).to_numpy()
    return Cell(t.data[keep].reset_index(drop=True), t.vcov[np.ix_(keep, keep)], t.missing, t.notes)


def _rescaled(ds: Dataset, outcome: str, month: float, studies: Sequence[str]) -> bool:
    """Whether rescaling to 0-100 changes any value of ``studies`` in the cell."""
    r = outcome_rows(ds, outcome, month)
    r = r[r["study"].isin(studies) & (r["stat_group"] != "missing")]
    lo, hi = r["scale_min"].to_numpy(dtype=float), r["scale_max"].to_numpy(dtype=float)
    given = np.isfinite(lo) & np.isfinite(hi)
    return bool(np.any(given & ((lo != 0) | (hi != 100))))


def _pool(
    cell: Cell,
    variant: str,
    description: str,
    pub: tuple[float, float, float],
    tolerance: float,
    diagonal: bool = False,
) -> Pooled | None:
    d = cell.data
    if len(d) == 0:
        return None
    shared = not diagonal and bool(np.any(cell.vcov != np.diag(np.diag(cell.vcov))))
    labels = [f"{s}: {c}" for s, c in zip(d["study"], d["comparison"], strict=True)]
    res = rma(
        d["yi"].to_numpy(dtype=float),
        d["vi"].to_numpy(dtype=float),
        method="paper",
        V=cell.vcov if shared else None,
        labels=labels,
    )
    ok, dev = agreement(pub, (res.estimate, res.ci_low, res.ci_high), tolerance)
    return Pooled(
        variant=variant,
        description=description,
        k=res.k,
        studies=tuple(dict.fromkeys(d["study"])),
        method=res.method,
        why=res.why or "",
        estimate=res.estimate,
        se=res.se,
        ci_low=res.ci_low,
        ci_high=res.ci_high,
        p=res.p,
        i2=res.i2,
        q_p=res.q_p,
        agrees=ok,
        max_deviation=dev,
    )


def _follow_up(ds: Dataset) -> dict[str, tuple[float, ...]]:
    """Follow-up months per study from ``studies.csv`` ``follow_up_months`` ("3;6"), when given."""
    if ds.studies is None or "follow_up_months" not in ds.studies.columns:
        return {}
    out: dict[str, tuple[float, ...]] = {}
    for study, text in zip(ds.studies["study"], ds.studies["follow_up_months"], strict=True):
        if isinstance(text, float) and math.isfinite(text):  # one month only: read as a number
            out[study] = (text,)
            continue
        parts = split_list(text)
        if parts and all(p.replace(".", "", 1).isdigit() for p in parts):
            out[study] = tuple(float(p) for p in parts)
    return out


def _reproduce_row(
    ds: Dataset,
    tables: EffectTables,
    rec: Mapping[Hashable, Any],
    multiarm: str,
    rescale: bool,
    trials_mode: str,
    tolerance: float,
    follow: Mapping[str, tuple[float, ...]],
) -> ReproductionRow:
    """One row of ``published_pooled.csv`` (``rec``, a record of the file: its cells as read)."""
    outcome, month = str(rec["outcome"]), float(rec["month"])
    trials = split_list(rec["trials"])
    pub = (float(rec["estimate"]), float(rec["ci_low"]), float(rec["ci_high"]))
    keep = set(trials) if trials_mode == "published" else None
    cell = _cell(tables, outcome, month, multiarm, rescale, keep)
    everyone = _cell(tables, outcome, month, multiarm, rescale, None)
    with_data = tuple(dict.fromkeys(everyone.data["study"]))
    rows = outcome_rows(ds, outcome, month)
    declared = set(rows.loc[rows["stat_group"] == "missing", "study"])
    missing: list[tuple[str, str]] = []
    not_followed: list[tuple[str, str]] = []
    for s in trials:
        if s in with_data:
            if any(line.startswith(s + ": ") for line in everyone.missing):  # some of its comparisons lack data
                missing.append(
                    (s, "some comparisons lack data: " + why_missing(ds, s, everyone.missing, outcome, month))
                )
            continue
        if s not in declared and s in follow and not np.any(np.isclose(follow[s], month)):
            not_followed.append(
                (
                    s,
                    (
                        f"its follow-up months ({';'.join(f'{m:g}' for m in follow[s])}, "
                        f"studies.csv) do not include {month:g}"
                    ),
                )
            )
        else:
            missing.append((s, why_missing(ds, s, everyone.missing, outcome, month)))
    what = "split among its comparisons" if multiarm == "split" else "whole, with the comparisons' covariance"
    computed = _pool(cell, "computed", f"shared arms {what}", pub, tolerance)
    paper: Pooled | None = None
    native: list[Pooled | None] = []
    if computed is not None:
        paper = _pool(
            _cell(tables, outcome, month, "shared", rescale, keep),
            "paper_multiarm",
            "shared control counted whole in every comparison, comparisons treated as independent "
            "(the paper's handling)",
            pub,
            tolerance,
            diagonal=True,
        )
        # Native-scale poolings only explain a difference: built only for a complete row that differs.
        if not missing and not computed.agrees and rescale and _rescaled(ds, outcome, month, computed.studies):
            native = [
                _pool(
                    _cell(tables, outcome, month, multiarm, False, keep),
                    "native_scales",
                    "pooling the native scales (no rescaling to 0-100)",
                    pub,
                    tolerance,
                ),
                _pool(
                    _cell(tables, outcome, month, "shared", False, keep),
                    "native_scales_paper_multiarm",
                    "native scales with the paper's multi-arm handling",
                    pub,
                    tolerance,
                    diagonal=True,
                ),
            ]
    variants = tuple(v for v in native if v is not None)
    row = RowFacts(
        outcome=outcome,
        month=month,
        trials=trials,
        pub=pub,
        cell=cell,
        computed=computed,
        paper_multiarm=paper,
        variants=variants,
        missing=tuple(missing),
        not_followed=tuple(not_followed),
        present=tuple(s for s in trials if s in with_data),
        extra=tuple(s for s in with_data if s not in trials),
        trials_mode=trials_mode,
    )
    verdict, reason = status(row, ds, tolerance)
    p_value = float(rec["p_value"]) if pd.notna(rec["p_value"]) else math.nan
    return ReproductionRow(
        outcome=outcome,
        month=month,
        published_estimate=pub[0],
        published_ci_low=pub[1],
        published_ci_high=pub[2],
        published_p=p_value,
        published_p_text=str(rec["p_text"]) if pd.notna(rec["p_text"]) else p_text(p_value),
        source=str(rec["source"]),
        trials_published=trials,
        trial_refs=split_list(rec.get("trial_refs")),
        trials_present=row.present,
        trials_missing=tuple(missing),
        trials_not_followed=tuple(not_followed),
        trials_extra=row.extra,
        computed=computed,
        paper_multiarm=paper,
        variants=variants,
        status=verdict,
        reason=reason,
        tolerance=tolerance,
        notes=tuple(cell.notes),
    )


def reproduce(
    dataset: Dataset,
    measure: str = "md",
    multiarm: str = "split",
    rescale: bool = True,
    trials: str = "published",
    tolerance: float = TOLERANCE,
    published: pd.DataFrame | None = None,
    published_metareg: pd.DataFrame | None = None,
    metareg: bool = True,
    published_from: str | None = None,
    tables: EffectTables | None = None,
) -> Reproduction:
    """Compute every published pooled result of ``dataset`` the paper's way, beside the published one.

    Parameters
    ----------
    dataset : Dataset
        With ``published_pooled.csv`` (or pass ``published``).
    measure, multiarm, rescale
        As :func:`bayes_msc.data.effects.effect_table`; ``multiarm`` is the handling of
        the ``computed`` pooling (the paper's double counting is always given beside it).
    trials : {"published", "all"}
        Pool only the trials the paper pooled for that row (default), or every trial
        with data; either way the others are named in the row.
    tolerance : float
        Agreement rule, see :func:`agreement`.
    published, published_metareg : DataFrame, optional
        Published results to use instead of the dataset's files (the columns of
        ``published_pooled.csv`` / ``published_metareg.csv``), e.g. those of the real
        dataset whose design a simulated one copies.
    published_from : str, optional
        Where ``published`` comes from, for the output (default: "given by the caller").
    tables : EffectTables, optional
        Effect tables of ``dataset`` already built (with ``measure``), reused.
    metareg : bool
        Add the Table 2 design (:func:`~bayes_msc.studies.qu_sun_2021.table2.table2_metareg`)
        as ``metaregression``.

    Returns
    -------
    Reproduction
        One row per published result, in the file's order.

    Raises
    ------
    InputError
        No published results, or an unknown option.
    """
    check_options(measure, multiarm, trials)
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise InputError(Problem(f"tolerance must be a finite number >= 0, not {tolerance}", argument="tolerance"))
    table = dataset.published if published is None else published
    if table is None:
        raise InputError(Problem(f"no {PUBLISHED_FILE} in DATA: nothing to reproduce", file=PUBLISHED_FILE))
    follow = _follow_up(dataset)
    if tables is None or tables.dataset is not dataset or tables.measure != measure:
        tables = EffectTables(dataset, measure)
    rows = tuple(
        _reproduce_row(dataset, tables, rec, multiarm, rescale, trials, tolerance, follow)
        for rec in table.to_dict(orient="records")
    )
    reg = None
    notes = []
    if metareg:
        pm = published_metareg if published_metareg is not None else read_published_metareg(dataset)
        outcomes = list(dict.fromkeys(pm["outcome"])) if pm is not None and len(pm) else [TABLE2_OUTCOME]
        if outcomes[0] in set(dataset.outcomes["outcome"]):
            reg = table2_metareg(
                dataset,
                outcomes[0],
                measure=measure,
                multiarm=multiarm,
                rescale=rescale,
                trials=trials,
                published=table,
                published_metareg=pm,
                tables=tables,
            )
        else:
            notes.append(f"Table 2 design not run: the dataset has no outcome '{outcomes[0]}'")
    return Reproduction(
        rows=rows,
        dataset=dataset.name,
        simulated=bool(dataset.simulated),
        measure=measure,
        multiarm=multiarm,
        rescale=bool(rescale),
        trials=trials,
        tolerance=float(tolerance),
        rule=(
            f"agrees: estimate and both 95% CI limits each within {tolerance:.0%} of the "
            "published CI width of the published values, every expected trial present"
        ),
        published_from=(PUBLISHED_FILE if published is None else published_from or "given by the caller"),
        metaregression=reg,
        notes=tuple(notes),
    )

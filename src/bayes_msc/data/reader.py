"""Read and validate a dataset folder (docs/FORMAT.md, "The dataset folder").

:func:`read_dataset` reads every file to its cells with :mod:`bayes_msc.data.csvfile`
(UTF-8, with or without BOM; any line ends; quoted fields; blank lines skipped while row
numbers stay those a spreadsheet shows), checks them with the schemas of
:mod:`bayes_msc.data.schema` and the rules of :mod:`bayes_msc.data.rules`, reads
``dataset.toml`` with :mod:`bayes_msc.data.metadata`, collects every problem of every
file and raises them together as one
:class:`~bayes_msc.errors.InputError`, or returns the normalised
:class:`~bayes_msc.data.dataset.Dataset`. :func:`covariate_columns` and
:func:`cell_summary` describe a dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_msc.data import csvfile, rules
from bayes_msc.data import schema as sc
from bayes_msc.data.dataset import (
    ARMS,
    CONTRASTS,
    KL_COLUMNS,
    OUTCOMES,
    PUBLISHED,
    SPECS,
    STAT_COLUMNS,
    STUDIES,
    Dataset,
    FileSpec,
)
from bayes_msc.data.metadata import read_metadata
from bayes_msc.errors import InputError, Problem
from bayes_msc.guard.reading import folder_problem, present


@dataclass
class _Table:
    """One file on its way from text to values."""

    spec: FileSpec
    text: pd.DataFrame  # the cells as read: stripped text, None when empty; and _row
    frame: pd.DataFrame  # the same with the numeric columns as float
    numeric: tuple[str, ...]
    cell_rules: tuple[sc.RowRule, ...]  # required cells filled, numeric cells numbers
    header_ok: bool = True  # no problem with the header: the row rules can run
    complete: bool = True  # header_ok and no row rejected: other files may be checked against it

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.text.columns[:-1])  # _row is last

    @cached_property
    def filled(self) -> pd.DataFrame:
        """True where a cell is not empty (as read: a cell that is no number counts)."""
        keep = self.text.columns != "_row"
        return pd.DataFrame(
            ~pd.isna(self.text.to_numpy(object)[:, keep]), index=self.text.index, columns=self.text.columns[keep]
        )

    @cached_property
    def stat_groups(self) -> pd.Series:
        return rules.stat_groups(self.filled)


def _load(folder: Path, spec: FileSpec, problems: list[Problem]) -> _Table | None:
    path = folder / spec.name
    if not present(path):  # a dangling link is present: reading it reports it
        if spec in (ARMS, OUTCOMES):
            problems.append(Problem(f"required file is missing from {folder.name or folder}", spec.name))
        return None
    text = csvfile.read_text(path, problems)
    before = len(problems)
    text_df = csvfile.parse(text, spec, problems) if text is not None else None
    if text_df is None:
        return None
    header_ok = all(p.row not in (1, None) for p in problems[before:])
    numbers = csvfile.numbers(spec, text_df)
    # Built from columns: assign() costs more; the text stays object (no str inference).
    frame = pd.DataFrame({c: numbers[c] if c in numbers else text_df[c] for c in text_df.columns}, index=text_df.index)
    return _Table(
        spec,
        text_df,
        frame,
        tuple(numbers),
        csvfile.cell_rules(spec, text_df, numbers),
        header_ok,
        header_ok and len(problems) == before,
    )


# ----------------------------------------------------------------- cross-file rules


def _overlap_problems(arms: _Table | None, studies: _Table | None) -> list[Problem]:
    """A numeric column may come from arms.csv or studies.csv, not both (which to use?)."""
    if arms is None or studies is None:
        return []
    both = [c for c in studies.numeric if c in arms.numeric]
    return [
        Problem("is also a numeric column of arms.csv; a covariate must come from one file", STUDIES.name, 1, c)
        for c in both
    ]


# -------------------------------------------------------------------- normalising


def _final(t: _Table) -> pd.DataFrame:
    """A valid file's frame: text as pandas' str dtype (validation ran on faster object
    columns) and a plain 0..n-1 index (the source line is in _row). One frame built from
    arrays costs less than astype on each column."""
    return pd.DataFrame(
        {
            c: t.frame[c].to_numpy()
            if c in t.numeric or c == "_row"
            else pd.array(t.frame[c].to_numpy(object), dtype="str")
            for c in t.frame.columns
        }
    )


def _normalise_arms(frame: pd.DataFrame, numeric: tuple[str, ...]) -> pd.DataFrame:
    arms = frame.copy()
    arms["n"] = arms["n"].astype("int64")
    if {"female", "male"} <= set(arms.columns):
        total = arms["female"] + arms["male"]
        arms["female_pct"] = (100.0 * arms["female"] / total).where(total > 0)
    kl = [c for c in KL_COLUMNS if c in numeric]
    if kl:
        counts = arms[kl]
        total = counts.sum(axis=1, min_count=1)
        grades = np.array([int(c[-1]) for c in kl], dtype=float)
        arms["kl_grade_mean"] = ((counts * grades).sum(axis=1, min_count=1) / total).where(total > 0)
    return arms[[c for c in arms.columns if c != "_row"] + ["_row"]]


def _normalise_outcomes(t: _Table, frame: pd.DataFrame, arms: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in ("n", *STAT_COLUMNS, "scale_min", "scale_max"):
        if col not in out.columns:
            out[col] = np.nan
    arm_n = dict(zip(rules.join_keys(arms, ["study", "arm"]), arms["n"].astype(float), strict=True))
    out["n"] = out["n"].fillna(rules.join_keys(out, ["study", "arm"]).map(arm_n))
    kind = out["kind"] if "kind" in out.columns else pd.Series(np.nan, index=out.index, dtype="str")
    out["kind"] = kind.fillna("final")
    if "source" not in out.columns:
        out["source"] = pd.Series(np.nan, index=out.index, dtype="str")
    out["stat_group"] = pd.Series(t.stat_groups.to_numpy(), index=out.index, dtype="str")
    lead = [
        "study",
        "arm",
        "outcome",
        "month",
        "n",
        *STAT_COLUMNS,
        "kind",
        "scale_min",
        "scale_max",
        "source",
        "stat_group",
    ]
    return out[lead + [c for c in out.columns if c not in lead and c != "_row"] + ["_row"]]


def _normalise_contrasts(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    if frame is None:
        return None
    out = frame.copy()
    for col in ("se", "ci_low", "ci_high"):
        if col not in out.columns:
            out[col] = np.nan
    if "source" not in out.columns:
        out["source"] = pd.Series(np.nan, index=out.index, dtype="str")
    lead = [
        "study",
        "outcome",
        "month",
        "treatment_arm",
        "control_arm",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "source",
    ]
    return out[lead + [c for c in out.columns if c not in lead and c != "_row"] + ["_row"]]


def _normalise_published(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    if frame is None:
        return None
    out = frame.copy()
    parts = out["trials"].str.split(";").explode().str.strip()
    out["trials"] = parts[parts != ""].groupby(level=0).agg(";".join).reindex(out.index).astype("str")
    return out


# --------------------------------------------------------------------------- public


def read_dataset(path: str | Path) -> Dataset:
    """Read, validate and normalise a dataset folder.

    Parameters
    ----------
    path : str or Path
        Folder holding ``arms.csv`` and ``outcomes.csv`` and optionally ``studies.csv``,
        ``contrasts.csv``, ``published_pooled.csv`` and ``dataset.toml``.

    Returns
    -------
    Dataset
        Validated frames in the normalised form described in
        :mod:`bayes_msc.data.dataset`; ``simulated``, ``title`` and ``description`` from
        the folder's ``dataset.toml`` (:func:`~bayes_msc.data.metadata.read_metadata`:
        without one, a folder name containing ``simulated`` marks simulated data, with a
        warning in ``notes``).

    Raises
    ------
    InputError
        Listing every problem found in every file (file, spreadsheet row, column, what
        is wrong and what is allowed).
    """
    folder = Path(path)
    problem = folder_problem(folder)
    if problem == "does not exist":
        raise InputError(Problem(f"dataset folder '{path}' does not exist"))
    if problem and problem.startswith("is a file"):
        raise InputError(
            Problem(f"'{path}' is a file; a dataset folder (holding arms.csv and outcomes.csv) is expected")
        )
    if problem:
        raise InputError(Problem(f"dataset folder '{path}' {problem}"))
    problems: list[Problem] = []
    about = read_metadata(folder, problems)
    tables = {spec.name: _load(folder, spec, problems) for spec in SPECS}
    extra = rules.context_rules(tables)
    problems += _overlap_problems(tables[ARMS.name], tables[STUDIES.name])
    contrasts = tables[CONTRASTS.name]
    for spec in SPECS:
        t = tables[spec.name]
        if t is None:
            continue
        if spec is ARMS and t.frame.empty:
            problems.append(Problem("has no data rows; at least one arm is required", spec.name))
        if spec is OUTCOMES and t.frame.empty and (contrasts is None or contrasts.frame.empty):
            problems.append(
                Problem(
                    "has no data rows (and there are no contrasts); at least one outcome row is required", spec.name
                )
            )
        if t.frame.empty:
            continue
        # With a header to fix first, only the cells are judged: row rules would mislead.
        row_rules = t.cell_rules + (extra[spec.name] if t.header_ok else ())
        schema = sc.file_schema(spec, t.columns, row_rules, cells_only=not t.header_ok, numeric=t.numeric)
        problems += sc.check_frame(schema, t.frame, spec.name)
    arms_t, outcomes_t = tables[ARMS.name], tables[OUTCOMES.name]
    if problems or arms_t is None or outcomes_t is None:  # (a missing required file is a problem)
        order = {spec.name: i for i, spec in enumerate(SPECS)}
        problems.sort(key=lambda p: (order.get(p.file or "", -1), p.row or 0))
        raise InputError(problems)
    frames = {name: _final(t) if t is not None else None for name, t in tables.items()}
    arms = _normalise_arms(_final(arms_t), arms_t.numeric)
    return Dataset(
        path=folder.resolve(),
        arms=arms,
        outcomes=_normalise_outcomes(outcomes_t, _final(outcomes_t), arms),
        studies=frames[STUDIES.name],
        contrasts=_normalise_contrasts(frames[CONTRASTS.name]),
        published=_normalise_published(frames[PUBLISHED.name]),
        simulated=about.simulated,
        title=about.title,
        description=about.description,
        notes=about.notes,
    )


def covariate_columns(ds: Dataset) -> tuple[str, ...]:
    """Numeric arm-level and study-level columns usable as covariates.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    tuple of str
        The numeric columns of ``arms`` (derived ``female_pct`` and ``kl_grade_mean``
        included), then those of ``studies``, in file order. ``study``, ``arm``, ``role``,
        ``n`` and ``_row`` are not covariates; counts such as ``female`` or ``kl3`` are.
    """
    skip = {"study", "arm", "role", "n", "_row"}
    frames = [ds.arms] + ([ds.studies] if ds.studies is not None else [])
    return tuple(
        str(c) for f in frames for c, dtype in f.dtypes.items() if c not in skip and pd.api.types.is_float_dtype(dtype)
    )


def cell_summary(ds: Dataset) -> pd.DataFrame:
    """Which studies give data, and which declare it missing, in each outcome x month.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    DataFrame
        One row per outcome x month of outcomes.csv or contrasts.csv, sorted by outcome
        then month: ``outcome``, ``month`` (NaN: contrasts over a whole follow-up),
        ``n_studies`` and ``n_arms`` (with statistics), ``studies`` ('; '-joined),
        ``n_missing`` and ``missing`` (studies with a declared-missing row; a study may
        be in both lists when only some of its arms are missing), ``n_contrasts`` and
        ``contrasts`` (studies with a row in contrasts.csv).
    """
    # Plain dicts and sets: a handful of pandas group-bys cost more on tables of this size.
    cells: dict[tuple[str, float | None], tuple[set, list, set, set]] = {}
    out = ds.outcomes
    for outcome, month, study, group in zip(
        out["outcome"].tolist(),
        out["month"].astype(float).tolist(),
        out["study"].tolist(),
        out["stat_group"].tolist(),
        strict=True,
    ):
        if not (pd.isna(outcome) or pd.isna(month)):
            data, arms, missing, _ = cells.setdefault((outcome, month), (set(), [], set(), set()))
            if group == "missing":
                missing.add(study)
            else:
                data.add(study)
                arms.append(study)
    con = ds.contrasts if ds.contrasts is not None else pd.DataFrame(columns=["outcome", "month", "study"])
    for outcome, month, study in zip(
        con["outcome"].tolist(), con["month"].astype(float).tolist(), con["study"].tolist(), strict=True
    ):
        if not pd.isna(outcome):  # a contrast without a month covers a whole follow-up
            cells.setdefault((outcome, None if pd.isna(month) else month), (set(), [], set(), set()))[3].add(study)
    keys = sorted(cells, key=lambda k: (k[0], k[1] is None, k[1] or 0.0))

    def count(i: int) -> np.ndarray:
        return np.array([len({x for x in cells[k][i] if not pd.isna(x)}) for k in keys], dtype="int64")

    def join(i: int) -> pd.Series:
        return pd.Series(["; ".join(sorted(set(cells[k][i]))) for k in keys], dtype="str")

    return pd.DataFrame(
        {
            "outcome": pd.Series([k[0] for k in keys], dtype="str"),
            "month": np.array([np.nan if k[1] is None else k[1] for k in keys], dtype=float),
            "n_studies": count(0),
            "n_arms": np.array([len(cells[k][1]) for k in keys], dtype="int64"),
            "studies": join(0),
            "n_missing": count(2),
            "missing": join(2),
            "n_contrasts": count(3),
            "contrasts": join(3),
        }
    )

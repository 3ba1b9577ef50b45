"""``bayes-msc validate DATA``: check a dataset folder and summarise it.

Bad input raises :class:`~bayes_msc.errors.InputError` (the CLI prints every
problem and exits 2); a valid folder prints a short summary and returns 0.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bayes_msc.data.dataset import Dataset


def _month(value: float) -> str:
    """A month as a person writes it (3, 1.5); 'all' for a contrast over a whole follow-up."""
    return "all" if math.isnan(value) else format(float(value), "g")


def _plural(k: int, word: str) -> str:
    many = word[:-1] + "ies" if word.endswith("y") else word + "s"
    return f"{k} {word if k == 1 else many}"


def summary_lines(ds: Dataset) -> list[str]:
    """The summary ``validate`` prints for a valid dataset.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    list of str
        Lines: the dataset's name (with "[SIMULATED data]" when simulated), a warning
        per note of the dataset (``Dataset.notes``: how ``simulated`` was decided), studies,
        arms and patients, outcomes, months, covariates, files, and the grid of
        outcome x month cells with the studies that give data, declare it missing or
        report a contrast.
    """
    from bayes_msc.data.reader import cell_summary, covariate_columns

    arms = ds.arms
    lines = [f"Dataset {ds.name}" + ("  [SIMULATED data]" if ds.simulated else "") + ": valid"]
    lines += [f"  warning: {note}" for note in ds.notes]
    lines.append(
        f"  {_plural(arms['study'].nunique(), 'study')}, {_plural(len(arms), 'arm')}, "
        f"{int(arms['n'].sum())} patients (sum of n in arms.csv)"
    )
    cells = cell_summary(ds)
    outcomes = sorted(set(cells["outcome"]))
    months = sorted(set(cells["month"].dropna()))
    lines.append(f"  outcomes: {', '.join(outcomes) if outcomes else 'none'}")
    lines.append(
        f"  months: {', '.join(_month(m) for m in months) if months else 'none'}"
        + ("; and contrasts over a whole follow-up" if cells["month"].isna().any() else "")
    )
    covs = covariate_columns(ds)
    lines.append(f"  covariates: {', '.join(covs) if covs else 'none'}")
    optional = [(ds.studies, "studies.csv"), (ds.contrasts, "contrasts.csv"), (ds.published, "published_pooled.csv")]
    lines.append(
        "  files: arms.csv, outcomes.csv"
        + "".join(f", {name} ({_plural(len(df), 'row')})" for df, name in optional if df is not None)
    )
    width = max(len("outcome"), *(len(o) for o in cells["outcome"]))
    lines += [
        "",
        "Cells (outcome x month):",
        f"  {'outcome':<{width}}  {'month':>5}  {'data':<22}  declared missing / contrasts",
    ]
    for cell in cells.to_dict(orient="records"):
        n_studies, n_arms = int(cell["n_studies"]), int(cell["n_arms"])
        data = f"{_plural(n_studies, 'study')}, {_plural(n_arms, 'arm')}" if n_studies else "-"
        notes = []
        if cell["n_missing"]:
            notes.append(f"missing in {cell['n_missing']}: {cell['missing']}")
        if cell["n_contrasts"]:
            notes.append(f"contrasts from {cell['n_contrasts']}: {cell['contrasts']}")
        month = _month(float(cell["month"]))
        lines.append(f"  {cell['outcome']:<{width}}  {month:>5}  {data:<22}  {'; '.join(notes) or '-'}")
    lines += [
        "",
        "data: studies and arms with statistics; missing: studies whose rows declare a value "
        "that was measured but is unknown here (all statistics empty); contrasts: study-level "
        "differences in contrasts.csv"
        + ("; month 'all': over a whole follow-up" if cells["month"].isna().any() else "")
        + ".",
    ]
    return lines


def run(args: argparse.Namespace) -> int:
    """Validate the dataset folder ``args.data`` and print its summary.

    Parameters
    ----------
    args : argparse.Namespace
        With ``data``, the folder.

    Returns
    -------
    int
        0. Bad input raises :class:`~bayes_msc.errors.InputError` (every problem
        found), which the command line prints before exiting with status 2.
    """
    from bayes_msc.data.reader import read_dataset

    ds = read_dataset(args.data)
    print("\n".join(summary_lines(ds)))
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc validate`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("validate", help="check a dataset folder and summarise it")
    p.add_argument("data", metavar="DATA")
    p.set_defaults(run=run)

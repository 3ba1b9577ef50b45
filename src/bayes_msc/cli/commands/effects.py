"""``bayes-msc effects DATA --outcome O --month M [...] --format table|csv|json``.

Prints the effect-size table of one outcome at one month:

- ``json``: :meth:`EffectTable.to_dict` (DESIGN.md), deterministic;
- ``csv``: one row per comparison, parseable as it is: the options (``dataset``,
  ``simulated``, ``measure``, ``multiarm``, ``basis``, ``r``, ``rescale``) are columns, so
  simulated data are labelled in every row without a comment line;
- ``table``: a ``SIMULATED DATA`` banner when the dataset is simulated, the options, the
  comparisons, then what was left out and the notes.
"""

from __future__ import annotations

import argparse
import io
import sys
from typing import Any

from bayes_msc.cli.options import cell_options, effects_options

TABLE_COLUMNS: tuple[str, ...] = ("study", "comparison", "yi", "vi", "se", "n_treatment", "n_control", "source_kind")


def csv_text(table) -> str:
    """The table as CSV with the options as leading columns."""
    from bayes_msc.guard.csvcells import neutral_frame

    frame = table.to_frame()
    meta = {
        "dataset": table.dataset,
        "simulated": table.simulated,
        "measure": table.measure,
        "multiarm": table.multiarm,
        "basis": table.basis,
        "r": table.r,
        "rescale": table.rescale,
    }
    for i, (name, value) in enumerate(meta.items()):
        frame.insert(i, name, [value] * len(frame))
    buf = io.StringIO()
    # text that a spreadsheet would run as a formula gets a leading ' (numbers unchanged)
    neutral_frame(frame).to_csv(buf, index=False, float_format="%.10g", lineterminator="\n")
    return buf.getvalue()


def table_text(table) -> str:
    """Human-readable table: banner, options, comparisons, left out, notes."""
    import numpy as np

    lines = ["SIMULATED DATA"] if table.simulated else []
    lines.append(
        f"dataset: {table.dataset}  outcome: {table.outcome}  month: {table.month:g}  "
        f"measure: {table.measure}  multiarm: {table.multiarm}  basis: {table.basis}  "
        f"r: {table.r:g}  rescale: {'yes' if table.rescale else 'no'}"
    )
    lines.append(f"k = {table.k} comparison(s)")
    if table.k:
        frame = table.to_frame()
        frame["se"] = np.sqrt(frame["vi"].to_numpy(dtype=float))
        shown = frame[list(TABLE_COLUMNS)]
        lines.append(shown.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    if table.multiarm == "shared" and np.any(table.vcov[~np.eye(table.k, dtype=bool)] != 0):
        lines.append("covariances of comparisons sharing an arm are in the JSON output ('covariances')")
    for title, items in (("left out", table.missing), ("notes", table.notes)):
        if items:
            lines.append(f"{title}:")
            lines.extend(f"  - {item}" for item in items)
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Build the effect table for the command-line options and print it."""
    import pandas as pd

    from bayes_msc.data.effects import effect_table
    from bayes_msc.data.reader import read_dataset
    from bayes_msc.results.serialise import to_json

    dataset = read_dataset(args.data)
    table = effect_table(
        dataset,
        args.outcome,
        args.month,
        measure=args.measure,
        multiarm=args.multiarm,
        basis=args.basis,
        r=args.corr,
        rescale=not args.no_rescale,
    )
    if args.format == "json":
        text = to_json(table.to_dict())
    elif args.format == "csv":
        text = csv_text(table)
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            text = table_text(table)
    sys.stdout.write(text)
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc effects`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("effects", help="effect-size table (yi, vi) of one outcome and month")
    p.add_argument("data", metavar="DATA")
    cell_options(p)
    effects_options(p)
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(run=run)

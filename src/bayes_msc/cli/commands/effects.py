"""``bayes-msc effects DATA --outcome O --month M [...] --format table|csv|json``.

Prints the effect-size table of one outcome at one month (:func:`bayes_msc.effect_table`):

- ``table``: ``str(table)`` (what ``print(table)`` shows in Python): a ``SIMULATED DATA``
  banner when the dataset is simulated, the options, the comparisons, then what was left
  out and the notes;
- ``json``: :meth:`EffectTable.to_dict` (docs/FORMAT.md), deterministic;
- ``csv``: one row per comparison, parseable as it is: the options (``dataset``,
  ``simulated``, ``measure``, ``multiarm``, ``basis``, ``r``, ``rescale``) are columns, so
  simulated data are labelled in every row without a comment line.
"""

from __future__ import annotations

import argparse
import io
import sys
from typing import Any

from bayes_msc.cli.options import cell_options, data_argument, effects_options, format_option


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


def run(args: argparse.Namespace) -> int:
    """Build the effect table for the command-line options and print it."""
    from bayes_msc.cli.commands.pool import load_effects
    from bayes_msc.results.serialise import to_json

    table = load_effects(args)
    if args.format == "json":
        text = to_json(table.to_dict())
    elif args.format == "csv":
        text = csv_text(table)
    else:
        text = str(table)
    sys.stdout.write(text)
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc effects`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("effects", help="effect-size table (yi, vi) of one outcome and month (metafor escalc)")
    data_argument(p)
    cell_options(p)
    effects_options(p)
    format_option(p, ("table", "csv", "json"))
    p.set_defaults(run=run)

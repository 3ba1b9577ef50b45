"""``bayes-msc validate DATA [--format table|json]``: check a dataset folder and summarise it.

Bad input raises :class:`~bayes_msc.errors.InputError` (the CLI prints every problem and
exits 2); a valid folder prints ``str(dataset)`` (what ``print(bm.read_dataset(DATA))``
shows) or its JSON (:meth:`bayes_msc.data.dataset.Dataset.to_dict`, docs/FORMAT.md) and
returns 0.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bayes_msc.cli.options import data_argument, format_option


def run(args: argparse.Namespace) -> int:
    """Validate the dataset folder ``args.data`` and print its summary; return 0."""
    import bayes_msc as bm
    from bayes_msc.results.serialise import to_json

    ds = bm.read_dataset(args.data)
    sys.stdout.write(to_json(ds.to_dict()) if args.format == "json" else str(ds))
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc validate`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("validate", help="check a dataset folder and summarise it")
    data_argument(p)
    format_option(p)
    p.set_defaults(run=run)

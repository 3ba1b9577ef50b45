"""``bayes-msc subgroup``: pooled effect per level of a column and the test for subgroup
differences (:func:`bayes_msc.subgroup`); prints ``str(result)`` or the JSON of
docs/FORMAT.md."""

from __future__ import annotations

import argparse
from typing import Any

from bayes_msc.cli.commands.pool import load_effects
from bayes_msc.cli.options import cell_options, data_argument, effects_options, format_option, frequentist_options


def run(args: argparse.Namespace) -> int:
    """Run ``bayes-msc subgroup``; print the result; return the exit status."""
    import bayes_msc as bm
    from bayes_msc.results.serialise import to_json

    res = bm.subgroup(
        load_effects(args),
        args.by,
        reference=args.reference,
        method=args.method,
        tau2=args.tau2,
        hksj=args.hksj,
        level=args.level,
    )
    print(to_json(res.to_dict()) if args.format == "json" else str(res), end="")
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc subgroup`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("subgroup", help="pooled effect per level of a column, test for subgroup differences")
    data_argument(p)
    cell_options(p)
    effects_options(p)
    p.add_argument(
        "--by",
        required=True,
        metavar="COLUMN",
        help="column whose levels form the subgroups (a text column of arms.csv or studies.csv, e.g. control_type)",
    )
    p.add_argument(
        "--reference", metavar="LEVEL", help="level the differences are taken from (default: the first, sorted)"
    )
    p.add_argument(
        "--tau2",
        choices=["separate", "common"],
        default="separate",
        help="tau^2 estimated within each level (default; Q between the level estimates) or one common "
        "tau^2 (the factor meta-regression; Q between = its QM)",
    )
    frequentist_options(p, default="dl")
    format_option(p)
    p.set_defaults(run=run)

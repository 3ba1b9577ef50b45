"""``bayes-msc metareg``: frequentist meta-regression of one outcome at one month.

Covariate terms are column names or transforms (``log10(dose_million)``), resolved by
``EffectTable.design``; comparisons without a value for every term are dropped and listed
in the output (``excluded``). Prints ``str(result)`` (:func:`bayes_msc.metareg`) or the
JSON of docs/FORMAT.md.
"""

from __future__ import annotations

import argparse
from typing import Any

from bayes_msc.cli.commands.pool import load_effects
from bayes_msc.cli.options import cell_options, data_argument, effects_options, format_option, frequentist_options


def run(args: argparse.Namespace) -> int:
    """Run ``bayes-msc metareg``; print the result; return the exit status."""
    import bayes_msc as bm
    from bayes_msc.results.serialise import to_json

    res = bm.metareg(load_effects(args), list(args.covariate), method=args.method, hksj=args.hksj, level=args.level)
    print(to_json(res.to_dict()) if args.format == "json" else str(res), end="")
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc metareg`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("metareg", help="frequentist meta-regression (metafor rma with mods)")
    data_argument(p)
    cell_options(p)
    effects_options(p)
    p.add_argument(
        "--covariate",
        action="append",
        required=True,
        metavar="NAME",
        help="covariate column, or a transform such as log10(dose_million); repeatable",
    )
    frequentist_options(p, default="reml")
    format_option(p)
    p.set_defaults(run=run)

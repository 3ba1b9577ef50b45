"""``bayes-msc compare-priors``: one model under several prior sets, side by side.

Fits the model once per ``--prior`` (default: every bundled set and every set of
``--priors``) with the same data, options and seed (:func:`bayes_msc.compare_priors`)
and prints ``str(comparison)`` (one row per prior set: mu, tau, the predictive interval,
the probabilities, the verdict and the power-scaling sensitivity of mu and tau), or the
JSON of docs/FORMAT.md. ``--strict``: exit 3 when any fit fails its diagnostics.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bayes_msc.cli.commands.fit import EXIT_DIAGNOSTICS, load_data, progress_label, sampler_options
from bayes_msc.cli.options import bayes_options, cell_options, data_argument, effects_options, format_option


def run(args: argparse.Namespace) -> int:
    """Compare the prior sets the options name and print the table or JSON."""
    import bayes_msc as bm
    from bayes_msc.cli.progress import wanted, working
    from bayes_msc.results.serialise import to_json

    data = load_data(args)
    with working(progress_label("compare-priors", args), wanted(args.no_progress)):
        comparison = bm.compare_priors(data, priors=list(args.prior) or None, **sampler_options(args))
    sys.stdout.write(to_json(comparison.to_dict()) if args.format == "json" else str(comparison))
    failed = [r.prior for r in comparison.results if not r.verdict.passed]
    if args.strict and failed:
        print(f"bayes-msc compare-priors: diagnostics failed for prior set(s): {', '.join(failed)}", file=sys.stderr)
        return EXIT_DIAGNOSTICS
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc compare-priors`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("compare-priors", help="fit several prior sets side by side, with prior sensitivity")
    data_argument(p)
    cell_options(p)
    effects_options(p)
    p.add_argument(
        "--prior",
        action="append",
        default=[],
        metavar="NAME",
        help="prior-set name; repeatable (default: every bundled set and every set of --priors)",
    )
    format_option(p)
    bayes_options(p)
    p.set_defaults(run=run)

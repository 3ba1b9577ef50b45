"""``bayes-msc bias``, ``bayes-msc influence`` and ``bayes-msc cumulative``: metafor's
small-study tests and trim and fill, influence diagnostics, cumulative meta-analysis.

Each verb builds the effect table, pools it with ``--method`` (metafor's methods on an
``rma`` object), calls the Python API and prints ``str(result)`` or the result's JSON.
"""

from __future__ import annotations

import argparse
from typing import Any

from bayes_msc.cli.options import cell_options, data_argument, effects_options, format_option


def _pool(args: argparse.Namespace) -> Any:
    import bayes_msc as bm
    from bayes_msc.cli.commands.pool import load_effects

    table = load_effects(args)
    res = bm.pool(table, method=args.method, hksj=args.hksj)
    # a pooled result keeps no shared-arm covariance: hand the table on, for its message
    return table, table if res.shared_covariance else res


def _print(results: dict[str, Any], fmt: str) -> None:
    from bayes_msc.results.serialise import to_json

    if fmt == "json":
        out = {name: r.to_dict() for name, r in results.items()}
        print(to_json(out if len(out) > 1 else next(iter(out.values()))), end="")
    else:
        print("\n".join(str(r) for r in results.values()), end="")


def run_bias(args: argparse.Namespace) -> int:
    """Egger's regression test, Begg's rank test and trim and fill of one cell."""
    import bayes_msc as bm

    table, res = _pool(args)
    x = table if args.predictor not in ("sei", "vi") else res
    results: dict[str, Any] = {
        "regtest": bm.regtest(x, model=args.model, predictor=args.predictor, method=args.method),
        "ranktest": bm.ranktest(res),
        "trimfill": bm.trimfill(res, estimator=args.estimator, side=args.side),
    }
    _print(results, args.format)
    return 0


def run_influence(args: argparse.Namespace) -> int:
    """Influence diagnostics of one cell (and the leave-one-out table when asked)."""
    import bayes_msc as bm

    table, res = _pool(args)
    results: dict[str, Any] = {"influence": bm.influence(res)}
    if args.leave_one_out:
        results["leave1out"] = bm.leave1out(table, method=args.method, hksj=args.hksj)
    if args.format != "json" and "leave1out" in results:
        print(str(results["influence"]) + "\n" + str(results["leave1out"]), end="")
        return 0
    _print(results, args.format)
    return 0


def run_cumulative(args: argparse.Namespace) -> int:
    """Cumulative meta-analysis of one cell, ordered by a column."""
    import bayes_msc as bm

    table, _ = _pool(args)
    order = None if args.order == "table" else args.order
    res = bm.cumulative(table, order=order, method=args.method, hksj=args.hksj, decreasing=args.decreasing)
    _print({"cumulative": res}, args.format)
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    data_argument(p)
    cell_options(p)
    effects_options(p)
    p.add_argument(
        "--method",
        choices=["fe", "dl", "reml", "pm", "ml", "he", "sj", "eb"],
        default="dl",
        help="tau^2 estimator of the pooled model (default dl)",
    )
    p.add_argument("--hksj", action="store_true", help="Knapp-Hartung (HKSJ) tests")
    format_option(p)


def add_parser(sub: Any) -> None:
    """Add ``bias``, ``influence`` and ``cumulative`` to the subcommands ``sub``."""
    p = sub.add_parser(
        "bias",
        help="small-study effects: Egger's regression test, Begg's rank test, trim and fill",
        description="Funnel plot asymmetry tests (metafor regtest, ranktest) and trim and fill (trimfill). "
        "With fewer than 10 comparisons the tests have low power (Cochrane Handbook 13.3.5.4); "
        "the output says so.",
    )
    _common(p)
    p.add_argument("--model", choices=["rma", "lm"], default="rma", help="regtest model (default rma)")
    p.add_argument(
        "--predictor",
        choices=["sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv"],
        default="sei",
        help="regtest predictor (default sei)",
    )
    p.add_argument("--estimator", choices=["L0", "R0"], default="L0", help="trim and fill estimator (default L0)")
    p.add_argument(
        "--side", choices=["left", "right"], default=None, help="side of the missing studies (default: metafor's rule)"
    )
    p.set_defaults(run=run_bias)

    p = sub.add_parser("influence", help="influence diagnostics (metafor influence) and leave-one-out")
    _common(p)
    p.add_argument("--leave-one-out", action="store_true", help="add the leave-one-out table")
    p.set_defaults(run=run_influence)

    p = sub.add_parser("cumulative", help="cumulative meta-analysis (metafor cumul)")
    _common(p)
    p.add_argument(
        "--order",
        default="year",
        metavar="COLUMN",
        help="column to order the comparisons by (default year; 'table': the table's order)",
    )
    p.add_argument("--decreasing", action="store_true", help="order from the largest value")
    p.set_defaults(run=run_cumulative)

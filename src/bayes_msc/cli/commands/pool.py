"""``bayes-msc pool``: frequentist pooling of one outcome at one month (metafor-like print).

Builds the effect-size table (:func:`bayes_msc.effect_table`), pools it
(:func:`bayes_msc.pool`; the comparisons' covariance used with ``--multiarm shared``),
optionally adds the leave-one-out table (:func:`bayes_msc.leave1out`), and prints
``str(result)`` (what ``print(result)`` shows in Python) or the JSON of docs/FORMAT.md.
"""

from __future__ import annotations

import argparse
from typing import Any

from bayes_msc.cli.options import cell_options, data_argument, effects_options, format_option, frequentist_options


def load_effects(args: argparse.Namespace) -> Any:
    """The effect table of ``args.outcome`` at ``args.month`` (:func:`bayes_msc.effect_table`)."""
    import bayes_msc as bm

    return bm.effect_table(
        args.data,
        args.outcome,
        args.month,
        measure=args.measure,
        multiarm=args.multiarm,
        basis=args.basis,
        r=args.corr,
        rescale=not args.no_rescale,
        conversion=args.conversion,
    )


def run(args: argparse.Namespace) -> int:
    """Run ``bayes-msc pool``; print the result; return the exit status."""
    import bayes_msc as bm
    from bayes_msc.results.serialise import to_json

    table = load_effects(args)
    res = bm.pool(table, method=args.method, hksj=args.hksj, level=args.level, pi=args.pi)
    loo = bm.leave1out(table, method=args.method, hksj=args.hksj, level=args.level) if args.leave_one_out else None
    ci = bm.confint(table if res.shared_covariance else res) if args.confint else None
    if args.format == "json":
        out = res.to_dict()
        if loo is not None:
            out["leave_one_out"] = loo.to_dict()["rows"]
        if ci is not None:  # metafor's confint(rma): tau2_ci_low, ..., h2_ci_high, confint_type
            out |= {k: v for k, v in ci.to_dict().items() if k.endswith(("_ci_low", "_ci_high"))}
            out |= {"confint_type": ci.type, "confint_null": ci.ci_null}
        print(to_json(out), end="")
    else:
        text = str(res) + ("" if loo is None else "\n" + str(loo)) + ("" if ci is None else "\n" + str(ci))
        print(text, end="")
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc pool`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("pool", help="frequentist pooling (metafor rma): FE, DL, REML, PM, ML, HE, SJ, EB")
    data_argument(p)
    cell_options(p)
    effects_options(p)
    frequentist_options(p, default="dl")
    p.add_argument(
        "--pi",
        choices=["z", "t"],
        default="z",
        help="prediction interval: z (metafor's default; t with the test's df under --hksj) "
        "or t (Higgins/IntHout: k-2 df, at least 1)",
    )
    p.add_argument("--leave-one-out", action="store_true", help="add the leave-one-out table (metafor leave1out)")
    p.add_argument(
        "--confint",
        action="store_true",
        help="Q-profile confidence intervals of tau^2, tau, I^2, H^2 (metafor confint; random effects only)",
    )
    format_option(p)
    p.set_defaults(run=run)

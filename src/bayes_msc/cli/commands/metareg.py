"""``bayes-msc metareg``: frequentist meta-regression of one outcome at one month.

Covariate terms are column names or transforms (``log10(dose_million)``), resolved by
``EffectTable.design``; comparisons without a value for every term are dropped and listed
in the output (``excluded``).
"""

from __future__ import annotations

import argparse
from typing import Any

from bayes_msc.cli.commands.pool import (
    excluded,
    grid,
    heading,
    heterogeneity,
    load_effects,
    num,
    p_eq,
    pval,
)
from bayes_msc.cli.options import cell_options, effects_options


def format_metareg(res) -> str:
    """A readable, metafor-like print of a :class:`MetaRegResult`."""
    import numpy as np

    model = "Fixed-effects with moderators model" if res.method == "fe" else "Mixed-effects model"
    est = f"; tau^2 estimator: {res.method.upper()}" if res.method != "fe" else ""
    lines = heading(res) + [f"{model} (k = {res.k}{est})", ""] + heterogeneity(res, residual=True)
    if np.isfinite(res.r2):
        what = "heterogeneity accounted for" if res.method != "fe" else "weighted adjusted R^2"
        lines.append(f"R^2 ({what}): {res.r2:.2f}%")
    lines += ["", "Test for residual heterogeneity:", f"QE(df = {res.qe_df}) = {num(res.qe)}, {p_eq(res.qe_p)}", ""]
    q = len(res.names)
    coefs = f"coefficient{'s' if q > 1 else ''} {'2' if q == 1 else f'2:{q + 1}'}"
    if res.test == "t":
        lines.append(f"Test of moderators ({coefs}):")
        lines.append(f"F(df1 = {res.qm_df[0]}, df2 = {res.qm_df[1]:g}) = {num(res.qm)}, {p_eq(res.qm_p)}")
    else:
        lines.append(f"Test of moderators ({coefs}):")
        lines.append(f"QM(df = {res.qm_df[0]}) = {num(res.qm)}, {p_eq(res.qm_p)}")
    stat = "tval" if res.test == "t" else "zval"
    test = (
        f"Knapp-Hartung t test, df = {res.df:g}" + (", scale factor truncated at 1" if res.hksj_truncate else "")
        if res.test == "t"
        else "z test"
    )
    lines += ["", f"Model results ({test}; {100 * res.level:g}% CI; slopes per unit of each term):", ""]
    lines += grid(
        ["", "estimate", "se", stat, "pval", "ci.lb", "ci.ub"],
        [
            [c.name, num(c.estimate), num(c.se), num(c.z), pval(c.p), num(c.ci_low), num(c.ci_high)]
            for c in res.coefficients
        ],
    )
    lines += ["", "Comparisons:"]
    lines += grid(
        ["comparison", "yi", "se"] + list(res.names),
        [
            [lab, num(y), num(np.sqrt(v))] + [f"{xv:g}" for xv in row]
            for lab, y, v, row in zip(res.labels, res.yi, res.vi, res.x, strict=False)
        ],
    )
    lines += excluded(res)
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Run ``bayes-msc metareg``; print the result; return the exit status."""
    import bayes_msc as bm
    from bayes_msc.results.serialise import to_json

    res = bm.metareg(load_effects(args), list(args.covariate), method=args.method, hksj=args.hksj)
    if args.format == "json":
        print(to_json(res.to_dict()), end="")
    else:
        print(format_metareg(res), end="")
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc metareg`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("metareg", help="frequentist meta-regression")
    p.add_argument("data", metavar="DATA")
    cell_options(p)
    effects_options(p)
    p.add_argument(
        "--covariate",
        action="append",
        required=True,
        metavar="NAME",
        help="covariate column, or a transform such as log10(dose_million); repeatable",
    )
    p.add_argument("--method", choices=["dl", "reml", "fe"], default="reml")
    p.add_argument("--hksj", action="store_true")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(run=run)

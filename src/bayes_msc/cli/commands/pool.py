"""``bayes-msc pool``: frequentist pooling of one outcome at one month (metafor-like print).

Builds the effect-size table (:func:`bayes_msc.data.effects.effect_table`), pools it with
:func:`bayes_msc.frequentist.rma.rma` (shared-arm covariance used when
``--multiarm shared``), optionally adds the leave-one-out table, and prints a table or
the JSON of DESIGN.md. The helpers here are shared with ``bayes-msc metareg``.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from bayes_msc.cli.options import cell_options, effects_options

METHOD_NAMES = {
    "fe": "fixed effect (inverse variance)",
    "dl": "DerSimonian-Laird",
    "reml": "REML",
    "pm": "Paule-Mandel",
    "ml": "ML",
    "he": "Hedges",
    "sj": "Sidik-Jonkman",
    "eb": "empirical Bayes",
}


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
    )


def num(x: float, digits: int = 4) -> str:
    """metafor-style number: fixed decimals, ``NA`` for a missing value."""
    if x is None or not math.isfinite(float(x)):
        return "NA"
    return f"{float(x):.{digits}f}"


def pval(p: float) -> str:
    """metafor-style p-value: ``<.0001`` below 1e-4."""
    if p is None or not math.isfinite(float(p)):
        return "NA"
    return "<.0001" if p < 1e-4 else f"{p:.4f}"


def p_eq(p: float) -> str:
    """``p-val = 0.0123`` or ``p-val < .0001`` (metafor's wording)."""
    text = pval(p)
    return f"p-val {text[0]} {text[1:]}" if text.startswith("<") else f"p-val = {text}"


def grid(header: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    """Right-aligned columns (the first ``left`` left-aligned) separated by two spaces."""
    widths = [max(len(str(r[j])) for r in [header] + rows) for j in range(len(header))]
    out = []
    for r in [header] + rows:
        cells = [
            str(c).ljust(w) if j < left else str(c).rjust(w) for j, (c, w) in enumerate(zip(r, widths, strict=False))
        ]
        out.append("  ".join(cells).rstrip())
    return out


def heading(res) -> list[str]:
    """Simulated-data mark, dataset/outcome line and the paper's rule, if any."""
    lines = []
    if res.simulated:
        lines += [f"*** SIMULATED DATA (dataset {res.dataset}) ***", ""]
    if res.outcome is not None:
        month = f"{res.month:g}" if res.month is not None else "?"
        lines.append(
            f"Dataset: {res.dataset}; outcome: {res.outcome}, month {month}; measure: "
            f"{(res.measure or '').upper()}; multi-arm trials: {res.multiarm}"
            + ("; shared-arm covariance used" if res.shared_covariance else "")
        )
    if res.chosen_by == "paper":
        lines.append(f"Method chosen by the paper's rule (Qu & Sun 2021): {res.why}")
    return lines + ([""] if lines else [])


def heterogeneity(res, residual: bool = False) -> list[str]:
    """metafor's tau^2 / tau / I^2 / H^2 block (nothing for a fixed-effect model's tau)."""
    what = "residual" if residual else "total"
    lines = []
    if res.method != "fe":
        lines += [
            (f"tau^2 (estimated amount of {what} heterogeneity): {num(res.tau2)} (SE = {num(res.se_tau2)})"),
            f"tau (square root of estimated tau^2 value): {num(res.tau)}",
        ]
    i2_what = (
        "residual heterogeneity / unaccounted variability" if residual else "total heterogeneity / total variability"
    )
    lines += [
        f"I^2 ({i2_what}): {res.i2:.2f}%",
        (f"H^2 ({'unaccounted' if residual else 'total'} variability / sampling variability): {res.h2:.2f}"),
    ]
    return lines


def excluded(res) -> list[str]:
    """Estimation notes and the comparisons that could not enter."""
    lines = []
    if res.notes:
        lines += ["", "Notes:"] + [f"  - {line}" for line in res.notes]
    if res.excluded:
        lines += ["", "Not included:"] + [f"  - {line}" for line in res.excluded]
    return lines


def format_pool(res, loo=None) -> str:
    """A readable, metafor-like print of a :class:`PoolResult` (and leave-one-out table)."""
    import numpy as np

    model = "Fixed-effect model" if res.method == "fe" else "Random-effects model"
    est = f"; tau^2 estimator: {res.method.upper()}" if res.method != "fe" else ""
    lines = (
        heading(res)
        + [f"{model} (k = {res.k}{est})", ""]
        + heterogeneity(res)
        + ["", "Test for heterogeneity:", f"Q(df = {res.q_df}) = {num(res.q)}, {p_eq(res.q_p)}", ""]
    )
    stat = "tval" if res.test == "t" else "zval"
    test = (
        f"Knapp-Hartung t test, df = {res.df:g}" + (", scale factor truncated at 1" if res.hksj_truncate else "")
        if res.test == "t"
        else "z test"
    )
    lines += [f"Model results ({test}; {100 * res.level:g}% CI):", ""]
    lines += grid(
        ["estimate", "se", stat, "pval", "ci.lb", "ci.ub"],
        [[num(res.estimate), num(res.se), num(res.z), pval(res.p), num(res.ci_low), num(res.ci_high)]],
        left=0,
    )
    if res.method != "fe":
        kind = f"t, df = {res.pi_df:g}" if math.isfinite(res.pi_df) else "normal quantile"
        lines += ["", (f"{100 * res.level:g}% prediction interval: [{num(res.pi_low)}, {num(res.pi_high)}] ({kind})")]
    lines += ["", "Comparisons:"]
    lines += grid(
        ["comparison", "yi", "se", "weight %"],
        [
            [lab, num(y), num(np.sqrt(v)), f"{w:.2f}"]
            for lab, y, v, w in zip(res.labels, res.yi, res.vi, res.weights, strict=False)
        ],
    )
    if loo is not None:
        rule = "the paper's rule" if loo.method == "paper" else loo.method.upper()
        lines += ["", f"Leave-one-out ({rule}; {stat}):"]
        lines += grid(
            ["left out", "method", "estimate", "se", "pval", "ci.lb", "ci.ub", "tau2", "I2 %", "Q", "Q pval"],
            [
                [
                    r.left_out,
                    r.method,
                    num(r.estimate),
                    num(r.se),
                    pval(r.p),
                    num(r.ci_low),
                    num(r.ci_high),
                    num(r.tau2),
                    f"{r.i2:.2f}",
                    num(r.q),
                    pval(r.q_p),
                ]
                for r in loo.rows
            ],
        )
    lines += excluded(res)
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Run ``bayes-msc pool``; print the result; return the exit status."""
    import bayes_msc as bm
    from bayes_msc.results.serialise import to_json

    table = load_effects(args)
    res = bm.pool(table, method=args.method, hksj=args.hksj, pi=args.pi)
    loo = bm.leave1out(table, method=args.method, hksj=args.hksj) if args.leave_one_out else None
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
        print(format_pool(res, loo) + ("" if ci is None else "\n" + str(ci)), end="")
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc pool`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("pool", help="frequentist random-effects pooling")
    p.add_argument("data", metavar="DATA")
    cell_options(p)
    effects_options(p)
    p.add_argument(
        "--method",
        choices=["fe", "dl", "reml", "pm", "paper"],
        default="dl",
        help="fe, dl (default), reml, pm; 'paper' = RE(DL) if I2 > 50%% or P_Q < 0.1, else FE",
    )
    p.add_argument("--hksj", action="store_true", help="Knapp-Hartung (HKSJ) adjustment")
    p.add_argument("--pi", choices=["z", "t"], default="z", help="prediction interval: z (metafor) or t with k-2 df")
    p.add_argument("--leave-one-out", action="store_true", help="add the leave-one-out table")
    p.add_argument(
        "--confint",
        action="store_true",
        help="Q-profile confidence intervals of tau^2, tau, I^2, H^2 (metafor confint; random effects only)",
    )
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(run=run)

"""``bayes-msc compare-priors``: one model under several prior sets, side by side.

Fits the model once per ``--prior`` (default: every set of ``--priors`` or of the bundled
file) with the same data, options and seed
(:func:`bayes_msc.bayes.compare.compare_priors`) and prints one row per prior
set (mu, tau, the predictive interval, the probabilities, the verdict and the
power-scaling sensitivity of mu and tau), or the JSON
(:meth:`bayes_msc.results.comparison.PriorComparison.to_dict`). ``--strict``: exit 3
when any fit fails its diagnostics.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bayes_msc.cli.commands.fit import EXIT_DIAGNOSTICS, banner, ci_prob, fmt, grid, load_data
from bayes_msc.cli.options import bayes_options, cell_options, covariate_options, effects_options


def table_text(comparison: Any) -> str:
    """The human-readable comparison table."""
    c = comparison
    lines = banner(c.simulated, c.dataset)
    first = c.results[0]
    lines.append(
        f"Model '{c.model}' under {len(c.results)} prior set(s); dataset: {c.dataset}; outcome: "
        f"{c.outcome}, month {c.month:g}; k = {first.k}"
        + (f"; covariates: {', '.join(c.covariates)}" if c.covariates else "")
    )
    lines.append(
        f"Intervals: {100 * c.ci_prob:g}% equal-tailed; sensitivity: power-scaling "
        "(prior / likelihood; > 0.05 is influential)"
    )
    lines += [f"*** {w} ***" for w in first.verdict.warnings if w.startswith("1 study")]
    lines.append(f"mu: {first.mu_meaning()}")
    lines.append("")
    s = c.summary()
    mu = s["term"].iat[0]
    head = [
        "prior",
        f"{mu} median",
        f"{mu} interval",
        "tau median",
        "tau interval",
        "theta_new interval",
        f"P({mu} < 0)",
    ]
    if c.mcid_key is not None:
        head.append(c.mcid_key)
    head += ["sens. mu", "sens. tau", "verdict"]
    rows = []
    for _, r in s.iterrows():
        row = [
            r["prior"],
            fmt(r["mu_median"]),
            f"[{fmt(r['lower'])}, {fmt(r['upper'])}]",
            fmt(r["tau_median"]),
            f"[{fmt(r['tau_lower'])}, {fmt(r['tau_upper'])}]",
            f"[{fmt(r['theta_new_lower'])}, {fmt(r['theta_new_upper'])}]",
            fmt(r["p_mu_below_0"]),
        ]
        if c.mcid_key is not None:
            row.append(fmt(r["p_mcid"]))
        row += [
            f"{fmt(r['mu_prior'], 3)} / {fmt(r['mu_likelihood'], 3)}",
            f"{fmt(r['tau_prior'], 3)} / {fmt(r['tau_likelihood'], 3)}",
            r["verdict"],
        ]
        rows.append(row)
    lines += grid(head, rows)
    flagged = [
        f"{r['prior']}: {k} {r[f'{k}_diagnosis']}"
        for _, r in s.iterrows()
        for k in ("mu", "tau")
        if r[f"{k}_diagnosis"] not in ("ok",)
    ]
    if flagged:
        lines += ["", "Sensitivity diagnoses:"] + [f"  - {f}" for f in flagged]
    warned = [w for r in c.results for w in r.verdict.warnings if not w.startswith("1 study")]
    if warned:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in warned]
    notes = list(dict.fromkeys(n for r in c.results for n in r.notes))
    if notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in notes]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Compare the prior sets the options name and print the table or JSON."""
    from bayes_msc.bayes.compare import compare_priors
    from bayes_msc.results.serialise import to_json

    data = load_data(args)
    comparison = compare_priors(
        data,
        priors=list(args.prior) or None,
        model=args.model,
        covariates=tuple(args.covariate),
        covariate_at=dict(args.covariate_at) or None,
        priors_path=args.priors,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=args.seed,
        ci_prob=ci_prob(args),
        mcid=args.mcid,
        engine=args.engine,
    )
    sys.stdout.write(to_json(comparison.to_dict()) if args.format == "json" else table_text(comparison))
    failed = [r.prior for r in comparison.results if not r.verdict.passed]
    if args.strict and failed:
        print(f"bayes-msc compare-priors: diagnostics failed for prior set(s): {', '.join(failed)}", file=sys.stderr)
        return EXIT_DIAGNOSTICS
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc compare-priors`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("compare-priors", help="fit several prior sets side by side")
    p.add_argument("data", metavar="DATA")
    cell_options(p)
    effects_options(p)
    p.add_argument("--model", choices=["re", "arm"], default="re")
    p.add_argument("--prior", action="append", default=[], metavar="NAME", help="prior-set name (default: all)")
    covariate_options(p)
    p.add_argument(
        "--engine",
        choices=["auto", "mcmc", "exact"],
        default="auto",
        help="auto (default): exact quadrature where it gives the posterior, else MCMC",
    )
    p.add_argument("--format", choices=["table", "json"], default="table")
    bayes_options(p)
    p.set_defaults(run=run)

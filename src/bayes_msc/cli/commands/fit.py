"""``bayes-msc fit``: one Bayesian random-effects model of one outcome at one month.

Builds the effect table (model ``re``) or the arm table (model ``arm``), fits it
(:func:`bayes_msc.bayes.fit.fit`) and prints a table (posterior summary, the
probabilities, the diagnostics verdict, the shrunken study effects, the notes) or
DESIGN.md's ``fit`` JSON. ``--save`` writes the posterior (netCDF) atomically;
``--strict`` makes a failed diagnostics verdict exit with status 3 (after printing).
The helpers here are shared with ``bayes-msc compare-priors``.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from bayes_msc.cli.options import bayes_options, cell_options, effects_options

EXIT_DIAGNOSTICS = 3
_COLUMNS = ("mean", "sd", "median", "eti_low", "eti_high", "hdi_low", "hdi_high", "ess_bulk", "ess_tail", "r_hat")


def load_data(args: argparse.Namespace) -> Any:
    """The effect table (``--model re``) or arm table (``--model arm``) the options ask for."""
    from bayes_msc.data.effects import arm_table, effect_table
    from bayes_msc.data.reader import read_dataset
    from bayes_msc.errors import InputError, Problem

    dataset = read_dataset(args.data)
    if args.model == "arm":
        if args.measure != "md":
            raise InputError(
                Problem(
                    "the arm model works on the outcome's own scale: --measure smd applies to the 're' model only",
                    argument="measure",
                )
            )
        return arm_table(dataset, args.outcome, args.month, basis=args.basis, r=args.corr, rescale=not args.no_rescale)
    return effect_table(
        dataset,
        args.outcome,
        args.month,
        measure=args.measure,
        multiarm=args.multiarm,
        basis=args.basis,
        r=args.corr,
        rescale=not args.no_rescale,
    )


def ci_prob(args: argparse.Namespace) -> float:
    from bayes_msc.results.layout import CI_LEVEL

    return CI_LEVEL if args.ci_prob is None else args.ci_prob


def fmt(x: Any, digits: int = 4) -> str:
    """A number for a table: 4 significant decimals, ``NA`` when missing."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "NA"
    if isinstance(x, str):
        return x
    return f"{float(x):.{digits}g}" if abs(float(x)) >= 1e4 else f"{float(x):.{digits}f}"


def grid(header: list[str], rows: list[list[str]]) -> list[str]:
    """Columns separated by two spaces: the first left-aligned, the others right-aligned."""
    widths = [max(len(r[j]) for r in [header] + rows) for j in range(len(header))]

    def line(r: list[str]) -> str:
        cells = (c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths, strict=True)))
        return "  ".join(cells).rstrip()

    return [line(r) for r in [header] + rows]


def banner(simulated: bool, dataset: str | None) -> list[str]:
    return [f"*** SIMULATED DATA (dataset {dataset}) ***", ""] if simulated else []


def table_text(result: Any) -> str:
    """The human-readable report of one fit."""
    r = result
    lines = banner(r.simulated, r.dataset)
    how = f"engine {r.engine}" + (f", parameterisation {r.parameterisation}" if r.parameterisation else "")
    lines.append(f"Bayesian random-effects model '{r.model}', prior set '{r.prior}', {how}")
    lines.append(
        f"Dataset: {r.dataset}; outcome: {r.outcome}, month {r.month:g}; measure: {r.measure.upper()}; "
        f"multi-arm trials: {r.multiarm}; k = {r.k}"
    )
    if r.engine == "mcmc":
        lines.append(f"Draws: {r.chains} chains x {r.draws}, seed {r.seed}; divergences: {r.divergences}")
    lines.append(f"Intervals: {100 * r.ci_prob:g}% equal-tailed (eti) and highest-density (hdi)")
    lines.append("")
    rows = [
        [str(name)]
        + [
            fmt(row[c], 3 if c == "r_hat" else 4) if c not in ("ess_bulk", "ess_tail") else fmt(row[c], 0)
            for c in _COLUMNS
        ]
        for name, row in r.parameters.iterrows()
    ]
    lines += grid(["term", *_COLUMNS], rows)
    lines.append("")
    lines += [f"{k} = {v:.4f}" for k, v in r.probabilities.items()]
    v = r.verdict
    lines.append("")
    lines.append(
        f"Diagnostics: {v}"
        + ("" if r.engine != "mcmc" else f" (R-hat <= {v.r_hat_max:g}, ESS_bulk >= {v.ess_min:g}, no divergences)")
    )
    if r.study_effects is not None:
        se = r.study_effects
        lines += ["", "Study effects (shrunken):"]
        rows = [
            [f"{s}: {c}", fmt(y), fmt(e), fmt(m), fmt(d), fmt(lo), fmt(hi)]
            for s, c, y, e, m, d, lo, hi in zip(
                se["study"],
                se["comparison"],
                se["yi"],
                se["sei"],
                se["mean"],
                se["sd"],
                se["eti_low"],
                se["eti_high"],
                strict=True,
            )
        ]
        lines += grid(["comparison", "yi", "sei", "mean", "sd", "eti_low", "eti_high"], rows)
    if r.notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in r.notes]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Fit the model the options describe and print it; 3 on a failed verdict with --strict."""
    from bayes_msc.bayes.fit import fit
    from bayes_msc.results.serialise import to_json

    if args.save is not None:  # before any work: the dataset's own files are inputs too
        from bayes_msc.bayes.savefile import check_save

        check_save(args.save, inputs=[args.data] + ([args.priors] if args.priors else []), force=args.force)
    data = load_data(args)
    result = fit(
        data,
        model=args.model,
        prior=args.prior,
        covariates=tuple(args.covariate),
        priors_path=args.priors,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=args.seed,
        parameterisation=args.parameterisation,
        engine=args.engine,
        ci_prob=ci_prob(args),
        mcid=args.mcid,
        save=args.save,
        force=args.force,
    )
    sys.stdout.write(to_json(result.to_dict()) if args.format == "json" else table_text(result))
    if args.strict and not result.verdict.passed:
        print(f"bayes-msc fit: the posterior failed its diagnostics ({result.verdict})", file=sys.stderr)
        return EXIT_DIAGNOSTICS
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc fit`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("fit", help="Bayesian random-effects model")
    p.add_argument("data", metavar="DATA")
    cell_options(p)
    effects_options(p)
    p.add_argument(
        "--model", choices=["re", "arm"], default="re", help="contrast-level (re, default) or arm-level (arm) model"
    )
    p.add_argument("--prior", default="weakly_informative", help="prior-set name")
    p.add_argument("--covariate", action="append", default=[], metavar="NAME")
    p.add_argument(
        "--engine",
        choices=["auto", "mcmc", "exact"],
        default="auto",
        help="auto (default): exact quadrature where it gives the model's posterior, else MCMC",
    )
    p.add_argument("--parameterisation", choices=["auto", "centred", "noncentred"], default="auto")
    p.add_argument("--save", metavar="FILE.nc")
    p.add_argument(
        "--force", action="store_true", help="let --save replace a file that is not a posterior file of bayes-msc"
    )
    p.add_argument("--format", choices=["table", "json"], default="table")
    bayes_options(p)
    p.set_defaults(run=run)

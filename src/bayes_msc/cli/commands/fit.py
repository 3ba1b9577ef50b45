"""``bayes-msc fit``: one Bayesian random-effects model of one outcome at one month.

Builds the effect table (model ``re``) or the arm table (model ``arm``), fits it
(:func:`bayes_msc.fit`) and prints ``str(result)`` (what ``print(result)`` shows in
Python: the posterior summary, the probabilities, the diagnostics verdict, the shrunken
study effects, the notes) or the ``fit`` JSON of docs/FORMAT.md. ``--save`` writes the
posterior (netCDF) atomically; ``--strict`` makes a failed diagnostics verdict exit with
status 3 (after printing). While a fit samples, a progress line is shown on stderr when it
is a terminal (not with ``--no-progress``). The helpers here are shared with
``bayes-msc compare-priors``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bayes_msc.cli.options import bayes_options, cell_options, data_argument, effects_options, format_option

EXIT_DIAGNOSTICS = 3


def load_data(args: argparse.Namespace) -> Any:
    """The effect table (``--model re``) or arm table (``--model arm``) the options ask for."""
    import bayes_msc as bm
    from bayes_msc.errors import InputError, Problem

    dataset = bm.read_dataset(args.data)
    if args.model == "arm":
        if args.measure != "md":
            raise InputError(
                Problem(
                    "the arm model works on the outcome's own scale: --measure smd applies to the 're' model only",
                    argument="measure",
                )
            )
        return bm.arm_table(
            dataset,
            args.outcome,
            args.month,
            basis=args.basis,
            r=args.corr,
            rescale=not args.no_rescale,
            conversion=args.conversion,
        )
    return bm.effect_table(
        dataset,
        args.outcome,
        args.month,
        measure=args.measure,
        multiarm=args.multiarm,
        basis=args.basis,
        r=args.corr,
        rescale=not args.no_rescale,
        conversion=args.conversion,
    )


def sampler_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`bayes_msc.fit` the shared Bayesian options set."""
    from bayes_msc.results.layout import CI_LEVEL

    return {
        "model": args.model,
        "covariates": tuple(args.covariate),
        "covariate_at": dict(args.covariate_at) or None,
        "priors_path": args.priors,
        "draws": args.draws,
        "tune": args.tune,
        "chains": args.chains,
        "seed": args.seed,
        "parameterisation": args.parameterisation,
        "engine": args.engine,
        "target_accept": args.target_accept,
        "ci_prob": CI_LEVEL if args.ci_prob is None else args.ci_prob,
        "mcid": args.mcid,
    }


def progress_label(command: str, args: argparse.Namespace) -> str:
    """What the progress line says is running (the engine is decided per fit with ``auto``)."""
    mcmc = f"MCMC: {args.chains} chains x {args.draws} draws"
    how = {"exact": "exact engine", "mcmc": mcmc}.get(args.engine, f"exact where it gives the posterior, else {mcmc}")
    return f"bayes-msc {command}: fitting ({how})"


def run(args: argparse.Namespace) -> int:
    """Fit the model the options describe and print it; 3 on a failed verdict with --strict."""
    import bayes_msc as bm
    from bayes_msc.cli.progress import wanted, working
    from bayes_msc.results.serialise import to_json

    if args.save is not None:  # before any work: the dataset's own files are inputs too
        from bayes_msc.bayes.savefile import check_save

        check_save(args.save, inputs=[args.data] + ([args.priors] if args.priors else []), force=args.force)
    data = load_data(args)
    with working(progress_label("fit", args), wanted(args.no_progress)):
        result = bm.fit(data, prior=args.prior, save=args.save, force=args.force, **sampler_options(args))
    sys.stdout.write(to_json(result.to_dict()) if args.format == "json" else str(result))
    if args.strict and not result.verdict.passed:
        print(f"bayes-msc fit: the posterior failed its diagnostics ({result.verdict})", file=sys.stderr)
        return EXIT_DIAGNOSTICS
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc fit`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("fit", help="Bayesian random-effects model (exact quadrature or MCMC)")
    data_argument(p)
    cell_options(p)
    effects_options(p)
    p.add_argument(
        "--prior",
        default="weakly_informative",
        metavar="NAME",
        help="prior-set name: bundled (models/priors.toml) or from --priors (default weakly_informative)",
    )
    p.add_argument(
        "--save", metavar="FILE.nc", help="write the posterior (either engine) as netCDF; bm.load_result reads it"
    )
    p.add_argument(
        "--force", action="store_true", help="let --save replace a file that is not a posterior file of bayes-msc"
    )
    format_option(p)
    bayes_options(p)
    p.set_defaults(run=run)

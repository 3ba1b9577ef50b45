"""The ``bayes-msc`` command line.

The parser is defined here in full (so ``--help`` stays fast); each verb's work is in
``bayes_msc.cli.commands.<verb>``, imported only when that verb runs. Heavy
libraries (PyMC, ArviZ, matplotlib) are imported inside the command modules that need
them.

Exit status: 0 success; 2 bad input or usage (message on stderr, no traceback);
3 when ``--strict`` is given and a posterior fails its diagnostics verdict.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn

EXIT_OK = 0
EXIT_INPUT = 2
EXIT_DIAGNOSTICS = 3


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as ``bayes-msc: error: ...`` with status 2."""

    def error(self, message: str) -> NoReturn:  # pragma: no cover - argparse plumbing
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message}\n")


def _cell(p: argparse.ArgumentParser) -> None:
    p.add_argument("--outcome", required=True, help="outcome name as in outcomes.csv")
    p.add_argument("--month", required=True, type=float, help="follow-up month")


def _effects_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--measure",
        choices=["md", "smd"],
        default="md",
        help="mean difference (default) or standardised mean difference (Hedges' g)",
    )
    p.add_argument(
        "--multiarm",
        choices=["split", "shared"],
        default="split",
        help="multi-arm trials: split the shared arm's n among comparisons (default) "
        "or keep it whole and model the comparisons' covariance",
    )
    p.add_argument(
        "--basis", choices=["final", "change"], default="final", help="final values (default) or change from baseline"
    )
    p.add_argument(
        "--r",
        type=float,
        default=0.5,
        dest="corr",
        help="baseline/follow-up correlation for change scores (default 0.5)",
    )
    p.add_argument(
        "--no-rescale",
        action="store_true",
        help="keep native scales (default: rescale to 0-100 where scale_min/scale_max are given)",
    )


def _bayes_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--priors", metavar="FILE.toml", help="prior-set file (default: models/priors.toml bundled)")
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--seed", type=int, default=20210101)
    p.add_argument("--ci-prob", type=float, default=None, help="interval probability (default 0.95)")
    p.add_argument(
        "--mcid", type=float, default=None, help="minimal clinically important difference (reports P(mu < -MCID))"
    )
    p.add_argument("--strict", action="store_true", help="exit 3 when a posterior fails its diagnostics")


def build_parser() -> argparse.ArgumentParser:
    """Return the full argument parser (no heavy imports)."""
    parser = _Parser(prog="bayes-msc", description="Bayesian and frequentist random-effects meta-analysis.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("validate", help="check a dataset folder and summarise it")
    p.add_argument("data", metavar="DATA")

    p = sub.add_parser("effects", help="effect-size table (yi, vi) of one outcome and month")
    p.add_argument("data", metavar="DATA")
    _cell(p)
    _effects_options(p)
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")

    p = sub.add_parser("pool", help="frequentist random-effects pooling")
    p.add_argument("data", metavar="DATA")
    _cell(p)
    _effects_options(p)
    p.add_argument(
        "--method",
        choices=["fe", "dl", "reml", "pm", "paper"],
        default="dl",
        help="fe, dl (default), reml, pm; 'paper' = RE(DL) if I2 > 50%% or P_Q < 0.1, else FE",
    )
    p.add_argument("--hksj", action="store_true", help="Knapp-Hartung (HKSJ) adjustment")
    p.add_argument("--pi", choices=["z", "t"], default="z", help="prediction interval: z (metafor) or t with k-2 df")
    p.add_argument("--leave-one-out", action="store_true", help="add the leave-one-out table")
    p.add_argument("--format", choices=["table", "json"], default="table")

    p = sub.add_parser("metareg", help="frequentist meta-regression")
    p.add_argument("data", metavar="DATA")
    _cell(p)
    _effects_options(p)
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

    p = sub.add_parser("fit", help="Bayesian random-effects model")
    p.add_argument("data", metavar="DATA")
    _cell(p)
    _effects_options(p)
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
    p.add_argument("--format", choices=["table", "json"], default="table")
    _bayes_options(p)

    p = sub.add_parser("compare-priors", help="fit several prior sets side by side")
    p.add_argument("data", metavar="DATA")
    _cell(p)
    _effects_options(p)
    p.add_argument("--model", choices=["re", "arm"], default="re")
    p.add_argument("--prior", action="append", default=[], metavar="NAME", help="prior-set name (default: all)")
    p.add_argument("--covariate", action="append", default=[], metavar="NAME")
    p.add_argument(
        "--engine",
        choices=["auto", "mcmc", "exact"],
        default="auto",
        help="auto (default): exact quadrature where it gives the posterior, else MCMC",
    )
    p.add_argument("--format", choices=["table", "json"], default="table")
    _bayes_options(p)

    p = sub.add_parser("reproduce", help="the publication's pooled results beside this package's")
    p.add_argument("data", metavar="DATA")
    p.add_argument(
        "--multiarm",
        choices=["split", "shared"],
        default="split",
        help="shared arms in the computed pooling (the paper's double counting is always shown beside it)",
    )
    p.add_argument("--no-rescale", action="store_true", help="keep native scales")
    p.add_argument(
        "--trials",
        choices=["published", "all"],
        default="published",
        help="pool only the trials the paper pooled (default) or every trial with data",
    )
    p.add_argument(
        "--tolerance", type=float, default=0.05, help="agreement: fraction of the published CI width (default 0.05)"
    )
    p.add_argument(
        "--published",
        metavar="DIR",
        help="take published_pooled.csv / published_metareg.csv from another dataset folder",
    )
    p.add_argument("--format", choices=["table", "json"], default="table")

    p = sub.add_parser("run", help="run a whole analysis spec and write the report")
    p.add_argument("spec", metavar="SPEC.toml")
    p.add_argument("--out", metavar="DIR", default=None)
    p.add_argument("--strict", action="store_true")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("simulate", help="simulate outcomes.csv for a design from stated parameters")
    p.add_argument("design", metavar="DESIGN", help="folder with arms.csv (and studies.csv)")
    p.add_argument("--params", metavar="PARAMS.toml", required=True, help="true parameters")
    p.add_argument("--out", metavar="DIR", required=True, help="output dataset folder (name must contain 'simulated')")
    p.add_argument("--seed", type=int, default=None, help="overrides the seed in PARAMS.toml")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    module = importlib.import_module(f"bayes_msc.cli.commands.{args.command.replace('-', '_')}")
    from bayes_msc.errors import InputError

    try:
        return int(module.run(args) or 0)
    except InputError as err:
        for problem in err.problems:
            print(f"bayes-msc {args.command}: {problem}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("bayes-msc: interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) closed the pipe: stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK

"""Option groups shared by several verbs (each verb adds its own in ``cli/commands``)."""

from __future__ import annotations

import argparse


def cell_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--outcome", required=True, help="outcome name as in outcomes.csv")
    p.add_argument("--month", required=True, type=float, help="follow-up month")


def effects_options(p: argparse.ArgumentParser) -> None:
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


def bayes_options(p: argparse.ArgumentParser) -> None:
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

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
        "--mcid",
        type=float,
        default=None,
        help="minimal clinically important difference, signed in the direction of benefit: "
        "-19.9 (lower is better) reports P(mu < -19.9), 9 reports P(mu > 9)",
    )
    p.add_argument("--strict", action="store_true", help="exit 3 when a posterior fails its diagnostics")


def name_value(text: str) -> tuple[str, float]:
    """``NAME=VALUE`` (``age_mean=60``, ``log10(dose_million)=1.7``) as (name, number)."""
    name, sep, value = text.rpartition("=")
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not sep or not name.strip() or number != number or number in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER (e.g. age_mean=60), not {text!r}")
    return name.strip(), number


def covariate_options(p: argparse.ArgumentParser) -> None:
    """``--covariate`` (repeatable) and ``--covariate-at NAME=VALUE`` (repeatable)."""
    p.add_argument("--covariate", action="append", default=[], metavar="NAME")
    p.add_argument(
        "--covariate-at",
        action="append",
        default=[],
        type=name_value,
        metavar="NAME=VALUE",
        help="reference value of a covariate term: mu is the pooled effect there (default: the term's mean "
        "over the analysed comparisons)",
    )

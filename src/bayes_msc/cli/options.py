"""Option groups shared by several verbs (each verb adds its own in ``cli/commands``).

The choices are spelled out here rather than imported, so that building the parser
imports no numpy or pandas; tests/test_cli_surface.py checks them against the package.
"""

from __future__ import annotations

import argparse

FREQUENTIST_METHODS: tuple[str, ...] = ("fe", "dl", "reml", "pm", "ml", "he", "sj", "eb", "paper")
"""``bayes_msc.frequentist.tau2.METHODS`` and the paper's rule."""

METHOD_HELP = (
    "fe (fixed effect), dl (DerSimonian-Laird), reml, pm (Paule-Mandel), ml, he (Hedges), "
    "sj (Sidik-Jonkman), eb (empirical Bayes), or paper (Qu & Sun 2021: RE(DL) if I2 > 50%% or P_Q < 0.1, else FE)"
)


def data_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", metavar="DATA", help="dataset folder (arms.csv, outcomes.csv, ...; docs/FORMAT.md)")


def format_option(p: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json")) -> None:
    p.add_argument(
        "--format",
        choices=list(choices),
        default="table",
        help=f"output: {' or '.join(choices)} (default table; the JSON is described in docs/FORMAT.md)",
    )


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
    p.add_argument(
        "--conversion",
        choices=["luo_shi", "wan"],
        default="luo_shi",
        help="medians to means and SDs: luo_shi (default; mean Luo et al. 2018, SD Wan 2014 / Shi 2020) "
        "or wan (Wan et al. 2014)",
    )


def frequentist_options(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument(
        "--method",
        type=str.lower,
        choices=list(FREQUENTIST_METHODS),
        default=default,
        help=f"{METHOD_HELP}; default {default}",
    )
    p.add_argument(
        "--hksj", action="store_true", help="Knapp-Hartung (HKSJ) t tests and intervals (default: z, as metafor)"
    )
    p.add_argument("--level", type=float, default=0.95, help="confidence level of every interval (default 0.95)")


def bayes_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model", choices=["re", "arm"], default="re", help="contrast-level (re, default) or arm-level (arm) model"
    )
    p.add_argument(
        "--covariate",
        action="append",
        default=[],
        metavar="NAME",
        help="covariate term: a column, log10(NAME) or log(NAME); repeatable",
    )
    p.add_argument(
        "--covariate-at",
        action="append",
        default=[],
        type=name_value,
        metavar="NAME=VALUE",
        help="reference value of a covariate term: mu is the pooled effect there (default: the term's mean "
        "over the analysed comparisons); repeatable",
    )
    p.add_argument(
        "--engine",
        choices=["auto", "mcmc", "exact"],
        default="auto",
        help="auto (default): exact quadrature where it gives the model's posterior, else MCMC (nutpie)",
    )
    p.add_argument(
        "--parameterisation",
        choices=["auto", "centred", "noncentred", "marginal"],
        default="auto",
        help="how MCMC samples the random effects (default auto: chosen per fit; the output says which)",
    )
    p.add_argument(
        "--priors",
        metavar="FILE.toml",
        help="a prior-set file whose sets are added to the bundled ones (a name in both is an error)",
    )
    p.add_argument("--draws", type=int, default=1000, help="MCMC draws per chain after tuning (default 1000)")
    p.add_argument("--tune", type=int, default=1000, help="MCMC tuning (warm-up) draws per chain (default 1000)")
    p.add_argument("--chains", type=int, default=4, help="MCMC chains (default 4)")
    p.add_argument("--seed", type=int, default=20210101, help="random seed; the same seed gives the same draws")
    p.add_argument(
        "--target-accept", type=float, default=0.95, help="NUTS target acceptance probability (default 0.95)"
    )
    p.add_argument("--ci-prob", type=float, default=None, help="interval probability (default 0.95)")
    p.add_argument(
        "--mcid",
        type=float,
        default=None,
        help="minimal clinically important difference, signed in the direction of benefit: "
        "-19.9 (lower is better) reports P(mu < -19.9), 9 reports P(mu > 9)",
    )
    p.add_argument("--strict", action="store_true", help="exit 3 when a posterior fails its diagnostics")
    p.add_argument(
        "--no-progress", action="store_true", help="no progress line on stderr (shown only when stderr is a terminal)"
    )


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

"""``bayes-msc simulate DESIGN --params P.toml --out DIR [--seed S]``: a simulated dataset
folder for a design (:func:`bayes_msc.simulation.dataset_folder.simulate_dataset`)."""

from __future__ import annotations

import argparse
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Simulate a dataset folder; return the exit status (InputError is left to the CLI)."""
    from bayes_msc.simulation.dataset_folder import simulate_dataset

    done = simulate_dataset(args.design, args.params, args.out, seed=args.seed)
    print(
        f"wrote {done['rows']} simulated outcome rows ({done['studies']} studies, "
        f"{done['arms']} arms, seed {done['seed']}) to {done['out']}"
    )
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc simulate`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("simulate", help="simulate outcomes.csv for a design from stated parameters")
    p.add_argument("design", metavar="DESIGN", help="folder with arms.csv (and studies.csv)")
    p.add_argument("--params", metavar="PARAMS.toml", required=True, help="true parameters")
    p.add_argument("--out", metavar="DIR", required=True, help="output dataset folder (name must contain 'simulated')")
    p.add_argument("--seed", type=int, default=None, help="overrides the seed in PARAMS.toml")
    p.set_defaults(run=run)

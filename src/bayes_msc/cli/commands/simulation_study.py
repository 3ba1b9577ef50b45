"""``bayes-msc simulation-study STUDY.toml --out DIR``: a simulation study (:func:`bayes_msc.simulation_study`).

The study file and the output folder are checked before any work (bad input: status 2,
nothing written). Chunks of replications run on a local Dask cluster sized to the machine,
on an existing one (``--scheduler tcp://HOST:PORT``), or in this process
(``--scheduler serial``); each finished chunk is saved under DIR/chunks at once, so an
interrupted study continues with ``--resume``. A progress bar of the chunks shows on stderr
when it is a terminal (``--no-progress`` hides it).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Run the study ``args.study`` into ``args.out``; return the exit status."""
    import bayes_msc as bm

    try:
        res = bm.simulation_study(
            args.study,
            out=args.out,
            scheduler=args.scheduler,
            workers=args.workers,
            resume=args.resume,
            progress=not args.no_progress and sys.stderr.isatty(),
        )
    except KeyboardInterrupt:
        # Unlike other verbs, the finished chunks are kept: that is what --resume is for.
        print(
            f"bayes-msc simulation-study: interrupted; finished chunks (if any) are kept in {args.out}/chunks: "
            "run the same command with --resume to continue",
            file=sys.stderr,
        )
        return 130
    s = res.study
    resumed = f", {res.resumed} read back from the earlier run" if res.resumed else ""
    print(
        f"report: {res.out / 'index.html' if res.out else '-'} ({len(s.designs)} designs x {len(s.methods)} methods, "
        f"{s.replications} replications each; {res.computed} chunks computed{resumed})"
    )
    return 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc simulation-study`` and its options to the subcommands ``sub``."""
    p = sub.add_parser(
        "simulation-study",
        help="run a simulation study (coverage, bias, RMSE, width, power of methods) on Dask",
        description="Run the simulation study of STUDY.toml (docs/FORMAT.md) and write its report to DIR.",
    )
    p.add_argument("study", metavar="STUDY.toml", help="simulation-study file (keys in docs/FORMAT.md)")
    p.add_argument("--out", metavar="DIR", required=True, help="the study folder (chunks, summary, report)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="an existing Dask scheduler, tcp://HOST:PORT, or 'serial' for this process only "
        "(default: the study's [cluster] scheduler, else a local cluster)",
    )
    p.add_argument("--workers", type=int, default=None, metavar="N", help="local cluster size (default: the cores)")
    p.add_argument("--resume", action="store_true", help="continue the study in DIR where it stopped")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)

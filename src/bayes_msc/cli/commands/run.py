"""``bayes-msc run SPEC.toml [--out DIR]``: a whole review and its report (:func:`bayes_msc.run_spec`).

Everything is checked before any work (the spec, the dataset, the prior sets, the spec
against both, the output folder): bad input exits with status 2 and writes nothing. The
report is written into a temporary sibling of DIR that replaces DIR only at the end
(:mod:`bayes_msc.report.folder`). ``--strict`` exits with status 3, after writing the
report, when any posterior fails its diagnostics verdict. With ``BAYES_MSC_PROFILE=1`` the
time spent per step is printed to stderr (never into summary.json).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

EXIT_DIAGNOSTICS = 3


def run(args: argparse.Namespace) -> int:
    """Run the spec ``args.spec`` into ``args.out``; return the exit status."""
    import bayes_msc as bm
    from bayes_msc.workflow.profile import PROFILE_ENV, Profile
    from bayes_msc.workflow.review import default_out

    started = time.perf_counter()
    profile = Profile()
    spec = bm.load_spec(args.spec)
    # --out "" is refused (run_spec), not taken for the default
    out = default_out(spec) if args.out is None else args.out
    res = bm.run_spec(spec, out=out, progress=not args.no_progress, profile=profile)
    profile.seconds["total"] = time.perf_counter() - started  # the last line of the profile
    if os.environ.get(PROFILE_ENV, "") not in ("", "0"):
        print(profile.text(), file=sys.stderr)
    failed = len(res.failed)
    print(
        f"report: {Path(out) / 'index.html'} ({len(res.fits)} Bayesian fits, {failed} failed their diagnostics verdict)"
    )
    return EXIT_DIAGNOSTICS if args.strict and failed else 0


def add_parser(sub: Any) -> None:
    """Add ``bayes-msc run`` and its options to the subcommands ``sub``."""
    p = sub.add_parser("run", help="run a whole analysis spec and write the report")
    p.add_argument("spec", metavar="SPEC.toml", help="analysis spec (keys in docs/FORMAT.md)")
    p.add_argument(
        "--out", metavar="DIR", default=None, help="report folder (default reports/<spec name>); written atomically"
    )
    p.add_argument(
        "--strict", action="store_true", help="exit 3 (after writing the report) when a posterior fails its diagnostics"
    )
    p.add_argument(
        "--no-progress", action="store_true", help="no progress bar on stderr (shown only when stderr is a terminal)"
    )
    p.set_defaults(run=run)

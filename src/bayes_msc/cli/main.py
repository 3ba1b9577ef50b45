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


COMMANDS: tuple[str, ...] = (
    "validate",
    "effects",
    "pool",
    "metareg",
    "fit",
    "compare_priors",
    "reproduce",
    "run",
    "simulate",
)
"""Modules of :mod:`bayes_msc.cli.commands`, in the order of ``--help``. Each has
``add_parser(sub)``, which adds its verb(s) with ``set_defaults(run=...)``; its heavy
imports are inside its ``run``."""


def build_parser() -> argparse.ArgumentParser:
    """Return the full argument parser (no heavy imports)."""
    parser = _Parser(prog="bayes-msc", description="Bayesian and frequentist random-effects meta-analysis.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"bayes_msc.cli.commands.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    from bayes_msc.errors import InputError

    try:
        return int(args.run(args) or 0)
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

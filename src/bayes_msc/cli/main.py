"""The ``bayes-msc`` command line.

The parser is defined here in full (so ``--help`` stays fast); each verb's work is in
``bayes_msc.cli.commands.<verb>``, imported only when that verb runs. Heavy
libraries (PyMC, ArviZ, matplotlib) are imported inside the command modules that need
them.

Exit status: 0 success; 2 bad input or usage (message on stderr, no traceback);
3 when ``--strict`` is given and a posterior fails its diagnostics verdict; 128 + the
signal's number when SIGINT (130), SIGTERM (143) or SIGHUP (129) stops it: each raises
:class:`Interrupted` where the program is, so temporary outputs are removed and earlier
outputs stay as they were.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_INPUT = 2
EXIT_DIAGNOSTICS = 3


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as ``bayes-msc: error: ...`` with status 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.recorded: list[argparse.Action] = []  # this parser's arguments, for argument_options
        self.commands: dict[str, Any] = {}  # the subcommands' parsers (on the top parser)
        super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        self.recorded.append(action)
        return action

    def error(self, message: str) -> NoReturn:  # pragma: no cover - argparse plumbing
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message}\n")


COMMANDS: tuple[str, ...] = (
    "validate",
    "effects",
    "pool",
    "metareg",
    "subgroup",  # subgroups by a factor (issue 16)
    "toolbox",  # bias, influence, cumulative (issue 15)
    "fit",
    "compare_priors",
    "reproduce",
    "run",
    "simulate",
    "simulation_study",
)
"""Modules of :mod:`bayes_msc.cli.commands`, in the order of ``--help``. Each has
``add_parser(sub)``, which adds its verb(s) with ``set_defaults(run=...)``; its heavy
imports are inside its ``run``."""


def build_parser() -> argparse.ArgumentParser:
    """Return the full argument parser (no heavy imports)."""
    from bayes_msc import __version__

    parser = _Parser(prog="bayes-msc", description="Bayesian and frequentist random-effects meta-analysis.")
    parser.add_argument("--version", action="version", version=f"bayes-msc {__version__}", help="print the version")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"bayes_msc.cli.commands.{name}").add_parser(sub)
    parser.commands = dict(sub.choices)
    return parser


ARGUMENT_OPTIONS: dict[str, str] = {
    "r": "--r",
    "covariates": "--covariate",
    "priors_path": "--priors",
    "priors": "--prior",
    "rescale": "--no-rescale",
    "progress": "--no-progress",
    "effects": "DATA",
    "dataset": "DATA",
    "data": "DATA",
    "path": "DATA",
    "design": "DESIGN",
}
"""Python argument names whose command-line option is not their own name."""


def argument_options(parser: argparse.ArgumentParser, command: str) -> dict[str, str]:
    """Python argument name -> the option (``--measure``) or positional (``DATA``) of
    ``command`` that sets it, for naming problems the command-line way."""
    found: dict[str, str] = {}
    sub = getattr(parser, "commands", {}).get(command)
    for action in getattr(sub, "recorded", ()):
        if action.option_strings:
            found.setdefault(action.dest, max(action.option_strings, key=len))
        else:
            found.setdefault(action.dest, str(action.metavar or action.dest.upper()))
    found.update(ARGUMENT_OPTIONS)
    return found


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP, raised where the program is, so that every ``finally``
    (temporary outputs, locks, sampler threads) runs as it does for Ctrl-C."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signum)


STOP_SIGNALS: tuple[str, ...] = ("SIGINT", "SIGTERM", "SIGHUP")
"""Signals that stop a command cleanly, with exit status 128 + the signal's number."""


def _on_signal(signum: int, frame: Any) -> None:
    # The first stop signal interrupts; later ones are ignored so that the clean-up it
    # starts (removing a temporary report) cannot itself be cut short.
    for name in STOP_SIGNALS:
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    raise Interrupted(signum)


def _install_signals() -> dict[int, Any]:
    """Stop signals raise :class:`Interrupted`; returns the handlers they replace."""
    previous: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous  # only the main thread may set handlers (e.g. main() called in a thread)
    for name in STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is not signal.SIG_IGN:
            previous[number] = signal.signal(number, _on_signal)
    return previous


_NUMPY_FLOAT = r"(overflow|underflow|invalid value|divide by zero) encountered"


def _show_warning(
    message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    """Warnings as one line without the source path (``bayes-msc: warning: ...``)."""
    with contextlib.suppress(OSError):
        print(f"bayes-msc: warning: {message}", file=sys.stderr if file is None else file)


def _say(text: str) -> None:
    with contextlib.suppress(OSError):  # the terminal is gone (SIGHUP): nothing to tell
        print(text, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = _install_signals()
    try:
        return _run(parser, args)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    import warnings

    from bayes_msc.errors import InputError

    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            # numpy's floating-point warnings concern intermediate values (an exp that
            # underflows in a tail); results are checked for finiteness where they are made
            warnings.filterwarnings("ignore", _NUMPY_FLOAT, RuntimeWarning)
            return int(args.run(args) or 0)
    except InputError as err:
        options = {**argument_options(parser, args.command), **getattr(args, "argument_options", {})}
        for problem in err.problems:
            _say(f"bayes-msc {args.command}: {problem.text(options)}")
        return EXIT_INPUT
    except KeyboardInterrupt as err:
        signum = getattr(err, "signum", signal.SIGINT)
        name = signal.Signals(signum).name
        _say(f"bayes-msc: interrupted ({name}); nothing was written")
        return 128 + int(signum)
    except BrokenPipeError:
        # The reader (e.g. `| head`) closed the pipe: stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK

"""Run the ``bayes-msc`` command line in child processes, fast.

Starting ``python -m bayes_msc`` costs most of a second of imports (pandas)
before any input is read; the bad-input corpus runs about a hundred command lines. A
:class:`CliRunner` therefore starts one server process (this file run as a script) that
imports the command-line modules once and then, for each command line, forks a child that
does what ``python -m bayes_msc ARGV`` does: working directory, stdin from /dev/null,
stdout and stderr to files, ``sys.exit(main(argv))``, an uncaught exception printed as
Python prints it ("Traceback (most recent call last): ...") with exit status 1. Each
command line thus runs in its own process with its own exit status, from the same clean
state (the server never runs a command itself). ``tests/test_bad_input_corpus.py`` also
checks some cases against a plain ``python -m bayes_msc`` subprocess.

POSIX only (``os.fork``).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Imported by the server before it forks: what every verb needs to read its inputs.
PRELOAD = (
    "bayes_msc.cli.main",
    "bayes_msc.data.reader",
    "bayes_msc.data.effects",
    "bayes_msc.frequentist.rma",
    "bayes_msc.priors",
    "bayes_msc.workflow.spec",
    "bayes_msc.results.serialise",
)


@dataclass(frozen=True)
class Result:
    """What a command line did (the fields of ``subprocess.CompletedProcess`` used here)."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def _child(argv: list[str], cwd: str, out: str, err: str) -> None:
    """In the forked child: behave as ``python -m bayes_msc ARGV``; never returns."""
    import traceback

    status = 1
    try:
        os.chdir(cwd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, path in ((1, out), (2, err)):
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(handle, fd)
            os.close(handle)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.argv = ["bayes-msc", *argv]
        from bayes_msc.cli.main import main

        try:
            code = main(argv)
        except SystemExit as exc:  # argparse errors and --help
            code = exc.code
        if code is None:
            status = 0
        elif isinstance(code, int):
            status = code
        else:  # sys.exit("text"): Python prints it and exits 1
            print(code, file=sys.stderr)
            status = 1
    except BaseException:
        traceback.print_exc()
        status = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(status & 0xFF)


def serve() -> None:
    """The server loop: one JSON request per stdin line, JSON replies on stdout."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    reply = sys.stdout
    print(json.dumps({"ready": True}), file=reply, flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        reply.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(req["argv"], req["cwd"], req["stdout"], req["stderr"])
        print(json.dumps({"pid": pid}), file=reply, flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"rc": os.waitstatus_to_exitcode(status)}), file=reply, flush=True)


class CliRunner:
    """Runs command lines through one forking server (see the module docstring)."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
        env.pop("BAYES_MSC_PROFILE", None)
        self._scratch = tempfile.TemporaryDirectory(prefix="bayes-msc-cli-")
        self._proc = subprocess.Popen(
            [sys.executable, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=self._scratch.name,
        )
        first = self._read(timeout=300)
        if not first.get("ready"):
            raise RuntimeError(f"CLI server did not start: {first}")
        self._count = 0

    def _read(self, timeout: float) -> dict:
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError("CLI server gave no answer")
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"CLI server ended (status {self._proc.poll()})")
        return json.loads(line)

    def run(self, argv, cwd: Path, timeout: float = 600) -> Result:
        """Run ``bayes-msc ARGV`` in ``cwd``; return its exit status, stdout and stderr."""
        self._count += 1
        out = Path(self._scratch.name) / f"{self._count}.out"
        err = Path(self._scratch.name) / f"{self._count}.err"
        argv = [str(a) for a in argv]
        self._proc.stdin.write(
            json.dumps({"argv": argv, "cwd": str(cwd), "stdout": str(out), "stderr": str(err)}) + "\n"
        )
        self._proc.stdin.flush()
        pid = self._read(timeout=60)["pid"]
        try:
            rc = self._read(timeout=timeout)["rc"]
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)  # the hung child this runner started
            self._read(timeout=60)
            raise
        text = [p.read_text(encoding="utf-8", errors="replace") for p in (out, err)]
        out.unlink()
        err.unlink()
        return Result(argv, rc, *text)

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            self._proc.wait(timeout=60)
        self._scratch.cleanup()


if __name__ == "__main__":
    serve()

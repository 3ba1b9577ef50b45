"""Benchmark: start-up of the command line (``bayes-msc --help`` and ``bayes-msc validate``).

Usage (from the repository root; writes nothing)::

    .venv/bin/python benchmarks/bench_startup.py [--repeat 5] [--cached-bytecode]

Each command runs ``--repeat`` times as a fresh process, the commands taking turns (round
robin) so that a change in the machine's load touches them all alike. Reported per
command: min and median wall seconds, median CPU seconds (user + sys of the child, less
sensitive to a shared machine than wall time), and the ratio of the median wall time to
that of ``python -c pass`` in the same run. ``python -c "import pandas"`` is the floor of
any verb that reads a dataset. The load average is printed before and after.

The children inherit the environment: with ``PYTHONDONTWRITEBYTECODE`` set, the package's
own modules (an editable install) are compiled from source on every start. With
``--cached-bytecode`` the children write and read bytecode in a temporary
``PYTHONPYCACHEPREFIX`` instead (filled by the untimed warm-up run), as an installed
package or an editable one without that variable behaves.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("bayes-msc")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bayes_msc"]


def commands() -> dict[str, list[str]]:
    """Label -> argv; the two baselines first."""
    cli = _cli()
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import pandas"': [sys.executable, "-c", "import pandas"],
        "bayes-msc --help": [*cli, "--help"],
        "bayes-msc validate data/msc_knee_oa": [*cli, "validate", "data/msc_knee_oa"],
        "bayes-msc validate data/msc_knee_oa_simulated": [*cli, "validate", "data/msc_knee_oa_simulated"],
    }


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fresh process; it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, check=False, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--cached-bytecode", action="store_true", help="children cache bytecode in a temporary PYTHONPYCACHEPREFIX"
    )
    args = parser.parse_args()
    cmds = commands()
    env = dict(os.environ)
    if args.cached_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="bench_startup_pyc_")
    for argv in cmds.values():  # warm the file cache (and the bytecode cache); not counted
        run_once(argv, env)
    load_before = os.getloadavg()
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    cpus: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(args.repeat):
        for label, argv in cmds.items():
            wall, cpu = run_once(argv, env)
            walls[label].append(wall)
            cpus[label].append(cpu)
    load_after = os.getloadavg()
    base = statistics.median(walls["python -c pass"])
    width = max(len(k) for k in cmds)
    print(f"{'command':<{width}}  {'min s':>6}  {'median s':>8}  {'CPU s (median)':>14}  {'ratio to pass':>13}")
    for label in cmds:
        med = statistics.median(walls[label])
        print(
            f"{label:<{width}}  {min(walls[label]):6.3f}  {med:8.3f}  {statistics.median(cpus[label]):14.3f}"
            f"  {med / base:13.1f}"
        )
    print(
        f"\n{args.repeat} runs each, round robin; load average before "
        f"{' '.join(f'{x:.2f}' for x in load_before)}, after {' '.join(f'{x:.2f}' for x in load_after)}; "
        f"nproc {os.cpu_count()}; {sys.executable}"
    )
    bytecode = (
        "cached in a temporary PYTHONPYCACHEPREFIX"
        if args.cached_bytecode
        else f"as the environment says (PYTHONDONTWRITEBYTECODE={env.get('PYTHONDONTWRITEBYTECODE', '(unset)')})"
    )
    print(f"bytecode: {bytecode}")


if __name__ == "__main__":
    main()

"""Benchmark: the demo run before and after every Bayesian fit got a posterior file (issue 12).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_posteriors.py [--before 41b0a59] [--repeat 3]
        [--spec models/simulated_demo.toml]

"Before" is a git revision (default ``41b0a59``: the exact engine without draws, no
posterior files for exact fits), exported with ``git archive`` into a temporary folder
(no worktree: the repository is only read) and removed at the end. "After" is this working
tree. Both run ``python -m bayes_msc run SPEC --out DIR --no-progress`` with
``BAYES_MSC_PROFILE=1`` under this interpreter, each in a fresh process with
``PYTHONPATH=<tree>/src`` and its own tree's spec and data, in alternation (before, after,
before, after, ...), so both see the same machine load.

Per run: wall seconds of the whole process, CPU seconds of the process and its children
(the figure and posterior-file workers included), the profile's ``posterior files`` step,
the report's size (bytes of every file) and that of ``posteriors/``, the number of posterior
files, the load average (1 min) before. At the end: the median of each and the ratios
after / before.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEP = re.compile(r"^\s*(posterior files|total)\s+([0-9.]+) s$")


def children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def run_once(tree: Path, spec: str) -> dict:
    """One demo run of ``tree``'s package in a fresh process."""
    work = Path(tempfile.mkdtemp(prefix="bench_posteriors_"))
    out = work / "report"
    env = dict(os.environ, BAYES_MSC_PROFILE="1", PYTHONPATH=str(tree / "src"))
    load = os.getloadavg()[0]
    cpu0, start = children_cpu(), time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bayes_msc", "run", spec, "--out", str(out), "--no-progress"],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu0
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"run of {tree} failed:\n{proc.stderr}")
    steps = {m.group(1): float(m.group(2)) for line in proc.stderr.splitlines() if (m := STEP.match(line))}
    posteriors = out / "posteriors"
    row = {
        "wall_s": wall,
        "cpu_s": cpu,
        "posterior_files_s": steps.get("posterior files", 0.0),
        "report_mb": size(out) / 1e6,
        "posteriors_mb": size(posteriors) / 1e6,
        "files": len(list(posteriors.glob("*.nc"))) if posteriors.exists() else 0,
        "load": load,
    }
    shutil.rmtree(work)
    return row


def export(rev: str) -> Path:
    """The source tree of git revision ``rev`` in a temporary folder (``git archive``)."""
    folder = Path(tempfile.mkdtemp(prefix="bench_posteriors_before_"))
    data = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="41b0a59")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--spec", default="models/simulated_demo.toml")
    args = ap.parse_args()
    before = export(args.before)
    rows: dict[str, list[dict]] = {"before": [], "after": []}
    try:
        for i in range(args.repeat):
            for name, tree in (("before", before), ("after", ROOT)):
                row = run_once(tree, args.spec)
                rows[name].append(row)
                print(f"repeat {i + 1} {name:6s} " + " ".join(f"{k}={v:.2f}" for k, v in row.items()), flush=True)
    finally:
        shutil.rmtree(before)
    med = {name: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for name, runs in rows.items()}
    ratios = {k: med["after"][k] / med["before"][k] for k in ("wall_s", "cpu_s", "report_mb") if med["before"][k]}
    print(json.dumps({"before": args.before, "spec": args.spec, "median": med, "after/before": ratios}, indent=2))


if __name__ == "__main__":
    main()

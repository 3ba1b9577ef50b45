"""Benchmark: the demo run before and after the figures moved to stock matplotlib.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_figures.py [--before cb0a2ac] [--repeat 3] [--svg]
        [--spec models/simulated_demo.toml]

"Before" is a git revision (default ``cb0a2ac``: the last commit with the private Agg canvas,
``plots/canvas.py``; ``baseline-issue11`` works too, its old layout included), checked out
into a temporary ``git worktree`` that is removed at the end. "After" is this working
tree. Both run ``python -m bayes_msc run SPEC --out DIR --no-progress`` with
``BAYES_MSC_PROFILE=1`` under this interpreter, each in a fresh process with
``PYTHONPATH=<tree>/src`` and its own tree's spec and data, in alternation
(before, after, before, after, ...), so both see the same machine load. With ``--svg``
a third variant runs after's spec with ``[report] svg = true`` (PNG and SVG, as before
wrote them always).

Per run: wall seconds of the whole process, CPU seconds of the process and its children
(the figure workers included), the profile's figures step and its total, the number of
figure files, the load average (1 min) before and after. At the end: the median of each
and the ratios after / before.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEP = re.compile(r"^\s*(figures \(\d+, \d+ process(?:es)?\)|total)\s+([0-9.]+) s$")


def machine() -> dict:
    """What the numbers were measured on."""
    import importlib.metadata as md

    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.processor())
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        **{p: md.version(p) for p in ("matplotlib", "pillow", "numpy")},
    }


def children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def run_once(tree: Path, spec: Path) -> dict:
    """One demo run of ``tree``'s package in a fresh process."""
    out = Path(tempfile.mkdtemp(prefix="bench_figures_")) / "report"
    env = dict(os.environ, BAYES_MSC_PROFILE="1", PYTHONPATH=str(tree / "src"))
    load_before = os.getloadavg()[0]
    cpu0, start = children_cpu(), time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bayes_msc", "run", str(spec), "--out", str(out), "--no-progress"],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu0
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"run of {tree} failed:\n{proc.stderr}")
    steps = {}
    for line in proc.stderr.splitlines():
        m = STEP.match(line)
        if m:
            steps["figures" if m.group(1).startswith("figures") else "total"] = float(m.group(2))
    files = sorted(p.suffix for p in (out / "figures").iterdir())
    row = {
        "wall_s": wall,
        "cpu_s": cpu,
        "figures_s": steps.get("figures"),
        "profile_total_s": steps.get("total"),
        "png": files.count(".png"),
        "svg": files.count(".svg"),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }
    subprocess.run(["rm", "-rf", str(out.parent)], check=False)
    return row


def which_package(tree: Path) -> str:
    """The bayes_msc that ``PYTHONPATH=<tree>/src`` imports (not the venv's editable one)."""
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    code = "import bayes_msc, sys; sys.stdout.write(bayes_msc.__file__)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def svg_spec(spec: Path, folder: Path) -> Path:
    """A copy of ``spec`` asking for SVG files, its dataset path made absolute."""
    import tomllib

    text = spec.read_text(encoding="utf-8")
    data = tomllib.loads(text)["dataset"]["path"]
    text = re.sub(r'(?m)^path = ".*"$', f'path = "{(spec.parent / data).resolve()}"', text, count=1)
    text = (
        text.replace("[report]\n", "[report]\nsvg = true\n")
        if "[report]\n" in text
        else text + "\n[report]\nsvg = true\n"
    )
    target = folder / spec.name  # same file name: the report's spec name stays the same
    target.write_text(text, encoding="utf-8")
    return target


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="cb0a2ac", help="git revision measured as 'before'")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each variant")
    ap.add_argument("--spec", default="models/simulated_demo.toml", help="spec, relative to each tree")
    ap.add_argument("--svg", action="store_true", help="also run 'after' with [report] svg = true")
    args = ap.parse_args()
    print(json.dumps(machine()), flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench_figures_trees_"))
    before_tree = scratch / "before"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before_tree), args.before], check=True)
    try:
        variants = {"before": (before_tree, before_tree / args.spec), "after": (ROOT, ROOT / args.spec)}
        if args.svg:
            variants["after+svg"] = (ROOT, svg_spec(ROOT / args.spec, scratch))
        for name, (tree, _) in variants.items():
            print(f"{name}: {args.before if name == 'before' else 'working tree'} -> {which_package(tree)}", flush=True)
        rows: dict[str, list[dict]] = {name: [] for name in variants}
        for i in range(args.repeat):
            for name, (tree, spec) in variants.items():
                row = run_once(tree, spec)
                rows[name].append(row)
                print(
                    json.dumps({"variant": name, "repeat": i + 1, **{k: round(v, 2) for k, v in row.items()}}),
                    flush=True,
                )
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before_tree)], check=False)
        subprocess.run(["rm", "-rf", str(scratch)], check=False)

    med = {
        name: {k: statistics.median(r[k] for r in rs) for k in ("wall_s", "cpu_s", "figures_s")}
        for name, rs in rows.items()
    }
    print("\nmedians (s):")
    for name, m in med.items():
        loads = [r[k] for r in rows[name] for k in ("load_before", "load_after")]
        print(
            f"  {name:10s} wall {m['wall_s']:6.2f}  cpu {m['cpu_s']:6.2f}  figures step {m['figures_s']:6.2f}  "
            f"files {rows[name][0]['png']} png + {rows[name][0]['svg']} svg  load {min(loads):.2f}-{max(loads):.2f}"
        )
    for name in med:
        if name != "before":
            ratio = {k: med[name][k] / med["before"][k] for k in med[name]}
            print(
                f"ratio {name} / before: wall {ratio['wall_s']:.2f}x, cpu {ratio['cpu_s']:.2f}x, "
                f"figures step {ratio['figures_s']:.2f}x"
            )


if __name__ == "__main__":
    main()

"""Benchmark: building effect tables (``effect_table`` and ``arm_table``) for every cell.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_effects.py [--data data/msc_knee_oa_simulated] [--repeat 5]

For every (outcome, month > 0) cell of the dataset, one ``effect_table`` (default options)
and one ``arm_table`` are built; the loop over all cells is repeated ``--repeat`` times and
the minimum and median CPU (``time.process_time``) and wall (``time.perf_counter``)
milliseconds per table are printed. As a baseline measured in the same process, the same
statistics for ``ds.outcomes.copy()`` (one deep copy of the outcomes frame per call) are
printed, and the tables' cost as a multiple of it: the ratio is what to compare between
machines or runs, since the machine is shared and absolute times vary with its load (the
load average is printed before and after).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(fn, calls: int, repeat: int) -> tuple[list[float], list[float]]:
    """CPU and wall milliseconds per call of ``fn`` (``fn`` makes ``calls`` calls), per repeat."""
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append((time.process_time() - c0) * 1e3 / calls)
        wall.append((time.perf_counter() - w0) * 1e3 / calls)
    return cpu, wall


def line(label: str, cpu: list[float], wall: list[float]) -> str:
    return (
        f"{label:28s} cpu ms min {min(cpu):7.3f} median {statistics.median(cpu):7.3f}   "
        f"wall ms min {min(wall):7.3f} median {statistics.median(wall):7.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "data" / "msc_knee_oa_simulated"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    from bayes_msc.data.effects import arm_table, effect_table
    from bayes_msc.data.reader import read_dataset

    ds = read_dataset(args.data)
    cells = sorted({(o, float(m)) for o, m in zip(ds.outcomes["outcome"], ds.outcomes["month"], strict=True) if m > 0})
    n_tables = 2 * len(cells)

    def tables() -> None:
        for outcome, month in cells:
            effect_table(ds, outcome, month)
            arm_table(ds, outcome, month)

    def copies() -> None:
        for _ in range(n_tables):
            ds.outcomes.copy()

    tables()  # warm: lazy imports (scipy.special) and first-call costs are not per table
    print(
        f"dataset {args.data}: {len(cells)} cells, {n_tables} tables per repeat, {args.repeat} repeats; "
        f"outcomes {ds.outcomes.shape}"
    )
    print(f"load before: {load()}")
    t_cpu, t_wall = timed(tables, n_tables, args.repeat)
    b_cpu, b_wall = timed(copies, n_tables, args.repeat)
    print(f"load after:  {load()}")
    print(line("effect_table + arm_table", t_cpu, t_wall) + "   (per table)")
    print(line("baseline outcomes.copy()", b_cpu, b_wall) + "   (per call)")
    print(f"ratio table / copy (median cpu): {statistics.median(t_cpu) / statistics.median(b_cpu):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

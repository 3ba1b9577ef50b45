"""Simulation studies on Dask (issue 18): scaling, the exact engine per replication, and a
localhost cluster giving the same bytes as a local run. Not a timed test.

    .venv/bin/python benchmarks/bench_simulation_study.py [--replications 2000] [--identity-replications 250]
        [--repeat N] [--only-scaling | --skip-scaling]

In one run:

1. the study below (4 designs x 4 methods: DerSimonian-Laird, Knapp-Hartung, two prior
   sets on the exact engine) with ``--replications`` per design on a local cluster of 1
   and of 2 worker processes: wall time of ``bm.simulation_study`` each (cluster start
   included; its cost is measured on its own too) and the ratio (goal >= 1.7);
2. CPU time per replication in this process: data generation and each method, and the
   exact engine's share (goal <= 20 ms per replication);
3. a scheduler and two workers started on localhost (``dask scheduler``, ``dask worker``)
   run the study with ``--identity-replications``; its summary.csv and summary.json must
   be byte-identical to a local-cluster run of the same study.

The load average (1 min) is printed before and after each part: the machine is shared.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STUDY = {
    "study": {"title": "benchmark", "seed": 2026, "replications": 2000, "chunk_size": 250},
    "design": {"k": 5, "n": 50, "mu": 0.0, "tau": 0.2},
    "designs": {
        "k=5, I2=50%": {},
        "k=5, tau=0": {"tau": 0.0},
        "k=10, I2=50%": {"k": 10},
        "k=5, one large trial": {"n": [50, 50, 50, 50, 500]},
    },
    "methods": {
        "DL": {"kind": "frequentist", "estimator": "dl"},
        "KH": {"kind": "frequentist", "estimator": "dl", "hksj": True},
        "weakly_informative": {"kind": "bayes", "prior": "weakly_informative", "engine": "exact"},
        "empirical": {"kind": "bayes", "prior": "empirical", "engine": "exact"},
    },
}


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def study_with(replications: int) -> dict:
    doc = {k: dict(v) for k, v in STUDY.items()}
    doc["study"]["replications"] = replications
    doc["study"]["chunk_size"] = max(1, replications // 8)
    return doc


def scaling(replications: int, repeat: int = 1) -> None:
    import bayes_msc as bm

    print(f"\n1. {replications} replications x 4 designs x 4 methods, local cluster ({load()})")
    from distributed import Client, LocalCluster

    for n in (1, 2):
        t = time.perf_counter()
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as c, Client(c):
            pass
        print(f"   starting and stopping a local cluster of {n}: {time.perf_counter() - t:.1f} s")
    walls: dict[int, list[float]] = {1: [], 2: []}
    # 1, 2, 2, 1, ...: the machine is shared, so a change of the others' load during the run
    # falls on both sizes; the fastest wall of each size is the least disturbed one.
    order = [n for i in range(repeat) for n in ((1, 2) if i % 2 == 0 else (2, 1))]
    for n in order:
        t = time.perf_counter()
        res = bm.simulation_study(study_with(replications), workers=n)
        walls[n].append(time.perf_counter() - t)
        print(f"   {n} worker(s): {walls[n][-1]:.1f} s wall ({res.computed} chunks; {load()})")
    print(f"   scaling 1 -> 2 workers (fastest of each): {min(walls[1]) / min(walls[2]):.2f}x (goal >= 1.7)")


def per_replication(reps: int = 300) -> None:
    from bayes_msc.simstudy.generate import replication_rng, simulate_trials
    from bayes_msc.simstudy.methods import analyse
    from bayes_msc.simstudy.spec import study_from_mapping

    print(f"\n2. CPU per replication in this process, {reps} replications of 'k=5, I2=50%' ({load()})")
    s = study_from_mapping(study_with(reps))
    design = s.designs[0]
    t = time.process_time()
    trials = [simulate_trials(design, replication_rng(s.seed, design, r)) for r in range(reps)]
    gen = (time.process_time() - t) / reps
    print(f"   data generation: {1000 * gen:.2f} ms")
    total = gen
    for m in s.methods:
        analyse(trials[0], m, s.level)  # first-use imports out of the timing
        t = time.process_time()
        for tr in trials:
            analyse(tr, m, s.level)
        each = (time.process_time() - t) / reps
        total += each
        engine = f"{m.engine} engine" if m.kind == "bayes" else "frequentist"
        print(f"   {m.name} ({engine}): {1000 * each:.2f} ms")
    print(
        f"   one replication, all 4 methods: {1000 * total:.2f} ms; exact engine per analysis goal <= 20 ms ({load()})"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def localhost_cluster(folder: Path):
    dask = Path(sys.executable).with_name("dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(folder / "cluster.log", "w")  # noqa: SIM115 - closed below
    common = {"cwd": folder, "stdout": log, "stderr": subprocess.STDOUT, "start_new_session": True}
    procs = [
        subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **common)
    ]
    try:
        worker = [dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--local-directory", str(folder)]
        procs += [subprocess.Popen(worker, **common) for _ in range(2)]
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        log.close()


def identity(replications: int) -> None:
    import bayes_msc as bm

    print(f"\n3. localhost cluster vs local cluster, {replications} replications x 4 x 4 ({load()})")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        doc = study_with(replications)
        with localhost_cluster(folder) as address:
            t = time.perf_counter()
            bm.simulation_study(doc, folder / "remote", scheduler=address)
            print(f"   scheduler {address}, 2 workers: {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        bm.simulation_study(doc, folder / "local", workers=2)
        print(f"   local cluster of 2: {time.perf_counter() - t:.1f} s")
        for name in ("summary.csv", "summary.json"):
            same = (folder / "remote" / name).read_bytes() == (folder / "local" / name).read_bytes()
            print(f"   {name}: {'byte-identical' if same else 'DIFFERENT'}")
    print(f"   ({load()})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replications", type=int, default=2000)
    p.add_argument("--identity-replications", type=int, default=250)
    p.add_argument("--repeat", type=int, default=1, help="runs of each cluster size, alternating (1, 2, 2, 1, ...)")
    p.add_argument("--skip-scaling", action="store_true")
    p.add_argument("--only-scaling", action="store_true")
    args = p.parse_args()
    print(f"bench_simulation_study: {os.cpu_count()} cores, Python {sys.version.split()[0]} ({load()})")
    if not args.skip_scaling:
        scaling(args.replications, args.repeat)
    if args.only_scaling:
        return
    per_replication()
    identity(args.identity_replications)


if __name__ == "__main__":
    main()

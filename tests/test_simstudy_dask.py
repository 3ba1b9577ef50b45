"""A simulation study on a Dask cluster started here: a scheduler and two workers on
localhost (subprocesses, free ports, no dashboards), always stopped at the end.

The study runs through ``bayes-msc simulation-study --scheduler tcp://...``; one worker
is killed once the first chunk is saved (its chunk is run again elsewhere), and the
result tables must be byte-identical to a run on a local cluster and to one in this
process with the same seed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import bayes_msc as bm

DASK = Path(sys.executable).with_name("dask")
STUDY = """
[study]
seed = 11
replications = 48
chunk_size = 4

[design]
k = 5
n = 40
tau = 0.2

[grid]
k = [3, 6]

[methods.DL]
kind = "frequentist"

[methods.KH]
kind = "frequentist"
hksj = true

[methods.wi]
kind = "bayes"
prior = "weakly_informative"
"""
START_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the dask scheduler exited")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise TimeoutError("the dask scheduler did not start")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """``(address, [worker processes])`` of a scheduler and two single-thread workers."""
    if not DASK.exists():
        pytest.skip("the dask command is not installed in this environment")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "cluster.log", "w")  # noqa: SIM115 - closed in the finally below
    common = {"cwd": tmp_path, "stdout": log, "stderr": subprocess.STDOUT, "start_new_session": True}
    procs: list[subprocess.Popen] = []
    try:
        procs.append(
            subprocess.Popen(
                [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **common
            )
        )
        _wait_for_port(port, procs[0])
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        DASK,
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--no-nanny",
                        "--local-directory",
                        str(tmp_path),
                    ],
                    **common,
                )
            )
        from distributed import Client

        with Client(address, timeout=START_SECONDS) as client:
            client.wait_for_workers(2, timeout=START_SECONDS)
        yield address, procs[1:]
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        log.close()


def test_cluster_run_is_byte_identical_to_local_runs(tmp_path, cluster):
    address, workers = cluster
    study = tmp_path / "study.toml"
    study.write_text(STUDY, encoding="utf-8")
    remote = tmp_path / "remote"
    cmd = [sys.executable, "-m", "bayes_msc", "simulation-study", str(study), "--no-progress"]
    run = subprocess.Popen(
        [*cmd, "--out", str(remote), "--scheduler", address], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not list((remote / "chunks").glob("chunk-*")) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        workers[1].kill()  # a worker lost mid-study: its chunk runs again on the other one
        _, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, err.decode()
    assert len(list((remote / "chunks").glob("chunk-*"))) == 24

    local = tmp_path / "local"
    done = subprocess.run([*cmd, "--out", str(local), "--workers", "2"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    serial = bm.simulation_study(study, tmp_path / "serial", scheduler="serial")
    assert serial.computed == 24
    for name in ("summary.csv", "summary.json"):
        expected = (tmp_path / "serial" / name).read_bytes()
        assert (remote / name).read_bytes() == expected
        assert (local / name).read_bytes() == expected

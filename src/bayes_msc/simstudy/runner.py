"""Where the chunks run: a Dask cluster (local or existing), or this process.

- ``scheduler=None``: a :class:`distributed.LocalCluster` of ``workers`` single-threaded
  worker processes (default: the cores this process may use), started and stopped here.
- ``scheduler="tcp://HOST:PORT"``: an existing cluster (``dask scheduler`` and ``dask
  worker ADDRESS`` started by the user, with this package installed on every worker).
- ``scheduler="serial"``: every chunk in this process, one after another, without Dask.

Each chunk is one task (:func:`~bayes_msc.simstudy.chunks.run_chunk`) with a key naming
the study's fingerprint and the chunk, so it is computed once per cluster; a worker lost
mid-chunk makes the scheduler run that chunk again elsewhere, and a task that raises is
retried twice. Finished chunks are handed to ``on_done`` as they complete, in whatever
order; nothing computed depends on that order. Dask is imported only here, in the
functions that use it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bayes_msc.errors import InputError, Problem
from bayes_msc.simstudy.chunks import run_chunk
from bayes_msc.simstudy.spec import Study

SERIAL = "serial"
CONNECT_SECONDS = 20.0
"""How long to wait for an existing scheduler to answer, and then for a worker to join it."""
TASK_RETRIES = 2

WORKER_SETUP = """
import signal


def dask_setup(worker):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
"""
"""Run in each worker process of a local cluster (a Dask preload): Ctrl-C reaches the whole
process group, and the study stops its own cluster (keeping the finished chunks), so the
workers ignore it instead of each printing a KeyboardInterrupt traceback."""


def available_cores() -> int:
    """The cores this process may run on (the default size of a local cluster)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_cluster(scheduler: str | None, workers: int | None) -> None:
    """Problems with the ``scheduler`` and ``workers`` arguments, raised together."""
    problems = []
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        problems.append(
            Problem(f"must be an address such as tcp://HOST:PORT or 'serial' (got {scheduler!r})", argument="scheduler")
        )
    elif isinstance(scheduler, str) and scheduler != SERIAL and "://" not in scheduler:
        problems.append(
            Problem(f"'{scheduler}' is not a scheduler address (tcp://HOST:PORT) or 'serial'", argument="scheduler")
        )
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        problems.append(Problem(f"must be a whole number >= 1 (got {workers!r})", argument="workers"))
    if workers is not None and scheduler is not None and scheduler != SERIAL:
        problems.append(
            Problem("sizes a local cluster only; an existing scheduler uses its own workers", argument="workers")
        )
    if problems:
        raise InputError(problems)


def compute_chunks(
    study: Study,
    todo: Sequence[int],
    on_done: Callable[[int, Any], None],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = False,
    done_before: int = 0,
    tag: str = "",
    on_start: Callable[[], None] = lambda: None,
) -> None:
    """Compute the chunks ``todo`` of ``study``, calling ``on_done(index, rows)`` for each as
    it completes (see the module docstring). ``on_start()`` runs once the workers are
    ready, before any chunk (a scheduler that cannot be reached raises before it, so
    nothing is written); ``tag`` (the study's fingerprint) names the tasks; ``progress``
    shows a bar of chunks done on stderr, counting ``done_before``."""
    from tqdm import tqdm

    bar = tqdm(
        total=study.n_chunks,
        initial=done_before,
        unit="chunk",
        desc="simulation study",
        file=sys.stderr,
        disable=not progress,
    )
    try:
        if not todo:
            on_start()
            return
        if scheduler == SERIAL:
            on_start()
            for index in todo:
                on_done(index, run_chunk(study, index))
                bar.update()
            return
        from distributed import as_completed

        with _client(scheduler, workers, len(todo)) as client:
            on_start()
            futures = {
                client.submit(
                    run_chunk, study, index, key=f"bayes-msc-chunk-{tag}-{index}", retries=TASK_RETRIES
                ): index
                for index in todo
            }
            for future in as_completed(futures):
                on_done(futures[future], future.result())
                bar.update()
                future.release()  # the rows are saved: the cluster need not hold them
    finally:
        bar.close()


@contextmanager
def _client(scheduler: str | None, workers: int | None, n_tasks: int) -> Iterator[Any]:
    """A Dask client of a new local cluster (``scheduler`` None) or of an existing one."""
    import logging

    from distributed import Client, LocalCluster

    if scheduler is None:
        n = max(1, min(workers or available_cores(), n_tasks))
        try:
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
                preload=[WORKER_SETUP],
            )
        except RuntimeError as err:
            # Worker processes are spawned: they import the caller's script, which must not
            # start a study itself when imported.
            raise RuntimeError(
                "the local Dask cluster could not start its worker processes; from a script, start the study "
                'under `if __name__ == "__main__":` (each worker process imports the script), or use '
                "scheduler='serial'"
            ) from err
        with cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as err:
        raise InputError(
            Problem(f"cannot connect to the Dask scheduler at {scheduler}: {err}", argument="scheduler")
        ) from err
    with client:
        try:
            client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except TimeoutError as err:
            raise InputError(
                Problem(
                    f"no worker joined the Dask scheduler at {scheduler} within {CONNECT_SECONDS:g} s "
                    "(start one with: dask worker ADDRESS)",
                    argument="scheduler",
                )
            ) from err
        yield client

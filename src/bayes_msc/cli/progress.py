"""A progress line on stderr while a slow command works (``fit``, ``compare-priors``).

The line appears only when stderr is a terminal and ``--no-progress`` is not given, and
only once the work has taken longer than :data:`DELAY` seconds, so quick (exact) fits
print nothing; it is erased when the work ends. It says what is running and for how
long, as a heartbeat: nutpie samples the chains in its own threads and reports no
fraction done to the caller.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

DELAY = 1.0
"""Seconds of work before the line appears."""
TICK = 0.5


def wanted(no_progress: bool, stream: TextIO | None = None) -> bool:
    """Whether to show progress: not asked off, and the stream is a terminal."""
    stream = sys.stderr if stream is None else stream
    return not no_progress and bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def working(label: str, enabled: bool, stream: TextIO | None = None) -> Iterator[None]:
    """Show ``label: N s`` on ``stream`` (stderr) while the ``with`` block runs."""
    if not enabled:
        yield
        return
    out = sys.stderr if stream is None else stream
    done = threading.Event()
    start = time.monotonic()
    shown = [0]

    def beat() -> None:
        if done.wait(DELAY):
            return
        while not done.is_set():
            text = f"\r{label}: {time.monotonic() - start:.0f} s "
            shown[0] = len(text)
            out.write(text)
            out.flush()
            done.wait(TICK)

    thread = threading.Thread(target=beat, name="bayes-msc-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if shown[0]:
            out.write("\r" + " " * shown[0] + "\r")
            out.flush()

"""Wall time per step of a review (``BAYES_MSC_PROFILE=1`` prints it; never in an output file)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

PROFILE_ENV = "BAYES_MSC_PROFILE"


class Profile:
    """Wall time per step of a run, in the order the steps first ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Add the time spent in the ``with`` block to ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start

    def __call__(self, name: str) -> AbstractContextManager[None]:
        """``profile(name)`` is ``profile.step(name)`` (the report writer's timer)."""
        return self.step(name)

    def add(self, name: str, seconds: float) -> None:
        """Add time measured elsewhere (in a worker process) under ``name``."""
        self.seconds[name] += seconds

    def text(self) -> str:
        """One line per step, in the order the steps first ran."""
        return "bayes-msc run profile:\n" + "\n".join(f"  {k:<32s}{v:8.2f} s" for k, v in self.seconds.items())

"""The numeric ranges the package accepts, and the memory check of a sampler's draws.

Each limit is stated here once and in the README ("Errors and guarantees"); a value
outside is refused at validation, naming the column, key, option or argument and the
allowed range. The limits keep every computation inside double precision (no overflow,
no wrap-around of 64-bit integers) and every run inside the machine's memory.
"""

from __future__ import annotations

import os

MAX_N = 1_000_000_000
"""Largest number of patients in an arm (``n``): 10^9."""

MAX_ABS_VALUE = 1e12
"""Largest magnitude of a number in a dataset file (statistics, covariates, scale bounds)."""

MAX_SEED = 2**32 - 1
"""Seeds are whole numbers from 0 to 2^32 - 1 (nutpie takes 64-bit seeds; 32 bits is what
every other tool a user might reproduce a run with also takes)."""

MAX_DRAWS = 10_000_000
"""Most draws (and most tuning steps) per chain: 10^7."""

MAX_CHAINS = 1000
"""Most chains of one fit."""

MEMORY_SHARE = 0.5
"""A fit may plan to use at most this share of the memory available when it starts."""


def whole_in(value: object, low: int, high: int) -> bool:
    """``value`` is a whole number (not a bool; numpy integers count) in [low, high]."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return False
    return low <= int(value) <= high


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``; elsewhere
    free physical pages), or None when the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return None


def draws_bytes(draws: int, chains: int, values: int, copies: int = 1) -> int:
    """Memory the draws of a fit take: ``values`` numbers per draw (parameters, pointwise
    log likelihood, sampler statistics) of 8 bytes, held about four times over on their way
    to a result (sampler trace, tidied posterior, groups, netCDF), ``copies`` fits at once."""
    return int(draws) * int(chains) * int(values) * 8 * 4 * int(copies)


def memory_problem(draws: int, chains: int, values: int, copies: int = 1) -> str | None:
    """Why ``draws`` x ``chains`` x ``values`` does not fit in memory (None: it fits, or the
    system does not say how much is available)."""
    need = draws_bytes(draws, chains, values, copies)
    have = available_memory()
    if have is None or need <= MEMORY_SHARE * have:
        return None
    return (
        f"{draws} draws x {chains} chains x {values} values per draw need about {_size(need)} of memory; "
        f"{_size(have)} is available and a fit may use {MEMORY_SHARE:.0%} of it: ask for fewer draws or chains"
    )


def _size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover

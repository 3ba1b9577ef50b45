"""Checks of Python arguments at the API's door.

Each check returns the value in the form the package works with (a Python ``int`` or
``float`` for numpy scalars too, a tuple of names for a list) or raises
:class:`~bayes_msc.errors.InputError` naming the argument, what it got and what is
allowed, before any work, instead of an ``AttributeError`` from deep inside.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from typing import Any

from bayes_msc.errors import InputError, Problem


def _what(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else type(value).__name__


def _bad(argument: str, message: str) -> InputError:
    return InputError(Problem(message, argument=argument))


def check_text(value: Any, argument: str, what: str = "a name") -> str:
    """A non-empty string (``outcome``, ``method``)."""
    if not isinstance(value, str) or not value.strip():
        raise _bad(argument, f"{argument} must be {what} (a non-empty string), not {_what(value)}")
    return value


def check_choice(value: Any, argument: str, choices: Sequence[str]) -> str:
    """One of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise _bad(argument, f"unknown {argument} {_what(value)}; allowed: {', '.join(choices)}")
    return value


def check_flag(value: Any, argument: str) -> bool:
    """True or False (numpy booleans too)."""
    if isinstance(value, bool):
        return value
    try:
        import numpy as np

        if isinstance(value, np.bool_):
            return bool(value)
    except ImportError:  # pragma: no cover
        pass
    raise _bad(argument, f"{argument} must be True or False, not {_what(value)}")


def check_number(
    value: Any,
    argument: str,
    *,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """A finite real number (numpy scalars too) in the given range."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))
    x = float(value) if ok else math.nan
    if ok and low is not None:
        ok = x > low if open_low else x >= low
    if ok and high is not None:
        ok = x < high if open_high else x <= high
    if not ok:
        lo = "" if low is None else f"{'>' if open_low else '>='} {low:g}"
        hi = "" if high is None else f"{'<' if open_high else '<='} {high:g}"
        allowed = " and ".join(p for p in (lo, hi) if p)
        raise _bad(
            argument, f"{argument} must be a finite number{' ' + allowed if allowed else ''}, not {_what(value)}"
        )
    return x


def check_terms(value: Any, argument: str) -> tuple[str, ...]:
    """A list (or tuple) of names such as covariate terms; a lone string is refused
    (iterating it would give its letters)."""
    if isinstance(value, str):
        raise _bad(argument, f"{argument} must be a list of names, not the string {value!r}; write [{value!r}]")
    if value is None or not isinstance(value, Sequence) or isinstance(value, bytes):
        raise _bad(argument, f"{argument} must be a list of names (strings), not {_what(value)}")
    bad = [x for x in value if not isinstance(x, str) or not x.strip()]
    if bad:
        raise _bad(argument, f"{argument} must hold names (non-empty strings); got {_what(bad[0])}")
    return tuple(value)


def check_path(value: Any, argument: str, what: str = "a path") -> str | os.PathLike[str]:
    """A non-empty ``str`` or ``os.PathLike``."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value:
        raise _bad(argument, f"{argument} must be {what} (a non-empty string or pathlib.Path), not {_what(value)}")
    return value

"""Typed readers of TOML tables that collect every problem instead of raising at the first.

:class:`KeyReader` checks one value at a time against what a key allows and appends a
:class:`~bayes_msc.errors.Problem` naming the file and the key (``bayes.draws``) when it
does not fit, so that one reading of a file reports every mistake in it at once. Used by
the analysis-spec reader (:mod:`bayes_msc.workflow.spec`) and other TOML inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from bayes_msc.errors import Problem


class KeyReader:
    """Collects the problems of one TOML file (see the module docstring)."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def bad(self, key: str, message: str) -> None:
        self.problems.append(Problem(message, file=self.file, key=key))

    def table(self, doc: dict, name: str, allowed: tuple[str, ...], required: bool = False) -> dict:
        value = doc.get(name)
        if value is None:
            if required:
                self.bad(name, f"the [{name}] table is required")
            return {}
        if not isinstance(value, dict):
            self.bad(name, f"'{name}' must be a table ([{name}])")
            return {}
        self.unknown(value, name, allowed)
        return value

    def unknown(self, table: dict, where: str, allowed: tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                self.bad(
                    f"{where}.{key}" if where else key,
                    f"unknown key '{key}'" + (f" in [{where}]" if where else "") + f"; allowed: {', '.join(allowed)}",
                )

    def choice(self, t: dict, where: str, key: str, choices: tuple[str, ...], default: str) -> str:
        value = t.get(key, default)
        if not isinstance(value, str) or value not in choices:
            self.bad(f"{where}.{key}", f"must be one of {', '.join(choices)} (got {value!r})")
            return default
        return value

    def boolean(self, t: dict, where: str, key: str, default: bool) -> bool:
        value = t.get(key, default)
        if not isinstance(value, bool):
            self.bad(f"{where}.{key}", f"must be true or false (got {value!r})")
            return default
        return value

    def integer(self, t: dict, where: str, key: str, default: int, minimum: int, maximum: int | None = None) -> int:
        value = t.get(key, default)
        high = math.inf if maximum is None else maximum
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= high:
            allowed = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
            self.bad(f"{where}.{key}", f"must be a whole number {allowed} (got {value!r})")
            return default
        return value

    def number(self, value: Any, key: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.bad(key, f"must be a finite number (got {value!r})")
            return None
        return float(value)

    def text(self, value: Any, key: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.bad(key, f"must be a non-empty text (got {value!r})")
            return None
        return value

    def texts(self, value: Any, key: str, choices: tuple[str, ...] | None = None) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.bad(key, f"must be a non-empty list of names (got {value!r})")
            return ()
        out = []
        for item in value:
            name = self.text(item, key)
            if name is None:
                continue
            if choices is not None and name not in choices:
                self.bad(key, f"'{name}' is not one of {', '.join(choices)}")
            elif name in out:
                self.bad(key, f"'{name}' is listed twice")
            else:
                out.append(name)
        return tuple(out)

    def months(self, value: Any, key: str) -> tuple[float, ...]:
        if not isinstance(value, list) or not value:
            self.bad(key, f'must be "all" or a non-empty list of months (got {value!r})')
            return ()
        out = [m for m in (self.number(v, key) for v in value) if m is not None]
        for m in out:
            if m < 0:
                self.bad(key, f"a month must be >= 0 (got {m:g})")
        return tuple(sorted(set(out)))

    def all_or(self, value: Any, key: str, read: Callable[[Any, str], Any]) -> Any:
        """``"all"`` (returns None) or whatever ``read(value, key)`` accepts."""
        if value == "all":
            return None
        return read(value, key)

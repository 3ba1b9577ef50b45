"""Odd but valid dataset folders (simulated values, made up for the tests).

Each case transforms the valid ``BASE`` folder of ``tests/bad_inputs/simulated_cases.py``
in a way the reader must accept. ``SAME_AS_BASE`` cases must read to exactly the frames
``BASE`` reads to (apart from ``_row`` where rows moved); the others are checked one by
one in ``tests/test_reader.py``.
"""

from __future__ import annotations

from collections.abc import Callable

Files = dict[str, "str | bytes | None"]


def _each(fn: Callable[[str], str | bytes]) -> Callable[[Files], Files]:
    return lambda files: {k: (fn(v) if isinstance(v, str) else v) for k, v in files.items()}


def _quote_all(text: str) -> str:
    """Quote every cell (as some exporters do); no cell of BASE holds a comma or quote."""
    return "\n".join(",".join(f'"{c}"' for c in line.split(",")) if line else "" for line in text.split("\n"))


def _pad(text: str) -> str:
    """Spaces around every cell, and a tab before every line's last cell."""
    lines = [",".join(f"  {c} " for c in line.split(",")) for line in text.split("\n") if line]
    return "\n".join(line.rsplit(",", 1)[0] + ",\t" + line.rsplit(",", 1)[1] for line in lines) + "\n"


def _excel_tail(text: str) -> str:
    """Two unnamed, empty trailing columns, as spreadsheets export stray formatted cells."""
    return "".join(line + ",,\n" for line in text.split("\n") if line)


SAME_AS_BASE: dict[str, Callable[[Files], Files]] = {
    "bom": _each(lambda t: "\ufeff" + t),
    "crlf": _each(lambda t: t.replace("\n", "\r\n")),
    "bom_crlf_bytes": _each(lambda t: b"\xef\xbb\xbf" + t.replace("\n", "\r\n").encode()),
    "quoted_cells": _each(_quote_all),
    "whitespace_around_cells": _each(_pad),
    "trailing_blank_lines": _each(lambda t: t + "\n\n  \n,,,\n"),
    "no_final_newline": _each(lambda t: t.rstrip("\n")),
    "excel_empty_columns": _each(_excel_tail),
}
"""Name -> transform of the BASE files; the dataset read must equal BASE's."""

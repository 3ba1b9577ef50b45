"""CSV cells a spreadsheet would run as a formula, neutralised (OWASP "CSV Injection").

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel, LibreOffice and Google Sheets as a formula (``=cmd|' /C calc'!A0``). Every
CSV file the package writes (the report's ``tables/*.csv``, ``bayes-msc effects --format
csv``) passes its text cells through :func:`neutral`, which puts a single quote in front of
such a cell, as OWASP recommends; the spreadsheet then shows the text as it is. Numbers are
never changed: numeric columns are not touched, and a text cell that is a plain number
(``-1.5``, ``+3e-2``) cannot be a formula and stays as it is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutral(cell: Any) -> Any:
    """``cell`` with a leading ``'`` when it is text a spreadsheet would take for a formula."""
    if isinstance(cell, str) and cell[:1] in TRIGGERS and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def neutral_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are :func:`neutral` (numeric columns unchanged)."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            continue
        out[column] = values.map(neutral).astype(values.dtype)
    return out

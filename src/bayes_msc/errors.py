"""Input errors that name where the problem is: file, row and column, TOML key, or argument.

Every problem with user input (dataset files, spec and prior TOML files, function
arguments, command-line options) is raised as an :class:`InputError` holding one or more
:class:`Problem`. The command line prints each problem on its own line to stderr and exits
with status 2, without a traceback and without writing anything.

Where a problem is:

- ``file``, ``row``, ``column``: a CSV file, its spreadsheet row (the header is row 1, the
  first data row is row 2) and its column;
- ``file`` and ``key``: a TOML file and its dotted key (``bayes.draws``);
- ``argument``: a Python argument by its name (``measure``). The command line shows it as
  the option that sets it (``--measure``; :meth:`Problem.text`), so a Python user reads
  ``argument 'measure'`` and a command-line user ``option '--measure'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    Parameters
    ----------
    message : str
        What is wrong and what is allowed.
    file : str, optional
        File name (relative to the dataset folder when it is a dataset file).
    row : int, optional
        Spreadsheet row number (header = 1, first data row = 2).
    column : str, optional
        CSV column concerned.
    key : str, optional
        Dotted TOML key concerned (with ``file``).
    argument : str, optional
        Python argument concerned, by its parameter name.
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    key: str | None = None
    argument: str | None = None

    def text(self, options: Mapping[str, str] | None = None) -> str:
        """The problem as one line. With ``options`` (argument name -> command-line option,
        e.g. ``{"measure": "--measure"}``) an argument is named by its option."""
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.key is not None:
            where.append(f"key '{self.key}'")
        if self.argument is not None:
            flag = None if options is None else options.get(self.argument)
            where.append(f"argument '{self.argument}'" if flag is None else _option(flag))
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

    def __str__(self) -> str:
        return self.text()


def _option(flag: str) -> str:
    return f"option '{flag}'" if flag.startswith("-") else flag


class InputError(Exception):
    """Bad input: one or more :class:`Problem`, all reported together."""

    def __init__(self, problems: Problem | list[Problem] | tuple[Problem, ...] | str):
        if isinstance(problems, str):
            problems = (Problem(problems),)
        elif isinstance(problems, Problem):
            problems = (problems,)
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def data_row(index: int) -> int:
    """Spreadsheet row number of the 0-based data row ``index`` (header is row 1)."""
    return int(index) + 2

"""Input errors that name the file, row and column.

Every problem with user input (dataset files, spec and prior TOML files, command-line
options) is raised as an :class:`InputError` holding one or more :class:`Problem`.
The command line prints each problem on its own line to stderr and exits with status 2,
without a traceback and without writing anything.

Row numbers are the file's line numbers as a spreadsheet shows them: the header is
row 1, the first data row is row 2.
"""

from __future__ import annotations

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
        Column (or TOML key / command-line option) concerned.
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


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

"""Simulated outcome rows for a design given in Python (:func:`bayes_msc.simulate`).

:func:`simulate_from` checks its arguments at the door (a design folder or an arms frame,
a parameters file or :class:`~bayes_msc.simulation.params.SimulationParams`, a seed from
0 to 2^32 - 1) and reads a design folder's files as every input file is read (regular
files of bounded size only, :mod:`bayes_msc.guard.reading`).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_msc.errors import InputError, Problem
from bayes_msc.guard.limits import MAX_SEED, whole_in
from bayes_msc.guard.reading import Unreadable, present, read_bytes
from bayes_msc.simulation.params import SimulationParams, load_params
from bayes_msc.simulation.simulate import simulate_outcomes


def read_design_file(folder: Path, name: str, required: bool) -> pd.DataFrame | None:
    """A design folder's CSV file as a frame (None when an optional file is absent)."""
    path = folder / name
    if not present(path):
        if required:
            raise InputError(Problem("file not found in the design folder", file=str(path)))
        return None
    try:
        return pd.read_csv(io.BytesIO(read_bytes(path)))
    except Unreadable as err:
        raise InputError(Problem(err.message, file=str(path))) from err
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(Problem(f"cannot be read as CSV: {err}", file=str(path))) from err


def simulate_from(design: Any, params: Any, seed: Any = None, studies: Any = None) -> pd.DataFrame:
    """Simulated ``outcomes.csv`` rows (see :func:`bayes_msc.api.simulate`).

    Raises
    ------
    InputError
        A wrong type of argument (naming it), a bad design or parameters file, no seed or
        one out of range.
    """
    if isinstance(design, (str, os.PathLike)) and os.fspath(design):
        folder = Path(design)
        arms = read_design_file(folder, "arms.csv", required=True)
        studies = read_design_file(folder, "studies.csv", required=False)
    elif isinstance(design, pd.DataFrame):
        arms = design
    else:
        raise InputError(
            Problem(f"design must be a design folder or an arms frame, not {type(design).__name__}", argument="design")
        )
    if studies is not None and not isinstance(studies, pd.DataFrame):
        raise InputError(
            Problem(f"studies must be a DataFrame or None, not {type(studies).__name__}", argument="studies")
        )
    if isinstance(params, (str, os.PathLike)) and os.fspath(params):
        params = load_params(Path(params))
    elif not isinstance(params, SimulationParams):
        raise InputError(
            Problem(
                f"params must be a parameters file or SimulationParams, not {type(params).__name__}", argument="params"
            )
        )
    seed = params.seed if seed is None else seed
    if seed is None:
        raise InputError(Problem("no seed: give one, or set seed in the parameters file", argument="seed"))
    if not whole_in(seed, 0, MAX_SEED):
        raise InputError(
            Problem(f"seed must be a whole number from 0 to {MAX_SEED} (2^32 - 1), not {seed!r}", argument="seed")
        )
    assert arms is not None  # required=True raises when the file is missing
    return simulate_outcomes(arms, studies, params, int(seed))

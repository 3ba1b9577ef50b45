"""Chunks: the unit of work, of retry and of resume of a simulation study.

Chunk ``i`` holds ``chunk_size`` consecutive replications of one design
(:meth:`~bayes_msc.simstudy.spec.Study.chunk`); :func:`run_chunk` computes it from the
study alone (a pure function: the same chunk gives the same rows on any worker). Its rows,
one per replication and method (:data:`COLUMNS`), are saved as ``chunks/chunk-000012.parquet``
(CSV, ``.csv``, when pyarrow is not installed: both keep every float exactly), each file
written atomically, so a chunk file on disk is always complete.
"""

from __future__ import annotations

import importlib.util
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.simstudy.generate import replication_rng, simulate_trials
from bayes_msc.simstudy.methods import ROW_FIELDS, analyse
from bayes_msc.simstudy.spec import Study

COLUMNS = ("design", "method", "replication", *ROW_FIELDS)
"""The columns of a chunk, one row per replication and method."""

_TYPES: dict[str, Any] = {
    "design": "str",
    "method": "str",
    "replication": "int64",
    "k": "int64",
    "estimate": "float64",
    "ci_low": "float64",
    "ci_high": "float64",
    "reject": "bool",
    "tau": "float64",
    "converged": "bool",
    "error": "str",
}
_NAME = re.compile(r"chunk-(\d{6})\.(parquet|csv)")


def run_chunk(study: Study, index: int) -> pd.DataFrame:
    """The rows of chunk ``index``: every replication of it, analysed by every method.

    Every method analyses the same simulated trials of a replication (common random
    numbers), and a replication's trials come from its own stream
    (:func:`~bayes_msc.simstudy.generate.replication_rng`).
    """
    design, reps = study.chunk(index)
    rows = []
    for r in reps:
        trials = simulate_trials(design, replication_rng(study.seed, design, r))
        for method in study.methods:
            rows.append(
                {"design": design.name, "method": method.name, "replication": r, **analyse(trials, method, study.level)}
            )
    return typed(pd.DataFrame(rows, columns=list(COLUMNS)))


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the chunk columns' types (so that a chunk read back equals the one
    written)."""
    out = frame.loc[:, list(COLUMNS)].copy()
    out["error"] = out["error"].fillna("")
    return out.astype(_TYPES)


def chunk_format() -> str:
    """``parquet`` when pyarrow is installed (nutpie brings it), else ``csv``."""
    return "parquet" if importlib.util.find_spec("pyarrow") is not None else "csv"


def chunk_path(folder: Path, index: int, fmt: str | None = None) -> Path:
    return folder / f"chunk-{index:06d}.{fmt or chunk_format()}"


def write_chunk(folder: Path, index: int, frame: pd.DataFrame, fmt: str | None = None) -> Path:
    """Save a chunk's rows atomically (a temporary file in ``folder``, then :func:`os.replace`)."""
    fmt = fmt or chunk_format()
    target = chunk_path(folder, index, fmt)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp's 0600 would make the chunk private
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            # repr-exact floats and "nan" for missing ones, read back by read_chunk exactly
            frame.to_csv(tmp, index=False, lineterminator="\n", na_rep="nan")
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return target


def read_chunk(path: Path) -> pd.DataFrame:
    """A chunk file's rows, with the types :func:`run_chunk` gives."""
    if path.suffix == ".parquet":
        return typed(pd.read_parquet(path))
    # Every column as text, parsed here: float() reads back the shortest repr exactly.
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for c in ("estimate", "ci_low", "ci_high", "tau"):
        frame[c] = frame[c].map(float)
    for c in ("replication", "k"):
        frame[c] = frame[c].map(int)
    for c in ("reject", "converged"):
        frame[c] = frame[c].map({"True": True, "False": False})
    return typed(frame)


def finished_chunks(folder: Path, study: Study) -> dict[int, pd.DataFrame]:
    """The chunks already saved in ``folder`` that hold exactly what their index asks for
    (a file that does not is computed again)."""
    done: dict[int, pd.DataFrame] = {}
    if not folder.is_dir():
        return done
    for path in sorted(folder.iterdir()):
        m = _NAME.fullmatch(path.name)
        if m is None or int(m.group(1)) >= study.n_chunks:
            continue
        index = int(m.group(1))
        try:
            frame = read_chunk(path)
        except Exception:  # an unreadable file is a chunk to compute again, not an error
            continue
        if _complete(frame, study, index):
            done[index] = frame
    return done


def _complete(frame: pd.DataFrame, study: Study, index: int) -> bool:
    design, reps = study.chunk(index)
    methods = [m.name for m in study.methods]
    want_reps = np.repeat(np.asarray(reps, dtype=np.int64), len(methods))
    return (
        len(frame) == len(want_reps)
        and bool((frame["design"] == design.name).all())
        and frame["replication"].to_numpy().tolist() == want_reps.tolist()
        and frame["method"].tolist() == methods * len(reps)
    )

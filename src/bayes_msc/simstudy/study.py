"""A whole simulation study: check, compute the missing chunks, summarise.

:func:`run_study` checks the study and the output folder before any work, reads back the
chunks an interrupted run finished (``resume``), computes the others where
``scheduler``/``workers`` say (:mod:`bayes_msc.simstudy.runner`), saving each as it
completes, and summarises every replication in the study's order. It writes the chunks
and ``study.json`` only; the report files are written by
:mod:`bayes_msc.report.simstudy`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_msc.errors import InputError, Problem
from bayes_msc.simstudy.chunks import chunk_format, write_chunk
from bayes_msc.simstudy.folder import check_folder, fingerprint, start_folder
from bayes_msc.simstudy.measures import summary_table
from bayes_msc.simstudy.result import SimulationStudyResult
from bayes_msc.simstudy.runner import check_cluster, compute_chunks
from bayes_msc.simstudy.spec import Study, load_study, study_from_mapping


def as_study(study: Study | str | os.PathLike[str] | Mapping[str, Any]) -> Study:
    """A :class:`Study` from a study, a study file or a mapping with the file's tables."""
    if isinstance(study, Study):
        return study
    if isinstance(study, (str, os.PathLike)):
        return load_study(study)
    if isinstance(study, Mapping):
        return study_from_mapping(dict(study))
    raise InputError(
        Problem(
            f"study must be a study file, a dict of its tables or a Study, not {type(study).__name__}", argument="study"
        )
    )


def run_study(
    study: Study,
    out: Path | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    progress: bool = False,
) -> SimulationStudyResult:
    """Compute ``study`` (see the module docstring and :func:`bayes_msc.simulation_study`).

    ``scheduler`` and ``workers`` default to the study file's ``[cluster]`` keys.
    """
    if not isinstance(resume, bool):
        raise InputError(Problem(f"must be True or False (got {resume!r})", argument="resume"))
    if resume and out is None:
        raise InputError(Problem("resume needs the study folder (out) whose chunks it continues", argument="resume"))
    if scheduler is None and workers is None:
        scheduler, workers = study.scheduler, study.workers
    check_cluster(scheduler, workers)
    done = check_folder(out, study, resume) if out is not None else {}
    frames: dict[int, pd.DataFrame] = dict(done)
    todo = [i for i in range(study.n_chunks) if i not in done]
    fmt = chunk_format()

    def started() -> None:
        if out is not None:
            start_folder(out, study, resume)

    def finished(index: int, rows: pd.DataFrame) -> None:
        frames[index] = rows
        if out is not None:
            write_chunk(out / "chunks", index, rows, fmt)

    compute_chunks(
        study,
        todo,
        finished,
        scheduler=scheduler,
        workers=workers,
        progress=progress,
        done_before=len(done),
        tag=fingerprint(study)[:16],
        on_start=started,
    )
    rows = pd.concat([frames[i] for i in range(study.n_chunks)], ignore_index=True)
    return SimulationStudyResult(
        study=study.with_cluster(scheduler, workers),
        table=summary_table(study, rows),
        replications=rows,
        out=out,
        computed=len(todo),
        resumed=len(done),
    )

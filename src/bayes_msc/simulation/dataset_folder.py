"""A simulated dataset folder for a design (``bayes-msc simulate``, :func:`bayes_msc.simulate_dataset`).

Reads the design's arms.csv (and studies.csv when present; outcomes.csv is not needed,
so the dataset reader, which requires it, is not used: :func:`check_design` does the
checks a simulation needs), simulates outcomes.csv and writes a complete dataset folder:
arms.csv (the design's text kept as it was, filled covariates added and listed in
``simulated_covariates``), studies.csv (copied), outcomes.csv, simulation_params.toml
(the parameters file as given, with the seed used), dataset.toml (``simulated = true``,
a title and a description naming the parameters file) and README.md.

The folder is written to a temporary sibling and renamed into place, so a failure leaves
nothing partial. ``--out`` must name a folder whose name contains ``simulated``; an
existing folder is replaced only when it holds nothing but these files.
"""

from __future__ import annotations

import io
import os
import re
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_msc.data.metadata import FILE as DATASET_TOML
from bayes_msc.data.metadata import metadata_text
from bayes_msc.errors import InputError, Problem
from bayes_msc.guard.arguments import check_path
from bayes_msc.guard.claims import claim, output_error
from bayes_msc.guard.limits import MAX_SEED, whole_in
from bayes_msc.guard.reading import Unreadable, folder_problem, present, read_bytes, read_text
from bayes_msc.guard.targets import check_folder_target, is_environment_error
from bayes_msc.simulation.simulate import (
    SimulationParams,
    check_design,
    fill_covariates,
    params_from_text,
    simulate_outcomes,
)

PARAMS_NAME = "simulation_params.toml"
PUBLISHED_FILES = ("published_pooled.csv", "published_metareg.csv")
"""The design's published results, copied unchanged so ``reproduce`` can set the simulated
analysis beside them (they are the publication's numbers, not simulated ones)."""
OUTPUT_FILES = ("arms.csv", "studies.csv", "outcomes.csv", PARAMS_NAME, DATASET_TOML, "README.md", *PUBLISHED_FILES)
_SEED_LINE = re.compile(r"^[ \t]*seed[ \t]*=.*$", re.MULTILINE)


def _fmt(value) -> str:
    """A number as short text (40 not 40.0); empty for NaN/None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return np.format_float_positional(float(value), trim="-")


def _read_csv(path: Path, required: bool) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(text frame kept verbatim for writing, parsed frame for computing) or (None, None)."""
    if not present(path):  # a dangling link is present: reading it reports it
        if required:
            raise InputError(Problem("file not found in the design folder", file=path.name))
        return None, None
    try:
        data = read_bytes(path)  # a regular file of bounded size only: a pipe would hang
        text = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
        parsed = pd.read_csv(io.BytesIO(data))
    except Unreadable as err:
        raise InputError(Problem(err.message, file=path.name)) from err
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(Problem(f"cannot be read as CSV: {err}", file=path.name)) from err
    return text, parsed


def with_seed(text: str, seed: int) -> str:
    """The parameters file's text with its top-level ``seed`` set to ``seed``.

    The text is kept (comments included); a top-level ``seed = ...`` line (one before the
    first table header) is replaced, or one is added at the top.
    """
    first_table = re.search(r"^[ \t]*\[", text, re.MULTILINE)
    head_end = first_table.start() if first_table else len(text)
    head, rest = text[:head_end], text[head_end:]
    if _SEED_LINE.search(head):
        head = _SEED_LINE.sub(f"seed = {seed}", head, count=1)
    else:
        head = f"seed = {seed}\n" + head
    return head + rest


def _ours(folder: Path) -> bool:
    """A folder holding nothing but what :func:`simulate_dataset` writes."""
    return all(p.name in OUTPUT_FILES for p in folder.iterdir())


def _check_out(out: Path, inputs: list[Path]) -> Path:
    if "simulated" not in out.name:
        raise InputError(
            Problem(
                f"the output folder's name must contain 'simulated' (got '{out.name}'), so "
                "that simulated data can never pass for real data",
                argument="out",
            )
        )
    return check_folder_target(
        out,
        argument="out",
        inputs=inputs,
        owned=_ours,
        what="dataset folder",
        foreign=lambda folder: (
            "exists and holds other files ("
            + ", ".join(sorted(p.name for p in folder.iterdir() if p.name not in OUTPUT_FILES)[:5])
            + "); choose a new folder or an earlier simulate output"
        ),
    )


def _params_table(params: SimulationParams) -> list[str]:
    lines = ["| outcome | month | control mean | mu | tau | sd | scale |", "|---|---|---|---|---|---|---|"]
    for op in params.outcomes:
        months = sorted(set(op.control_mean) | set(op.mu))
        scale = f"{_fmt(op.scale_min)}-{_fmt(op.scale_max)}" if op.scale_min is not None else ""
        for m in months:
            at = [v.get(m) if isinstance(v, dict) else v for v in (op.control_mean, op.mu, op.tau, op.sd)]
            effect = f"{_fmt(at[1])} | {_fmt(at[2])}" if m else "0 (baseline) | -"
            lines.append(f"| {op.name} | {_fmt(m)} | {_fmt(at[0])} | {effect} | {_fmt(at[3])} | {scale} |")
    return lines


def _readme(
    design: str,
    params_path: str,
    out: str,
    params: SimulationParams,
    seed: int,
    arms: pd.DataFrame,
    outcomes: pd.DataFrame,
) -> str:
    cmd = ["bayes-msc", "simulate", design, "--params", params_path, "--out", out, "--seed", str(seed)]
    filled = arms.loc[arms["simulated_covariates"] != "", ["study", "arm", "simulated_covariates"]]
    lines = [
        f"# {Path(out).name}: SIMULATED data",
        "",
        "Every outcome value in this folder is SIMULATED from stated parameters; none is a trial result.",
        f"The design (studies, arms, n and the reported covariates) is that of `{design}`.",
        "",
        "Made by (paths as given to the command):",
        "",
        "    " + shlex.join(cmd),
        "",
        f"Seed {seed}; parameters: `{PARAMS_NAME}` (the file given, with the seed used). "
        "The model is documented in `bayes_msc.simulation.simulate`: per study a baseline offset "
        "d ~ N(0, sd_between^2); per treatment arm a true effect mu + slopes * (x - centre) + tau * z "
        f"with z ~ N(0, 1) drawn once per {params.random_effect} and shared by all months; observed means "
        "~ N(control_mean + d + effect, sd^2 / n); observed SDs from the scaled chi-square with n - 1 df; "
        "no treatment effect at month 0 (baseline).",
        "",
        f"{arms['study'].nunique()} studies, {len(arms)} arms, {len(outcomes)} outcome rows "
        f"(outcomes: {', '.join(op.name for op in params.outcomes)}).",
        "",
        "## True parameters",
        "",
        *_params_table(params),
        "",
    ]
    published = [name for name in PUBLISHED_FILES if (Path(design) / name).is_file()]
    if published:
        lines += [
            "## Published results (not simulated)",
            "",
            f"{', '.join(f'`{n}`' for n in published)}: copied unchanged from the design folder. They are "
            "the publication's own pooled results, kept so that `bayes-msc reproduce` can set this "
            "simulated analysis beside them; they were not computed from these simulated values.",
            "",
        ]
    for op in params.outcomes:
        if op.slopes:
            terms = ", ".join(
                f"{t}: {_fmt(b)} per unit (centre {_fmt(op.centres.get(t, 0.0))})" for t, b in op.slopes.items()
            )
            lines.append(f"- {op.name} slopes: {terms}; between-study SD of the baseline {_fmt(op.sd_between)}")
        else:
            lines.append(f"- {op.name}: no slopes; between-study SD of the baseline {_fmt(op.sd_between)}")
    lines += ["", "## Simulated covariates", ""]
    if len(filled):
        lines += [
            "Arm covariates the design leaves empty were filled with simulated values (listed per arm "
            "in the `simulated_covariates` column of arms.csv) so that covariate models can use every "
            "comparison. They are not the trials' values.",
            "",
        ]
        lines += [
            f"- `{f.name}` ({', '.join(f.columns)}): {f.dist}("
            + ", ".join(f"{k}={v}" for k, v in f.args.items())
            + f"), roles {', '.join(f.roles)}, per {f.per}"
            for f in params.covariates
        ]
        lines += ["", "| study | arm | filled |", "|---|---|---|"]
        lines += [f"| {r.study} | {r.arm} | {r.simulated_covariates} |" for r in filled.itertuples()]
    else:
        lines.append("None: every covariate value in arms.csv is the design's own.")
    return "\n".join(lines) + "\n"


def dataset_toml(design: Path, out: Path, seed: int) -> str:
    """The ``dataset.toml`` of a simulated folder: it declares the data simulated and says
    where the parameters are (folder names only: the text does not depend on the paths given)."""
    title = f"{out.resolve().name}: SIMULATED outcomes on the design of {design.resolve().name}"
    description = (
        f"Every outcome value is simulated by 'bayes-msc simulate' from the true parameters in "
        f"{PARAMS_NAME} (in this folder; seed {seed}); none is a trial result. The design (studies, arms, n "
        f"and the reported covariates) is that of {design.resolve().name}. README.md gives the model, the "
        "parameters and the covariate values that were filled with simulated ones."
    )
    return metadata_text(True, title, description)


def _arms_text(text: pd.DataFrame, filled: pd.DataFrame) -> pd.DataFrame:
    """The design's arms.csv text with the filled cells (and new columns) written in."""
    out = text.copy()
    for j, cols in enumerate(filled["simulated_covariates"]):
        for col in (c for c in cols.split(";") if c):
            if col not in out.columns:
                out[col] = ""
            v = filled[col].iloc[j]
            out.loc[out.index[j], col] = _fmt(int(v) if float(v).is_integer() else float(v))
    out["simulated_covariates"] = filled["simulated_covariates"].to_numpy()
    return out


def _write_atomic(out: Path, files: dict[str, str | bytes], inputs: list[Path]) -> None:
    """Write the folder into a claimed temporary sibling, then swap it into place
    (:mod:`bayes_msc.guard.claims`: locked, stale temporaries removed, complete or absent)."""
    with claim(_check_out(out, inputs), argument="out", folder=True, what="dataset folder") as held:
        try:
            for name, content in files.items():
                if isinstance(content, bytes):
                    (held.tmp / name).write_bytes(content)
                else:
                    (held.tmp / name).write_text(content, encoding="utf-8", newline="\n")
        except OSError as err:
            if not is_environment_error(err):
                raise
            raise output_error(err, out, "out", "nothing was changed") from err
        held.commit()


def simulate_dataset(
    design: str | os.PathLike[str], params: str | os.PathLike[str], out: str | os.PathLike[str], seed: int | None = None
) -> dict[str, Any]:
    """Simulate a complete dataset folder for a design from stated true parameters.

    Parameters
    ----------
    design : path
        A folder with ``arms.csv`` (and optionally ``studies.csv`` and the published
        results, which are copied unchanged).
    params : path
        The true parameters (TOML; :mod:`bayes_msc.simulation.params`).
    out : path
        The new dataset folder; its name must contain ``simulated``. An existing folder is
        replaced only when it holds nothing but the files this function writes.
    seed : int, optional
        Overrides the parameters file's ``seed``.

    Returns
    -------
    dict
        ``out``, ``rows`` (outcome rows written), ``studies``, ``arms`` and ``seed``.

    Raises
    ------
    InputError
        A bad design, parameters file, seed or output folder; nothing is written.
    """
    design_text, out_text, params_text_path = str(design), str(out), str(params)
    design = Path(check_path(design, "design", "a folder"))
    params_path = Path(check_path(params, "params", "a TOML file"))
    out = Path(check_path(out, "out", "a folder"))
    inputs = [design, params_path]
    _check_out(out, inputs)
    try:
        params_text = read_text(params_path)  # a regular file of bounded size only
    except Unreadable as err:
        raise InputError(
            Problem(f"the parameters file {err.message}", file=str(params_path), argument="params")
        ) from err
    parsed = params_from_text(params_text, file=str(params_path), origin=PARAMS_NAME)
    seed = seed if seed is not None else parsed.seed
    if seed is None:
        raise InputError(Problem("no seed: give one, or put seed = S in the parameters file", argument="seed"))
    if not whole_in(seed, 0, MAX_SEED):
        raise InputError(
            Problem(f"the seed must be a whole number from 0 to {MAX_SEED} (2^32 - 1), not {seed!r}", argument="seed")
        )
    seed = int(seed)
    problem = folder_problem(design)
    if problem:
        what = "not found" if problem == "does not exist" else problem
        raise InputError(Problem(f"design folder '{design}' {what}", argument="design"))
    arms_text, arms = _read_csv(design / "arms.csv", required=True)
    _, studies = _read_csv(design / "studies.csv", required=False)
    assert arms is not None and arms_text is not None  # required=True raises when the file is missing
    check_design(arms, studies)
    filled = fill_covariates(arms, parsed, seed)
    outcomes = simulate_outcomes(arms, studies, parsed, seed)

    params_out = with_seed(params_text, seed)
    if params_from_text(params_out, file=PARAMS_NAME, origin=PARAMS_NAME) != replace(parsed, seed=seed):
        raise InputError(
            Problem(
                "could not record the seed in the parameters file; put a top-level "
                "'seed = S' line before the first [table]",
                file=str(params_path),
                key="seed",
            )
        )
    outcomes_text = outcomes.copy()
    for col in ("month", "n", "mean", "sd", "scale_min", "scale_max"):
        outcomes_text[col] = [_fmt(v) for v in outcomes[col].tolist()]
    files: dict[str, str | bytes] = {
        "arms.csv": _arms_text(arms_text, filled).to_csv(index=False, lineterminator="\n"),
        "outcomes.csv": outcomes_text.to_csv(index=False, lineterminator="\n"),
        PARAMS_NAME: params_out,
        DATASET_TOML: dataset_toml(design, out, seed),
        "README.md": _readme(design_text, params_text_path, out_text, parsed, seed, filled, outcomes),
    }
    for name in ("studies.csv", *PUBLISHED_FILES):
        if present(design / name):
            try:
                files[name] = read_bytes(design / name)  # a regular file of bounded size only
            except Unreadable as err:
                raise InputError(Problem(err.message, file=name)) from err
    _write_atomic(out, files, inputs)
    return {
        "out": out,
        "rows": len(outcomes),
        "studies": int(filled["study"].nunique()),
        "arms": len(filled),
        "seed": seed,
    }

"""Hostile inputs of the bad-input corpus (``tests/test_bad_input_corpus.py``), round 2.

What a hostile user or a busy server does, family by family, each with the command line
and what stderr must say (exit status 2, no traceback, nothing written):

- files read: a named pipe, ``/dev/zero``, a symbolic-link loop, a dangling link, a file
  over the 50 MB limit, in place of a dataset file, a spec, a prior-set file,
  ``dataset.toml`` or the dataset folder;
- outputs: ``--save`` onto an input (also with ``--force``), onto a file the package did
  not write, a link, a pipe, a device, a folder, under a file, an empty or too long name;
  ``--out`` empty, under a file, an input or a folder holding one, a link, a mount point;
- numbers: n of 10^19, a mean of 1e160, ``--draws 100000000``, ``--chains 100000``,
  seeds of 2^64 and -1, ``tune = 0``, draws x chains beyond the memory;
- priors at numerical extremes: HalfNormal(1e-9), Exponential(lam = 1e300),
  Uniform(0, 1e-300), Normal(1e308, 1), a mean of 1e160;
- file-safe keys: two outcomes whose files would share a name (``VAS`` and ``vas``).

Every value is invented. The edits make the files of a case folder (see
``simulated_cases.py`` for the folder and the placeholders).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from corpus_simulated_cases import (  # type: ignore[import-not-found]  # registered by the test module
    ARMS,
    CELL,
    FIT_SAVE_NEW,
    FIT_SAVE_OLD,
    OUT,
    PRIORS,
    RUN_NEW,
    RUN_OLD,
    SPEC,
    STUDIES,
    VALIDATE,
    Edit,
    append,
    case,
    sub,
)

POOL = ("pool", "{data}", *CELL)
FIT = ("fit", "{data}", *CELL, "--format", "json")


def fifo(name: str) -> Edit:
    """``name`` replaced by a named pipe (reading it would block for ever)."""

    def edit(root: Path) -> None:
        path = root / name
        if path.exists():
            path.unlink()
        os.mkfifo(path)

    return edit


def link(name: str, target: str) -> Edit:
    """``name`` replaced by a symbolic link to ``target``."""

    def edit(root: Path) -> None:
        path = root / name
        if path.is_symlink() or path.exists():
            path.unlink()
        path.symlink_to(target)

    return edit


def loop(name: str) -> Edit:
    """``name`` and ``name.2`` made symbolic links to each other."""

    def edit(root: Path) -> None:
        path = root / name
        if path.exists():
            path.unlink()
        path.symlink_to(path.name + ".2")
        path.with_name(path.name + ".2").symlink_to(path.name)

    return edit


def sparse(name: str, size: int = 60_000_000) -> Edit:
    """``name`` made a file of ``size`` bytes (sparse: nothing is written to the disk)."""

    def edit(root: Path) -> None:
        with open(root / name, "wb") as f:
            f.truncate(size)

    return edit


def write(name: str, text: str) -> Edit:
    def edit(root: Path) -> None:
        (root / name).write_text(text, encoding="utf-8")

    return edit


def prior(key: str, value: str) -> Edit:
    """The prior of ``key`` (mu or tau) of the corpus prior set ``mine`` set to ``value``."""
    old = {
        "mu": 'mu = { dist = "Normal", mu = 0.0, sigma = 50.0 }',
        "tau": 'tau = { dist = "HalfNormal", sigma = 10.0 }',
    }[key]
    return sub(PRIORS, old, f"{key} = {value}")


def save(target: str, *extra: str) -> tuple[str, ...]:
    return FIT_SAVE_OLD[:-3] + (target, "--format", "json", *extra)


def run_out(out: str) -> tuple[str, ...]:
    return ("run", "{spec}", "--out", out, "--no-progress")


LONG = "a" * 250
linux_proc = pytest.mark.skipif(not os.path.ismount("/proc"), reason="needs /proc as a mount point")

CASES = [
    # --- files read: only regular files of bounded size ------------------------------
    case("files_outcomes_fifo", [fifo(OUT)], VALIDATE, "outcomes.csv", "named pipe (FIFO)"),
    case("files_arms_fifo_run", [fifo(ARMS)], RUN_OLD, "arms.csv", "named pipe (FIFO)"),
    case("files_studies_dev_zero", [link(STUDIES, "/dev/zero")], POOL, "studies.csv", "character device"),
    case("files_arms_link_loop", [loop(ARMS)], VALIDATE, "arms.csv", "symbolic link loop"),
    case(
        "files_studies_dangling_link",
        [link(STUDIES, "nowhere.csv")],
        VALIDATE,
        "studies.csv",
        "symbolic link to 'nowhere.csv', which does not exist",
    ),
    case("files_outcomes_too_large", [sparse(OUT)], RUN_NEW, "outcomes.csv", "60.0 MB", "limited to 50.0 MB"),
    case("files_dataset_toml_fifo", [fifo("simulated_data/dataset.toml")], VALIDATE, "dataset.toml", "named pipe"),
    case("files_dataset_folder_loop", [loop("loop")], ("validate", "{root}/loop"), "symbolic link loop"),
    case("files_spec_fifo", [fifo(SPEC)], RUN_OLD, "spec.toml", "named pipe (FIFO)"),
    case("files_spec_too_large", [sparse(SPEC)], RUN_NEW, "spec.toml", "limited to 50.0 MB"),
    case("files_spec_dev_zero", [link(SPEC, "/dev/zero")], RUN_OLD, "spec.toml", "character device"),
    case("files_priors_fifo", [fifo(PRIORS)], RUN_OLD, "priors.toml", "named pipe (FIFO)"),
    case(
        "files_fit_priors_dev_zero",
        [],
        FIT + ("--priors", "/dev/zero", "--prior", "mine"),
        "/dev/zero",
        "character device",
    ),
    case("files_priors_dangling", [link(PRIORS, "gone.toml")], RUN_OLD, "priors.toml", "which does not exist"),
    # --- fit --save: never an input, a link, a pipe, a device or a foreign file ------
    case("save_onto_dataset_file", [], save("{data}/arms.csv"), "option '--save'", "is an input of this call"),
    case(
        "save_onto_dataset_file_forced",
        [],
        save("{data}/outcomes.csv", "--force"),
        "option '--save'",
        "is an input of this call",
    ),
    case(
        "save_onto_prior_file_forced",
        [],
        save("{priors}", "--priors", "{priors}", "--prior", "mine", "--force"),
        "option '--save'",
        "is an input of this call",
    ),
    case(
        "save_onto_foreign_file",
        [write("notes.txt", "my notes\n")],
        save("{root}/notes.txt"),
        "option '--save'",
        "was not written by bayes-msc",
        "--force",
    ),
    case("save_onto_link", [link("link.nc", "previous.nc")], save("{root}/link.nc"), "symbolic link"),
    case("save_onto_dangling_link", [link("link.nc", "nowhere.nc")], save("{root}/link.nc"), "symbolic link"),
    case("save_onto_fifo", [fifo("pipe.nc")], save("{root}/pipe.nc"), "named pipe (FIFO)", "only a regular file"),
    case("save_onto_device", [], save("/dev/null"), "character device", "only a regular file"),
    case("save_onto_folder", [], save("{data}"), "is a folder"),
    case("save_empty_name", [], save(""), "option '--save'", "empty string"),
    case("save_under_a_file", [], save("{spec}/x.nc"), "a part of its path is a file"),
    case("save_name_too_long", [], save("{root}/" + LONG + ".nc"), "has a name of 253 bytes"),
    case("save_folder_missing", [], save("{root}/no_folder/x.nc"), "no_folder", "does not exist"),
    # --- run --out: checked before any work -----------------------------------------
    case("out_empty", [], run_out(""), "option '--out'", "not ''"),
    case("out_under_a_file", [], run_out("{spec}/report"), "option '--out'", "a part of its path is a file"),
    case("out_is_the_dataset", [], run_out("{data}"), "option '--out'", "not a bayes-msc report folder"),
    case(
        "out_holds_the_spec",
        [
            lambda root: (root / "previous_report" / "spec.toml").write_text(
                (root / SPEC)
                .read_text()
                .replace('"simulated_data"', '"../simulated_data"')
                .replace('"priors.toml"', '"../priors.toml"')
            )
        ],
        ("run", "{old_out}/spec.toml", "--out", "{old_out}", "--no-progress"),
        "option '--out'",
        "holds an input of this call",
    ),
    case("out_is_a_link", [link("link_report", "previous_report")], run_out("{root}/link_report"), "symbolic link"),
    case("out_is_the_working_folder", [], run_out("."), "the working folder"),
    case("out_is_a_mount_point", [], run_out("/proc"), "mount point", marks=(linux_proc,)),
    case("out_name_too_long", [], run_out("{root}/" + LONG), "has a name of 250 bytes"),
    case(
        "simulate_out_onto_its_design",
        [],
        ("simulate", "{data}", "--params", "{root}/params.toml", "--out", "{data}", "--seed", "1"),
        "option '--out'",
        "holds an input of this call",
    ),
    # --- numbers: counts, seeds and values in range ---------------------------------
    case(
        "numbers_n_wraps_int64",
        [sub(ARMS, "S1,msc,treatment,20,", "S1,msc,treatment,10000000000000000000,")],
        POOL,
        "arms.csv, row 2, column 'n'",
        "from 1 to 10^9",
    ),
    case(
        "numbers_mean_1e160",
        [sub(OUT, "S1,msc,vas,6,,45,18", "S1,msc,vas,6,,1e160,18")],
        FIT_SAVE_NEW,
        "outcomes.csv, row 4, column 'mean'",
        "too large",
    ),
    case("numbers_draws_1e8", [], FIT + ("--draws", "100000000"), "option '--draws'", "from 10 to 1e7"),
    case("numbers_chains_1e5", [], FIT + ("--chains", "100000"), "option '--chains'", "from 1 to 1000"),
    case("numbers_seed_2_64", [], FIT + ("--seed", str(2**64)), "option '--seed'", "4294967295"),
    case(
        "numbers_memory",
        [],
        FIT + ("--engine", "mcmc", "--draws", "10000000", "--chains", "1000"),
        "option '--draws'",
        "of memory",
    ),
    case("numbers_spec_tune_zero", [sub(SPEC, "tune = 100", "tune = 0")], RUN_OLD, "key 'bayes.tune'", "from 1 to"),
    case(
        "numbers_spec_seed_2_64",
        [sub(SPEC, "seed = 1", f"seed = {2**63 - 1}")],
        RUN_NEW,
        "key 'bayes.seed'",
        "from 0 to 4294967295",
    ),
    case(
        "numbers_spec_memory",
        [sub(SPEC, "draws = 100", "draws = 10000000"), sub(SPEC, "chains = 2", "chains = 1000")],
        RUN_OLD,
        "key 'bayes.draws'",
        "of memory",
    ),
    # --- priors at numerical extremes: refused at validation, naming key and range --
    case(
        "priors_halfnormal_1e-9",
        [prior("tau", '{ dist = "HalfNormal", sigma = 1e-9 }')],
        RUN_OLD,
        "key 'prior_sets.mine.tau'",
        "'sigma' of HalfNormal is 1e-09; allowed: 1e-06 to 1e+06",
    ),
    case(
        "priors_exponential_lam_1e300",
        [prior("tau", '{ dist = "Exponential", lam = 1e300 }')],
        FIT + ("--priors", "{priors}", "--prior", "mine", "--engine", "mcmc"),
        "key 'prior_sets.mine.tau'",
        "'lam' of Exponential is 1e+300",
    ),
    case(
        "priors_uniform_width_1e-300",
        [prior("tau", '{ dist = "Uniform", lower = 0.0, upper = 1e-300 }')],
        FIT + ("--priors", "{priors}", "--prior", "mine", "--engine", "exact"),
        "key 'prior_sets.mine.tau'",
        "width upper - lower is 1e-300",
    ),
    case(
        "priors_normal_mean_1e308",
        [prior("mu", '{ dist = "Normal", mu = 1e308, sigma = 1.0 }')],
        RUN_NEW,
        "key 'prior_sets.mine.mu'",
        "'mu' of Normal is 1e+308; allowed: -1e+06 to 1e+06",
    ),
    case(
        "priors_normal_mean_1e160",
        [prior("mu", '{ dist = "Normal", mu = 1e160, sigma = 10.0 }')],
        ("compare-priors", "{data}", *CELL, "--priors", "{priors}"),
        "key 'prior_sets.mine.mu'",
        "'mu' of Normal is 1e+160",
    ),
    case(
        "priors_log_tau2_extreme",
        [
            sub(
                PRIORS,
                'tau = { dist = "HalfNormal", sigma = 10.0 }',
                'log_tau2_smd = { dist = "Normal", mu = -300.0, sigma = 1.5 }',
            )
        ],
        RUN_OLD,
        "key 'prior_sets.mine.log_tau2_smd'",
        "allowed: -30 to 30",
    ),
    # --- file-safe keys: files of two fits never share a name -----------------------
    case(
        "keys_outcomes_differ_in_case",
        [
            append(
                OUT, "S1,msc,VAS,6,,45,18,,,,,final,0,100,simulated\nS1,ctl,VAS,6,,55,17,,,,,final,0,100,simulated\n"
            ),
            sub(SPEC, 'outcomes = ["vas"]', 'outcomes = ["vas", "VAS"]'),
        ],
        RUN_NEW,
        "key 'analysis.outcomes'",
        "would write files of one name",
    ),
]

"""The bad-input corpus: malformed dataset files, spec and prior TOML files and command
lines, each run through the command line in its own process.

The cases (``tests/corpus/simulated_cases.py``) edit copies of the invented dataset
``tests/corpus/simulated_base`` and of ``simulated_spec.toml``/``simulated_priors.toml``
in a fresh folder, run ``bayes-msc ARGV`` there and check the promises of docs/FORMAT.md and README's 'Errors and guarantees':

- exit status 2;
- stderr says what is wrong, one problem per line, naming the file, row and column where
  they apply (each case lists the substrings it expects), and holds no traceback;
- nothing is written: the folder, holding an earlier report (``previous_report/``) and an
  earlier posterior file (``previous.nc``), is byte-identical afterwards, and the outputs
  the command was pointed at but that did not exist (``new_report/``, ``new.nc``, the
  default ``reports/``) were not created.

The command lines use every verb, and ``run --out`` / ``fit --save`` with both an existing
and a missing target. Each runs in a child process forked from a server that has the
command-line modules imported (``tests/corpus/cli_runner.py``: over a second saved per
case); a few run through a plain ``python -m bayes_msc`` subprocess as well. Odd but valid
files (UTF-8 BOM, quoted fields, extra unused columns, Windows line ends, blank lines) must
be accepted and read exactly as the plain ones.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "corpus"
BASE = CORPUS / "simulated_base"
SUMMARY_FORMAT = "bayes-msc run summary 1"  # presentation.report.writer.SUMMARY_FORMAT


def _load(name: str, path: Path):
    """A helper module of tests/corpus (registered in sys.modules: dataclasses need it)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


corpus = _load("corpus_simulated_cases", CORPUS / "simulated_cases.py")
hostile = _load("corpus_hostile_cases", CORPUS / "hostile_cases.py")
Case, ODD = corpus.Case, corpus.ODD
CASES = corpus.CASES + hostile.CASES
SPEC, PRIORS, ARMS = corpus.SPEC, corpus.PRIORS, corpus.ARMS
EFFECTS, VALIDATE = corpus.EFFECTS, corpus.VALIDATE


# ---------------------------------------------------------------------- harness


@functools.cache
def earlier_posterior() -> bytes:
    """A small posterior file as ``fit --save`` writes it (so that it may be replaced)."""
    import numpy as np
    import xarray as xr

    from bayes_msc.bayes.saved import netcdf_bytes

    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({"mu": (("chain", "draw"), np.zeros((1, 3)))})})
    return netcdf_bytes(tree)


def make_root(root: Path) -> dict[str, str]:
    """The base files and earlier outputs of one case; returns the argv placeholders."""
    shutil.copytree(BASE, root / "simulated_data")
    shutil.copy(CORPUS / "simulated_spec.toml", root / SPEC)
    shutil.copy(CORPUS / "simulated_priors.toml", root / PRIORS)
    old = root / "previous_report"
    (old / "tables").mkdir(parents=True)
    (old / "summary.json").write_text(json.dumps({"format": SUMMARY_FORMAT, "spec": "earlier"}) + "\n")
    (old / "index.html").write_text("<html>an earlier report</html>\n")
    (old / "tables" / "bayes.csv").write_text("term,estimate\nmu,-1\n")
    (root / "previous.nc").write_bytes(earlier_posterior())
    return {
        "root": str(root),
        "data": str(root / "simulated_data"),
        "spec": str(root / SPEC),
        "priors": str(root / PRIORS),
        "old_out": str(old),
        "new_out": str(root / "new_report"),
        "old_nc": str(root / "previous.nc"),
        "new_nc": str(root / "new.nc"),
    }


def snapshot(root: Path) -> dict[str, bytes | str | None]:
    """Every folder (None), file (its bytes), link (where it points) and other node (its
    kind: a pipe is never opened) under ``root``; links are not followed."""
    out: dict[str, bytes | str | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            out[rel] = "link to " + os.readlink(path)
        elif stat.S_ISDIR(mode):
            out[rel] = None
        elif stat.S_ISREG(mode):
            out[rel] = path.read_bytes()
        else:
            out[rel] = f"node {stat.S_IFMT(mode):o}"
    return out


@pytest.fixture(scope="module")
def runner():
    r = _load("corpus_cli_runner", CORPUS / "cli_runner.py").CliRunner()
    yield r
    r.close()


def cli(argv, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m bayes_msc ARGV`` in a plain subprocess (progress bars off: stderr is a pipe)."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("BAYES_MSC_PROFILE", None)
    return subprocess.run(
        [sys.executable, "-m", "bayes_msc", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


def check_clean_failure(res, c: Case) -> None:
    err = res.stderr
    assert res.returncode == 2, f"exit status {res.returncode}, expected 2\nstderr:\n{err}"
    assert "Traceback" not in err, err
    for fragment in c.expect:
        assert fragment in err, f"{fragment!r} not in stderr:\n{err}"
    lines = [line for line in err.splitlines() if line.strip()]
    verb = c.argv[0]
    if c.usage:  # argparse: a usage text, then one 'bayes-msc VERB: error: ...' line
        assert lines[-1].startswith("bayes-msc") and ": error: " in lines[-1], err
    else:  # one problem per line, each prefixed by the command
        assert lines, "no message on stderr"
        assert all(line.startswith(f"bayes-msc {verb}: ") for line in lines), err


def run_case(c: Case, tmp_path: Path, run) -> None:
    root = tmp_path / "case"
    root.mkdir()
    subst = make_root(root)
    for edit in c.edits:
        edit(root)
    before = snapshot(root)
    argv = [a.format(**subst) for a in c.argv]
    res = run(argv, cwd=root)
    check_clean_failure(res, c)
    after = snapshot(root)
    assert sorted(set(after) - set(before)) == [], "created"
    assert sorted(set(before) - set(after)) == [], "removed"
    changed = [k for k in before if before[k] != after[k]]
    assert changed == [], "changed"


@pytest.mark.parametrize("c", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input_fails_cleanly_and_writes_nothing(c: Case, tmp_path: Path, runner) -> None:
    run_case(c, tmp_path, runner.run)


PLAIN = ("outcomes_sd_negative", "arms_duplicate_row", "spec_unknown_key", "cli_unknown_method", "fit_unknown_prior")


@pytest.mark.parametrize("c", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES if c.id in PLAIN])
def test_bad_input_through_the_installed_entry_point(c: Case, tmp_path: Path) -> None:
    """A few cases through a plain ``python -m bayes_msc`` subprocess, as a user runs it
    (the fast runner forks from a server that has the modules imported already)."""
    run_case(c, tmp_path, cli)


def test_corpus_is_large_and_covers_every_kind_of_input() -> None:
    kinds = {c.id.split("_")[0] for c in CASES}
    assert {"arms", "outcomes", "studies", "spec", "priors", "cli", "fit"} <= kinds
    assert len(CASES) >= 30
    verbs = {c.argv[0] for c in CASES}
    assert {"validate", "effects", "pool", "metareg", "fit", "run"} <= verbs
    outputs = {a for c in CASES for a in c.argv if a.startswith("{") and a.endswith("}")}
    assert {"{old_out}", "{new_out}", "{old_nc}", "{new_nc}"} <= outputs


@pytest.fixture(scope="module")
def plain_effects(tmp_path_factory, runner) -> str:
    root = tmp_path_factory.mktemp("plain")
    subst = make_root(root)
    res = runner.run([a.format(**subst) for a in EFFECTS], cwd=root)
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.mark.parametrize("name", list(ODD))
def test_odd_but_valid_files_are_read_like_plain_ones(name: str, tmp_path: Path, plain_effects: str, runner) -> None:
    root = tmp_path / "case"
    root.mkdir()
    subst = make_root(root)
    for edit in ODD[name]:
        edit(root)
    res = runner.run([a.format(**subst) for a in VALIDATE], cwd=root)
    assert res.returncode == 0, res.stderr
    assert "valid" in res.stdout
    res = runner.run([a.format(**subst) for a in EFFECTS], cwd=root)
    assert res.returncode == 0, res.stderr
    assert res.stdout == plain_effects  # the same effect table, byte for byte


# --------------------------------------------------- messages that should be sharper


def test_unclosed_quote_names_the_row_where_it_opens(tmp_path: Path, runner) -> None:
    root = tmp_path / "case"
    root.mkdir()
    subst = make_root(root)
    corpus.sub(ARMS, "S3,msc", '"S3,msc')(root)
    res = runner.run(["validate", subst["data"]], cwd=root)
    assert res.returncode == 2
    assert "arms.csv, row 7" in res.stderr, res.stderr

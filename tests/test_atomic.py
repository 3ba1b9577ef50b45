"""Atomic outputs: a report or a posterior file is complete or absent, never partial.

``bayes-msc run`` builds its report in a temporary sibling of ``--out`` and moves it into
place at the end; ``fit --save`` (:func:`bayes_msc.bayes.mcmc.summary.save_datatree`)
writes a temporary file in the target folder and renames it. Checked here:

- a finished run replaces an earlier report and leaves no temporary folder behind;
- a run that fails while writing, or is interrupted (SIGINT) while it is fitting, leaves
  the earlier report byte-identical, creates no report where there was none, and leaves
  no temporary folder; the command exits with status 130 and says nothing was written;
- a saved posterior replaces an earlier file only when complete (a failing write keeps
  the earlier file and leaves no temporary file), and reloads (``arviz.from_netcdf``) to
  the very summaries the fit reported.

The SIGINT tests start ``python -m bayes_msc run`` with stderr on a pseudo-terminal, so
that its progress bar shows, and interrupt it once the bar says it is fitting.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bayes_msc.data.effects import effect_table
from bayes_msc.data.reader import read_dataset
from bayes_msc.errors import InputError
from bayes_msc.priors import PriorSet

TESTS = Path(__file__).resolve().parent
CORPUS = TESTS / "corpus"
BASE = CORPUS / "simulated_base"
SUMMARY_FORMAT = "bayes-msc run summary 1"  # presentation.report.writer.SUMMARY_FORMAT

SECOND_PRIOR = """
[prior_sets.mine2]
description = "a second test prior set of the same families (the compiled model is reused)"
mu = { dist = "Normal", mu = 0.0, sigma = 40.0 }
tau = { dist = "HalfNormal", sigma = 8.0 }
"""


def _root(root: Path, *, exact: bool = False, draws: int = 100, two_priors: bool = False) -> Path:
    """A folder with the corpus dataset, prior file and a spec (``spec.toml``) to run."""
    shutil.copytree(BASE, root / "simulated_data")
    priors = (CORPUS / "simulated_priors.toml").read_text() + (SECOND_PRIOR if two_priors else "")
    (root / "priors.toml").write_text(priors)
    spec = (CORPUS / "simulated_spec.toml").read_text()
    spec = spec.replace("draws = 100", f"draws = {draws}")
    spec = spec.replace('engine = "mcmc"', 'engine = "exact"') if exact else spec
    if two_priors:
        spec = spec.replace('priors = ["mine"]', 'priors = ["mine", "mine2"]\nparameterisation = "noncentred"')
    (root / "spec.toml").write_text(spec)
    return root


def _previous(out: Path) -> dict[str, bytes]:
    """An earlier report in ``out``; returns its files."""
    (out / "tables").mkdir(parents=True)
    (out / "summary.json").write_text(json.dumps({"format": SUMMARY_FORMAT, "spec": "earlier"}) + "\n")
    (out / "index.html").write_text("<html>the earlier report</html>\n")
    (out / "tables" / "bayes.csv").write_text("term,estimate\nmu,-1\n")
    return _files(out)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _leftovers(parent: Path) -> list[str]:
    """Temporary siblings a run may create (``.NAME.tmp-*``, ``.NAME.old-*``)."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ------------------------------------------------------------------------------- run


def test_finished_run_replaces_the_previous_report(tmp_path: Path) -> None:
    root = _root(tmp_path, exact=True)
    _previous(root / "report")
    res = subprocess.run(
        [sys.executable, "-m", "bayes_msc", "run", "spec.toml", "--out", "report", "--no-progress"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads((root / "report" / "summary.json").read_text())
    assert summary["format"] == SUMMARY_FORMAT and summary["spec"] == "spec"
    assert (root / "report" / "index.html").read_text() != "<html>the earlier report</html>\n"
    assert _leftovers(root) == []


def test_run_failing_while_writing_leaves_the_previous_report(tmp_path: Path, monkeypatch) -> None:
    from bayes_msc.cli import main as cli
    from bayes_msc.report import folder as report_folder

    root = _root(tmp_path, exact=True)
    before = _previous(root / "report")

    def failing_write(res, out, timer):  # writes part of a report, then the disk is full
        (out / "summary.json").write_text("{partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_folder, "write_report", failing_write)
    monkeypatch.chdir(root)
    with pytest.raises(OSError, match="No space left"):
        cli.main(["run", "spec.toml", "--out", "report", "--no-progress"])
    assert _files(root / "report") == before
    with pytest.raises(OSError, match="No space left"):
        cli.main(["run", "spec.toml", "--out", "new_report", "--no-progress"])
    assert not (root / "new_report").exists()
    assert _leftovers(root) == []


def _run_with_terminal(root: Path, argv: list[str]) -> tuple[subprocess.Popen, int]:
    """Start ``bayes-msc ARGV`` with stderr on a pseudo-terminal (80 columns: the progress
    bar shows); return the process and the terminal's reading end."""
    master, slave = pty.openpty()
    import fcntl

    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bayes_msc", *argv],
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    return proc, master


def _read(master: int, until: float) -> bytes:
    """What the terminal shows until ``until`` (or until the process closes it)."""
    out = b""
    while time.monotonic() < until:
        ready, _, _ = select.select([master], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the process closed the terminal: it ended
            break
        if not chunk:
            break
        out += chunk
    return out


def _wait_for(master: int, proc: subprocess.Popen, text: bytes, timeout: float) -> bytes:
    seen, end = b"", time.monotonic() + timeout
    while text not in seen and proc.poll() is None and time.monotonic() < end:
        seen += _read(master, min(end, time.monotonic() + 0.5))
    return seen


def _interrupt(proc: subprocess.Popen, master: int) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = _read(master, time.monotonic() + 2).decode("utf-8", "replace")
    os.close(master)
    proc.stdout.close()
    return proc.returncode, err


def _check_interrupted(root: Path, status: int, err: str, before: dict[str, bytes]) -> None:
    assert status == 130, f"exit status {status}\n{err}"
    assert "interrupted" in err and "nothing was written" in err, err
    assert "Traceback" not in err, err
    assert _files(root / "report") == before
    assert not (root / "new_report").exists()
    assert _leftovers(root) == []


@pytest.mark.parametrize("out", ["report", "new_report"])
def test_sigint_while_fitting_leaves_the_previous_report(tmp_path: Path, out: str) -> None:
    root = _root(tmp_path)
    before = _previous(root / "report")
    proc, master = _run_with_terminal(root, ["run", "spec.toml", "--out", out])
    seen = _wait_for(master, proc, b"Bayesian fits", timeout=600)
    assert b"Bayesian fits" in seen, seen.decode("utf-8", "replace")
    time.sleep(0.3)  # now fitting: the first fit imports PyMC and compiles its model
    status, err = _interrupt(proc, master)
    _check_interrupted(root, status, seen.decode("utf-8", "replace") + err, before)


@pytest.mark.slow
def test_sigint_while_sampling_leaves_the_previous_report(tmp_path: Path) -> None:
    # Two fits of one compiled model: once the first posterior is saved, the second is sampling.
    root = _root(tmp_path, draws=50000, two_priors=True)
    before = _previous(root / "report")
    proc, master = _run_with_terminal(root, ["run", "spec.toml", "--out", "report"])
    seen = _wait_for(master, proc, b"Bayesian fits", timeout=600)
    end = time.monotonic() + 900
    while not list(root.glob(".report.tmp-*/posteriors/*.nc")) and proc.poll() is None and time.monotonic() < end:
        seen += _read(master, time.monotonic() + 0.2)
    assert proc.poll() is None, "the run ended before its second fit"
    time.sleep(1.0)
    status, err = _interrupt(proc, master)
    _check_interrupted(root, status, seen.decode("utf-8", "replace") + err, before)


def test_report_permissions_follow_the_umask(tmp_path: Path) -> None:
    root = _root(tmp_path, exact=True)
    res = subprocess.run(
        [sys.executable, "-m", "bayes_msc", "run", "spec.toml", "--out", "report", "--no-progress"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    mask = _umask()
    modes = {
        p.relative_to(root).as_posix(): stat.S_IMODE(p.stat().st_mode)
        for p in [root / "report", *(root / "report").rglob("*")]
    }
    wrong = {
        name: oct(mode) for name, mode in modes.items() if mode != (0o777 if (root / name).is_dir() else 0o666) & ~mask
    }
    assert wrong == {}


# ----------------------------------------------------------------------- fit --save


def _prior() -> PriorSet:
    return PriorSet.from_dict(
        "atomic", {"mu": {"dist": "Normal", "mu": 0.0, "sigma": 50.0}, "tau": {"dist": "HalfNormal", "sigma": 10.0}}
    )


@pytest.fixture(scope="module")
def table():
    return effect_table(read_dataset(BASE), "vas", 6)


def test_saved_posterior_replaces_the_old_file_and_reloads_to_identical_summaries(table, tmp_path: Path) -> None:
    import arviz as az

    from bayes_msc.bayes.fit import fit
    from bayes_msc.bayes.mcmc import summary as bs

    path = tmp_path / "posterior.nc"
    path.write_bytes(b"an earlier posterior")
    res = fit(
        table,
        prior=_prior(),
        draws=200,
        tune=200,
        chains=2,
        seed=3,
        parameterisation="noncentred",
        engine="mcmc",
        save=path,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posterior.nc"]  # no temporary file left
    loaded = az.from_netcdf(path)
    again = bs.parameter_table(bs.reported(loaded.posterior.dataset, res.covariates), res.ci_prob)
    assert again.equals(res.parameters)
    np.testing.assert_array_equal(np.asarray(loaded.posterior["mu"]).reshape(-1), res.draws_of("mu"))
    assert json.loads(loaded.attrs["prior_set"]) == res.prior_spec
    assert json.loads(loaded.attrs["options"])["seed"] == 3
    divergences = int(np.asarray(loaded.sample_stats["diverging"]).sum())
    assert divergences == res.divergences


class _FailingTree:
    """Stands in for a DataTree whose write fails half-way (disk full)."""

    subtree = ()  # no groups: nothing to encode

    def to_netcdf(self, path, engine=None, encoding=None):
        Path(path).write_bytes(b"\x89HDF partial")
        raise OSError(28, "No space left on device")


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    from bayes_msc.bayes.mcmc.summary import save_datatree

    path = tmp_path / "posterior.nc"
    path.write_bytes(b"an earlier posterior")
    with pytest.raises(OSError, match="No space left"):
        save_datatree(_FailingTree(), path)
    assert path.read_bytes() == b"an earlier posterior"
    with pytest.raises(OSError, match="No space left"):
        save_datatree(_FailingTree(), tmp_path / "new.nc")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posterior.nc"]


def test_save_folder_is_checked_before_sampling(table, tmp_path: Path, monkeypatch) -> None:
    from bayes_msc.bayes import fit as bayes_fit
    from bayes_msc.bayes.mcmc import run as mcmc_run

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampled before checking the --save folder")

    monkeypatch.setattr(mcmc_run, "sample", no_sampling)
    with pytest.raises(InputError, match="does not exist"):
        bayes_fit.fit(table, prior=_prior(), draws=100, tune=100, chains=1, save=tmp_path / "missing" / "x.nc")


def test_interrupt_while_sampling_stops_the_fit(table) -> None:
    from bayes_msc.bayes.fit import fit

    kw = {"prior": _prior(), "tune": 100, "chains": 2, "seed": 5, "parameterisation": "noncentred", "engine": "mcmc"}
    fit(table, draws=100, **kw)  # compile first, so that the interrupt comes while sampling
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    outcome = "returned"
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer.start()
        try:
            fit(table, draws=2_000_000, **kw)
        except KeyboardInterrupt:
            outcome = "interrupted"
        finally:
            timer.cancel()
            timer.join()
    except KeyboardInterrupt:  # never let a stray interrupt stop the test session
        outcome = "interrupted late"
    finally:
        signal.signal(signal.SIGINT, previous)
    assert outcome == "interrupted"

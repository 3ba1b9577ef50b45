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


def test_run_failing_while_writing_leaves_the_previous_report(tmp_path: Path, monkeypatch, capsys) -> None:
    from bayes_msc.cli import main as cli
    from bayes_msc.report import folder as report_folder

    root = _root(tmp_path, exact=True)
    before = _previous(root / "report")

    def failing_write(res, out, timer):  # writes part of a report, then the disk is full
        (out / "summary.json").write_text("{partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_folder, "write_report", failing_write)
    monkeypatch.chdir(root)
    assert cli.main(["run", "spec.toml", "--out", "report", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "option '--out'" in err and "No space left on device (ENOSPC)" in err, err
    assert "the previous report is unchanged" in err and "Traceback" not in err
    assert _files(root / "report") == before
    assert cli.main(["run", "spec.toml", "--out", "deeper/new_report", "--no-progress"]) == 2
    assert "no report was written" in capsys.readouterr().err
    assert not (root / "deeper").exists()  # the parent folder it made is gone too
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
    # Two fits of one compiled model: once the progress bar counts the first fit, the second is sampling.
    # (Posterior files are written with the report, after every fit, so the bar is the signal.)
    root = _root(tmp_path, draws=50000, two_priors=True)
    before = _previous(root / "report")
    proc, master = _run_with_terminal(root, ["run", "spec.toml", "--out", "report"])
    seen = _wait_for(master, proc, b"Bayesian fits", timeout=600)
    end = time.monotonic() + 900
    while b"1/2" not in seen and proc.poll() is None and time.monotonic() < end:
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


def test_a_run_with_worker_pools_prints_no_traceback(tmp_path: Path) -> None:
    # Posterior files and figures are written by forked pools (2 or more CPUs); a pool's
    # shutdown sends its workers SIGTERM, which the inherited stop handler once turned
    # into a traceback per worker on stderr, after a successful run.
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: the report is written without worker pools")
    root = _root(tmp_path, exact=True, two_priors=True)
    res = subprocess.run(
        [sys.executable, "-m", "bayes_msc", "run", "spec.toml", "--out", "report", "--no-progress"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert len(list((root / "report" / "posteriors").glob("*.nc"))) >= 2
    assert "Traceback" not in res.stderr and "Interrupted" not in res.stderr, res.stderr


# ----------------------------------------------------------------------- fit --save


def _prior() -> PriorSet:
    return PriorSet.from_dict(
        "atomic", {"mu": {"dist": "Normal", "mu": 0.0, "sigma": 50.0}, "tau": {"dist": "HalfNormal", "sigma": 10.0}}
    )


@pytest.fixture(scope="module")
def table():
    return effect_table(read_dataset(BASE), "vas", 6)


def _earlier_posterior(path: Path) -> bytes:
    """A small posterior file as ``fit --save`` writes it, at ``path``; returns its bytes."""
    import xarray as xr

    from bayes_msc.bayes.saved import netcdf_bytes

    data = netcdf_bytes(xr.DataTree.from_dict({"posterior": xr.Dataset({"mu": (("chain", "draw"), np.ones((1, 3)))})}))
    path.write_bytes(data)
    return data


def test_saved_posterior_replaces_the_old_file_and_reloads_to_identical_summaries(table, tmp_path: Path) -> None:
    import arviz as az

    from bayes_msc.bayes.fit import fit
    from bayes_msc.bayes.mcmc import summary as bs

    path = tmp_path / "posterior.nc"
    _earlier_posterior(path)
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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posterior.nc"]  # no temporary or lock file left
    loaded = az.from_netcdf(path)
    again = bs.parameter_table(bs.reported(loaded.posterior.dataset, res.covariates), res.ci_prob)
    assert again.equals(res.parameters)
    np.testing.assert_array_equal(np.asarray(loaded.posterior["mu"]).reshape(-1), res.draws_of("mu"))
    assert json.loads(loaded.attrs["prior_set"]) == res.prior_spec
    assert json.loads(loaded.attrs["options"])["seed"] == 3
    assert loaded.attrs["created_by"] == "bayes-msc"
    divergences = int(np.asarray(loaded.sample_stats["diverging"]).sum())
    assert divergences == res.divergences


def test_save_replaces_a_foreign_file_only_when_forced(table, tmp_path: Path) -> None:
    from bayes_msc.bayes.fit import fit

    path = tmp_path / "notes.nc"
    path.write_bytes(b"a file of someone else")
    kw = {"prior": _prior(), "draws": 100, "tune": 100, "chains": 1, "seed": 3, "parameterisation": "noncentred"}
    with pytest.raises(InputError, match="was not written by bayes-msc") as info:
        fit(table, save=path, **kw)
    assert info.value.problems[0].argument == "save"
    assert path.read_bytes() == b"a file of someone else"
    fit(table, save=path, force=True, **kw)
    assert path.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"


def test_cli_save_force_replaces_a_foreign_file(tmp_path: Path) -> None:
    # --force reaches the fit itself: the file is replaced, not refused a second time.
    from bayes_msc.cli.main import main

    path = tmp_path / "notes.nc"
    path.write_bytes(b"a file of someone else")
    args = ["fit", str(BASE), "--outcome", "vas", "--month", "6", "--engine", "exact", "--save", str(path)]
    assert main([*args, "--no-progress"]) == 2
    assert path.read_bytes() == b"a file of someone else"
    assert main([*args, "--no-progress", "--force"]) == 0
    assert path.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path: Path, monkeypatch) -> None:
    import xarray as xr

    from bayes_msc.bayes.mcmc.summary import save_datatree
    from bayes_msc.guard import claims

    def disk_full(fd, data):  # half the file reaches the disk, then it is full
        os.write(fd, bytes(memoryview(data)[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(claims, "_write_all", disk_full)
    path = tmp_path / "posterior.nc"
    before = _earlier_posterior(path)
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({"mu": (("chain", "draw"), np.zeros((2, 50)))})})
    with pytest.raises(InputError, match="No space left on device") as info:
        save_datatree(tree, path)
    assert "the previous posterior file is unchanged" in str(info.value)
    assert path.read_bytes() == before
    with pytest.raises(InputError, match="nothing was written"):
        save_datatree(tree, tmp_path / "new.nc")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posterior.nc"]


def test_save_folder_is_checked_before_sampling(table, tmp_path: Path, monkeypatch) -> None:
    from bayes_msc.bayes import fit as bayes_fit
    from bayes_msc.bayes.mcmc import run as mcmc_run

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampled before checking the --save folder")

    monkeypatch.setattr(mcmc_run, "sample", no_sampling)
    with pytest.raises(InputError, match="does not exist"):
        bayes_fit.fit(table, prior=_prior(), draws=100, tune=100, chains=1, save=tmp_path / "missing" / "x.nc")
    (tmp_path / "mine.txt").write_text("not a posterior")
    with pytest.raises(InputError, match="not written by bayes-msc"):
        bayes_fit.fit(table, prior=_prior(), draws=100, tune=100, chains=1, save=tmp_path / "mine.txt")


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


# ------------------------------------------------- signals, killed runs, concurrent runs


def _start_run(root: Path, out: str = "report") -> subprocess.Popen:
    """``python -m bayes_msc run`` in ``root``, once its output is claimed (its temporary
    folder exists: the inputs were checked and the work starts)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bayes_msc", "run", "spec.toml", "--out", out, "--no-progress"],
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    end = time.monotonic() + 120
    while not list(root.glob(f".{out}.tmp-*")) and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()
    return proc


def _stop(proc: subprocess.Popen, sig: int) -> tuple[int, str]:
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_like_ctrl_c(tmp_path: Path, name: str) -> None:
    # What `timeout`, CI runners and service managers send: exit 128 + the signal, the
    # previous report intact, no temporary folder and no lock left.
    sig = getattr(signal, name)
    root = _root(tmp_path)
    before = _previous(root / "report")
    proc = _start_run(root)
    time.sleep(0.3)  # now working: reading its inputs again, importing PyMC
    status, err = _stop(proc, sig)
    assert status == 128 + sig, f"exit status {status}\n{err}"
    assert f"interrupted ({name})" in err and "nothing was written" in err and "Traceback" not in err, err
    assert _files(root / "report") == before
    assert _leftovers(root) == []


def test_sigint_while_claimed_leaves_no_new_report(tmp_path: Path) -> None:
    root = _root(tmp_path)
    proc = _start_run(root, "new_report")
    time.sleep(0.3)
    status, err = _stop(proc, signal.SIGINT)
    assert status == 130, err
    assert not (root / "new_report").exists()
    assert _leftovers(root) == []


def test_what_a_killed_run_left_is_removed_by_the_next_run(tmp_path: Path) -> None:
    root = _root(tmp_path)
    before = _previous(root / "report")
    proc = _start_run(root)
    time.sleep(0.3)
    status, _ = _stop(proc, signal.SIGKILL)  # no clean-up is possible
    assert status == -signal.SIGKILL
    left = _leftovers(root)
    assert ".report.lock" in left and any(n.startswith(".report.tmp-") for n in left), left
    assert _files(root / "report") == before
    from bayes_msc.report.folder import claim_out

    with claim_out(root / "report"):  # what the next run on this --out does first
        temporaries = [n for n in _leftovers(root) if ".tmp-" in n]
        assert len(temporaries) == 1 and temporaries[0].startswith(f".report.tmp-{os.getpid()}-"), temporaries
    assert _leftovers(root) == []
    assert _files(root / "report") == before


def test_a_second_run_on_the_same_out_is_refused_while_the_first_writes(tmp_path: Path) -> None:
    from bayes_msc.report.folder import claim_out

    root = _root(tmp_path, exact=True)
    before = _previous(root / "report")
    with claim_out(root / "report"):  # another run is writing the report
        res = subprocess.run(
            [sys.executable, "-m", "bayes_msc", "run", "spec.toml", "--out", "report", "--no-progress"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert res.returncode == 2, res.stderr
        assert f"is in use: another bayes-msc process (pid {os.getpid()})" in res.stderr, res.stderr
        assert "Traceback" not in res.stderr
        assert _files(root / "report") == before
    assert _leftovers(root) == []


def test_a_run_killed_between_the_renames_gets_its_previous_report_back(tmp_path: Path) -> None:
    from bayes_msc.report.folder import claim_out

    before = _previous(tmp_path / "moved")
    (tmp_path / "moved").rename(tmp_path / ".report.old-999999999-0000")  # no such process
    (tmp_path / ".report.tmp-999999999-0000").mkdir()
    with claim_out(tmp_path / "report"):
        assert _files(tmp_path / "report") == before
    assert _leftovers(tmp_path) == []


class _Full:
    """os.statvfs of a filesystem with 1 MB free."""

    def __init__(self, real, read_only: bool = False):
        self.real, self.read_only = real, read_only

    def __call__(self, path):
        got = self.real(path)
        values = list(got)
        values[4] = 256  # f_bavail blocks of 4 kB
        values[1] = 4096  # f_frsize
        if self.read_only:
            values[8] |= os.ST_RDONLY
        return os.statvfs_result(values)


def test_a_full_or_read_only_location_is_found_before_any_work(tmp_path: Path, monkeypatch, capsys) -> None:
    from bayes_msc.cli import main as cli
    from bayes_msc.workflow import review

    def no_work(*args, **kwargs):
        raise AssertionError("worked before checking the output location")

    root = _root(tmp_path, exact=True)
    before = _previous(root / "report")
    monkeypatch.setattr(review, "run_review", no_work)
    monkeypatch.chdir(root)
    monkeypatch.setattr(os, "statvfs", _Full(os.statvfs))
    assert cli.main(["run", "spec.toml", "--out", "report", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "option '--out'" in err and "1.0 MB free; at least 20 MB are needed" in err, err
    assert cli.main(["fit", "simulated_data", "--outcome", "vas", "--month", "6", "--save", "x.nc"]) == 2
    assert "option '--save'" in capsys.readouterr().err
    monkeypatch.setattr(os, "statvfs", _Full(os.statvfs, read_only=True))
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False)
    assert cli.main(["run", "spec.toml", "--out", "report", "--no-progress"]) == 2
    assert "is on a read-only filesystem" in capsys.readouterr().err
    assert _files(root / "report") == before
    assert _leftovers(root) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_an_unwritable_folder_is_found_before_any_work(tmp_path: Path, capsys) -> None:
    from bayes_msc.cli import main as cli

    root = _root(tmp_path, exact=True)
    locked = root / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert cli.main(["run", str(root / "spec.toml"), "--out", str(locked / "report"), "--no-progress"]) == 2
        assert "is not writable" in capsys.readouterr().err
    finally:
        locked.chmod(0o755)

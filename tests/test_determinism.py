"""Determinism: the same inputs, options and seed give the same output.

- ``fit`` (library and ``bayes-msc fit --format json``): the same seed gives identical
  summaries and byte-identical JSON, also from a freshly compiled model in a new process;
  a different seed gives different draws that agree within Monte Carlo error (a few MCSE)
  with each other and with the exact posterior of the same model.
- Posteriors (in memory and saved as netCDF): the same seed gives identical arrays,
  coordinates and attributes, except that nutpie/ArviZ stamp the ``posterior`` and
  ``sample_stats`` groups (and ``log_prior``, copied from the posterior) with a
  ``created_at`` attribute, the time of sampling. So the files are NOT byte-identical;
  that time stamp is their only difference (checked below).
- ``bayes-msc run`` (exact engine, to stay fast): two runs give byte-identical tables,
  figures and index.html, and should give an identical summary.json.

MCMC settings are small (a few hundred draws); every fit here has the same structure, so
nutpie compiles the model once per test process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bayes_msc.data.effects import effect_table
from bayes_msc.data.reader import read_dataset
from bayes_msc.priors import PriorSet

TESTS = Path(__file__).resolve().parent
CORPUS = TESTS / "corpus"
BASE = CORPUS / "simulated_base"
SMALL = {"draws": 300, "tune": 300, "chains": 2}
CELL = ["--outcome", "vas", "--month", "6"]


def _prior() -> PriorSet:
    return PriorSet.from_dict(
        "determinism",
        {"mu": {"dist": "Normal", "mu": 0.0, "sigma": 50.0}, "tau": {"dist": "HalfNormal", "sigma": 10.0}},
    )


@pytest.fixture(scope="module")
def table():
    return effect_table(read_dataset(BASE), "vas", 6)


def _fit(table, **kw):
    from bayes_msc.bayes.fit import fit

    return fit(table, prior=_prior(), parameterisation="noncentred", engine="mcmc", **{**SMALL, **kw})


def _groups(tree) -> dict:
    """Every group of a DataTree by its path ("." for the root, "posterior", ...)."""
    return {path: node.to_dataset() for path, node in tree.subtree_with_keys}


def _without(attrs: dict, keys: tuple[str, ...]) -> dict:
    return {k: v for k, v in attrs.items() if k not in keys}


def _assert_same_tree(a, b, ignore_attrs: tuple[str, ...] = ()) -> None:
    ga, gb = _groups(a), _groups(b)
    assert sorted(ga) == sorted(gb)
    for name in ga:
        da, db = ga[name], gb[name]
        assert sorted(da.data_vars) == sorted(db.data_vars), name
        for var in da.data_vars:  # exact equality, NaN where NaN
            np.testing.assert_array_equal(da[var].values, db[var].values, err_msg=f"{name}/{var}")
        for coord in da.coords:
            np.testing.assert_array_equal(da[coord].values, db[coord].values, err_msg=f"{name}/{coord}")
        assert _without(da.attrs, ignore_attrs) == _without(db.attrs, ignore_attrs), name


# ------------------------------------------------------------------------- library


def test_same_seed_same_posterior_and_summary(table) -> None:
    a, b = _fit(table, seed=11), _fit(table, seed=11)
    assert a.parameters.equals(b.parameters)
    assert json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)
    _assert_same_tree(a.idata, b.idata, ignore_attrs=("created_at",))  # the sampling time stamp
    assert a.to_dict()["seed"] == 11


def test_saved_posteriors_hold_identical_arrays(table, tmp_path: Path) -> None:
    import xarray as xr

    _fit(table, seed=11, save=tmp_path / "a.nc")
    _fit(table, seed=11, save=tmp_path / "b.nc")
    a = xr.open_datatree(tmp_path / "a.nc", engine="h5netcdf")
    b = xr.open_datatree(tmp_path / "b.nc", engine="h5netcdf")
    _assert_same_tree(a, b, ignore_attrs=("created_at",))
    # What makes the bytes differ: only the sampling time stamps.
    stamped = {
        name
        for name, ds in _groups(a).items()
        if ds.attrs.get("created_at") != _groups(b)[name].attrs.get("created_at")
    }
    if (tmp_path / "a.nc").read_bytes() != (tmp_path / "b.nc").read_bytes():
        assert stamped, "the files differ although every array and attribute is equal"
    assert stamped <= {"posterior", "sample_stats", "log_prior"}


def test_different_seeds_agree_within_monte_carlo_error(table) -> None:
    from bayes_msc.bayes.fit import fit

    a, b = _fit(table, seed=1, draws=1000), _fit(table, seed=2, draws=1000)
    assert not np.array_equal(a.draws_of("mu"), b.draws_of("mu"))
    exact = fit(table, prior=_prior(), engine="exact")  # quadrature: no Monte Carlo error
    for name in ("mu", "tau"):
        pa, pb, pe = a.parameters.loc[name], b.parameters.loc[name], exact.parameters.loc[name]
        mcse_a = pa["sd"] / np.sqrt(pa["ess_bulk"])  # MCSE of a posterior mean
        mcse_b = pb["sd"] / np.sqrt(pb["ess_bulk"])
        assert abs(pa["mean"] - pb["mean"]) <= 4 * np.hypot(mcse_a, mcse_b), name
        assert abs(pa["mean"] - pe["mean"]) <= 4 * mcse_a, name
        assert abs(pb["mean"] - pe["mean"]) <= 4 * mcse_b, name


# ---------------------------------------------------------------------- command line


def _fit_argv(seed: int, *extra: str) -> list[str]:
    return [
        "fit",
        "--engine",
        "mcmc",
        str(BASE),
        *CELL,
        "--draws",
        "300",
        "--tune",
        "300",
        "--chains",
        "2",
        "--parameterisation",
        "noncentred",
        "--seed",
        str(seed),
        "--format",
        "json",
        *extra,
    ]


def _main(argv: list[str], capsys) -> tuple[int, str, str]:
    from bayes_msc.cli.main import main

    capsys.readouterr()
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse
        status = exc.code
    out = capsys.readouterr()
    return status, out.out, out.err


def test_cli_fit_json_is_byte_identical_for_a_seed(capsys, tmp_path: Path) -> None:
    s1, a, _ = _main(_fit_argv(7), capsys)
    s2, b, _ = _main(_fit_argv(7), capsys)
    s3, c, _ = _main(_fit_argv(8), capsys)
    assert (s1, s2, s3) == (0, 0, 0)  # without --strict a failing verdict is not an error
    assert a == b
    assert a != c  # the seed is used
    out = json.loads(a)
    assert out["seed"] == 7 and {"mu", "tau"} <= set(out["parameters"])
    text = a.lower()
    for leak in (str(tmp_path).lower(), "seconds", "created_at", "elapsed"):
        assert leak not in text, leak


@pytest.mark.slow
def test_cli_fit_json_identical_across_processes(tmp_path: Path) -> None:
    """Two fresh processes (each compiling the model anew) print the same JSON."""
    env = {**os.environ}
    outs = []
    for _ in range(2):
        res = subprocess.run(
            [sys.executable, "-m", "bayes_msc", *_fit_argv(7)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=900,
            check=False,
        )
        assert res.returncode in (0, 3), res.stderr
        outs.append(res.stdout)
    assert outs[0] == outs[1]


# ------------------------------------------------------------------------------- run


def _run_exact(root: Path, out: str) -> Path:
    """``bayes-msc run`` of the corpus spec with the exact engine (no MCMC: fast)."""
    if not (root / "simulated_data").exists():
        shutil.copytree(BASE, root / "simulated_data")
        shutil.copy(CORPUS / "simulated_priors.toml", root / "priors.toml")
        spec = (CORPUS / "simulated_spec.toml").read_text().replace('engine = "mcmc"', 'engine = "exact"')
        (root / "spec.toml").write_text(spec)
    res = subprocess.run(
        [sys.executable, "-m", "bayes_msc", "run", "spec.toml", "--out", out, "--no-progress"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    return root / out


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[dict[str, bytes], dict[str, bytes]]:
    root = tmp_path_factory.mktemp("runs")
    return _files(_run_exact(root, "first")), _files(_run_exact(root, "second"))


def test_run_tables_figures_and_page_are_byte_identical(two_runs) -> None:
    a, b = two_runs
    assert sorted(a) == sorted(b)
    assert any(name.startswith("tables/") for name in a) and "index.html" in a
    differ = [name for name in a if a[name] != b[name] and name != "summary.json"]
    assert differ == []


def _without_seconds(obj):
    """summary.json minus the per-fit wall times, which the report issue asks for; every
    other value must depend only on the inputs, the options and the seed."""
    if isinstance(obj, dict):
        return {k: _without_seconds(v) for k, v in obj.items() if k not in ("seconds", "total_seconds")}
    if isinstance(obj, list):
        return [_without_seconds(v) for v in obj]
    return obj


def test_run_summary_json_is_identical_but_for_timings(two_runs) -> None:
    a, b = two_runs
    ja, jb = json.loads(a["summary.json"]), json.loads(b["summary.json"])
    assert any("seconds" in rec for rec in ja["fits"])  # the timings are there, and only they differ
    assert _without_seconds(ja) == _without_seconds(jb)

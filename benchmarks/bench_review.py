"""Benchmark: a whole review (``bayes-msc run SPEC``) against a naive loop of ``pm.sample()``.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_review.py [--spec models/simulated_demo.toml]
        [--naive N] [--skip-run]

Two measurements in one run, on the same fits:

1. the fast path: ``bayes-msc run SPEC`` in a fresh process (imports, compiles, fits,
   report), wall seconds, its profile (``BAYES_MSC_PROFILE=1``), peak RSS of the child, and
   from its summary.json the fits, engines, verdicts and smallest bulk ESS per fit;
2. the naive path: for N of the spec's MCMC-able fits (spread over the kinds of fit), one
   ``pm.Model`` built per fit (:func:`bayes_msc.bayes.mcmc.models.build_pymc_model`,
   non-centred) and a plain ``pm.sample()`` with PyMC's defaults; its seconds per fit are
   extrapolated to all of the spec's fits (said in the output). The same N fits are then
   timed through :func:`bayes_msc.fit` (the fast path's MCMC engine, compiled models
   cached) and its exact engine where it applies, in this process.

Peak memory: ``ru_maxrss`` of the child (fast path) and of this process (naive loop).
The load average is printed next to each measurement: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def fast_run(spec: Path) -> dict:
    """``bayes-msc run`` in a fresh process: wall seconds, profile, summary."""
    out = Path(tempfile.mkdtemp(prefix="bench_review_")) / "report"
    env = dict(os.environ, BAYES_MSC_PROFILE="1")
    before = load()
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bayes_msc", "run", str(spec), "--out", str(out), "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 3):
        raise RuntimeError(proc.stderr)
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {
        "wall": wall,
        "load_before": before,
        "load_after": load(),
        "profile": proc.stderr.strip(),
        "summary": summary,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "report_mb": size / 2**20,
    }


def subset(tasks: list, n: int) -> list:
    """n tasks spread over the kinds of fit (model, with/without covariates)."""
    kinds: dict = {}
    for t in tasks:
        kinds.setdefault((t.model, bool(t.covariates)), []).append(t)
    chosen: list = []
    while len(chosen) < n and any(kinds.values()):
        for group in kinds.values():
            if group and len(chosen) < n:
                chosen.append(group.pop(0))
    return chosen


def naive_and_fast(spec_path: Path, n: int) -> dict:
    import arviz as az
    import numpy as np
    import pymc as pm

    from bayes_msc.bayes.fit import fit, prepare
    from bayes_msc.bayes.inputs import resolve_priors
    from bayes_msc.bayes.mcmc.models import build_pymc_model
    from bayes_msc.data.reader import read_dataset
    from bayes_msc.priors import bundled_prior_sets, load_prior_sets
    from bayes_msc.workflow.plan import make_plan
    from bayes_msc.workflow.spec import load_spec

    spec = load_spec(spec_path)
    ds = read_dataset(spec.dataset)
    sets = load_prior_sets(spec.prior_file) if spec.prior_file else bundled_prior_sets()
    plan = make_plan(spec, ds, sets)
    chosen = subset(list(plan.fits), n)
    rows = []
    for t in chosen:
        cell = plan.cell(t.outcome, t.month)
        data = cell.arms if t.model == "arm" else cell.effects
        row = {"fit": t.key, "load": load()}
        # naive: a model built for this fit, PyMC's defaults
        prepared = prepare(data, t.model, t.covariates)
        resolved = resolve_priors(sets[t.prior], prepared, spec.measure)
        start = time.perf_counter()
        model = build_pymc_model(prepared.inputs, resolved, "noncentred", prepared.terms)
        with model:
            tree = pm.sample(random_seed=spec.seed, progressbar=False)
        row["naive_s"] = time.perf_counter() - start
        ess = az.ess(tree, var_names=["mu"], method="bulk")
        ess = ess["posterior"] if "posterior" in getattr(ess, "children", {}) else ess
        row["naive_ess_mu"] = float(np.asarray(ess["mu"]))
        row["naive_div"] = int(tree.sample_stats["diverging"].sum())
        # fast path's MCMC engine (compiled model cached across fits of a structure)
        start = time.perf_counter()
        res = fit(
            data,
            model=t.model,
            prior=sets[t.prior],
            covariates=t.covariates,
            draws=spec.draws,
            tune=spec.tune,
            chains=spec.chains,
            seed=spec.seed,
        )
        row["mcmc_s"] = time.perf_counter() - start
        row["mcmc_ess_mu"] = float(res.parameters.loc["mu", "ess_bulk"])
        row["mcmc_verdict"] = "pass" if res.verdict.passed else "fail"
        if t.model == "re":
            start = time.perf_counter()
            fit(data, model="re", prior=sets[t.prior], covariates=t.covariates, engine="exact")
            row["exact_s"] = time.perf_counter() - start
        rows.append(row)
        print(json.dumps(row), flush=True)
    return {
        "rows": rows,
        "n_total": len(plan.fits),
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def machine() -> dict:
    import importlib.metadata as md

    lines = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.processor())
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        **{p: md.version(p) for p in ("pymc", "pytensor", "nutpie", "numba", "arviz", "matplotlib")},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=str(ROOT / "models" / "simulated_demo.toml"))
    ap.add_argument("--naive", type=int, default=4, help="fits in the naive loop (extrapolated)")
    ap.add_argument("--skip-run", action="store_true", help="skip the fast path's whole run")
    args = ap.parse_args()
    print(json.dumps(machine()))
    fast = None
    if not args.skip_run:
        fast = fast_run(Path(args.spec))
        fits = fast["summary"]["fits"]
        mcmc = [f for f in fits if f["engine"] == "mcmc"]
        ess = sum(f["min_ess_bulk"] or 0 for f in mcmc)
        print(fast["profile"])
        print(
            f"fast path: {len(fits)} fits ({len(mcmc)} MCMC, {len(fits) - len(mcmc)} exact), "
            f"{fast['wall']:.1f} s wall, {sum(f['verdict'] == 'fail' for f in fits)} failed verdicts, "
            f"MCMC min-ESS/s {ess / fast['wall']:.0f}, peak RSS {fast['maxrss_mb']:.0f} MB, "
            f"report {fast['report_mb']:.0f} MB, load {fast['load_before']} -> {fast['load_after']}"
        )
    naive = naive_and_fast(Path(args.spec), args.naive)
    rows = naive["rows"]
    per_naive = sum(r["naive_s"] for r in rows) / len(rows)
    per_mcmc = sum(r["mcmc_s"] for r in rows) / len(rows)
    print(
        f"naive loop: {len(rows)} fits measured, {per_naive:.1f} s per fit; extrapolated to the spec's "
        f"{naive['n_total']} fits: {per_naive * naive['n_total']:.0f} s (peak RSS {naive['maxrss_mb']:.0f} MB)"
    )
    print(f"fit() MCMC on the same fits (first fit of a structure compiles): {per_mcmc:.1f} s per fit")
    if fast:
        print(f"ratio naive (extrapolated) / fast path (measured): {per_naive * naive['n_total'] / fast['wall']:.1f}x")


if __name__ == "__main__":
    main()

"""Benchmark: bayes-msc's fits against a naive loop of plain ``pm.sample()`` calls, same fits.

Usage (from the repository root; writes nothing into the repository)::

    .venv/bin/python benchmarks/bench_speed.py [--spec models/simulated_demo.toml]
        [--out fits.csv] [--naive-limit N] [--skip-mcmc] [--warm-cache]

The fits are the spec's Bayesian fits exactly as ``bayes-msc run`` plans them
(:func:`bayes_msc.workflow.plan.make_plan`). Three paths, each in its own fresh
child process of this one run (so each pays its own imports and compiles):

``fast``
    What ``bayes-msc run`` does per fit: :func:`~bayes_msc.cli.commands.run.engine_for`
    picks the engine, :func:`~bayes_msc.cli.commands.run._fit` fits (and saves an
    MCMC posterior to a temporary netCDF file, as the run does).
``mcmc`` (``--skip-mcmc`` leaves it out; it takes minutes)
    The same fits, all with engine ``"mcmc"`` through the same ``_fit``, i.e.
    :func:`bayes_msc.fit` (one compiled model per structure, ``with_data`` refits).
``naive``
    Per fit, a fresh plain PyMC model (written below: non-centred normal-normal for ``re``,
    the arm-level model for ``arm``; the same data and the same resolved priors as the
    package's fit) and ``pm.sample()`` with PyMC's defaults (draws, tune, chains =
    max(2, CPUs), target_accept; with nutpie installed PyMC samples with nutpie, which
    compiles every model afresh). Only ``random_seed`` (the spec's seed) and
    ``progressbar=False`` are given. ``--naive-limit N`` runs it on the first N fits of a
    stratified selection (round robin over model x covariates x prior set, each group's
    order shuffled with a generator seeded by the spec's seed) and scales its seconds per
    fit to all fits: labelled "extrapolated".

Printed per path: fits, wall seconds of the fits (compiles included; the child process's
whole wall time beside it), ESS_bulk(mu) + ESS_bulk(tau) per second of each fit (min and
median over the MCMC fits; exact-engine fits have no draws and no Monte Carlo error),
the ratio of the naive path's wall seconds to the path's, and peak RSS: ``ru_maxrss`` of
the path's child process (nutpie's sampler threads included).

PyTensor's numba disk cache: by default each child gets a fresh, empty
``base_compiledir`` (a first-ever run, the same for every path); ``--warm-cache`` uses the
user's (warm from earlier runs).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("fast", "mcmc", "naive")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def read_plan(spec_path: Path) -> tuple[Any, Any, dict, Any]:
    """(spec, dataset, prior sets, plan) as ``bayes-msc run`` builds them."""
    from bayes_msc.data.reader import read_dataset
    from bayes_msc.priors import bundled_prior_sets, load_prior_sets
    from bayes_msc.workflow.plan import make_plan
    from bayes_msc.workflow.spec import load_spec

    spec = load_spec(spec_path)
    ds = read_dataset(spec.dataset)
    sets = load_prior_sets(spec.prior_file) if spec.prior_file else bundled_prior_sets()
    return spec, ds, sets, make_plan(spec, ds, sets)


def stratified(tasks: list, n: int, seed: int) -> list:
    """``n`` tasks, round robin over (model, covariates, prior) groups, each group shuffled."""
    import numpy as np

    rng = np.random.default_rng(seed)
    groups: dict = {}
    for t in tasks:
        groups.setdefault((t.model, t.covariates, t.prior), []).append(t)
    queues = [[g[i] for i in rng.permutation(len(g))] for _, g in sorted(groups.items())]
    chosen: list = []
    while len(chosen) < n and any(queues):
        for q in queues:
            if q and len(chosen) < n:
                chosen.append(q.pop(0))
    return chosen


# ----------------------------------------------------------------------------- naive path
def _prior(name: str, prior: Any, **kw: Any) -> Any:
    import pymc as pm

    return getattr(pm, prior.dist)(name, **{k: float(v) for k, v in prior.params.items()}, **kw)


def naive_model(prepared: Any, resolved: Any) -> Any:
    """A plain PyMC model of one fit: non-centred random effects, PyMC's own likelihoods."""
    import numpy as np
    import pymc as pm

    inp = prepared.inputs
    coords = {"effect": list(inp.labels), "term": list(prepared.terms)}
    with pm.Model(coords=coords) as model:
        mu = _prior("mu", resolved.mu)  # with covariates: the effect at the covariates' means
        if resolved.tau is not None:
            tau = _prior("tau", resolved.tau)
        else:
            log_tau2 = _prior("log_tau2_smd", resolved.log_tau2_smd)
            tau = pm.Deterministic("tau", resolved.outcome_sd * pm.math.exp(log_tau2 / 2.0))
        mean = mu
        if prepared.terms:
            beta = _prior("beta", resolved.beta, dims="term")  # per SD of each covariate
            mean = mu + pm.math.dot(inp.z, beta)
            std = prepared.standardised  # the reported intercept, per unit of the covariates
            pm.Deterministic("mu_reported", mu - pm.math.sum(beta * std.centre / std.scale))
        z = pm.Normal("z", 0.0, 1.0, dims="effect")
        effects = mean + tau * z
        if inp.kind == "re":
            v = inp.vcov
            if np.count_nonzero(v - np.diag(np.diag(v))):
                pm.MvNormal("y", mu=effects, cov=v, observed=inp.yi)
            else:
                pm.Normal("y", mu=effects, sigma=np.sqrt(np.diag(v)), observed=inp.yi)
        else:
            alpha = _prior("alpha", resolved.alpha, shape=len(inp.study_labels))
            with_control = pm.math.concatenate([effects, np.zeros(1)])
            which = np.where(inp.arm_effect >= 0, inp.arm_effect, inp.k)  # k: the appended 0
            pm.Normal("y", mu=alpha[inp.arm_study] + with_control[which], sigma=inp.arm_se, observed=inp.arm_mean)
    return model


def naive_fit(spec: Any, data: Any, task: Any, sets: dict) -> dict:
    import arviz as az
    import numpy as np
    import pymc as pm

    from bayes_msc.bayes.fit import prepare
    from bayes_msc.bayes.inputs import resolve_priors

    prepared = prepare(data, task.model, task.covariates)
    resolved = resolve_priors(sets[task.prior], prepared, spec.measure)
    with naive_model(prepared, resolved):
        tree = pm.sample(random_seed=spec.seed, progressbar=False)
    mu = "mu_reported" if task.covariates else "mu"
    ess = az.ess(tree, var_names=[mu, "tau"], method="bulk")
    ess = ess["posterior"] if "posterior" in getattr(ess, "children", {}) else ess
    stats = tree["sample_stats"]
    return {
        "engine": "pm.sample",
        "sampler": str(tree["posterior"].attrs.get("inference_library", "?")),
        "ess_mu": float(np.asarray(ess[mu])),
        "ess_tau": float(np.asarray(ess["tau"])),
        "divergences": int(stats["diverging"].sum()),
        "draws": int(tree["posterior"].sizes["draw"]),
        "chains": int(tree["posterior"].sizes["chain"]),
        "verdict": "",
        "parameterisation": "noncentred",
    }


# ----------------------------------------------------------------------------- worker
def worker(path: str, spec_path: Path, keys: list[str]) -> None:
    """Run one path over the fits named ``keys``; print one JSON line per fit, then a summary."""
    started = time.perf_counter()
    from bayes_msc.cli.commands.run import _fit, engine_for

    spec, _, sets, plan = read_plan(spec_path)
    by_key = {t.key: t for t in plan.fits}
    tmp = Path(tempfile.mkdtemp(prefix=f"bench_speed_{path}_"))
    fits_s = 0.0
    for key in keys:
        task = by_key[key]
        cell = plan.cell(task.outcome, task.month)
        start = time.perf_counter()
        if path == "naive":
            row = naive_fit(spec, cell.arms if task.model == "arm" else cell.effects, task, sets)
        else:
            engine = engine_for(spec, cell, task, sets) if path == "fast" else "mcmc"
            save = tmp / f"{key}.nc" if engine == "mcmc" else None
            res = _fit(spec, cell, task, sets, save, engine)
            ess = res.parameters["ess_bulk"]
            row = {
                "engine": engine,
                "sampler": "nutpie" if engine == "mcmc" else "exact",
                "ess_mu": float(ess["mu"]),
                "ess_tau": float(ess["tau"]),
                "divergences": res.divergences,
                "draws": res.draws,
                "chains": res.chains,
                "verdict": "pass" if res.verdict.passed else "fail",
                "parameterisation": res.parameterisation or "",
            }
        seconds = time.perf_counter() - start
        fits_s += seconds
        print(
            "ROW "
            + json.dumps(
                {
                    "path": path,
                    "fit": key,
                    "model": task.model,
                    "prior": task.prior,
                    "covariates": " + ".join(task.covariates),
                    "seconds": round(seconds, 3),
                    **row,
                }
            ),
            flush=True,
        )
    print(
        "DONE "
        + json.dumps(
            {
                "path": path,
                "fits_s": fits_s,
                "process_s": time.perf_counter() - started,
                "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "cpu_s": time.process_time(),
            }
        ),
        flush=True,
    )


def run_path(path: str, spec: Path, keys: list[str], warm_cache: bool) -> dict:
    """One path in a fresh child process; its rows and summary."""
    env = dict(os.environ)
    if not warm_cache:
        env["PYTENSOR_FLAGS"] = ",".join(
            filter(None, [env.get("PYTENSOR_FLAGS", ""), f"base_compiledir={tempfile.mkdtemp(prefix='bench_pt_')}"])
        )
    keyfile = Path(tempfile.mkstemp(prefix="bench_keys_", suffix=".json")[1])
    keyfile.write_text(json.dumps(keys), encoding="utf-8")
    before = load()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--worker", path, "--spec", str(spec), "--keys", str(keyfile)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    rows, done = [], None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("ROW "):
            rows.append(json.loads(line[4:]))
            r = rows[-1]
            print(
                f"  {path:5s} {len(rows):3d}/{len(keys)} {r['fit']:60s} {r['engine']:9s} {r['seconds']:7.2f} s "
                f"ESS mu {r['ess_mu']:7.0f} tau {r['ess_tau']:7.0f} {r['verdict']}",
                flush=True,
            )
        elif line.startswith("DONE "):
            done = json.loads(line[5:])
    err = proc.stderr.read() if proc.stderr else ""
    if proc.wait() or done is None:
        raise RuntimeError(f"path {path} failed:\n{err[-4000:]}")
    return {"rows": rows, **done, "load": f"{before} -> {load()}"}


def _ess_rates(rows: list[dict]) -> list[float]:
    return [
        (r["ess_mu"] + r["ess_tau"]) / r["seconds"]
        for r in rows
        if r["sampler"] != "exact" and r["ess_mu"] == r["ess_mu"]
    ]


def report(results: dict[str, dict], n_fits: int, naive_n: int) -> None:
    naive = results["naive"]
    scale = n_fits / naive_n
    naive_total = naive["fits_s"] * scale
    label = "" if naive_n == n_fits else f" (extrapolated from {naive_n} of {n_fits} fits, x{scale:.2f})"
    print(
        f"\n{'path':6s} {'fits':>5s} {'wall s':>9s} {'process s':>10s} {'CPU s':>8s} "
        f"{'ESS/s min':>10s} {'ESS/s median':>13s} {'naive/path':>11s} {'peak RSS MB':>12s}  engines; verdicts"
    )
    for path, res in results.items():
        rows = res["rows"]
        rates = _ess_rates(rows)
        wall = naive_total if path == "naive" else res["fits_s"]
        ratio = naive_total / wall
        engines = {e: sum(r["engine"] == e for r in rows) for e in dict.fromkeys(r["engine"] for r in rows)}
        failed = sum(r["verdict"] == "fail" for r in rows)
        fits = n_fits if path == "naive" else len(rows)
        print(
            f"{path:6s} {fits:5d} {wall:9.1f} {res['process_s']:10.1f} {res['cpu_s']:8.1f} "
            f"{(min(rates) if rates else float('nan')):10.1f} "
            f"{(statistics.median(rates) if rates else float('nan')):13.1f} {ratio:10.1f}x "
            f"{res['maxrss_mb']:12.0f}  {engines}; {failed} failed verdicts; load {res['load']}"
        )
    print(
        f"naive: {naive_n} fits measured, {naive['fits_s'] / naive_n:.1f} s per fit{label}; its sampler: "
        f"{sorted({r['sampler'] for r in naive['rows']})}, "
        f"{sum(r['divergences'] for r in naive['rows'])} divergences in total"
    )
    print(
        "ESS/s = (ESS_bulk(mu) + ESS_bulk(tau)) / the fit's wall seconds (its compile included when it "
        "is the first fit of its structure); MCMC fits only. wall s = the fits' seconds summed."
    )


def machine() -> dict:
    import importlib.metadata as md

    lines = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.processor())
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "load": load(),
        **{p: md.version(p) for p in ("pymc", "pytensor", "nutpie", "numba", "arviz")},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=str(ROOT / "models" / "simulated_demo.toml"))
    ap.add_argument("--out", help="write every fit's row (all paths) to this CSV file")
    ap.add_argument(
        "--naive-limit",
        type=int,
        default=None,
        help="naive loop on N fits of a stratified seeded selection, scaled per fit to all fits",
    )
    ap.add_argument("--skip-mcmc", action="store_true", help="leave out the all-MCMC path")
    ap.add_argument("--warm-cache", action="store_true", help="use the user's PyTensor compile cache")
    ap.add_argument("--worker", choices=PATHS, help=argparse.SUPPRESS)
    ap.add_argument("--keys", help=argparse.SUPPRESS)
    args = ap.parse_args()
    spec_path = Path(args.spec).resolve()
    if args.worker:
        worker(args.worker, spec_path, json.loads(Path(args.keys).read_text(encoding="utf-8")))
        return
    print(json.dumps(machine()), flush=True)
    spec, _, _, plan = read_plan(spec_path)
    keys = [t.key for t in plan.fits]
    naive_tasks = list(plan.fits)
    if args.naive_limit is not None and args.naive_limit < len(keys):
        naive_tasks = stratified(naive_tasks, max(1, args.naive_limit), spec.seed)
    naive_keys = [t.key for t in naive_tasks]
    print(
        f"{len(keys)} fits in {spec_path.name}; naive loop on {len(naive_keys)}; PyTensor cache: "
        f"{'warm (user)' if args.warm_cache else 'fresh per path'}",
        flush=True,
    )
    results: dict[str, dict] = {}
    for path in PATHS:
        if path == "mcmc" and args.skip_mcmc:
            continue
        print(f"path {path}: started, load {load()}", flush=True)
        results[path] = run_path(path, spec_path, naive_keys if path == "naive" else keys, args.warm_cache)
    report(results, len(keys), len(naive_keys))
    if args.out:
        rows = [r for res in results.values() for r in res["rows"]]
        fields = list(dict.fromkeys(k for r in rows for k in r))
        with open(args.out, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)
        print(f"rows: {args.out}")


if __name__ == "__main__":
    main()

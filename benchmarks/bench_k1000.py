"""Benchmark: a meta-regression with k = 1,000 SIMULATED studies and 3 covariates.

Usage (from the repository root; writes only into a temporary folder)::

    .venv/bin/python benchmarks/bench_k1000.py [--repeat 3] [--k 1000] [--engines mcmc exact]

Issue 6's goal: <= 30 s by MCMC with a passing verdict, <= 1 s exact, on a 2-core machine.

The dataset is SIMULATED by the package's own simulator
(:func:`bayes_msc.simulation.simulate.simulate_outcomes`, seed :data:`SEED`): k two-arm
trials (arm sizes 20-200 per arm, drawn with numpy's generator seeded with :data:`SEED`),
covariates filled by the simulator (dose, treatment arms only, log-uniform 5-150 million
cells; mean age and mean BMI per study, normal), one outcome at month 12 with mu = -10,
tau = 4 and a slope on each of the three terms. It is written as a dataset folder and read
back with :func:`bayes_msc.read_dataset`, so the fit sees exactly what a user's data give.

Each engine runs ``bayes_msc.fit(effects, model="re", covariates=TERMS, engine=...)`` with
the package defaults (4 chains x 1000 draws after 1000 tuning steps, parameterisation
``auto``) in a FRESH process, ``--repeat`` times. Reported per run: the fit's wall seconds
with nothing excluded (for MCMC: the model compile, every parameterisation ``auto`` tried,
and the summaries), of which the compile (timed by calling
:func:`bayes_msc.bayes.mcmc.sampler.compiled_model` just before the fit, which then reuses
it), CPU seconds, the verdict, the parameterisation used, peak RSS (``ru_maxrss``) and the
load average. The import time of the child is reported apart.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = 20261201
TERMS = ("log10(dose_million)", "age_mean", "bmi_mean")
PARAMS = """\
seed = {seed}
months = [12]
baseline = false
random_effect = "study"
decimals = 3

[outcomes.pain]
mu = {{ 12 = -10.0 }}
control_mean = {{ 12 = 50.0 }}
sd = 20
tau = 4
sd_between = 6
slopes = {{ "log10(dose_million)" = -2.0, age_mean = 0.2, bmi_mean = -0.3 }}
centres = {{ "log10(dose_million)" = 1.5, age_mean = 60.0, bmi_mean = 28.0 }}

[covariates.dose_million]
dist = "loguniform"
low = 5
high = 150
roles = ["treatment"]
per = "arm"
decimals = 0

[covariates.age_mean]
dist = "normal"
mean = 60
sd = 6
per = "study"
decimals = 1

[covariates.bmi_mean]
dist = "normal"
mean = 28
sd = 3
per = "study"
decimals = 1
"""


def make_dataset(folder: Path, k: int) -> Path:
    """Write a SIMULATED dataset of ``k`` two-arm trials into ``folder``; return it."""
    import numpy as np
    import pandas as pd

    from bayes_msc.simulation.simulate import params_from_text, simulate_outcomes

    rng = np.random.default_rng(SEED)
    n = rng.integers(20, 201, size=(k, 2))
    studies = [f"sim{i:04d}" for i in range(k)]
    arms = pd.DataFrame(
        {
            "study": np.repeat(studies, 2),
            "arm": ["msc", "control"] * k,
            "role": ["treatment", "control"] * k,
            "n": n.ravel(),
            "dose_million": np.nan,
            "age_mean": np.nan,
            "bmi_mean": np.nan,
        }
    )
    params = params_from_text(PARAMS.format(seed=SEED), origin="benchmarks/bench_k1000.py")
    outcomes = simulate_outcomes(arms, None, params, SEED)
    from bayes_msc.simulation.simulate import fill_covariates

    arms = fill_covariates(arms, params, SEED)  # the values the simulation used
    folder.mkdir(parents=True, exist_ok=True)
    arms.to_csv(folder / "arms.csv", index=False)
    outcomes.to_csv(folder / "outcomes.csv", index=False)
    return folder


def child(folder: Path, engine: str) -> dict:
    """One fit in this (fresh) process; the measurements as a dict."""
    start = time.perf_counter()
    import bayes_msc as bm
    from bayes_msc.bayes import fit as bayes_fit

    effects = bm.effect_table(bm.read_dataset(folder), "pain", 12)
    imported = time.perf_counter() - start
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    compile_s = 0.0
    if engine == "mcmc":
        from bayes_msc.bayes.inputs import resolve_priors
        from bayes_msc.priors import get_prior_set

        prepared = bayes_fit.prepare(effects, "re", TERMS)
        resolved = resolve_priors(get_prior_set("weakly_informative"), prepared, "md")
        from bayes_msc.bayes.mcmc.sampler import compiled_model

        compiled_model(prepared.inputs.structure(resolved))
        compile_s = time.perf_counter() - t0
    res = bm.fit(effects, model="re", covariates=TERMS, engine=engine)
    wall = time.perf_counter() - t0
    notes = [n for n in res.notes if "parameterisation" in n or "re-sampled" in n]
    return {
        "engine": engine,
        "k": res.k,
        "wall_s": round(wall, 3),
        "compile_s": round(compile_s, 2),
        "cpu_s": round(time.process_time() - cpu0, 2),
        "import_s": round(imported, 2),
        "verdict": "pass" if res.verdict.passed else "fail",
        "verdict_text": str(res.verdict),
        "parameterisation": res.parameterisation,
        "divergences": res.divergences,
        "min_ess_bulk": res.verdict.min_ess_bulk,
        "max_r_hat": res.verdict.max_r_hat,
        "mu": float(res.parameters.loc["mu", "mean"]) if "mu" in res.parameters.index else None,
        "tau": float(res.parameters.loc["tau", "mean"]),
        "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "notes": notes,
    }


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--engines", nargs="+", default=["exact", "mcmc"], choices=["exact", "mcmc"])
    ap.add_argument("--child", nargs=2, metavar=("FOLDER", "ENGINE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print("RESULT " + json.dumps(child(Path(args.child[0]), args.child[1])), flush=True)
        return
    folder = make_dataset(Path(tempfile.mkdtemp(prefix="bench_k1000_")) / "data", args.k)
    print(f"SIMULATED dataset (seed {SEED}, k = {args.k}, terms {', '.join(TERMS)}): {folder}")
    summary = {}
    for engine in args.engines:
        runs = []
        for _i in range(args.repeat):
            before = load()
            t = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(folder), engine], capture_output=True, text=True, check=False
            )
            total = time.perf_counter() - t
            line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
            if proc.returncode or line is None:
                raise RuntimeError(proc.stderr[-3000:])
            row = json.loads(line[len("RESULT ") :]) | {"process_s": round(total, 2), "load": f"{before} -> {load()}"}
            runs.append(row)
            print(json.dumps(row), flush=True)
        walls = [r["wall_s"] for r in runs]
        summary[engine] = {
            "min_s": min(walls),
            "median_s": statistics.median(walls),
            "verdicts": [r["verdict"] for r in runs],
        }
    for engine, s in summary.items():
        print(
            f"{engine}: fit wall min {s['min_s']:.2f} s, median {s['median_s']:.2f} s "
            f"(compile included for mcmc), verdicts {s['verdicts']}"
        )


if __name__ == "__main__":
    main()

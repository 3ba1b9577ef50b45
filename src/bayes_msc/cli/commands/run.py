"""``bayes-msc run SPEC.toml [--out DIR]``: run a whole analysis spec, write its report.

Order of work:

1. Check everything before any work: the spec (:func:`~bayes_msc.workflow.spec.load_spec`),
   the dataset, the prior sets, the spec against both and every effect table
   (:func:`~bayes_msc.workflow.plan.make_plan`), and the output folder. Bad
   input exits with status 2 and writes nothing.
2. Fit: per cell the frequentist pool (the spec's method; the paper's rule by default),
   leave-one-out and meta-regressions, then every Bayesian fit of the plan, each
   posterior saved to ``posteriors/<fit>.nc`` as it comes in; a progress bar on stderr
   (off with ``--no-progress`` or when stderr is not a terminal).
3. Write figures, ``tables/*.csv``, ``summary.json`` and ``index.html``.

Everything is written into a temporary sibling of DIR that replaces DIR only at the end
(:func:`os.replace`), so an interrupted or failed run leaves the previous report intact
and no partial one. An existing DIR is replaced only when it is a report this command
wrote (its summary.json says so) or empty.

With ``BAYES_MSC_PROFILE=1`` the time spent per step is printed to stderr (never into
summary.json). ``--strict`` exits with status 3, after writing the report, when any
posterior fails its diagnostics verdict.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bayes_msc.data.reader import read_dataset
from bayes_msc.errors import InputError, Problem
from bayes_msc.frequentist.rma import leave_one_out, rma
from bayes_msc.priors import bundled_prior_sets, load_prior_sets
from bayes_msc.report.writer import SUMMARY_FORMAT, write_report
from bayes_msc.workflow.plan import Cell, FitTask, Plan, make_plan
from bayes_msc.workflow.results import CellResult, FitRecord, RunResults
from bayes_msc.workflow.spec import Spec, load_spec

EXIT_DIAGNOSTICS = 3
PROFILE_ENV = "BAYES_MSC_PROFILE"


class Profile:
    """Wall time per step of a run (for ``BAYES_MSC_PROFILE=1``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start

    def __call__(self, name: str) -> Any:
        """``profile(name)`` is ``profile.step(name)`` (the report writer's timer)."""
        return self.step(name)

    def add(self, name: str, seconds: float) -> None:
        """Add time measured elsewhere (in a worker process) under ``name``."""
        self.seconds[name] += seconds

    def text(self) -> str:
        """One line per step, in the order the steps first ran."""
        return "bayes-msc run profile:\n" + "\n".join(f"  {k:<32s}{v:8.2f} s" for k, v in self.seconds.items())


def _check_out(out: Path) -> None:
    """Refuse to replace a folder this command did not write (or the working folder)."""
    if not out.exists():
        return
    problem = None
    here = Path.cwd().resolve()
    if out.resolve() == here or out.resolve() in here.parents:
        problem = "is the working folder or contains it; choose a folder for the report"
    elif not out.is_dir():
        problem = "exists and is not a folder"
    elif any(out.iterdir()):
        summary = out / "summary.json"
        try:
            ours = summary.is_file() and json.loads(summary.read_text("utf-8")).get("format") == SUMMARY_FORMAT
        except (ValueError, UnicodeDecodeError, AttributeError):
            ours = False  # an unreadable summary.json is not one this command wrote
        if not ours:
            problem = (
                "exists and is not a bayes-msc report folder (no summary.json written by "
                "'bayes-msc run'); refusing to replace it: choose another --out"
            )
    if problem:
        raise InputError(Problem(f"output folder '{out}' {problem}", column="--out"))


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Move the finished folder ``tmp`` to ``out``, replacing a previous report."""
    if not out.exists():
        os.replace(tmp, out)
        return
    holder = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.replace(out, holder / out.name)
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(holder / out.name, out)  # put the previous report back, then fail
        holder.rmdir()
        raise
    shutil.rmtree(holder)


def _frequentist(spec: Spec, plan: Plan, cell: Cell) -> CellResult:
    et = cell.effects
    labels = list(et.data["comparison"])
    V = et.vcov if spec.multiarm == "shared" else None
    context = dict(
        outcome=cell.outcome,
        month=cell.month,
        measure=spec.measure,
        multiarm=spec.multiarm,
        dataset=et.dataset,
        simulated=et.simulated,
    )
    pool = rma(et.yi, et.vi, method=spec.method, hksj=spec.hksj, pi=spec.pi, V=V, labels=labels)
    pool = replace(pool, excluded=et.missing, **context)
    loo = None
    if (cell.outcome, cell.month) in plan.loo:
        loo = leave_one_out(et.yi, et.vi, method=spec.method, hksj=spec.hksj, labels=labels, V=V)
    metaregs = []
    for o, m, terms in plan.metaregs:
        if (o, m) != (cell.outcome, cell.month):
            continue
        x, names, kept = et.design(terms)
        mr = rma(
            et.yi[kept],
            et.vi[kept],
            method=spec.method,
            hksj=spec.hksj,
            X=x,
            names=names,
            V=None if V is None else V[np.ix_(kept, kept)],
            labels=[lab for lab, k in zip(labels, kept, strict=False) if k],
        )
        metaregs.append(replace(mr, **context))
    return CellResult(cell, pool, loo, tuple(metaregs))


def _mcid_probability(result: Any, mcid: float | None, covariates: tuple[str, ...]) -> float | None:
    """P(mu < mcid) for a negative MCID, P(mu > mcid) for a positive one (models without
    covariates; from the draws, or from the exact engine's probabilities)."""
    if mcid is None or covariates:
        return None
    if result.idata is not None:
        mu = result.draws_of("mu")
        return float(np.mean(mu < mcid) if mcid < 0 else np.mean(mu > mcid))
    if mcid < 0:
        return result.probabilities.get(f"P(mu < {mcid:g})")
    return None  # the exact engine reports only the lower tail


def _resolved_prior_set(result: Any) -> Any:
    """The resolved prior set a fit used, rebuilt from its ``prior_spec`` (for densities)."""
    from bayes_msc.priors import PriorSet

    spec = dict(result.prior_spec)
    name = spec.pop("name")
    outcome_sd = spec.pop("outcome_sd", None)
    return replace(PriorSet.from_dict(name, spec), outcome_sd=outcome_sd)


def engine_for(spec: Spec, cell: Cell, task: FitTask, prior_sets: dict[str, Any]) -> str:
    """The engine of one fit: the spec's, or for ``engine = "auto"`` the exact engine
    where it gives the same posterior as MCMC without Monte Carlo error
    (:func:`bayes_msc.bayes.engines.exact_covers`), MCMC everywhere else."""
    from bayes_msc.bayes.engines import choose_engine

    return choose_engine(spec.engine, task.model, prior_sets[task.prior], task.covariates, cell.effects.vcov)


def _fit(spec: Spec, cell: Cell, task: FitTask, prior_sets: dict[str, Any], save: Path | None, engine: str) -> Any:
    """One Bayesian fit (a BayesResult) by ``engine``; the posterior goes to ``save`` (MCMC only)."""
    from bayes_msc.bayes.fit import fit

    mcid = spec.mcid.get(task.outcome)
    return fit(
        cell.arms if task.model == "arm" else cell.effects,
        model=task.model,
        prior=prior_sets[task.prior],
        covariates=task.covariates,
        draws=spec.draws,
        tune=spec.tune,
        chains=spec.chains,
        seed=spec.seed,
        engine=engine,
        parameterisation=spec.parameterisation,
        mcid=-mcid if mcid is not None and mcid < 0 else None,
        save=save if engine == "mcmc" else None,
    )


def _execute(
    spec: Spec, ds: Any, prior_sets: dict[str, Any], plan: Plan, tmp: Path, progress: bool, profile: Profile
) -> RunResults:
    from tqdm import tqdm

    cells = []
    with profile.step("frequentist"):
        for cell in plan.cells:
            cells.append(_frequentist(spec, plan, cell))
    fits = []
    engines = [engine_for(spec, plan.cell(t.outcome, t.month), t, prior_sets) for t in plan.fits]
    if "mcmc" in engines:
        (tmp / "posteriors").mkdir()
    bar = tqdm(
        plan.fits,
        desc="Bayesian fits",
        unit="fit",
        file=sys.stderr,
        disable=True if not progress else None,
        dynamic_ncols=True,
    )
    for task, engine in zip(bar, engines, strict=False):
        bar.set_postfix_str(task.key, refresh=False)
        posterior = f"posteriors/{task.key}.nc" if engine == "mcmc" else None
        start = time.perf_counter()
        with profile.step(f"fit: {task.model}{' + covariates' if task.covariates else ''} ({engine})"):
            result = _fit(
                spec,
                plan.cell(task.outcome, task.month),
                task,
                prior_sets,
                tmp / posterior if posterior else None,
                engine,
            )
        fits.append(
            FitRecord(
                task,
                result,
                time.perf_counter() - start,
                posterior,
                _resolved_prior_set(result),
                _mcid_probability(result, spec.mcid.get(task.outcome), task.covariates),
            )
        )
    bar.close()
    reproduction = None
    if ds.published is not None:
        from bayes_msc.studies.qu_sun_2021.reproduce import reproduce
        from bayes_msc.studies.qu_sun_2021.table2 import EffectTables

        with profile.step("reproduction"):
            tables = EffectTables(ds, "md")  # the published results are mean differences
            for cell in plan.cells:  # the plan's tables, where they are the reproduction's
                tables.put(cell.effects)
            reproduction = reproduce(ds, multiarm=spec.multiarm, rescale=spec.rescale, tables=tables)
    return RunResults(spec, ds, plan, tuple(cells), tuple(fits), prior_sets, reproduction)


def run(args: Any) -> int:
    """Run the spec ``args.spec`` into ``args.out``; return the exit status."""
    profile = Profile()
    started = time.perf_counter()
    with profile.step("validate"):
        spec = load_spec(args.spec)
        ds = read_dataset(spec.dataset)
        prior_sets = load_prior_sets(spec.prior_file) if spec.prior_file else bundled_prior_sets()
        plan = make_plan(spec, ds, prior_sets)
        out = Path(args.out) if args.out else Path("reports") / spec.name
        _check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp's 0700 would make the finished report private
    try:
        res = _execute(spec, ds, prior_sets, plan, tmp, not args.no_progress, profile)
        write_report(res, tmp, profile)
        _swap_into_place(tmp, out)
    finally:
        if tmp.exists():  # the run failed or was interrupted: no partial report stays
            shutil.rmtree(tmp)
    profile.seconds["total"] = time.perf_counter() - started  # the last line of the profile
    if os.environ.get(PROFILE_ENV, "") not in ("", "0"):
        print(profile.text(), file=sys.stderr)
    failed = len(res.failed)
    print(f"report: {out / 'index.html'} ({len(res.fits)} Bayesian fits, {failed} failed their diagnostics verdict)")
    return EXIT_DIAGNOSTICS if args.strict and failed else 0

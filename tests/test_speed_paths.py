"""The fast path of ``bayes-msc run``: engine choice and parallel figure drawing.

Functional checks only (never timings): ``engine = "auto"`` gives the exact engine only
where its posterior is the MCMC one (the ``re`` model with independent comparisons and the
``arm`` model, Normal or Flat priors on mu, the slopes and the baselines) and MCMC elsewhere; figures drawn in worker processes are
byte-identical to figures drawn in this process. The agreement of the exact engine with
MCMC is tested against bayesmeta's published posteriors in tests/test_exact.py and against
MCMC in tests/test_bayes_validation.py.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bayes_msc.data.effects import effect_table
from bayes_msc.data.reader import read_dataset
from bayes_msc.priors import PriorSet, bundled_prior_sets
from bayes_msc.workflow.plan import Cell, FitTask
from bayes_msc.workflow.review import engine_for

BASE = Path(__file__).resolve().parent / "corpus" / "simulated_base"


@pytest.fixture(scope="module")
def cells():
    ds = read_dataset(BASE)
    return {m: Cell("vas", 6, effect_table(ds, "vas", 6, multiarm=m)) for m in ("split", "shared")}


def _spec(engine):
    return SimpleNamespace(engine=engine)


def test_auto_uses_exact_for_re_with_independent_comparisons(cells):
    sets = bundled_prior_sets()
    for prior in sets:
        task = FitTask("vas", 6, "re", prior)
        assert engine_for(_spec("auto"), cells["split"], task, sets) == "exact"
        assert engine_for(_spec("auto"), cells["split"], replace(task, covariates=("age_mean",)), sets) == "exact"


def test_auto_uses_exact_for_the_arm_model_under_normal_priors(cells):
    sets = bundled_prior_sets()
    for prior in sets:
        task = FitTask("vas", 6, "arm", prior)
        assert engine_for(_spec("auto"), cells["split"], task, sets) == "exact"
        assert engine_for(_spec("auto"), cells["split"], replace(task, covariates=("age_mean",)), sets) == "exact"


def test_auto_keeps_mcmc_for_shared_and_non_normal_priors(cells):
    sets = dict(bundled_prior_sets())
    shared = cells["shared"]
    assert np.count_nonzero(shared.effects.vcov - np.diag(np.diag(shared.effects.vcov)))
    assert engine_for(_spec("auto"), shared, FitTask("vas", 6, "re", "vague"), sets) == "mcmc"
    sets["t_mu"] = PriorSet.from_dict(
        "t_mu",
        {"mu": {"dist": "StudentT", "nu": 3.0, "mu": 0.0, "sigma": 10.0}, "tau": {"dist": "HalfNormal", "sigma": 5.0}},
    )
    assert engine_for(_spec("auto"), cells["split"], FitTask("vas", 6, "re", "t_mu"), sets) == "mcmc"
    sets["t_alpha"] = PriorSet.from_dict(
        "t_alpha",
        {
            "mu": {"dist": "Normal", "mu": 0.0, "sigma": 10.0},
            "tau": {"dist": "HalfNormal", "sigma": 5.0},
            "alpha": {"dist": "StudentT", "nu": 3.0, "mu": 50.0, "sigma": 100.0},
        },
    )
    assert engine_for(_spec("auto"), cells["split"], FitTask("vas", 6, "arm", "t_alpha"), sets) == "mcmc"
    assert engine_for(_spec("auto"), cells["split"], FitTask("vas", 6, "re", "t_alpha"), sets) == "exact"


def test_an_explicit_engine_is_kept(cells):
    sets = bundled_prior_sets()
    for engine in ("mcmc", "exact"):
        assert engine_for(_spec(engine), cells["split"], FitTask("vas", 6, "re", "vague"), sets) == engine


def test_figures_drawn_in_workers_equal_figures_drawn_here(tmp_path, monkeypatch):
    from bayes_msc.cli import main as cli
    from bayes_msc.report import figures

    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'[dataset]\npath = "{BASE}"\n[analysis]\noutcomes = ["vas"]\n[bayes]\nmodels = ["re"]\n'
        'priors = ["weakly_informative", "skeptical"]\nengine = "exact"\n',
        encoding="utf-8",
    )
    outs = {}
    for n in (1, 2):
        monkeypatch.setattr(figures, "workers", lambda jobs, n=n: min(n, jobs))
        out = tmp_path / f"out{n}"
        assert cli.main(["run", str(spec), "--out", str(out), "--no-progress"]) == 0
        outs[n] = {p.name: p.read_bytes() for p in (out / "figures").iterdir()}
    assert outs[1] and outs[1].keys() == outs[2].keys()
    for name in outs[1]:
        assert outs[1][name] == outs[2][name], name


def test_reproduction_reusing_the_runs_effect_tables_is_unchanged():
    from bayes_msc.studies.qu_sun_2021.reproduce import reproduce
    from bayes_msc.studies.qu_sun_2021.table2 import EffectTables

    ds = read_dataset(Path(__file__).resolve().parents[1] / "data" / "msc_knee_oa_simulated")
    tables = EffectTables(ds, "md")
    for outcome, month in (("vas", 12), ("womac_pain", 6), ("ikdc", 24)):
        assert tables.put(effect_table(ds, outcome, month))
    assert not tables.put(effect_table(ds, "vas", 6, measure="smd"))  # not what get() builds
    assert not tables.put(effect_table(ds, "vas", 6, r=0.3))
    seeded = reproduce(ds, tables=tables, metareg=False)
    assert sum(1 for key in tables._cache if key[2] == "split") > 3  # the rest were built as needed
    assert seeded.to_dict() == reproduce(ds, metareg=False).to_dict()


def test_no_forked_figure_workers_after_nutpie_sampled(monkeypatch):
    """A forked child that frees a copy of a nutpie sampler waits for threads it does not
    have (a hung report was seen): once nutpie has sampled, figures are drawn in-process."""
    from bayes_msc.bayes.mcmc import sampler
    from bayes_msc.report import figures

    monkeypatch.setattr(sampler, "_STARTED", [0])
    many = figures.workers(50)
    assert figures.fork_safe() and many == min(50, len(os.sched_getaffinity(0)))
    monkeypatch.setattr(sampler, "_STARTED", [1])
    assert not figures.fork_safe() and figures.workers(50) == 1

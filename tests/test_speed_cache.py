"""The compile-cost measures of the MCMC engine keep the model and the draws what they were.

- Packed data (:func:`bayes_msc.bayes.mcmc.models.layout`): every named input of a
  fit comes back unchanged from its slice of the packed vectors, the slices tile the
  vectors, and a compiled model has one float ``pm.Data`` (two for ``arm``), whatever the
  number of inputs (each ``pm.Data`` costs nutpie a numba specialisation).
- The ``arm`` model's log density, built from the packed vectors, is the arm-level
  normal-normal density computed with scipy (non-centred, centred and marginal forms).
- PyTensor's numba disk cache, which the engine now always compiles with (``-m slow``):
  the same fits in fresh processes give bit-identical draws with the cache cold (empty)
  and warm, and with the user's PYTENSOR_FLAGS turning it off (the engine overrides that:
  the setting selects kernels that changed the dense model's last bits).

Functional checks only; compile times are measured in benchmarks/ (bench_speed.py,
bench_k1000.py), never here.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from bayes_msc.bayes.inputs import prepare_arms
from bayes_msc.bayes.mcmc import models as bm
from bayes_msc.data.effects import ArmTable
from bayes_msc.priors import Prior, PriorSet
from conftest import ROOT

PRIORS = PriorSet(
    name="test",
    description="",
    mu=Prior("Normal", {"mu": 0.5, "sigma": 4.0}),
    tau=Prior("HalfNormal", {"sigma": 2.0}),
    beta=Prior("Normal", {"mu": 0.0, "sigma": 3.0}),
    alpha=Prior("Normal", {"mu": 10.0, "sigma": 100.0}),
)


def arm_table() -> ArmTable:
    """Three invented studies, one with two treatment arms sharing its control."""
    rows = [
        ("s1", "t", "treatment", 20, 11.0, 2.0, 30.0),
        ("s1", "c", "control", 22, 12.5, 2.2, 30.0),
        ("s2", "t", "treatment", 15, 9.0, 3.0, 50.0),
        ("s2", "c", "control", 16, 10.0, 2.5, 50.0),
        ("s3", "t1", "treatment", 30, 8.0, 2.0, 10.0),
        ("s3", "t2", "treatment", 31, 7.5, 2.1, 100.0),
        ("s3", "c", "control", 29, 9.5, 1.9, np.nan),
    ]
    data = pd.DataFrame(rows, columns=["study", "arm", "role", "n", "mean", "sd", "dose"])
    data["n"] = data["n"].astype(float)
    data["se"] = data["sd"] / np.sqrt(data["n"])
    comps = pd.DataFrame(
        {
            "study": ["s1", "s2", "s3", "s3"],
            "treatment_arm": ["t", "t", "t1", "t2"],
            "control_arm": ["c", "c", "c", "c"],
        }
    )
    return ArmTable(
        data=data,
        comparisons=comps,
        outcome="y",
        month=0.0,
        basis="final",
        r=0.5,
        rescale=False,
        simulated=False,
        dataset="invented",
        covariates=("dose",),
    )


def structures() -> list[bm.Structure]:
    signature = bm.prior_signature(PRIORS, 2, arm=False)
    return [
        bm.Structure("re", 16, 0, signature[:2]),
        bm.Structure("re", 16, 2, signature),
        bm.Structure("re", 16, 2, signature, dense=True),
        bm.Structure("arm", 16, 2, bm.prior_signature(PRIORS, 2, arm=True), n_arms=32, n_studies=16),
    ]


@pytest.mark.parametrize("structure", structures(), ids=lambda s: f"{s.kind}-p{s.p}{'-dense' if s.dense else ''}")
def test_packed_inputs_come_back_unchanged(structure):
    rng = np.random.default_rng(1)
    places = bm.layout(structure)
    named = {
        name: rng.integers(0, 16, size=shape) if name in ("arm_study", "arm_effect") else rng.normal(size=shape)
        for name, (_, shape) in places.items()
    }
    packed = bm.pack(structure, named)
    assert set(packed) == ({"data", "index"} if structure.kind == "arm" else {"data"})
    for vector, ints in ((packed["data"], False), (packed.get("index"), True)):
        if vector is None:
            continue
        mine = sorted(
            (where.start, where.stop)
            for name, (where, _) in places.items()
            if (name in ("arm_study", "arm_effect")) == ints
        )
        assert mine[0][0] == 0 and mine[-1][1] == len(vector)
        assert all(a[1] == b[0] for a, b in itertools.pairwise(mine)), "slices overlap or leave gaps"
    for name, (where, shape) in places.items():
        vector = packed["index" if name in ("arm_study", "arm_effect") else "data"]
        np.testing.assert_array_equal(vector[where].reshape(shape), named[name], err_msg=name)


@pytest.mark.parametrize("structure", structures(), ids=lambda s: f"{s.kind}-p{s.p}{'-dense' if s.dense else ''}")
def test_one_data_vector_per_model(structure):
    model = bm.build_model(structure)
    assert sorted(v.name for v in model.data_vars) == (["data", "index"] if structure.kind == "arm" else ["data"])


def test_arm_model_log_density_is_the_arm_level_normal_density():
    from scipy import stats

    prepared = prepare_arms(arm_table(), ["dose"])
    inp = prepared.inputs
    point = {
        "mu": -1.1,
        "tau": 0.7,
        "beta": np.array([0.4]),
        "alpha": np.array([12.0, 10.5, 9.0]),
        "delta_raw": np.array([0.3, -0.8, 1.2, 0.1]),
    }
    treated = inp.arm_effect >= 0
    mean = point["mu"] + inp.z @ point["beta"]
    prior = (
        stats.norm(0.5, 4.0).logpdf(point["mu"])
        + stats.halfnorm(scale=2.0).logpdf(point["tau"])
        + stats.norm(0.0, 3.0).logpdf(point["beta"]).sum()
        + stats.norm(10.0, 100.0).logpdf(point["alpha"]).sum()
    )
    const = 0.5 * len(inp.arm_mean) * math.log(2 * math.pi)  # the Potential leaves out log(2 pi)
    for form in ("noncentred", "centred", "marginal"):
        model = bm.build_arm_model(inp, PRIORS, form, prepared.terms)
        f = model.compile_logp(jacobian=False, mode="FAST_COMPILE")
        raw = point["delta_raw"]
        if form == "centred":
            delta, raw_lp = raw, stats.norm(mean, point["tau"]).logpdf(raw).sum()
        else:
            delta, raw_lp = mean + point["tau"] * raw, stats.norm.logpdf(raw).sum()
        effect = np.where(treated, (mean if form == "marginal" else delta)[np.maximum(inp.arm_effect, 0)], 0.0)
        var = inp.arm_se**2 + (point["tau"] ** 2 * treated if form == "marginal" else 0.0)
        lik = stats.norm.logpdf(inp.arm_mean, point["alpha"][inp.arm_study] + effect, np.sqrt(var)).sum()
        value = {
            "mu": point["mu"],
            "tau_log__": math.log(point["tau"]),
            "beta": point["beta"],
            "alpha": point["alpha"],
            "delta_raw": raw,
        }
        assert float(f(value)) == pytest.approx(prior + raw_lp + lik + const, rel=1e-10), form


FIT = """
import hashlib, numpy as np
from bayes_msc.data.effects import arm_table
from bayes_msc.data.reader import read_dataset
from bayes_msc.bayes.fit import fit
from bayes_msc.data.effects import effect_table
ds = read_dataset({data!r})
h = hashlib.sha256()
for r in (fit(arm_table(ds, "vas", 6), model="arm", parameterisation="centred", draws=200, tune=200, chains=2,
              seed=11),
          fit(effect_table(ds, "vas", 6, multiarm="shared"), parameterisation="noncentred", draws=200, tune=200,
              chains=2, seed=11)):
    for group in ("posterior", "sample_stats"):
        tree = r.idata[group].to_dataset()
        for name in sorted(tree.data_vars):
            h.update(name.encode()); h.update(np.ascontiguousarray(tree[name].values).tobytes())
print("DRAWS", h.hexdigest())
"""


def _draws_hash(flags: str) -> str:
    env = dict(os.environ, PYTENSOR_FLAGS=flags)
    code = FIT.format(data=str(ROOT / "tests" / "corpus" / "simulated_multiarm"))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=900
    ).stdout
    return next(line.split()[1] for line in out.splitlines() if line.startswith("DRAWS"))


@pytest.mark.slow
def test_same_draws_with_the_numba_cache_cold_warm_and_turned_off(tmp_path):
    cache = f"base_compiledir={tmp_path / 'pytensor'}"
    cold = _draws_hash(cache)
    assert any((tmp_path / "pytensor" / "numba").iterdir()), "the cold run cached nothing"
    warm = _draws_hash(cache)
    off = _draws_hash(f"base_compiledir={tmp_path / 'other'},numba__cache=False")
    assert cold == warm == off
    assert hashlib.sha256(b"").hexdigest() not in (off, cold, warm)

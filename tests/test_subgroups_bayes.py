"""Bayesian subgroups (issue 16, deliverable 1): each level's mean and the posterior of the
differences, from the ``re`` model with the factor's dummy terms.

Outside reference: metafor 3.8.1's common-tau^2 factor model (tests/reference/
subgroup_network_metafor.json, DL cases of dat.bcg / dat.raudenbush1985 /
dat.bangertdrowns2004). With tau a point mass at metafor's tau_DL and flat priors on mu and
the slopes, each level's mean given the data is N(metafor's estimate, its SE^2), as in
tests/test_bayes_validation.py 3a:

- the exact engine's quadrature summaries of ``mu`` (the reference level) and of each
  ``x[LEVEL]`` slope (a difference from the reference) equal metafor's ``relevel`` model to
  1e-9 SE;
- every level's mean and every difference summarised from the fit's draws (4 x 1000
  independent exact draws) lie within 4 Monte Carlo SEs of metafor's ``mods = ~ factor(x) - 1``
  estimates and the contrasts of its ``relevel`` coefficients;
- MCMC (slow) agrees with metafor within 4 MCSE, with its convergence asserted.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import bayes_msc as bm
from bayes_msc.priors import Prior, PriorSet
from test_subgroups import CASES, _table

DL = sorted(n for n, c in CASES.items() if c["method"] == "dl")


def _point_mass(tau: float) -> PriorSet:
    lo, hi = tau * (1 - 1e-9), tau * (1 + 1e-9)
    return PriorSet(
        "tau_fixed_at_dl", "", Prior("Flat", {}), Prior("Uniform", {"lower": lo, "upper": hi}), beta=Prior("Flat", {})
    )


def _metafor_levels(case: dict) -> dict[str, tuple[float, float]]:
    lv = case["levels"]
    return {n.removeprefix("factor(x)"): (b, s) for n, b, s in zip(lv["coef_names"], lv["b"], lv["se"], strict=True)}


def _check_draws(res, case, mc_draws: float) -> None:
    want = _metafor_levels(case)
    for x in res.levels:
        est, se = want[x.name]
        assert abs(x.mean - est) <= 4 * se / math.sqrt(mc_draws), x.name
        assert x.sd == pytest.approx(se, rel=0.1), x.name
    # the differences: contrasts of the levels' estimates; their SE from metafor's relevel
    # model where one side is the reference, else bounded by the levels' (correlated) SEs
    names = [x.name for x in res.levels]
    for (a, b), d in zip(itertools.combinations(names, 2), res.differences, strict=True):
        assert d.name == f"{b} - {a}"
        diff = want[b][0] - want[a][0]
        se = math.hypot(want[a][1], want[b][1])
        assert abs(d.mean - diff) <= 4 * se / math.sqrt(mc_draws), d.name


@pytest.mark.parametrize("name", DL)
def test_exact_levels_with_tau_at_common_dl_are_metafor(name):
    case = CASES[name]
    tau = math.sqrt(case["common"]["tau2"])
    res = bm.subgroup_posterior(_table(case["data"]), "x", reference=case["reference"], prior=_point_mass(tau))
    assert res.engine == "exact" and res.reference == case["reference"]
    p = res.fit.parameters
    rel = case["relevel"]
    prefix = "relevel(factor(x), ref = d$ref)"
    for n, b, se, lo, hi in zip(rel["coef_names"], rel["b"], rel["se"], rel["ci_lb"], rel["ci_ub"], strict=True):
        term = "mu" if n == "intrcpt" else f"x[{n.removeprefix(prefix)}]"
        for col, value in (("mean", b), ("median", b), ("eti_low", lo), ("eti_high", hi)):
            assert p.loc[term, col] == pytest.approx(value, abs=1e-9 * se), (term, col)
        assert p.loc[term, "sd"] == pytest.approx(se, rel=1e-9), term
    _check_draws(res, case, mc_draws=4000)


def test_levels_are_mu_plus_slopes_of_one_fit():
    """Default prior on the simulated MSC data: the reference level's mean is the fit's mu
    (its draws), another level's mean mu + its slope; notes state the coding; JSON and text
    carry every level and every difference."""
    effects = bm.effect_table(bm.read_dataset("data/msc_knee_oa_simulated"), "vas", 12)
    res = bm.subgroup_posterior(effects, "control_type", reference="hyaluronic_acid", seed=7)
    fit = res.fit
    mu = fit.draws_of("mu")
    by = {x.name: x for x in res.levels}
    assert res.engine == "exact" and fit.verdict.passed
    assert by["hyaluronic_acid"].mean == pytest.approx(float(np.mean(mu)), rel=1e-12)
    placebo = mu + fit.draws_of("control_type[placebo]")
    assert by["placebo"].mean == pytest.approx(float(np.mean(placebo)), rel=1e-12)
    # mu is the reference level's effect (dummy terms at 0): the exact quadrature mean of mu
    # and the draws agree within Monte Carlo error
    assert abs(by["hyaluronic_acid"].mean - fit.value("mu")) <= 4 * fit.value("mu", "sd") / math.sqrt(mu.size)
    assert fit.covariate_at == {"control_type[high_tibial_osteotomy]": 0.0, "control_type[placebo]": 0.0}
    assert any("reference level 'hyaluronic_acid'" in n for n in res.notes)
    d = res.to_dict()
    assert [x["level"] for x in d["levels"]] == ["high_tibial_osteotomy", "hyaluronic_acid", "placebo"]
    assert [x["name"] for x in d["differences"]] == [
        "hyaluronic_acid - high_tibial_osteotomy",
        "placebo - high_tibial_osteotomy",
        "placebo - hyaluronic_acid",
    ]
    diff = res.differences[2]
    assert diff.mean == pytest.approx(float(np.mean(fit.draws_of("control_type[placebo]"))), rel=1e-12)
    assert "Differences between levels" in str(res) and repr(res).startswith("BayesSubgroupResult(")
    assert list(res.summary()["term"])[:3] == ["mu[high_tibial_osteotomy]", "mu[hyaluronic_acid]", "mu[placebo]"]


def test_one_study_levels_say_so():
    effects = bm.effect_table(bm.read_dataset("data/msc_knee_oa_simulated"), "vas", 12)
    res = bm.subgroup_posterior(effects, "control_type", reference="hyaluronic_acid")
    assert dict(zip([x.name for x in res.levels], res.n_studies, strict=True))["placebo"] == 1
    assert any(n.startswith("placebo: 1 study: within-study comparison only") for n in res.notes)


def test_bad_arguments():
    table = _table(CASES["bcg_DL"]["data"])
    with pytest.raises(bm.InputError, match="not a level of x"):
        bm.subgroup_posterior(table, "x", reference="nope")
    with pytest.raises(bm.InputError, match="set by the subgroup analysis"):
        bm.subgroup_posterior(table, "x", covariates=["x"])
    with pytest.raises(bm.InputError, match="unknown column"):
        bm.subgroup_posterior(table, "nope")


@pytest.mark.slow
def test_mcmc_levels_with_tau_at_common_dl_are_metafor():
    """MCMC (nutpie) on dat.bcg by allocation: every level's mean within 4 MCSE of metafor's
    common-DL estimates; converged (verdict passes, no divergences)."""
    import arviz as az

    case = CASES["bcg_DL"]
    tau = math.sqrt(case["common"]["tau2"])
    res = bm.subgroup_posterior(
        _table(case["data"]),
        "x",
        reference=case["reference"],
        prior=_point_mass(tau),
        engine="mcmc",
        draws=4000,
        chains=4,
        seed=20210101,
        target_accept=0.99,
    )
    fit = res.fit
    assert res.engine == "mcmc" and fit.verdict.passed and fit.divergences == 0, fit.verdict
    want = _metafor_levels(case)
    post = fit.idata.posterior
    for x in res.levels:
        draws = post["mu"] if x.name == case["reference"] else post["mu"] + post["beta"].sel(term=f"x[{x.name}]")
        mcse = float(az.mcse(np.asarray(draws), method="mean"))
        est, se = want[x.name]
        assert abs(x.mean - est) <= 4 * mcse, x.name
        assert x.sd == pytest.approx(se, rel=0.05), x.name


def test_spec_factor_covariate_fits_with_the_exact_engine(tmp_path):
    """``bayes.covariates = [["factor(control_type, ref=...)"]]`` passes the plan's check,
    fits exactly, and the report skips the line figure with its reason (a factor has levels)."""
    from pathlib import Path

    from bayes_msc.report.figures import figure_plan

    data = (Path(__file__).resolve().parents[1] / "data" / "msc_knee_oa_simulated").as_posix()
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'[dataset]\npath = "{data}"\n[analysis]\noutcomes = ["vas"]\nmonths = [12]\n[bayes]\nmodels = ["re"]\n'
        'priors = ["weakly_informative"]\ncovariates = [["factor(control_type, ref=hyaluronic_acid)"]]\n',
        encoding="utf-8",
    )
    res = bm.run_spec(spec)
    (rec,) = [f for f in res.fits if f.task.covariates]
    assert rec.result.engine == "exact" and rec.result.verdict.passed
    assert {"control_type[placebo]", "control_type[high_tibial_osteotomy]"} <= set(rec.result.parameters.index)
    _, skipped = figure_plan(res)
    assert any("control_type is a factor" in why for why in skipped.values())

"""One meaning of mu: the pooled effect at the covariates' reference values (their means over
the analysed comparisons unless ``covariate_at`` sets them), for ``re`` and ``arm``, exact
and MCMC, Python, CLI, JSON, run tables and prior description; ``intercept`` is the effect
where every covariate term is 0."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import bayes_msc as bm
from bayes_msc.bayes.fit import fit
from bayes_msc.cli.main import main
from bayes_msc.errors import InputError
from bayes_msc.report import tables
from bayes_msc.workflow.review import prepare_review, run_review

ROOT = Path(__file__).resolve().parents[1]
SIMULATED = ROOT / "data" / "msc_knee_oa_simulated"
TERMS = ("log10(dose_million)", "age_mean")
CELL = [str(SIMULATED), "--outcome", "vas", "--month", "12"]


@pytest.fixture(scope="module")
def vas12():
    return bm.effect_table(SIMULATED, "vas", 12)


@pytest.mark.parametrize("model", ["re", "arm"])
def test_default_reference_is_the_mean_of_the_analysed_comparisons(vas12, model):
    data = vas12 if model == "re" else bm.arm_table(SIMULATED, "vas", 12)
    r = fit(data, model=model, covariates=TERMS)
    x, _, _ = vas12.design(list(TERMS))
    if model == "re":  # the arm model's comparisons are its treatment arms (same rows here)
        np.testing.assert_allclose(list(r.covariate_at.values()), x.mean(axis=0), rtol=1e-12)
    assert list(r.covariate_at) == list(TERMS) and r.covariate_at_given == ()
    assert r.to_dict()["covariate_at"] == r.covariate_at
    # mu is the effect there: mu = intercept + sum(slope x reference), for the exact
    # engine's means (linear in the coefficients) and for every draw
    at = np.array([r.covariate_at[t] for t in TERMS])
    slopes = np.array([r.value(t) for t in TERMS])
    assert r.value("mu") == pytest.approx(r.value("intercept") + slopes @ at, abs=1e-9 * r.value("mu", "sd"))
    assert "mu_at_mean" not in r.parameters.index and set(r.probabilities) == {"P(mu < 0)", "P(mu > 0)"}
    post = r.idata.posterior
    want = post["intercept"].values + np.einsum("cdp,p->cd", post["beta"].values, at)
    np.testing.assert_allclose(post["mu"].values, want, rtol=1e-9, atol=1e-9)


def test_a_given_reference_moves_mu_and_its_prior_with_it(vas12):
    """With a nearly flat mu prior the posterior of the line does not depend on where mu is
    read; with the default prior, mu's prior applies at the given values (the prior set's
    mu prior is on mu as defined)."""
    base = fit(vas12, prior="vague", covariates=TERMS)
    at60 = fit(vas12, prior="vague", covariates=TERMS, covariate_at={"age_mean": 60, "dose_million": 50})
    assert at60.covariate_at == pytest.approx({"log10(dose_million)": math.log10(50), "age_mean": 60.0})
    assert at60.covariate_at_given == TERMS
    at = np.array([at60.covariate_at[t] for t in TERMS])
    line = base.value("intercept") + np.array([base.value(t) for t in TERMS]) @ at
    assert at60.value("mu") == pytest.approx(line, abs=0.01 * at60.value("mu", "sd"))
    assert "age_mean = 60 (given)" in at60.mu_meaning()
    wi = fit(vas12, covariates=TERMS, covariate_at={"age_mean": 60}, seed=3)
    np.testing.assert_allclose(
        wi.idata.log_prior["mu"].values, wi.prior_set.mu.logpdf(wi.idata.posterior["mu"].values), rtol=1e-12
    )


def test_the_prior_description_says_what_mu_is():
    text = (ROOT / "models" / "priors.toml").read_text("utf-8")
    assert "reference values" in text and "covariate_at" in text
    from bayes_msc.priors import __doc__ as priors_doc

    assert "reference values" in (priors_doc or "")


def test_python_cli_and_run_tables_agree_on_mu(vas12, tmp_path, capsys):
    py = fit(vas12, covariates=TERMS, covariate_at={"age_mean": 60}, mcid=-19.9)
    argv = ["fit", *CELL, "--covariate", TERMS[0], "--covariate", TERMS[1], "--covariate-at", "age_mean=60"]
    assert main([*argv, "--mcid", "-19.9", "--format", "json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["parameters"]["mu"] == py.to_dict()["parameters"]["mu"]
    assert cli["probabilities"] == py.to_dict()["probabilities"] and cli["covariate_at"] == py.covariate_at
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "mu: the pooled effect at log10(dose_million) = " in text and "age_mean = 60 (given)" in text
    spec = {
        "dataset": {"path": str(SIMULATED)},
        "analysis": {"outcomes": ["vas"], "months": [12]},
        "bayes": {
            "models": ["re"],
            "priors": ["weakly_informative"],
            "covariates": [list(TERMS)],
            "covariate_at": {"age_mean": 60},
            "mcid": {"vas": -19.9},
        },
    }
    res = run_review(prepare_review(spec))
    row = tables.bayes(res).query("covariates != ''").iloc[0]
    assert row["mu"] == py.value("mu") and row["mu_low"] == py.value("mu", "eti_low")
    assert row["p_mu_below_0"] == py.probabilities["P(mu < 0)"]
    assert row["p_mcid"] == py.probabilities["P(mu < -19.9)"]
    assert row["mu_at"] == "log10(dose_million) = 1.638, age_mean = 60"
    assert res.to_dict()["fits"][1]["covariate_at"] == py.covariate_at


def test_bad_reference_values_are_input_errors(vas12, capsys):
    for at, message in (
        ({"weight": 70}, "'weight' is not a covariate of this model"),
        ({"age_mean": float("nan")}, "must be a finite number"),
        ({"dose_million": -1}, "needs a value > 0"),
    ):
        with pytest.raises(InputError, match=message) as err:
            fit(vas12, covariates=TERMS, covariate_at=at)
        assert err.value.problems[0].argument == "covariate_at"
    with pytest.raises(InputError, match="the model has no covariates"):
        fit(vas12, covariate_at={"age_mean": 60})
    assert main(["fit", *CELL, "--covariate", "age_mean", "--covariate-at", "weight=70"]) == 2
    assert "option '--covariate-at'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["fit", *CELL, "--covariate", "age_mean", "--covariate-at", "age_mean"])
    assert stop.value.code == 2 and "expected NAME=NUMBER" in capsys.readouterr().err


def test_spec_reference_values_are_checked(tmp_path):
    from bayes_msc.workflow.spec import spec_from_mapping

    base = {"dataset": {"path": str(SIMULATED)}, "bayes": {"priors": ["vague"]}}
    with pytest.raises(InputError, match=r"given without bayes\.covariates"):
        spec_from_mapping({**base, "bayes": {"priors": ["vague"], "covariate_at": {"age_mean": 60}}})
    with pytest.raises(InputError, match="must be a finite number"):
        spec_from_mapping(
            {**base, "bayes": {"priors": ["vague"], "covariates": [["age_mean"]], "covariate_at": {"age_mean": "x"}}}
        )
    spec = {**base, "bayes": {"priors": ["vague"], "covariates": [["age_mean"]], "covariate_at": {"weight": 1}}}
    with pytest.raises(InputError, match=r"'weight' is not a term of bayes\.covariates") as err:
        prepare_review(spec)
    assert err.value.problems[0].key == "bayes.covariate_at.weight"


@pytest.mark.slow
@pytest.mark.parametrize("model", ["re", "arm"])
def test_mcmc_mu_is_the_exact_mu(vas12, model):
    """MCMC and exact agree on mu, intercept and P(mu < 0) at a given reference (4 MCSE)."""
    import arviz as az

    data = vas12 if model == "re" else bm.arm_table(SIMULATED, "vas", 12)
    kw = {"model": model, "covariates": TERMS, "covariate_at": {"age_mean": 60}}
    ex = fit(data, **kw)
    mc = fit(data, **kw, engine="mcmc", seed=8)
    assert mc.verdict.passed and mc.covariate_at == ex.covariate_at
    for name in ("mu", "intercept"):
        err = float(az.mcse(mc.idata.posterior[name], method="mean"))
        assert abs(mc.value(name) - ex.value(name)) < 4 * err, name
    p, n = ex.probabilities["P(mu < 0)"], mc.value("mu", "ess_bulk")
    assert abs(mc.probabilities["P(mu < 0)"] - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-3

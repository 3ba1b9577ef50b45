"""Fits the data cannot identify: comparisons that all come from one study (e.g. two dose arms
against one control) are a within-study comparison, not a pooled effect across studies.

``run`` gives such a cell no random-effects analysis (no Bayesian fit, prior comparison,
leave-one-out or covariate model: each listed with the reason and the study's comparisons)
and pools it with the fixed-effect summary; ``fit`` and ``compare-priors`` say "1 study:
within-study comparison only" and show the comparisons. The real dataset (data/msc_knee_oa)
is the case: each of its 13 analysable cells holds the two dose arms of Lamo-Espinosa 2016.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bayes_msc as bm
from bayes_msc.cli.main import main
from bayes_msc.workflow.plan import one_study_reason
from bayes_msc.workflow.review import prepare_review, run_review

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "data" / "msc_knee_oa"
SIMULATED = ROOT / "data" / "msc_knee_oa_simulated"
ALONE = "1 study: within-study comparison only"


@pytest.fixture(scope="module")
def real_review():
    return prepare_review(ROOT / "models" / "qu_sun_2021.toml")


def test_the_real_spec_plans_no_random_effects_fit(real_review):
    plan = real_review.plan
    assert len(plan.cells) == 13 and len(plan.single_study) == 13
    assert plan.fits == () and plan.metaregs == () and not plan.loo
    for cell in plan.cells:
        reasons = {s.what: s.reason for s in plan.skipped if (s.outcome, s.month) == (cell.outcome, cell.month)}
        assert {"leave-one-out", "model re"} <= set(reasons)
        assert all(
            r.startswith(f"{ALONE} (lamo_espinosa_2016; its 2 comparisons: msc_10m vs ha: ") for r in reasons.values()
        )
        covs = [w for w in reasons if w.startswith("covariates")]
        assert len(covs) == 2


def test_the_real_run_pools_one_study_with_the_fixed_effect_summary(real_review):
    res = run_review(real_review)
    assert res.fits == ()
    for cr in res.cells:
        assert cr.pool.method == "fe" and cr.pool.why.startswith(ALONE) and cr.loo is None and cr.metaregs == ()
        ref = bm.pool(cr.cell.effects, method="fe")
        assert cr.pool.estimate == ref.estimate and cr.pool.ci_low == ref.ci_low
    cells = res.to_dict()["cells"]
    assert all(c["frequentist"]["method"] == "fe" for c in cells)


def test_the_report_says_within_study_comparison_only(tmp_path):
    spec = {
        "dataset": {"path": str(REAL)},
        "analysis": {"outcomes": ["vas"], "months": [12]},
        "bayes": {"priors": ["vague", "weakly_informative"]},
    }
    bm.run_spec(spec, out=tmp_path / "report")
    html = (tmp_path / "report" / "index.html").read_text("utf-8")
    assert html.count(ALONE) >= 3  # the skipped analyses, the frequentist pool, the forest plot's place
    assert "msc_10m vs ha: -20 [-38.5, -1.54]" in html  # the study's comparisons are shown
    summary = json.loads((tmp_path / "report" / "summary.json").read_text("utf-8"))
    assert summary["fits"] == [] and summary["cells"][0]["frequentist"]["method"] == "fe"


def test_fit_and_compare_priors_say_so(capsys):
    cell = [str(REAL), "--outcome", "vas", "--month", "12"]
    assert main(["fit", *cell]) == 0
    out = capsys.readouterr().out
    assert f"*** {ALONE} (lamo_espinosa_2016, 2 comparisons)" in out
    assert "lamo_espinosa_2016: msc_10m vs ha" in out and "lamo_espinosa_2016: msc_100m vs ha" in out
    assert main(["fit", *cell, "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["n_studies"] == 1 and d["verdict"]["warnings"][0].startswith(ALONE)
    assert main(["compare-priors", *cell, "--prior", "vague", "--prior", "skeptical"]) == 0
    assert f"*** {ALONE}" in capsys.readouterr().out


def test_two_studies_are_enough():
    et = bm.effect_table(SIMULATED, "vas", 12)
    assert one_study_reason(et) is None
    r = bm.fit(et)
    assert r.n_studies == len(set(et.data["study"])) > 1 and not r.verdict.warnings


def test_the_real_data_save_a_posterior_file_too(tmp_path, capsys):
    """``fit --engine exact --save`` on the bundled real data: a file with every group (the
    one-study warning travels with it)."""
    import arviz as az

    target = tmp_path / "real.nc"
    assert main(["fit", str(REAL), "--outcome", "womac_pain", "--month", "6", "--save", str(target)]) == 0
    capsys.readouterr()
    assert {"posterior", "prior", "posterior_predictive", "log_likelihood"} <= set(az.from_netcdf(target).children)
    assert bm.load_result(target).verdict.warnings[0].startswith(ALONE)

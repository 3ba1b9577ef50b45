"""The report says what ran (issue 13): the Knapp-Hartung wording, fits counted per model and
engine, sections about the models that ran, the diagnostics appendix by engine, month 0,
runs that can analyse nothing, and the forest's favours-labels from the outcome's
direction.

Pages are built in memory (:func:`bayes_msc.run_spec` without ``out``, then the page), so no
figure is drawn.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import bayes_msc as bm
from bayes_msc.report.figures import figure_jobs, trace_fits
from bayes_msc.report.sections import build_page
from bayes_msc.report.writer import build_tables

SIMULATED = Path(__file__).resolve().parents[1] / "data" / "msc_knee_oa_simulated"


def spec(bayes: dict | None = None, **analysis) -> dict:
    out = {
        "dataset": {"path": str(SIMULATED)},
        "analysis": {"outcomes": ["vas"], "months": [12], **analysis},
        "frequentist": {"method": "reml"},
    }
    if bayes is not None:
        out["bayes"] = bayes
    return out


def page(doc: dict) -> tuple[bm.RunResults, str]:
    res = bm.run_spec(doc)
    return res, build_page(res, build_tables(res), {})


def test_the_frequentist_text_matches_the_test_used():
    _, z = page(spec())
    assert "z-based confidence intervals" in z and "Knapp-Hartung" not in z
    doc = spec()
    doc["frequentist"] = {"method": "reml", "hksj": True, "pi": "t"}
    _, kh = page(doc)
    assert "Knapp-Hartung t-based confidence intervals and tests (t on k - 1 df)" in kh and "z-based" not in kh
    assert "prediction intervals (random effects only) from t with k - 2 df" in kh


def test_counts_per_model_and_only_the_models_that_ran():
    _, text = page(spec({"models": ["re"], "priors": ["weakly_informative", "skeptical"]}))
    assert "model <b>re</b>: 2 by the exact engine" in text
    assert "arm level" not in text and "<b>arm</b>" not in text
    _, text = page(
        spec(
            {
                "models": ["re", "arm"],
                "priors": ["weakly_informative"],
                "cells": {"arm": [{"outcome": "vas", "months": [12]}]},
            }
        )
    )
    assert "model <b>re</b>: 1 by the exact engine; model <b>arm</b>: 1 by the exact engine" in text
    assert "arm level" in text


def test_the_diagnostics_appendix_says_what_it_can():
    res, text = page(spec({"models": ["re"], "priors": ["weakly_informative", "skeptical"]}))
    appendix = text[text.index('<section id="diagnostics">') :]
    assert appendix.count("exact posterior, no MCMC diagnostics") == 1
    assert "<table>" not in appendix  # no rows of dashes for exact fits
    assert trace_fits(res) == []
    # MCMC fits get their table and trace plots (10 draws: every verdict fails, so each is shown).
    mcmc = {"models": ["re"], "priors": ["weakly_informative"], "engine": "mcmc", "draws": 10, "tune": 10, "chains": 2}
    res, text = page(spec(mcmc))
    appendix = text[text.index('<section id="diagnostics">') :]
    assert "exact posterior" not in appendix and "1 MCMC fit" in appendix and "<table>" in appendix
    assert [f.task.key for f in trace_fits(res)] == ["vas_m12_re_weakly_informative"]
    assert "trace_vas_m12_re_weakly_informative" in [name for _, name, _ in figure_jobs(res)]


def test_a_fixed_effect_meta_regression_shows_no_r2():
    doc = spec({"models": ["re"], "priors": ["weakly_informative"], "covariates": [["log10(dose_million)"]]})
    doc["frequentist"] = {"method": "fe"}
    res, text = page(doc)
    frame = build_tables(res)["metareg"]
    assert (frame["method"] == "fe").all() and frame["r2"].notna().all()  # the CSV keeps metafor's value
    section = text[text.index('<section id="metareg">') : text.index('<section id="diagnostics">')]
    head, *rows = _first_table(section)
    r2 = head.index("r2")
    assert rows and all(row[r2] == "\u2013" for row in rows)  # an en dash: no value


def _first_table(text: str) -> list[list[str]]:
    """Header and body cells of the first HTML table in ``text`` (tags stripped)."""
    import html
    import re

    table = text[text.index("<table>") : text.index("</table>")]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
        for r in rows
    ]


def test_favours_labels_from_the_outcomes_direction():
    res = bm.run_spec(spec({"models": ["re"], "priors": ["weakly_informative"]}, better={"vas": "lower"}))
    (forest,) = [job for kind, _, job in figure_jobs(res) if kind == "forest"]
    assert forest.keywords["favours"] == ("favours treatment", "favours control")
    assert forest.keywords["study_labels"]["lamo_espinosa_2016"] == "Lamo-Espinosa 2016"
    res = bm.run_spec(spec({"models": ["re"], "priors": ["weakly_informative"]}, better={"vas": "higher"}))
    (forest,) = [job for kind, _, job in figure_jobs(res) if kind == "forest"]
    assert forest.keywords["favours"] == ("favours control", "favours treatment")
    with pytest.raises(bm.InputError, match=r"bayes\.mcid\.vas = -19\.9 says the opposite"):
        bm.run_spec(
            spec({"models": ["re"], "priors": ["weakly_informative"], "mcid": {"vas": -19.9}}, better={"vas": "higher"})
        )
    with pytest.raises(bm.InputError, match='must be "lower" or "higher"'):
        bm.run_spec(spec(better={"vas": "down"}))


def _single_time_point(tmp_path: Path, month: str) -> Path:
    folder = tmp_path / "one_month_simulated"
    folder.mkdir()
    for name in ("arms.csv", "studies.csv", "dataset.toml"):
        (folder / name).write_bytes((SIMULATED / name).read_bytes())
    out = pd.read_csv(SIMULATED / "outcomes.csv", dtype=str, keep_default_na=False)
    out[out["month"] == month].to_csv(folder / "outcomes.csv", index=False)
    return folder


def test_months_all_includes_month_0_unless_it_is_a_baseline(tmp_path):
    folder = _single_time_point(tmp_path, "0")
    doc = {"dataset": {"path": str(folder)}, "bayes": {"models": ["re"], "priors": ["weakly_informative"]}}
    res = bm.run_spec(doc)
    assert {c.month for c in res.plan.cells} == {0.0} and len(res.fits) == len(res.plan.cells) > 0
    full = bm.run_spec({"dataset": {"path": str(SIMULATED)}, "analysis": {"outcomes": ["vas"]}})
    assert 0.0 not in {c.month for c in full.plan.cells}
    (skip,) = [s for s in full.plan.skipped if s.month == 0.0]
    assert "month 0 is the baseline of months 3, 6, 12, 18, 24" in skip.reason


def test_a_run_that_can_fit_nothing_says_why(tmp_path):
    doc = {
        "dataset": {"path": str(SIMULATED)},
        "analysis": {"outcomes": ["vas"], "months": [18]},
        "bayes": {"models": ["re"], "priors": ["weakly_informative"], "covariates": [["age_mean"]]},
    }
    # k = 2 at month 18: the re model fits; a covariate model cannot.
    assert len(bm.run_spec(doc).fits) == 1
    one = _single_time_point(tmp_path, "12")
    arms = pd.read_csv(one / "arms.csv", dtype=str, keep_default_na=False)
    keep = arms["study"] == "vega_2015"
    arms[keep].to_csv(one / "arms.csv", index=False)
    out = pd.read_csv(one / "outcomes.csv", dtype=str, keep_default_na=False)
    out[out["study"] == "vega_2015"].to_csv(one / "outcomes.csv", index=False)
    studies = pd.read_csv(one / "studies.csv", dtype=str, keep_default_na=False)
    studies[studies["study"] == "vega_2015"].to_csv(one / "studies.csv", index=False)
    with pytest.raises(bm.InputError) as err:
        bm.run_spec({"dataset": {"path": str(one)}, "bayes": {"models": ["re"], "priors": ["weakly_informative"]}})
    (problem,) = err.value.problems
    assert problem.key == "bayes.models" and "allow none of the Bayesian fits" in problem.message
    assert "1 study: within-study comparison only" in problem.message  # one study: no between-study SD
    assert len(bm.run_spec({"dataset": {"path": str(one)}}).cells) > 0  # a frequentist report still runs

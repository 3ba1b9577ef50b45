"""Priors that do not cut the posterior off (bayes_msc.bayes.checks, the bundled ``vague`` set).

On a real dataset with large heterogeneity, metadat's dat.normand1999 (length of hospital
stay in 9 trials; data, escalc values, REML tau and its Q-profile CI pinned by
tests/reference/r/high_heterogeneity.R), the bundled vague prior's tau bound (now 10 s_u)
leaves the posterior free, while the former bound (2 s_u = 52 days, below the Q-profile
upper limit 54) and a deliberately tight Uniform(0, 30) are flagged: a warning naming the
prior set and the bound, in the verdict, the JSON, the table, the report and the
prior-comparison figure.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayes_msc as bm
from bayes_msc.bayes.checks import BOUND_SHARE, bound_warnings
from bayes_msc.cli.main import main
from bayes_msc.priors import PriorSet
from bayes_msc.results.bayes import BayesResult, Verdict

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((ROOT / "tests" / "reference" / "high_heterogeneity.json").read_text("utf-8"))
TIGHT = """[prior_sets.tight]
description = "Deliberately tight: tau ~ Uniform(0, 30) days"
mu = { dist = "Normal", mu = 0.0, sigma = 100.0 }
tau = { dist = "Uniform", lower = 0.0, upper = 30.0 }

[prior_sets.wide]
description = "tau ~ Uniform(0, 300) days"
mu = { dist = "Normal", mu = 0.0, sigma = 100.0 }
tau = { dist = "Uniform", lower = 0.0, upper = 300.0 }
"""


@pytest.fixture(scope="module")
def normand(tmp_path_factory) -> Path:
    """dat.normand1999 as a dataset folder (real data: length of stay in days, one month)."""
    folder = tmp_path_factory.mktemp("bounds") / "normand1999"
    folder.mkdir()
    arms, outcomes = [], []
    for i, study in enumerate(REF["study"]):
        for arm, role, key in (("specialist", "treatment", "1"), ("routine", "control", "2")):
            arms.append({"study": study, "arm": arm, "role": role, "n": REF[f"n{key}i"][i]})
            outcomes.append(
                {
                    "study": study,
                    "arm": arm,
                    "outcome": "los",
                    "month": 1,
                    "mean": REF[f"m{key}i"][i],
                    "sd": REF[f"sd{key}i"][i],
                }
            )
    pd.DataFrame(arms).to_csv(folder / "arms.csv", index=False)
    pd.DataFrame(outcomes).to_csv(folder / "outcomes.csv", index=False)
    (folder / "dataset.toml").write_text('simulated = false\ntitle = "metadat dat.normand1999"\n', encoding="utf-8")
    (folder.parent / "tight.toml").write_text(TIGHT, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def los(normand):
    return bm.effect_table(normand, "los", 1)


def test_the_bundled_prior_file_and_its_copy_are_identical():
    bundled = (ROOT / "src" / "bayes_msc" / "resources" / "priors.toml").read_bytes()
    assert (ROOT / "models" / "priors.toml").read_bytes() == bundled
    assert bm.load_prior_sets(ROOT / "models" / "priors.toml") == bm.bundled_prior_sets()


def test_the_dataset_gives_metafors_effects(los):
    np.testing.assert_allclose(los.yi, REF["yi"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(los.vi, REF["vi"], rtol=1e-12)


def test_the_vague_prior_does_not_cut_tau_off(los):
    r = bm.fit(los, prior="vague")
    lo, hi = r.prior_set.tau.support
    q99 = float(r.densities.tau_posterior.quantile([0.99])[0])
    assert lo == 0.0 and q99 < BOUND_SHARE * hi and not r.verdict.warnings
    ci = REF["reml_tau_ci"]
    # tau's posterior holds metafor's REML estimate and reaches past its Q-profile interval
    assert ci["lower"] < r.value("tau", "median") < ci["upper"]
    assert r.value("tau", "eti_low") < REF["reml"]["tau"] < r.value("tau", "eti_high")
    assert r.value("tau", "eti_high") > ci["upper"]


def test_the_former_vague_bound_is_flagged(los):
    """2 s_u = 52 days, below metafor's Q-profile upper limit of 54: the posterior presses
    against it and the verdict says so, naming the prior set and the bound."""
    old = PriorSet.from_dict(
        "vague_2su",
        {
            "mu": {"dist": "Normal", "mu": 0.0, "sigma": {"unit_info_sd": 1000.0}},
            "tau": {"dist": "Uniform", "lower": 0.0, "upper": {"unit_info_sd": 2.0}},
        },
    )
    r = bm.fit(los, prior=old)
    assert r.prior_set.tau.support[1] < REF["reml_tau_ci"]["upper"]
    (warning,) = r.verdict.warnings
    assert "prior set 'vague_2su'" in warning and "tau ~ Uniform(0, 52.05)" in warning and "cuts" in warning
    assert r.verdict.passed  # a warning, not a failed verdict


def test_a_tight_prior_is_flagged_in_json_table_and_figure(normand, los, capsys):
    from bayes_msc.plots.priors import prior_comparison_figure

    tight = bm.fit(los, prior="tight", priors_path=normand.parent / "tight.toml")
    wide = bm.fit(los, prior="wide", priors_path=normand.parent / "tight.toml")
    assert not wide.verdict.warnings
    (warning,) = tight.verdict.warnings
    assert "prior set 'tight'" in warning and "tau ~ Uniform(0, 30)" in warning
    assert tight.to_dict()["verdict"]["warnings"] == [warning]
    argv = ["fit", str(normand), "--outcome", "los", "--month", "1", "--priors", str(normand.parent / "tight.toml")]
    assert main([*argv, "--prior", "tight"]) == 0
    assert f"Warnings:\n  - {warning}" in capsys.readouterr().out
    assert main(["compare-priors", *argv[1:]]) == 0
    assert warning in capsys.readouterr().out
    fig = prior_comparison_figure({"tight": (tight, tight.prior_set), "wide": (wide, wide.prior_set)})
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "prior set 'tight'" in texts.replace("\n", " ") and "pass \u26a0 warning" in texts


def test_a_tight_prior_is_flagged_in_the_report(normand, tmp_path):
    spec = {
        "dataset": {"path": str(normand)},
        "bayes": {"priors": ["tight", "wide"], "prior_file": str(normand.parent / "tight.toml")},
    }
    res = bm.run_spec(spec, out=tmp_path / "report")
    table = pd.read_csv(tmp_path / "report" / "tables" / "bayes.csv", keep_default_na=False)
    assert table.set_index("prior").at["tight", "warnings"].startswith("prior set 'tight'")
    assert table.set_index("prior").at["wide", "warnings"] == ""
    html = (tmp_path / "report" / "index.html").read_text("utf-8")
    assert "prior set &#x27;tight&#x27;: the posterior of tau reaches the upper bound" in html
    summary = json.loads((tmp_path / "report" / "summary.json").read_text("utf-8"))
    assert [f["warnings"] != [] for f in summary["fits"]] == [True, False]
    assert (tmp_path / "report" / "figures" / "priors_los_m1.png").is_file() and res.fits[0].result.verdict.warnings


def test_bounds_of_mu_and_slopes_are_checked_from_draws():
    """Any bounded prior (here on mu, the MCMC engine's case) is checked from the draws, at
    either end."""
    import xarray as xr

    rng = np.random.default_rng(1)
    ps = PriorSet.from_dict(
        "box", {"mu": {"dist": "Uniform", "lower": -10.0, "upper": 10.0}, "tau": {"dist": "HalfNormal", "sigma": 1.0}}
    )

    def result(mu: np.ndarray) -> BayesResult:
        post = xr.Dataset({"mu": (("chain", "draw"), mu.reshape(2, -1)), "tau": (("chain", "draw"), np.ones((2, 500)))})
        tree = xr.DataTree.from_dict({"posterior": post})
        return BayesResult("re", "box", "mcmc", 3, pd.DataFrame(), Verdict(True), idata=tree)

    assert bound_warnings(result(rng.uniform(-5, 5, 1000)), ps) == []
    (upper,) = bound_warnings(result(rng.uniform(0, 10, 1000)), ps)
    assert "upper bound of its prior mu ~ Uniform(-10, 10)" in upper
    (lower,) = bound_warnings(result(rng.uniform(-10, 0, 1000)), ps)
    assert "lower bound of its prior mu ~ Uniform(-10, 10)" in lower

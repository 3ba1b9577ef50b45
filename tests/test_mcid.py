"""One MCID convention: signed in the direction of benefit in Python, on the command line and
in the spec. A negative MCID (lower is better) asks for P(mu < mcid), a positive one for
P(mu > mcid), from either engine, in every output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import bayes_msc as bm
from bayes_msc.cli.main import main
from bayes_msc.errors import InputError
from bayes_msc.report import tables
from bayes_msc.results.bayes import mcid_label
from bayes_msc.workflow.review import prepare_review, run_review

SIMULATED = Path(__file__).resolve().parents[1] / "data" / "msc_knee_oa_simulated"
CELL = [str(SIMULATED), "--outcome", "vas", "--month", "12"]


@pytest.fixture(scope="module")
def vas12():
    return bm.effect_table(SIMULATED, "vas", 12)


def test_labels():
    assert mcid_label(-19.9) == "P(mu < -19.9)" and mcid_label(9) == "P(mu > 9)"


@pytest.mark.parametrize("mcid", [-19.9, -5.0, 5.0])
def test_the_probability_is_the_exact_tail_and_the_draws_agree(vas12, mcid):
    r = bm.fit(vas12, mcid=mcid)
    p = r.probabilities[mcid_label(mcid)]
    mu = r.draws_of("mu")
    share = np.mean(mu < mcid) if mcid < 0 else np.mean(mu > mcid)
    assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / mu.size) + 1e-9
    assert r.mcid == mcid and r.to_dict()["mcid"] == mcid
    # the tail towards benefit, from the exact marginal density: F(mcid) or 1 - F(mcid)
    from scipy import integrate

    grid, dens = r.densities["mu"]
    inside = grid < mcid
    g = np.append(grid[inside], mcid)
    cdf = 0.001 + integrate.trapezoid(np.interp(g, grid, dens), g)
    assert p == pytest.approx(cdf if mcid < 0 else 1 - cdf, abs=1e-3)


def test_command_line_and_python_agree(vas12, capsys):
    for value in ("-19.9", "5"):
        assert main(["fit", *CELL, "--mcid", value, "--format", "json"]) == 0
        d = json.loads(capsys.readouterr().out)
        label = mcid_label(float(value))
        assert (
            d["mcid"] == float(value)
            and d["probabilities"][label] == bm.fit(vas12, mcid=float(value)).probabilities[label]
        )
    assert main(["fit", *CELL, "--mcid", "-19.9"]) == 0
    assert "P(mu < -19.9) = " in capsys.readouterr().out
    assert main(["compare-priors", *CELL, "--prior", "vague", "--mcid", "5"]) == 0
    assert "P(mu > 5)" in capsys.readouterr().out


def test_compare_priors_and_run_report_the_signed_probability(vas12):
    comp = bm.compare_priors(vas12, ["vague", "skeptical"], mcid=5.0)
    assert comp.mcid == 5.0 and comp.mcid_key == "P(mu > 5)" and comp.to_dict()["mcid_probability"] == "P(mu > 5)"
    for r, p in zip(comp.results, comp.summary()["p_mcid"], strict=True):
        assert p == r.probabilities["P(mu > 5)"]
    spec = {
        "dataset": {"path": str(SIMULATED)},
        "analysis": {"outcomes": ["vas", "womac_function"], "months": [12]},
        "bayes": {"priors": ["vague"], "mcid": {"vas": 5, "womac_function": -9.1}},
    }
    res = run_review(prepare_review(spec))
    for rec, row in zip(res.fits, tables.bayes(res).itertuples(), strict=True):
        m = spec["bayes"]["mcid"][rec.task.outcome]
        assert row.mcid == m and row.p_mcid == rec.result.probabilities[mcid_label(m)]
        assert rec.result.mcid == m


def test_zero_or_non_finite_mcid_is_an_input_error(vas12, capsys):
    for bad in (0.0, float("inf")):
        with pytest.raises(InputError, match="mcid must be a finite number other than 0") as err:
            bm.fit(vas12, mcid=bad)
        assert err.value.problems[0].argument == "mcid"
    assert main(["fit", *CELL, "--mcid", "0"]) == 2
    assert "option '--mcid'" in capsys.readouterr().err

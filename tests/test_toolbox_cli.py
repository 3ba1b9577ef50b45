"""The toolbox on the command line (``pool --confint``, ``bias``, ``influence``, ``cumulative``)
and its figures (``plot_funnel``, ``plot_baujat``, ``plot_cumulative``).

The numbers themselves are checked against metafor in tests/test_toolbox.py; here: the JSON
fields of docs/FORMAT.md, the text output, the exit status on bad input, and that each
figure draws what it should (points, filled studies, rows) and labels simulated data.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import bayes_msc as bm
from bayes_msc.cli.main import main
from test_toolbox import table

SIM = "data/msc_knee_oa_simulated"
CELL = [SIM, "--outcome", "vas", "--month", "12"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_pool_confint_json_and_table(capsys):
    code, out, _ = run(capsys, "pool", *CELL, "--confint", "--format", "json")
    d = json.loads(out)
    assert code == 0
    ci = bm.confint(bm.pool(bm.effect_table(SIM, "vas", 12)))
    for name in ("tau2", "tau", "i2", "h2"):
        assert d[f"{name}_ci_low"] == pytest.approx(getattr(ci, f"{name}_ci_low"))
        assert d[f"{name}_ci_high"] == pytest.approx(getattr(ci, f"{name}_ci_high"))
    assert d["confint_type"] == "qp" and d["tau2_ci_low"] <= d["tau2_ci_high"]
    code, out, _ = run(capsys, "pool", *CELL, "--confint")
    assert "Q-profile" in out and "I^2(%)" in out


def test_pool_confint_of_a_fixed_effect_model_exits_2(capsys):
    code, _, err = run(capsys, "pool", *CELL, "--method", "fe", "--confint")
    assert code == 2 and "fixed-effect" in err and "Traceback" not in err


def test_bias_json_fields(capsys):
    code, out, _ = run(capsys, "bias", *CELL, "--format", "json")
    d = json.loads(out)
    assert code == 0 and set(d) == {"regtest", "ranktest", "trimfill"}
    assert {"zval", "pval", "est", "low_power"} <= set(d["regtest"])
    assert {"tau", "pval"} <= set(d["ranktest"])
    assert {"k0", "side", "se_k0", "estimate", "filled_studies"} <= set(d["trimfill"])
    assert d["regtest"]["simulated"] is True


def test_bias_table_says_low_power_below_10(capsys):
    code, out, _ = run(capsys, "bias", SIM, "--outcome", "vas", "--month", "3", "--model", "lm")
    assert code == 0 and "Cochrane Handbook 13.3.5.4" in out and "SIMULATED" in out


def test_influence_and_cumulative(capsys):
    code, out, _ = run(capsys, "influence", *CELL, "--format", "json")
    d = json.loads(out)
    assert code == 0 and len(d["rows"]) == 12 and {"rstudent", "cook_d", "inf", "baujat_x"} <= set(d["rows"][0])
    code, out, _ = run(capsys, "influence", *CELL, "--leave-one-out")
    assert "Leave-one-out" in out and "rstudent" in out
    code, out, _ = run(capsys, "cumulative", *CELL, "--format", "json")
    d = json.loads(out)
    assert d["order"] == "year" and [r["k"] for r in d["rows"]] == list(range(1, 13))
    years = [r["order_value"] for r in d["rows"]]
    assert years == sorted(years) and all(isinstance(y, int) for y in years)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cumulative", *CELL, "--order", "nation"], "no column 'nation'"),
        (["bias", *CELL, "--multiarm", "shared"], "independent comparisons"),
    ],
)
def test_bad_input_exits_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_plot_funnel_draws_points_filled_studies_and_contours():
    tf = bm.trimfill(table("gibson2002"))
    assert tf.k0 == 4
    fig = bm.plot_funnel(tf, contours=(0.10, 0.05, 0.01))
    ax = fig.axes[0]
    offsets = [c.get_offsets() for c in ax.collections if len(getattr(c, "get_offsets", list)())]
    sizes = sorted(len(o) for o in offsets)
    assert tf.k in sizes and tf.k0 in sizes  # observed and filled studies
    observed = next(o for o in offsets if len(o) == tf.k)
    np.testing.assert_allclose(np.sort(observed[:, 0]), np.sort(tf.original.yi))
    np.testing.assert_allclose(np.sort(observed[:, 1]), np.sort(np.sqrt(tf.original.vi)))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "p < 0.01" in legend and any("trim and fill" in t for t in legend)
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # SE grows downwards


def test_plot_baujat_places_each_comparison():
    t = bm.effect_table(SIM, "vas", 12)
    inf = bm.influence(t)
    fig = bm.plot_baujat(inf)
    pts = fig.axes[0].collections[0].get_offsets()
    np.testing.assert_allclose(pts[:, 0], inf.baujat_x)
    np.testing.assert_allclose(pts[:, 1], inf.baujat_y)
    assert "SIMULATED DATA" in fig.axes[0].get_title()


def test_plot_cumulative_has_one_row_per_step():
    res = bm.cumulative(bm.effect_table(SIM, "vas", 12))
    fig = bm.plot_cumulative(res)
    ax = fig.axes[0]
    assert len(ax.get_yticks()) == len(res.rows)
    assert "ha_2018" in ax.get_yticklabels()[-1].get_text()  # the latest trial is added last
    np.testing.assert_allclose(ax.collections[1].get_offsets()[:, 0], [r.estimate for r in res.rows])
    with pytest.raises(bm.InputError):
        bm.plot_cumulative(bm.pool(bm.effect_table(SIM, "vas", 12)))


def test_readme_toolbox_examples_run(capsys):
    """The README's toolbox examples (Python and command line) run as written."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- toolbox-python: run by tests/test_toolbox_cli.py -->")[1].split(
        "<!-- /toolbox-python -->"
    )[0]
    exec("\n".join(line[4:] for line in block.splitlines() if line.strip()), {})
    out = capsys.readouterr().out
    assert "Q-profile" in out and "Bayes factors" in out and "pppvalue" in out
    commands = re.findall(r"^    \.venv/bin/bayes-msc ((?:pool .*--confint|bias|influence|cumulative).*)$", text, re.M)
    assert len(commands) == 4
    for cmd in commands:
        assert main(cmd.split()) == 0
    capsys.readouterr()


def test_spec_keys_and_report(tmp_path):
    from bayes_msc.workflow.spec import spec_from_mapping

    base = {"dataset": {"path": SIM}, "analysis": {"outcomes": ["vas"], "months": [3, 12]}}
    spec = spec_from_mapping(
        base | {"frequentist": {"small_study": "all", "influence": [{"outcome": "vas", "months": [12]}]}}
    )
    assert spec.toolbox.small_study is None and spec.toolbox.asks("influence", "vas", 12)
    assert not spec.toolbox.asks("influence", "vas", 3) and not spec.toolbox.asks("cumulative", "vas", 12)
    with pytest.raises(bm.InputError) as err:
        spec_from_mapping(base | {"frequentist": {"small_study_min_k": 1, "confint": "yes"}})
    keys = {p.key for p in err.value.problems}
    assert {"frequentist.small_study_min_k", "frequentist.confint"} <= keys
    with pytest.raises(bm.InputError, match="cumulative"):
        bm.run_spec(base | {"frequentist": {"cumulative": "all", "cumulative_order": "nation"}})
    res = bm.run_spec(
        base
        | {
            "frequentist": {"small_study": "all", "cumulative": [{"outcome": "vas", "months": [12]}]},
            "bayes": {"priors": ["weakly_informative", "vague"], "bayes_factors": True},
        },
        out=tmp_path / "r",
    )
    by_month = {c.cell.month: c.toolbox for c in res.cells}
    assert by_month[3].regtest is None and "k = 7 < 10" in by_month[3].notes[0]  # the paper's choice
    assert by_month[12].regtest is not None and by_month[12].cumulative is not None
    assert all(f.bayes_factors is not None for f in res.fits)
    html = (tmp_path / "r" / "index.html").read_text()
    assert "Small-study effects" in html and "Bayes factors BF01" in html and "funnel_vas_m12" in html
    freq = (tmp_path / "r" / "tables" / "frequentist.csv").read_text().splitlines()[0]
    assert "tau2_ci_low" in freq and "i2_ci_high" in freq
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert "confint" in summary["cells"][0]["toolbox"] and "bayes_factors" in summary["fits"][0]

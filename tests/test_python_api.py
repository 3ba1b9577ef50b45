"""The Python workflow a statistician expects (issue 13): results that describe themselves,
priors as objects, files that add prior sets, and errors that speak Python.

- every public result has a short ``repr`` and ``print(result)`` is exactly what the
  command line prints for it;
- ``PoolResult.summary()`` carries Q, df, p, I^2, H^2, tau^2, tau and the prediction
  interval; the Bayesian summaries say ``mean``/``sd``;
- ``Prior``/``PriorSet`` objects and dicts work in ``fit`` and ``compare_priors``; a prior
  file adds its sets to the bundled ones and a clash names both sources;
- problems name the Python argument (``argument 'prior'``), never a CLI flag or a column.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bayes_msc as bm
from bayes_msc.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "msc_knee_oa_simulated"
CELL = ["--outcome", "vas", "--month", "12"]


@pytest.fixture(scope="module")
def ds():
    return bm.read_dataset(DATA)


@pytest.fixture(scope="module")
def effects(ds):
    return bm.effect_table(ds, "vas", 12)


@pytest.fixture(scope="module")
def comparison(effects):
    return bm.compare_priors(effects, priors=["weakly_informative", "skeptical"])


def cli(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


# ---- results describe themselves --------------------------------------------------------------


def test_every_public_result_has_a_short_repr(ds, effects, comparison):
    results = {
        "Dataset": ds,
        "EffectTable": effects,
        "ArmTable": bm.arm_table(ds, "vas", 12),
        "PoolResult": bm.pool(effects),
        "MetaRegResult": bm.metareg(effects, ["log10(dose_million)", "age_mean", "kl_grade_mean"]),
        "LeaveOneOutResult": bm.leave1out(effects),
        "BayesResult": comparison.results[0],
        "PriorComparison": comparison,
        "RunResults": bm.run_spec(
            {
                "dataset": {"path": str(DATA)},
                "analysis": {"outcomes": ["vas"], "months": [12]},
                "bayes": {"models": ["re"], "priors": ["weakly_informative"]},
            }
        ),
    }
    for name, obj in results.items():
        text = repr(obj)
        assert type(obj).__name__ == name and text.startswith(name + "(") and len(text) < 300, text
        assert "\n" not in text
        if name not in ("LeaveOneOutResult", "RunResults"):  # these carry no dataset of their own
            assert "SIMULATED" in text or "simulated=True" in text, text
    # The numbers a reader looks for first are in the repr.
    pool = results["PoolResult"]
    assert f"k={pool.k}" in repr(pool) and "i2=" in repr(pool) and "tau2=" in repr(pool)


def test_print_gives_the_text_the_command_line_prints(capsys, ds, effects):
    assert cli(capsys, "pool", str(DATA), *CELL) == str(bm.pool(effects))
    assert cli(capsys, "pool", str(DATA), *CELL, "--method", "sj", "--hksj", "--pi", "t") == str(
        bm.pool(effects, method="sj", hksj=True, pi="t")
    )
    loo = cli(capsys, "pool", str(DATA), *CELL, "--leave-one-out")
    assert loo == str(bm.pool(effects)) + "\n" + str(bm.leave1out(effects))
    terms = ["log10(dose_million)", "age_mean"]
    reg = cli(capsys, "metareg", str(DATA), *CELL, *(x for t in terms for x in ("--covariate", t)))
    assert reg == str(bm.metareg(effects, terms))
    assert cli(capsys, "effects", str(DATA), *CELL) == str(effects)
    assert cli(capsys, "validate", str(DATA)) == str(ds)
    fit = cli(capsys, "fit", str(DATA), *CELL, "--prior", "skeptical", "--no-progress")
    assert fit == str(bm.fit(effects, prior="skeptical"))
    comp = cli(capsys, "compare-priors", str(DATA), *CELL, "--prior", "vague", "--prior", "skeptical")
    assert comp == str(bm.compare_priors(effects, priors=["vague", "skeptical"]))
    # The texts say what they are.
    text = str(bm.pool(effects))
    assert text.startswith("*** SIMULATED DATA") and "Random-effects model (k = 12" in text
    assert "Q(df = 11)" in text and "I^2" in text and "prediction interval" in text


def test_pool_summary_and_json_carry_heterogeneity_and_the_prediction_interval(effects):
    res = bm.pool(effects, method="reml")
    rows = res.summary().set_index("term")
    assert list(rows.index) == ["mu", "tau2", "tau", "i2", "h2", "q", "pi"]
    assert rows.at["q", "estimate"] == res.q and rows.at["q", "df"] == res.q_df and rows.at["q", "p"] == res.q_p
    assert (rows.at["pi", "lower"], rows.at["pi", "upper"]) == (res.pi_low, res.pi_high)
    d = res.to_dict()
    assert {"q", "q_df", "q_p", "i2", "h2", "tau2", "tau", "pi_low", "pi_high"} <= set(d)


def test_bayesian_summaries_say_mean_and_sd(effects, comparison):
    fit = comparison.results[0]
    s = fit.summary()
    assert tuple(s.columns[:6]) == ("term", "mean", "sd", "lower", "upper", "level")
    mu = s.set_index("term").loc["mu"]
    assert mu["mean"] == fit.value("mu", "mean") and mu["lower"] == fit.value("mu", "eti_low")
    assert tuple(comparison.summary().columns[:6]) == ("term", "mean", "sd", "lower", "upper", "level")


def test_labels_agree_with_the_numbers(capsys, tmp_path, effects):
    """--hksj: the prediction interval is t on k - 1 df and the JSON says t; --pi t at k = 2
    uses 1 df (k - 2 = 0) and says so; a note is given once."""
    d = json.loads(cli(capsys, "pool", str(DATA), *CELL, "--hksj", "--format", "json"))
    assert (d["pi_type"], d["pi_df"], d["pi"], d["test"], d["df"]) == ("t", 11.0, "z", "t", 11.0)
    d = json.loads(cli(capsys, "pool", str(DATA), *CELL, "--format", "json"))
    assert (d["pi_type"], d["pi_df"]) == ("z", None)
    d = json.loads(cli(capsys, "pool", str(DATA), *CELL, "--pi", "t", "--format", "json"))
    assert (d["pi_type"], d["pi_df"]) == ("t", 10.0)
    two = bm.effect_table(DATA, "vas", 18)
    assert two.k == 2
    res = bm.pool(two, pi="t")
    assert res.pi_df == 1.0 and any("k - 2 = 0 df" in n for n in res.notes)
    assert "t, df = 1" in str(res)
    from dataclasses import replace

    one = replace(two, data=two.data.iloc[:1].reset_index(drop=True), vcov=two.vcov[:1, :1])
    fit = bm.fit(one)
    assert sum(n.startswith("k = 1") for n in fit.notes) == 1
    assert sum(n.startswith("k = 1") for n in fit.to_dict()["notes"]) == 1


# ---- priors as objects ---------------------------------------------------------------------------


def test_priors_as_objects_and_dicts_in_fit(effects):
    mine = bm.PriorSet(mu=bm.Prior("Normal", mu=0, sigma=20), tau=bm.Prior("HalfCauchy", beta=10))
    assert mine.name == "custom" and mine.mu == bm.Prior("Normal", {"mu": 0.0, "sigma": 20.0})
    as_dict = {"mu": {"dist": "Normal", "mu": 0, "sigma": 20}, "tau": {"dist": "HalfCauchy", "beta": 10}}
    objects_in_dict = {"mu": bm.Prior("Normal", mu=0, sigma=20), "tau": bm.Prior("HalfCauchy", beta=10)}
    fits = [bm.fit(effects, prior=p) for p in (mine, as_dict, objects_in_dict)]
    for fit in fits:
        assert fit.prior == "custom"
        assert fit.prior_set.mu.params == {"mu": 0.0, "sigma": 20.0}
        assert fit.prior_set.tau.dist == "HalfCauchy"
    assert fits[0].value("mu") == fits[1].value("mu") == fits[2].value("mu")
    comp = bm.compare_priors(effects, priors=["skeptical", mine])
    assert comp.priors == ("skeptical", "custom")


def test_prior_objects_refuse_what_a_file_refuses():
    with pytest.raises(bm.InputError, match="unknown parameter 'sd' of Normal; allowed: mu, sigma, tau"):
        bm.Prior("Normal", mu=0, sd=1)
    with pytest.raises(bm.InputError, match="unknown distribution 'Normall'"):
        bm.Prior("Normall", mu=0, sigma=1)
    with pytest.raises(bm.InputError, match="must be > 0"):
        bm.Prior("HalfNormal", sigma=-1)
    with pytest.raises(bm.InputError) as err:
        bm.PriorSet(mu=bm.Prior("Normal", mu=0, sigma=1), tau=bm.Prior("Normal", mu=0, sigma=1))
    (problem,) = err.value.problems
    assert problem.argument == "tau" and "does not fit 'tau'" in problem.message
    with pytest.raises(bm.InputError, match="a prior of mu is needed"):
        bm.PriorSet(tau=bm.Prior("HalfNormal", sigma=1))
    # The TOML form still reads (a mapping of parameters).
    assert bm.Prior("Normal", {"mu": 1.0, "sigma": 2.0}) == bm.Prior("Normal", mu=1, sigma=2)


def _write_priors(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(
        f'[prior_sets.{name}]\ndescription = "mine"\nmu = {{ dist = "Normal", mu = 0.0, sigma = 20.0 }}\n'
        'tau = { dist = "HalfCauchy", beta = 10.0 }\n',
        encoding="utf-8",
    )
    return path


def test_a_prior_file_adds_to_the_bundled_sets(tmp_path, effects, capsys):
    path = _write_priors(tmp_path, "mine")
    comp = bm.compare_priors(effects, priors=["weakly_informative", "mine"], priors_path=path)
    assert comp.priors == ("weakly_informative", "mine")
    every = bm.compare_priors(effects, priors_path=path)
    assert every.priors == (*bm.bundled_prior_sets(), "mine")
    assert bm.fit(effects, prior="skeptical", priors_path=path).prior == "skeptical"
    out = cli(capsys, "fit", str(DATA), *CELL, "--priors", str(path), "--prior", "mine", "--format", "json")
    assert json.loads(out)["prior"] == "mine"
    # A spec's prior_file adds too.
    spec = {
        "dataset": {"path": str(DATA)},
        "analysis": {"outcomes": ["vas"], "months": [12]},
        "bayes": {"models": ["re"], "priors": ["skeptical", "mine"], "prior_file": str(path)},
    }
    assert [f.task.prior for f in bm.run_spec(spec).fits] == ["skeptical", "mine"]


def test_a_prior_set_name_in_both_is_an_error_naming_both_sources(tmp_path, effects, capsys):
    path = _write_priors(tmp_path, "skeptical")
    with pytest.raises(bm.InputError) as err:
        bm.fit(effects, prior="skeptical", priors_path=path)
    (problem,) = err.value.problems
    assert problem.file == str(path) and problem.key == "prior_sets.skeptical"
    assert "bundled prior sets (models/priors.toml)" in problem.message
    assert main(["fit", str(DATA), *CELL, "--priors", str(path)]) == 2
    assert f"{path}, key 'prior_sets.skeptical': prior set 'skeptical' is defined both here and in" in (
        capsys.readouterr().err
    )


# ---- errors speak Python ---------------------------------------------------------------------------


def test_python_problems_name_arguments_not_flags_or_columns(effects, tmp_path, capsys):
    cases = [
        (lambda: bm.fit(effects, prior={"mu": {"dist": "Normall"}}), "prior"),
        (lambda: bm.fit(effects, prior=3), "prior"),
        (lambda: bm.fit(effects, draws=3), "draws"),
        (lambda: bm.effect_table(DATA, "vas", 12, measure="xx"), "measure"),
        (lambda: bm.pool(effects, method="xx"), "method"),
        (lambda: bm.plot_trace(bm.fit(effects)), "result"),
    ]
    for call, argument in cases:
        with pytest.raises(bm.InputError) as err:
            call()
        for problem in err.value.problems:
            assert problem.argument == argument and problem.column is None and problem.key is None
            assert "--" not in str(problem) and "column" not in str(problem), str(problem)
    # The same problem on the command line names the option.
    assert main(["pool", str(DATA), *CELL, "--level", "2"]) == 2
    assert "option '--level'" in capsys.readouterr().err


def test_no_python_message_names_a_command_line_flag():
    """Library code outside cli/ never tells a Python user to pass '--something': every text
    literal that is not a docstring is checked (a bare flag token, as in a recorded command
    line, is not a message)."""
    import ast
    import re

    src = ROOT / "src" / "bayes_msc"
    found = []
    for path in src.rglob("*.py"):
        if "cli" in path.relative_to(src).parts:
            continue
        tree = ast.parse(path.read_text("utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                text = node.value
                if re.search(r"(^|\s)--[a-z]", text) and not re.fullmatch(r"--[a-z-]+", text):
                    found.append(f"{path.relative_to(src)}:{node.lineno}: {text[:60]}")
    assert not found, found


def test_metafor_method_names_in_any_case():
    """metafor spells its estimators "REML", "DL": any case gives the same fit (Python and CLI)."""
    import json

    import bayes_msc as bm
    from bayes_msc.cli.main import build_parser

    eff = bm.effect_table(bm.read_dataset(ROOT / "data" / "msc_knee_oa_simulated"), "vas", 6)
    for f in (bm.pool, bm.leave1out, bm.trimfill, bm.regtest):
        upper, lower = f(eff, method="REML").to_dict(), f(eff, method="reml").to_dict()
        assert json.dumps(upper, sort_keys=True) == json.dumps(lower, sort_keys=True), f.__name__
    assert (
        build_parser().parse_args(["pool", "d", "--outcome", "vas", "--month", "6", "--method", "REML"]).method
        == "reml"
    )

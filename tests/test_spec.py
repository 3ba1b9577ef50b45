"""Analysis spec loading and validation (bayes_msc.workflow.spec)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bayes_msc.errors import InputError
from bayes_msc.workflow.spec import CellSelector, load_spec

MINIMAL = '[dataset]\npath = "data/x"\n'


def write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[tuple[str | None, str]]:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_spec(path)
    for p in info.value.problems:
        assert p.file == str(path)
    return [(p.key, p.message) for p in info.value.problems]


def test_minimal_spec_gets_documented_defaults(tmp_path):
    spec = load_spec(write(tmp_path, MINIMAL, "my_analysis.toml"))
    assert spec.name == "my_analysis"
    assert spec.title == "Meta-analysis: my_analysis"
    assert spec.outcomes is None and spec.months is None
    assert (spec.measure, spec.multiarm, spec.basis, spec.r, spec.rescale) == ("md", "split", "final", 0.5, True)
    assert (spec.method, spec.hksj, spec.pi) == ("paper", False, "z")
    assert spec.models == () and spec.priors == ()  # no [bayes]: frequentist only


def test_relative_paths_resolve_against_the_spec_folder(tmp_path, monkeypatch):
    sub = tmp_path / "models"
    sub.mkdir()
    path = write(sub, '[dataset]\npath = "../data/set"\n[bayes]\npriors = ["a"]\nprior_file = "p.toml"\n')
    monkeypatch.chdir("/")
    spec = load_spec(path)
    assert spec.dataset == (tmp_path / "data" / "set").resolve()
    assert spec.prior_file == (sub / "p.toml").resolve()


def test_full_spec_is_read(tmp_path):
    spec = load_spec(
        write(
            tmp_path,
            MINIMAL
            + """
[analysis]
outcomes = ["vas", "womac_pain"]
months = [12, 6, 6.5]
measure = "smd"
multiarm = "shared"
basis = "change"
r = 0.3
rescale = false
[frequentist]
method = "reml"
hksj = true
pi = "t"
[bayes]
models = ["re", "arm"]
priors = ["vague", "skeptical"]
engine = "mcmc"
parameterisation = "noncentred"
draws = 200
tune = 300
chains = 2
seed = 7
cells = { arm = [{ outcome = "vas", months = [6] }] }
covariates = [["log10(dose_million)"], ["log10(dose_million)", "age_mean"]]
covariate_cells = [{ outcome = "vas" }]
mcid = { vas = -19.9, ikdc = 9 }
[report]
title = "T"
""",
        )
    )
    assert spec.outcomes == ("vas", "womac_pain")
    assert spec.months == (6.0, 6.5, 12.0)
    assert (spec.measure, spec.multiarm, spec.basis, spec.r, spec.rescale) == ("smd", "shared", "change", 0.3, False)
    assert (spec.method, spec.hksj, spec.pi) == ("reml", True, "t")
    assert spec.models == ("re", "arm") and spec.priors == ("vague", "skeptical")
    assert (spec.draws, spec.tune, spec.chains, spec.seed) == (200, 300, 2, 7)
    assert spec.parameterisation == "noncentred"
    assert spec.model_cells == {"arm": (CellSelector("vas", (6.0,)),)}
    assert spec.covariates == (("log10(dose_million)",), ("log10(dose_million)", "age_mean"))
    assert spec.covariate_cells == (CellSelector("vas", None),)
    assert spec.covariate_priors == ("vague",)  # default: the first prior
    assert spec.mcid == {"vas": -19.9, "ikdc": 9.0}
    assert spec.title == "T"
    assert CellSelector("vas", (6.0,)).matches("vas", 6.0)
    assert not CellSelector("vas", (6.0,)).matches("vas", 12.0)
    assert CellSelector("vas").matches("vas", 12.0)


def test_unknown_keys_are_named_with_their_table(tmp_path):
    found = problems(
        tmp_path, MINIMAL + '[analysis]\nmesure = "md"\n[bayes]\npriors = ["a"]\ndrawz = 5\n[extra]\nx = 1\n'
    )
    columns = {c for c, _ in found}
    assert {"analysis.mesure", "bayes.drawz", "extra"} <= columns
    message = dict(found)["analysis.mesure"]
    assert "unknown key 'mesure' in [analysis]" in message and "measure" in message


def test_every_problem_is_reported_at_once(tmp_path):
    found = dict(
        problems(
            tmp_path,
            MINIMAL
            + """
[analysis]
measure = "or"
r = 2
rescale = "yes"
months = [3, -1]
[frequentist]
method = "bayes"
[bayes]
models = ["re", "nma"]
priors = ["a"]
draws = 5
chains = 1.5
seed = true
""",
        )
    )
    assert "must be one of md, smd" in found["analysis.measure"]
    assert "[-1, 1]" in found["analysis.r"]
    assert "true or false" in found["analysis.rescale"]
    assert "month must be >= 0" in found["analysis.months"]
    assert "paper" in found["frequentist.method"]
    assert "'nma' is not one of re, arm" in found["bayes.models"]
    assert "from 10 to 10000000" in found["bayes.draws"]
    assert "whole number" in found["bayes.chains"] and "whole number" in found["bayes.seed"]


@pytest.mark.parametrize(
    "text, column, fragment",
    [
        ("", "dataset", "[dataset] table is required"),
        ('[dataset]\npath = ""\n', "dataset.path", "non-empty"),
        (MINIMAL + '[bayes]\nmodels = ["re"]\n', "bayes.priors", "required"),
        (MINIMAL + "[bayes]\npriors = []\n", "bayes.priors", "non-empty list"),
        (MINIMAL + '[bayes]\npriors = ["a", "a"]\n', "bayes.priors", "listed twice"),
        (
            MINIMAL + '[analysis]\nmultiarm = "shared"\n[bayes]\npriors = ["a"]\nengine = "exact"\n',
            "bayes.engine",
            "exact engine needs independent comparisons",
        ),
        (MINIMAL + '[bayes]\npriors = ["a"]\ncells = { arm = "all" }\n', "bayes.cells.arm", "unknown key"),
        (
            MINIMAL + '[bayes]\npriors = ["a"]\ncovariate_cells = "all"\n',
            "bayes.covariate_cells",
            "without bayes.covariates",
        ),
        (
            MINIMAL
            + '[bayes]\npriors = ["a"]\ncovariates = [["age"]]\ncovariate_cells = [{ outcome = "vas", month = 3 }]\n',
            "bayes.covariate_cells.month",
            "unknown key 'month'",
        ),
        (MINIMAL + '[bayes]\npriors = ["a"]\nmcid = { vas = 0 }\n', "bayes.mcid.vas", "must not be 0"),
        (MINIMAL + '[bayes]\npriors = ["a"]\nmcid = { vas = "big" }\n', "bayes.mcid.vas", "finite number"),
        (MINIMAL + '[analysis]\noutcomes = "some"\n', "analysis.outcomes", "non-empty list"),
    ],
)
def test_single_problems_by_message(tmp_path, text, column, fragment):
    found = problems(tmp_path, text)
    assert any(c == column and fragment in m for c, m in found), found


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(InputError, match="spec file not found"):
        load_spec(tmp_path / "nope.toml")
    with pytest.raises(InputError, match="not valid TOML"):
        load_spec(write(tmp_path, "[dataset\npath = 1\n"))


def test_the_documented_example_is_a_valid_spec(tmp_path):
    import textwrap

    doc = (Path(__file__).resolve().parents[1] / "docs" / "FORMAT.md").read_text(encoding="utf-8")
    start = doc.index("An example with every key")
    lines = doc[doc.index(":\n\n", start) + 3 :].splitlines()
    end = next(i for i, line in enumerate(lines) if line.strip() and not line.startswith("    "))
    example = textwrap.dedent("\n".join(lines[:end]))
    spec = load_spec(write(tmp_path, example))
    assert spec.dataset == (tmp_path / "../data/msc_knee_oa").resolve()
    assert spec.covariate_cells == (CellSelector("vas", None),)
    assert spec.model_cells == {"arm": (CellSelector("vas", (6.0,)),)}
    assert spec.mcid == {"vas": -19.9}
    assert spec.covariate_at == {"age_mean": 60.0} and spec.toolbox.small_study

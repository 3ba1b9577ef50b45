"""One surface: the command line, the Python API and the README agree (issue 13).

- the README's verb table (and its option groups) lists exactly the parser's verbs and
  options, with the same choices;
- every argument of the Python functions behind a verb is reachable from its options;
- the methods the parser and the spec offer are the package's own;
- ``--version``, help on every option, ``validate --format json``, the progress line.
"""

from __future__ import annotations

import argparse
import inspect
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bayes_msc as bm
from bayes_msc.cli.main import ARGUMENT_OPTIONS, argument_options, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "msc_knee_oa_simulated"


def _actions(sub: argparse.ArgumentParser) -> list[argparse.Action]:
    """The arguments of one subcommand (recorded by the package's parser class: argparse
    keeps no public list of them), ``--help`` left out."""
    return [a for a in sub.recorded if a.dest != "help"]


def _options(sub: argparse.ArgumentParser) -> dict[str, list[str] | None]:
    """flag -> its choices (None without) of one subcommand."""
    return {
        max(a.option_strings, key=len): list(a.choices) if a.choices else None
        for a in _actions(sub)
        if a.option_strings
    }


def _readme_surface() -> tuple[dict[str, dict[str, list[str] | None]], dict[str, str]]:
    """verb -> {flag: choices} from the README's table and option groups; verb -> positional."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    groups = dict(re.findall(r"^- \*\*([^*]+)\*\*: (.+)$", text, re.M))
    verbs, positionals = {}, {}
    for line in text.splitlines():
        found = re.match(r"^\| `bayes-msc ([a-z-]+) ([A-Za-z.]+)` \|", line)
        if not found:
            continue
        verb, positional = found.groups()
        cells = [c.replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)]
        options_cell = cells[3]
        for name in re.findall(r"\*([^*]+)\*", options_cell):
            options_cell += " " + groups[name]
        flags: dict[str, list[str] | None] = {}
        for span in re.findall(r"`(--[^`]+)`", options_cell):
            flag, *rest = span.split()
            flags[flag] = rest[0].split("|") if rest and "|" in rest[0] else None
        verbs[verb], positionals[verb] = flags, positional
    return verbs, positionals


def test_the_readme_verb_table_is_the_parser():
    parser = build_parser()
    readme, positionals = _readme_surface()
    assert set(readme) == set(parser.commands)
    for verb, sub in parser.commands.items():
        assert _options(sub) == readme[verb], verb
        metavars = [a.metavar for a in _actions(sub) if not a.option_strings]
        assert metavars == [positionals[verb]], verb
    assert "bayes-msc --version" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_version_and_help_on_every_option(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"bayes-msc {bm.__version__}"
    from importlib.metadata import version

    assert version("bayes-msc") == bm.__version__
    parser = build_parser()
    for verb, sub in parser.commands.items():
        assert len(_actions(sub)) >= 1
        for action in _actions(sub):
            assert action.help and action.help != argparse.SUPPRESS, f"{verb} {action.option_strings or action.dest}"


def test_every_python_argument_is_an_option():
    """Each argument of the function a verb calls is set by an option of that verb (names
    as the command line shows them, :func:`argument_options`)."""
    from bayes_msc.bayes.compare import compare_priors
    from bayes_msc.bayes.fit import fit
    from bayes_msc.data.effects import effect_table

    parser = build_parser()
    table = {
        "effects": [effect_table],
        "pool": [effect_table, bm.pool, bm.leave1out],
        "metareg": [effect_table, bm.metareg],
        "fit": [effect_table, fit],
        "compare-priors": [effect_table, compare_priors],
        "validate": [bm.read_dataset],
        "run": [bm.run_spec],
        "simulate": [bm.simulate_dataset],
    }
    python_only = {"run": {"profile"}}  # the command line times a run with BAYES_MSC_PROFILE=1
    for verb, functions in table.items():
        options = argument_options(parser, verb)
        flags = set(_options(parser.commands[verb])) | {
            a.metavar for a in _actions(parser.commands[verb]) if not a.option_strings
        }
        for func in functions:
            for name in inspect.signature(func).parameters:
                if name in python_only.get(verb, ()) or name in ("options",):
                    continue
                assert options.get(name) in flags, f"{verb}: {func.__name__}({name}=) has no option"
    assert set(ARGUMENT_OPTIONS.values()) - {"DATA", "DESIGN"} <= {
        f for sub in parser.commands.values() for f in _options(sub)
    }


def test_the_methods_offered_are_the_packages():
    from bayes_msc.cli.options import FREQUENTIST_METHODS
    from bayes_msc.frequentist.tau2 import METHODS
    from bayes_msc.workflow.spec import METHODS as SPEC_METHODS

    assert (*METHODS, "paper") == FREQUENTIST_METHODS
    assert set(SPEC_METHODS) == set(FREQUENTIST_METHODS)


@pytest.mark.parametrize("method", ["ml", "he", "sj", "eb", "paper"])
def test_every_method_runs_from_the_command_line(method, capsys):
    effects = bm.effect_table(DATA, "vas", 12)
    assert main(["pool", str(DATA), "--outcome", "vas", "--month", "12", "--method", method, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["estimate"] == pytest.approx(bm.pool(effects, method=method).estimate, rel=1e-12)


def test_validate_json(capsys):
    assert main(["validate", str(DATA), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    ds = bm.read_dataset(DATA)
    assert out == json.loads(bm.results.serialise.to_json(ds.to_dict()))
    assert (out["dataset"], out["valid"], out["simulated"]) == ("msc_knee_oa_simulated", True, True)
    assert (out["studies"], out["arms"], out["patients"]) == (9, 23, int(ds.arms["n"].sum()))
    vas12 = next(c for c in out["cells"] if (c["outcome"], c["month"]) == ("vas", 12.0))
    assert vas12["n_studies"] == 7 and "gupta_2016" in vas12["studies"]
    assert set(out) >= {"outcomes", "months", "covariates", "files", "notes"}


def test_the_progress_line_only_on_a_terminal(monkeypatch):
    from bayes_msc.cli import progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert not progress.wanted(False, io.StringIO())  # not a terminal
    assert not progress.wanted(True, Tty())  # --no-progress
    assert progress.wanted(False, Tty())
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "TICK", 0.01)
    stream = Tty()
    import time

    with progress.working("bayes-msc fit: fitting", True, stream):
        time.sleep(0.1)
    text = stream.getvalue()
    assert "\rbayes-msc fit: fitting: 0 s" in text and text.endswith("\r")  # erased at the end
    quiet = Tty()
    with progress.working("x", False, quiet):
        time.sleep(0.05)
    assert quiet.getvalue() == ""


def test_a_fit_prints_no_progress_when_stderr_is_not_a_terminal():
    done = subprocess.run(
        [sys.executable, "-m", "bayes_msc", "fit", str(DATA), "--outcome", "vas", "--month", "12", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr == "" and json.loads(done.stdout)["engine"] == "exact"


@pytest.mark.parametrize(
    ("verb", "extra"),
    [
        ("validate", []),
        ("effects", ["--outcome", "vas", "--month", "12"]),
        ("pool", ["--outcome", "vas", "--month", "12", "--leave-one-out"]),
        ("metareg", ["--outcome", "vas", "--month", "12", "--covariate", "age_mean"]),
        ("fit", ["--outcome", "vas", "--month", "12"]),
        ("compare-priors", ["--outcome", "vas", "--month", "12", "--prior", "vague"]),
        ("reproduce", []),
    ],
)
def test_docs_format_describes_every_json_field(verb, extra, capsys):
    """docs/FORMAT.md names every top-level field of each verb's JSON."""
    assert main([verb, str(DATA), *extra, "--format", "json"]) == 0
    fields = list(json.loads(capsys.readouterr().out))
    text = (ROOT / "docs" / "FORMAT.md").read_text(encoding="utf-8")
    start = text.index(f"**{verb}**:")
    section = text[start : text.find("\n\n", start)]
    missing = [f for f in fields if f"`{f}`" not in section]
    assert not missing, f"docs/FORMAT.md, {verb}: {missing}"

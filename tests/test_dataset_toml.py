"""dataset.toml: ``simulated`` as an explicit dataset field, with the folder-name rule as a
warned fallback (docs/FORMAT.md, "dataset.toml").

The dataset folders are tests/bad_inputs/simulated_cases.py's BASE (made-up values).
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

import pytest

from bayes_msc.cli.main import main
from bayes_msc.data.metadata import metadata_text, read_metadata
from bayes_msc.data.reader import read_dataset
from bayes_msc.errors import InputError
from bayes_msc.simulation.dataset_folder import dataset_toml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_spec = importlib.util.spec_from_file_location("bad_inputs_simulated_cases", HERE / "bad_inputs" / "simulated_cases.py")
bad = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bad
_spec.loader.exec_module(bad)


def folder(tmp_path: Path, name: str, toml: str | bytes | None = None) -> Path:
    files = dict(bad.BASE)
    if toml is not None:
        files["dataset.toml"] = toml
    return bad.write(tmp_path / name, files)


def problems(path: Path) -> list[tuple]:
    with pytest.raises(InputError) as info:
        read_dataset(path)
    return [(p.file, p.row, p.key if p.column is None else p.column, p.message) for p in info.value.problems]


# ------------------------------------------------------------------ what decides simulated


def test_no_file_and_a_plain_name_is_real_data_without_a_warning(tmp_path):
    ds = read_dataset(folder(tmp_path, "knee"))
    assert (ds.simulated, ds.title, ds.description, ds.notes) == (False, None, None, ())


@pytest.mark.parametrize("name", ["trial_simulated_1", "Simulated", "msc_SIMULATED"])
def test_no_file_falls_back_to_the_folder_name_with_a_warning(tmp_path, name):
    ds = read_dataset(folder(tmp_path, name))
    assert ds.simulated is True and ds.title is None
    (note,) = ds.notes
    assert "no dataset.toml" in note and f"'{name}' contains 'simulated'" in note
    assert "add a dataset.toml saying 'simulated = true'" in note


def test_file_declares_simulated_data_in_a_plainly_named_folder(tmp_path):
    toml = 'simulated = true\ntitle = "Made-up trials"\ndescription = "Parameters in params.toml."\n'
    ds = read_dataset(folder(tmp_path, "knee", toml))
    assert (ds.simulated, ds.title, ds.description, ds.notes) == (
        True,
        "Made-up trials",
        "Parameters in params.toml.",
        (),
    )


def test_file_declares_real_data_and_title_and_description_are_optional(tmp_path):
    ds = read_dataset(folder(tmp_path, "knee", "simulated = false\n"))
    assert (ds.simulated, ds.title, ds.description, ds.notes) == (False, None, None, ())


def test_file_saying_true_in_a_simulated_folder_needs_no_warning(tmp_path):
    ds = read_dataset(folder(tmp_path, "x_simulated", "simulated = true\n"))
    assert ds.simulated is True and ds.notes == ()


def test_file_saying_false_wins_over_the_folder_name_with_a_warning(tmp_path):
    ds = read_dataset(folder(tmp_path, "x_simulated", "simulated = false\n"))
    assert ds.simulated is False
    (note,) = ds.notes
    assert "says 'simulated = false'" in note and "'x_simulated' contains 'simulated'" in note
    assert "taken as real" in note


def test_utf8_bom_and_comments_are_accepted(tmp_path):
    ds = read_dataset(folder(tmp_path, "knee", b"\xef\xbb\xbf# made up\nsimulated = true # yes\n"))
    assert ds.simulated is True


# ------------------------------------------------------------------------ bad files


@pytest.mark.parametrize(
    "toml,column,fragment",
    [
        ("simulated = true\nsimulate = true\n", "simulate", "unknown key 'simulate'; allowed: simulated, title"),
        ('simulated = true\n[source]\nurl = "x"\n', "source", "unknown key 'source'"),
        ('simulated = "yes"\n', "simulated", "simulated must be true or false (got 'yes')"),
        ("simulated = 1\n", "simulated", "must be true or false (got 1)"),
        ('title = "no flag"\n', "simulated", "key 'simulated' is missing"),
        ("simulated = false\ntitle = 3\n", "title", "title must be text in quotes (got 3)"),
        ('simulated = false\ndescription = ["a"]\n', "description", "description must be text"),
    ],
)
def test_unknown_keys_and_wrong_types_name_the_file_and_key(tmp_path, toml, column, fragment):
    found = problems(folder(tmp_path, "knee", toml))
    assert [(f, r, c) for f, r, c, _ in found] == [("dataset.toml", None, column)]
    assert fragment in found[0][3]


def test_every_wrong_key_is_reported_at_once(tmp_path):
    found = problems(folder(tmp_path, "knee", 'simulatd = true\ntitle = 1\nnote = "x"\n'))
    assert {c for _, _, c, _ in found} == {"simulatd", "note", "title", "simulated"}


def test_not_toml_names_the_line(tmp_path):
    ((file, row, column, message),) = problems(folder(tmp_path, "knee", 'simulated = true\ntitle = "open\n'))
    assert (file, row, column) == ("dataset.toml", 2, None) and "is not valid TOML" in message


@pytest.mark.parametrize(
    "content,fragment",
    [(b"simulated = true\ntitle = '\xe9'\n", "is not UTF-8 text"), (bad.Folder, "is a folder")],
)
def test_unreadable_file(tmp_path, content, fragment):
    ((file, row, column, message),) = problems(folder(tmp_path, "knee", content))
    assert (file, row, column) == ("dataset.toml", None, None) and fragment in message


def test_problems_of_the_file_and_of_the_csv_files_come_together(tmp_path):
    files = dict(bad.BASE, **{"dataset.toml": "simulated = maybe\n"})
    bad.sub("outcomes.csv", "3.1,1.2", "3.1,0")(files)
    found = problems(bad.write(tmp_path / "knee", files))
    assert [(f, r, c) for f, r, c, _ in found] == [("dataset.toml", 1, None), ("outcomes.csv", 2, "sd")]


# ------------------------------------------------------------- writing and the CLI


@pytest.mark.parametrize(
    "title,description",
    [("Plain", None), (None, None), ('Quotes " and \\ back', "Lines\nand\ttabs, é, \u4e2d, \x7f, \U0001f600")],
)
def test_metadata_text_reads_back(tmp_path, title, description):
    (tmp_path / "dataset.toml").write_text(metadata_text(True, title, description), encoding="utf-8")
    about = read_metadata(tmp_path, errors := [])
    assert errors == [] and (about.simulated, about.title, about.description) == (True, title, description)


def test_validate_prints_the_warning(tmp_path, capsys):
    assert main(["validate", str(folder(tmp_path, "trial_simulated"))]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Dataset trial_simulated  [SIMULATED data]: valid"
    assert out[1].startswith("  warning: no dataset.toml: the data are taken as SIMULATED")
    assert main(["validate", str(folder(tmp_path, "declared", "simulated = true\n"))]) == 0
    out = capsys.readouterr().out
    assert "Dataset declared  [SIMULATED data]: valid" in out and "warning" not in out


def test_validate_reports_a_bad_file_and_exits_2(tmp_path, capsys):
    assert main(["validate", str(folder(tmp_path, "knee", "simulated = true\nsimulatd = true\n"))]) == 2
    err = capsys.readouterr().err
    assert "dataset.toml, key 'simulatd': unknown key 'simulatd'" in err and "Traceback" not in err


def test_simulate_writes_a_dataset_toml_declaring_simulated_data(tmp_path):
    out = tmp_path / "knee_simulated"
    params = ROOT / "data" / "msc_knee_oa_simulated" / "simulation_params.toml"
    assert main(["simulate", str(ROOT / "data" / "msc_knee_oa"), "--params", str(params), "--out", str(out)]) == 0
    doc = tomllib.loads((out / "dataset.toml").read_text(encoding="utf-8"))
    assert doc["simulated"] is True and set(doc) == {"simulated", "title", "description"}
    assert "simulation_params.toml" in doc["description"] and "seed 20210111" in doc["description"]
    ds = read_dataset(out)
    assert ds.simulated is True and ds.notes == () and ds.title == doc["title"]
    # The text depends on folder names only, not on how the paths were given.
    assert dataset_toml(Path("data/msc_knee_oa"), out, 20210111) == (out / "dataset.toml").read_text()


def test_bundled_datasets_declare_what_they_are():
    real = read_dataset(ROOT / "data" / "msc_knee_oa")
    assert real.simulated is False and real.notes == () and "Qu & Sun" in real.title
    sim = read_dataset(ROOT / "data" / "msc_knee_oa_simulated")
    assert sim.simulated is True and sim.notes == () and "SIMULATED" in sim.title
    assert "simulation_params.toml" in sim.description

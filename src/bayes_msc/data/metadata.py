"""The optional ``dataset.toml`` of a dataset folder: what the dataset is.

Three keys (docs/FORMAT.md, "dataset.toml")::

    simulated = true          # required in the file: are the outcome values simulated?
    title = "..."             # optional text
    description = "..."       # optional text

:func:`read_metadata` reads it for :func:`bayes_msc.data.reader.read_dataset`. Without
the file the folder's name decides: a name containing ``simulated`` marks simulated data
(the fallback), and a note says to add the file. The file wins over the name; a folder
named ``simulated`` whose file says ``simulated = false`` gets a note too. An unknown
key, a wrong type or a file that is not TOML is a :class:`~bayes_msc.errors.Problem`
naming the file and the key. :func:`metadata_text` writes the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from bayes_msc.errors import Problem
from bayes_msc.guard.reading import Unreadable, present, read_text

FILE = "dataset.toml"
KEYS = ("simulated", "title", "description")
_TOML_POS = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True)
class Metadata:
    """What a dataset folder says about itself.

    Attributes
    ----------
    simulated : bool
        The outcome values are simulated (from ``dataset.toml``, else from the folder name).
    title, description : str or None
        From ``dataset.toml``; None when not given.
    notes : tuple of str
        Warnings about how ``simulated`` was decided (the folder-name fallback, or a
        name that disagrees with the file).
    declared : bool
        ``simulated`` comes from ``dataset.toml`` (not from the folder name).
    """

    simulated: bool
    title: str | None = None
    description: str | None = None
    notes: tuple[str, ...] = ()
    declared: bool = False


def _named_simulated(folder: Path) -> bool:
    return "simulated" in folder.resolve().name.lower()


def _load(path: Path, problems: list[Problem]) -> dict | None:
    """The TOML document of ``path``, or None (and a problem) when it is not one."""
    import tomllib  # only when a folder has the file

    if path.is_dir():
        problems.append(Problem("is a folder; a TOML file is expected here", FILE))
        return None
    try:
        text = read_text(path)  # a regular file of bounded size only
    except Unreadable as err:
        problems.append(Problem(f"{err.message}; save it as UTF-8 text", FILE))
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        at = _TOML_POS.search(str(err))
        problems.append(
            Problem(f"is not valid TOML: {err}; see docs/FORMAT.md, 'dataset.toml'", FILE, int(at[1]) if at else None)
        )
        return None


def read_metadata(folder: Path, problems: list[Problem]) -> Metadata:
    """What the dataset folder ``folder`` says about itself.

    Parameters
    ----------
    folder : Path
        The dataset folder.
    problems : list of Problem
        Gets a problem for each thing wrong with ``dataset.toml`` (not TOML, an unknown
        key, ``simulated`` missing or not true/false, a title or description that is not
        text), each naming the file and the key.

    Returns
    -------
    Metadata
        From ``dataset.toml`` when the folder has one, else from the folder's name.
    """
    named = _named_simulated(folder)
    path = folder / FILE
    if not present(path):  # a dangling link is present: reading it reports it
        if not named:
            return Metadata(simulated=False)
        note = (
            f"no {FILE}: the data are taken as SIMULATED because the folder name "
            f"'{folder.resolve().name}' contains 'simulated'; add a {FILE} saying 'simulated = true' "
            "(docs/FORMAT.md)"
        )
        return Metadata(simulated=True, notes=(note,))
    doc = _load(path, problems)
    if doc is None:
        return Metadata(simulated=named)
    before = len(problems)
    for key in doc:
        if key not in KEYS:
            problems.append(Problem(f"unknown key '{key}'; allowed: {', '.join(KEYS)}", FILE, key=key))
    simulated = doc.get("simulated")
    if simulated is None:
        problems.append(
            Problem(
                "key 'simulated' is missing; say whether the outcome values are simulated: "
                "simulated = true or simulated = false",
                FILE,
                key="simulated",
            )
        )
    elif not isinstance(simulated, bool):
        problems.append(Problem(f"simulated must be true or false (got {simulated!r})", FILE, key="simulated"))
    text: dict[str, str | None] = {}
    for key in ("title", "description"):
        value = doc.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(Problem(f"{key} must be text in quotes (got {value!r})", FILE, key=key))
        text[key] = value if isinstance(value, str) else None
    if len(problems) > before or not isinstance(simulated, bool):
        return Metadata(simulated=named)
    notes: tuple[str, ...] = ()
    if named and not simulated:
        notes = (
            f"{FILE} says 'simulated = false' but the folder name '{folder.resolve().name}' contains "
            f"'simulated'; the data are taken as real, as {FILE} says (rename the folder if that is right)",
        )
    return Metadata(simulated, text["title"], text["description"], notes, declared=True)


def _toml_string(value: str) -> str:
    # A JSON string is a TOML basic string (same escapes: \" \\ \n \t \uXXXX), but for
    # DEL, which TOML wants escaped too.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def metadata_text(simulated: bool, title: str | None = None, description: str | None = None) -> str:
    """The text of a ``dataset.toml`` (what :func:`read_metadata` reads back).

    Parameters
    ----------
    simulated : bool
    title, description : str, optional
        Left out when None.

    Returns
    -------
    str
        TOML: a comment line naming the format's documentation, then the keys.
    """
    lines = [
        "# What this dataset folder holds (format: docs/FORMAT.md, 'dataset.toml').",
        f"simulated = {'true' if simulated else 'false'}",
    ]
    lines += [
        f"{key} = {_toml_string(value)}" for key, value in (("title", title), ("description", description)) if value
    ]
    return "\n".join(lines) + "\n"

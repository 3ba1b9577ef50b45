"""Prior-set files: reading TOML (:func:`load_prior_sets`, the bundled sets) and writing it.

The format is described in :mod:`bayes_msc.priors`. Reading never imports PyMC.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from bayes_msc.errors import InputError, Problem
from bayes_msc.guard.reading import Unreadable, read_text
from bayes_msc.priors.sets import PriorSet

_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def load_prior_sets(path: str | Path) -> dict[str, PriorSet]:
    """Read the prior sets of a TOML file (``[prior_sets.NAME]`` tables).

    Raises
    ------
    InputError
        Missing or malformed file (with the TOML parser's line and column), unknown keys,
        distributions or parameters, missing ``mu`` or tau prior, bad values; all at once.
    """
    path = Path(path)
    file = str(path)
    try:
        text = read_text(path)  # a regular file of bounded size only: a pipe would hang
    except Unreadable as exc:
        raise InputError(Problem(f"cannot read prior-set file: it {exc.message}", file=file)) from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS.search(str(exc))
        raise InputError(Problem(f"malformed TOML: {exc}", file=file, row=int(m.group(1)) if m else None)) from exc
    problems = [
        Problem(f"unknown top-level key {k!r}; allowed: prior_sets", file=file, key=k) for k in doc if k != "prior_sets"
    ]
    tables = doc.get("prior_sets")
    if not isinstance(tables, dict) or not tables:
        problems.append(Problem("no prior sets: add tables [prior_sets.NAME]", file=file, key="prior_sets"))
        raise InputError(problems)
    sets = {}
    for name, table in tables.items():
        try:
            sets[name] = PriorSet.from_dict(name, table, file=file)
        except InputError as exc:  # gathered and re-raised below, with every other problem
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return sets


def bundled_prior_sets() -> dict[str, PriorSet]:
    """The prior sets shipped with the package (``models/priors.toml``)."""
    with resources.as_file(resources.files("bayes_msc") / "resources" / "priors.toml") as p:
        return load_prior_sets(p)


_BUNDLED = "the bundled prior sets (models/priors.toml)"
"""How messages name the bundled file."""


def available_prior_sets(path: str | Path | None = None) -> dict[str, PriorSet]:
    """The bundled prior sets, and the sets of the file ``path`` added to them.

    A file adds sets, it never replaces one: a name both define is an error naming both
    sources (rename the set in the file). The bundled sets come first, then the file's, in
    file order.

    Parameters
    ----------
    path : path, optional
        A prior-set file (``[prior_sets.NAME]`` tables, see :mod:`bayes_msc.priors`).

    Raises
    ------
    InputError
        Anything :func:`load_prior_sets` reports, or a set name the file shares with the
        bundled sets.
    """
    sets = bundled_prior_sets()
    if path is None:
        return sets
    extra = load_prior_sets(path)
    clash = [name for name in extra if name in sets]
    if clash:
        raise InputError(
            [
                Problem(
                    f"prior set {name!r} is defined both here and in {_BUNDLED}; a prior-set file adds "
                    "sets to the bundled ones, so give it another name",
                    file=str(path),
                    key=f"prior_sets.{name}",
                )
                for name in clash
            ]
        )
    return {**sets, **extra}


def get_prior_set(name: str, path: str | Path | None = None) -> PriorSet:
    """One prior set by name, from the bundled sets or those ``path`` adds."""
    sets = available_prior_sets(path)
    if name not in sets:
        raise InputError(
            Problem(
                f"unknown prior set {name!r}; available: "
                + ", ".join(sets)
                + (f" (bundled, and from {path})" if path is not None else " (bundled)"),
                argument="prior",
            )
        )
    return sets[name]


def as_prior_set(prior: str | PriorSet | Mapping[str, Any], path: str | Path | None = None) -> PriorSet:
    """A :class:`PriorSet` from a name (looked up in the bundled sets and ``path``), a
    PriorSet (returned as it is) or a mapping with a prior-set file's keys
    (``{"mu": {"dist": "Normal", "mu": 0, "sigma": 20}, "tau": {...}}``; an optional
    ``"name"`` names it, default ``"custom"``).

    Raises
    ------
    InputError
        An unknown name, a bad mapping, or another type (naming the argument ``prior``).
    """
    if isinstance(prior, PriorSet):
        return prior
    if isinstance(prior, str):
        return get_prior_set(prior, path)
    if isinstance(prior, Mapping):
        spec = dict(prior)
        name = spec.pop("name", "custom")
        try:
            return PriorSet.from_dict(str(name), spec)
        except InputError as exc:  # a Python argument, not a file's key
            raise InputError([replace(p, key=None, argument="prior") for p in exc.problems]) from None
    raise InputError(
        Problem(
            f"prior must be a prior-set name, a PriorSet or a dict of priors, not {type(prior).__name__}",
            argument="prior",
        )
    )


def prior_sets_to_toml(sets: Mapping[str, PriorSet]) -> str:
    """TOML text that :func:`load_prior_sets` reads back into equal (unresolved) sets."""

    def val(v: Any) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + " }"
        return json.dumps(v) if isinstance(v, str) else repr(float(v))

    lines = []
    for name, ps in sets.items():
        bare = re.fullmatch(r"[A-Za-z0-9_-]+", name) is not None
        lines.append(f"[prior_sets.{name if bare else json.dumps(name)}]")
        for key, value in ps.to_dict().items():
            if key not in ("name", "outcome_sd"):
                lines.append(f"{key} = {val(value)}")
        lines.append("")
    return "\n".join(lines)

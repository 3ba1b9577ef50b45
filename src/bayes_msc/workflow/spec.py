"""Analysis specs: the TOML files that ``bayes-msc run`` executes.

A spec names a dataset and says which outcome x month cells to analyse, how to make the
effect sizes, how to pool them the frequentist way and which Bayesian models, prior sets
and covariate models to fit. Every key is checked; an unknown key, a wrong type or a
value outside its allowed set is an :class:`~bayes_msc.errors.InputError` that
names the spec file and the key (``bayes.draws``). Relative paths resolve against the
folder of the spec file, so a spec works from any working directory.

Every key, its default and its meaning: docs/FORMAT.md, "Analysis specs". A short example::

    [dataset]
    path = "../data/msc_knee_oa"          # required

    [analysis]
    months = [3, 6, 12]                   # default "all"
    better = { vas = "lower" }

    [frequentist]
    method = "paper"                      # the paper's FE/DL rule

    [bayes]
    models = ["re", "arm"]
    priors = ["weakly_informative", "empirical"]
    covariates = [["log10(dose_million)"]]
    mcid = { vas = -19.9 }                # signed: the report gives P(mu < -19.9)

    [report]
    title = "..."

This module checks the spec on its own (:func:`load_spec`);
:func:`bayes_msc.workflow.plan.make_plan` checks it against a dataset and the
prior sets, before any work starts.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bayes_msc.errors import InputError, Problem
from bayes_msc.guard.arguments import check_path
from bayes_msc.guard.limits import MAX_CHAINS, MAX_DRAWS, MAX_SEED
from bayes_msc.guard.reading import Unreadable, read_text
from bayes_msc.workflow.toml_reader import KeyReader

MODELS = ("re", "arm")
ENGINES = ("mcmc", "exact", "auto")
METHODS = ("paper", "fe", "dl", "reml", "pm", "ml", "he", "sj", "eb")
CONVERSIONS = ("luo_shi", "wan")
DIRECTIONS = ("lower", "higher")


@dataclass(frozen=True)
class CellSelector:
    """One entry of a cell list: an outcome, and its months (``None``: all of them)."""

    outcome: str
    months: tuple[float, ...] | None = None

    def matches(self, outcome: str, month: float) -> bool:
        return outcome == self.outcome and (self.months is None or month in self.months)


@dataclass(frozen=True)
class Toolbox:
    """The [frequentist] toolbox keys and ``bayes.bayes_factors`` (issue 15); cell lists are
    ``None`` for ``"all"``, empty when not asked for."""

    confint: bool = True
    small_study: tuple[CellSelector, ...] | None = ()
    small_study_min_k: int = 10
    influence: tuple[CellSelector, ...] | None = ()
    cumulative: tuple[CellSelector, ...] | None = ()
    cumulative_order: str = "year"
    bayes_factors: bool = False

    def asks(self, what: str, outcome: str, month: float) -> bool:
        """Whether the cell list ``what`` selects this cell."""
        cells = getattr(self, what)
        return cells is None or any(c.matches(outcome, month) for c in cells)


@dataclass(frozen=True)
class Spec:
    """A validated analysis spec. Build it with :func:`load_spec`.

    ``outcomes``/``months``/cell lists are ``None`` where the spec says ``"all"``.
    """

    path: Path
    dataset: Path
    title: str
    outcomes: tuple[str, ...] | None = None
    months: tuple[float, ...] | None = None
    measure: str = "md"
    multiarm: str = "split"
    basis: str = "final"
    r: float = 0.5
    rescale: bool = True
    conversion: str = "luo_shi"
    better: dict[str, str] = field(default_factory=dict)
    method: str = "paper"
    hksj: bool = False
    pi: str = "z"
    models: tuple[str, ...] = ()
    priors: tuple[str, ...] = ()
    prior_file: Path | None = None
    engine: str = "auto"
    parameterisation: str = "auto"
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = 20210101
    model_cells: dict[str, tuple[CellSelector, ...] | None] = field(default_factory=dict)
    covariates: tuple[tuple[str, ...], ...] = ()
    covariate_cells: tuple[CellSelector, ...] | None = None
    covariate_priors: tuple[str, ...] = ()
    mcid: dict[str, float] = field(default_factory=dict)
    svg: bool = False
    toolbox: Toolbox = field(default_factory=lambda: Toolbox())
    covariate_at: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The spec's name: its file name without ``.toml``."""
        return self.path.stem

    def __repr__(self) -> str:
        return (
            f"Spec({self.name!r}, dataset={self.dataset.name!r}, models={self.models}, priors={len(self.priors)}, "
            f"covariate_models={len(self.covariates)}, engine={self.engine!r})"
        )

    def options(self) -> dict[str, Any]:
        """The analysis options as stated in every output (JSON-ready, no paths)."""
        return {
            "measure": self.measure,
            "multiarm": self.multiarm,
            "basis": self.basis,
            "r": self.r,
            "rescale": self.rescale,
            "conversion": self.conversion,
            "frequentist_method": self.method,
            "hksj": self.hksj,
            "pi": self.pi,
            "engine": self.engine,
            "parameterisation": self.parameterisation,
            "draws": self.draws,
            "tune": self.tune,
            "chains": self.chains,
            "seed": self.seed,
        }


class _Reader(KeyReader):
    """The spec's reader: typed keys plus cell lists."""

    def cells(self, value: Any, key: str) -> tuple[CellSelector, ...]:
        if not isinstance(value, list) or not value:
            self.bad(key, 'must be "all" or a non-empty list of { outcome = NAME, months = [...] }')
            return ()
        out = []
        for item in value:
            if not isinstance(item, dict):
                self.bad(key, f"each entry must be {{ outcome = NAME, months = [...] }} (got {item!r})")
                continue
            self.unknown(item, key, ("outcome", "months"))
            outcome = self.text(item.get("outcome"), f"{key}.outcome")
            months = self.months(item["months"], f"{key}.months") if "months" in item else None
            if outcome is not None:
                out.append(CellSelector(outcome, months))
        return tuple(out)


def load_spec(path: str | Path) -> Spec:
    """Read and check an analysis spec.

    Parameters
    ----------
    path : str or Path
        The spec's TOML file.

    Returns
    -------
    Spec
        With every relative path resolved against the spec file's folder.

    Raises
    ------
    InputError
        Listing every problem found (file missing or not TOML, unknown keys, wrong types,
        values outside the allowed sets), each naming the file and the key.
    """
    path = Path(check_path(path, "path", "a spec file"))
    file = str(path)
    try:
        text = read_text(path)  # a regular file of bounded size only: a pipe would hang
    except Unreadable as err:
        missing = err.message == "does not exist"
        raise InputError(
            Problem("spec file not found" if missing else f"the spec file {err.message}", file=file)
        ) from err
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(Problem(f"not valid TOML: {err}", file=file)) from err
    return spec_from_mapping(doc, path=path)


def spec_from_mapping(doc: dict[str, Any], *, path: str | Path | None = None) -> Spec:
    """Check a spec given as a mapping with the TOML file's tables (``{"dataset": {"path":
    ...}, "bayes": {...}}``), as :func:`load_spec` does for a file.

    Parameters
    ----------
    doc : dict
        The spec's tables.
    path : str or Path, optional
        Where the spec notionally lives: relative paths resolve against its folder and
        its stem names the spec. Default: ``spec.toml`` in the working directory.

    Raises
    ------
    InputError
        Every problem found, each naming the key.
    """
    if not isinstance(doc, dict):
        raise InputError(Problem(f"a spec must be a mapping of tables, not {type(doc).__name__}", argument="spec"))
    path = Path("spec.toml") if path is None else Path(path)
    rd = _Reader(str(path))
    rd.unknown(doc, "", ("dataset", "analysis", "frequentist", "bayes", "report"))
    base = path.resolve().parent
    kw: dict[str, Any] = {"path": path}

    t = rd.table(doc, "dataset", ("path",), required=True)
    data = rd.text(t.get("path"), "dataset.path") if t else None
    # absolute, links kept: a problem with a linked file names the link the spec gives
    kw["dataset"] = Path(os.path.abspath(base / data)) if data else base

    t = rd.table(
        doc, "analysis", ("outcomes", "months", "measure", "multiarm", "basis", "r", "rescale", "conversion", "better")
    )
    kw["outcomes"] = rd.all_or(t.get("outcomes", "all"), "analysis.outcomes", rd.texts)
    kw["months"] = rd.all_or(t.get("months", "all"), "analysis.months", rd.months)
    kw["measure"] = rd.choice(t, "analysis", "measure", ("md", "smd"), "md")
    kw["multiarm"] = rd.choice(t, "analysis", "multiarm", ("split", "shared"), "split")
    kw["basis"] = rd.choice(t, "analysis", "basis", ("final", "change"), "final")
    r = rd.number(t.get("r", 0.5), "analysis.r")
    if r is not None and not -1.0 <= r <= 1.0:
        rd.bad("analysis.r", f"a correlation must lie in [-1, 1] (got {r:g})")
    kw["r"] = 0.5 if r is None else r
    kw["rescale"] = rd.boolean(t, "analysis", "rescale", True)
    kw["conversion"] = rd.choice(t, "analysis", "conversion", CONVERSIONS, "luo_shi")
    better = t.get("better", {})
    if not isinstance(better, dict):
        rd.bad("analysis.better", 'must be a table: outcome = "lower" or "higher"')
        better = {}
    kw["better"] = {}
    for outcome, value in better.items():
        if value not in DIRECTIONS:
            rd.bad(f"analysis.better.{outcome}", f'must be "lower" or "higher", not {value!r}')
        else:
            kw["better"][outcome] = value

    t = rd.table(doc, "frequentist", ("method", "hksj", "pi", *_TOOLBOX_KEYS))
    kw["method"] = rd.choice(t, "frequentist", "method", METHODS, "paper")
    kw["hksj"] = rd.boolean(t, "frequentist", "hksj", False)
    kw["pi"] = rd.choice(t, "frequentist", "pi", ("z", "t"), "z")
    bayes = doc.get("bayes")
    toolbox = _read_toolbox(rd, t, bayes if isinstance(bayes, dict) else {})

    _read_bayes(rd, rd.table(doc, "bayes", _BAYES_KEYS), base, kw)

    t = rd.table(doc, "report", ("title", "svg"))
    title = rd.text(t["title"], "report.title") if "title" in t else None
    kw["title"] = title or f"Meta-analysis: {path.stem}"
    kw["svg"] = rd.boolean(t, "report", "svg", False)

    if rd.problems:
        raise InputError(rd.problems)
    return Spec(**kw, toolbox=toolbox)


_TOOLBOX_KEYS = ("confint", "small_study", "small_study_min_k", "influence", "cumulative", "cumulative_order")


def _read_toolbox(rd: _Reader, t: dict, bayes: dict) -> Toolbox:
    """The toolbox keys of [frequentist] and ``bayes.bayes_factors``."""
    cells = {
        key: rd.all_or(t[key], f"frequentist.{key}", rd.cells) if key in t else ()
        for key in ("small_study", "influence", "cumulative")
    }
    order = rd.text(t.get("cumulative_order", "year"), "frequentist.cumulative_order") or "year"
    return Toolbox(
        confint=rd.boolean(t, "frequentist", "confint", True),
        small_study_min_k=rd.integer(t, "frequentist", "small_study_min_k", 10, 3),
        cumulative_order=order,
        bayes_factors=rd.boolean(bayes, "bayes", "bayes_factors", False),
        **cells,
    )


_BAYES_KEYS = (
    "models",
    "priors",
    "prior_file",
    "engine",
    "parameterisation",
    "draws",
    "tune",
    "chains",
    "seed",
    "cells",
    "covariates",
    "covariate_cells",
    "covariate_priors",
    "mcid",
    "bayes_factors",
    "covariate_at",
)


def _read_bayes(rd: _Reader, t: dict, base: Path, kw: dict[str, Any]) -> None:
    """The [bayes] table; absent means no Bayesian fits (a frequentist-only report)."""
    if not t:
        return
    kw["models"] = rd.texts(t.get("models", ["re"]), "bayes.models", MODELS)
    priors = rd.texts(t.get("priors"), "bayes.priors") if "priors" in t else ()
    if "priors" not in t:
        rd.bad("bayes.priors", "required: the names of the prior sets to fit")
    kw["priors"] = priors
    if "prior_file" in t:
        name = rd.text(t["prior_file"], "bayes.prior_file")
        kw["prior_file"] = Path(os.path.abspath(base / name)) if name else None
    kw["engine"] = rd.choice(t, "bayes", "engine", ENGINES, "auto")
    if kw["engine"] == "exact" and kw.get("multiarm") == "shared":
        rd.bad(
            "bayes.engine",
            'the exact engine needs independent comparisons; use analysis.multiarm = "split" or engine = "mcmc"',
        )
    kw["parameterisation"] = rd.choice(t, "bayes", "parameterisation", ("auto", "centred", "noncentred"), "auto")
    kw["draws"] = rd.integer(t, "bayes", "draws", 1000, 10, MAX_DRAWS)
    kw["tune"] = rd.integer(t, "bayes", "tune", 1000, 1, MAX_DRAWS)  # nutpie needs a warm-up
    kw["chains"] = rd.integer(t, "bayes", "chains", 4, 1, MAX_CHAINS)
    kw["seed"] = rd.integer(t, "bayes", "seed", 20210101, 0, MAX_SEED)

    cells = t.get("cells", {})
    if not isinstance(cells, dict):
        rd.bad("bayes.cells", "must be a table: model name = cell list")
        cells = {}
    rd.unknown(cells, "bayes.cells", kw["models"])
    kw["model_cells"] = {m: rd.all_or(cells[m], f"bayes.cells.{m}", rd.cells) for m in kw["models"] if m in cells}

    covs = t.get("covariates", [])
    if not isinstance(covs, list):
        rd.bad("bayes.covariates", "must be a list of lists of covariate terms")
        covs = []
    kw["covariates"] = tuple(rd.texts(c, "bayes.covariates") for c in covs)
    if "covariate_cells" in t:
        kw["covariate_cells"] = rd.all_or(t["covariate_cells"], "bayes.covariate_cells", rd.cells)
    if "covariate_priors" in t:
        kw["covariate_priors"] = rd.texts(t["covariate_priors"], "bayes.covariate_priors")
    else:
        kw["covariate_priors"] = priors[:1]
    at = t.get("covariate_at", {})
    if not isinstance(at, dict):
        rd.bad("bayes.covariate_at", "must be a table: covariate term = reference value")
        at = {}
    kw["covariate_at"] = {}
    for term, value in at.items():
        x = rd.number(value, f"bayes.covariate_at.{term}")
        if x is not None:
            kw["covariate_at"][term] = x
    for key in ("covariate_cells", "covariate_priors", "covariate_at"):
        if key in t and not kw["covariates"]:
            rd.bad(f"bayes.{key}", "given without bayes.covariates")

    mcid = t.get("mcid", {})
    if not isinstance(mcid, dict):
        rd.bad("bayes.mcid", "must be a table: outcome = signed minimal important effect")
        mcid = {}
    kw["mcid"] = {}
    for outcome, value in mcid.items():
        x = rd.number(value, f"bayes.mcid.{outcome}")
        if x == 0:
            rd.bad(f"bayes.mcid.{outcome}", "must not be 0: its sign says which direction is better")
        elif x is not None:
            kw["mcid"][outcome] = x

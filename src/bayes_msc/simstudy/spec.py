"""Simulation-study files: the TOML that ``bayes-msc simulation-study`` runs, read and checked.

Example (every key; defaults in the comments)::

    [study]
    title = "DL vs Knapp-Hartung with few trials"   # default: the file name
    seed = 20140218                 # required
    replications = 2000             # required: per design
    chunk_size = 250                # replications per chunk (default 100): unit of work and of resume
    level = 0.95                    # interval probability; tests are at 1 - level
    prior_file = "priors.toml"      # optional; default: the bundled prior sets

    [cluster]                       # optional; the command's options override it
    scheduler = "tcp://10.0.0.5:8786"   # an existing Dask scheduler (default: a local cluster)
    workers = 2                     # local cluster size (default: the machine's cores)

    [design]                        # what every design shares (defaults shown)
    k = 5                           # trials planned (>= 1)
    n = 50                          # patients per arm: a number, or a list cycled over the trials
    sd = 1.0                        # within-arm SD of the outcome
    mu = 0.0                        # true pooled mean difference (at the centre of the doses)
    tau = 0.0                       # true between-trial SD
    doses = [10, 50, 100]           # optional: each trial's dose, cycled over the trials
    dose_slope = 0.0                # true change of the effect per log10 unit of dose
    missing = 0.0                   # probability that a trial does not report the analysed month
    missing_if = "any"              # any | nonsignificant (only trials with p >= 0.05 go missing)

    [grid]                          # optional: every combination is one design
    k = [5, 10]
    tau = [0.0, 0.2]

    [designs.one_large_trial]       # optional: named designs, each overriding [design]
    n = [50, 50, 50, 50, 500]

    [methods.DL]                    # at least one method; the table name labels it
    kind = "frequentist"            # frequentist | bayes (required)
    estimator = "dl"                # tau^2 estimator: fe dl reml pm ml he sj eb (default dl)
    hksj = false                    # Knapp-Hartung t intervals and tests
    hksj_truncate = false           # modified Knapp-Hartung (scale factor at least 1)
    dose = false                    # meta-regression on log10(dose) centred at the doses' mean

    [methods.weakly_informative]
    kind = "bayes"
    prior = "weakly_informative"    # a prior-set name (bundled or from study.prior_file)
    engine = "exact"                # exact | mcmc | auto (exact where it is the posterior)
    draws = 1000                    # MCMC only: draws, tune, chains
    tune = 1000
    chains = 4
    dose = false

A design's name is its ``[designs.NAME]`` table, or for a grid design its grid values
(``k=5, tau=0.2``); with neither a grid nor named designs, ``[design]`` is the one design.
The dose pattern enters the truth: trial i's true effect is
``mu + dose_slope * (log10(dose_i) - centre) + tau * z_i`` with ``centre`` the mean of
log10(dose) over the k planned trials, so ``mu`` is the effect at the centre and is what
every method estimates. Every key is checked; a problem names the file and the key.
"""

from __future__ import annotations

import itertools
import math
import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bayes_msc.errors import InputError, Problem
from bayes_msc.priors import PriorSet, bundled_prior_sets, load_prior_sets
from bayes_msc.results.layout import CI_LEVEL
from bayes_msc.workflow.toml_reader import KeyReader

ESTIMATORS = ("fe", "dl", "reml", "pm", "ml", "he", "sj", "eb")
ENGINES = ("exact", "mcmc", "auto")
KINDS = ("frequentist", "bayes")
MISSING_IF = ("any", "nonsignificant")
DESIGN_KEYS = ("k", "n", "sd", "mu", "tau", "doses", "dose_slope", "missing", "missing_if")
_STUDY_KEYS = ("title", "seed", "replications", "chunk_size", "level", "prior_file")
_METHOD_KEYS = {
    "frequentist": ("kind", "estimator", "hksj", "hksj_truncate", "dose"),
    "bayes": ("kind", "prior", "engine", "draws", "tune", "chains", "dose"),
}


@dataclass(frozen=True)
class Design:
    """One data-generating design (see the module docstring for each field)."""

    name: str
    k: int = 5
    n: tuple[int, ...] = (50,)
    sd: float = 1.0
    mu: float = 0.0
    tau: float = 0.0
    doses: tuple[float, ...] | None = None
    dose_slope: float = 0.0
    missing: float = 0.0
    missing_if: str = "any"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "k": self.k,
            "n": list(self.n),
            "sd": self.sd,
            "mu": self.mu,
            "tau": self.tau,
            "doses": None if self.doses is None else list(self.doses),
            "dose_slope": self.dose_slope,
            "missing": self.missing,
            "missing_if": self.missing_if,
        }


@dataclass(frozen=True)
class Method:
    """One analysis method. ``prior_set`` is the (unresolved) prior set of a Bayesian method:
    it is resolved for each replication's data, as ``bm.fit`` does."""

    name: str
    kind: str
    estimator: str = "dl"
    hksj: bool = False
    hksj_truncate: bool = False
    prior_set: PriorSet | None = None
    engine: str = "exact"
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    dose: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "dose": self.dose}
        if self.kind == "frequentist":
            out.update(estimator=self.estimator, hksj=self.hksj, hksj_truncate=self.hksj_truncate)
        else:
            assert self.prior_set is not None  # a Bayesian method always has one (checked on reading)
            out.update(prior=self.prior_set.to_dict(), engine=self.engine)
            if self.engine != "exact":
                out.update(draws=self.draws, tune=self.tune, chains=self.chains)
        return out


@dataclass(frozen=True)
class Study:
    """A checked simulation study (:func:`load_study`). ``scheduler`` and ``workers`` say
    where it runs, never what it computes (they are not part of :meth:`to_dict`)."""

    path: Path
    title: str
    seed: int
    replications: int
    designs: tuple[Design, ...]
    methods: tuple[Method, ...]
    chunk_size: int = 100
    level: float = CI_LEVEL
    scheduler: str | None = None
    workers: int | None = None

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def chunks_per_design(self) -> int:
        return math.ceil(self.replications / self.chunk_size)

    @property
    def n_chunks(self) -> int:
        return self.chunks_per_design * len(self.designs)

    def chunk(self, index: int) -> tuple[Design, range]:
        """The design and the replications of chunk ``index`` (designs in order, each cut
        into ``chunk_size`` replications)."""
        d, c = divmod(index, self.chunks_per_design)
        start = c * self.chunk_size
        return self.designs[d], range(start, min(start + self.chunk_size, self.replications))

    def to_dict(self) -> dict[str, Any]:
        """Everything that determines the results (JSON-ready; no paths, no cluster)."""
        return {
            "title": self.title,
            "seed": self.seed,
            "replications": self.replications,
            "chunk_size": self.chunk_size,
            "level": self.level,
            "designs": [d.to_dict() for d in self.designs],
            "methods": [m.to_dict() for m in self.methods],
        }

    def with_cluster(self, scheduler: str | None, workers: int | None) -> Study:
        return replace(self, scheduler=scheduler, workers=workers)


def load_study(path: str | os.PathLike[str]) -> Study:
    """Read and check a simulation-study file.

    Raises
    ------
    InputError
        Every problem found (file missing or not TOML, unknown keys, wrong types, values
        out of range, unknown prior sets), each naming the file and the key.
    """
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise InputError(Problem("study file not found", file=file))
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise InputError(Problem(f"not valid TOML: {err}", file=file)) from err
    except UnicodeDecodeError as err:
        raise InputError(Problem(f"not UTF-8 text: {err}", file=file)) from err
    return study_from_mapping(doc, path=path)


class _Reader(KeyReader):
    """Typed keys of a study file, plus the value kinds a design has."""

    def real(self, t: dict, where: str, key: str, default: float, low: float = -math.inf, high: float = math.inf):
        value = self.number(t.get(key, default), f"{where}.{key}")
        if value is not None and not low <= value <= high:
            self.bad(f"{where}.{key}", f"must lie in [{low:g}, {high:g}] (got {value:g})")
            return default
        return default if value is None else value

    def sizes(self, value: Any, key: str) -> tuple[int, ...]:
        items = value if isinstance(value, list) else [value]
        ok = bool(items) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 2 for v in items)
        if not ok:
            self.bad(key, f"must be a whole number >= 2 or a non-empty list of them (got {value!r})")
            return (50,)
        return tuple(items)

    def doses(self, value: Any, key: str) -> tuple[float, ...] | None:
        nums = [self.number(v, key) for v in value] if isinstance(value, list) and value else None
        if nums is None or any(v is None or v <= 0 for v in nums):
            self.bad(key, f"must be a non-empty list of positive doses (got {value!r})")
            return None
        return tuple(float(v) for v in nums if v is not None)


def _design(rd: _Reader, t: dict, where: str, name: str) -> Design:
    """A design from the merged keys ``t`` (problems named at ``where``)."""
    k = rd.integer(t, where, "k", 5, 1)
    doses = rd.doses(t["doses"], f"{where}.doses") if "doses" in t else None
    slope = rd.real(t, where, "dose_slope", 0.0)
    if slope != 0 and doses is None:
        rd.bad(f"{where}.dose_slope", "needs doses")
    return Design(
        name=name,
        k=k,
        n=rd.sizes(t.get("n", 50), f"{where}.n"),
        sd=rd.real(t, where, "sd", 1.0, low=1e-12),
        mu=rd.real(t, where, "mu", 0.0),
        tau=rd.real(t, where, "tau", 0.0, low=0.0),
        doses=doses,
        dose_slope=slope,
        missing=rd.real(t, where, "missing", 0.0, low=0.0, high=0.99),
        missing_if=rd.choice(t, where, "missing_if", MISSING_IF, "any"),
    )


def _derived(rd: _Reader, base: dict, own: dict, where: str, name: str) -> Design:
    """A design of [design] overridden by ``own``: only the problems of its own keys are
    reported here (those of [design]'s keys are reported once, under ``design``)."""
    sub = _Reader(rd.file)
    design = _design(sub, {**base, **own}, where, name)
    rd.problems += [p for p in sub.problems if p.key is not None and p.key.rsplit(".", 1)[-1] in own]
    return design


def _value_text(value: Any) -> str:
    if isinstance(value, list):
        return "/".join(_value_text(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _designs(rd: _Reader, doc: dict) -> tuple[Design, ...]:
    base = rd.table(doc, "design", DESIGN_KEYS)
    grid = rd.table(doc, "grid", DESIGN_KEYS)
    named = doc.get("designs", {})
    if not isinstance(named, dict):
        rd.bad("designs", "must hold tables [designs.NAME]")
        named = {}
    out: list[Design] = []
    axes = []
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            rd.bad(f"grid.{key}", f"must be a non-empty list of values (got {values!r})")
        else:
            axes.append([(key, v) for v in values])
    for combo in itertools.product(*axes) if axes else []:
        name = ", ".join(f"{k}={_value_text(v)}" for k, v in combo)
        out.append(_derived(rd, base, dict(combo), "grid", name))
    for name, t in named.items():
        if not isinstance(t, dict):
            rd.bad(f"designs.{name}", "must be a table")
            continue
        rd.unknown(t, f"designs.{name}", DESIGN_KEYS)
        out.append(_derived(rd, base, t, f"designs.{name}", str(name)))
    only = _design(rd, base, "design", "design")  # [design]'s own problems, named there once
    if not out:
        out.append(only)
    seen: set[str] = set()
    for d in out:
        if d.name in seen:
            rd.bad("designs", f"design '{d.name}' is defined twice")
        seen.add(d.name)
    return tuple(out)


def _methods(rd: _Reader, doc: dict, sets: dict[str, PriorSet], designs: tuple[Design, ...]) -> tuple[Method, ...]:
    from bayes_msc.bayes.engines import exact_covers

    tables = doc.get("methods")
    if not isinstance(tables, dict) or not tables:
        rd.bad("methods", "at least one method is required: add tables [methods.NAME]")
        return ()
    out = []
    for name, t in tables.items():
        where = f"methods.{name}"
        if not isinstance(t, dict):
            rd.bad(where, "must be a table")
            continue
        kind = rd.choice(t, where, "kind", KINDS, "frequentist")
        if "kind" not in t:
            rd.bad(f"{where}.kind", "required: frequentist or bayes")
        rd.unknown(t, where, _METHOD_KEYS[kind])
        dose = rd.boolean(t, where, "dose", False)
        if dose:
            for d in designs:
                if d.doses is None or len(set(d.doses[: d.k])) < 2:
                    rd.bad(f"{where}.dose", f"design '{d.name}' has no doses that vary to regress on")
        if kind == "frequentist":
            method = Method(
                name=str(name),
                kind=kind,
                estimator=rd.choice(t, where, "estimator", ESTIMATORS, "dl"),
                hksj=rd.boolean(t, where, "hksj", False),
                hksj_truncate=rd.boolean(t, where, "hksj_truncate", False),
                dose=dose,
            )
            if method.hksj_truncate and not method.hksj:
                rd.bad(f"{where}.hksj_truncate", "needs hksj = true")
            out.append(method)
            continue
        prior_name = rd.text(t.get("prior"), f"{where}.prior")
        prior = sets.get(prior_name) if prior_name else None
        if prior_name and prior is None:
            rd.bad(f"{where}.prior", f"unknown prior set '{prior_name}'; available: {', '.join(sets)}")
        engine = rd.choice(t, where, "engine", ENGINES, "exact")
        if prior is not None and engine == "exact" and not exact_covers("re", prior, ("dose",) if dose else ()):
            rd.bad(f"{where}.engine", f"the exact engine needs Normal or Flat priors on mu and slopes ('{prior_name}')")
        if prior is not None and engine == "auto":
            engine = "exact" if exact_covers("re", prior, ("dose",) if dose else ()) else "mcmc"
        out.append(
            Method(
                name=str(name),
                kind=kind,
                prior_set=prior,
                engine=engine,
                draws=rd.integer(t, where, "draws", 1000, 10),
                tune=rd.integer(t, where, "tune", 1000, 1),
                chains=rd.integer(t, where, "chains", 4, 1),
                dose=dose,
            )
        )
    return tuple(out)


def study_from_mapping(doc: dict[str, Any], *, path: str | Path | None = None) -> Study:
    """Check a study given as a mapping with the file's tables, as :func:`load_study` does.

    ``path`` (default ``study.toml`` in the working directory) names the study and is the
    folder that a relative ``prior_file`` resolves against.
    """
    if not isinstance(doc, dict):
        raise InputError(Problem(f"a study must be a mapping of tables, not {type(doc).__name__}", argument="study"))
    path = Path("study.toml") if path is None else Path(path)
    rd = _Reader(str(path))
    rd.unknown(doc, "", ("study", "cluster", "design", "grid", "designs", "methods"))
    t = rd.table(doc, "study", _STUDY_KEYS, required=True)
    seed = rd.integer(t, "study", "seed", 0, 0)
    if "seed" not in t:
        rd.bad("study.seed", "required: the study's results depend only on it and this file")
    reps = rd.integer(t, "study", "replications", 1, 1)
    if "replications" not in t:
        rd.bad("study.replications", "required: replications per design")
    chunk_size = rd.integer(t, "study", "chunk_size", 100, 1)
    level = rd.real(t, "study", "level", CI_LEVEL, low=0.5, high=0.999)
    title = rd.text(t["title"], "study.title") if "title" in t else None
    sets = bundled_prior_sets()
    if "prior_file" in t:
        name = rd.text(t["prior_file"], "study.prior_file")
        if name:
            try:
                sets = load_prior_sets(path.resolve().parent / name)
            except InputError as err:
                rd.problems.extend(err.problems)
    c = rd.table(doc, "cluster", ("scheduler", "workers"))
    scheduler = rd.text(c["scheduler"], "cluster.scheduler") if "scheduler" in c else None
    workers = rd.integer(c, "cluster", "workers", 1, 1) if "workers" in c else None
    designs = _designs(rd, doc)
    methods = _methods(rd, doc, sets, designs)
    if rd.problems:
        raise InputError(list(dict.fromkeys(rd.problems)))  # a grid repeats a bad value's problem
    return Study(
        path=path,
        title=title or f"Simulation study: {path.stem}",
        seed=seed,
        replications=reps,
        designs=designs,
        methods=methods,
        chunk_size=min(chunk_size, reps),
        level=level,
        scheduler=scheduler,
        workers=workers,
    )

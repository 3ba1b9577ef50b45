"""Parameters of :mod:`bayes_msc.simulation.simulate`: the TOML file and its validation.

Parameters file (TOML)::

    seed = 20210111            # optional; the command's --seed overrides it
    months = "follow_up"       # or [3, 6, 12]: "follow_up" = studies.csv follow_up_months
    baseline = true            # also simulate month 0
    random_effect = "study"    # or "arm"
    decimals = 2               # rounding of simulated means and SDs

    [outcomes.vas]             # one table per outcome
    mu = { 3 = -1.1, 6 = -3.2 }            # pooled mean difference per month (required)
    control_mean = { 0 = 60, 3 = 50, 6 = 48 }   # control arms' mean per month (required)
    sd = 20                    # within-arm SD (number or per-month table; required)
    tau = 5                    # between-study SD of the effect (number or per month; default 0)
    sd_between = 8             # between-study SD of the baseline (default 0)
    slopes = { "log10(dose_million)" = 0.5 }   # per unit of the term (default none)
    centres = { "log10(dose_million)" = 1.5 }  # mu is the effect at the centres (default 0)
    scale_min = 0              # optional; a simulated mean outside the scale is an error
    scale_max = 100
    months = [6, 12]           # optional override of the global months

    [covariates.dose_million]  # optional: fill MISSING arm covariates (simulated designs only)
    dist = "loguniform"        # normal(mean, sd), uniform(low, high), loguniform(low, high),
    low = 5                    # choice(values[, p]), multinomial(p) over `columns`
    high = 150
    roles = ["treatment"]      # arms that get a value (default both roles)
    per = "arm"                # or "study": one draw shared by the study's arms
    decimals = 0

Month keys are TOML keys: write ``"0.5" = ...`` (quoted) for a non-whole month. Unknown
keys are errors. Each outcome and each covariate table draws from its own random stream
(``numpy.random.default_rng([seed, crc32(label)])``), so adding an outcome does not change
the values simulated for the others.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bayes_msc.data.covariates import parse_term
from bayes_msc.errors import InputError, Problem
from bayes_msc.guard.reading import Unreadable, read_text

DISTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "normal": (("mean", "sd"), ()),
    "uniform": (("low", "high"), ()),
    "loguniform": (("low", "high"), ()),
    "choice": (("values",), ("p",)),
    "multinomial": (("p", "columns"), ()),
}
"""Covariate-filling distributions: (required keys, optional keys)."""

_TOP_KEYS = {"seed", "months", "baseline", "random_effect", "decimals", "outcomes", "covariates"}
_OUTCOME_KEYS = {
    "mu",
    "control_mean",
    "sd",
    "tau",
    "sd_between",
    "slopes",
    "centres",
    "scale_min",
    "scale_max",
    "months",
}
_FILL_KEYS = {"dist", "column", "roles", "per", "decimals"}


@dataclass(frozen=True)
class OutcomeParams:
    """True parameters of one outcome (see the module docstring for the model)."""

    name: str
    mu: Mapping[float, float]
    control_mean: Mapping[float, float]
    sd: float | Mapping[float, float]
    tau: float | Mapping[float, float] = 0.0
    sd_between: float = 0.0
    slopes: Mapping[str, float] = field(default_factory=dict)
    centres: Mapping[str, float] = field(default_factory=dict)
    scale_min: float | None = None
    scale_max: float | None = None
    months: tuple[float, ...] | str | None = None


@dataclass(frozen=True)
class CovariateFill:
    """How to fill one missing arm covariate (or a group of count columns)."""

    name: str
    dist: str
    columns: tuple[str, ...]
    args: Mapping[str, Any]
    roles: tuple[str, ...] = ("treatment", "control")
    per: str = "arm"
    decimals: int | None = 2


@dataclass(frozen=True)
class SimulationParams:
    """Everything a simulation needs besides the design and the seed."""

    outcomes: tuple[OutcomeParams, ...]
    seed: int | None = None
    months: tuple[float, ...] | str = "follow_up"
    baseline: bool = True
    random_effect: str = "study"
    decimals: int | None = 2
    covariates: tuple[CovariateFill, ...] = ()
    origin: str = "<params>"


# ----------------------------------------------------------------------------- parameters
def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class _Checker:
    """Collects every problem of a parameters mapping before raising them together."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def bad(self, key: str, message: str) -> None:
        self.problems.append(Problem(message, file=self.file, key=key))

    def unknown(self, table: Mapping, allowed: set[str], path: str) -> None:
        for key in table:
            if key not in allowed:
                self.bad(f"{path}{key}", f"unknown key; allowed: {', '.join(sorted(allowed))}")

    def number(self, value: Any, key: str, minimum: float | None = None, strict: bool = False) -> float | None:
        if not _is_num(value):
            self.bad(key, f"must be a finite number, not {value!r}")
            return None
        if minimum is not None and (value < minimum or (strict and value == minimum)):
            self.bad(key, f"must be {'>' if strict else '>='} {minimum:g}, not {value!r}")
            return None
        return float(value)

    def months_table(
        self, value: Any, key: str, minimum: float | None = None, strict: bool = False
    ) -> dict[float, float] | None:
        if not isinstance(value, Mapping) or not value:
            self.bad(key, "must be a non-empty table of month = value (e.g. { 3 = -1.1, 6 = -3.2 })")
            return None
        out = {}
        for month, v in value.items():
            try:
                m = float(month)
            except ValueError:
                m = float("nan")
            if not math.isfinite(m) or m < 0:
                self.bad(f"{key}.{month}", "month keys must be numbers >= 0")
                continue
            x = self.number(v, f"{key}.{month}", minimum, strict)
            if x is not None:
                out[m] = x
        return out

    def number_or_months(self, value: Any, key: str, minimum: float, strict: bool = False):
        if isinstance(value, Mapping):
            return self.months_table(value, key, minimum, strict)
        return self.number(value, key, minimum, strict)

    def months_list(self, value: Any, key: str) -> tuple[float, ...] | str | None:
        if value == "follow_up":
            return "follow_up"
        if not isinstance(value, list) or not value or not all(_is_num(v) and v >= 0 for v in value):
            self.bad(key, 'must be "follow_up" or a non-empty list of months >= 0')
            return None
        return tuple(sorted({float(v) for v in value}))


def _outcome(c: _Checker, name: str, t: Any) -> OutcomeParams | None:
    path = f"outcomes.{name}"
    if not isinstance(t, Mapping):
        c.bad(path, "must be a table")
        return None
    c.unknown(t, _OUTCOME_KEYS, f"{path}.")
    for req in ("mu", "control_mean", "sd"):
        if req not in t:
            c.bad(f"{path}.{req}", "is required")
    mu = c.months_table(t["mu"], f"{path}.mu") if "mu" in t else None
    if mu and 0.0 in mu:
        c.bad(f"{path}.mu.0", "month 0 is the baseline, where randomisation makes the effect 0; remove it")
    slopes: dict[str, float] = {}
    centres: dict[str, float] = {}
    for key, target in (("slopes", slopes), ("centres", centres)):
        table = t.get(key, {})
        if not isinstance(table, Mapping):
            c.bad(f"{path}.{key}", 'must be a table of "term" = number')
            continue
        for term, v in table.items():
            try:
                parse_term(term, f"{path}.{key}.{term}")
            except InputError as err:
                c.problems += [replace(p, file=c.file) for p in err.problems]
                continue
            if (x := c.number(v, f"{path}.{key}.{term}")) is not None:
                target[term] = x
    for term in set(centres) - set(slopes):
        c.bad(f"{path}.centres.{term}", "has no slope in slopes")
    lo, hi = t.get("scale_min"), t.get("scale_max")
    if (lo is None) != (hi is None):
        c.bad(f"{path}.scale_min", "give both scale_min and scale_max, or neither")
    elif lo is not None:
        lo, hi = c.number(lo, f"{path}.scale_min"), c.number(hi, f"{path}.scale_max")
        if lo is not None and hi is not None and lo >= hi:
            c.bad(f"{path}.scale_max", "must be greater than scale_min")
    return OutcomeParams(
        name=name,
        mu=mu or {},
        control_mean=c.months_table(t["control_mean"], f"{path}.control_mean") or {} if "control_mean" in t else {},
        sd=c.number_or_months(t["sd"], f"{path}.sd", 0.0, strict=True) if "sd" in t else 1.0,
        tau=c.number_or_months(t.get("tau", 0.0), f"{path}.tau", 0.0),
        sd_between=c.number(t.get("sd_between", 0.0), f"{path}.sd_between", 0.0) or 0.0,
        slopes=slopes,
        centres=centres,
        scale_min=lo,
        scale_max=hi,
        months=c.months_list(t["months"], f"{path}.months") if "months" in t else None,
    )


def _fill(c: _Checker, name: str, t: Any) -> CovariateFill | None:
    path = f"covariates.{name}"
    if not isinstance(t, Mapping) or t.get("dist") not in DISTS:
        c.bad(f"{path}.dist", f"must be one of {', '.join(DISTS)}")
        return None
    dist = t["dist"]
    required, optional = DISTS[dist]
    c.unknown(t, _FILL_KEYS | set(required) | set(optional), f"{path}.")
    args: dict[str, Any] = {}
    for key in required:
        if key not in t:
            c.bad(f"{path}.{key}", f"is required for dist = {dist!r}")
    for key in (k for k in required + optional if k in t and k != "columns"):
        v = t[key]
        if key in ("values", "p"):
            ok = isinstance(v, list) and v and all(_is_num(x) for x in v)
            if not ok or (key == "p" and (min(v) < 0 or abs(sum(v) - 1) > 1e-9)):
                c.bad(
                    f"{path}.{key}",
                    "must be a non-empty list of numbers" + (" >= 0 summing to 1" if key == "p" else ""),
                )
                continue
            args[key] = tuple(float(x) for x in v)
        elif (x := c.number(v, f"{path}.{key}", 0.0, strict=(key == "sd"))) is not None:
            args[key] = x
    if dist in ("uniform", "loguniform") and len(args) == 2 and not 0 <= args["low"] < args["high"]:
        c.bad(f"{path}.high", "must be greater than low")
    if dist == "loguniform" and args.get("low") == 0:
        c.bad(f"{path}.low", "must be > 0 for loguniform")
    columns = t.get("columns", [t.get("column", name)])
    if not isinstance(columns, list) or not columns or not all(isinstance(x, str) and x for x in columns):
        c.bad(f"{path}.columns", "must be a non-empty list of column names")
        columns = [name]
    if "p" in args and len(args["p"]) != len(args.get("values", columns)):
        c.bad(f"{path}.p", "must have one probability per " + ("value" if dist == "choice" else "column"))
    roles = t.get("roles", ["treatment", "control"])
    if not isinstance(roles, list) or not roles or not set(roles) <= {"treatment", "control"}:
        c.bad(f"{path}.roles", 'must be a list of "treatment" and/or "control"')
    per = t.get("per", "arm")
    if per not in ("arm", "study") or (dist == "multinomial" and per != "arm"):
        c.bad(f"{path}.per", '"arm" or "study" ("arm" only for multinomial counts)')
    decimals = t.get("decimals", 0 if dist == "multinomial" else 2)
    if not (isinstance(decimals, int) and not isinstance(decimals, bool) and 0 <= decimals <= 12):
        c.bad(f"{path}.decimals", "must be a whole number from 0 to 12")
    return CovariateFill(
        name=name,
        dist=dist,
        columns=tuple(columns),
        args=args,
        roles=tuple(roles) if isinstance(roles, list) else (),
        per=per,
        decimals=decimals,
    )


def params_from_mapping(data: Mapping[str, Any], file: str = "<params>", origin: str | None = None) -> SimulationParams:
    """Validate a parsed parameters mapping (the TOML's content) into :class:`SimulationParams`.

    Parameters
    ----------
    data : mapping
        The parsed TOML document.
    file : str
        Name used in error messages.
    origin : str, optional
        Name recorded in every simulated row's ``source`` (default: ``file``'s base name).

    Raises
    ------
    InputError
        Naming every bad key (``outcomes.vas.tau``, ...) and what is allowed.
    """
    c = _Checker(file)
    c.unknown(data, _TOP_KEYS, "")
    seed = data.get("seed")
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        c.bad("seed", "must be a whole number >= 0")
    months = c.months_list(data.get("months", "follow_up"), "months")
    baseline = data.get("baseline", True)
    if not isinstance(baseline, bool):
        c.bad("baseline", "must be true or false")
    effect = data.get("random_effect", "study")
    if effect not in ("study", "arm"):
        c.bad("random_effect", 'must be "study" or "arm"')
    decimals = data.get("decimals", 2)
    if not (isinstance(decimals, int) and not isinstance(decimals, bool) and 0 <= decimals <= 12):
        c.bad("decimals", "must be a whole number from 0 to 12")
    outcomes = data.get("outcomes")
    if not isinstance(outcomes, Mapping) or not outcomes:
        c.bad("outcomes", "at least one [outcomes.NAME] table is required")
        outcomes = {}
    covariates = data.get("covariates", {})
    if not isinstance(covariates, Mapping):
        c.bad("covariates", "must be a table of [covariates.NAME] tables")
        covariates = {}
    result = SimulationParams(
        outcomes=tuple(o for k, v in outcomes.items() if (o := _outcome(c, k, v)) is not None),
        seed=seed,
        months=months or "follow_up",
        baseline=baseline,
        random_effect=effect,
        decimals=decimals,
        covariates=tuple(f for k, v in covariates.items() if (f := _fill(c, k, v)) is not None),
        origin=origin or Path(file).name,
    )
    if c.problems:
        raise InputError(c.problems)
    return result


def load_params(path: str | Path) -> SimulationParams:
    """Read a simulation parameters TOML file (format in the module docstring).

    Raises
    ------
    InputError
        When the file is missing, is not valid TOML, or a key is unknown or bad (the
        problem names the key).
    """
    path = Path(path)
    try:
        text = read_text(path)  # a regular file of bounded size only: a pipe would hang
    except Unreadable as err:
        raise InputError(Problem(f"the parameters file {err.message}", file=str(path))) from err
    return params_from_text(text, file=str(path))


def params_from_text(text: str, file: str = "<params>", origin: str | None = None) -> SimulationParams:
    """Parse TOML text into :class:`SimulationParams` (see :func:`params_from_mapping`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(Problem(f"not valid TOML: {err}", file=file)) from err
    return params_from_mapping(data, file=file, origin=origin)

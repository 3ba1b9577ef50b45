"""Every public function's arguments checked at the door, by their annotations.

The functions of :mod:`bayes_msc.api` check their values (ranges, names, files) where the
work is; this wrapper adds the check of kind that a Python user meets first: a DataFrame,
a dict, a string or None where the annotation says a flag, a number, a name or a result
object gives an :class:`~bayes_msc.errors.InputError` naming the argument, before any
work, instead of an ``AttributeError`` or pandas' "truth value of a DataFrame is
ambiguous" from deep inside. Only annotations this module can read are checked: unions
of ``str``, ``bool``, ``int``, ``float``, ``None``, the package's result and data types,
``pd.DataFrame`` and ``Sequence[T]``/``list[T]`` of those; any other annotation (a path,
a mapping, ``Any``) is left to the function. numpy scalars count as the Python numbers
and booleans they stand for. A ``method`` (a frequentist estimator) is taken in any case,
as metafor spells them ("REML", "DL").
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable
from typing import Any

from bayes_msc.errors import InputError, Problem

_WORDS = {"str": "a string", "bool": "True or False", "int": "a whole number", "float": "a number"}


def _is_class_name(name: str) -> bool:
    import bayes_msc

    return name == "pd.DataFrame" or name in bayes_msc._TYPES  # the package's own re-exported types


def _class(name: str) -> type:
    if name == "pd.DataFrame":
        import pandas as pd

        return pd.DataFrame
    import bayes_msc

    found: type = getattr(bayes_msc, name)
    return found


def _bool(value: Any) -> bool:
    import numpy as np

    return isinstance(value, (bool, np.bool_))


def _all_of(name: str, value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(x, _class(name)) for x in value)


def _test(part: str) -> tuple[Callable[[Any], bool], str] | None:
    """A test of one member of a union, and its words; None when not readable."""
    if part == "str":
        return (lambda v: isinstance(v, str)), _WORDS[part]
    if part == "bool":
        return _bool, _WORDS[part]
    if part == "int":
        # a whole float (1e3) passes here: the function checks the value (whole, in range)
        return (lambda v: isinstance(v, numbers.Real) and not _bool(v)), _WORDS[part]
    if part == "float":
        return (lambda v: isinstance(v, numbers.Real) and not _bool(v)), _WORDS[part]
    if _is_class_name(part):
        return (lambda v: isinstance(v, _class(part))), f"a {part.rsplit('.', 1)[-1]}"
    for outer in ("Sequence[", "list["):
        if part.startswith(outer) and part.endswith("]") and _is_class_name(part[len(outer) : -1]):
            inner = part[len(outer) : -1]
            return functools.partial(_all_of, inner), f"a list of {inner.rsplit('.', 1)[-1]}"
    return None


def _rule(annotation: Any) -> tuple[list[Callable[[Any], bool]], str] | None:
    """The tests of an annotation (a string under ``from __future__ import annotations``)."""
    if not isinstance(annotation, str):
        return None
    parts = [p.strip() for p in annotation.split("|")]
    tests, words = [], []
    for part in parts:
        if part == "None":
            tests.append(lambda v: v is None)
            words.append("None")
            continue
        found = _test(part)
        if found is None:
            return None  # not readable: the function checks this argument itself
        tests.append(found[0])
        words.append(found[1])
    return tests, " or ".join(words)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 and "\n" not in text else f"a {type(value).__name__}"


def checked[F: Callable[..., Any]](func: F) -> F:
    """``func`` with its readable annotations checked before it runs (module docstring)."""
    signature = inspect.signature(func)
    rules = {
        name: rule
        for name, param in signature.parameters.items()
        if param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD) and (rule := _rule(param.annotation))
    }

    @functools.wraps(func)
    def door(*args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:  # a missing or unknown argument, in Python's own words
            raise TypeError(f"{func.__name__}(): {exc}") from None
        problems = []
        for name, value in bound.arguments.items():
            rule = rules.get(name)
            if rule is not None and not any(test(value) for test in rule[0]):
                problems.append(Problem(f"{name} must be {rule[1]}, not {_shown(value)}", argument=name))
        if problems:
            raise InputError(problems)
        if isinstance(bound.arguments.get("method"), str):
            # A frequentist estimator: metafor's names ("REML", "DL") in any case.
            bound.arguments["method"] = bound.arguments["method"].lower()
        return func(*bound.args, **bound.kwargs)

    return door  # type: ignore[return-value]

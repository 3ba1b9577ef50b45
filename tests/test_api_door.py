"""The public functions check the kinds of their arguments at the door (api/door.py)."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

import bayes_msc as bm
import bayes_msc.api as api
from bayes_msc.api.door import _rule
from bayes_msc.errors import InputError

CHECKED = [
    (name, param)
    for name in api.__all__
    for param, p in inspect.signature(getattr(api, name)).parameters.items()
    if (rule := _rule(p.annotation)) is not None and not any(test(pd.DataFrame()) for test in rule[0])
]


def test_most_public_arguments_are_checked() -> None:
    # The rule reader must understand the annotations in use (a reader that read none
    # would make the next test vacuous).
    assert len(CHECKED) >= 60, len(CHECKED)
    assert {"pool", "fit", "plot_forest", "trimfill", "cumulative"} <= {n for n, _ in CHECKED}


@pytest.mark.parametrize(("name", "param"), CHECKED)
def test_a_dataframe_where_the_annotation_says_otherwise_is_refused_by_name(name: str, param: str) -> None:
    func = getattr(bm, name)
    params = inspect.signature(func).parameters
    required = {k: object() for k, p in params.items() if p.default is p.empty and p.kind == p.POSITIONAL_OR_KEYWORD}
    given = {**required, param: pd.DataFrame({"a": [1, 2]})}
    with pytest.raises(InputError) as info:
        func(**given)
    problems = {p.argument: p.message for p in info.value.problems}
    assert param in problems, problems
    assert "DataFrame" in problems[param] and param in problems[param]


def test_numpy_scalars_pass_the_door() -> None:
    eff = bm.effect_table(bm.read_dataset("data/msc_knee_oa_simulated"), "vas", np.int64(6))
    a = bm.pool(eff, method=np.str_("reml"), hksj=np.bool_(True), level=np.float64(0.95))
    b = bm.pool(eff, method="reml", hksj=True, level=0.95)
    assert a.to_dict() == b.to_dict()


def test_the_wrapped_functions_keep_their_names_and_docs() -> None:
    assert bm.fit.__name__ == "fit" and "Parameters" in (bm.fit.__doc__ or "")
    assert inspect.signature(bm.pool).parameters["method"].default == "dl"

"""Proposed tests/test_effects_fast.py: the fast paths of the effect tables keep numpy's and pandas' rules."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_msc.data.cells import same_scale
from bayes_msc.data.conversions import STAT_INPUTS, mean_sd_arrays, to_mean_sd
from bayes_msc.data.effects import arm_table, effect_table
from bayes_msc.data.reader import read_dataset

SIMULATED = Path(__file__).resolve().parents[1] / "data" / "msc_knee_oa_simulated"


def test_same_scale_is_numpy_allclose_with_equal_nan():
    vals = [0.0, -0.0, 1.0, 1.0 + 1e-9, 1.0 + 2e-5, 10.0, 10.0001, 1e-8, 2e-8, np.nan, np.inf, -np.inf]
    for a in itertools.product(vals, repeat=2):
        for b in itertools.product(vals, repeat=2):
            with np.errstate(all="ignore"):
                assert same_scale(a, b) == bool(np.allclose(a, b, equal_nan=True)), (a, b)


def test_mean_sd_arrays_on_a_subset_equals_to_mean_sd():
    out = read_dataset(SIMULATED).outcomes
    whole = to_mean_sd(out)
    rows = np.arange(0, len(out), 3)
    col = {c: out[c].to_numpy(dtype=float)[rows] for c in STAT_INPUTS}
    mean, sd, text = mean_sd_arrays(
        out["stat_group"].to_numpy(dtype=object)[rows], out["n"].to_numpy(dtype=float)[rows], col
    )
    np.testing.assert_array_equal(mean, whole["mean_used"].to_numpy()[rows])
    np.testing.assert_array_equal(sd, whole["sd_used"].to_numpy()[rows])
    assert text == whole["conversion"].iloc[rows].tolist()


def test_tables_do_not_depend_on_the_text_dtype_of_the_frames():
    ds = read_dataset(SIMULATED)
    obj = lambda f: f if f is None else f.astype({c: object for c in f.columns if f[c].dtype == "str"})  # noqa: E731
    ds_obj = dataclasses.replace(ds, arms=obj(ds.arms), outcomes=obj(ds.outcomes), studies=obj(ds.studies))
    assert (ds_obj.outcomes["study"].dtype == object) and ds.outcomes["study"].dtype != object
    for multiarm in ("split", "shared"):
        a, b = effect_table(ds, "vas", 12, multiarm=multiarm), effect_table(ds_obj, "vas", 12, multiarm=multiarm)
        pd.testing.assert_frame_equal(a.data, b.data, check_dtype=False)
        np.testing.assert_array_equal(a.vcov, b.vcov)
        assert (a.missing, a.notes) == (b.missing, b.notes)
    a, b = arm_table(ds, "vas", 12), arm_table(ds_obj, "vas", 12)
    pd.testing.assert_frame_equal(a.data, b.data, check_dtype=False)
    assert (a.missing, a.notes) == (b.missing, b.notes)

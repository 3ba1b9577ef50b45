"""Posterior files of either engine (bayes_msc.bayes.saved): ``fit(save=)`` / ``fit --save``
write a netCDF file that ``arviz.from_netcdf`` loads with every group, and
``bm.load_result`` gives back the result whose summaries are those printed, number for
number. (The MCMC engine's save and load: tests/test_bayes_models.py and test_fit_cli.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayes_msc as bm
from bayes_msc.bayes.fit import fit
from bayes_msc.bayes.saved import DERIVED_DIGITS, load_result, save_datatree
from bayes_msc.cli.main import main
from bayes_msc.errors import InputError
from bayes_msc.results.serialise import to_json

SIMULATED = Path(__file__).resolve().parents[1] / "data" / "msc_knee_oa_simulated"
GROUPS = {
    "posterior",
    "sample_stats",
    "log_likelihood",
    "log_prior",
    "prior",
    "posterior_predictive",
    "observed_data",
    "constant_data",
}


@pytest.fixture(scope="module")
def vas12():
    return bm.effect_table(SIMULATED, "vas", 12)


def _same(a, b) -> None:
    """Every summary a user sees: the table, the JSON and the printed text."""
    pd.testing.assert_frame_equal(a.summary(), b.summary())
    pd.testing.assert_frame_equal(a.parameters, b.parameters)
    assert a.probabilities == b.probabilities and a.verdict == b.verdict
    assert to_json(a.to_dict()) == to_json(b.to_dict())
    assert str(a) == str(b)


@pytest.mark.parametrize("model", ["re", "arm"])
def test_exact_fit_saves_and_loads_the_same_result(vas12, tmp_path, model):
    data = vas12 if model == "re" else bm.arm_table(SIMULATED, "vas", 12)
    path = tmp_path / "exact.nc"
    res = fit(data, model=model, covariates=["age_mean"], covariate_at={"age_mean": 60}, mcid=-19.9, save=path)
    assert res.engine == "exact" and sorted(p.name for p in tmp_path.iterdir()) == ["exact.nc"]
    back = bm.load_result(path)
    _same(back, res)
    assert back.covariate_at == {"age_mean": 60.0} and back.covariate_at_given == ("age_mean",)
    assert back.prior_set == res.prior_set and back.densities is None
    assert set(back.idata.children) == GROUPS
    np.testing.assert_array_equal(back.draws_of("mu"), res.draws_of("mu").astype(np.float32))


def test_arviz_reads_every_group_and_the_stored_precision(vas12, tmp_path):
    import arviz as az

    path = tmp_path / "p.nc"
    res = fit(vas12, save=path, seed=2)
    tree = az.from_netcdf(path)
    assert set(tree.children) == GROUPS
    assert json.loads(tree.attrs["result"]) == json.loads(to_json(res.to_dict()))
    assert json.loads(tree.attrs["prior_set"]) == res.prior_spec
    assert json.loads(tree.attrs["options"])["engine"] == "exact"
    # posterior draws as float32 (7 digits); derived groups rounded to DERIVED_DIGITS digits
    post, ll = tree.posterior["theta"].values, tree.log_likelihood["y"].values
    assert post.dtype == np.float32 and ll.dtype == np.float32
    np.testing.assert_allclose(post, res.idata.posterior["theta"].values, rtol=1e-7)
    np.testing.assert_allclose(ll, res.idata.log_likelihood["y"].values, rtol=10.0 ** (1 - DERIVED_DIGITS))
    assert not tree.sample_stats["diverging"].values.any()


def test_cli_saves_either_engine(capsys, tmp_path):
    """``fit --engine exact --save`` writes a file ArviZ loads with every group; the MCMC
    engine's ``--save`` is tested in tests/test_fit_cli.py (with its sampling settings)."""
    import arviz as az

    target = tmp_path / "x.nc"
    cell = [str(SIMULATED), "--outcome", "vas", "--month", "12"]
    assert main(["fit", *cell, "--engine", "exact", "--save", str(target), "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(az.from_netcdf(target).children) == GROUPS
    assert bm.load_result(target).to_dict() == printed


def test_load_result_refuses_what_it_cannot_read(tmp_path, vas12):
    with pytest.raises(InputError, match="posterior file not found"):
        load_result(tmp_path / "missing.nc")
    junk = tmp_path / "junk.nc"
    junk.write_text("not netCDF", encoding="utf-8")
    with pytest.raises(InputError, match="not a netCDF posterior file"):
        load_result(junk)
    tree = fit(vas12).idata.copy()
    tree.attrs.pop("result")
    other = tmp_path / "other.nc"
    save_datatree(tree, other)
    with pytest.raises(InputError, match="not a posterior file written by bayes-msc"):
        load_result(other)

"""`pm.compute_deterministics`: deterministics recomputed at given draws, as PyMC's."""

import warnings

import numpy as np
import pytest

import jaxmc as pm
from jaxmc import convert

C, D = 2, 10


def _model(lib):
    with lib.Model(coords={"group": [0, 2, 4]}) as model:
        x = lib.Data("x", np.array([1.0, 2.0, 3.0]), dims="group")
        mu_raw = lib.Normal("mu_raw", 0, 1, dims="group")
        lib.Deterministic("mu", mu_raw.cumsum(), dims="group")
        lib.Deterministic("scaled", (mu_raw * x).sum())
    return model


@pytest.fixture(scope="module")
def idata():
    draws = {"mu_raw": np.random.default_rng(0).normal(size=(C, D, 3))}
    return convert.to_inference_data(_model(pm), {"posterior": draws})


def test_values_and_dims(idata):
    post = convert.group_dataset(idata, "posterior")
    out = pm.compute_deterministics(post, model=_model(pm), progressbar=False)
    raw = post["mu_raw"].values
    np.testing.assert_allclose(out["mu"].values, raw.cumsum(-1))
    np.testing.assert_allclose(out["scaled"].values, (raw * [1.0, 2.0, 3.0]).sum(-1))
    assert out["mu"].dims == ("chain", "draw", "group") and list(out["group"].values) == [0, 2, 4]
    only = pm.compute_deterministics(post, model=_model(pm), var_names=["scaled"])
    assert set(only.data_vars) == {"scaled"}


def test_equals_pymc(idata):
    pymc = pytest.importorskip("pymc")
    post = convert.group_dataset(idata, "posterior")
    ours = pm.compute_deterministics(post, model=_model(pm), progressbar=False)
    theirs = pymc.compute_deterministics(post, model=_model(pymc), progressbar=False)
    for name in ("mu", "scaled"):
        assert ours[name].dims == theirs[name].dims
        np.testing.assert_allclose(ours[name].values, theirs[name].values, rtol=1e-12)


def test_merge_extend_group_and_errors(idata):
    model = _model(pm)
    post = convert.group_dataset(idata, "posterior")
    with pytest.warns(FutureWarning, match="extend_dataset"):
        merged = pm.compute_deterministics(post, model=model, merge_dataset=True)
    assert set(merged.data_vars) == {"mu_raw", "mu", "scaled"}
    whole = idata.copy()
    back = pm.compute_deterministics(whole, model=model, extend_dataset=True)
    assert back is whole and "mu" in convert.group_dataset(whole, "posterior")
    with pytest.raises(ValueError, match="cannot be combined"):
        pm.compute_deterministics(post, model=model, merge_dataset=True, extend_dataset=True)
    with pytest.raises(ValueError, match="deterministics"):
        pm.compute_deterministics(post, model=model, var_names=["mu_raw"])
    with pytest.raises(ValueError, match="no group 'prior'"):
        pm.compute_deterministics(idata, model=model, group="prior")
    with pytest.raises(ValueError, match="group"), warnings.catch_warnings():
        pm.compute_deterministics(post, model=model, group="posterior")

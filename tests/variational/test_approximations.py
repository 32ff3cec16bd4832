"""Approximations: draws as ArviZ data with coords and deterministics, sample_node / rslice, Empirical from a
trace, start= and start_sigma=."""

import numpy as np
import pytest

import jaxmc as pm
from tests.variational.helpers import conjugate, regression


def test_sample_has_the_models_coords_dims_and_deterministics():
    model = regression()
    with model:
        approx = pm.fit(2000, random_seed=1, progressbar=False, obj_optimizer=pm.adam(learning_rate=0.05))
    idata = approx.sample(100, random_seed=3)
    post = idata.posterior
    assert post["b"].dims == ("chain", "draw", "k") and list(post["k"].values) == ["x0", "x1", "x2"]
    np.testing.assert_allclose(post["mu0"].values, post["a"].values + post["b"].values[..., 0], rtol=1e-6)
    assert (post["s"].values > 0).all()
    assert "observed_data" in idata
    again = approx.sample(100, random_seed=3)
    np.testing.assert_array_equal(again.posterior["a"].values, post["a"].values)
    with model:
        trace = pm.sample_approx(approx, draws=100)
    assert "s_log__" in trace.posterior
    assert approx.sample(100, return_inferencedata=False)["a"].shape == (100,)


def test_sample_node_and_rslice():
    with regression() as model:
        approx = pm.fit(3000, random_seed=1, progressbar=False, obj_optimizer=pm.adam(learning_rate=0.05))
    s = model["s"]
    draws = approx.sample_node(s**2, size=2000).eval(random_seed=1)
    assert draws.shape == (2000,) and (draws > 0).all()
    log_s = np.log(np.sqrt(draws))
    assert log_s.mean() == pytest.approx(approx.mean.eval()[-1], abs=0.01)
    assert log_s.std() == pytest.approx(approx.std.eval()[-1], rel=0.1)
    assert approx.sample_node(model["b"]).eval().shape == (3,)
    assert approx.rslice("s").eval().shape == ()
    with pytest.raises(KeyError, match="no free variable"):
        approx.rslice("nope")


def test_empirical_from_a_trace():
    with conjugate() as model:
        idata = pm.sample(draws=200, tune=200, chains=2, random_seed=1, progressbar=False)
        approx = pm.Empirical(idata)
    assert approx.vparams["histogram"].shape == (400, 1)
    assert approx.mean.eval()[0] == pytest.approx(float(idata.posterior["mu"].mean()), rel=1e-6)
    assert model is approx.model


def test_start_and_start_sigma():
    with regression():
        inference = pm.ADVI(start={"s": 2.0, "a": 0.5}, start_sigma={"a": 0.3, "s_log__": 0.1})
    mean, std = inference.approx.mean.eval(), inference.approx.std.eval()
    assert mean[0] == pytest.approx(0.5) and mean[-1] == pytest.approx(np.log(2.0))
    assert std[0] == pytest.approx(0.3) and std[-1] == pytest.approx(0.1) and std[1] == pytest.approx(np.log(2))

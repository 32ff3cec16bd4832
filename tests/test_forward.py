"""Prior and posterior predictive sampling: groups, PyMC's re-draw rules, no recompilation on set_data."""

import warnings

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.convert import group_names
from jaxmc.compile import TRACE_COUNT


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    x = rng.normal(size=30)
    y = 1.0 + 2.0 * x + rng.normal(size=30) * 0.5
    with pm.Model(coords={"obs": np.arange(30)}) as model:
        xd = pm.Data("x", x, dims="obs")
        yd = pm.Data("y", y, dims="obs")
        a = pm.Normal("a", 0, 5)
        b = pm.Normal("b", 0, 5)
        s = pm.HalfNormal("s", 1)
        mu = pm.Deterministic("mu", a + b * xd, dims="obs")
        pm.Normal("lik", mu, s, observed=yd, dims="obs")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = pm.sample(draws=300, tune=300, chains=2, progressbar=False, random_seed=1)
    return model, idata, x


def test_prior_predictive_groups_and_moments():
    with pm.Model(coords={"obs": range(4)}) as model:
        a = pm.Normal("a", 1.0, 2.0)
        pm.Deterministic("twice", 2 * a)
        pm.Normal("y", a, 1.0, observed=np.zeros(4), dims="obs")
        prior = pm.sample_prior_predictive(draws=4000, random_seed=3)
    assert set(group_names(prior)) == {"prior", "prior_predictive", "observed_data"}
    assert prior.prior["a"].shape == (1, 4000) and prior.prior_predictive["y"].dims == ("chain", "draw", "obs")
    np.testing.assert_allclose(prior.prior["twice"].values, 2 * prior.prior["a"].values)
    assert abs(float(prior.prior["a"].mean()) - 1.0) < 4 * 2 / np.sqrt(4000)
    assert abs(float(prior.prior_predictive["y"].var()) - 5.0) < 0.4


def test_posterior_predictive_uses_trace_values(fitted):
    model, idata, x = fitted
    with model:
        pp = pm.sample_posterior_predictive(idata, random_seed=2, progressbar=False)
    sim = pp.posterior_predictive["lik"].values
    assert sim.shape == (2, 300, 30)
    resid = sim - idata.posterior["mu"].values
    # residuals scale with each draw's sigma: standardized, they are N(0, 1)
    z = resid / idata.posterior["s"].values[..., None]
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05


def test_predictions_after_set_data_and_no_recompilation(fitted):
    model, idata, _ = fitted
    rng = np.random.default_rng(5)
    x_new = np.array([-1.0, 0.0, 2.0])
    with model:
        pm.set_data({"x": x_new, "y": np.zeros(3)}, coords={"obs": ["p", "q", "r"]})
        pred = pm.sample_posterior_predictive(idata, predictions=True, random_seed=1, progressbar=False)
        assert list(pred.predictions["lik"].obs.values) == ["p", "q", "r"]
        np.testing.assert_array_equal(pred.predictions_constant_data["x"].values, x_new)
        a, b = idata.posterior["a"].values, idata.posterior["b"].values
        expected = (a[..., None] + b[..., None] * x_new).mean((0, 1))
        np.testing.assert_allclose(pred.predictions["lik"].values.mean((0, 1)), expected, atol=0.1)
        before = TRACE_COUNT["forward"]
        for _ in range(100):
            pm.set_data({"x": rng.normal(size=3), "y": np.zeros(3)}, coords={"obs": ["p", "q", "r"]})
            pm.sample_posterior_predictive(idata, predictions=True, progressbar=False)
        assert TRACE_COUNT["forward"] == before
        pm.set_data({"x": np.zeros(7), "y": np.zeros(7)}, coords={"obs": list("abcdefg")})
        sampler_before = TRACE_COUNT["logp"]
        pred = pm.sample_posterior_predictive(idata, predictions=True, progressbar=False)
        assert pred.predictions["lik"].shape == (2, 300, 7)
        # a new length re-traces the forward function only (not the sampler's log density)
        assert TRACE_COUNT["forward"] == before + 1 and TRACE_COUNT["logp"] == sampler_before


def test_volatile_free_variable_is_redrawn():
    """A free variable depending on changed data is re-drawn (PyMC's rule); others come from the trace."""
    with pm.Model() as model:
        scale = pm.Data("scale", np.array(1.0))
        a = pm.Normal("a", 0, 1)
        z = pm.Normal("z", a, scale)
        pm.Normal("y", z, 1, observed=np.array([0.5]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = pm.sample(draws=200, tune=200, chains=2, progressbar=False, random_seed=1)
        same = pm.sample_posterior_predictive(idata, var_names=["z"], progressbar=False)
        np.testing.assert_array_equal(same.posterior_predictive["z"].values, idata.posterior["z"].values)
        pm.set_data({"scale": np.array(100.0)})
        moved = pm.sample_posterior_predictive(idata, var_names=["z"], progressbar=False)
        assert float(moved.posterior_predictive["z"].std()) > 30


def test_extend_inferencedata_and_log_likelihood(fitted):
    model, idata, _ = fitted
    with model:
        pm.set_data({"x": np.linspace(-1, 1, 30), "y": np.zeros(30)}, coords={"obs": np.arange(30)})
        out = pm.sample_posterior_predictive(idata.copy(), extend_inferencedata=True, progressbar=False)
    assert {"posterior_predictive", "posterior"} <= set(group_names(out))

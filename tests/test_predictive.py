"""Prior and posterior predictive sampling: groups, PyMC 6's re-draw rules, no recompilation on set_data."""

import warnings

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.convert import group_names
from jaxmc.exceptions import ImplicitFreezeWarning


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


def test_predictions_after_set_data_and_no_recompilation(fitted, traces):
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
        before = traces["forward"]
        for _ in range(100):
            pm.set_data({"x": rng.normal(size=3), "y": np.zeros(3)}, coords={"obs": ["p", "q", "r"]})
            pm.sample_posterior_predictive(idata, predictions=True, progressbar=False)
        assert traces["forward"] == before
        pm.set_data({"x": np.zeros(7), "y": np.zeros(7)}, coords={"obs": list("abcdefg")})
        sampler_before = traces["logp"]
        pred = pm.sample_posterior_predictive(idata, predictions=True, progressbar=False)
        assert pred.predictions["lik"].shape == (2, 300, 7)
        # a new length re-traces the forward function only (not the sampler's log density)
        assert traces["forward"] == before + 1 and traces["logp"] == sampler_before


def test_changed_data_freezes_trace_variables_unless_sampled(traces):
    """PyMC 6's rule: a trace variable depending on changed data keeps its trace values (ImplicitFreezeWarning);
    sample_vars re-draws it, freeze_vars keeps it silently; new data of the same shape does not re-trace."""
    with pm.Model() as model:
        scale = pm.Data("scale", np.array(1.0))
        a = pm.Normal("a", 0, 1)
        z = pm.Normal("z", a, scale)
        pm.Normal("y", z, 1, observed=np.array([0.5]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = pm.sample(draws=200, tune=200, chains=2, progressbar=False, random_seed=1)
        trace_z = idata.posterior["z"].values
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            same = pm.sample_posterior_predictive(idata, var_names="z", progressbar=False)  # nothing changed
        assert not [w for w in caught if issubclass(w.category, ImplicitFreezeWarning)]
        np.testing.assert_array_equal(same.posterior_predictive["z"].values, trace_z)
        pm.set_data({"scale": np.array(100.0)})
        with pytest.warns(ImplicitFreezeWarning, match=r"'z' \(upstream Data/coords changed \(scale\)\)"):
            kept = pm.sample_posterior_predictive(idata, var_names=["z"], progressbar=False)
        np.testing.assert_array_equal(kept.posterior_predictive["z"].values, trace_z)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frozen = pm.sample_posterior_predictive(idata, var_names=["z", "y"], freeze_vars="z", progressbar=False)
            moved = pm.sample_posterior_predictive(idata, var_names=["z", "y"], sample_vars=["z"], progressbar=False)
        assert not [w for w in caught if issubclass(w.category, ImplicitFreezeWarning)]
        np.testing.assert_array_equal(frozen.posterior_predictive["z"].values, trace_z)
        assert float(frozen.posterior_predictive["y"].std()) < 10
        resid = moved.posterior_predictive["z"].values - idata.posterior["a"].values  # z | a ~ N(a, 100)
        assert 90 < resid.std() < 110 and float(moved.posterior_predictive["y"].std()) > 90
        before = traces["forward"]
        for s in (50.0, 200.0):
            pm.set_data({"scale": np.array(s)})
            pm.sample_posterior_predictive(idata, var_names=["z", "y"], sample_vars=["z"], progressbar=False)
        assert traces["forward"] == before


def test_outputs_copied_from_the_trace_need_no_program(fitted, traces):
    model, idata, _ = fitted
    with model:
        pm.set_data({"x": idata.constant_data["x"].values, "y": idata.observed_data["lik"].values},
                    coords={"obs": np.arange(30)})
        before = traces["forward"]
        out = pm.sample_posterior_predictive(idata, var_names=["a", "mu"], return_inferencedata=False,
                                            progressbar=False)
        assert traces["forward"] == before
    np.testing.assert_array_equal(out["a"], idata.posterior["a"].values)
    np.testing.assert_array_equal(out["mu"], idata.posterior["mu"].values)


def test_extend_inferencedata_and_log_likelihood(fitted):
    model, idata, _ = fitted
    with model:
        pm.set_data({"x": np.linspace(-1, 1, 30), "y": np.zeros(30)}, coords={"obs": np.arange(30)})
        out = pm.sample_posterior_predictive(idata.copy(), extend_inferencedata=True, progressbar=False)
    assert {"posterior_predictive", "posterior"} <= set(group_names(out))

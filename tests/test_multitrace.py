"""`pm.sample(return_inferencedata=False)`: PyMC's MultiTrace interface, and `pm.to_inference_data` of it."""

import pickle

import numpy as np
import pytest

import jaxmc as pm
from jaxmc import convert
from jaxmc.multitrace import MultiTrace

C, T, D = 2, 30, 20


@pytest.fixture(scope="module")
def model():
    with pm.Model(coords={"obs": range(5)}) as m:
        mu = pm.Normal("mu", 0, 1)
        sigma = pm.HalfNormal("sigma", 1)
        pm.Deterministic("mu2", 2 * mu)
        pm.Normal("y", mu, sigma, observed=np.linspace(-1, 1, 5), dims="obs")
    return m


@pytest.fixture(scope="module")
def traces(model):
    kwargs = dict(draws=D, tune=T, chains=C, random_seed=1, progressbar=False, compute_convergence_checks=False,
                  model=model)
    kept = pm.sample(return_inferencedata=False, discard_tuned_samples=False, **kwargs)
    return pm.sample(return_inferencedata=False, **kwargs), kept, pm.sample(**kwargs)


def test_values_as_pymc(traces):
    trace, _, idata = traces
    assert isinstance(trace, MultiTrace)
    assert repr(trace) == f"<MultiTrace: {C} chains, {D} iterations, 3 variables>"
    assert len(trace) == D and trace.nchains == C and trace.chains == [0, 1]
    assert trace.varnames == ["mu", "sigma", "mu2"]
    post = np.asarray(convert.group_dataset(idata, "posterior")["mu"].values)  # the same seed: the same draws
    np.testing.assert_array_equal(trace["mu"], post.reshape(-1))
    np.testing.assert_array_equal(trace.mu, trace["mu"])
    np.testing.assert_array_equal(trace.get_values("mu", chains=1), post[1])
    np.testing.assert_array_equal(trace.get_values("mu", chains=[1, 0]), np.concatenate([post[1], post[0]]))
    parts = trace.get_values("mu", combine=False)
    assert isinstance(parts, list) and len(parts) == C and parts[0].shape == (D,)
    np.testing.assert_array_equal(trace.get_values("mu", burn=5, thin=3, chains=0), post[0, 5::3])
    np.testing.assert_array_equal(trace["mu", 5::3], np.concatenate([post[0, 5::3], post[1, 5::3]]))
    assert trace.get_values("mu", chains=0, squeeze=False)[0].shape == (D,)
    point = trace.point(3, chain=0)
    assert set(point) == {"mu", "sigma", "mu2"} and point["mu"] == post[0, 3]
    assert trace[3]["mu"] == post[1, 3]  # the last chain, as PyMC
    sliced = trace[5:]
    assert isinstance(sliced, MultiTrace) and len(sliced) == D - 5
    np.testing.assert_array_equal(sliced.get_values("mu", chains=0), post[0, 5:])
    assert len(list(trace.points())) == C * D


def test_sampler_stats_as_pymc(traces):
    trace, _, idata = traces
    assert {"diverging", "depth", "tree_depth", "model_logp", "lp", "step_size"} <= trace.stat_names
    stats = convert.group_dataset(idata, "sample_stats")
    np.testing.assert_array_equal(trace.get_sampler_stats("depth"), stats["tree_depth"].values.reshape(-1))
    per_chain = trace.get_sampler_stats("diverging", combine=False)
    assert len(per_chain) == C and per_chain[0].dtype == bool
    np.testing.assert_array_equal(trace["lp"], trace.get_sampler_stats("model_logp"))


def test_errors_name_what_there_is(traces):
    trace = traces[0]
    with pytest.raises(KeyError, match="sigma"):
        trace["nope"]
    with pytest.raises(KeyError, match="Unknown sampler statistic"):
        trace.get_sampler_stats("nope")
    with pytest.raises(ValueError, match="no chain"):
        trace.get_values("mu", chains=7)
    with pytest.raises(AttributeError):
        trace.nope
    with pytest.raises(NotImplementedError):
        iter(trace)


def test_tuning_kept_and_pickled(traces):
    _, kept, _ = traces
    assert len(kept) == T + D and kept.report.n_tune == T and kept.report.n_draws == D
    again = pickle.loads(pickle.dumps(kept))
    np.testing.assert_array_equal(again["mu"], kept["mu"])


def test_to_inference_data(model, traces):
    trace, kept, idata = traces
    new = pm.to_inference_data(trace, log_likelihood=True, log_prior=True)
    groups = set(convert.group_names(new))
    assert {"posterior", "sample_stats", "observed_data", "log_likelihood", "log_prior"} <= groups
    for name in ("mu", "sigma", "mu2"):
        np.testing.assert_array_equal(convert.group_dataset(new, "posterior")[name].values,
                                      convert.group_dataset(idata, "posterior")[name].values)
    assert convert.group_dataset(new, "log_likelihood")["y"].dims == ("chain", "draw", "obs")
    warm = pm.to_inference_data(kept, save_warmup=True)
    assert convert.group_dataset(warm, "warmup_posterior")["mu"].shape == (C, T)
    assert convert.group_dataset(warm, "posterior")["mu"].shape == (C, D)
    assert "warmup_posterior" not in convert.group_names(pm.to_inference_data(kept))
    with model:
        prior = pm.sample_prior_predictive(draws=7, random_seed=1, return_inferencedata=False)
    both = pm.to_inference_data(trace, prior={k: v[0] for k, v in prior.items()})  # PyMC's (draw, ...) prior
    assert convert.group_dataset(both, "prior")["mu"].shape == (1, 7)
    assert convert.group_dataset(both, "prior_predictive")["y"].dims == ("chain", "draw", "obs")
    with pytest.raises(TypeError, match="MultiTrace"):
        pm.to_inference_data(idata)


def test_predictions_to_inference_data(model, traces):
    _, _, idata = traces
    preds = {"y": np.zeros((C, D, 5))}
    out = pm.predictions_to_inference_data(preds, model=model)
    assert convert.group_dataset(out, "predictions")["y"].dims == ("chain", "draw", "obs")
    both = pm.predictions_to_inference_data(preds, model=model, idata_orig=idata)
    assert {"posterior", "predictions"} <= set(convert.group_names(both))
    assert "predictions" not in convert.group_names(idata)

"""PyMC's predictive semantics: the trace forms PyMC accepts (a posterior Dataset or DataTree group, a MultiTrace, a
list of points, and a dict of arrays), predictions for new rows while observed data keep their length, and imputed
variables of a rebuilt model with another number of missing values."""

import warnings

import numpy as np
import pytest

import jaxmc as pm
from jaxmc import convert
from jaxmc.multitrace import MultiTrace

C, D = 2, 40
RNG = np.random.default_rng(0)
X = RNG.normal(size=10)
Y = 1.0 + 2.0 * X + 0.1 * RNG.normal(size=10)
X_NEW = np.array([0.0, 1.0, 2.0])


def _posterior_draws():
    """A posterior of (a, b) by hand (no sampling): the least-squares fit and its scatter."""
    rng = np.random.default_rng(1)
    return {"a": 1.0 + 0.03 * rng.normal(size=(C, D)), "b": 2.0 + 0.03 * rng.normal(size=(C, D))}


def _regression(pm, dims=True):
    coords = {"obs": list(range(10))} if dims else None
    with pm.Model(coords=coords) as model:
        x = pm.Data("X", X, dims="obs" if dims else None)
        y = pm.Data("Y", Y, dims="obs" if dims else None)
        a = pm.Normal("a", 0, 10)
        b = pm.Normal("b", 0, 10)
        pm.Normal("lik", a + b * x, 0.1, observed=y, dims="obs" if dims else None)
    return model


@pytest.fixture(scope="module")
def fitted():
    model = _regression(pm)
    groups = {"posterior": _posterior_draws(), "observed_data": convert.observed_data(model),
              "constant_data": convert.constant_data(model)}
    return model, convert.to_inference_data(model, groups)


def _predict(model, trace, **kwargs):
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm.sample_posterior_predictive(trace, random_seed=5, progressbar=False, return_inferencedata=False,
                                              **kwargs)


# ---------------------------------------------------------------------------------------- 1. trace forms
def test_every_trace_form_gives_the_same_draws(fitted):
    model, idata = fitted
    post = convert.group_dataset(idata, "posterior")
    draws = {k: np.asarray(post[k].values) for k in ("a", "b")}
    group = idata["posterior"] if convert.arviz_major() >= 1 else idata.posterior  # a DataTree node on ArviZ 1
    expected = _predict(model, idata)["lik"]
    assert expected.shape == (C, D, 10)
    for trace in (post, group, draws, MultiTrace(draws, model=model)):
        np.testing.assert_array_equal(_predict(model, trace)["lik"], expected)
    points = [{k: v[0, i] for k, v in draws.items()} for i in range(D)]  # PyMC's list of points: one chain
    np.testing.assert_array_equal(_predict(model, points)["lik"], expected[:1])
    single_chain = {k: v[0] for k, v in draws.items()}  # (draw,) arrays: one chain
    assert _predict(model, single_chain)["lik"].shape == (1, D, 10)


def test_dataset_trace_returns_arviz_data_and_keeps_its_draw_labels(fitted):
    model, idata = fitted
    post = convert.group_dataset(idata, "posterior").isel(draw=slice(10, 20))
    with model:
        pp = pm.sample_posterior_predictive(post, random_seed=1, progressbar=False, extend_inferencedata=True)
    assert "posterior_predictive" in convert.group_names(pp)  # a Dataset cannot be extended: new ArviZ data
    lik = convert.group_dataset(pp, "posterior_predictive")["lik"]
    assert lik.dims == ("chain", "draw", "obs") and list(lik["draw"].values) == list(range(10, 20))


def test_sample_dims_of_a_stacked_posterior(fitted):
    model, idata = fitted
    stacked = convert.group_dataset(idata, "posterior").stack(sample=("chain", "draw"))
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp = pm.sample_posterior_predictive(stacked, sample_dims=["sample"], random_seed=1, progressbar=False)
    assert convert.group_dataset(pp, "posterior_predictive")["lik"].dims == ("sample", "obs")
    with pytest.raises(ValueError, match="no dim"):
        _predict(model, stacked)  # default (chain, draw) is not there: the error says to pass sample_dims


def test_unsupported_trace_names_what_is_accepted(fitted):
    model, _ = fitted
    with pytest.raises(TypeError, match="MultiTrace"):
        _predict(model, 3.0)
    with pytest.raises(ValueError, match="shape"):
        _predict(model, {"a": np.zeros((2, 3, 4, 5)), "b": np.zeros((2, 3))})


def test_dataset_trace_matches_pymc():
    pymc = pytest.importorskip("pymc")
    draws = _posterior_draws()
    out = {}
    for lib in (pm, pymc):
        model = _regression(lib)
        post = convert.group_dataset(convert.to_inference_data(model, {"posterior": draws}), "posterior")
        with model, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = lib.sample_posterior_predictive(post, random_seed=1, progressbar=False)
        out[lib.__name__] = convert.group_dataset(res, "posterior_predictive")["lik"]
    assert out["jaxmc"].dims == out["pymc"].dims and out["jaxmc"].shape == out["pymc"].shape
    np.testing.assert_allclose(out["jaxmc"].mean(("chain", "draw")), out["pymc"].mean(("chain", "draw")), atol=0.05)


# ---------------------------------------------------------------------------------------- 2. new rows
def _new_rows(lib, idata, dims):
    model = _regression(lib, dims=dims)
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dims:
            lib.set_data({"X": X_NEW}, coords={"obs": [100, 101, 102]})  # observed Y keeps its 10 values
        else:
            lib.set_data({"X": X_NEW})
        pp = lib.sample_posterior_predictive(idata, predictions=True, random_seed=2, progressbar=False)
    return convert.group_dataset(pp, "predictions")["lik"]


@pytest.mark.parametrize("dims", [True, False])
def test_new_rows_while_observed_data_keep_their_length(fitted, dims):
    _, idata = fitted
    lik = _new_rows(pm, idata, dims)
    assert lik.shape == (C, D, 3)
    np.testing.assert_allclose(lik.mean(("chain", "draw")), 1.0 + 2.0 * X_NEW, atol=0.1)
    if dims:
        assert list(lik["obs"].values) == [100, 101, 102]


def test_new_rows_match_pymc(fitted):
    pymc = pytest.importorskip("pymc")
    _, idata = fitted
    ours, theirs = _new_rows(pm, idata, True), _new_rows(pymc, idata, True)
    assert ours.dims == theirs.dims and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours["obs"].values, theirs["obs"].values)
    np.testing.assert_allclose(ours.mean(("chain", "draw")), theirs.mean(("chain", "draw")), atol=0.05)


def test_other_data_on_a_resized_dim_must_still_follow():
    with pm.Model(coords={"obs": range(4)}) as model:
        x = pm.Data("x", np.zeros(4), dims="obs")
        z = pm.Data("z", np.ones(4), dims="obs")
        pm.Normal("y", x + z, 1.0, observed=np.zeros(4), dims="obs")
    with model, pytest.raises(ValueError, match="'z' still has length 4"):
        pm.set_data({"x": np.zeros(2)}, coords={"obs": [7, 8]})


# ---------------------------------------------------------------------------------------- 3. imputation
def _imputed(y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pm.Model() as model:
            mu = pm.Normal("mu", 0, 1)
            pm.Normal("y", mu, 1.0, observed=y)
    return model


def _imputed_trace(n_missing):
    rng = np.random.default_rng(3)
    post = {"mu": 0.5 + 0.05 * rng.normal(size=(C, D)), "y_unobserved": rng.normal(0.5, 1.0, size=(C, D, n_missing))}
    y = np.zeros((C, D, 40))
    y[..., :n_missing] = post["y_unobserved"]
    post["y"] = y
    return convert.to_inference_data(_imputed(_missing(n_missing)), {"posterior": post})


def _missing(n):
    y = np.random.default_rng(4).normal(0.5, 1.0, size=40)
    y[:n] = np.nan
    return y


def test_rebuilt_model_with_more_missing_values_redraws_them():
    trace = _imputed_trace(8)
    model = _imputed(_missing(24))
    out = _predict(model, trace)
    assert set(out) == {"y_observed", "y"} and out["y_observed"].shape == (C, D, 16) and out["y"].shape == (C, D, 40)
    missing = out["y"][..., :24]  # drawn anew: N(mu, 1) around the trace's mu
    assert abs(missing.mean() - 0.5) < 0.1 and abs(missing.std() - 1.0) < 0.1
    assert _predict(model, trace, var_names=["y_unobserved"])["y_unobserved"].shape == (C, D, 24)


def test_same_number_of_missing_values_keeps_the_trace():
    trace = _imputed_trace(8)
    out = _predict(_imputed(_missing(8)), trace)
    unobserved = np.asarray(convert.group_dataset(trace, "posterior")["y_unobserved"].values)
    np.testing.assert_array_equal(out["y"][..., :8], unobserved)


def test_idata_kwargs_coords_and_dims(fitted):
    model, idata = fitted
    with model:
        pp = pm.sample_posterior_predictive(idata, random_seed=1, progressbar=False, backend="jax",
                                            idata_kwargs={"dims": {"lik": ["row"]}, "coords": {"row": list("abcdefghij")}})
    lik = convert.group_dataset(pp, "posterior_predictive")["lik"]
    assert lik.dims == ("chain", "draw", "row") and lik["row"].values[0] == "a"

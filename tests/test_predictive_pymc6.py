"""PyMC 6's posterior predictive rules (sample_vars, freeze_vars, implicit freezing): known answers, and PyMC 6 itself
given the same trace where it is installed."""

import re
import warnings

import numpy as np
import pytest

import jaxmc
from jaxmc import convert
from jaxmc.exceptions import ImplicitFreezeWarning

C, D = 2, 1000


def _pymc6():
    """PyMC when it is version 6 or later (the reference for these rules), else None."""
    try:
        import pymc
    except ImportError:
        return None
    return pymc if int(pymc.__version__.split(".")[0]) >= 6 else None


def _run(pm, model, trace, **kwargs):
    """sample_posterior_predictive as a dict, and the ImplicitFreezeWarning messages it gave."""
    with model, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = pm.sample_posterior_predictive(trace, return_inferencedata=False, progressbar=False,
                                             random_seed=3, **kwargs)
    freeze = [str(w.message) for w in caught if w.category.__name__ == "ImplicitFreezeWarning"]
    return {k: np.asarray(v) for k, v in out.items()}, freeze


def _details(message: str) -> str:
    """The "'name' (reason)" list of an implicit-freeze warning, in jaxmc's or PyMC's wording."""
    return re.search(r"re(?:sampled|-drawn): (.*?)\. (?:To resample|Pass them)", message).group(1)


def _both(build, trace, change=None, **kwargs):
    """Run jaxmc and, where installed, PyMC 6 on the same trace and situation; returns [(dict, warnings)]."""
    runs = []
    for pm in (jaxmc, _pymc6()):
        if pm is None:
            continue
        model = build(pm)
        if change is not None:
            with model:
                change(pm)
        runs.append(_run(pm, model, trace, **kwargs))
    return runs


def _copied(out, trace_post):
    """Output names whose values are exactly the trace's."""
    return {k for k, v in out.items() if k in trace_post and v.shape == trace_post[k].shape
            and np.array_equal(v, trace_post[k])}


# ---------------------------------------------------------------------- a group index changes
G_OLD, G_NEW = np.array([0, 0, 1, 2]), np.array([2, 2, 1, 0])


def _hier(pm):
    with pm.Model(coords={"group": [0, 1, 2], "unit": list(range(4))}) as model:
        g = pm.Data("g", G_OLD, dims="unit")
        mu_g = pm.Normal("mu_g", 0, 5, dims="group")
        a = pm.Normal("a", mu_g[g], 1, dims="unit")
        pm.Deterministic("d", 2 * a, dims="unit")
        pm.Deterministic("e", mu_g[g], dims="unit")
        pm.Normal("y", a, 1, observed=np.zeros(4), dims="unit")
    return model


@pytest.fixture(scope="module")
def hier_trace():
    rng = np.random.default_rng(0)
    mu_g = np.array([0.0, 10.0, 20.0]) + 0.1 * rng.normal(size=(C, D, 3))
    a = 100 + rng.normal(size=(C, D, 4))  # far from any prior draw: trace values are recognizable
    post = {"mu_g": mu_g, "a": a, "d": 2 * a, "e": mu_g[..., G_OLD]}
    trace = convert.from_dict({"posterior": post, "constant_data": {"g": G_OLD.astype("int32")}},
                              dims={"mu_g": ["group"], "a": ["unit"], "d": ["unit"], "e": ["unit"], "g": ["unit"]},
                              coords={"group": [0, 1, 2], "unit": list(range(4))})
    return trace, post


def _new_groups(pm):
    pm.set_data({"g": G_NEW})


def test_unchanged_data_copies_trace_values(hier_trace):
    trace, post = hier_trace
    for out, freeze in _both(_hier, trace, var_names=["a", "d", "e", "y"]):
        assert freeze == []
        assert _copied(out, post) == {"a", "d", "e"}
        assert abs((out["y"] - post["a"]).mean()) < 0.1 and abs((out["y"] - post["a"]).std() - 1) < 0.08


def test_changed_group_index_freezes_trace_variables(hier_trace):
    trace, post = hier_trace
    runs = _both(_hier, trace, _new_groups, var_names=["a", "d", "e", "y"])
    for out, freeze in runs:
        assert len(freeze) == 1 and _details(freeze[0]) == "'a' (upstream Data/coords changed (g))"
        assert _copied(out, post) == {"a", "d"}  # a is frozen, so d = 2a is not volatile
        np.testing.assert_allclose(out["e"], post["mu_g"][..., G_NEW])  # e is recomputed with the new index
        assert abs((out["y"] - post["a"]).mean()) < 0.1


def test_changed_group_index_with_sample_vars_redraws(hier_trace):
    trace, post = hier_trace
    runs = _both(_hier, trace, _new_groups, var_names=["a", "d", "e", "y"], sample_vars=["a"])
    for out, freeze in runs:
        assert freeze == []
        resid = out["a"] - post["mu_g"][..., G_NEW]  # a | mu_g ~ N(mu_g[g_new], 1)
        assert np.all(np.abs(resid.mean((0, 1))) < 0.15) and np.all(np.abs(resid.std((0, 1)) - 1) < 0.1)
        np.testing.assert_allclose(out["d"], 2 * out["a"])
        assert abs((out["y"] - out["a"]).mean()) < 0.1 and abs((out["y"] - out["a"]).std() - 1) < 0.08
    if len(runs) == 2:
        np.testing.assert_allclose(runs[0][0]["a"].mean((0, 1)), runs[1][0]["a"].mean((0, 1)), atol=0.2)


def test_freeze_vars_silences_the_warning(hier_trace):
    trace, post = hier_trace
    for out, freeze in _both(_hier, trace, _new_groups, var_names=["a", "y"], freeze_vars="a"):
        assert freeze == [] and _copied(out, post) == {"a"}


def test_coord_length_change_is_named_and_sample_vars_resizes(hier_trace):
    trace, post = hier_trace
    g5 = np.array([2, 2, 1, 0, 1])

    def grow(pm):
        pm.set_data({"g": g5}, coords={"unit": list(range(5))})

    for pm in (jaxmc, _pymc6()):
        if pm is None:
            continue
        model = _hier(pm)
        with model:
            grow(pm)
            with pytest.warns(pm.exceptions.ImplicitFreezeWarning) as caught:
                with pytest.raises(ValueError):
                    pm.sample_posterior_predictive(trace, var_names=["y"], progressbar=False)
        message = str(caught[0].message)
        assert _details(message) == "'a' (upstream Data/coords changed (g, unit))"
        assert "Coordinates changed length ('unit' (4 -> 5))" in message
    for out, freeze in _both(_hier, trace, grow, var_names=["a", "y"], sample_vars=["a"]):
        assert freeze == [] and out["a"].shape == (C, D, 5) and out["y"].shape == (C, D, 5)
        resid = out["a"] - post["mu_g"][..., g5]
        assert np.all(np.abs(resid.mean((0, 1))) < 0.15)


# ---------------------------------------------------------------------- freezing a deterministic
def _centered(pm):
    with pm.Model() as model:
        x = pm.Data("x", np.array([1.0, 2.0, 3.0]))
        x_mean = pm.Deterministic("x_mean", x.mean())
        centered = pm.Deterministic("centered", x - x_mean)
        mu = pm.Normal("mu")
        pm.Normal("obs", mu + centered, 1, observed=np.zeros(3))
    return model


@pytest.fixture(scope="module")
def centered_trace():
    rng = np.random.default_rng(1)
    mu = 5 + 0.1 * rng.normal(size=(C, D))
    post = {"mu": mu, "x_mean": np.full((C, D), 2.0), "centered": np.tile([-1.0, 0.0, 1.0], (C, D, 1))}
    trace = convert.from_dict({"posterior": post, "constant_data": {"x": np.array([1.0, 2.0, 3.0])}})
    return trace, post


def _big_x(pm):
    pm.set_data({"x": np.array([100.0, 200.0, 300.0])})


def test_changed_data_recomputes_deterministics(centered_trace):
    trace, post = centered_trace
    for out, freeze in _both(_centered, trace, _big_x, var_names=["x_mean", "centered", "obs"]):
        assert freeze == []
        np.testing.assert_allclose(out["x_mean"], 200.0)
        np.testing.assert_allclose(out["centered"], np.broadcast_to([-100.0, 0.0, 100.0], (C, D, 3)))
        np.testing.assert_allclose((out["obs"] - post["mu"][..., None]).mean((0, 1)), [-100, 0, 100], atol=0.2)


def test_freeze_vars_keeps_a_deterministic(centered_trace):
    trace, post = centered_trace
    for out, freeze in _both(_centered, trace, _big_x, var_names=["x_mean", "centered", "obs"],
                             freeze_vars=["x_mean"]):
        assert freeze == [] and _copied(out, post) == {"x_mean"}
        np.testing.assert_allclose(out["centered"], np.broadcast_to([98.0, 198.0, 298.0], (C, D, 3)))
        np.testing.assert_allclose((out["obs"] - post["mu"][..., None]).mean((0, 1)), [98, 198, 298], atol=0.2)


# ---------------------------------------------------------------------- re-drawing ancestors
def _chain(pm):
    with pm.Model() as model:
        x = pm.Normal("x")
        y = pm.Normal("y")
        z = pm.Normal("z", x + y**2, 1)
        pm.Deterministic("det", 2 * z)
        pm.Normal("obs", 2 * z, 1, observed=np.array([20.0]))
    return model


@pytest.fixture(scope="module")
def chain_trace():
    rng = np.random.default_rng(2)
    post = {"x": 3 + 0.1 * rng.normal(size=(C, D)), "y": 50 + rng.normal(size=(C, D)),
            "z": -40 + rng.normal(size=(C, D))}
    post["det"] = 2 * post["z"]
    return convert.from_dict({"posterior": post}), post


def test_var_names_only_selects_outputs(chain_trace):
    trace, post = chain_trace
    for out, freeze in _both(_chain, trace, var_names=["z", "det"]):
        assert freeze == [] and _copied(out, post) == {"z", "det"}


def test_default_outputs_are_the_observed_variables(chain_trace):
    trace, post = chain_trace
    for out, freeze in _both(_chain, trace):
        assert freeze == [] and set(out) == {"obs"} and out["obs"].shape == (C, D, 1)
        assert abs((out["obs"][..., 0] - post["det"]).mean()) < 0.1


def test_sample_vars_redraws_and_recomputes_downstream(chain_trace):
    trace, post = chain_trace
    for out, freeze in _both(_chain, trace, var_names=["z", "det"], sample_vars="z"):
        assert freeze == [] and _copied(out, post) == set()
        resid = out["z"] - post["x"] - post["y"] ** 2  # z | x, y ~ N(x + y^2, 1) with the trace's x, y
        assert abs(resid.mean()) < 0.1 and abs(resid.std() - 1) < 0.08
        np.testing.assert_allclose(out["det"], 2 * out["z"])


def test_resampled_ancestor_freezes_trace_descendants(chain_trace):
    trace, post = chain_trace
    for out, freeze in _both(_chain, trace, var_names=["y", "z", "det"], sample_vars=["y"]):
        assert len(freeze) == 1 and _details(freeze[0]) == "'z' (ancestor is resampled (y))"
        assert _copied(out, post) == {"z", "det"}
        assert abs(out["y"].mean()) < 0.1 and abs(out["y"].std() - 1) < 0.08  # y's prior
    for out, freeze in _both(_chain, trace, var_names=["y", "z", "det"], sample_vars=["y"], freeze_vars=["z"]):
        assert freeze == [] and _copied(out, post) == {"z", "det"}
    for out, freeze in _both(_chain, trace, var_names=["y", "z"], sample_vars=["y", "z"]):
        assert freeze == []
        resid = out["z"] - post["x"] - out["y"] ** 2
        assert abs(resid.mean()) < 0.1 and abs(resid.std() - 1) < 0.08


def test_variable_missing_from_trace_is_drawn(chain_trace):
    trace, post = chain_trace
    partial = convert.from_dict({"posterior": {k: post[k] for k in ("x", "z", "det")}})
    for out, freeze in _both(_chain, partial, var_names=["y", "z"]):
        assert len(freeze) == 1 and _details(freeze[0]) == "'z' (ancestor is resampled (y))"
        assert _copied(out, post) == {"z"}
        assert abs(out["y"].mean()) < 0.1 and abs(out["y"].std() - 1) < 0.08


def test_deterministic_of_an_observed_variable_is_a_default_output():
    def build(pm):
        with pm.Model() as model:
            mu = pm.Normal("mu")
            y = pm.Normal("y", mu, 1, observed=np.zeros(2))
            pm.Deterministic("y_twice", 2 * y)
        return model

    post = {"mu": np.full((C, D), 7.0), "y_twice": np.zeros((C, D, 2))}
    for out, freeze in _both(build, convert.from_dict({"posterior": post})):
        assert set(out) == {"y", "y_twice"}
        np.testing.assert_allclose(out["y_twice"], 2 * out["y"])
        assert abs(out["y"].mean() - 7) < 0.1


# ---------------------------------------------------------------------- argument checks
@pytest.mark.parametrize("kwargs, error, words", [
    (dict(sample_vars=["y"], freeze_vars=["y"]), ValueError, ["both", "'y'"]),
    (dict(freeze_vars=["obs"]), ValueError, ["'obs'", "trace"]),
    (dict(sample_vars=["nope"]), KeyError, ["'nope'", "'det'", "'x'"]),
    (dict(freeze_vars="nope"), KeyError, ["'nope'", "'obs'"]),
    (dict(var_names=["nope"]), KeyError, ["'nope'", "'z'"]),
])
def test_argument_errors(chain_trace, kwargs, error, words):
    trace, _ = chain_trace
    with _chain(jaxmc), pytest.raises(error) as raised:
        jaxmc.sample_posterior_predictive(trace, progressbar=False, **kwargs)
    assert all(w in str(raised.value) for w in words), str(raised.value)
    pymc = _pymc6()
    if pymc is not None:
        with _chain(pymc), pytest.raises(error):
            pymc.sample_posterior_predictive(trace, progressbar=False, **kwargs)


def test_sample_vars_must_be_random_or_deterministic(centered_trace):
    trace, _ = centered_trace
    for pm in (jaxmc, _pymc6()):
        if pm is None:
            continue
        with _centered(pm), pytest.raises(ValueError, match="x"):
            pm.sample_posterior_predictive(trace, sample_vars=["x"], progressbar=False)


def test_warning_class_is_exported():
    assert jaxmc.exceptions.ImplicitFreezeWarning is ImplicitFreezeWarning
    assert issubclass(ImplicitFreezeWarning, UserWarning)
    pymc = _pymc6()
    if pymc is not None:
        assert ImplicitFreezeWarning.__name__ == pymc.exceptions.ImplicitFreezeWarning.__name__

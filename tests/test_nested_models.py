"""Nested models (`with pm.Model("lik"):` inside a model): PyMC's `prefix::name` names in the root model."""

import numpy as np
import pytest

import jaxmc as pm

Y = np.array([0.1, 0.2, 0.3])


def build(lib):
    with lib.Model(coords={"obs": range(3)}) as m:
        mu = lib.Normal("mu", 0, 1)
        with lib.Model("lik") as sub:
            s = lib.HalfNormal("s", 1)
            lib.Normal("y", mu, s, observed=Y, dims="obs")
            lib.Deterministic("d", mu * 2)
            lib.Data("x", [1.0, 2.0], dims="k")
            with lib.Model("inner") as inner:
                lib.Normal("z", 0, 1)
    return m, sub, inner


def test_names_dims_and_lookup():
    m, sub, inner = build(pm)
    assert list(m.named_vars) == ["mu", "lik::s", "lik::y", "lik::d", "lik::x", "lik::inner::z"]
    assert list(sub.named_vars) == ["lik::s", "lik::y", "lik::d", "lik::x", "lik::inner::z"]
    assert m.named_vars_to_dims == {"lik::y": ("obs",), "lik::x": ("k",)}
    assert m.coords == {"obs": (0, 1, 2), "k": None}
    assert (sub.prefix, inner.prefix) == ("lik", "lik::inner")
    assert sub["y"] is m["lik::y"] is sub["lik::y"]
    assert inner["z"] is m["lik::inner::z"]
    assert "y" in sub and "y" not in m and "lik::y" in m
    assert sub.s is m["lik::s"] and m.mu is m["mu"]
    assert sub.parent is m and inner.root is m and m.isroot and not sub.isroot
    assert [v.name for v in m.value_vars] == ["mu", "lik::s_log__", "lik::inner::z"]
    assert [v.name for v in sub.free_RVs] == ["lik::s", "lik::inner::z"]
    assert [v.name for v in m.observed_RVs] == ["lik::y"]
    assert sub.name_for("y") == "lik::y" and sub.name_of("lik::y") == "y"


def test_same_as_pymc():
    pymc = pytest.importorskip("pymc")
    m, _, _ = build(pm)
    pm_m, _, _ = build(pymc)
    assert list(m.named_vars) == list(pm_m.named_vars)
    assert m.named_vars_to_dims == pm_m.named_vars_to_dims
    assert [v.name for v in m.value_vars] == [v.name for v in pm_m.value_vars]
    point = {"mu": 0.3, "lik::s_log__": -0.4, "lik::inner::z": 0.7}
    np.testing.assert_allclose(m.compile_logp()(point), pm_m.compile_logp()(point), rtol=1e-10)
    assert m.point_logps(point) == {k: float(v) for k, v in pm_m.point_logps(point).items()}


def test_standalone_model_and_modelcontext():
    with pm.Model() as outer:
        with pm.Model(model=None) as alone:
            pm.Normal("q")
        assert pm.modelcontext(None) is outer
        with alone:
            assert pm.modelcontext(None) is alone
    assert list(outer.named_vars) == [] and list(alone.named_vars) == ["q"]
    assert alone.parent is None
    with pm.Model(name="top") as top:
        pm.Normal("a")
    assert list(top.named_vars) == ["top::a"] and top["a"] is top["top::a"]


def test_bad_names_and_duplicates():
    with pytest.raises(ValueError, match="cannot contain '/'"):
        pm.Model("a/b")
    with pytest.raises(KeyError, match="must not end with ':'"):
        pm.Model("a:")
    with pm.Model():
        with pm.Model("lik"):
            pm.Normal("y")
        with pm.Model("lik"):
            with pytest.raises(ValueError, match="lik::y.*already exists"):
                pm.Normal("y")


def test_prior_predictive_and_sampling_include_submodel_variables():
    m, _, _ = build(pm)
    prior = pm.sample_prior_predictive(draws=20, model=m, random_seed=1)
    names = set(prior["prior"].data_vars)
    assert {"mu", "lik::s", "lik::d", "lik::inner::z"} <= names
    assert "lik::y" in set(prior["prior_predictive"].data_vars)
    assert prior["prior_predictive"]["lik::y"].dims[-1] == "obs"
    with m:
        idata = pm.sample(draws=30, tune=30, chains=1, random_seed=1, progressbar=False)
    assert {"mu", "lik::s", "lik::d", "lik::inner::z"} <= set(idata["posterior"].data_vars)
    assert "lik::y" in set(idata["observed_data"].data_vars)


def test_sampling_inside_a_submodel_block_uses_the_root_model():
    m, lik, _ = build(pm)
    with m, lik:
        idata = pm.sample(draws=20, tune=20, chains=1, random_seed=1, progressbar=False,
                          compute_convergence_checks=False)
        prior = pm.sample_prior_predictive(draws=5, random_seed=1)
    assert {"mu", "lik::s", "lik::d", "lik::inner::z"} <= set(idata["posterior"].data_vars)
    assert "lik::y" in set(prior["prior_predictive"].data_vars)

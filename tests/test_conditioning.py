"""`pm.do` and `pm.observe`: new models with interventions or new observations, the original unchanged; log
densities equal PyMC's at the same points."""

import numpy as np
import pytest

import jaxmc as pm


def build(lib):
    with lib.Model(coords={"obs": range(4)}) as m:
        x = lib.Normal("x", 0, 1)
        y = lib.Normal("y", x, 1, dims="obs")
        s = lib.HalfNormal("s", 1)
        lib.Deterministic("ybar", y.mean())
        lib.Normal("z", y + x, s, observed=np.array([0.5, 1.0, -0.3, 2.0]), dims="obs")
    return m


def test_do_constant_becomes_data_and_leaves_original_alone():
    m = build(pm)
    m_do = pm.do(m, {"y": np.full(4, 2.0)})
    assert m_do is not m and m_do["y"].kind == "data" and m_do.named_vars_to_dims["y"] == ("obs",)
    assert [v.name for v in m_do.value_vars] == ["x", "s_log__"]
    assert [v.name for v in m.value_vars] == ["x", "y", "s_log__"]  # unchanged
    prior = pm.sample_prior_predictive(draws=400, model=m_do, random_seed=2)
    z = prior["prior_predictive"]["z"].values
    assert abs(z.mean() - 2.0) < 0.2  # z ~ Normal(y + x, s) with y = 2 and E[x] = 0
    pm.set_data({"y": np.full(4, -5.0)}, model=m_do)
    prior = pm.sample_prior_predictive(draws=400, model=m_do, random_seed=2)
    assert abs(prior["prior_predictive"]["z"].values.mean() + 5.0) < 0.2


def test_do_and_observe_logp_equal_pymc():
    pymc = pytest.importorskip("pymc")
    m, pm_m = build(pm), build(pymc)
    for new, ref, point in [
        (pm.do(m, {"x": 1.5}), pymc.do(pm_m, {"x": 1.5}), {"y": np.arange(4.0) / 3, "s_log__": 0.2}),
        (pm.observe(m, {"x": 0.7}), pymc.observe(pm_m, {"x": 0.7}), {"y": np.arange(4.0) / 3, "s_log__": 0.2}),
        (pm.observe(m, {m["z"]: np.zeros(4)}), pymc.observe(pm_m, {pm_m["z"]: np.zeros(4)}),
         {"x": 0.3, "y": np.arange(4.0) / 3, "s_log__": -0.1}),
    ]:
        assert sorted(v.name for v in new.value_vars) == sorted(v.name for v in ref.value_vars)
        np.testing.assert_allclose(new.compile_logp()(point), ref.compile_logp()(point), rtol=1e-10)
        assert new.point_logps(point) == {k: float(v) for k, v in ref.point_logps(point).items()}


def test_do_with_expression_and_self_reference():
    pymc = pytest.importorskip("pymc")
    m, pm_m = build(pm), build(pymc)
    new = pm.do(m, {"y": m["x"] * 2 + np.arange(4.0)})
    ref = pymc.do(pm_m, {"y": pm_m["x"] * 2 + np.arange(4.0)})
    assert any(d is new["y"] for d in new.deterministics) and new["y"].shape == (4,)
    point = {"x": 0.4, "s_log__": 0.3}
    np.testing.assert_allclose(new.compile_logp()(point), ref.compile_logp()(point), rtol=1e-10)
    with pytest.warns(UserWarning, match="do_x"):
        selfref = pm.do(m, {"x": m["x"] + 10.0})
    assert "do_x" in selfref and "x" in selfref
    draws = pm.draw([selfref["x"], selfref["do_x"]], draws=5, random_seed=1)
    np.testing.assert_allclose(draws[1], draws[0] + 10.0)


def test_observe_then_sample():
    m = build(pm)
    new = pm.observe(m, {"x": 1.0})
    assert [v.name for v in new.observed_RVs] == ["x", "z"] and [v.name for v in m.observed_RVs] == ["z"]
    with new:
        idata = pm.sample(draws=50, tune=50, chains=1, random_seed=3, progressbar=False)
    assert "x" not in idata["posterior"] and "x" in idata["observed_data"]


def test_prune_vars():
    with pm.Model() as m:
        a = pm.Normal("a")
        b = pm.Normal("b", a)
        pm.Normal("c", 0, 1)  # unrelated to the data
        pm.Normal("obs", b, 1, observed=[0.3])
    new = pm.do(m, {"a": 0.5}, prune_vars=True)
    assert set(new.named_vars) == {"a", "b", "obs"}


def test_bad_input():
    m = build(pm)
    with pytest.raises(TypeError, match=r"'y' has shape \(\) but the variable has shape \(4,\)"):
        pm.do(m, {"y": 1.0})
    with pytest.raises(KeyError, match="no variable named 'nope'"):
        pm.observe(m, {"nope": 1.0})
    with pytest.raises(NotImplementedError, match="'ybar' is a Deterministic"):
        pm.observe(m, {"ybar": 1.0})


def test_copy_is_independent():
    m = build(pm)
    c = m.copy()
    assert list(c.named_vars) == list(m.named_vars) and all(c[n] is not m[n] for n in m.named_vars)
    with c:
        pm.Normal("extra")
    assert "extra" not in m
    point = m.initial_point()
    np.testing.assert_allclose(c.compile_logp(vars=[c["x"], c["y"], c["s"], c["z"]])({**point, "extra": 0.0}),
                               m.compile_logp()(point))


def test_observe_with_more_rows_than_the_dim_then_set_dim_as_pymc():
    """Observing data longer than a coords dim resizes the dim (and what depends on it), as PyMC's symbolic
    shapes do; set_dim then gives the labels (the causal-inference 'what if' notebook)."""
    pymc = pytest.importorskip("pymc")

    def build(lib):
        with lib.Model(coords={"i": [0]}) as m:
            b0 = lib.Normal("b0")
            s = lib.HalfNormal("s")
            a = lib.Normal("a", dims="i")
            mu = lib.Deterministic("mu", b0 + 2 * a, dims="i")
            lib.Normal("y", mu, s, dims="i")
        n = 5
        observed = lib.observe(m, {"a": np.arange(n) * 1.0, "y": np.linspace(0, 1, n)})
        observed.set_dim("i", n, coord_values=np.arange(n))
        return observed

    jm, pmm = build(pm), build(pymc)
    assert jm["mu"].shape == (5,) and jm.coords["i"] == tuple(range(5))
    point = {"b0": np.array(0.3), "s_log__": np.array(-0.2)}
    np.testing.assert_allclose(float(jm.compile_logp()(point)), float(pmm.compile_logp()(point)), rtol=1e-10)
    with pytest.raises(ValueError, match="lengths 5 and 3"):
        pm.observe(_one_dim_model(), {"a": np.zeros(5), "y": np.zeros(3)})


def _one_dim_model():
    with pm.Model(coords={"i": [0]}) as m:
        a = pm.Normal("a", dims="i")
        pm.Normal("y", a, 1.0, dims="i")
    return m

"""The model introspection PyMC users call (value variables, symbolic logp, compile_fn, dims), compared with
PyMC at the same points."""

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.testing import assert_no_rvs

OBS = np.array([1, 0, 3, 2])


def build(lib):
    with lib.Model(coords={"g": ["a", "b"], "obs": range(4)}) as m:
        mu = lib.Normal("mu", 0, 1, dims="g")
        s = lib.HalfNormal("s", 2)
        k = lib.Poisson("k", 3.0)
        lam = lib.Deterministic("lam", lib.math.exp(mu.sum() / 4 + s), dims=None)
        lib.Poisson("y", lam, observed=OBS, dims="obs")
        lib.Potential("pen", -(s ** 2) - 0.1 * k)
    return m


POINT = {"mu": np.array([0.2, -0.4]), "s_log__": np.array(0.1), "k": np.array(2)}


def test_registries():
    m = build(pm)
    assert [v.name for v in m.value_vars] == ["mu", "s_log__", "k"]
    assert [v.name for v in m.unobserved_RVs] == ["mu", "s", "k", "lam"]
    assert [v.name for v in m.basic_RVs] == ["mu", "s", "k", "y"]
    assert [v.name for v in m.continuous_value_vars] == ["mu", "s_log__"]
    assert [v.name for v in m.discrete_value_vars] == ["k"]
    assert m.rvs_to_values[m["s"]].name == "s_log__" and m.rvs_to_values[m["y"]] is m["y"].observed
    assert m.values_to_rvs[m.rvs_to_values[m["s"]]] is m["s"]
    assert m.value_vars[1] is m.value_vars[1]  # the same node on every call
    assert m.dim_lengths["g"] == 2 and m.dim_lengths["g"].eval() == 2
    assert m.coords["g"] == ("a", "b") and m.named_vars_to_dims["y"] == ("obs",)


def test_symbolic_logp_equals_pymc():
    pymc = pytest.importorskip("pymc")
    m, ref = build(pm), build(pymc)
    assert_no_rvs(m.logp())
    for kwargs in [{}, {"jacobian": False}, {"vars": [m["s"], m["y"]]}]:
        ref_kwargs = {k: ([ref[v.name] for v in val] if k == "vars" else val) for k, val in kwargs.items()}
        expected = ref.compile_fn(ref.logp(**ref_kwargs), inputs=ref.value_vars, on_unused_input="ignore")(POINT)
        np.testing.assert_allclose(m.compile_fn(m.logp(**kwargs))(POINT), expected, rtol=1e-7)
    np.testing.assert_allclose(m.logp().eval(POINT), m.compile_logp()(POINT), rtol=1e-12)
    terms = m.compile_fn(m.logp(sum=False))(POINT)
    ref_terms = ref.compile_fn(ref.logp(sum=False), inputs=ref.value_vars, on_unused_input="ignore")(POINT)
    assert [t.name for t in m.logp(sum=False)] == [t.name for t in ref.logp(sum=False)]
    for a, b in zip(terms, ref_terms):
        np.testing.assert_allclose(a, b, rtol=1e-7)
    for name in ["varlogp", "observedlogp", "potentiallogp", "datalogp"]:
        expected = ref.compile_fn(getattr(ref, name), inputs=ref.value_vars, on_unused_input="ignore")(POINT)
        np.testing.assert_allclose(m.compile_fn(getattr(m, name))(POINT), expected, rtol=1e-7, err_msg=name)


def test_dlogp_d2logp_point_logps_equal_pymc():
    pymc = pytest.importorskip("pymc")
    m, ref = build(pm), build(pymc)
    inputs = ref.value_vars
    np.testing.assert_allclose(m.compile_fn(m.dlogp())(POINT),
                               ref.compile_fn(ref.dlogp(), inputs=inputs, on_unused_input="ignore")(POINT),
                               rtol=1e-7)
    np.testing.assert_allclose(m.compile_fn(m.d2logp(vars=[m["s"]]))(POINT),
                               ref.compile_fn(ref.d2logp(vars=[ref["s"]]), inputs=inputs,
                                              on_unused_input="ignore")(POINT), rtol=1e-7)
    assert m.point_logps(POINT) == {k: float(v) for k, v in ref.point_logps(POINT).items()}
    ip, ref_ip = m.initial_point(), ref.initial_point()
    assert ip.keys() == ref_ip.keys() and all(np.allclose(ip[k], ref_ip[k]) for k in ip)


def test_unobserved_value_vars_and_replace_rvs_by_values():
    m = build(pm)
    outs = m.unobserved_value_vars
    assert [o.name for o in outs] == ["mu", "s_log__", "k", "s", "lam"]
    assert_no_rvs(outs)
    vals = m.compile_fn(outs)(POINT)
    np.testing.assert_allclose(vals[3], np.exp(0.1))
    np.testing.assert_allclose(vals[4], np.exp(POINT["mu"].sum() / 4 + np.exp(0.1)))
    (lam,) = m.replace_rvs_by_values([m["lam"]])
    assert_no_rvs(lam)
    np.testing.assert_allclose(lam.eval({"mu": POINT["mu"], "s_log__": 0.1}), vals[4])
    with pytest.raises(AssertionError, match="RV found in graph"):
        assert_no_rvs(m["lam"])


def test_compile_fn_forms():
    m = build(pm)
    fn = m.compile_fn(m.logp(), inputs=m.value_vars, point_fn=False)
    np.testing.assert_allclose(fn(POINT["mu"], POINT["s_log__"], POINT["k"]), m.compile_logp()(POINT))
    draws = m.compile_fn([m["mu"], m["lam"]], random_seed=1)  # random variables without values are drawn
    a, b = draws({}), draws({})
    assert a[0].shape == (2,) and not np.allclose(a[0], b[0])
    fixed = draws({"mu": np.zeros(2), "s": 1.0})
    np.testing.assert_allclose(fixed[1], np.exp(1.0))
    with pytest.raises(KeyError, match="no value for"):
        m.compile_fn(m.logp())({"mu": np.zeros(2)})


def test_set_dim():
    m = build(pm)
    with pytest.raises(ValueError, match="has coord values"):
        m.set_dim("obs", 6)
    m.set_dim("obs", 6, coord_values=range(6))
    assert m.dim_lengths["obs"] == 6 and m.coords["obs"] == tuple(range(6))
    with pytest.raises(pm.exceptions.ShapeError):
        m.set_dim("obs", 3, coord_values=range(2))
    with pm.Model() as m2:
        pm.Data("x", np.zeros(3), dims="n")
        pm.Normal("e", 0, 1, shape=5, dims="m")
    with pytest.raises(TypeError, match="pm.set_data"):
        m2.set_dim("n", 4)
    m2.set_dim("m", 7)
    assert [v.shape for v in m2.value_vars] == [(7,)]  # the free variable on the dim follows
    assert pm.sample_prior_predictive(draws=3, model=m2)["prior"]["e"].shape == (1, 3, 7)

"""find_hessian, find_hessian_diag, guess_scaling and trace_cov against closed forms (and PyMC, slow)."""

import numpy as np
import pytest

import jaxmc as pm
from jaxmc import convert
from jaxmc.tuning import find_hessian, guess_scaling, trace_cov
from jaxmc.tuning.scaling import find_hessian_diag
from tests.tuning.map_models import build, data


@pytest.fixture(scope="module")
def linear():
    return build(pm, "linear")


def test_hessian_of_linear_regression_is_the_ridge_precision(linear):
    """At fixed sigma, -d2 logp / db2 = X'X / sigma^2 + I / 10^2; a and b cross-terms as well."""
    d = data()
    X1 = np.column_stack([np.ones(150), d["X"]])
    point = {"a": 0.2, "b": np.array([1.0, -2.0, 0.5]), "sigma_log__": np.log(0.7)}
    expected = X1.T @ X1 / 0.7**2 + np.eye(4) / 100
    np.testing.assert_allclose(find_hessian(point, vars=[linear["a"], linear["b"]], model=linear), expected,
                               rtol=1e-10)
    full = find_hessian(point, model=linear, negate_output=False)
    assert full.shape == (5, 5)
    np.testing.assert_allclose(-full[:4, :4], expected, rtol=1e-10)
    np.testing.assert_allclose(find_hessian_diag(point, model=linear), np.diag(-full), rtol=1e-12)
    # the order follows the model, not vars; names work as variables do
    np.testing.assert_allclose(find_hessian(point, vars=["b", "a"], model=linear), expected, rtol=1e-10)


def test_hessian_includes_the_jacobian_term():
    """logp(u) = HalfNormal(exp(u); s) + u: d2/du2 = -2 exp(2u) / s^2."""
    with pm.Model() as model:
        pm.HalfNormal("sigma", 2.0)
    u = 0.3
    np.testing.assert_allclose(find_hessian({"sigma_log__": u}, model=model), [[2 * np.exp(2 * u) / 4.0]],
                               rtol=1e-10)


def test_guess_scaling_bounds_the_scale():
    with pm.Model() as model:
        pm.Normal("x", 0, np.array([1e-10, 0.5, 1.0]))
        pm.Flat("f")
    s = guess_scaling({"x": np.zeros(3), "f": 0.0}, model=model)
    np.testing.assert_allclose(s, [1e16, 4.0, 1.0, 1e-16])


def test_trace_cov_pools_chains_and_draws():
    rng = np.random.default_rng(1)
    with pm.Model() as model:
        pm.Normal("a", 0, 1)
        pm.Normal("b", 0, 1, shape=2)
    draws = {"a": rng.normal(size=(2, 50)), "b": rng.normal(size=(2, 50, 2))}
    idata = convert.to_inference_data(model, {"posterior": draws})
    flat = np.column_stack([draws["a"].reshape(100), draws["b"].reshape(100, 2)])
    np.testing.assert_allclose(trace_cov(idata, model=model), np.cov(flat.T))
    np.testing.assert_allclose(trace_cov({"a": flat[:, 0], "b": flat[:, 1:]}, vars=["a", "b"]), np.cov(flat.T))


def test_bad_input(linear):
    point = {"a": 0.2, "b": np.zeros(3), "sigma_log__": 0.0}
    with pytest.raises(ValueError, match="'nope' is not a free variable"):
        find_hessian(point, vars=["nope"], model=linear)
    with pytest.raises(KeyError, match="missing value variable 'sigma_log__'"):
        find_hessian({"a": 0.2, "b": np.zeros(3)}, model=linear)
    with pytest.raises(TypeError, match="point must be a dict"):
        find_hessian([0.2], model=linear)


@pytest.mark.slow
def test_find_hessian_equals_pymc():
    pymc = pytest.importorskip("pymc")
    point = {"mu": 1.0, "tau_log__": 0.2, "z": np.linspace(-1, 1, 6), "sigma_log__": -0.1}
    expected = pymc.find_hessian(point, model=build(pymc, "hierarchical"))
    np.testing.assert_allclose(find_hessian(point, model=build(pm, "hierarchical")), expected, rtol=1e-8,
                               atol=1e-9)

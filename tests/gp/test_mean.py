"""pm.gp.mean: Zero, Constant, Linear and their sums and products equal PyMC's; model-variable parameters."""

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.gp import mean

pymc = pytest.importorskip("pymc")

X = np.random.default_rng(1).normal(size=(8, 2))

MEANS = {
    "Zero": lambda m: m.Zero(),
    "Constant": lambda m: m.Constant(2.5),
    "Linear": lambda m: m.Linear(coeffs=np.array([0.5, -1.0]), intercept=0.3),
    "sum": lambda m: m.Constant(1.0) + m.Linear(coeffs=np.array([1.0, 2.0])),
    "product": lambda m: m.Constant(-2.0) * m.Linear(coeffs=np.array([1.0, 0.0]), intercept=1.0),
}


@pytest.mark.parametrize("name", sorted(MEANS))
def test_mean_matches_pymc(name):
    mine, theirs = MEANS[name](mean)(X), MEANS[name](pymc.gp.mean)(X)
    np.testing.assert_allclose(mine.eval(), theirs.eval(), rtol=1e-12)
    assert mine.shape == (8,)


def test_mean_of_model_variables():
    with pm.Model():
        c = pm.Normal("c")
        b = pm.Normal("b", shape=2)
        m = (pm.gp.mean.Constant(c) + pm.gp.mean.Linear(coeffs=b))(X)
    np.testing.assert_allclose(m.eval({"c": 1.5, "b": np.array([1.0, -1.0])}), 1.5 + X @ [1.0, -1.0])


def test_mean_needs_2d_inputs():
    with pytest.raises(ValueError, match="2-D array"):
        mean.Zero()(np.ones(3))

"""Models shared by the variational tests: a conjugate normal with its exact posterior, a small regression."""

import numpy as np

import jaxmc as pm

Y = np.random.default_rng(0).normal(1.0, 2.0, 50)
POST_VAR = 1 / (1 / 10.0**2 + len(Y) / 2.0**2)
POST_MEAN = POST_VAR * Y.sum() / 2.0**2


def conjugate():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 10)
        pm.Normal("y", mu, 2.0, observed=Y)
    return model


def regression(n=150, seed=42):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = 1.0 + X @ np.array([0.5, -1.0, 2.0]) + rng.normal(0, 0.7, n)
    with pm.Model(coords={"k": ["x0", "x1", "x2"]}) as model:
        a = pm.Normal("a", 0, 10)
        b = pm.Normal("b", 0, 10, dims="k")
        s = pm.HalfNormal("s", 5)
        pm.Deterministic("mu0", a + b[0])
        pm.Normal("y", a + pm.math.dot(X, b), s, observed=y)
    return model

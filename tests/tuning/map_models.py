"""Five models written once for any PyMC-like module (`jaxmc` or `pymc`), for find_MAP's comparison with PyMC."""

import numpy as np


def data():
    rng = np.random.default_rng(20261206)
    X = rng.normal(size=(150, 3))
    groups = np.repeat(np.arange(6), 15)
    return {
        "X": X,
        "y_lin": X @ np.array([1.0, -2.0, 0.5]) + 0.3 + rng.normal(size=150) * 0.7,
        "y_logit": (rng.uniform(size=150) < 1 / (1 + np.exp(-(X @ np.array([1.5, -1.0, 0.0]) - 0.5)))).astype(int),
        "groups": groups,
        "y_group": rng.normal(size=6)[groups] * 1.5 + 2.0 + rng.normal(size=90),
        "counts": np.array([12, 30, 7, 51]),
        "heads": 37,
        "x_pois": np.linspace(-1, 1, 60),
        "y_pois": rng.poisson(np.exp(1.0 + 0.8 * np.linspace(-1, 1, 60))),
    }


def build(pm, name):
    d = data()
    with pm.Model(coords={"coef": ["x0", "x1", "x2"]}) as model:
        if name == "linear":
            a = pm.Normal("a", 0, 10)
            b = pm.Normal("b", 0, 10, dims="coef")
            sigma = pm.HalfNormal("sigma", 5)
            pm.Normal("y", a + pm.math.dot(d["X"], b), sigma, observed=d["y_lin"])
        elif name == "logistic":
            a = pm.Normal("a", 0, 2.5)
            b = pm.Normal("b", 0, 2.5, dims="coef")
            p = pm.Deterministic("p_mean", pm.math.sigmoid(a + pm.math.dot(d["X"], b)).mean())
            pm.Bernoulli("y", logit_p=a + pm.math.dot(d["X"], b), observed=d["y_logit"])
        elif name == "hierarchical":
            mu = pm.Normal("mu", 0, 5)
            tau = pm.HalfNormal("tau", 2)
            z = pm.Normal("z", 0, 1, shape=6)
            theta = pm.Deterministic("theta", mu + tau * z)
            sigma = pm.HalfNormal("sigma", 2)
            pm.Normal("y", theta[d["groups"]], sigma, observed=d["y_group"])
        elif name == "simplex":
            p = pm.Dirichlet("p", a=np.array([2.0, 2.0, 3.0, 1.5]))
            pm.Multinomial("counts", n=int(d["counts"].sum()), p=p, observed=d["counts"])
            q = pm.Beta("q", 2.0, 3.0)
            pm.Binomial("heads", n=80, p=q, observed=d["heads"])
        elif name == "poisson":
            rate = pm.Exponential("rate", 0.5)
            b = pm.Normal("b", 0, 3)
            pm.Poisson("y", rate * pm.math.exp(b * d["x_pois"]), observed=d["y_pois"])
        else:
            raise ValueError(name)
    return model


MODELS = ("linear", "logistic", "hierarchical", "simplex", "poisson")

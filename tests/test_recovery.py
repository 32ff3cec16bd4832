"""Models from the distribution catalogue recover simulated parameters when sampled."""

import warnings

import numpy as np
import pytest

import jaxmc as pm


def sample(model, **kw):
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm.sample(draws=500, tune=500, chains=2, progressbar=False, random_seed=7, **kw)


def inside(idata, name, value, prob=0.99):
    draws = idata.posterior[name].values.reshape(-1, *idata.posterior[name].shape[2:])
    lo, hi = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    return np.all((lo <= value) & (value <= hi)), (lo, hi)


def test_zero_inflated_poisson_regression():
    # (with seed 1 the simulated data put psi=0.7 just outside the 99% interval: PyMC/nutpie agrees, 0.53-0.70)
    rng = np.random.default_rng(11)
    n = 400
    x = rng.normal(size=n)
    psi, a, b = 0.7, 0.5, 0.8  # psi: probability of the Poisson component (PyMC's convention)
    counts = np.where(rng.uniform(size=n) < psi, rng.poisson(np.exp(a + b * x)), 0)
    with pm.Model() as model:
        xd = pm.Data("x", x)
        psi_ = pm.Beta("psi", 2, 2)
        a_ = pm.Normal("a", 0, 2)
        b_ = pm.Normal("b", 0, 2)
        pm.ZeroInflatedPoisson("y", psi=psi_, mu=pm.math.exp(a_ + b_ * xd), observed=counts)
    idata = sample(model)
    for name, value in [("psi", psi), ("a", a), ("b", b)]:
        ok, interval = inside(idata, name, value)
        assert ok, (name, value, interval)


def test_censored_regression():
    rng = np.random.default_rng(2)
    n = 300
    x = rng.uniform(-2, 2, size=n)
    a, b, s = 1.0, 1.5, 0.7
    latent = a + b * x + rng.normal(size=n) * s
    lower, upper = -0.5, 2.5
    y = np.clip(latent, lower, upper)
    assert 0.1 < np.mean((y == lower) | (y == upper)) < 0.6  # plenty of censoring
    with pm.Model() as model:
        a_ = pm.Normal("a", 0, 5)
        b_ = pm.Normal("b", 0, 5)
        s_ = pm.HalfNormal("s", 2)
        pm.Censored("y", pm.Normal.dist(a_ + b_ * x, s_), lower=lower, upper=upper, observed=y)
    idata = sample(model)
    for name, value in [("a", a), ("b", b), ("s", s)]:
        ok, interval = inside(idata, name, value)
        assert ok, (name, value, interval)
    # ignoring the censoring would bias the slope downwards: the censored model must not
    assert float(idata.posterior["b"].mean()) > 1.3


@pytest.mark.slow
def test_imputation_matches_pymc():
    """Imputed means agree with PyMC's (nutpie) within Monte Carlo error."""
    import arviz as az
    import pymc

    rng = np.random.default_rng(3)
    data = rng.normal(2.0, 1.5, size=40)
    data[[3, 11, 25]] = np.nan

    def build(lib):
        with lib.Model() as m:
            mu = lib.Normal("mu", 0, 10)
            s = lib.HalfNormal("s", 5)
            lib.Normal("y", mu, s, observed=data)
        return m

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = sample(build(pm))
        with build(pymc):
            theirs = pymc.sample(draws=1000, tune=500, chains=2, random_seed=3, progressbar=False,
                                 nuts_sampler="nutpie")
    a = ours.posterior["y_unobserved"]
    b = theirs.posterior["y_unobserved"]
    se = np.sqrt(az.mcse(ours, var_names=["y_unobserved"])["y_unobserved"].values ** 2
                 + az.mcse(theirs, var_names=["y_unobserved"])["y_unobserved"].values ** 2)
    z = (a.mean(("chain", "draw")).values - b.mean(("chain", "draw")).values) / se
    assert np.all(np.abs(z) < 4), z

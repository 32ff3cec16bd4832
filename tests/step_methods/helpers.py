"""Shared pieces of the step-method tests: a quiet pm.sample and a correlated 2-D normal."""

import numpy as np

import jaxmc as pm

COV = np.array([[1.0, 0.8], [0.8, 2.0]])
MEAN = np.array([1.0, -2.0])


def run(model, step, draws=2000, tune=500, chains=2, seed=1, **kwargs):
    with model:
        return pm.sample(draws=draws, tune=tune, chains=chains, step=step, progressbar=False, random_seed=seed,
                         compute_convergence_checks=False, **kwargs)


def correlated_normal():
    with pm.Model() as model:
        pm.MvNormal("x", mu=MEAN, cov=COV)
    return model


def assert_moments(draws, mean, cov, ess, z=4.5):
    """Mean within z Monte Carlo standard errors (for `ess` effective draws) and covariance within 20%."""
    draws = np.asarray(draws).reshape(-1, len(mean))
    se = np.sqrt(np.diag(cov) / ess)
    np.testing.assert_array_less(np.abs(draws.mean(0) - mean), z * se)
    np.testing.assert_allclose(np.cov(draws.T), cov, rtol=0.2, atol=0.1)

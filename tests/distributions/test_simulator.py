"""pm.Simulator fitted with pm.sample_smc (ABC): PyMC's SMC-ABC example recovers the mean and sd of a normal from
sorted samples; batched pseudo-likelihood evaluations (one host call) equal one-at-a-time ones."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmc as pm
from jaxmc.sampling import SamplingError


def normal_sim(rng, a, b, size):
    return rng.normal(a, b, size=size)


def test_batched_pseudo_likelihood_equals_single_evaluations():
    data = np.random.default_rng(0).normal(size=20)
    dist = pm.Simulator.dist(normal_sim, 0.0, 1.0, sum_stat="sort", size=20)
    logp = dist.owner.logp
    locs, scales = jnp.linspace(-1, 1, 6), jnp.linspace(0.5, 2, 6)
    batched = jax.jit(jax.vmap(lambda a, b: logp(jnp.asarray(data), a, b)))(locs, scales)
    single = [logp(jnp.asarray(data), a, b) for a, b in zip(locs, scales)]
    np.testing.assert_array_equal(np.asarray(batched), np.asarray(jnp.stack(single)))
    nested = jax.vmap(jax.vmap(lambda a, b: logp(jnp.asarray(data), a, b), (0, None)), (None, 0))(locs, scales)
    assert nested.shape == (6, 6, 20)
    np.testing.assert_array_equal(np.asarray(nested[2, 3]), np.asarray(logp(jnp.asarray(data), locs[3], scales[2])))


def _abc_model(n_data=100):
    data = np.random.default_rng(1).normal(loc=1.0, scale=2.0, size=n_data)
    with pm.Model() as m:
        a = pm.Normal("a", mu=0, sigma=5)
        b = pm.HalfNormal("b", sigma=3)
        pm.Simulator("s", normal_sim, params=(a, b), sum_stat="sort", epsilon=1, observed=data)
    return m, data


def test_smc_abc_recovers_normal_parameters():
    """PyMC's SMC-ABC example: the data's mean and sd are recovered within a few posterior sds."""
    m, data = _abc_model()
    idata = pm.sample_smc(200, chains=2, random_seed=4, progressbar=False, model=m,
                          compute_convergence_checks=False)
    a, b = idata.posterior["a"].values, idata.posterior["b"].values
    assert abs(a.mean() - data.mean()) < max(4 * a.std(), 0.1), (a.mean(), a.std(), data.mean())
    assert abs(b.mean() - data.std()) < max(4 * b.std(), 0.1), (b.mean(), b.std(), data.std())
    assert a.std() < 0.5 and b.std() < 0.5  # the data inform both well beyond their priors (sd 5, 3)
    beta = idata.sample_stats["beta"].values
    assert np.all(beta[:, -1] == 1) and np.all(np.isfinite(idata.sample_stats["log_marginal_likelihood"][:, -1]))


def test_nuts_refuses_simulator_and_points_to_smc():
    m, _ = _abc_model(10)
    with pytest.raises(SamplingError, match="pm.sample_smc"):
        pm.sample(draws=10, tune=10, chains=1, model=m, progressbar=False)

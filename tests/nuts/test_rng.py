"""The sampler's counter-based random numbers: distribution, independence of streams, reproducibility."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from jaxmc.nuts import rng


@pytest.fixture(scope="module")
def seed():
    return rng.seed_of(jax.random.PRNGKey(20261125))


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_uniforms_are_uniform_on_open_interval(seed, dtype):
    u = np.asarray(rng.uniform_at(seed, jnp.arange(200_000), dtype), np.float64)
    assert u.min() > 0 and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # consecutive numbers are uncorrelated, and pairs fill the unit square evenly
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01
    counts = np.histogram2d(u[::2], u[1::2], bins=10, range=[[0, 1], [0, 1]])[0].ravel()
    assert stats.chisquare(counts).pvalue > 1e-3


def test_normals_match_standard_normal(seed):
    z = np.asarray(rng.normal(seed, (100_000,), jnp.float64))
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(z.mean()) < 4 / np.sqrt(z.size)
    assert abs(z.var() - 1) < 4 * np.sqrt(2 / z.size)
    # neighbours are independent, also in their squares (the kinetic energy)
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 0.02
    assert abs(np.corrcoef(z[:-1] ** 2, z[1:] ** 2)[0, 1]) < 0.02
    z2 = np.asarray(rng.normal(seed, (50, 20), jnp.float64))
    assert z2.shape == (50, 20)
    np.testing.assert_array_equal(z2.ravel(), z[:1000])  # the same stream, laid out by shape
    z32 = np.asarray(rng.normal(seed, (20_001,), jnp.float32), np.float64)
    assert z32.shape == (20_001,) and stats.kstest(z32, "norm").pvalue > 1e-3


@pytest.mark.parametrize("dtype, tol", [(jnp.float64, 2e-15), (jnp.float32, 4e-7)])
def test_log_and_trigonometric_polynomials_are_accurate(dtype, tol):
    u = np.concatenate([np.random.default_rng(0).uniform(size=200_000), 2.0 ** -np.arange(1, 60),
                        [1.0, 0.5, 0.25, 0.75, 0.125, 1 - 2.0 ** -53, 0.7071067811865476]]).astype(dtype)
    exact = np.log(u.astype(np.float64))
    got = np.asarray(rng.log_unit(jnp.asarray(u)), np.float64)
    np.testing.assert_allclose(got, exact, rtol=tol, atol=tol)
    c, s = rng.cos_sin_2pi(jnp.asarray(u))
    np.testing.assert_allclose(np.asarray(c, np.float64), np.cos(2 * np.pi * u.astype(np.float64)), atol=tol)
    np.testing.assert_allclose(np.asarray(s, np.float64), np.sin(2 * np.pi * u.astype(np.float64)), atol=tol)


def test_substreams_and_seeds_are_independent(seed):
    a = np.asarray(rng.uniform_at(rng.substream(seed, 0), jnp.arange(50_000), jnp.float64))
    b = np.asarray(rng.uniform_at(rng.substream(seed, 1), jnp.arange(50_000), jnp.float64))
    other = rng.seed_of(jax.random.PRNGKey(20261126))  # a neighbouring key
    c = np.asarray(rng.uniform_at(other, jnp.arange(50_000), jnp.float64))
    for x, y in ((a, b), (a, c), (b, c)):
        assert abs(np.corrcoef(x, y)[0, 1]) < 0.02
        assert not np.any(x == y)


def test_reproducible_and_key_types_agree(seed):
    raw = jax.random.PRNGKey(7)
    typed = jax.random.wrap_key_data(raw)
    np.testing.assert_array_equal(rng.seed_of(raw), rng.seed_of(typed))
    u1 = rng.uniform_at(rng.seed_of(raw), jnp.arange(10), jnp.float64)
    u2 = jax.jit(lambda k: rng.uniform_at(rng.seed_of(k), jnp.arange(10), jnp.float64))(raw)
    np.testing.assert_array_equal(u1, u2)

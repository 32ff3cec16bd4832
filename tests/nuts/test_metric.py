"""The metric's kinetic energy, momentum draw and velocity against dense linear algebra."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxmc.nuts import metric as mt
from jaxmc.nuts.integrator import IntegratorState, leapfrog

KEY = jax.random.PRNGKey(3)


def _low_rank(d=7, k=3, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    vecs = np.zeros((d, k + 1))
    vecs[:, :k] = q[:, :k]  # the last column is unused: zero, eigenvalue 1
    vals = np.ones(k + 1)
    vals[:k] = [9.0, 0.05, 3.0][:k]
    inv_mass = rng.uniform(0.2, 4.0, size=d)
    return mt.low_rank(jnp.asarray(inv_mass), jnp.asarray(vecs), jnp.asarray(vals))


def test_dense_inverse_mass_is_the_definition():
    m = _low_rank()
    s = np.diag(np.sqrt(np.asarray(m.inv_mass)))
    u, lam = np.asarray(m.vecs), np.asarray(m.vals)
    expected = s @ (np.eye(7) + u @ np.diag(lam - 1) @ u.T) @ s
    np.testing.assert_allclose(mt.dense_inverse_mass(m), expected, rtol=1e-12)
    # symmetric positive definite, eigenvalues of the inner matrix are vals and 1
    assert np.all(np.linalg.eigvalsh(expected) > 0)


def test_velocity_and_kinetic_energy_match_dense_algebra():
    m = _low_rank()
    minv = np.asarray(mt.dense_inverse_mass(m))
    p = np.random.default_rng(1).normal(size=7)
    np.testing.assert_allclose(mt.velocity(jnp.asarray(p), m), minv @ p, rtol=1e-12)
    np.testing.assert_allclose(mt.kinetic_energy(jnp.asarray(p), m), 0.5 * p @ minv @ p, rtol=1e-12)


def test_momentum_covariance_is_the_mass_matrix():
    m = _low_rank()
    mass = np.linalg.inv(np.asarray(mt.dense_inverse_mass(m)))
    draws = jax.vmap(lambda s: mt.sample_momentum(s, m))(jax.random.split(jax.random.PRNGKey(0), 20000))
    cov = np.cov(np.asarray(draws).T)
    scale = np.sqrt(np.outer(np.diag(mass), np.diag(mass)))
    # each entry of a sample covariance of 20000 normal draws is within ~4 / sqrt(n) of the truth (relative)
    assert np.max(np.abs(cov - mass) / scale) < 4 * np.sqrt(2 / 20000) * 2
    # and exactly: p = M^{1/2}-type transform of z, so p^T M^-1 p = z^T z for each draw
    z = jax.vmap(lambda s: mt.sample_momentum(s, mt.diagonal(jnp.ones(7))))(
        jax.random.split(jax.random.PRNGKey(1), 5))
    p = jax.vmap(lambda s: mt.sample_momentum(s, m))(jax.random.split(jax.random.PRNGKey(1), 5))
    np.testing.assert_allclose(jax.vmap(lambda q: 2 * mt.kinetic_energy(q, m))(p), np.sum(np.asarray(z) ** 2, 1),
                               rtol=1e-10)


def test_diagonal_metric_uses_the_diagonal_formulas_bit_for_bit():
    inv_mass = jnp.asarray([0.3, 2.0, 5.5])
    p = jnp.asarray([0.7, -1.1, 0.4])
    for m in (inv_mass, mt.diagonal(inv_mass)):
        assert mt.is_diagonal(m)
        assert np.array_equal(mt.velocity(p, m), inv_mass * p)
        assert np.array_equal(mt.kinetic_energy(p, m), 0.5 * jnp.sum(p * inv_mass * p))
        assert np.array_equal(mt.sample_momentum(KEY, m), mt.sample_momentum(KEY, inv_mass))
    # unused low-rank columns (zero vectors, eigenvalue 1) give the diagonal metric's values
    wide = mt.diagonal(inv_mass, rank=2)
    assert not mt.is_diagonal(wide) and not bool(wide.active)
    np.testing.assert_allclose(mt.velocity(p, wide), inv_mass * p, rtol=1e-15)
    np.testing.assert_allclose(mt.sample_momentum(KEY, wide), mt.sample_momentum(KEY, inv_mass), rtol=1e-15)


@pytest.mark.parametrize("jit", [False, True])
def test_active_decides_between_the_formulas(jit):
    """The low-rank formulas (O(d k) per call) run only when some column is used (``active``), the diagonal ones
    otherwise, by a branch also when ``active`` is known only at run time."""
    inv_mass = jnp.asarray([0.3, 2.0, 5.5])
    p = jnp.asarray([0.7, -1.1, 0.4])
    used = mt.low_rank(inv_mass, jnp.asarray([[1.0], [0.0], [0.0]]), jnp.asarray([4.0]))
    assert bool(used.active)
    run = jax.jit if jit else (lambda f: f)
    dense = np.asarray(mt.dense_inverse_mass(used))
    np.testing.assert_allclose(run(mt.velocity)(p, used), dense @ np.asarray(p), rtol=1e-14)
    np.testing.assert_allclose(run(mt.kinetic_energy)(p, used), 0.5 * p @ dense @ p, rtol=1e-14)
    # the same columns marked unused: the diagonal metric
    unused = used._replace(active=jnp.bool_(False))
    np.testing.assert_allclose(run(mt.velocity)(p, unused), inv_mass * p, rtol=1e-15)
    np.testing.assert_allclose(run(mt.kinetic_energy)(p, unused), 0.5 * jnp.sum(p * inv_mass * p), rtol=1e-15)
    np.testing.assert_allclose(run(mt.sample_momentum)(KEY, unused), mt.sample_momentum(KEY, inv_mass), rtol=1e-15)


def test_leapfrog_with_low_rank_metric_moves_along_the_velocity_and_is_reversible():
    m = _low_rank()

    def logp(x):
        return -0.5 * jnp.sum(x ** 2)

    x0, p0 = jnp.linspace(-1, 1, 7), jnp.asarray(np.random.default_rng(2).normal(size=7))
    s0 = IntegratorState(x0, p0, logp(x0), -x0)
    s1 = leapfrog(logp, s0, 0.1, m)
    minv = np.asarray(mt.dense_inverse_mass(m))
    half = np.asarray(p0) + 0.05 * np.asarray(-x0)
    np.testing.assert_allclose(s1.position, np.asarray(x0) + 0.1 * minv @ half, rtol=1e-12)
    back = leapfrog(logp, s1._replace(momentum=-s1.momentum), 0.1, m)
    np.testing.assert_allclose(back.position, x0, atol=1e-12)


def test_with_diagonal_keeps_the_kind():
    m = _low_rank()
    new = jnp.ones(7)
    assert isinstance(mt.with_diagonal(m, new), mt.Metric)
    assert mt.with_diagonal(m, new).vecs is m.vecs
    assert mt.with_diagonal(jnp.zeros(7), new) is new


@pytest.mark.parametrize("dtype", [jnp.float32])
def test_float32_metric_keeps_dtype(dtype):
    m = jax.tree_util.tree_map(lambda a: a.astype(dtype), _low_rank())
    p = jnp.ones(7, dtype)
    assert mt.velocity(p, m).dtype == dtype
    assert mt.sample_momentum(KEY, m).dtype == dtype

"""The Stein gradient's pieces: the median bandwidth equals numpy's median; the RBF kernel and its gradient."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.variational.stein import median, rbf


def test_stein_median_is_numpys():
    rng = np.random.default_rng(1)
    for n in (2, 7, 51):
        X = rng.normal(size=(n, 2))
        H = ((X[:, None] - X[None]) ** 2).sum(-1).ravel()
        assert float(jax.jit(median)(jnp.asarray(H))) == np.median(H)
    v = np.array([3.0, 1.0, 1.0, 2.0, 2.0, 2.0])
    assert float(median(jnp.asarray(v))) == np.median(v)


def test_rbf_kernel_and_its_gradient():
    """K = exp(-|x_i - x_j|^2 / 2h) with h = median / (2 log(n + 1)); dxkxy[i] = sum_j d/dx_j k(x_j, x_i)."""
    X = jnp.asarray(np.random.default_rng(2).normal(size=(6, 2)))
    K, dxkxy = jax.jit(rbf)(X)
    H = ((X[:, None] - X[None]) ** 2).sum(-1)
    h = 0.5 * np.median(np.asarray(H)) / np.log(7.0)
    np.testing.assert_allclose(K, np.exp(-H / h / 2), rtol=1e-12)

    def k(xj, xi):
        return jnp.exp(-jnp.sum((xj - xi) ** 2) / h / 2)

    expected = jax.vmap(lambda xi: jax.vmap(lambda xj: jax.grad(k)(xj, xi))(X).sum(0))(X)
    np.testing.assert_allclose(dxkxy, expected, rtol=1e-10)

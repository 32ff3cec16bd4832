"""Stein variational gradient (SVGD, ASVGD): the RBF kernel with PyMC's median bandwidth and the particle update
direction."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _kth_smallest(v, k: int):
    """The k-th smallest (1-based) entry of a flat array, by bisection on values (64 counting passes: far cheaper
    than sorting the n^2 distances on CPU), then snapped to the entry itself."""
    def body(_, c):
        lo, hi = c
        mid = lo + (hi - lo) / 2
        take = jnp.sum(v <= mid) >= k
        return jnp.where(take, lo, mid), jnp.where(take, mid, hi)

    _, hi = jax.lax.fori_loop(0, 64, body, (jnp.min(v), jnp.max(v)))
    return jnp.max(jnp.where(v <= hi, v, -jnp.inf))


def median(v):
    """np.median of a flat array (the mean of the two middle entries for an even length)."""
    n = v.shape[0]
    a = _kth_smallest(v, (n + 1) // 2)
    if n % 2:
        return a
    b = jnp.where(jnp.sum(v <= a) >= n // 2 + 1, a, jnp.min(jnp.where(v > a, v, jnp.inf)))
    return (a + b) / 2


def rbf(X):
    """Kernel matrix K and the sum over particles of its gradients (PyMC's `rbf`: h = median distance / log n)."""
    XY = X @ X.T
    x2 = jnp.sum(X * X, axis=1)
    H = x2[:, None] + x2[None, :] - 2.0 * XY
    h = 0.5 * median(H.ravel()) / jnp.log(X.shape[0] + 1.0)
    K = jnp.exp(-H / h / 2.0)
    dxkxy = (-K @ X + X * jnp.sum(K, axis=-1, keepdims=True)) / h
    return K, dxkxy


def stein_direction(X, dlogp, temperature=1.0, normalizing_constant=1.0):
    """The SVGD update direction of particles X (n, d) with log density gradients dlogp (n, d)."""
    K, dxkxy = rbf(X)
    return (K @ (dlogp / normalizing_constant) / temperature + dxkxy / normalizing_constant) / X.shape[0]

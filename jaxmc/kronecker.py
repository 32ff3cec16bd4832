"""Kronecker-structured linear algebra without forming the Kronecker product (pm.math.cartesian, kron_dot,
kron_solve_lower / _upper, kron_diag), for Kronecker GPs and users' own code."""

from __future__ import annotations

from functools import reduce

import jax.numpy as jnp
from jax.scipy.linalg import solve_triangular


def cartesian(*arrays):
    """Rows of the Cartesian product of 2-D arrays (earlier arrays vary slowest), as pymc.math.cartesian."""
    sizes = [a.shape[0] for a in arrays]
    grids = jnp.meshgrid(*[jnp.arange(s) for s in sizes], indexing="ij")
    return jnp.concatenate([a[g.reshape(-1)] for a, g in zip(arrays, grids)], axis=-1)


def kron_dot(mats, m):
    """kron(*mats) @ m without forming the Kronecker product (m: vector or matrix)."""
    vec = m.ndim == 1
    M = m[:, None] if vec else m
    ns = [A.shape[-1] for A in mats]
    T = M.reshape(*ns, M.shape[-1])
    for d, A in enumerate(mats):
        Td = jnp.moveaxis(T, d, 0)
        shape = Td.shape
        Td = (A @ Td.reshape(shape[0], -1)).reshape((A.shape[0],) + shape[1:])
        T = jnp.moveaxis(Td, 0, d)
    out = T.reshape(-1, M.shape[-1])
    return out[:, 0] if vec else out


def triangular_inverse(T, lower=True):
    """T^-1 of a triangular matrix: applied by matrix products, which XLA:CPU runs much faster than a
    triangular solve with many right-hand sides."""
    return solve_triangular(T, jnp.eye(T.shape[-1], dtype=T.dtype), lower=lower)


def kron_solve_lower(chols, m):
    """kron(*chols)^-1 @ m for lower-triangular factors."""
    return kron_dot([triangular_inverse(L, lower=True) for L in chols], m)


def kron_solve_upper(chols, m):
    """kron(*chols)^-1 @ m for upper-triangular factors."""
    return kron_dot([triangular_inverse(U, lower=False) for U in chols], m)


def kron_diag(*diags):
    """The diagonal of kron(diag(d1), diag(d2), ...)."""
    return reduce(lambda a, b: (a[:, None] * b[None, :]).reshape(-1), diags)

"""Spatial families on a graph: CAR and ICAR."""

from __future__ import annotations


import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from jaxmc import config
from jaxmc.distributions import constraints
from jaxmc.distributions.base import Continuous
from jaxmc.distributions.dist_math import LOG_SQRT_2PI
from jaxmc.distributions.multivariate.common import broadcast_up, build, is_node, specialize, swap
from jaxmc.distributions.params import as_param, shape_of
from jaxmc.graph import apply

__all__ = ["CAR", "ICAR"]


def _car_eigs(W):
    D = jnp.sum(W, axis=-2)
    dinv = 1.0 / jnp.sqrt(D)
    DWD = dinv[..., :, None] * W * dinv[..., None, :]
    return jnp.linalg.eigvalsh(DWD)


class CAR(Continuous):
    r"""CAR(mu, W, alpha, tau): conditional autoregression with adjacency matrix W (PyMC's log density)."""

    param_names = ("mu", "W", "alpha", "tau", "eigvals")
    arg_constraints = {
        "alpha": constraints.open_interval(-1, 1), "tau": constraints.positive, "W": constraints.symmetric,
    }
    check_messages = {"W": "W is a symmetric adjacency matrix"}
    ndim_supp = 1
    ndims_params = (1, 2, 0, 0, 1)

    @classmethod
    def dist(cls, mu, W, alpha, tau, *args, **kwargs):
        W = as_param(W, "W")
        m = shape_of(W)[-1]
        mu = as_param(mu, "mu")
        mu = broadcast_up(mu, (m,))
        lam = apply(_car_eigs, W)
        return super().dist([mu, W, alpha, tau, lam], **kwargs)

    def supp_shape(self, mu, W, alpha, tau, lam):
        return (W.shape[-1],)

    def logp(self, value, mu, W, alpha, tau, lam):
        D = jnp.sum(W, axis=-2)
        d = W.shape[-1]
        delta = value - mu
        Wdelta = jnp.einsum("...i,...ij->...j", delta, W)
        a = jnp.expand_dims(alpha, -1)
        tdd = D * delta - a * Wdelta
        logquad = tau * jnp.sum(delta * tdd, -1)
        logtau = d * jnp.log(tau)
        logdet = jnp.sum(jnp.log(1 - a * lam), -1)
        return 0.5 * (logtau + logdet - logquad)

    def random(self, key, mu, W, alpha, tau, lam, size):
        size = tuple(size)
        m = W.shape[-1]
        D = jnp.sum(W, axis=-2)
        a = jnp.asarray(alpha)[..., None, None]
        Q = jnp.asarray(tau)[..., None, None] * (D[..., :, None] * jnp.eye(m, dtype=W.dtype) - a * W)
        L = jnp.broadcast_to(jnp.linalg.cholesky(Q), (*size[:-1], m, m))
        z = jax.random.normal(key, size, dtype=W.dtype)
        return mu + jsl.solve_triangular(swap(L), z[..., None], lower=False)[..., 0]

    def support_point(self, mu, W, alpha, tau, lam, size):
        return jnp.broadcast_to(mu, size)


class ICAR(Continuous):
    r"""ICAR(W, sigma=1, zero_sum_stdev=0.001): intrinsic CAR prior (PyMC's density with a soft zero-sum
    constraint); W must be a constant symmetric 0/1 matrix. No random draws (as in PyMC)."""

    param_names = ("W", "sigma", "zero_sum_stdev")
    arg_constraints = {"sigma": constraints.positive}
    ndim_supp = 1
    ndims_params = (2, 0, 0)
    _edges = ((), ())

    @classmethod
    def dist(cls, W, sigma=1, zero_sum_stdev=0.001, **kwargs):
        if is_node(W):
            raise TypeError("ICAR: W must be a constant matrix (numpy array), not a model variable")
        W = np.asarray(W.toarray() if hasattr(W, "toarray") else W)
        if not W.ndim == 2:
            raise ValueError("W must be matrix with ndim=2")
        if not W.shape[0] == W.shape[1]:
            raise ValueError("W must be a square matrix")
        if not np.allclose(W.T, W):
            raise ValueError("W must be a symmetric matrix")
        if np.any((W != 0) & (W != 1)):
            raise ValueError("W must be composed of only 1s and 0s")
        node1, node2 = np.nonzero(np.tril(W) == 1)
        sub = specialize(cls, _edges=(tuple(int(i) for i in node1), tuple(int(i) for i in node2)))
        return build(sub, [W.astype(config.floatX()), sigma, zero_sum_stdev], **kwargs)

    def supp_shape(self, W, sigma, zss):
        return (W.shape[-1],)

    def logp(self, value, W, sigma, zero_sum_stdev):
        N = value.shape[-1]
        n1, n2 = np.asarray(self._edges[0], int), np.asarray(self._edges[1], int)
        pairwise = (-1 / (2 * sigma**2)) * jnp.sum((value[..., n1] - value[..., n2]) ** 2, -1)
        zero_sum = (-0.5 * (jnp.sum(value, -1) / (zero_sum_stdev * N)) ** 2 - LOG_SQRT_2PI
                    - jnp.log(zero_sum_stdev * N))
        return pairwise + zero_sum

    def random(self, key, W, sigma, zero_sum_stdev, size):
        raise NotImplementedError("Cannot sample from ICAR prior")

    def support_point(self, W, sigma, zero_sum_stdev, size):
        return jnp.zeros(size, config.floatX())

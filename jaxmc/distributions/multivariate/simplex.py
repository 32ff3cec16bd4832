"""Probability vectors: Dirichlet and StickBreakingWeights (simplex transform)."""

from __future__ import annotations


import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

from jaxmc.distributions import constraints
from jaxmc.distributions.base import Continuous
from jaxmc.distributions.dist_math import logpow
from jaxmc.distributions.multivariate.common import build, ndim_of, specialize
from jaxmc.distributions.params import as_param, static_int

__all__ = ["Dirichlet", "StickBreakingWeights"]


class Dirichlet(Continuous):
    r"""Dirichlet(a): probability vectors; the number of categories is a.shape[-1]."""

    param_names = ("a",)
    support = constraints.simplex
    arg_constraints = {"a": constraints.positive}
    ndim_supp = 1
    ndims_params = (1,)

    @classmethod
    def dist(cls, a, **kwargs):
        a = as_param(a, "a")
        if ndim_of(a) < 1:
            raise ValueError("Dirichlet: a must be at least one dimensional (one entry per category)")
        return super().dist([a], **kwargs)

    def supp_shape(self, a):
        return (a.shape[-1],)

    def logp(self, value, a):
        return jnp.sum(logpow(value, a - 1) - jsp.gammaln(a), -1) + jsp.gammaln(jnp.sum(a, -1))

    def random(self, key, a, size):
        size = tuple(size)
        return jax.random.dirichlet(key, jnp.broadcast_to(a, size), size[:-1], dtype=a.dtype)

    def support_point(self, a, size):
        return jnp.broadcast_to(a / jnp.sum(a, -1, keepdims=True), size)


class StickBreakingWeights(Continuous):
    r"""StickBreakingWeights(alpha, K): K + 1 truncated stick-breaking weights (a simplex)."""

    param_names = ("alpha",)
    # PyMC checks that the weights sum to 1
    support = constraints.sums_to_one
    arg_constraints = {"alpha": constraints.positive}
    ndim_supp = 1
    ndims_params = (0,)
    _K = None

    @classmethod
    def dist(cls, alpha, K, *args, **kwargs):
        K = static_int(K, "StickBreakingWeights: K")
        return build(specialize(cls, _K=K), [alpha], **kwargs)

    def supp_shape(self, alpha):
        return (self._K + 1,)

    def logp(self, value, alpha):
        K = self._K
        lp = -jnp.sum(jnp.log(jnp.cumsum(value[..., ::-1], axis=-1)), axis=-1)
        lp = lp - K * jsp.betaln(1.0, alpha)
        return lp + alpha * jnp.log(value[..., -1])

    def check_params(self, alpha):
        return [*super().check_params(alpha), (jnp.asarray(self._K > 0), "K > 0")]

    def random(self, key, alpha, size):
        size = tuple(size)
        K = self._K
        betas = jax.random.beta(key, 1.0, alpha[..., None], (*size[:-1], K), dtype=alpha.dtype)
        sticks = jnp.concatenate([jnp.ones((*size[:-1], 1), betas.dtype),
                                  jnp.cumprod(1 - betas[..., :-1], axis=-1)], axis=-1)
        weights = sticks * betas
        return jnp.concatenate([weights, 1 - jnp.sum(weights, -1, keepdims=True)], axis=-1)

    def support_point(self, alpha, size):
        K = self._K
        a = alpha[..., None]
        sp = (a / (1 + a)) ** jnp.arange(K) / (1 + a)
        sp = jnp.concatenate([sp, (a / (1 + a)) ** K], axis=-1)
        return jnp.broadcast_to(sp, size)

"""Counts over categories: Multinomial, DirichletMultinomial, OrderedMultinomial."""

from __future__ import annotations


import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

from jaxmc.distributions import constraints
from jaxmc.distributions.base import Discrete, Distribution
from jaxmc.distributions.dist_math import logpow
from jaxmc.distributions.multivariate.common import broadcast_param, build, family, is_node
from jaxmc.distributions.params import as_param, normalized_p, shape_of
from jaxmc.graph import apply

__all__ = ["DirichletMultinomial", "Multinomial", "OrderedMultinomial"]


class Multinomial(Discrete):
    r"""Multinomial(n, p): counts of n trials over p.shape[-1] outcomes."""

    param_names = ("n", "p")
    support = constraints.counts_summing_to("n")
    arg_constraints = {"p": (constraints.unit_interval, constraints.sums_to_one), "n": constraints.nonnegative}
    ndim_supp = 1
    ndims_params = (0, 1)
    integer_params = ("n",)

    @classmethod
    def dist(cls, n, p, *args, **kwargs):
        if not is_node(p):
            p = normalized_p(p)
        return build(family(cls), [n, p], **kwargs)

    def supp_shape(self, n, p):
        return (p.shape[-1],)

    def logp(self, value, n, p):
        return jsp.gammaln(n + 1.0) + jnp.sum(-jsp.gammaln(value + 1.0) + logpow(p, value), axis=-1)

    def random(self, key, n, p, size):
        size = tuple(size)
        p = jnp.broadcast_to(p, size)
        n = jnp.broadcast_to(n, size[:-1]).astype(p.dtype)
        return jax.random.multinomial(key, n, p)

    def support_point(self, n, p, size):
        return _multinomial_mode(n, p, size)


def _multinomial_mode(n, p, size):
    n = jnp.asarray(n)[..., None].astype(p.dtype)
    mean = n * p
    mode = jnp.round(mean)
    diff = n - jnp.sum(mode, axis=-1, keepdims=True)
    idx = jnp.argmax(mean, axis=-1, keepdims=True)
    mode = mode + diff * (jnp.arange(p.shape[-1]) == idx)
    return jnp.broadcast_to(mode, size)


class DirichletMultinomial(Discrete):
    r"""DirichletMultinomial(n, a): a Dirichlet(a) mixture of Multinomial(n, p)."""

    param_names = ("n", "a")
    support = constraints.counts_summing_to("n")
    arg_constraints = {"a": constraints.positive, "n": constraints.nonnegative}
    ndim_supp = 1
    ndims_params = (0, 1)
    integer_params = ("n",)

    @classmethod
    def dist(cls, n, a, *args, **kwargs):
        return super().dist([n, a], **kwargs)

    def supp_shape(self, n, a):
        return (a.shape[-1],)

    def logp(self, value, n, a):
        sum_a = jnp.sum(a, -1)
        const = jsp.gammaln(n + 1.0) + jsp.gammaln(sum_a) - jsp.gammaln(n + sum_a)
        series = jsp.gammaln(value + a) - (jsp.gammaln(value + 1.0) + jsp.gammaln(a))
        return const + jnp.sum(series, -1)

    def random(self, key, n, a, size):
        size = tuple(size)
        k1, k2 = jax.random.split(key)
        a = jnp.broadcast_to(a, size)
        p = jax.random.dirichlet(k1, a, size[:-1], dtype=a.dtype)
        return jax.random.multinomial(k2, jnp.broadcast_to(n, size[:-1]).astype(a.dtype), p)

    def support_point(self, n, a, size):
        return _multinomial_mode(n, a / jnp.sum(a, -1, keepdims=True), size)


def _ordered_probs(eta, cutpoints):
    pa = jax.nn.sigmoid(cutpoints - jnp.expand_dims(eta, -1))
    zeros = jnp.zeros_like(pa[..., :1])
    p_cum = jnp.concatenate([zeros, pa, jnp.ones_like(zeros)], axis=-1)
    return p_cum[..., 1:] - p_cum[..., :-1]


class OrderedMultinomial(Multinomial):
    r"""OrderedMultinomial(eta, cutpoints, n, compute_p=True): Multinomial with ordered-logistic probabilities.

    Registers the Deterministic `<name>_probs` unless compute_p=False.
    """

    def __new__(cls, name, *args, compute_p=True, **kwargs):
        out = Distribution.__new__(cls, name, *args, **kwargs)
        if compute_p:
            from jaxmc.model.named import Deterministic

            p = out.owner.params[-1]
            dims = kwargs.get("dims")
            if dims is not None and shape_of(p) != out.shape:
                p = broadcast_param(p, out.shape)
            Deterministic(f"{name}_probs", p, dims=dims)
        return out

    @classmethod
    def dist(cls, eta, cutpoints, n, *args, **kwargs):
        p = apply(_ordered_probs, as_param(eta, "eta"), as_param(cutpoints, "cutpoints"))
        return build(family(cls), [n, p], **kwargs)

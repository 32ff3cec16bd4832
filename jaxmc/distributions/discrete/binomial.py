"""Successes in trials: Bernoulli, Binomial, BetaBinomial, HyperGeometric (binomial coefficients through
`betaln`, logit parameterizations kept on the logit scale)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

from jaxmc import config
from jaxmc.distributions import constraints
from jaxmc.distributions.base import Discrete
from jaxmc.distributions.constraints import is_integer
from jaxmc.distributions.discrete.cdf import log_betainc, logcdf_by_sum
from jaxmc.distributions.dist_math import as_float, betaln, binomln
from jaxmc.distributions.params import cast_int_constant, exclusive
from jaxmc.graph import apply
from jaxmc.graph.rewrites import logit_of_sigmoid
from jaxmc.graph.traversal import convert_foreign

__all__ = ["Bernoulli", "BetaBinomial", "Binomial", "HyperGeometric"]


def _on_logit_scale(p, logit_p):
    """(p, logit_p) with p = sigmoid(x) given as logit_p = x (and 1 - sigmoid(x) as -x): log(p) and
    log(1 - p) are then exact where p rounds to 0 or 1 (PyMC's stabilizing rewrites, docs/rewrites.md)."""
    p = convert_foreign(p)  # PyTensor's sigmoid arrives as pm.math.invlogit (pytensor_interop)
    x = logit_of_sigmoid(p, apply) if logit_p is None else None
    return (p, logit_p) if x is None else (None, x)


class Bernoulli(Discrete):
    """Bernoulli(p) or Bernoulli(logit_p=...): 1 with probability p, else 0."""

    param_names = ("p",)
    support = constraints.boolean
    arg_constraints = {"p": constraints.unit_interval}
    logit = False

    @classmethod
    def dist(cls, p=None, logit_p=None, *args, **kwargs):
        exclusive("p", p, "logit_p", logit_p)
        p, logit_p = _on_logit_scale(p, logit_p)
        node = super().dist([p if logit_p is None else logit_p], *args, **kwargs)
        if logit_p is not None:
            node.owner.logit = True
            node.owner.param_names = ("logit_p",)
        return node

    def _p(self, p):
        return jax.nn.sigmoid(p) if self.logit else p

    def logp(self, value, p):
        v = as_float(value)
        if self.logit:
            return jnp.where(v == 1, jax.nn.log_sigmoid(p), jax.nn.log_sigmoid(-p))
        return jnp.where(v == 1, jnp.log(p), jnp.log1p(-p))

    def logcdf(self, value, p):
        v = as_float(value)
        l0 = jax.nn.log_sigmoid(-p) if self.logit else jnp.log1p(-p)
        return jnp.where(v < 0, -jnp.inf, jnp.where(v < 1, l0, 0.0))

    def random(self, key, p, size):
        return jax.random.bernoulli(key, self._p(p), size).astype(config.intX())

    def support_point(self, p, size):
        return jnp.broadcast_to(jnp.where(self._p(p) < 0.5, 0, 1), size)


class Binomial(Discrete):
    """Binomial(n, p) or Binomial(n, logit_p=...): successes in n trials."""

    param_names = ("n", "p")
    support = constraints.integer_interval(0, "n")
    arg_constraints = {"n": constraints.nonnegative, "p": constraints.unit_interval}
    integer_params = ("n",)
    logit = False

    @classmethod
    def dist(cls, n, p=None, logit_p=None, *args, **kwargs):
        exclusive("p", p, "logit_p", logit_p)
        p, logit_p = _on_logit_scale(p, logit_p)
        node = super().dist([cast_int_constant(n), p if logit_p is None else logit_p], *args, **kwargs)
        if logit_p is not None:
            node.owner.logit = True
            node.owner.param_names = ("n", "logit_p")
        return node

    def _p(self, p):
        return jax.nn.sigmoid(p) if self.logit else p

    def logp(self, value, n, p):
        n = as_float(n)
        v = jnp.clip(as_float(value), 0.0, n)  # safe inside the support (checked_logp masks the rest)
        if self.logit:
            return binomln(n, v) + v * jax.nn.log_sigmoid(p) + (n - v) * jax.nn.log_sigmoid(-p)
        return binomln(n, v) + jsp.xlogy(v, p) + jsp.xlog1py(n - v, -p)

    def logcdf(self, value, n, p):
        n = as_float(n)
        v = jnp.floor(as_float(value))
        inside = (v >= 0) & (v < n)
        vs = jnp.where(inside, v, 0.0)
        ns = jnp.where(inside, n, 1.0)
        if self.logit:
            q, q1m = jax.nn.sigmoid(-p), jax.nn.sigmoid(p)
        else:
            q, q1m = 1.0 - p, p
        res = log_betainc(ns - vs, vs + 1.0, q, q1m)
        return jnp.where(v < 0, -jnp.inf, jnp.where(v < n, res, 0.0))

    def random(self, key, n, p, size):
        n = jnp.broadcast_to(as_float(n), size)
        p = jnp.broadcast_to(self._p(p), size)
        return jax.random.binomial(key, n, p, shape=size).astype(config.intX())

    def support_point(self, n, p, size):
        return jnp.broadcast_to(jnp.round(n * self._p(p)), size)


class BetaBinomial(Discrete):
    """BetaBinomial(alpha, beta, n): Binomial(n, p) with p ~ Beta(alpha, beta)."""

    param_names = ("n", "alpha", "beta")
    support = constraints.integer_interval(0, "n")
    arg_constraints = {"n": constraints.nonnegative, "alpha": constraints.positive, "beta": constraints.positive}
    integer_params = ("n",)

    @classmethod
    def dist(cls, alpha, beta, n, *args, **kwargs):
        return super().dist([cast_int_constant(n), alpha, beta], *args, **kwargs)

    @staticmethod
    def _logpmf(v, n, alpha, beta):
        return binomln(n, v) + betaln(v + alpha, n - v + beta) - betaln(alpha, beta)

    def logp(self, value, n, alpha, beta):
        n = as_float(n)
        v = jnp.clip(as_float(value), 0.0, n)
        return self._logpmf(v, n, alpha, beta)

    def logcdf(self, value, n, alpha, beta):
        n = as_float(n)
        v = jnp.floor(as_float(value))
        n, alpha, beta, v = jnp.broadcast_arrays(n, as_float(alpha), as_float(beta), v)
        res = _betabinom_logcdf_sum(v, n, alpha, beta)
        return jnp.where(v < 0, -jnp.inf, jnp.where(v < n, res, 0.0))

    def random(self, key, n, alpha, beta, size):
        k1, k2 = jax.random.split(key)
        p = jax.random.beta(k1, jnp.broadcast_to(alpha, size), jnp.broadcast_to(beta, size), size)
        return jax.random.binomial(k2, jnp.broadcast_to(as_float(n), size), p, shape=size).astype(config.intX())

    def support_point(self, n, alpha, beta, size):
        return jnp.broadcast_to(jnp.round(n * alpha / (alpha + beta)), size)


@jax.custom_jvp
def _betabinom_logcdf_sum(v, n, alpha, beta):
    return _betabinom_logcdf_with_grads(v, n, alpha, beta)[0]


def _betabinom_logcdf_with_grads(v, n, alpha, beta):
    top = jnp.clip(v, -1.0, n)  # empty sum below 0
    lab = betaln(alpha, beta)
    dab = jsp.digamma(alpha + beta)

    def logpmf(j):
        return binomln(n, j) + betaln(j + alpha, n - j + beta) - lab

    def grad_terms(j):
        dn = jsp.digamma(n + alpha + beta)
        return (jsp.digamma(j + alpha) - dn - jsp.digamma(alpha) + dab,
                jsp.digamma(n - j + beta) - dn - jsp.digamma(beta) + dab)

    acc, (ga, gb) = logcdf_by_sum(logpmf, jnp.zeros_like(v), top, n_grads=2, grad_terms=grad_terms)
    return acc, ga, gb


@_betabinom_logcdf_sum.defjvp
def _betabinom_logcdf_sum_jvp(primals, tangents):
    v, n, alpha, beta = primals
    _, _, ta, tb = tangents
    acc, ga, gb = _betabinom_logcdf_with_grads(v, n, alpha, beta)
    return acc, ga * ta + gb * tb


class HyperGeometric(Discrete):
    """HyperGeometric(N, k, n): successes in n draws without replacement from N items of which k succeed."""

    param_names = ("N", "k", "n")
    integer_params = ("N", "k", "n")

    @classmethod
    def dist(cls, N, k, n, *args, **kwargs):
        return super().dist([cast_int_constant(N), cast_int_constant(k), cast_int_constant(n)],
                            *args, **kwargs)

    @staticmethod
    def _bounds(N, k, n):
        return jnp.maximum(n - N + k, 0), jnp.minimum(k, n)

    @staticmethod
    def _logpmf(v, N, k, n):
        return binomln(k, v) + binomln(N - k, n - v) - binomln(N, n)

    def logp(self, value, N, k, n):
        N, k, n = as_float(N), as_float(k), as_float(n)
        lower, upper = self._bounds(N, k, n)
        v = jnp.clip(as_float(value), lower, jnp.maximum(upper, lower))
        return self._logpmf(v, N, k, n)

    def logcdf(self, value, N, k, n):
        N, k, n = as_float(N), as_float(k), as_float(n)
        v = jnp.floor(as_float(value))
        v, N, k, n = jnp.broadcast_arrays(v, N, k, n)
        lower, upper = self._bounds(N, k, n)
        inside = (v >= lower) & (v < upper)
        top = jnp.where(inside, v, lower - 1.0)
        acc, _ = logcdf_by_sum(lambda j: self._logpmf(j, N, k, n), lower, top)
        return jnp.where(v < lower, -jnp.inf, jnp.where(v >= upper, 0.0, acc))

    def random(self, key, N, k, n, size):
        N, k, n = (jnp.broadcast_to(as_float(x), size) for x in (N, k, n))
        lower, upper = self._bounds(N, k, n)
        u = jax.random.uniform(key, size, dtype=config.floatX())
        log_c = binomln(N, n)

        def pmf(x):
            return jnp.exp(binomln(k, x) + binomln(N - k, n - x) - log_c)

        cdf0 = pmf(lower)
        init = (lower, cdf0, (cdf0 >= u) | (lower >= upper))

        def cond(s):
            return ~jnp.all(s[2])

        def body(s):
            x, cdf, done = s
            x = jnp.where(done, x, x + 1.0)
            cdf = jnp.where(done, cdf, cdf + pmf(jnp.minimum(x, upper)))
            return x, cdf, done | (cdf >= u) | (x >= upper)

        x, _, _ = jax.lax.while_loop(cond, body, init)
        return x.astype(config.intX())

    def support_point(self, N, k, n, size):
        return jnp.broadcast_to(jnp.floor((n + 1) * (k + 1) / (N + 2)), size)

    def in_support(self, value, N, k, n):
        lower, upper = self._bounds(as_float(N), as_float(k), as_float(n))
        return is_integer(value) & (value >= 0) & ~(value < lower) & ~(value > upper)  # NaN bounds do not reject

    def check_params(self, N, k, n):
        lower, upper = self._bounds(N, k, n)
        return [(lower <= upper, "lower <= upper"), (N >= 0, "N >= 0"),
                ((k >= 0) & (k <= N), "0 <= k <= N"), ((n >= 0) & (n <= N), "0 <= n <= N")]

"""Families on the real line with a location and a scale (Laplace, logistic, Gumbel, Moyal), and the
improper flat densities."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

from jaxmc.distributions import constraints
from jaxmc.distributions.base import Continuous
from jaxmc.distributions.dist_math import EULER_GAMMA, LOG2, LOG_SQRT_2PI, full, fx, uniform01
from jaxmc.distributions.params import lift

__all__ = ["AsymmetricLaplace", "Flat", "Gumbel", "HalfFlat", "Laplace", "Logistic", "Moyal"]


class _Improper(Continuous):
    """Improper flat densities (log density 0, no parameters); they cannot be sampled."""

    param_names = ()

    @classmethod
    def dist(cls, **kwargs):
        return super().dist([], **kwargs)

    def logp(self, value):
        return jnp.zeros_like(value)


class Flat(_Improper):
    """Improper flat density on the real line (log density 0); cannot be sampled."""

    def logcdf(self, value):
        zero = jnp.zeros_like(value)
        return jnp.where(value == -jnp.inf, -jnp.inf, jnp.where(value == jnp.inf, zero, zero - LOG2))

    def random(self, key, size):
        raise NotImplementedError("Cannot sample from flat variable")

    def support_point(self, size):
        return jnp.zeros(size)


class HalfFlat(_Improper):
    """Improper flat density on [0, inf); cannot be sampled."""

    support = constraints.nonnegative

    def logcdf(self, value):
        return jnp.where(value == jnp.inf, jnp.zeros_like(value), -jnp.inf)

    def random(self, key, size):
        raise NotImplementedError("Cannot sample from half_flat variable")

    def support_point(self, size):
        return jnp.ones(size)


class Laplace(Continuous):
    """Laplace(mu, b)."""

    param_names = ("mu", "b")
    arg_constraints = {"b": constraints.positive}

    @classmethod
    def dist(cls, mu, b, **kwargs):
        return super().dist([mu, b], **kwargs)

    def logp(self, value, mu, b):
        return -jnp.log(2.0 * b) - jnp.abs(value - mu) / b

    def logcdf(self, value, mu, b):
        y = (value - mu) / b
        return jnp.where(value <= mu, -LOG2 + jnp.minimum(y, 0.0), jnp.log1p(-0.5 * jnp.exp(-jnp.maximum(y, 0.0))))

    def random(self, key, mu, b, size):
        return mu + b * jax.random.laplace(key, size, dtype=fx())

    def support_point(self, mu, b, size):
        return full(jnp.broadcast_arrays(mu, b)[0], size)

    def icdf(self, q, mu, b):
        return mu + b * jnp.where(q < 0.5, jnp.log(2.0 * q), -jnp.log(2.0 * (1.0 - q)))


class AsymmetricLaplace(Continuous):
    """AsymmetricLaplace(kappa | q, mu, b): canonical (b, kappa, mu) as in PyMC; q = kappa^2 / (1 + kappa^2).

    PyMC defines no logcdf for it; jaxmc adds one."""

    param_names = ("b", "kappa", "mu")
    arg_constraints = {"b": constraints.positive, "kappa": constraints.positive}

    @classmethod
    def dist(cls, kappa=None, mu=None, b=None, q=None, **kwargs):
        kappa = cls.get_kappa(kappa, q)
        return super().dist([b, kappa, mu], **kwargs)

    @classmethod
    def get_kappa(cls, kappa=None, q=None):
        if kappa is not None and q is not None:
            raise ValueError("Incompatible parameterization. Either use kappa or q to specify the "
                             "distribution.")
        if q is not None:
            kappa = lift(lambda q_: (q_ / (1 - q_)) ** 0.5, q)
        return kappa

    def logp(self, value, b, kappa, mu):
        x = value - mu
        return jnp.log(b) - jnp.log(kappa + 1.0 / kappa) - jnp.where(x >= 0, x * b * kappa, -x * b / kappa)

    def logcdf(self, value, b, kappa, mu):
        x = value - mu
        k2 = kappa**2
        left = 2.0 * jnp.log(kappa) - jnp.log1p(k2) + b / kappa * jnp.minimum(x, 0.0)
        right = jnp.log1p(-jnp.exp(-b * kappa * jnp.maximum(x, 0.0)) / (1.0 + k2))
        return jnp.where(x < 0, left, right)

    def random(self, key, b, kappa, mu, size):
        u = uniform01(key, size)
        switch = kappa**2 / (1.0 + kappa**2)
        non_pos = mu + kappa * jnp.log(u / switch) / b
        pos = mu - jnp.log((1.0 - u) * (1.0 + kappa**2)) / (kappa * b)
        return jnp.where(u <= switch, non_pos, pos)

    def support_point(self, b, kappa, mu, size):
        return full(mu - (kappa - 1.0 / kappa) / b, size)


class Logistic(Continuous):
    """Logistic(mu=0, s=1)."""

    param_names = ("mu", "s")
    arg_constraints = {"s": constraints.positive}

    @classmethod
    def dist(cls, mu=0.0, s=1.0, **kwargs):
        return super().dist([mu, s], **kwargs)

    def logp(self, value, mu, s):
        z = (value - mu) / s
        return -z - jnp.log(s) - 2.0 * jax.nn.softplus(-z)

    def logcdf(self, value, mu, s):
        return -jax.nn.softplus(-(value - mu) / s)

    def random(self, key, mu, s, size):
        return mu + s * jax.random.logistic(key, size, dtype=fx())

    def support_point(self, mu, s, size):
        return full(jnp.broadcast_arrays(mu, s)[0], size)

    def icdf(self, q, mu, s):
        return mu + s * jsp.logit(q)


class Gumbel(Continuous):
    """Gumbel(mu, beta) (maximum / right-skewed)."""

    param_names = ("mu", "beta")
    arg_constraints = {"beta": constraints.positive}

    @classmethod
    def dist(cls, mu, beta, **kwargs):
        return super().dist([mu, beta], **kwargs)

    def logp(self, value, mu, beta):
        z = (value - mu) / beta
        return -z - jnp.exp(-z) - jnp.log(beta)

    def logcdf(self, value, mu, beta):
        return -jnp.exp(-(value - mu) / beta)

    def random(self, key, mu, beta, size):
        return mu + beta * jax.random.gumbel(key, size, dtype=fx())

    def support_point(self, mu, beta, size):
        return full(mu + beta * EULER_GAMMA, size)

    def icdf(self, q, mu, beta):
        return mu - beta * jnp.log(-jnp.log(q))


class Moyal(Continuous):
    """Moyal(mu=0, sigma=1)."""

    param_names = ("mu", "sigma")
    arg_constraints = {"sigma": constraints.positive}

    @classmethod
    def dist(cls, mu=0.0, sigma=1.0, **kwargs):
        return super().dist([mu, sigma], **kwargs)

    def logp(self, value, mu, sigma):
        z = (value - mu) / sigma
        return -0.5 * (z + jnp.exp(-z)) - jnp.log(sigma) - LOG_SQRT_2PI

    def logcdf(self, value, mu, sigma):
        z = (value - mu) / sigma
        # log erfc(exp(-z/2) / sqrt 2) = log 2 + log Phi(-exp(-z/2))
        return LOG2 + jsp.log_ndtr(-jnp.exp(-z / 2.0))

    def random(self, key, mu, sigma, size):
        return mu - 2.0 * sigma * jnp.log(jnp.abs(jax.random.normal(key, size, dtype=fx())))

    def support_point(self, mu, sigma, size):
        return full(mu + sigma * (EULER_GAMMA + LOG2), size)

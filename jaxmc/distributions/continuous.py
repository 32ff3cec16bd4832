"""Continuous univariate families with PyMC's names and parameterizations."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from jaxmc import transforms
from jaxmc.distributions.base import Continuous

__all__ = ["Normal", "HalfNormal", "Uniform"]
from jaxmc.distributions.dist_math import LOG_SQRT_2PI, get_tau_sigma, normal_lccdf, normal_lcdf


class Normal(Continuous):
    """Normal(mu, sigma) or Normal(mu, tau=precision)."""

    param_names = ("mu", "sigma")

    @classmethod
    def dist(cls, mu=0.0, sigma=None, tau=None, **kwargs):
        _, sigma = get_tau_sigma(tau=tau, sigma=sigma)
        return super().dist([mu, sigma], **kwargs)

    def logp(self, value, mu, sigma):
        z = (value - mu) / sigma
        return -0.5 * z**2 - jnp.log(sigma) - LOG_SQRT_2PI

    def logcdf(self, value, mu, sigma):
        return normal_lcdf(mu, sigma, value)

    def random(self, key, mu, sigma, size):
        return mu + sigma * jax.random.normal(key, size)

    def support_point(self, mu, sigma, size):
        return jnp.broadcast_to(mu, size)

    def check_params(self, mu, sigma):
        return [(sigma > 0, "sigma > 0")]


class HalfNormal(Continuous):
    """HalfNormal(sigma) or HalfNormal(tau=precision), on [0, inf)."""

    param_names = ("sigma",)

    @classmethod
    def dist(cls, sigma=None, tau=None, **kwargs):
        _, sigma = get_tau_sigma(tau=tau, sigma=sigma)
        return super().dist([sigma], **kwargs)

    def logp(self, value, sigma):
        z = value / sigma
        return -0.5 * z**2 - jnp.log(sigma) - LOG_SQRT_2PI + jnp.log(2.0)

    def logcdf(self, value, sigma):
        lc = jnp.log(jsp.erf(jnp.maximum(value, 0) / (sigma * np.sqrt(2.0))))
        return jnp.where(value < 0, -jnp.inf, lc)

    def random(self, key, sigma, size):
        return jnp.abs(sigma * jax.random.normal(key, size))

    def support_point(self, sigma, size):
        return jnp.broadcast_to(sigma, size)

    def in_support(self, value, *params):
        return value >= 0

    def check_params(self, sigma):
        return [(sigma > 0, "sigma > 0")]

    def default_transform(self):
        return transforms.log


class Uniform(Continuous):
    """Uniform(lower, upper)."""

    param_names = ("lower", "upper")
    support_depends_on_params = True

    @classmethod
    def dist(cls, lower=0.0, upper=1.0, **kwargs):
        return super().dist([lower, upper], **kwargs)

    def logp(self, value, lower, upper):
        return jnp.broadcast_to(-jnp.log(upper - lower), jnp.broadcast_shapes(jnp.shape(value), jnp.shape(lower),
                                                                              jnp.shape(upper)))

    def logcdf(self, value, lower, upper):
        return jnp.where(value < lower, -jnp.inf,
                         jnp.where(value >= upper, 0.0, jnp.log(jnp.clip(value - lower, 0)) - jnp.log(upper - lower)))

    def random(self, key, lower, upper, size):
        return jax.random.uniform(key, size, minval=lower, maxval=upper)

    def support_point(self, lower, upper, size):
        return jnp.broadcast_to((lower + upper) / 2.0, size)

    def in_support(self, value, lower, upper):
        return (value >= lower) & (value <= upper)

    def check_params(self, lower, upper):
        return [(lower < upper, "lower < upper")]

    def default_transform(self):
        return transforms.Interval(bounds_fn=lambda lower, upper: (lower, upper))

"""Unbounded counts: Poisson, NegativeBinomial, Geometric, DiscreteWeibull."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

from jaxmc import config
from jaxmc.distributions import constraints
from jaxmc.distributions.base import Discrete
from jaxmc.distributions.discrete.cdf import log_betainc, log_gammaincc
from jaxmc.distributions.dist_math import as_float, betaln, log1mexp

__all__ = ["DiscreteWeibull", "Geometric", "NegativeBinomial", "Poisson"]


class Poisson(Discrete):
    """Poisson(mu)."""

    param_names = ("mu",)
    support = constraints.nonnegative_integer
    arg_constraints = {"mu": constraints.nonnegative}

    @classmethod
    def dist(cls, mu, *args, **kwargs):
        return super().dist([mu], *args, **kwargs)

    def logp(self, value, mu):
        v = jnp.maximum(as_float(value), 0.0)
        return jsp.xlogy(v, mu) - jsp.gammaln(v + 1.0) - mu

    def logcdf(self, value, mu):
        v = jnp.floor(as_float(value))
        safe_v = jnp.maximum(v, 0.0)
        safe_mu = jnp.maximum(mu, 0.0)
        return jnp.where(v < 0, -jnp.inf, log_gammaincc(safe_v + 1.0, safe_mu))

    def random(self, key, mu, size):
        return jax.random.poisson(key, jnp.broadcast_to(as_float(mu), size), size).astype(config.intX())

    def support_point(self, mu, size):
        return jnp.broadcast_to(jnp.floor(mu), size)


class NegativeBinomial(Discrete):
    """NegativeBinomial(mu, alpha) or NegativeBinomial(n=..., p=...): failures before n successes.

    With mu/alpha the parameters are kept as (mu, alpha) (n = alpha, p = alpha / (mu + alpha)); as in PyMC
    the Poisson(mu) limit is used for alpha > 1e10."""

    param_names = ("n", "p")
    support = constraints.nonnegative_integer
    mu_param = False

    @classmethod
    def get_n_p(cls, mu=None, alpha=None, p=None, n=None):
        if n is None:
            if alpha is None:
                raise ValueError("Incompatible parametrization. Must specify either alpha or n.")
            n = alpha
        elif alpha is not None:
            raise ValueError("Incompatible parametrization. Can't specify both alpha and n.")
        if p is None:
            if mu is None:
                raise ValueError("Incompatible parametrization. Must specify either mu or p.")
            p = n / (mu + n)
        elif mu is not None:
            raise ValueError("Incompatible parametrization. Can't specify both mu and p.")
        return n, p

    @classmethod
    def dist(cls, mu=None, alpha=None, p=None, n=None, *args, **kwargs):
        cls.get_n_p(mu=1.0 if mu is not None else None, alpha=1.0 if alpha is not None else None,
                    p=0.5 if p is not None else None, n=1.0 if n is not None else None)  # argument checks
        if mu is not None:
            node = super().dist([mu, n if alpha is None else alpha], *args, **kwargs)
            node.owner.mu_param = True
            node.owner.param_names = ("mu", "alpha")
            return node
        if p is not None and n is None:  # p with alpha
            n = alpha
        return super().dist([n, p], *args, **kwargs)

    def _mu_alpha(self, a, b):
        """(mu, alpha, log p, log(1 - p)) from the stored parameters."""
        if self.mu_param:
            mu, alpha = a, b
            log_p = -jnp.log1p(mu / alpha)
            log_1mp = jnp.log(mu) - jnp.log(mu + alpha)
        else:
            n, p = a, b
            alpha = n
            mu = n * ((1.0 - p) / p)
            log_p = jnp.log(p)
            log_1mp = jnp.log1p(-p)
        return mu, alpha, log_p, log_1mp

    def logp(self, value, a, b):
        mu, alpha, log_p, log_1mp = self._mu_alpha(a, b)
        v = jnp.maximum(as_float(value), 0.0)
        nb = -jnp.log(v + alpha) - betaln(alpha, v + 1.0) + jnp.where(v == 0, 0.0, v * log_1mp) \
            + alpha * log_p
        pois = jsp.xlogy(v, mu) - jsp.gammaln(v + 1.0) - mu
        return jnp.where(alpha > 1e10, pois, nb)

    def logcdf(self, value, a, b):
        if self.mu_param:
            mu, alpha = a, b
            n, p, p1m = alpha, alpha / (mu + alpha), mu / (mu + alpha)
        else:
            n, p = a, b
            p1m = 1.0 - p
        v = jnp.floor(as_float(value))
        vs = jnp.maximum(v, 0.0)
        return jnp.where(v < 0, -jnp.inf, log_betainc(n, vs + 1.0, p, p1m))

    def random(self, key, a, b, size):
        mu, alpha, _, _ = self._mu_alpha(a, b)
        k1, k2 = jax.random.split(key)
        g = jax.random.gamma(k1, jnp.broadcast_to(as_float(alpha), size), size)
        lam = g * (mu / alpha)
        return jax.random.poisson(k2, lam, size).astype(config.intX())

    def support_point(self, a, b, size):
        mu = self._mu_alpha(a, b)[0]
        return jnp.broadcast_to(jnp.floor(mu), size)

    def check_params(self, a, b):
        # PyMC 6 checks 0 <= p <= 1 and n > 0 (mu = 0 is p = 1, a point mass at 0)
        if self.mu_param:
            ok = (a >= 0) & (b > 0)
        else:
            ok = (a > 0) & (b >= 0) & (b <= 1)
        return [(ok, "0 <= p <= 1, n > 0")]


class Geometric(Discrete):
    """Geometric(p): number of trials up to and including the first success (support 1, 2, ...)."""

    param_names = ("p",)
    support = constraints.positive_integer
    arg_constraints = {"p": constraints.unit_interval}

    @classmethod
    def dist(cls, p, *args, **kwargs):
        return super().dist([p], *args, **kwargs)

    def logp(self, value, p):
        v = jnp.maximum(as_float(value), 1.0)
        return jnp.log(p) + jsp.xlog1py(v - 1.0, -p)

    def logcdf(self, value, p):
        # PyMC does not floor the value; the floor makes the CDF a step function at non-integer values
        v = jnp.floor(as_float(value))
        return jnp.where(v < 0, -jnp.inf, log1mexp(jsp.xlog1py(jnp.maximum(v, 0.0), -p)))

    def random(self, key, p, size):
        u = jax.random.uniform(key, size, dtype=config.floatX())
        draws = jnp.floor(jnp.log1p(-u) / jnp.log1p(-p)) + 1.0
        return jnp.maximum(draws, 1.0).astype(config.intX())

    def support_point(self, p, size):
        return jnp.broadcast_to(jnp.round(1.0 / p), size)


class DiscreteWeibull(Discrete):
    """DiscreteWeibull(q, beta): P(X >= x) = q ** (x ** beta), x = 0, 1, ..."""

    param_names = ("q", "beta")
    support = constraints.nonnegative_integer
    arg_constraints = {"q": constraints.open_unit_interval, "beta": constraints.positive}

    @classmethod
    def dist(cls, q, beta, *args, **kwargs):
        return super().dist([q, beta], *args, **kwargs)

    def logp(self, value, q, beta):
        v = jnp.maximum(as_float(value), 0.0)
        lq = jnp.log(q)
        a = jnp.where(v == 0, 0.0, jnp.power(jnp.where(v == 0, 1.0, v), beta)) * lq  # log q^(v^beta)
        b = jnp.power(v + 1.0, beta) * lq
        return a + log1mexp(jnp.minimum(b - a, 0.0))

    def logcdf(self, value, q, beta):
        v = jnp.floor(as_float(value))
        vs = jnp.maximum(v, 0.0)
        return jnp.where(v < 0, -jnp.inf, log1mexp(jnp.power(vs + 1.0, beta) * jnp.log(q)))

    def random(self, key, q, beta, size):
        u = jax.random.uniform(key, size, dtype=config.floatX())
        draws = jnp.ceil(jnp.power(jnp.log1p(-u) / jnp.log(q), 1.0 / beta)) - 1.0
        return jnp.maximum(draws, 0.0).astype(config.intX())

    def support_point(self, q, beta, size):
        # PyMC's median (not rounded: the model casts it to an integer, i.e. truncates toward zero)
        return jnp.broadcast_to(jnp.power(jnp.log(0.5) / jnp.log(q), 1.0 / beta) - 1.0, size)

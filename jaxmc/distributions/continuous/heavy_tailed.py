"""Heavy-tailed families: Student-t (plain, half and skewed) and Cauchy (plain and half)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

from jaxmc.distributions import constraints
from jaxmc.distributions.base import Continuous
from jaxmc.distributions.cdf_inverse import half_student_t_icdf, student_t_icdf
from jaxmc.distributions.dist_math import LOG2, LOGPI, PI, full, fx
from jaxmc.distributions.params import get_tau_sigma

__all__ = ["Cauchy", "HalfCauchy", "HalfStudentT", "SkewStudentT", "StudentT"]


class StudentT(Continuous):
    """StudentT(nu, mu=0, *, sigma | lam)."""

    param_names = ("nu", "mu", "sigma")
    arg_constraints = {"sigma": constraints.positive, "nu": constraints.positive}
    check_messages = {"sigma": "lam > 0"}

    @classmethod
    def dist(cls, nu, mu=0.0, *, sigma=None, lam=None, **kwargs):
        _, sigma = get_tau_sigma(tau=lam, sigma=sigma)
        return super().dist([nu, mu, sigma], **kwargs)

    def logp(self, value, nu, mu, sigma):
        z = (value - mu) / sigma
        return (jsp.gammaln((nu + 1.0) / 2.0) - jsp.gammaln(nu / 2.0) - 0.5 * jnp.log(nu * PI)
                - jnp.log(sigma) - (nu + 1.0) / 2.0 * jnp.log1p(z**2 / nu))

    def logcdf(self, value, nu, mu, sigma):
        return _student_t_lcdf((value - mu) / sigma, nu)

    def random(self, key, nu, mu, sigma, size):
        return mu + sigma * jax.random.t(key, nu, size, dtype=fx())

    def support_point(self, nu, mu, sigma, size):
        return full(jnp.broadcast_arrays(mu, nu, sigma)[0], size)

    def icdf(self, q, nu, mu, sigma):
        return mu + sigma * student_t_icdf(q, nu)


def _student_t_lcdf(t, nu):
    """log CDF of the standard Student-t, accurate in both tails."""
    x = nu / (nu + t**2)
    tail = jsp.betainc(nu / 2.0, 0.5, x)  # = 2 * P(T > |t|)
    return jnp.where(t < 0, jnp.log(tail) - LOG2, jnp.log1p(-0.5 * tail))


class HalfStudentT(Continuous):
    """HalfStudentT(nu, sigma | lam): |StudentT(nu, 0, sigma)|, on [0, inf).

    PyMC defines no logcdf for it; jaxmc adds one (2 F(x) - 1 of the Student-t)."""

    param_names = ("nu", "sigma")
    support = constraints.nonnegative
    arg_constraints = {"sigma": constraints.positive, "nu": constraints.positive}

    @classmethod
    def dist(cls, nu, sigma=None, lam=None, **kwargs):
        _, sigma = get_tau_sigma(tau=lam, sigma=sigma)
        return super().dist([nu, sigma], **kwargs)

    def logp(self, value, nu, sigma):
        return (LOG2 + jsp.gammaln((nu + 1.0) / 2.0) - jsp.gammaln(nu / 2.0)
                - 0.5 * jnp.log(nu * PI) - jnp.log(sigma)
                - (nu + 1.0) / 2.0 * jnp.log1p((value / sigma) ** 2 / nu))

    def logcdf(self, value, nu, sigma):
        t = jnp.maximum(value, 0.0) / sigma
        tail = jsp.betainc(nu / 2.0, 0.5, nu / (nu + t**2))  # P(|T| > t)
        return jnp.where(value < 0, -jnp.inf, jnp.log1p(-tail))

    def random(self, key, nu, sigma, size):
        return jnp.abs(sigma * jax.random.t(key, nu, size, dtype=fx()))

    def support_point(self, nu, sigma, size):
        return full(jnp.broadcast_arrays(sigma, nu)[0], size)

    def icdf(self, q, nu, sigma):
        return sigma * half_student_t_icdf(q, nu)


class SkewStudentT(Continuous):
    """SkewStudentT(a, b, *, mu=0, sigma | lam): Jones and Faddy's skewed t (scipy's jf_skew_t)."""

    param_names = ("a", "b", "mu", "sigma")
    arg_constraints = {"a": constraints.positive, "b": constraints.positive, "sigma": constraints.positive}

    @classmethod
    def dist(cls, a, b, *, mu=0.0, sigma=None, lam=None, **kwargs):
        _, sigma = get_tau_sigma(tau=lam, sigma=sigma)
        return super().dist([a, b, mu, sigma], **kwargs)

    @staticmethod
    def _log_halves(x, a, b):
        """log(1 + x/s) and log(1 - x/s) with s = sqrt(a + b + x^2), without cancellation."""
        s = jnp.sqrt(a + b + x**2)
        ab = a + b
        # s + x = (a + b) / (s - x) when x < 0; s - x = (a + b) / (s + x) when x > 0
        log_s_plus_x = jnp.where(x < 0, jnp.log(ab) - jnp.log(s - jnp.minimum(x, 0.0)),
                                 jnp.log(s + jnp.maximum(x, 0.0)))
        log_s_minus_x = jnp.where(x > 0, jnp.log(ab) - jnp.log(s + jnp.maximum(x, 0.0)),
                                  jnp.log(s - jnp.minimum(x, 0.0)))
        ls = jnp.log(s)
        return log_s_plus_x - ls, log_s_minus_x - ls

    def logp(self, value, a, b, mu, sigma):
        x = (value - mu) / sigma
        lp, lm = self._log_halves(x, a, b)
        c = (a + b - 1.0) * LOG2 + jsp.betaln(a, b) + 0.5 * jnp.log(a + b)
        return (a + 0.5) * lp + (b + 0.5) * lm - c - jnp.log(sigma)

    def logcdf(self, value, a, b, mu, sigma):
        x = (value - mu) / sigma
        lp, lm = self._log_halves(x, a, b)
        y = jnp.exp(lp) * 0.5
        y1 = jnp.exp(lm) * 0.5  # 1 - y
        # I_y(a, b) in the lower half, 1 - I_{1-y}(b, a) in the upper half
        lower = jnp.log(jsp.betainc(a, b, jnp.minimum(y, 0.5)))
        upper = jnp.log1p(-jsp.betainc(b, a, jnp.minimum(y1, 0.5)))
        return jnp.where(y <= 0.5, lower, upper)

    def random(self, key, a, b, mu, sigma, size):
        bb = jax.random.beta(key, a, b, size, dtype=fx())
        tiny = jnp.finfo(bb.dtype).tiny
        bb = jnp.clip(bb, tiny, 1.0 - jnp.finfo(bb.dtype).epsneg)
        t = (2.0 * bb - 1.0) * jnp.sqrt(a + b) / (2.0 * jnp.sqrt(bb * (1.0 - bb)))
        return mu + sigma * t

    def support_point(self, a, b, mu, sigma, size):
        # mu, as PyMC 6 (the mean is infinite or undefined for a or b <= 1/2)
        return full(jnp.broadcast_arrays(a, b, mu, sigma)[2], size)


class Cauchy(Continuous):
    """Cauchy(alpha, beta): location alpha, scale beta."""

    param_names = ("alpha", "beta")
    arg_constraints = {"beta": constraints.positive}

    @classmethod
    def dist(cls, alpha, beta, **kwargs):
        return super().dist([alpha, beta], **kwargs)

    def logp(self, value, alpha, beta):
        return -LOGPI - jnp.log(beta) - jnp.log1p(((value - alpha) / beta) ** 2)

    def logcdf(self, value, alpha, beta):
        # 0.5 + arctan(z) / pi = arctan2(1, -z) / pi, accurate in the left tail
        return jnp.log(jnp.arctan2(1.0, -(value - alpha) / beta)) - LOGPI

    def random(self, key, alpha, beta, size):
        return alpha + beta * jax.random.cauchy(key, size, dtype=fx())

    def support_point(self, alpha, beta, size):
        return full(jnp.broadcast_arrays(alpha, beta)[0], size)

    def icdf(self, q, alpha, beta):
        # -cot(pi q) below the median and cot(pi (1 - q)) above: each tail from its own exact probability
        return alpha + beta * jnp.where(q < 0.5, -1.0 / jnp.tan(PI * q), 1.0 / jnp.tan(PI * (1.0 - q)))


class HalfCauchy(Continuous):
    """HalfCauchy(beta): |Cauchy(0, beta)|, on [0, inf)."""

    param_names = ("beta",)
    support = constraints.nonnegative
    arg_constraints = {"beta": constraints.positive}

    @classmethod
    def dist(cls, beta, **kwargs):
        return super().dist([beta], **kwargs)

    def logp(self, value, beta):
        return LOG2 - LOGPI - jnp.log(beta) - jnp.log1p((value / beta) ** 2)

    def logcdf(self, value, beta):
        v = jnp.maximum(value, 0.0)
        return jnp.where(value < 0, -jnp.inf, LOG2 - LOGPI + jnp.log(jnp.arctan(v / beta)))

    def random(self, key, beta, size):
        return jnp.abs(beta * jax.random.cauchy(key, size, dtype=fx()))

    def support_point(self, beta, size):
        return full(beta, size)

    def icdf(self, q, beta):
        return beta * jnp.where(q < 0.5, jnp.tan(PI * q / 2.0), 1.0 / jnp.tan(PI * (1.0 - q) / 2.0))

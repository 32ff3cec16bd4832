"""Families on a bounded or half-bounded interval: Uniform, Beta, Kumaraswamy, Pareto, Triangular,
Interpolated, VonMises."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from jaxmc import transforms
from jaxmc.distributions import constraints
from jaxmc.distributions.base import Continuous
from jaxmc.distributions.cdf_inverse import beta_icdf
from jaxmc.distributions.dist_math import LOG2, betaln, LOG2PI, PI, full, fx, log1mexp, log_i0, uniform01
from jaxmc.distributions.params import lift

__all__ = ["Beta", "Interpolated", "Kumaraswamy", "Pareto", "Triangular", "Uniform", "VonMises"]


class Uniform(Continuous):
    """Uniform(lower=0, upper=1)."""

    param_names = ("lower", "upper")
    support = constraints.interval("lower", "upper")
    arg_constraints = {"lower": constraints.less_equal("upper")}

    @classmethod
    def dist(cls, lower=0.0, upper=1.0, **kwargs):
        return super().dist([lower, upper], **kwargs)

    def logp(self, value, lower, upper):
        return jnp.broadcast_to(-jnp.log(upper - lower),
                                jnp.broadcast_shapes(jnp.shape(value), jnp.shape(lower), jnp.shape(upper)))

    def logcdf(self, value, lower, upper):
        return jnp.where(value < lower, -jnp.inf,
                         jnp.where(value >= upper, 0.0,
                                   jnp.log(jnp.clip(value - lower, 0)) - jnp.log(upper - lower)))

    def random(self, key, lower, upper, size):
        return jax.random.uniform(key, size, fx(), minval=lower, maxval=upper)

    def support_point(self, lower, upper, size):
        return full((lower + upper) / 2.0, size)

    def icdf(self, q, lower, upper):
        return lower + q * (upper - lower)


class Beta(Continuous):
    """Beta(alpha, beta), Beta(mu, sigma) or Beta(mu, nu) (nu = alpha + beta)."""

    param_names = ("alpha", "beta")
    support = constraints.unit_interval
    arg_constraints = {"alpha": constraints.positive, "beta": constraints.positive}

    @classmethod
    def dist(cls, alpha=None, beta=None, mu=None, sigma=None, nu=None, **kwargs):
        alpha, beta = cls.get_alpha_beta(alpha, beta, mu, sigma, nu)
        return super().dist([alpha, beta], **kwargs)

    @classmethod
    def get_alpha_beta(cls, alpha=None, beta=None, mu=None, sigma=None, nu=None):
        if alpha is not None and beta is not None:
            return alpha, beta
        if mu is not None and sigma is not None:
            kappa = lift(lambda m, s: m * (1 - m) / s**2 - 1, mu, sigma)
            return lift(lambda m, k: m * k, mu, kappa), lift(lambda m, k: (1 - m) * k, mu, kappa)
        if mu is not None and nu is not None:
            return lift(lambda m, n: m * n, mu, nu), lift(lambda m, n: (1 - m) * n, mu, nu)
        raise ValueError("Incompatible parameterization. Either use alpha and beta, mu and sigma or mu "
                         "and nu to specify distribution.")

    def logp(self, value, alpha, beta):
        return jsp.xlogy(alpha - 1.0, value) + jsp.xlog1py(beta - 1.0, -value) - betaln(alpha, beta)

    def logcdf(self, value, alpha, beta):
        v = jnp.clip(value, 0.0, 1.0)
        return jnp.where(value < 0, -jnp.inf, jnp.where(value >= 1, 0.0, jnp.log(jsp.betainc(alpha, beta, v))))

    def random(self, key, alpha, beta, size):
        x = jax.random.beta(key, alpha, beta, size, dtype=fx())
        eps = jnp.finfo(x.dtype).eps
        return jnp.clip(x, eps, 1.0 - eps)

    def support_point(self, alpha, beta, size):
        return full(alpha / (alpha + beta), size)

    def icdf(self, q, alpha, beta):
        return beta_icdf(q, alpha, beta)


class Kumaraswamy(Continuous):
    """Kumaraswamy(a, b) on [0, 1]."""

    param_names = ("a", "b")
    support = constraints.unit_interval
    arg_constraints = {"a": constraints.positive, "b": constraints.positive}

    @classmethod
    def dist(cls, a, b, **kwargs):
        return super().dist([a, b], **kwargs)

    def logp(self, value, a, b):
        return (jnp.log(a) + jnp.log(b) + jsp.xlogy(a - 1.0, value)
                + jsp.xlog1py(b - 1.0, -(value**a)))

    def logcdf(self, value, a, b):
        v = jnp.clip(value, 0.0, 1.0)
        res = log1mexp(b * jnp.log1p(-(v**a)))
        return jnp.where(value < 0, -jnp.inf, jnp.where(value >= 1, 0.0, res))

    def random(self, key, a, b, size):
        u = uniform01(key, size)
        # (1 - (1 - u)^(1/b))^(1/a), written with expm1/log1p
        return jnp.exp(jnp.log(-jnp.expm1(jnp.log1p(-u) / b)) / a)

    def support_point(self, a, b, size):
        return full(jnp.exp(jnp.log(b) + jsp.gammaln(1.0 + 1.0 / a) + jsp.gammaln(b)
                             - jsp.gammaln(1.0 + 1.0 / a + b)), size)

    def icdf(self, q, a, b):
        return (1.0 - (1.0 - q) ** (1.0 / b)) ** (1.0 / a)


class Pareto(Continuous):
    """Pareto(alpha, m): shape alpha, support [m, inf)."""

    param_names = ("alpha", "m")
    support = constraints.greater_than("m")
    arg_constraints = {"alpha": constraints.positive, "m": constraints.positive}

    @classmethod
    def dist(cls, alpha, m, **kwargs):
        return super().dist([alpha, m], **kwargs)

    def logp(self, value, alpha, m):
        return jnp.log(alpha) + jsp.xlogy(alpha, m) - jsp.xlogy(alpha + 1.0, value)

    def logcdf(self, value, alpha, m):
        v = jnp.maximum(value, m)
        return jnp.where(value < m, -jnp.inf, log1mexp(alpha * (jnp.log(m) - jnp.log(v))))

    def random(self, key, alpha, m, size):
        return m * jnp.exp(jax.random.exponential(key, size, dtype=fx()) / alpha)

    def support_point(self, alpha, m, size):
        return full(m * 2.0 ** (1.0 / alpha), size)

    def icdf(self, q, alpha, m):
        return m * (1.0 - q) ** (-1.0 / alpha)


class Triangular(Continuous):
    """Triangular(lower=0, upper=1, c=0.5) (canonical order lower, c, upper as in PyMC)."""

    param_names = ("lower", "c", "upper")
    support = constraints.interval("lower", "upper")
    arg_constraints = {"lower": constraints.less_equal("c"), "c": constraints.less_equal("upper")}

    @classmethod
    def dist(cls, lower=0.0, upper=1.0, c=0.5, **kwargs):
        return super().dist([lower, c, upper], **kwargs)

    def logp(self, value, lower, c, upper):
        width = upper - lower
        left_w = jnp.where(c > lower, c - lower, 1.0)
        right_w = jnp.where(upper > c, upper - c, 1.0)
        left = LOG2 + jnp.log(value - lower) - jnp.log(width) - jnp.log(left_w)
        right = LOG2 + jnp.log(upper - value) - jnp.log(width) - jnp.log(right_w)
        return jnp.where(value < c, left, right)

    def logcdf(self, value, lower, c, upper):
        width = upper - lower
        left_w = jnp.where(c > lower, c - lower, 1.0)
        right_w = jnp.where(upper > c, upper - c, 1.0)
        v = jnp.clip(value, lower, upper)
        left = 2.0 * jnp.log(v - lower) - jnp.log(width) - jnp.log(left_w)
        right = jnp.log1p(-((upper - v) ** 2) / (width * right_w))
        return jnp.where(value <= lower, -jnp.inf,
                         jnp.where(value <= c, left, jnp.where(value < upper, right, 0.0)))

    def random(self, key, lower, c, upper, size):
        u = jax.random.uniform(key, size, fx())
        width = upper - lower
        fc = (c - lower) / width
        left = lower + jnp.sqrt(width * (c - lower) * u)
        right = upper - jnp.sqrt(width * (upper - c) * (1.0 - u))
        return jnp.where(u < fc, left, right)

    def support_point(self, lower, c, upper, size):
        return full((lower + upper + c) / 3.0, size)


class Interpolated(Continuous):
    """Interpolated(x_points, pdf_points): piecewise-linear density through the given points
    (normalized), zero outside [x_points[0], x_points[-1]].

    PyMC defines no logcdf for it; jaxmc adds one (exact integral of the piecewise-linear density)."""

    param_names = ("x_points", "pdf_points", "cdf_points")
    ndims_params = (1, 1, 1)
    support_depends_on_params = True

    @classmethod
    def dist(cls, x_points, pdf_points, **kwargs):
        x = np.asarray(x_points, dtype=float)
        pdf = np.asarray(pdf_points, dtype=float)
        areas = np.diff(x, axis=-1) * (pdf[..., 1:] + pdf[..., :-1]) / 2.0
        cum = np.concatenate([np.zeros_like(areas[..., :1]), np.cumsum(areas, axis=-1)], axis=-1)
        z = cum[..., -1:]
        return super().dist([x, pdf / z, cum / z], **kwargs)

    @staticmethod
    def _locate(value, x, pdf, cdf):
        def one(v, x, pdf, cdf):
            i = jnp.clip(jnp.searchsorted(x, v, side="right") - 1, 0, x.shape[-1] - 2)
            x0, x1 = x[i], x[i + 1]
            p0, p1 = pdf[i], pdf[i + 1]
            return x0, x1, p0, p1, cdf[i]

        return jnp.vectorize(one, signature="(),(n),(n),(n)->(),(),(),(),()")(value, x, pdf, cdf)

    def logp(self, value, x, pdf, cdf):
        x0, x1, p0, p1, _ = self._locate(value, x, pdf, cdf)
        t = (value - x0) / (x1 - x0)
        dens = p0 + t * (p1 - p0)
        inside = (value >= x[..., 0]) & (value <= x[..., -1])
        return jnp.where(inside, jnp.log(jnp.where(inside, dens, 1.0)), -jnp.inf)

    def logcdf(self, value, x, pdf, cdf):
        x0, x1, p0, p1, c0 = self._locate(value, x, pdf, cdf)
        d = value - x0
        slope = (p1 - p0) / (x1 - x0)
        c = c0 + p0 * d + 0.5 * slope * d**2
        res = jnp.log(jnp.clip(c, 0.0, 1.0))
        return jnp.where(value < x[..., 0], -jnp.inf, jnp.where(value >= x[..., -1], 0.0, res))

    def random(self, key, x, pdf, cdf, size):
        p = jax.random.uniform(key, size, fx())

        def one(p, x, pdf, cdf):
            i = jnp.clip(jnp.searchsorted(cdf, p, side="right") - 1, 0, x.shape[-1] - 2)
            x0, x1, p0, p1, c0 = x[i], x[i + 1], pdf[i], pdf[i + 1], cdf[i]
            slope = (p1 - p0) / (x1 - x0)
            small = jnp.abs(slope) <= 1e-8
            lin = jnp.where(p0 > 1e-8, (p - c0) / jnp.where(p0 > 1e-8, p0, 1.0), 0.0)
            disc = jnp.maximum(p0**2 + 2.0 * slope * (p - c0), 0.0)
            # root of p0 d + slope d^2 / 2 = p - c0, in the cancellation-free form
            quad = 2.0 * (p - c0) / (p0 + jnp.sqrt(disc) + (p0 + jnp.sqrt(disc) == 0))
            return x0 + jnp.clip(jnp.where(small, lin, quad), 0.0, x1 - x0)

        return jnp.vectorize(one, signature="(),(n),(n),(n)->()")(p, x, pdf, cdf)

    def support_point(self, x, pdf, cdf, size):
        xf = x * pdf
        mean = jnp.sum(jnp.diff(x, axis=-1) * (xf[..., 1:] + xf[..., :-1]), axis=-1) / 2.0
        return full(mean, size)

    def in_support(self, value, x, pdf, cdf):
        return (value >= x[..., 0]) & (value <= x[..., -1])

    def default_transform(self):
        return transforms.Interval(bounds_fn=lambda x, pdf, cdf: (x[..., 0], x[..., -1]))


class VonMises(Continuous):
    """VonMises(mu=0, kappa=1) on [-pi, pi] (circular transform)."""

    param_names = ("mu", "kappa")
    support = constraints.circular
    arg_constraints = {"kappa": constraints.positive}

    @classmethod
    def dist(cls, mu=0.0, kappa=1.0, **kwargs):
        return super().dist([mu, kappa], **kwargs)

    def logp(self, value, mu, kappa):
        return kappa * jnp.cos(mu - value) - LOG2PI - log_i0(kappa)

    def random(self, key, mu, kappa, size):
        return _vonmises_sample(key, mu, kappa, size)

    def support_point(self, mu, kappa, size):
        return full(jnp.broadcast_arrays(mu, kappa)[0], size)


def _vonmises_sample(key, mu, kappa, size):
    """Best & Fisher (1979) rejection sampler, vectorized: loop until every entry is accepted."""
    dtype = fx()
    kappa = jnp.broadcast_to(jnp.asarray(kappa, dtype), size)
    mu = jnp.broadcast_to(jnp.asarray(mu, dtype), size)
    k_s = jnp.maximum(kappa, 1e-8)
    r = 1.0 + jnp.sqrt(1.0 + 4.0 * k_s**2)
    rho = (r - jnp.sqrt(2.0 * r)) / (2.0 * k_s)
    s_exact = (1.0 + rho**2) / (2.0 * rho)
    s = jnp.where(k_s < 1e-5, 1.0 / k_s + k_s, s_exact)

    def body(state):
        key, w, done = state
        key, k1, k2 = jax.random.split(key, 3)
        u = jax.random.uniform(k1, size, dtype)
        v = uniform01(k2, size, dtype)
        zc = jnp.cos(PI * u)
        w_new = (1.0 + s * zc) / (s + zc)
        y = k_s * (s - w_new)
        accept = (y * (2.0 - y) - v >= 0) | (jnp.log(y / v) + 1.0 - y >= 0)
        take = accept & ~done
        return key, jnp.where(take, w_new, w), done | accept

    def cond(state):
        return ~jnp.all(state[2])

    key, kloop, ksign, knorm, kunif = jax.random.split(key, 5)
    _, w, _ = jax.lax.while_loop(cond, body, (kloop, jnp.zeros(size, dtype), jnp.zeros(size, bool)))
    theta = jnp.arccos(jnp.clip(w, -1.0, 1.0))
    theta = jnp.where(jax.random.uniform(ksign, size, fx()) < 0.5, -theta, theta)
    # tiny kappa: uniform on the circle; huge kappa: wrapped normal
    theta = jnp.where(kappa < 1e-8, PI * (2.0 * jax.random.uniform(kunif, size, dtype) - 1.0), theta)
    theta = jnp.where(kappa > 1e6, jax.random.normal(knorm, size, dtype) / jnp.sqrt(k_s), theta)
    x = mu + theta
    return jnp.mod(x + PI, 2.0 * PI) - PI

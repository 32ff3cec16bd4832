"""Families on the positive half-line: Exponential, Gamma (and ChiSquared), InverseGamma, Weibull, Wald,
Rice, PolyaGamma."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

from jaxmc import transforms
from jaxmc.distributions import constraints
from jaxmc.distributions.base import Continuous
from jaxmc.distributions.cdf_inverse import gamma_icdf
from jaxmc.distributions.dist_math import LOG2PI, PI, full, fx, log1mexp, polyagamma_logcdf, polyagamma_logpdf
from jaxmc.distributions.params import lift, sign

__all__ = ["ChiSquared", "Exponential", "Gamma", "InverseGamma", "PolyaGamma", "Rice", "Wald", "Weibull"]


class Exponential(Continuous):
    """Exponential(lam) or Exponential(scale=1/lam)."""

    param_names = ("scale",)
    support = constraints.nonnegative
    arg_constraints = {"scale": constraints.nonnegative}
    check_messages = {"scale": "lam >= 0"}

    @classmethod
    def dist(cls, lam=None, *, scale=None, **kwargs):
        if lam is None and scale is None:
            scale = 1.0
        elif lam is not None and scale is not None:
            raise ValueError("Incompatible parametrization. Can't specify both lam and scale.")
        elif lam is not None:
            scale = lift(lambda x: 1.0 / x, lam)
        return super().dist([scale], **kwargs)

    def logp(self, value, scale):
        return -jnp.log(scale) - value / scale

    def logcdf(self, value, scale):
        v = jnp.maximum(value, 0.0)
        return jnp.where(value < 0, -jnp.inf, log1mexp(-v / scale))

    def random(self, key, scale, size):
        return scale * jax.random.exponential(key, size, dtype=fx())

    def support_point(self, scale, size):
        return full(scale, size)

    def icdf(self, q, scale):
        return -scale * jnp.log1p(-q)


class Gamma(Continuous):
    """Gamma(alpha, beta) (shape, rate) or Gamma(mu=mean, sigma=sd); canonical (alpha, scale=1/beta)."""

    param_names = ("alpha", "scale")
    support = constraints.nonnegative
    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    check_messages = {"scale": "beta > 0"}

    @classmethod
    def dist(cls, alpha=None, beta=None, mu=None, sigma=None, **kwargs):
        alpha, beta = cls.get_alpha_beta(alpha, beta, mu, sigma)
        scale = lift(lambda b: 1.0 / b, beta)
        return super().dist([alpha, scale], **kwargs)

    @classmethod
    def get_alpha_beta(cls, alpha=None, beta=None, mu=None, sigma=None):
        if alpha is not None and beta is not None:
            return alpha, beta
        if mu is not None and sigma is not None:
            alpha = lift(lambda m, s: m**2 / s**2 * sign(s), mu, sigma)
            beta = lift(lambda m, s: m / s**2, mu, sigma)
            return alpha, beta
        raise ValueError("Incompatible parameterization. Either use alpha and beta, or mu and sigma to "
                         "specify distribution.")

    def logp(self, value, alpha, scale):
        beta = 1.0 / scale
        return -jsp.gammaln(alpha) + jsp.xlogy(alpha, beta) - beta * value + jsp.xlogy(alpha - 1.0, value)

    def logcdf(self, value, alpha, scale):
        v = jnp.maximum(value, 0.0)
        return jnp.where(value < 0, -jnp.inf, jnp.log(jsp.gammainc(alpha, v / scale)))

    def random(self, key, alpha, scale, size):
        return scale * jax.random.gamma(key, jnp.broadcast_to(alpha, size), size, dtype=fx())

    def support_point(self, alpha, scale, size):
        return full(alpha * scale, size)

    def icdf(self, q, alpha, scale):
        return scale * gamma_icdf(q, alpha)


class ChiSquared:
    """ChiSquared(nu): as in PyMC, a Gamma(alpha=nu/2, beta=1/2) (the variable is a Gamma)."""

    def __new__(cls, name, nu, **kwargs):
        return Gamma(name, alpha=lift(lambda n: n / 2.0, nu), beta=0.5, **kwargs)

    @classmethod
    def dist(cls, nu, **kwargs):
        return Gamma.dist(alpha=lift(lambda n: n / 2.0, nu), beta=0.5, **kwargs)


class InverseGamma(Continuous):
    """InverseGamma(alpha, beta=1) or InverseGamma(mu=mean, sigma=sd)."""

    param_names = ("alpha", "beta")
    support = constraints.nonnegative
    arg_constraints = {"alpha": constraints.positive, "beta": constraints.positive}

    @classmethod
    def dist(cls, alpha=None, beta=None, mu=None, sigma=None, **kwargs):
        alpha, beta = cls._get_alpha_beta(alpha, beta, mu, sigma)
        return super().dist([alpha, beta], **kwargs)

    @classmethod
    def _get_alpha_beta(cls, alpha, beta, mu, sigma):
        if alpha is not None:
            return alpha, 1.0 if beta is None else beta
        if mu is not None and sigma is not None:
            alpha = lift(lambda m, s: (2 * s**2 + m**2) / s**2 * sign(s), mu, sigma)
            beta = lift(lambda m, s: m * (m**2 + s**2) / s**2, mu, sigma)
            return alpha, beta
        raise ValueError("Incompatible parameterization. Either use alpha and (optionally) beta, or mu "
                         "and sigma to specify distribution.")

    def logp(self, value, alpha, beta):
        return -jsp.gammaln(alpha) + jsp.xlogy(alpha, beta) - beta / value + jsp.xlogy(-alpha - 1.0, value)

    def logcdf(self, value, alpha, beta):
        v = jnp.maximum(value, 0.0)
        return jnp.where(value <= 0, -jnp.inf, jnp.log(jsp.gammaincc(alpha, beta / v)))

    def random(self, key, alpha, beta, size):
        return beta / jax.random.gamma(key, jnp.broadcast_to(alpha, size), size, dtype=fx())

    def support_point(self, alpha, beta, size):
        a_s = jnp.where(alpha > 1, alpha, 2.0)
        return full(jnp.where(alpha > 1, beta / (a_s - 1.0), beta / (alpha + 1.0)), size)

    def icdf(self, q, alpha, beta):
        return beta / gamma_icdf(q, alpha, upper_tail=True)


class Weibull(Continuous):
    """Weibull(alpha, beta): shape alpha, scale beta."""

    param_names = ("alpha", "beta")
    support = constraints.nonnegative
    arg_constraints = {"alpha": constraints.positive, "beta": constraints.positive}

    @classmethod
    def dist(cls, alpha, beta, **kwargs):
        return super().dist([alpha, beta], **kwargs)

    def logp(self, value, alpha, beta):
        z = value / beta
        return jnp.log(alpha) - jnp.log(beta) + jsp.xlogy(alpha - 1.0, z) - z**alpha

    def logcdf(self, value, alpha, beta):
        v = jnp.maximum(value, 0.0)
        return jnp.where(value < 0, -jnp.inf, log1mexp(-((v / beta) ** alpha)))

    def random(self, key, alpha, beta, size):
        return beta * jax.random.exponential(key, size, dtype=fx()) ** (1.0 / alpha)

    def support_point(self, alpha, beta, size):
        return full(beta * jnp.exp(jsp.gammaln(1.0 + 1.0 / alpha)), size)

    def icdf(self, q, alpha, beta):
        return beta * (-jnp.log1p(-q)) ** (1.0 / alpha)


class Wald(Continuous):
    """Wald (inverse Gaussian): Wald(mu), Wald(mu, lam), Wald(mu, phi=) or Wald(lam=, phi=), shifted by
    alpha (default 0). As in PyMC, the default transform is log even when alpha > 0."""

    param_names = ("mu", "lam", "alpha")
    support = constraints.greater_than("alpha", strict=True, transform=transforms.log)
    arg_constraints = {"mu": constraints.positive, "lam": constraints.positive, "alpha": constraints.nonnegative}

    @classmethod
    def dist(cls, mu=None, lam=None, phi=None, alpha=0.0, **kwargs):
        mu, lam, phi = cls.get_mu_lam_phi(mu, lam, phi)
        return super().dist([mu, lam, alpha], **kwargs)

    @staticmethod
    def get_mu_lam_phi(mu, lam, phi):
        if mu is None:
            if lam is not None and phi is not None:
                return lift(lambda l_, p: l_ / p, lam, phi), lam, phi
        elif lam is None:
            if phi is None:
                return mu, 1.0, lift(lambda m: 1.0 / m, mu)
            return mu, lift(lambda m, p: m * p, mu, phi), phi
        elif phi is None:
            return mu, lam, lift(lambda l_, m: l_ / m, lam, mu)
        raise ValueError("Wald distribution must specify either mu only, mu and lam, mu and phi, or lam "
                         "and phi.")

    def logp(self, value, mu, lam, alpha):
        x = value - alpha
        return (0.5 * (jnp.log(lam) - LOG2PI) - 1.5 * jnp.log(x)
                - 0.5 * lam / x * ((x - mu) / mu) ** 2)

    def logcdf(self, value, mu, lam, alpha):
        x = jnp.maximum(value - alpha, jnp.finfo(jnp.result_type(value, float)).tiny)
        r = jnp.sqrt(x * lam)
        q = x / mu
        a = jsp.log_ndtr((q - 1.0) / r * lam)
        b = 2.0 * lam / mu + jsp.log_ndtr(-(q + 1.0) / r * lam)
        # F(x) = Phi(sqrt(lam / x) (x / mu - 1)) + exp(2 lam / mu) Phi(-sqrt(lam / x) (x / mu + 1))
        # (PyMC 5.28's formula agrees with this only for lam = 1)
        res = jnp.logaddexp(a, b)
        res = jnp.minimum(res, 0.0)
        return jnp.where(value - alpha <= 0, -jnp.inf, jnp.where(value == jnp.inf, 0.0, res))

    def random(self, key, mu, lam, alpha, size):
        k1, k2 = jax.random.split(key)
        y = jax.random.normal(k1, size, dtype=fx()) ** 2
        mu_y = mu * y
        x = mu + mu * mu_y / (2.0 * lam) - mu / (2.0 * lam) * jnp.sqrt(4.0 * lam * mu_y + mu_y**2)
        u = jax.random.uniform(k2, size, fx())
        return jnp.where(u <= mu / (mu + x), x, mu**2 / x) + alpha

    def support_point(self, mu, lam, alpha, size):
        return full(jnp.broadcast_arrays(mu, lam, alpha)[0] + alpha, size)


class Rice(Continuous):
    """Rice(nu | b, sigma=1): the norm of a bivariate normal with mean at distance nu = b * sigma."""

    param_names = ("b", "sigma")
    support = constraints.positive
    arg_constraints = {"sigma": constraints.nonnegative, "b": constraints.nonnegative}

    @classmethod
    def dist(cls, nu=None, sigma=None, b=None, **kwargs):
        nu, b, sigma = cls.get_nu_b(nu, b, sigma)
        return super().dist([b, sigma], **kwargs)

    @classmethod
    def get_nu_b(cls, nu, b, sigma):
        if sigma is None:
            sigma = 1.0
        if nu is None and b is not None:
            return lift(lambda b_, s: b_ * s, b, sigma), b, sigma
        if nu is not None and b is None:
            return nu, lift(lambda n, s: n / s, nu, sigma), sigma
        raise ValueError("Rice distribution must specify either nu or b.")

    def logp(self, value, b, sigma):
        x = value / sigma
        return jnp.log(x) - 0.5 * (x - b) ** 2 + jnp.log(jsp.i0e(x * b)) - jnp.log(sigma)

    def random(self, key, b, sigma, size):
        k1, k2 = jax.random.split(key)
        z1, z2 = jax.random.normal(k1, size, dtype=fx()), jax.random.normal(k2, size, dtype=fx())
        return sigma * jnp.hypot(b + z1, z2)

    def support_point(self, b, sigma, size):
        # PyMC 6: max(b, 1) * sigma, near the mode and inside the support
        return full(jnp.maximum(b, 1.0) * sigma, size)


class PolyaGamma(Continuous):
    """PolyaGamma(h=1, z=0).

    logp and logcdf use the alternating series of Polson, Scott & Windle (2013) truncated at 200 terms
    (the representation behind the `polyagamma` package that PyMC calls): accurate to ~1e-12 up to a few
    times the mean, degrading (cancellation) in the far right tail (x > ~5 for h ~ 1, earlier for large h).
    `random` is approximate: the gamma-convolution representation
    PG(h, z) = sum_k g_k / (2 pi^2 ((k - 1/2)^2 + z^2 / (4 pi^2))), g_k ~ Gamma(h, 1), with the first
    `_K` terms drawn exactly and the rest replaced by one gamma variable of the same mean and variance."""

    param_names = ("h", "z")
    support = constraints.positive
    arg_constraints = {"h": constraints.positive}
    _K = 12
    _TAIL = 4000

    @classmethod
    def dist(cls, h=1.0, z=0.0, **kwargs):
        return super().dist([h, z], **kwargs)

    def logp(self, value, h, z):
        v = jnp.where(value > 0, value, 1.0)
        return polyagamma_logpdf(v, h, z)

    def logcdf(self, value, h, z):
        v = jnp.where(value > 0, value, 1.0)
        return jnp.where(value <= 0, -jnp.inf, jnp.where(value == jnp.inf, 0.0, polyagamma_logcdf(v, h, z)))

    def random(self, key, h, z, size):
        dtype = fx()
        k1, k2 = jax.random.split(key)
        h = jnp.broadcast_to(h, size)
        c = jnp.broadcast_to(z, size)[..., None] ** 2 / (4.0 * PI**2)
        k = jnp.arange(1, self._K + 1, dtype=dtype)
        g = jax.random.gamma(k1, jnp.broadcast_to(h[..., None], (*size, self._K)), (*size, self._K), dtype)
        main = jnp.sum(g / ((k - 0.5) ** 2 + c), axis=-1)
        # the rest: sum_{k > K} of 1/d_k and 1/d_k^2 (explicit up to _TAIL, then the integral of the rest)
        kt = jnp.arange(self._K + 1, self._TAIL + 1, dtype=dtype)
        inv = 1.0 / ((kt - 0.5) ** 2 + c)
        s1 = jnp.sum(inv, -1) + 1.0 / self._TAIL
        s2 = jnp.sum(inv**2, -1) + 1.0 / (3.0 * self._TAIL**3)
        tail = jax.random.gamma(k2, h * s1**2 / s2, size, dtype=fx()) * (s2 / s1)
        return (main + tail) / (2.0 * PI**2)

    def support_point(self, h, z, size):
        z_s = jnp.where(z == 0, 1.0, z)
        return full(jnp.where(z == 0, h / 4.0, jnp.tanh(z_s / 2.0) * (h / (2.0 * z_s))), size)

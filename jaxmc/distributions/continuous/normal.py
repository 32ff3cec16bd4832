"""The normal family: Normal, HalfNormal, TruncatedNormal, LogNormal, LogitNormal, SkewNormal, ExGaussian."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from jaxmc.distributions import constraints
from jaxmc.distributions.base import Continuous
from jaxmc.distributions.dist_math import (
    LOG2, LOG_SQRT_2PI, PI, SQRT2, full, fx, is_static_inf, log_diff_exp, log_diff_ndtr, normal_lccdf,
    normal_lcdf, normal_logpdf, uniform01,
)
from jaxmc.distributions.params import get_tau_sigma

__all__ = [
    "ExGaussian", "HalfNormal", "LogNormal", "LogitNormal", "Lognormal", "Normal", "SkewNormal", "TruncatedNormal",
]


class _MuSigma(Continuous):
    """Families of (mu, sigma) given as sigma or as the precision tau: Normal, LogNormal, LogitNormal."""

    param_names = ("mu", "sigma")
    arg_constraints = {"sigma": constraints.positive}

    @classmethod
    def dist(cls, mu=0.0, sigma=None, tau=None, **kwargs):
        _, sigma = get_tau_sigma(tau=tau, sigma=sigma)
        return super().dist([mu, sigma], **kwargs)


class Normal(_MuSigma):
    """Normal(mu, sigma) or Normal(mu, tau=precision)."""


    def logp(self, value, mu, sigma):
        return normal_logpdf(value, mu, sigma)

    def logcdf(self, value, mu, sigma):
        return normal_lcdf(mu, sigma, value)

    def random(self, key, mu, sigma, size):
        return mu + sigma * jax.random.normal(key, size, dtype=fx())

    def support_point(self, mu, sigma, size):
        return full(mu, size)

    def logccdf(self, value, mu, sigma):
        return normal_lccdf(mu, sigma, value)

    def icdf(self, q, mu, sigma):
        return mu + sigma * jsp.ndtri(q)


class HalfNormal(Continuous):
    """HalfNormal(sigma) or HalfNormal(tau=precision), on [0, inf)."""

    param_names = ("sigma",)
    support = constraints.nonnegative
    arg_constraints = {"sigma": constraints.positive}

    @classmethod
    def dist(cls, sigma=None, tau=None, **kwargs):
        _, sigma = get_tau_sigma(tau=tau, sigma=sigma)
        return super().dist([sigma], **kwargs)

    def logp(self, value, sigma):
        z = value / sigma
        return -0.5 * z**2 - jnp.log(sigma) - LOG_SQRT_2PI + LOG2

    def logcdf(self, value, sigma):
        z = jnp.maximum(value, 0.0) / (sigma * SQRT2)
        res = jnp.where(z < 0.5, jnp.log(jsp.erf(z)), jnp.log1p(-jsp.erfc(z)))
        return jnp.where(value < 0, -jnp.inf, res)

    def random(self, key, sigma, size):
        return jnp.abs(sigma * jax.random.normal(key, size, dtype=fx()))

    def support_point(self, sigma, size):
        return full(sigma, size)

    def icdf(self, q, sigma):
        return sigma * jsp.ndtri((1.0 + q) / 2.0)


class TruncatedNormal(Continuous):
    """TruncatedNormal(mu, sigma | tau, lower=None, upper=None): a normal restricted to [lower, upper].

    A bound given as None (or a constant -inf/inf) makes that side unbounded, as in PyMC; the default
    transform is then an Interval over the finite bounds only."""

    param_names = ("mu", "sigma", "lower", "upper")
    support = constraints.interval("lower", "upper")
    arg_constraints = {"sigma": constraints.positive, "lower": constraints.less_equal("upper")}

    @classmethod
    def dist(cls, mu=0.0, sigma=None, *, tau=None, lower=None, upper=None, **kwargs):
        _, sigma = get_tau_sigma(tau=tau, sigma=sigma)
        lower = -np.inf if lower is None else lower
        upper = np.inf if upper is None else upper
        return super().dist([mu, sigma, lower, upper], **kwargs)

    @staticmethod
    def _bounds(mu, sigma, lower, upper):
        """Standardized bounds with finite stand-ins for infinite ones (so that no branch, nor its gradient,
        sees an infinity) and the masks of finite bounds. A bound that is a constant -inf / inf is known to
        be absent at trace time (False masks), as PyMC does for constant bounds."""
        lb, ub = not is_static_inf(lower, -1), not is_static_inf(upper, 1)
        fin_l = jnp.isfinite(lower) if lb else False
        fin_u = jnp.isfinite(upper) if ub else False
        lo_s = jnp.where(fin_l, lower, jnp.where(fin_u, upper - sigma, mu - sigma))
        up_s = jnp.where(fin_u, upper, lo_s + sigma)
        return (lo_s - mu) / sigma, (up_s - mu) / sigma, fin_l, fin_u, lb, ub

    @staticmethod
    def _log_mass(a, b, fin_l, fin_u, lb, ub):
        """log P(lower <= X <= upper) for the standardized bounds of `_bounds`."""
        if not lb and not ub:
            return 0.0
        if lb and not ub:
            return jnp.where(fin_l, jsp.log_ndtr(-a), 0.0)
        if ub and not lb:
            return jnp.where(fin_u, jsp.log_ndtr(b), 0.0)
        return jnp.where(fin_l & fin_u, log_diff_ndtr(b, a),
                         jnp.where(fin_l, jsp.log_ndtr(-a), jnp.where(fin_u, jsp.log_ndtr(b), 0.0)))

    def logp(self, value, mu, sigma, lower, upper):
        a, b, fin_l, fin_u, lb, ub = self._bounds(mu, sigma, lower, upper)
        return normal_logpdf(value, mu, sigma) - self._log_mass(a, b, fin_l, fin_u, lb, ub)

    def logcdf(self, value, mu, sigma, lower, upper):
        a, b, fin_l, fin_u, lb, ub = self._bounds(mu, sigma, lower, upper)
        z = (value - mu) / sigma
        z = jnp.where(jnp.isfinite(z), z, 0.0)
        if lb:
            z = jnp.where(fin_l, jnp.maximum(z, a), z)
        if ub:
            z = jnp.where(fin_u, jnp.minimum(z, b), z)
        # P(lower <= X <= value): the mass between the (finite) lower bound and value
        num = jnp.where(fin_l, log_diff_ndtr(z, jnp.minimum(a, z)), jsp.log_ndtr(z)) if lb else jsp.log_ndtr(z)
        res = jnp.minimum(num - self._log_mass(a, b, fin_l, fin_u, lb, ub), 0.0)
        res = jnp.where(value == -jnp.inf, -jnp.inf, jnp.where(value == jnp.inf, 0.0, res))
        if lb:
            res = jnp.where(value < lower, -jnp.inf, res)
        if ub:
            res = jnp.where(value <= upper, res, 0.0)
        return res

    def random(self, key, mu, sigma, lower, upper, size):
        a = (lower - mu) / sigma
        b = (upper - mu) / sigma
        u = uniform01(key, size)
        # sample in the tail that is more accurate: the upper tail by symmetry when a > 0
        flip = a > 0
        lo = jnp.where(flip, -b, a)
        hi = jnp.where(flip, -a, b)
        llo, lhi = jsp.log_ndtr(lo), jsp.log_ndtr(hi)
        # log(Phi(lo) + u * (Phi(hi) - Phi(lo)))
        lp = jnp.logaddexp(llo, jnp.log(u) + log_diff_exp(lhi, jnp.minimum(llo, lhi)))
        x = jsp.ndtri(jnp.exp(lp))
        x = jnp.clip(x, lo, hi)
        x = jnp.where(flip, -x, x)
        return jnp.clip(mu + sigma * x, lower, upper)

    def support_point(self, mu, sigma, lower, upper, size):
        mu, _, lower, upper = jnp.broadcast_arrays(mu, sigma, lower, upper)
        lo_inf = lower == -jnp.inf
        up_inf = upper == jnp.inf
        pt = jnp.where(lo_inf, jnp.where(up_inf, mu, upper - 1.0),
                       jnp.where(up_inf, lower + 1.0, (lower + upper) / 2.0))
        return full(pt, size)


class LogNormal(_MuSigma):
    """LogNormal(mu, sigma) or LogNormal(mu, tau=precision): exp of a Normal(mu, sigma)."""

    support = constraints.positive

    def logp(self, value, mu, sigma):
        logv = jnp.log(value)
        z = (logv - mu) / sigma
        return -0.5 * z**2 - LOG_SQRT_2PI - jnp.log(sigma) - logv

    def logcdf(self, value, mu, sigma):
        return jnp.where(value <= 0, -jnp.inf, normal_lcdf(mu, sigma, jnp.log(jnp.maximum(value, 0.0))))

    def random(self, key, mu, sigma, size):
        return jnp.exp(mu + sigma * jax.random.normal(key, size, dtype=fx()))

    def support_point(self, mu, sigma, size):
        return full(jnp.exp(mu + 0.5 * sigma**2), size)

    def icdf(self, q, mu, sigma):
        return jnp.exp(mu + sigma * jsp.ndtri(q))


Lognormal = LogNormal


class LogitNormal(_MuSigma):
    """LogitNormal(mu, sigma | tau): the logistic sigmoid of a Normal(mu, sigma), on (0, 1).

    As in PyMC (where it is a CustomDist), there is no default transform."""

    # no default transform, as in PyMC
    support = constraints.Interval(0, 1, lower_open=True, upper_open=True, transform=None)

    def logp(self, value, mu, sigma):
        lv, l1v = jnp.log(value), jnp.log1p(-value)
        z = (lv - l1v - mu) / sigma
        return -0.5 * z**2 - LOG_SQRT_2PI - jnp.log(sigma) - lv - l1v

    def logcdf(self, value, mu, sigma):
        v = jnp.clip(value, 0.0, 1.0)
        res = normal_lcdf(mu, sigma, jnp.log(v) - jnp.log1p(-v))
        return jnp.where(value <= 0, -jnp.inf, jnp.where(value >= 1, 0.0, res))

    def random(self, key, mu, sigma, size):
        return jax.nn.sigmoid(mu + sigma * jax.random.normal(key, size, dtype=fx()))

    def support_point(self, mu, sigma, size):
        return full(jax.nn.sigmoid(jnp.broadcast_arrays(mu, sigma)[0]), size)


class SkewNormal(Continuous):
    """SkewNormal(alpha=1, mu=0, sigma | tau): normal density times 2 Phi(alpha z)."""

    param_names = ("mu", "sigma", "alpha")
    arg_constraints = {"sigma": constraints.positive}
    check_messages = {"sigma": "tau > 0"}

    @classmethod
    def dist(cls, alpha=1.0, mu=0.0, sigma=None, tau=None, **kwargs):
        _, sigma = get_tau_sigma(tau=tau, sigma=sigma)
        return super().dist([mu, sigma, alpha], **kwargs)

    def logp(self, value, mu, sigma, alpha):
        z = (value - mu) / sigma
        return LOG2 + jsp.log_ndtr(alpha * z) - 0.5 * z**2 - jnp.log(sigma) - LOG_SQRT_2PI

    def random(self, key, mu, sigma, alpha, size):
        k1, k2 = jax.random.split(key)
        delta = alpha / jnp.sqrt(1.0 + alpha**2)
        u0 = jax.random.normal(k1, size, dtype=fx())
        v = jax.random.normal(k2, size, dtype=fx())
        u1 = delta * u0 + jnp.sqrt(1.0 - delta**2) * v
        return mu + sigma * jnp.where(u0 >= 0, u1, -u1)

    def support_point(self, mu, sigma, alpha, size):
        return full(mu + sigma * (2.0 / PI) ** 0.5 * alpha / jnp.sqrt(1.0 + alpha**2), size)


class ExGaussian(Continuous):
    """ExGaussian(mu=0, sigma=1, *, nu): sum of a Normal(mu, sigma) and an Exponential of mean nu."""

    param_names = ("mu", "sigma", "nu")
    arg_constraints = {"sigma": constraints.positive, "nu": constraints.positive}

    @classmethod
    def dist(cls, mu=0.0, sigma=1.0, *, nu, **kwargs):
        return super().dist([mu, sigma, nu], **kwargs)

    @staticmethod
    def _exp_part(value, mu, sigma, nu):
        return (mu - value) / nu + 0.5 * (sigma / nu) ** 2 + normal_lcdf(mu + sigma**2 / nu, sigma, value)

    def logp(self, value, mu, sigma, nu):
        use_exp = nu > 0.05 * sigma
        nu_s = jnp.where(use_exp, nu, sigma)  # keeps the unused branch finite (and its gradient)
        exg = -jnp.log(nu_s) + self._exp_part(value, mu, sigma, nu_s)
        norm = normal_logpdf(value, mu, sigma)
        return jnp.where(use_exp, exg, norm)

    def logcdf(self, value, mu, sigma, nu):
        use_exp = nu > 0.05 * sigma
        nu_s = jnp.where(use_exp, nu, sigma)
        lc = normal_lcdf(mu, sigma, value)
        exg = log_diff_exp(lc, jnp.minimum(self._exp_part(value, mu, sigma, nu_s), lc))
        return jnp.where(use_exp, exg, lc)

    def random(self, key, mu, sigma, nu, size):
        k1, k2 = jax.random.split(key)
        return (mu + sigma * jax.random.normal(k1, size, dtype=fx())
                + nu * jax.random.exponential(k2, size, dtype=fx()))

    def support_point(self, mu, sigma, nu, size):
        return full(mu + nu + 0.0 * sigma, size)

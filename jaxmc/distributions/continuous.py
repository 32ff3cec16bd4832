"""Continuous univariate families with PyMC's names, parameterizations, supports and default transforms.

Canonical parameters follow PyMC's (e.g. Exponential and Gamma keep a scale, AsymmetricLaplace is
(b, kappa, mu), Triangular is (lower, c, upper), Rice is (b, sigma)); `dist()` maps every documented
parameterization onto them. Formulas are written for stability (log_ndtr, log1p, xlogy, ...) and
for jit/vmap/grad; constants are Python floats so float32 models stay float32.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from jaxmc import config, transforms
from jaxmc.distributions.base import Continuous
from jaxmc.distributions.dist_math import (
    EULER_GAMMA,
    LOG2,
    LOG2PI,
    LOG_SQRT_2PI,
    LOGPI,
    PI,
    SQRT2,
    get_tau_sigma,
    is_static_inf,
    lift,
    log1mexp,
    log_diff_exp,
    log_diff_ndtr,
    log_i0,
    logpow,
    normal_lcdf,
    polyagamma_logcdf,
    polyagamma_logpdf,
)

__all__ = [
    "AsymmetricLaplace", "Beta", "Cauchy", "ChiSquared", "ExGaussian", "Exponential", "Flat", "Gamma",
    "Gumbel", "HalfCauchy", "HalfFlat", "HalfNormal", "HalfStudentT", "Interpolated", "InverseGamma",
    "Kumaraswamy", "Laplace", "LogNormal", "Lognormal", "Logistic", "LogitNormal", "Moyal", "Normal",
    "Pareto", "PolyaGamma", "Rice", "SkewNormal", "SkewStudentT", "StudentT", "Triangular",
    "TruncatedNormal", "Uniform", "VonMises", "Wald", "Weibull",
]


def _full(x, size):
    return jnp.broadcast_to(x, size)


def _fx():
    """dtype of draws: floatX (draws are made in the model's precision)."""
    return jnp.dtype(config.floatX())


def _uniform(key, size, dtype=None):
    """Uniform draws in the open interval (0, 1)."""
    dtype = dtype or _fx()
    tiny = jnp.finfo(dtype).tiny
    return jax.random.uniform(key, size, dtype=dtype, minval=tiny, maxval=1.0)


def _interval(lower_idx, upper_idx):
    """PyMC's bounded default transform: Interval with bounds taken from the parameters (by index)."""

    def bounds(*params):
        lo = params[lower_idx] if lower_idx is not None else None
        up = params[upper_idx] if upper_idx is not None else None
        return lo, up

    return transforms.Interval(bounds_fn=bounds)


# ====================================================================== unbounded and flat
class Flat(Continuous):
    """Improper flat density on the real line (log density 0); cannot be sampled."""

    param_names = ()

    @classmethod
    def dist(cls, **kwargs):
        return super().dist([], **kwargs)

    def logp(self, value):
        return jnp.zeros_like(value)

    def logcdf(self, value):
        zero = jnp.zeros_like(value)
        return jnp.where(value == -jnp.inf, -jnp.inf, jnp.where(value == jnp.inf, zero, zero - LOG2))

    def random(self, key, size):
        raise NotImplementedError("Cannot sample from flat variable")

    def support_point(self, size):
        return jnp.zeros(size)


class HalfFlat(Continuous):
    """Improper flat density on [0, inf); cannot be sampled."""

    param_names = ()

    @classmethod
    def dist(cls, **kwargs):
        return super().dist([], **kwargs)

    def logp(self, value):
        return jnp.zeros_like(value)

    def logcdf(self, value):
        return jnp.where(value == jnp.inf, jnp.zeros_like(value), -jnp.inf)

    def random(self, key, size):
        raise NotImplementedError("Cannot sample from half_flat variable")

    def support_point(self, size):
        return jnp.ones(size)

    def in_support(self, value):
        return value >= 0

    def default_transform(self):
        return transforms.log


# ====================================================================== normal family
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
        return mu + sigma * jax.random.normal(key, size, dtype=_fx())

    def support_point(self, mu, sigma, size):
        return _full(mu, size)

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
        return -0.5 * z**2 - jnp.log(sigma) - LOG_SQRT_2PI + LOG2

    def logcdf(self, value, sigma):
        z = jnp.maximum(value, 0.0) / (sigma * SQRT2)
        res = jnp.where(z < 0.5, jnp.log(jsp.erf(z)), jnp.log1p(-jsp.erfc(z)))
        return jnp.where(value < 0, -jnp.inf, res)

    def random(self, key, sigma, size):
        return jnp.abs(sigma * jax.random.normal(key, size, dtype=_fx()))

    def support_point(self, sigma, size):
        return _full(sigma, size)

    def in_support(self, value, sigma):
        return value >= 0

    def check_params(self, sigma):
        return [(sigma > 0, "sigma > 0")]

    def default_transform(self):
        return transforms.log


class TruncatedNormal(Continuous):
    """TruncatedNormal(mu, sigma | tau, lower=None, upper=None): a normal restricted to [lower, upper].

    A bound given as None (or a constant -inf/inf) makes that side unbounded, as in PyMC; the default
    transform is then an Interval over the finite bounds only."""

    param_names = ("mu", "sigma", "lower", "upper")
    support_depends_on_params = True

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
        z = (value - mu) / sigma
        a, b, fin_l, fin_u, lb, ub = self._bounds(mu, sigma, lower, upper)
        return -0.5 * z**2 - jnp.log(sigma) - LOG_SQRT_2PI - self._log_mass(a, b, fin_l, fin_u, lb, ub)

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
        u = _uniform(key, size)
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
        return _full(pt, size)

    def in_support(self, value, mu, sigma, lower, upper):
        return ~(value < lower) & ~(value > upper)  # a NaN (unknown) bound does not reject

    def check_params(self, mu, sigma, lower, upper):
        return [(sigma > 0, "sigma > 0"), (lower <= upper, "lower <= upper")]

    def default_transform(self):
        return _interval(2, 3)


class LogNormal(Continuous):
    """LogNormal(mu, sigma) or LogNormal(mu, tau=precision): exp of a Normal(mu, sigma)."""

    param_names = ("mu", "sigma")

    @classmethod
    def dist(cls, mu=0.0, sigma=None, tau=None, **kwargs):
        _, sigma = get_tau_sigma(tau=tau, sigma=sigma)
        return super().dist([mu, sigma], **kwargs)

    def logp(self, value, mu, sigma):
        logv = jnp.log(value)
        z = (logv - mu) / sigma
        return -0.5 * z**2 - LOG_SQRT_2PI - jnp.log(sigma) - logv

    def logcdf(self, value, mu, sigma):
        return jnp.where(value <= 0, -jnp.inf, normal_lcdf(mu, sigma, jnp.log(jnp.maximum(value, 0.0))))

    def random(self, key, mu, sigma, size):
        return jnp.exp(mu + sigma * jax.random.normal(key, size, dtype=_fx()))

    def support_point(self, mu, sigma, size):
        return _full(jnp.exp(mu + 0.5 * sigma**2), size)

    def in_support(self, value, mu, sigma):
        return value > 0

    def check_params(self, mu, sigma):
        return [(sigma > 0, "sigma > 0")]

    def default_transform(self):
        return transforms.log


Lognormal = LogNormal


class LogitNormal(Continuous):
    """LogitNormal(mu, sigma | tau): the logistic sigmoid of a Normal(mu, sigma), on (0, 1).

    As in PyMC (where it is a CustomDist), there is no default transform."""

    param_names = ("mu", "sigma")

    @classmethod
    def dist(cls, mu=0.0, sigma=None, tau=None, **kwargs):
        _, sigma = get_tau_sigma(tau=tau, sigma=sigma)
        return super().dist([mu, sigma], **kwargs)

    def logp(self, value, mu, sigma):
        lv, l1v = jnp.log(value), jnp.log1p(-value)
        z = (lv - l1v - mu) / sigma
        return -0.5 * z**2 - LOG_SQRT_2PI - jnp.log(sigma) - lv - l1v

    def logcdf(self, value, mu, sigma):
        v = jnp.clip(value, 0.0, 1.0)
        res = normal_lcdf(mu, sigma, jnp.log(v) - jnp.log1p(-v))
        return jnp.where(value <= 0, -jnp.inf, jnp.where(value >= 1, 0.0, res))

    def random(self, key, mu, sigma, size):
        return jax.nn.sigmoid(mu + sigma * jax.random.normal(key, size, dtype=_fx()))

    def support_point(self, mu, sigma, size):
        return _full(jax.nn.sigmoid(jnp.broadcast_arrays(mu, sigma)[0]), size)

    def in_support(self, value, mu, sigma):
        return (value > 0) & (value < 1)

    def check_params(self, mu, sigma):
        return [(sigma > 0, "sigma > 0")]


class SkewNormal(Continuous):
    """SkewNormal(alpha=1, mu=0, sigma | tau): normal density times 2 Phi(alpha z)."""

    param_names = ("mu", "sigma", "alpha")

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
        u0 = jax.random.normal(k1, size, dtype=_fx())
        v = jax.random.normal(k2, size, dtype=_fx())
        u1 = delta * u0 + jnp.sqrt(1.0 - delta**2) * v
        return mu + sigma * jnp.where(u0 >= 0, u1, -u1)

    def support_point(self, mu, sigma, alpha, size):
        return _full(mu + sigma * (2.0 / PI) ** 0.5 * alpha / jnp.sqrt(1.0 + alpha**2), size)

    def check_params(self, mu, sigma, alpha):
        return [(sigma > 0, "tau > 0")]


class ExGaussian(Continuous):
    """ExGaussian(mu=0, sigma=1, *, nu): sum of a Normal(mu, sigma) and an Exponential of mean nu."""

    param_names = ("mu", "sigma", "nu")

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
        z = (value - mu) / sigma
        norm = -0.5 * z**2 - jnp.log(sigma) - LOG_SQRT_2PI
        return jnp.where(use_exp, exg, norm)

    def logcdf(self, value, mu, sigma, nu):
        use_exp = nu > 0.05 * sigma
        nu_s = jnp.where(use_exp, nu, sigma)
        lc = normal_lcdf(mu, sigma, value)
        exg = log_diff_exp(lc, jnp.minimum(self._exp_part(value, mu, sigma, nu_s), lc))
        return jnp.where(use_exp, exg, lc)

    def random(self, key, mu, sigma, nu, size):
        k1, k2 = jax.random.split(key)
        return (mu + sigma * jax.random.normal(k1, size, dtype=_fx())
                + nu * jax.random.exponential(k2, size, dtype=_fx()))

    def support_point(self, mu, sigma, nu, size):
        return _full(mu + nu + 0.0 * sigma, size)

    def check_params(self, mu, sigma, nu):
        return [(sigma > 0, "sigma > 0"), (nu > 0, "nu > 0")]


# ====================================================================== Student-t and Cauchy
class StudentT(Continuous):
    """StudentT(nu, mu=0, *, sigma | lam)."""

    param_names = ("nu", "mu", "sigma")

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
        return mu + sigma * jax.random.t(key, nu, size, dtype=_fx())

    def support_point(self, nu, mu, sigma, size):
        return _full(jnp.broadcast_arrays(mu, nu, sigma)[0], size)

    def check_params(self, nu, mu, sigma):
        return [(sigma > 0, "lam > 0"), (nu > 0, "nu > 0")]


def _student_t_lcdf(t, nu):
    """log CDF of the standard Student-t, accurate in both tails."""
    x = nu / (nu + t**2)
    tail = jsp.betainc(nu / 2.0, 0.5, x)  # = 2 * P(T > |t|)
    return jnp.where(t < 0, jnp.log(tail) - LOG2, jnp.log1p(-0.5 * tail))


class HalfStudentT(Continuous):
    """HalfStudentT(nu, sigma | lam): |StudentT(nu, 0, sigma)|, on [0, inf).

    PyMC defines no logcdf for it; jaxmc adds one (2 F(x) - 1 of the Student-t)."""

    param_names = ("nu", "sigma")

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
        return jnp.abs(sigma * jax.random.t(key, nu, size, dtype=_fx()))

    def support_point(self, nu, sigma, size):
        return _full(jnp.broadcast_arrays(sigma, nu)[0], size)

    def in_support(self, value, nu, sigma):
        return value >= 0

    def check_params(self, nu, sigma):
        return [(sigma > 0, "sigma > 0"), (nu > 0, "nu > 0")]

    def default_transform(self):
        return transforms.log


class SkewStudentT(Continuous):
    """SkewStudentT(a, b, *, mu=0, sigma | lam): Jones and Faddy's skewed t (scipy's jf_skew_t)."""

    param_names = ("a", "b", "mu", "sigma")

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
        bb = jax.random.beta(key, a, b, size, dtype=_fx())
        tiny = jnp.finfo(bb.dtype).tiny
        bb = jnp.clip(bb, tiny, 1.0 - jnp.finfo(bb.dtype).epsneg)
        t = (2.0 * bb - 1.0) * jnp.sqrt(a + b) / (2.0 * jnp.sqrt(bb * (1.0 - bb)))
        return mu + sigma * t

    def support_point(self, a, b, mu, sigma, size):
        # mu, as PyMC 6 (the mean is infinite or undefined for a or b <= 1/2)
        return _full(jnp.broadcast_arrays(a, b, mu, sigma)[2], size)

    def check_params(self, a, b, mu, sigma):
        return [(a > 0, "a > 0"), (b > 0, "b > 0"), (sigma > 0, "sigma > 0")]


class Cauchy(Continuous):
    """Cauchy(alpha, beta): location alpha, scale beta."""

    param_names = ("alpha", "beta")

    @classmethod
    def dist(cls, alpha, beta, **kwargs):
        return super().dist([alpha, beta], **kwargs)

    def logp(self, value, alpha, beta):
        return -LOGPI - jnp.log(beta) - jnp.log1p(((value - alpha) / beta) ** 2)

    def logcdf(self, value, alpha, beta):
        # 0.5 + arctan(z) / pi = arctan2(1, -z) / pi, accurate in the left tail
        return jnp.log(jnp.arctan2(1.0, -(value - alpha) / beta)) - LOGPI

    def random(self, key, alpha, beta, size):
        return alpha + beta * jax.random.cauchy(key, size, dtype=_fx())

    def support_point(self, alpha, beta, size):
        return _full(jnp.broadcast_arrays(alpha, beta)[0], size)

    def check_params(self, alpha, beta):
        return [(beta > 0, "beta > 0")]


class HalfCauchy(Continuous):
    """HalfCauchy(beta): |Cauchy(0, beta)|, on [0, inf)."""

    param_names = ("beta",)

    @classmethod
    def dist(cls, beta, **kwargs):
        return super().dist([beta], **kwargs)

    def logp(self, value, beta):
        return LOG2 - LOGPI - jnp.log(beta) - jnp.log1p((value / beta) ** 2)

    def logcdf(self, value, beta):
        v = jnp.maximum(value, 0.0)
        return jnp.where(value < 0, -jnp.inf, LOG2 - LOGPI + jnp.log(jnp.arctan(v / beta)))

    def random(self, key, beta, size):
        return jnp.abs(beta * jax.random.cauchy(key, size, dtype=_fx()))

    def support_point(self, beta, size):
        return _full(beta, size)

    def in_support(self, value, beta):
        return value >= 0

    def check_params(self, beta):
        return [(beta > 0, "beta > 0")]

    def default_transform(self):
        return transforms.log


# ====================================================================== positive families
class Exponential(Continuous):
    """Exponential(lam) or Exponential(scale=1/lam)."""

    param_names = ("scale",)

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
        return scale * jax.random.exponential(key, size, dtype=_fx())

    def support_point(self, scale, size):
        return _full(scale, size)

    def in_support(self, value, scale):
        return value >= 0

    def check_params(self, scale):
        return [(scale >= 0, "lam >= 0")]

    def default_transform(self):
        return transforms.log


class Gamma(Continuous):
    """Gamma(alpha, beta) (shape, rate) or Gamma(mu=mean, sigma=sd); canonical (alpha, scale=1/beta)."""

    param_names = ("alpha", "scale")

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
            alpha = lift(lambda m, s: m**2 / s**2 * jnp.sign(s), mu, sigma)
            beta = lift(lambda m, s: m / s**2, mu, sigma)
            return alpha, beta
        raise ValueError("Incompatible parameterization. Either use alpha and beta, or mu and sigma to "
                         "specify distribution.")

    def logp(self, value, alpha, scale):
        beta = 1.0 / scale
        return -jsp.gammaln(alpha) + logpow(beta, alpha) - beta * value + logpow(value, alpha - 1.0)

    def logcdf(self, value, alpha, scale):
        v = jnp.maximum(value, 0.0)
        return jnp.where(value < 0, -jnp.inf, jnp.log(jsp.gammainc(alpha, v / scale)))

    def random(self, key, alpha, scale, size):
        return scale * jax.random.gamma(key, jnp.broadcast_to(alpha, size), size, dtype=_fx())

    def support_point(self, alpha, scale, size):
        return _full(alpha * scale, size)

    def in_support(self, value, alpha, scale):
        return value >= 0

    def check_params(self, alpha, scale):
        return [(alpha > 0, "alpha > 0"), (scale > 0, "beta > 0")]

    def default_transform(self):
        return transforms.log


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

    @classmethod
    def dist(cls, alpha=None, beta=None, mu=None, sigma=None, **kwargs):
        alpha, beta = cls._get_alpha_beta(alpha, beta, mu, sigma)
        return super().dist([alpha, beta], **kwargs)

    @classmethod
    def _get_alpha_beta(cls, alpha, beta, mu, sigma):
        if alpha is not None:
            return alpha, 1.0 if beta is None else beta
        if mu is not None and sigma is not None:
            alpha = lift(lambda m, s: (2 * s**2 + m**2) / s**2 * jnp.sign(s), mu, sigma)
            beta = lift(lambda m, s: m * (m**2 + s**2) / s**2, mu, sigma)
            return alpha, beta
        raise ValueError("Incompatible parameterization. Either use alpha and (optionally) beta, or mu "
                         "and sigma to specify distribution.")

    def logp(self, value, alpha, beta):
        return -jsp.gammaln(alpha) + logpow(beta, alpha) - beta / value + logpow(value, -alpha - 1.0)

    def logcdf(self, value, alpha, beta):
        v = jnp.maximum(value, 0.0)
        return jnp.where(value <= 0, -jnp.inf, jnp.log(jsp.gammaincc(alpha, beta / v)))

    def random(self, key, alpha, beta, size):
        return beta / jax.random.gamma(key, jnp.broadcast_to(alpha, size), size, dtype=_fx())

    def support_point(self, alpha, beta, size):
        a_s = jnp.where(alpha > 1, alpha, 2.0)
        return _full(jnp.where(alpha > 1, beta / (a_s - 1.0), beta / (alpha + 1.0)), size)

    def in_support(self, value, alpha, beta):
        return value >= 0

    def check_params(self, alpha, beta):
        return [(alpha > 0, "alpha > 0"), (beta > 0, "beta > 0")]

    def default_transform(self):
        return transforms.log


class Weibull(Continuous):
    """Weibull(alpha, beta): shape alpha, scale beta."""

    param_names = ("alpha", "beta")

    @classmethod
    def dist(cls, alpha, beta, **kwargs):
        return super().dist([alpha, beta], **kwargs)

    def logp(self, value, alpha, beta):
        z = value / beta
        return jnp.log(alpha) - jnp.log(beta) + logpow(z, alpha - 1.0) - z**alpha

    def logcdf(self, value, alpha, beta):
        v = jnp.maximum(value, 0.0)
        return jnp.where(value < 0, -jnp.inf, log1mexp(-((v / beta) ** alpha)))

    def random(self, key, alpha, beta, size):
        return beta * jax.random.exponential(key, size, dtype=_fx()) ** (1.0 / alpha)

    def support_point(self, alpha, beta, size):
        return _full(beta * jnp.exp(jsp.gammaln(1.0 + 1.0 / alpha)), size)

    def in_support(self, value, alpha, beta):
        return value >= 0

    def check_params(self, alpha, beta):
        return [(alpha > 0, "alpha > 0"), (beta > 0, "beta > 0")]

    def default_transform(self):
        return transforms.log


class Wald(Continuous):
    """Wald (inverse Gaussian): Wald(mu), Wald(mu, lam), Wald(mu, phi=) or Wald(lam=, phi=), shifted by
    alpha (default 0). As in PyMC, the default transform is log even when alpha > 0."""

    param_names = ("mu", "lam", "alpha")
    support_depends_on_params = True

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
        y = jax.random.normal(k1, size, dtype=_fx()) ** 2
        mu_y = mu * y
        x = mu + mu * mu_y / (2.0 * lam) - mu / (2.0 * lam) * jnp.sqrt(4.0 * lam * mu_y + mu_y**2)
        u = jax.random.uniform(k2, size, _fx())
        return jnp.where(u <= mu / (mu + x), x, mu**2 / x) + alpha

    def support_point(self, mu, lam, alpha, size):
        return _full(jnp.broadcast_arrays(mu, lam, alpha)[0] + alpha, size)

    def in_support(self, value, mu, lam, alpha):
        return ~(value <= alpha)  # a NaN (unknown) alpha does not reject

    def check_params(self, mu, lam, alpha):
        return [(mu > 0, "mu > 0"), (lam > 0, "lam > 0"), (alpha >= 0, "alpha >= 0")]

    def default_transform(self):
        return transforms.log


class Rice(Continuous):
    """Rice(nu | b, sigma=1): the norm of a bivariate normal with mean at distance nu = b * sigma."""

    param_names = ("b", "sigma")

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
        z1, z2 = jax.random.normal(k1, size, dtype=_fx()), jax.random.normal(k2, size, dtype=_fx())
        return sigma * jnp.hypot(b + z1, z2)

    def support_point(self, b, sigma, size):
        # PyMC 6: max(b, 1) * sigma, near the mode and inside the support
        return _full(jnp.maximum(b, 1.0) * sigma, size)

    def in_support(self, value, b, sigma):
        return value > 0

    def check_params(self, b, sigma):
        return [(sigma >= 0, "sigma >= 0"), (b >= 0, "b >= 0")]

    def default_transform(self):
        return transforms.log


class PolyaGamma(Continuous):
    """PolyaGamma(h=1, z=0).

    logp and logcdf use the alternating series of Polson, Scott & Windle (2013) truncated at 200 terms
    (the representation behind the `polyagamma` package that PyMC calls): accurate to ~1e-12 up to a few
    times the mean, degrading (cancellation) in the far right tail (x > ~5 for h ~ 1, earlier for large h).
    `random` is approximate: the gamma-convolution representation
    PG(h, z) = sum_k g_k / (2 pi^2 ((k - 1/2)^2 + z^2 / (4 pi^2))), g_k ~ Gamma(h, 1), with the first
    `_K` terms drawn exactly and the rest replaced by one gamma variable of the same mean and variance."""

    param_names = ("h", "z")
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
        dtype = _fx()
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
        tail = jax.random.gamma(k2, h * s1**2 / s2, size, dtype=_fx()) * (s2 / s1)
        return (main + tail) / (2.0 * PI**2)

    def support_point(self, h, z, size):
        z_s = jnp.where(z == 0, 1.0, z)
        return _full(jnp.where(z == 0, h / 4.0, jnp.tanh(z_s / 2.0) * (h / (2.0 * z_s))), size)

    def in_support(self, value, h, z):
        return value > 0

    def check_params(self, h, z):
        return [(h > 0, "h > 0")]

    def default_transform(self):
        return transforms.log


# ====================================================================== bounded families
class Uniform(Continuous):
    """Uniform(lower=0, upper=1)."""

    param_names = ("lower", "upper")
    support_depends_on_params = True

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
        return jax.random.uniform(key, size, _fx(), minval=lower, maxval=upper)

    def support_point(self, lower, upper, size):
        return _full((lower + upper) / 2.0, size)

    def in_support(self, value, lower, upper):
        return ~(value < lower) & ~(value > upper)  # a NaN (unknown) bound does not reject

    def check_params(self, lower, upper):
        return [(lower <= upper, "lower <= upper")]

    def default_transform(self):
        return _interval(0, 1)


class Beta(Continuous):
    """Beta(alpha, beta), Beta(mu, sigma) or Beta(mu, nu) (nu = alpha + beta)."""

    param_names = ("alpha", "beta")

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
        return (jsp.xlogy(alpha - 1.0, value) + jsp.xlog1py(beta - 1.0, -value)
                - (jsp.gammaln(alpha) + jsp.gammaln(beta) - jsp.gammaln(alpha + beta)))

    def logcdf(self, value, alpha, beta):
        v = jnp.clip(value, 0.0, 1.0)
        return jnp.where(value < 0, -jnp.inf, jnp.where(value >= 1, 0.0, jnp.log(jsp.betainc(alpha, beta, v))))

    def random(self, key, alpha, beta, size):
        x = jax.random.beta(key, alpha, beta, size, dtype=_fx())
        eps = jnp.finfo(x.dtype).eps
        return jnp.clip(x, eps, 1.0 - eps)

    def support_point(self, alpha, beta, size):
        return _full(alpha / (alpha + beta), size)

    def in_support(self, value, alpha, beta):
        return (value >= 0) & (value <= 1)

    def check_params(self, alpha, beta):
        return [(alpha > 0, "alpha > 0"), (beta > 0, "beta > 0")]

    def default_transform(self):
        return transforms.logodds


class Kumaraswamy(Continuous):
    """Kumaraswamy(a, b) on [0, 1]."""

    param_names = ("a", "b")

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
        u = _uniform(key, size)
        # (1 - (1 - u)^(1/b))^(1/a), written with expm1/log1p
        return jnp.exp(jnp.log(-jnp.expm1(jnp.log1p(-u) / b)) / a)

    def support_point(self, a, b, size):
        return _full(jnp.exp(jnp.log(b) + jsp.gammaln(1.0 + 1.0 / a) + jsp.gammaln(b)
                             - jsp.gammaln(1.0 + 1.0 / a + b)), size)

    def in_support(self, value, a, b):
        return (value >= 0) & (value <= 1)

    def check_params(self, a, b):
        return [(a > 0, "a > 0"), (b > 0, "b > 0")]

    def default_transform(self):
        return transforms.logodds


class Pareto(Continuous):
    """Pareto(alpha, m): shape alpha, support [m, inf)."""

    param_names = ("alpha", "m")
    support_depends_on_params = True

    @classmethod
    def dist(cls, alpha, m, **kwargs):
        return super().dist([alpha, m], **kwargs)

    def logp(self, value, alpha, m):
        return jnp.log(alpha) + logpow(m, alpha) - logpow(value, alpha + 1.0)

    def logcdf(self, value, alpha, m):
        v = jnp.maximum(value, m)
        return jnp.where(value < m, -jnp.inf, log1mexp(alpha * (jnp.log(m) - jnp.log(v))))

    def random(self, key, alpha, m, size):
        return m * jnp.exp(jax.random.exponential(key, size, dtype=_fx()) / alpha)

    def support_point(self, alpha, m, size):
        return _full(m * 2.0 ** (1.0 / alpha), size)

    def in_support(self, value, alpha, m):
        return ~(value < m)  # a NaN (unknown) m does not reject

    def check_params(self, alpha, m):
        return [(alpha > 0, "alpha > 0"), (m > 0, "m > 0")]

    def default_transform(self):
        return _interval(1, None)


class Triangular(Continuous):
    """Triangular(lower=0, upper=1, c=0.5) (canonical order lower, c, upper as in PyMC)."""

    param_names = ("lower", "c", "upper")
    support_depends_on_params = True

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
        u = jax.random.uniform(key, size, _fx())
        width = upper - lower
        fc = (c - lower) / width
        left = lower + jnp.sqrt(width * (c - lower) * u)
        right = upper - jnp.sqrt(width * (upper - c) * (1.0 - u))
        return jnp.where(u < fc, left, right)

    def support_point(self, lower, c, upper, size):
        return _full((lower + upper + c) / 3.0, size)

    def in_support(self, value, lower, c, upper):
        return ~(value < lower) & ~(value > upper)  # a NaN (unknown) bound does not reject

    def check_params(self, lower, c, upper):
        return [(lower <= c, "lower <= c"), (c <= upper, "c <= upper")]

    def default_transform(self):
        return _interval(0, 2)


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
        p = jax.random.uniform(key, size, _fx())

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
        return _full(mean, size)

    def in_support(self, value, x, pdf, cdf):
        return (value >= x[..., 0]) & (value <= x[..., -1])

    def default_transform(self):
        return transforms.Interval(bounds_fn=lambda x, pdf, cdf: (x[..., 0], x[..., -1]))


class VonMises(Continuous):
    """VonMises(mu=0, kappa=1) on [-pi, pi] (circular transform)."""

    param_names = ("mu", "kappa")

    @classmethod
    def dist(cls, mu=0.0, kappa=1.0, **kwargs):
        return super().dist([mu, kappa], **kwargs)

    def logp(self, value, mu, kappa):
        return kappa * jnp.cos(mu - value) - LOG2PI - log_i0(kappa)

    def random(self, key, mu, kappa, size):
        return _vonmises_sample(key, mu, kappa, size)

    def support_point(self, mu, kappa, size):
        return _full(jnp.broadcast_arrays(mu, kappa)[0], size)

    def in_support(self, value, mu, kappa):
        return (value >= -PI) & (value <= PI)

    def check_params(self, mu, kappa):
        return [(kappa > 0, "kappa > 0")]

    def default_transform(self):
        return transforms.circular


def _vonmises_sample(key, mu, kappa, size):
    """Best & Fisher (1979) rejection sampler, vectorized: loop until every entry is accepted."""
    dtype = _fx()
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
        v = _uniform(k2, size, dtype)
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
    theta = jnp.where(jax.random.uniform(ksign, size, _fx()) < 0.5, -theta, theta)
    # tiny kappa: uniform on the circle; huge kappa: wrapped normal
    theta = jnp.where(kappa < 1e-8, PI * (2.0 * jax.random.uniform(kunif, size, dtype) - 1.0), theta)
    theta = jnp.where(kappa > 1e6, jax.random.normal(knorm, size, dtype) / jnp.sqrt(k_s), theta)
    x = mu + theta
    return jnp.mod(x + PI, 2.0 * PI) - PI


# ====================================================================== other real-line families
class Laplace(Continuous):
    """Laplace(mu, b)."""

    param_names = ("mu", "b")

    @classmethod
    def dist(cls, mu, b, **kwargs):
        return super().dist([mu, b], **kwargs)

    def logp(self, value, mu, b):
        return -jnp.log(2.0 * b) - jnp.abs(value - mu) / b

    def logcdf(self, value, mu, b):
        y = (value - mu) / b
        return jnp.where(value <= mu, -LOG2 + jnp.minimum(y, 0.0), jnp.log1p(-0.5 * jnp.exp(-jnp.maximum(y, 0.0))))

    def random(self, key, mu, b, size):
        return mu + b * jax.random.laplace(key, size, dtype=_fx())

    def support_point(self, mu, b, size):
        return _full(jnp.broadcast_arrays(mu, b)[0], size)

    def check_params(self, mu, b):
        return [(b > 0, "b > 0")]


class AsymmetricLaplace(Continuous):
    """AsymmetricLaplace(kappa | q, mu, b): canonical (b, kappa, mu) as in PyMC; q = kappa^2 / (1 + kappa^2).

    PyMC defines no logcdf for it; jaxmc adds one."""

    param_names = ("b", "kappa", "mu")

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
        u = _uniform(key, size)
        switch = kappa**2 / (1.0 + kappa**2)
        non_pos = mu + kappa * jnp.log(u / switch) / b
        pos = mu - jnp.log((1.0 - u) * (1.0 + kappa**2)) / (kappa * b)
        return jnp.where(u <= switch, non_pos, pos)

    def support_point(self, b, kappa, mu, size):
        return _full(mu - (kappa - 1.0 / kappa) / b, size)

    def check_params(self, b, kappa, mu):
        return [(b > 0, "b > 0"), (kappa > 0, "kappa > 0")]


class Logistic(Continuous):
    """Logistic(mu=0, s=1)."""

    param_names = ("mu", "s")

    @classmethod
    def dist(cls, mu=0.0, s=1.0, **kwargs):
        return super().dist([mu, s], **kwargs)

    def logp(self, value, mu, s):
        z = (value - mu) / s
        return -z - jnp.log(s) - 2.0 * jax.nn.softplus(-z)

    def logcdf(self, value, mu, s):
        return -jax.nn.softplus(-(value - mu) / s)

    def random(self, key, mu, s, size):
        return mu + s * jax.random.logistic(key, size, dtype=_fx())

    def support_point(self, mu, s, size):
        return _full(jnp.broadcast_arrays(mu, s)[0], size)

    def check_params(self, mu, s):
        return [(s > 0, "s > 0")]


class Gumbel(Continuous):
    """Gumbel(mu, beta) (maximum / right-skewed)."""

    param_names = ("mu", "beta")

    @classmethod
    def dist(cls, mu, beta, **kwargs):
        return super().dist([mu, beta], **kwargs)

    def logp(self, value, mu, beta):
        z = (value - mu) / beta
        return -z - jnp.exp(-z) - jnp.log(beta)

    def logcdf(self, value, mu, beta):
        return -jnp.exp(-(value - mu) / beta)

    def random(self, key, mu, beta, size):
        return mu + beta * jax.random.gumbel(key, size, dtype=_fx())

    def support_point(self, mu, beta, size):
        return _full(mu + beta * EULER_GAMMA, size)

    def check_params(self, mu, beta):
        return [(beta > 0, "beta > 0")]


class Moyal(Continuous):
    """Moyal(mu=0, sigma=1)."""

    param_names = ("mu", "sigma")

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
        return mu - 2.0 * sigma * jnp.log(jnp.abs(jax.random.normal(key, size, dtype=_fx())))

    def support_point(self, mu, sigma, size):
        return _full(mu + sigma * (EULER_GAMMA + LOG2), size)

    def check_params(self, mu, sigma):
        return [(sigma > 0, "sigma > 0")]

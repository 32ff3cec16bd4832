"""Numerical helpers shared by the families: log-space arithmetic, normal densities and CDFs, Beta functions,
draws; constants are Python floats so that float32 arrays stay float32."""

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from jaxmc import config

LOG_SQRT_2PI = float(0.5 * np.log(2 * np.pi))
LOG2 = float(np.log(2.0))
LOGPI = float(np.log(np.pi))
LOG2PI = float(np.log(2 * np.pi))
SQRT2 = float(np.sqrt(2.0))
PI = float(np.pi)
EULER_GAMMA = float(np.euler_gamma)


# ---------------------------------------------------------------------- log-space arithmetic
def log1mexp(x):
    """log(1 - exp(x)) for x <= 0, accurate on both sides of -log(2)."""
    x = jnp.minimum(x, 0.0)
    return jnp.where(x > -LOG2, jnp.log(-jnp.expm1(x)), jnp.log1p(-jnp.exp(x)))


def log_diff_exp(a, b):
    """log(exp(a) - exp(b)) for a >= b."""
    return a + log1mexp(b - a)


def logpow(x, m):
    """log(x**m) with PyMC's convention: 0 when x == 0 and m == 0, -inf when x == 0 otherwise (for
    m * log(x) with 0 * log(0) = 0 use `jax.scipy.special.xlogy(m, x)`)."""
    safe = jnp.where(x == 0, 1.0, x)
    return jnp.where(x == 0, jnp.where(m == 0, 0.0, -jnp.inf), m * jnp.log(safe))


# ---------------------------------------------------------------------- Beta function, binomial coefficients
def betaln(a, b):
    """log B(a, b) as PyMC computes it; jax.scipy.special.betaln (jax 0.10) is off by up to ~3e-7."""
    return jsp.gammaln(a) + jsp.gammaln(b) - jsp.gammaln(a + b)


def binomln(n, k):
    """log C(n, k) for 0 <= k <= n (real n)."""
    return -jnp.log1p(n) - betaln(n - k + 1.0, k + 1.0)


# ---------------------------------------------------------------------- normal density and CDF
def normal_logpdf(x, mu, sigma):
    """log density of Normal(mu, sigma) at x."""
    z = (x - mu) / sigma
    return -0.5 * z**2 - jnp.log(sigma) - LOG_SQRT_2PI


def normal_lcdf(mu, sigma, x):
    """log Phi((x - mu) / sigma), accurate in both tails."""
    return jsp.log_ndtr((x - mu) / sigma)


def normal_lccdf(mu, sigma, x):
    return jsp.log_ndtr(-(x - mu) / sigma)


def log_diff_ndtr(b, a):
    """log(Phi(b) - Phi(a)) for b >= a (standardized; either may be infinite), accurate in both tails: for an
    interval in the upper tail (a > 0), Phi(-a) - Phi(-b) is used."""
    upper = a > 0
    hi = jnp.where(upper, -a, b)
    lo = jnp.where(upper, -b, a)
    lhi = jsp.log_ndtr(hi)
    return lhi + log1mexp(jsp.log_ndtr(lo) - lhi)


# ---------------------------------------------------------------------- Bessel functions
def log_i0(x):
    """log I0(x), stable for large |x|."""
    return jnp.log(jsp.i0e(x)) + jnp.abs(x)


# ---------------------------------------------------------------------- dtypes, draws and support points
def as_float(x):
    """As a floatX array."""
    return jnp.asarray(x).astype(config.floatX())


def fx():
    """dtype of draws: floatX (draws are made in the model's precision)."""
    return jnp.dtype(config.floatX())


def full(x, size):
    """`x` broadcast to the variable's shape (support points)."""
    return jnp.broadcast_to(x, size)


def uniform01(key, size, dtype=None):
    """Uniform draws in the open interval (0, 1)."""
    dtype = dtype or fx()
    tiny = jnp.finfo(dtype).tiny
    return jax.random.uniform(key, size, dtype=dtype, minval=tiny, maxval=1.0)


# ---------------------------------------------------------------------- misc
def is_static_inf(x, sign):
    """True when x is a concrete (not traced) array whose entries are all +inf (sign=1) or -inf (-1):
    the analogue of PyMC's check for constant infinite bounds."""
    if x is None:
        return True
    if isinstance(x, jax.core.Tracer):
        return False
    try:
        arr = np.asarray(x)
    except Exception:
        return False
    return bool(arr.size) and bool(np.all(np.isposinf(arr) if sign > 0 else np.isneginf(arr)))


# ---------------------------------------------------------------------- Polya-Gamma series
PG_SERIES_TERMS = 200


def _pg_coeffs(h, n):
    # log Gamma(n + h) - log Gamma(n + 1), for the alternating series of PG(h, 0)
    return jsp.gammaln(n + h) - jsp.gammaln(n + 1.0)


def _alternating_lse(t, axis=-1):
    """log(sum_n (-1)^n exp(t_n)) along `axis` (terms indexed from 0), assuming a positive total."""
    even = jax.nn.logsumexp(t[..., 0::2], axis=axis)
    odd = jax.nn.logsumexp(t[..., 1::2], axis=axis)
    return log_diff_exp(even, odd)


def logcosh_half(z):
    """log cosh(z / 2), stable for large |z|."""
    a = jnp.abs(z) / 2.0
    return a + jnp.log1p(jnp.exp(-2.0 * a)) - LOG2


def polyagamma_logpdf(x, h, z, terms=PG_SERIES_TERMS):
    """log density of PG(h, z) at x > 0 from the alternating series of Polson, Scott & Windle (2013),
    truncated after `terms` terms (the representation used by the `polyagamma` package that PyMC calls).
    Accurate where the series does not cancel (x up to a few times the mean for moderate h)."""
    x, h, z = jnp.broadcast_arrays(x, h, z)
    n = jnp.arange(terms, dtype=x.dtype)
    c = 2.0 * n + h[..., None]
    t = _pg_coeffs(h[..., None], n) + jnp.log(c) - c**2 / (8.0 * x[..., None])
    log_sum = _alternating_lse(t)
    return (h * logcosh_half(z) - z**2 * x / 2.0 + (h - 1.0) * LOG2 - jsp.gammaln(h) - LOG_SQRT_2PI
            - 1.5 * jnp.log(x) + log_sum)


def polyagamma_logcdf(x, h, z, terms=PG_SERIES_TERMS):
    """log CDF of PG(h, z) at x > 0: the same series with each inverse-Gaussian (z != 0) or Levy (z = 0)
    term integrated in closed form."""
    x, h, z = jnp.broadcast_arrays(x, h, z)
    n = jnp.arange(terms, dtype=x.dtype)
    c = 2.0 * n + h[..., None]
    az = jnp.abs(z)[..., None]
    sx = jnp.sqrt(x)[..., None]
    l1 = -c * az / 2.0 + jsp.log_ndtr(az * sx - c / (2.0 * sx))
    l2 = c * az / 2.0 + jsp.log_ndtr(-az * sx - c / (2.0 * sx))
    t = _pg_coeffs(h[..., None], n) + jnp.logaddexp(l1, l2)
    log_sum = _alternating_lse(t)
    res = h * logcosh_half(z) + h * LOG2 - jsp.gammaln(h) + log_sum
    return jnp.minimum(res, 0.0)

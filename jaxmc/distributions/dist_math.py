"""Shared numerical helpers for log densities (normal CDF in log space, parameter resolution).

All constants are Python floats so that float32 arrays stay float32 (numpy float64 scalars would promote).
"""

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from jaxmc.graph import TensorVariable, apply

LOG_SQRT_2PI = float(0.5 * np.log(2 * np.pi))
LOG2 = float(np.log(2.0))
LOGPI = float(np.log(np.pi))
LOG2PI = float(np.log(2 * np.pi))
SQRT2 = float(np.sqrt(2.0))
PI = float(np.pi)
EULER_GAMMA = float(np.euler_gamma)


# ---------------------------------------------------------------------- building parameters in dist()
def lift(fn, *args):
    """Apply `fn` to parameters that may be model variables (builds a graph node) or numbers/arrays."""
    if any(isinstance(a, TensorVariable) for a in args):
        return apply(fn, *args)
    return fn(*[a if isinstance(a, jax.Array)  # includes tracers (dist() called inside jit/grad)
                else jnp.asarray(np.asarray(a.to_numpy() if hasattr(a, "to_numpy") else a, dtype=float))
                for a in args])


def get_tau_sigma(tau=None, sigma=None):
    """PyMC's rule: give one of tau (precision) or sigma; default sigma = 1.

    As in PyMC, the sign is kept (a negative sigma or tau gives a negative value, which the parameter
    checks reject) instead of producing NaN or complex numbers."""
    if tau is not None and sigma is not None:
        raise ValueError("Can't pass both tau and sigma")
    if tau is None and sigma is None:
        return 1.0, 1.0
    if sigma is None:
        sigma = lift(lambda t: jnp.abs(t) ** -0.5 * jnp.sign(t), tau)
        return tau, sigma
    tau = lift(lambda s: s ** -2.0 * jnp.sign(s), sigma)
    return tau, sigma


# ---------------------------------------------------------------------- log-space arithmetic
def log1mexp(x):
    """log(1 - exp(x)) for x <= 0, accurate on both sides of -log(2)."""
    x = jnp.minimum(x, 0.0)
    return jnp.where(x > -LOG2, jnp.log(-jnp.expm1(x)), jnp.log1p(-jnp.exp(x)))


def log_diff_exp(a, b):
    """log(exp(a) - exp(b)) for a >= b."""
    return a + log1mexp(b - a)


def logpow(x, m):
    """m * log(x), with 0 * log(0) = 0."""
    return jsp.xlogy(m, x)


# ---------------------------------------------------------------------- normal CDF
def normal_lcdf(mu, sigma, x):
    """log Phi((x - mu) / sigma), accurate in both tails."""
    return jsp.log_ndtr((x - mu) / sigma)


def normal_lccdf(mu, sigma, x):
    return jsp.log_ndtr(-(x - mu) / sigma)


def log_diff_ndtr(b, a):
    """log(Phi(b) - Phi(a)) for b >= a (standardized), accurate in both tails."""
    upper_tail = a > 0
    # both in the upper tail: Phi(b) - Phi(a) = Phi(-a) - Phi(-b)
    la_u, lb_u = jsp.log_ndtr(-a), jsp.log_ndtr(-b)
    la_l, lb_l = jsp.log_ndtr(a), jsp.log_ndtr(b)
    hi = jnp.where(upper_tail, la_u, lb_l)
    lo = jnp.where(upper_tail, lb_u, la_l)
    return hi + log1mexp(lo - hi)


def log_diff_normal_cdf(mu, sigma, x, y):
    """log(Phi((x - mu) / sigma) - Phi((y - mu) / sigma)) for x >= y."""
    return log_diff_ndtr((x - mu) / sigma, (y - mu) / sigma)


# ---------------------------------------------------------------------- Bessel functions
def log_i0(x):
    """log I0(x), stable for large |x|."""
    return jnp.log(jsp.i0e(x)) + jnp.abs(x)


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

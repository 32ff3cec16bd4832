"""Numerical inverse CDFs (Gamma, Beta, Student-t, |Student-t|): safeguarded Newton steps on a monotone map of
the support, from the smaller tail probability; vectorized, fixed work, differentiable through the last step."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

#: the bracket (width 2 * SPAN in y) halves at least every other step and Newton steps converge quadratically
#: once inside it, so float64 quantiles are reached well before ITERATIONS
ITERATIONS = 100
SPAN = 700.0


def invert(cdf_y, ccdf_y, dcdf_y, to_x, q, y0, upper_tail=False):
    """to_x(y) where cdf_y(y) = q, or ccdf_y(y) = q with `upper_tail` (the solve uses the smaller of the two tail
    probabilities, each exact); `dcdf_y`: the derivative of cdf_y."""
    q, y0 = jnp.broadcast_arrays(jnp.asarray(q, float), jnp.asarray(y0, float))
    below, above = (1.0 - q, q) if upper_tail else (q, 1.0 - q)
    use_upper = above < 0.5

    def excess(y):  # increasing in y, zero at the quantile
        return jnp.where(use_upper, above - ccdf_y(y), cdf_y(y) - below)

    def step(_, carry):
        y, lo, hi = carry
        f = excess(y)
        lo, hi = jnp.where(f < 0, y, lo), jnp.where(f > 0, y, hi)
        new = y - f / dcdf_y(y)
        inside = ((new > lo) & (new < hi) & jnp.isfinite(new)) | (f == 0)
        return jnp.where(inside, jnp.where(f == 0, y, new), 0.5 * (lo + hi)), lo, hi

    start = (jnp.clip(jax.lax.stop_gradient(y0), -SPAN, SPAN), jnp.full_like(q, -SPAN), jnp.full_like(q, SPAN))
    y, _, _ = jax.lax.fori_loop(0, ITERATIONS, step, jax.lax.stop_gradient(start))
    y = jax.lax.stop_gradient(y)
    d = jax.lax.stop_gradient(dcdf_y(y))
    f = excess(y)
    return to_x(y - jnp.where(d > 0, f / jnp.where(d > 0, d, 1.0), 0.0))  # the gradient of the implicit solution


def _ends(q, x, lower, upper):
    """The support's ends at q = 0 and q = 1, NaN outside [0, 1]."""
    x = jnp.where(q == 0, lower, jnp.where(q == 1, upper, x))
    return jnp.where((q < 0) | (q > 1), jnp.nan, x)


def gamma_icdf(q, alpha, upper_tail=False):
    """Quantile of the standard Gamma(alpha, rate 1) (the x with upper tail probability q with `upper_tail`),
    solved for y = log x."""
    alpha = jnp.asarray(alpha, float)

    def dens(y):  # pdf(x) dx/dy
        x = jnp.exp(y)
        return jnp.exp(alpha * y - x - jsp.gammaln(alpha))

    x = invert(lambda y: jsp.gammainc(alpha, jnp.exp(y)), lambda y: jsp.gammaincc(alpha, jnp.exp(y)), dens,
               jnp.exp, q, jnp.log(alpha), upper_tail)
    q = jnp.asarray(q, float)
    return _ends(1.0 - q, x, 0.0, jnp.inf) if upper_tail else _ends(q, x, 0.0, jnp.inf)


def beta_icdf(q, a, b):
    """Quantile of Beta(a, b), solved for y = logit x."""
    a, b = jnp.asarray(a, float), jnp.asarray(b, float)

    def dens(y):  # pdf(x) x (1 - x) at x = sigmoid(y)
        return jnp.exp(a * jax.nn.log_sigmoid(y) + b * jax.nn.log_sigmoid(-y) - jsp.betaln(a, b))

    x = invert(lambda y: jsp.betainc(a, b, jax.nn.sigmoid(y)), lambda y: jsp.betainc(b, a, jax.nn.sigmoid(-y)),
               dens, jax.nn.sigmoid, q, jnp.log(a) - jnp.log(b))
    return _ends(jnp.asarray(q, float), x, 0.0, 1.0)


def student_t_icdf(q, nu):
    """Quantile of the standard Student-t(nu), solved for y = asinh t (its tails are polynomial)."""
    nu = jnp.asarray(nu, float)
    half = 0.5 * (nu + 1.0)

    def cdf(y):
        t2 = jnp.sinh(y) ** 2
        near = t2 < nu  # 1/2 +- I_{t²/(nu+t²)}(1/2, nu/2) / 2 near the centre, the tail formula beyond
        centre = 0.5 * jsp.betainc(0.5, 0.5 * nu, jnp.where(near, t2 / (nu + t2), 0.5))
        tail = 0.5 * jsp.betainc(0.5 * nu, 0.5, jnp.where(near, 0.5, nu / (nu + t2)))
        below = jnp.where(near, 0.5 - centre, tail)  # P(T < -|t|)
        return jnp.where(y < 0, below, 1.0 - below)

    def dens(y):
        logpdf = (jsp.gammaln(half) - jsp.gammaln(0.5 * nu) - 0.5 * jnp.log(nu * jnp.pi)
                  - half * jnp.log1p(jnp.sinh(y) ** 2 / nu))
        return jnp.exp(logpdf) * jnp.cosh(y)

    x = invert(cdf, lambda y: cdf(-y), dens, jnp.sinh, q, jnp.zeros_like(jnp.asarray(q, float)))
    return _ends(jnp.asarray(q, float), x, -jnp.inf, jnp.inf)


def half_student_t_icdf(q, nu):
    """Quantile of |T| for the standard Student-t(nu), solved for y = log t."""
    nu = jnp.asarray(nu, float)
    half = 0.5 * (nu + 1.0)

    def cdf(y):  # P(|T| < t) = I_{t²/(nu+t²)}(1/2, nu/2)
        t2 = jnp.exp(2.0 * y)
        return jsp.betainc(0.5, 0.5 * nu, t2 / (nu + t2))

    def ccdf(y):
        t2 = jnp.exp(2.0 * y)
        return jsp.betainc(0.5 * nu, 0.5, nu / (nu + t2))

    def dens(y):
        t = jnp.exp(y)
        logpdf = (jsp.gammaln(half) - jsp.gammaln(0.5 * nu) - 0.5 * jnp.log(nu * jnp.pi)
                  - half * jnp.log1p(t**2 / nu))
        return 2.0 * jnp.exp(logpdf) * t

    x = invert(cdf, ccdf, dens, jnp.exp, q, jnp.zeros_like(jnp.asarray(q, float)))
    return _ends(jnp.asarray(q, float), x, 0.0, jnp.inf)

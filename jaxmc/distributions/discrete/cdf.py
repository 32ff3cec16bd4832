"""Numerics of the discrete log CDFs: the regularized incomplete Beta function differentiable in a and b,
log Q(a, x), and log CDFs summed from log pmf terms in a loop whose trip count is set by the data."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
from jax.custom_derivatives import SymbolicZero

from jaxmc.distributions.dist_math import as_float, betaln


def _betainc_ab_grads(a, b, x, max_iter=200, tol=None):
    """(d/da, d/db) of the regularized incomplete Beta function I_x(a, b), elementwise.

    Continued fraction of Boik & Robison-Cox (1998), "Derivatives of the incomplete beta function"
    (J. Stat. Software 3(1)), iterated on the side of the mode where it converges (x <= a / (a + b), else
    through I_x(a, b) = 1 - I_{1-x}(b, a)); numerators/denominators are rescaled at each step.
    """
    a, b, x = jnp.broadcast_arrays(as_float(a), as_float(b), as_float(x))
    if tol is None:
        tol = 1e-12 if a.dtype == jnp.float64 else 1e-6
    flip = x > a / (a + b)
    edge = (x <= 0) | (x >= 1)
    p = jnp.where(flip, b, a)
    q = jnp.where(flip, a, b)
    xx = jnp.where(flip, 1.0 - x, x)
    xx = jnp.where(edge, 0.5, xx)
    f = q * xx / (p * (1.0 - xx))
    K = jnp.exp(p * jnp.log(xx) + (q - 1.0) * jnp.log1p(-xx) - jnp.log(p) - betaln(p, q))
    psi_pq = jsp.digamma(p + q)
    dK_p = jnp.log(xx) - 1.0 / p + psi_pq - jsp.digamma(p)
    dK_q = jnp.log1p(-xx) + psi_pq - jsp.digamma(q)

    def coefs(n):
        p2n = p + 2.0 * n
        first = n == 1
        a_n = jnp.where(first, p * f * (q - 1.0) / (q * (p + 1.0)),
                        p**2 * f**2 * (n - 1.0) / q**2 * (p + q + n - 2.0) * (p + n - 1.0) * (q - n)
                        / ((p2n - 3.0) * (p2n - 2.0) ** 2 * (p2n - 1.0)))
        b_n = (2.0 * (p * f + 2.0 * q) * n * (n + p - 1.0) + p * q * (p - 2.0 - p * f)) / (q * (p2n - 2.0) * p2n)
        pp = p**2
        ppp = pp * p
        n2 = (-8.0 + 8.0 * p + 8.0 * q) * n**3 + (16.0 * pp + (-44.0 + 20.0 * q) * p + 26.0 - 24.0 * q) * n**2 \
            + (10.0 * ppp + (14.0 * q - 46.0) * pp + (-40.0 * q + 66.0) * p - 28.0 + 24.0 * q) * n \
            + 2.0 * pp**2 + (-13.0 + 3.0 * q) * ppp + (-14.0 * q + 30.0) * pp + (-29.0 + 19.0 * q) * p + 10.0 - 8.0 * q
        da_p = jnp.where(first, -p * f * (q - 1.0) / (q * (p + 1.0) ** 2),
                         (-(n - 1.0) * f**2 * pp * (q - n)) / (q**2 * (p2n - 3.0) ** 2) * n2
                         / ((p2n - 2.0) ** 3 * (p2n - 1.0) ** 2))
        da_q = jnp.where(first, p * f / (q * (p + 1.0)),
                         (pp * f**2 / q**2) * (n - 1.0) * (p + n - 1.0) * (2.0 * q + p - 2.0)
                         / ((p2n - 3.0) * (p2n - 2.0) ** 2 * (p2n - 1.0)))
        db_p = (p * f / q) * ((-4.0 * p - 4.0 * q + 4.0) * n**2 + (4.0 * p - 4.0 + 4.0 * q - 2.0 * pp) * n + pp * q) \
            / ((p2n - 2.0) ** 2 * p2n**2)
        db_q = -(pp * f) / (q * (p2n - 2.0) * p2n)
        return a_n, b_n, da_p, db_p, da_q, db_q

    one, zero = jnp.ones_like(p), jnp.zeros_like(p)
    # state: n, done, der_p, der_q, (A_{m-2}, A_{m-1}, B_{m-2}, B_{m-1}), dA/dB wrt p and wrt q
    init = (jnp.array(1.0, p.dtype), edge, zero, zero, one, one, zero, one,
            zero, zero, zero, zero, zero, zero, zero, zero)

    def cond(s):
        return (s[0] <= max_iter) & ~jnp.all(s[1])

    def body(s):
        (n, done, der_p, der_q, Am2, Am1, Bm2, Bm1,
         pAm2, pAm1, pBm2, pBm1, qAm2, qAm1, qBm2, qBm1) = s
        a_n, b_n, da_p, db_p, da_q, db_q = coefs(n)
        A = a_n * Am2 + b_n * Am1
        B = a_n * Bm2 + b_n * Bm1
        pA = da_p * Am2 + a_n * pAm2 + db_p * Am1 + b_n * pAm1
        pB = da_p * Bm2 + a_n * pBm2 + db_p * Bm1 + b_n * pBm1
        qA = da_q * Am2 + a_n * qAm2 + db_q * Am1 + b_n * qAm1
        qB = da_q * Bm2 + a_n * qBm2 + db_q * Bm1 + b_n * qBm1
        # rescale (the recurrence is linear, the ratios below are scale free)
        scale = jnp.where((B != 0) & jnp.isfinite(B), jnp.abs(B), 1.0)
        Am2, Am1, Bm2, Bm1 = Am1 / scale, A / scale, Bm1 / scale, B / scale
        pAm2, pAm1, pBm2, pBm1 = pAm1 / scale, pA / scale, pBm1 / scale, pB / scale
        qAm2, qAm1, qBm2, qBm1 = qAm1 / scale, qA / scale, qBm1 / scale, qB / scale
        F1 = Am1 / Bm1
        new_p = K * (F1 * dK_p + (pAm1 - F1 * pBm1) / Bm1)
        new_q = K * (F1 * dK_q + (qAm1 - F1 * qBm1) / Bm1)
        conv = (jnp.abs(der_p - new_p) <= tol * jnp.maximum(tol, jnp.abs(new_p))) \
            & (jnp.abs(der_q - new_q) <= tol * jnp.maximum(tol, jnp.abs(new_q))) & (n >= 3)
        der_p = jnp.where(done, der_p, new_p)
        der_q = jnp.where(done, der_q, new_q)
        return (n + 1.0, done | conv, der_p, der_q, Am2, Am1, Bm2, Bm1,
                pAm2, pAm1, pBm2, pBm1, qAm2, qAm1, qBm2, qBm1)

    s = jax.lax.while_loop(cond, body, init)
    der_p, der_q = s[2], s[3]
    ga = jnp.where(flip, -der_q, der_p)
    gb = jnp.where(flip, -der_p, der_q)
    return jnp.where(edge, 0.0, ga), jnp.where(edge, 0.0, gb)


@jax.custom_jvp
def _betainc_core(a, b, x):
    return jsp.betainc(a, b, x)


def _betainc_jvp(primals, tangents):
    a, b, x = primals
    ta, tb, tx = tangents
    out = _betainc_core(a, b, x)
    tan = jnp.zeros_like(out)
    if not isinstance(tx, SymbolicZero):
        xs = jnp.clip(x, 0.0, 1.0)
        dens = jnp.exp(jsp.xlogy(a - 1.0, xs) + jsp.xlog1py(b - 1.0, -xs) - betaln(a, b))
        tan = tan + jnp.where((x < 0) | (x > 1), 0.0, dens) * tx
    if not (isinstance(ta, SymbolicZero) and isinstance(tb, SymbolicZero)):
        ga, gb = _betainc_ab_grads(a, b, x)
        if not isinstance(ta, SymbolicZero):
            tan = tan + ga * ta
        if not isinstance(tb, SymbolicZero):
            tan = tan + gb * tb
    return out, tan


_betainc_core.defjvp(_betainc_jvp, symbolic_zeros=True)


def betainc(a, b, x):
    """Regularized incomplete Beta function I_x(a, b), differentiable in a, b and x."""
    a, b, x = jnp.broadcast_arrays(as_float(a), as_float(b), as_float(x))
    return _betainc_core(a, b, x)


def log_betainc(a, b, x, x1m=None):
    """log I_x(a, b), accurate also when I is close to 1 (through 1 - I_{1-x}(b, a)); `x1m` is 1 - x when
    known more accurately than by subtraction."""
    x1m = 1.0 - as_float(x) if x1m is None else x1m
    a, b, x, x1m = jnp.broadcast_arrays(as_float(a), as_float(b), as_float(x), as_float(x1m))
    upper = x > a / (a + b)
    i = betainc(jnp.where(upper, b, a), jnp.where(upper, a, b), jnp.where(upper, x1m, x))
    return jnp.where(upper, jnp.log1p(-i), jnp.log(i))


def log_gammaincc(a, x):
    """log Q(a, x), accurate also when Q is close to 1."""
    q = jsp.gammaincc(a, x)
    p = jsp.gammainc(a, x)
    return jnp.where(q > 0.5, jnp.log1p(-p), jnp.log(q))


def logcdf_by_sum(logpmf, lower, top, n_grads=0, grad_terms=None):
    """log sum_{j=lower}^{top} exp(logpmf(j)) elementwise (top >= lower assumed where it matters), with a
    loop whose trip count is max(top - lower) + 1; `grad_terms(j)` gives d logpmf(j) / d theta_i for the
    continuous parameters, returned as d logcdf / d theta_i (weighted averages) for custom derivatives."""
    lower, top = jnp.broadcast_arrays(as_float(lower), as_float(top))
    acc0 = jnp.full(lower.shape, -jnp.inf, lower.dtype)
    grads0 = tuple(jnp.zeros(lower.shape, lower.dtype) for _ in range(n_grads))

    def cond(s):
        j, acc, grads = s
        return jnp.any(j <= top)

    def body(s):
        j, acc, grads = s
        active = j <= top
        jj = jnp.where(active, j, lower)
        lp = logpmf(jj)
        lp = jnp.where(active, lp, -jnp.inf)
        new = jnp.logaddexp(acc, lp)
        safe_new = jnp.where(jnp.isfinite(new), new, 0.0)
        w_old = jnp.where(jnp.isfinite(acc), jnp.exp(acc - safe_new), 0.0)
        w_new = jnp.where(jnp.isfinite(lp), jnp.exp(lp - safe_new), 0.0)
        if n_grads:
            terms = grad_terms(jj)
            grads = tuple(jnp.where(active, g * w_old + w_new * t, g) for g, t in zip(grads, terms))
        acc = jnp.where(active, new, acc)
        return j + 1.0, acc, grads

    _, acc, grads = jax.lax.while_loop(cond, body, (lower, acc0, grads0))
    return acc, grads

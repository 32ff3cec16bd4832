"""Discrete families with PyMC's names, parameterizations, defaults, supports and checks.

Values arrive as integer (or, through `pm.logp`, possibly float) arrays; everything is computed in floatX.
`in_support` is written so that a NaN placeholder parameter (what the model uses to check observed data
when parameters are model variables) means "bound unknown": parameter-free parts of the support (integer
valued, non-negative, ...) are still checked at build time, and the parameter-dependent bounds at run time.

Stable forms: binomial coefficients and Beta functions through `betaln`, `xlogy`/`xlog1py` for powers,
logit parameterizations (`logit_p`) kept on the logit scale, the regularized incomplete Beta function with
derivatives in all three arguments (`betainc`, for the NegativeBinomial CDF in `alpha`/`n`), CDFs summed in
log space with a loop whose trip count is set by the data (BetaBinomial, HyperGeometric).
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np
from jax.custom_derivatives import SymbolicZero

from jaxmc import config
from jaxmc.distributions.base import Discrete, _as_param
from jaxmc.graph import TensorVariable, apply

__all__ = [
    "Bernoulli",
    "BetaBinomial",
    "Binomial",
    "Categorical",
    "DiracDelta",
    "DiscreteUniform",
    "DiscreteWeibull",
    "Geometric",
    "HyperGeometric",
    "NegativeBinomial",
    "OrderedLogistic",
    "OrderedProbit",
    "Poisson",
]


# ---------------------------------------------------------------------------------------------- helpers
def _f(x):
    """As a floatX array."""
    return jnp.asarray(x).astype(config.floatX())


def _is_int(value):
    value = jnp.asarray(value)
    if jnp.issubdtype(value.dtype, jnp.integer) or value.dtype == jnp.bool_:
        return jnp.ones(value.shape, bool)
    return value == jnp.floor(value)


def _not_above(value, upper):
    """value <= upper, True when upper is NaN (an unknown bound)."""
    return ~(value > upper)


def _not_below(value, lower):
    return ~(value < lower)


def _betaln(a, b):
    """log B(a, b) as PyMC computes it; jax.scipy.special.betaln (jax 0.10) is off by up to ~3e-7."""
    return jsp.gammaln(a) + jsp.gammaln(b) - jsp.gammaln(a + b)


def _binomln(n, k):
    """log C(n, k) for 0 <= k <= n (real n)."""
    return -jnp.log1p(n) - _betaln(n - k + 1.0, k + 1.0)


def _log1mexp(x):
    """log(1 - exp(x)) for x <= 0."""
    return jnp.where(x < -np.log(2.0), jnp.log1p(-jnp.exp(x)), jnp.log(-jnp.expm1(x)))


def _log_ndtr_diff(a, b):
    """log(Phi(b) - Phi(a)) for a <= b (either may be infinite), accurate in both tails."""
    upper = (a + b) > 0  # both mostly in the upper tail: use Phi(-a) - Phi(-b)
    hi = jnp.where(upper, -a, b)
    lo = jnp.where(upper, -b, a)
    lhi = jsp.log_ndtr(hi)
    return lhi + _log1mexp(jnp.minimum(jsp.log_ndtr(lo) - lhi, 0.0))


def _cast_int_constant(x):
    """PyMC converts integer parameters with `as_tensor_variable(x, dtype=int)`: integral float constants
    become integers; model variables are left alone."""
    if isinstance(x, TensorVariable):
        return x
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    arr = np.asarray(x)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.floor(arr)):
        return arr.astype(config.intX())
    return x


def _exclusive(name_a, a, name_b, b):
    if a is not None and b is not None:
        raise ValueError(f"Incompatible parametrization. Can't specify both {name_a} and {name_b}.")
    if a is None and b is None:
        raise ValueError(f"Incompatible parametrization. Must specify either {name_a} or {name_b}.")


# ------------------------------------------------- regularized incomplete Beta with derivatives in a and b
def _betainc_ab_grads(a, b, x, max_iter=200, tol=None):
    """(d/da, d/db) of the regularized incomplete Beta function I_x(a, b), elementwise.

    Continued fraction of Boik & Robison-Cox (1998), "Derivatives of the incomplete beta function"
    (J. Stat. Software 3(1)), iterated on the side of the mode where it converges (x <= a / (a + b), else
    through I_x(a, b) = 1 - I_{1-x}(b, a)); numerators/denominators are rescaled at each step.
    """
    a, b, x = jnp.broadcast_arrays(_f(a), _f(b), _f(x))
    if tol is None:
        tol = 1e-12 if a.dtype == jnp.float64 else 1e-6
    flip = x > a / (a + b)
    edge = (x <= 0) | (x >= 1)
    p = jnp.where(flip, b, a)
    q = jnp.where(flip, a, b)
    xx = jnp.where(flip, 1.0 - x, x)
    xx = jnp.where(edge, 0.5, xx)
    f = q * xx / (p * (1.0 - xx))
    K = jnp.exp(p * jnp.log(xx) + (q - 1.0) * jnp.log1p(-xx) - jnp.log(p) - _betaln(p, q))
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
        dens = jnp.exp(jsp.xlogy(a - 1.0, xs) + jsp.xlog1py(b - 1.0, -xs) - _betaln(a, b))
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
    a, b, x = jnp.broadcast_arrays(_f(a), _f(b), _f(x))
    return _betainc_core(a, b, x)


def _log_betainc(a, b, x, x1m=None):
    """log I_x(a, b), accurate also when I is close to 1 (through 1 - I_{1-x}(b, a)); `x1m` is 1 - x when
    known more accurately than by subtraction."""
    x1m = 1.0 - _f(x) if x1m is None else x1m
    a, b, x, x1m = jnp.broadcast_arrays(_f(a), _f(b), _f(x), _f(x1m))
    upper = x > a / (a + b)
    i = betainc(jnp.where(upper, b, a), jnp.where(upper, a, b), jnp.where(upper, x1m, x))
    return jnp.where(upper, jnp.log1p(-i), jnp.log(i))


def _log_gammaincc(a, x):
    """log Q(a, x), accurate also when Q is close to 1."""
    q = jsp.gammaincc(a, x)
    p = jsp.gammainc(a, x)
    return jnp.where(q > 0.5, jnp.log1p(-p), jnp.log(q))


# ------------------------------------------------------------------- log CDF as a sum of log pmf terms
def _logcdf_by_sum(logpmf, lower, top, n_grads=0, grad_terms=None):
    """log sum_{j=lower}^{top} exp(logpmf(j)) elementwise (top >= lower assumed where it matters), with a
    loop whose trip count is max(top - lower) + 1; `grad_terms(j)` gives d logpmf(j) / d theta_i for the
    continuous parameters, returned as d logcdf / d theta_i (weighted averages) for custom derivatives."""
    lower, top = jnp.broadcast_arrays(_f(lower), _f(top))
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


# ============================================================================================== families
class Bernoulli(Discrete):
    """Bernoulli(p) or Bernoulli(logit_p=...): 1 with probability p, else 0."""

    param_names = ("p",)
    logit = False

    @classmethod
    def dist(cls, p=None, logit_p=None, *args, **kwargs):
        _exclusive("p", p, "logit_p", logit_p)
        node = super().dist([p if logit_p is None else logit_p], *args, **kwargs)
        if logit_p is not None:
            node.owner.logit = True
            node.owner.param_names = ("logit_p",)
        return node

    def _p(self, p):
        return jax.nn.sigmoid(p) if self.logit else p

    def logp(self, value, p):
        v = _f(value)
        if self.logit:
            return jnp.where(v == 1, jax.nn.log_sigmoid(p), jax.nn.log_sigmoid(-p))
        return jnp.where(v == 1, jnp.log(p), jnp.log1p(-p))

    def logcdf(self, value, p):
        v = _f(value)
        l0 = jax.nn.log_sigmoid(-p) if self.logit else jnp.log1p(-p)
        return jnp.where(v < 0, -jnp.inf, jnp.where(v < 1, l0, 0.0))

    def random(self, key, p, size):
        return jax.random.bernoulli(key, self._p(p), size).astype(config.intX())

    def support_point(self, p, size):
        return jnp.broadcast_to(jnp.where(self._p(p) < 0.5, 0, 1), size)

    def in_support(self, value, p):
        return (value == 0) | (value == 1)

    def check_params(self, p):
        if self.logit:
            return []
        return [((p >= 0) & (p <= 1), "0 <= p <= 1")]


class Binomial(Discrete):
    """Binomial(n, p) or Binomial(n, logit_p=...): successes in n trials."""

    param_names = ("n", "p")
    integer_params = ("n",)
    logit = False

    @classmethod
    def dist(cls, n, p=None, logit_p=None, *args, **kwargs):
        _exclusive("p", p, "logit_p", logit_p)
        node = super().dist([_cast_int_constant(n), p if logit_p is None else logit_p], *args, **kwargs)
        if logit_p is not None:
            node.owner.logit = True
            node.owner.param_names = ("n", "logit_p")
        return node

    def _p(self, p):
        return jax.nn.sigmoid(p) if self.logit else p

    def logp(self, value, n, p):
        n = _f(n)
        v = jnp.clip(_f(value), 0.0, n)  # safe inside the support (checked_logp masks the rest)
        if self.logit:
            return _binomln(n, v) + v * jax.nn.log_sigmoid(p) + (n - v) * jax.nn.log_sigmoid(-p)
        return _binomln(n, v) + jsp.xlogy(v, p) + jsp.xlog1py(n - v, -p)

    def logcdf(self, value, n, p):
        n = _f(n)
        v = jnp.floor(_f(value))
        inside = (v >= 0) & (v < n)
        vs = jnp.where(inside, v, 0.0)
        ns = jnp.where(inside, n, 1.0)
        if self.logit:
            q, q1m = jax.nn.sigmoid(-p), jax.nn.sigmoid(p)
        else:
            q, q1m = 1.0 - p, p
        res = _log_betainc(ns - vs, vs + 1.0, q, q1m)
        return jnp.where(v < 0, -jnp.inf, jnp.where(v < n, res, 0.0))

    def random(self, key, n, p, size):
        n = jnp.broadcast_to(_f(n), size)
        p = jnp.broadcast_to(self._p(p), size)
        return jax.random.binomial(key, n, p, shape=size).astype(config.intX())

    def support_point(self, n, p, size):
        return jnp.broadcast_to(jnp.round(n * self._p(p)), size)

    def in_support(self, value, n, p):
        return _is_int(value) & (value >= 0) & _not_above(value, n)

    def check_params(self, n, p):
        checks = [(n >= 0, "n >= 0")]
        if not self.logit:
            checks.append(((p >= 0) & (p <= 1), "0 <= p <= 1"))
        return checks


class BetaBinomial(Discrete):
    """BetaBinomial(alpha, beta, n): Binomial(n, p) with p ~ Beta(alpha, beta)."""

    param_names = ("n", "alpha", "beta")
    integer_params = ("n",)

    @classmethod
    def dist(cls, alpha, beta, n, *args, **kwargs):
        return super().dist([_cast_int_constant(n), alpha, beta], *args, **kwargs)

    @staticmethod
    def _logpmf(v, n, alpha, beta):
        return _binomln(n, v) + _betaln(v + alpha, n - v + beta) - _betaln(alpha, beta)

    def logp(self, value, n, alpha, beta):
        n = _f(n)
        v = jnp.clip(_f(value), 0.0, n)
        return self._logpmf(v, n, alpha, beta)

    def logcdf(self, value, n, alpha, beta):
        n = _f(n)
        v = jnp.floor(_f(value))
        n, alpha, beta, v = jnp.broadcast_arrays(n, _f(alpha), _f(beta), v)
        res = _betabinom_logcdf_sum(v, n, alpha, beta)
        return jnp.where(v < 0, -jnp.inf, jnp.where(v < n, res, 0.0))

    def random(self, key, n, alpha, beta, size):
        k1, k2 = jax.random.split(key)
        p = jax.random.beta(k1, jnp.broadcast_to(alpha, size), jnp.broadcast_to(beta, size), size)
        return jax.random.binomial(k2, jnp.broadcast_to(_f(n), size), p, shape=size).astype(config.intX())

    def support_point(self, n, alpha, beta, size):
        return jnp.broadcast_to(jnp.round(n * alpha / (alpha + beta)), size)

    def in_support(self, value, n, alpha, beta):
        return _is_int(value) & (value >= 0) & _not_above(value, n)

    def check_params(self, n, alpha, beta):
        return [(n >= 0, "n >= 0"), (alpha > 0, "alpha > 0"), (beta > 0, "beta > 0")]


@jax.custom_jvp
def _betabinom_logcdf_sum(v, n, alpha, beta):
    return _betabinom_logcdf_with_grads(v, n, alpha, beta)[0]


def _betabinom_logcdf_with_grads(v, n, alpha, beta):
    top = jnp.clip(v, -1.0, n)  # empty sum below 0
    lab = _betaln(alpha, beta)
    dab = jsp.digamma(alpha + beta)

    def logpmf(j):
        return _binomln(n, j) + _betaln(j + alpha, n - j + beta) - lab

    def grad_terms(j):
        dn = jsp.digamma(n + alpha + beta)
        return (jsp.digamma(j + alpha) - dn - jsp.digamma(alpha) + dab,
                jsp.digamma(n - j + beta) - dn - jsp.digamma(beta) + dab)

    acc, (ga, gb) = _logcdf_by_sum(logpmf, jnp.zeros_like(v), top, n_grads=2, grad_terms=grad_terms)
    return acc, ga, gb


@_betabinom_logcdf_sum.defjvp
def _betabinom_logcdf_sum_jvp(primals, tangents):
    v, n, alpha, beta = primals
    _, _, ta, tb = tangents
    acc, ga, gb = _betabinom_logcdf_with_grads(v, n, alpha, beta)
    return acc, ga * ta + gb * tb


class Poisson(Discrete):
    """Poisson(mu)."""

    param_names = ("mu",)

    @classmethod
    def dist(cls, mu, *args, **kwargs):
        return super().dist([mu], *args, **kwargs)

    def logp(self, value, mu):
        v = jnp.maximum(_f(value), 0.0)
        return jsp.xlogy(v, mu) - jsp.gammaln(v + 1.0) - mu

    def logcdf(self, value, mu):
        v = jnp.floor(_f(value))
        safe_v = jnp.maximum(v, 0.0)
        safe_mu = jnp.maximum(mu, 0.0)
        return jnp.where(v < 0, -jnp.inf, _log_gammaincc(safe_v + 1.0, safe_mu))

    def random(self, key, mu, size):
        return jax.random.poisson(key, jnp.broadcast_to(_f(mu), size), size).astype(config.intX())

    def support_point(self, mu, size):
        return jnp.broadcast_to(jnp.floor(mu), size)

    def in_support(self, value, mu):
        return _is_int(value) & (value >= 0)

    def check_params(self, mu):
        return [(mu >= 0, "mu >= 0")]


class NegativeBinomial(Discrete):
    """NegativeBinomial(mu, alpha) or NegativeBinomial(n=..., p=...): failures before n successes.

    With mu/alpha the parameters are kept as (mu, alpha) (n = alpha, p = alpha / (mu + alpha)); as in PyMC
    the Poisson(mu) limit is used for alpha > 1e10."""

    param_names = ("n", "p")
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
        v = jnp.maximum(_f(value), 0.0)
        nb = -jnp.log(v + alpha) - _betaln(alpha, v + 1.0) + jnp.where(v == 0, 0.0, v * log_1mp) \
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
        v = jnp.floor(_f(value))
        vs = jnp.maximum(v, 0.0)
        return jnp.where(v < 0, -jnp.inf, _log_betainc(n, vs + 1.0, p, p1m))

    def checked_logcdf(self, value, a, b):
        lc = self.logcdf(value, a, b)
        if self.mu_param:
            ok = (a >= 0) & (b > 0)
        else:
            ok = (a > 0) & (b >= 0) & (b <= 1)
        return jnp.where(ok, lc, -jnp.inf)

    def random(self, key, a, b, size):
        mu, alpha, _, _ = self._mu_alpha(a, b)
        k1, k2 = jax.random.split(key)
        g = jax.random.gamma(k1, jnp.broadcast_to(_f(alpha), size), size)
        lam = g * (mu / alpha)
        return jax.random.poisson(k2, lam, size).astype(config.intX())

    def support_point(self, a, b, size):
        mu = self._mu_alpha(a, b)[0]
        return jnp.broadcast_to(jnp.floor(mu), size)

    def in_support(self, value, a, b):
        return _is_int(value) & (value >= 0)

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

    @classmethod
    def dist(cls, p, *args, **kwargs):
        return super().dist([p], *args, **kwargs)

    def logp(self, value, p):
        v = jnp.maximum(_f(value), 1.0)
        return jnp.log(p) + jsp.xlog1py(v - 1.0, -p)

    def logcdf(self, value, p):
        # PyMC does not floor the value; the floor makes the CDF a step function at non-integer values
        v = jnp.floor(_f(value))
        return jnp.where(v < 0, -jnp.inf, _log1mexp(jsp.xlog1py(jnp.maximum(v, 0.0), -p)))

    def random(self, key, p, size):
        u = jax.random.uniform(key, size, dtype=config.floatX())
        draws = jnp.floor(jnp.log1p(-u) / jnp.log1p(-p)) + 1.0
        return jnp.maximum(draws, 1.0).astype(config.intX())

    def support_point(self, p, size):
        return jnp.broadcast_to(jnp.round(1.0 / p), size)

    def in_support(self, value, p):
        return _is_int(value) & (value >= 1)

    def check_params(self, p):
        return [((p >= 0) & (p <= 1), "0 <= p <= 1")]


class HyperGeometric(Discrete):
    """HyperGeometric(N, k, n): successes in n draws without replacement from N items of which k succeed."""

    param_names = ("N", "k", "n")
    integer_params = ("N", "k", "n")

    @classmethod
    def dist(cls, N, k, n, *args, **kwargs):
        return super().dist([_cast_int_constant(N), _cast_int_constant(k), _cast_int_constant(n)],
                            *args, **kwargs)

    @staticmethod
    def _bounds(N, k, n):
        return jnp.maximum(n - N + k, 0), jnp.minimum(k, n)

    @staticmethod
    def _logpmf(v, N, k, n):
        return _binomln(k, v) + _binomln(N - k, n - v) - _binomln(N, n)

    def logp(self, value, N, k, n):
        N, k, n = _f(N), _f(k), _f(n)
        lower, upper = self._bounds(N, k, n)
        v = jnp.clip(_f(value), lower, jnp.maximum(upper, lower))
        return self._logpmf(v, N, k, n)

    def logcdf(self, value, N, k, n):
        N, k, n = _f(N), _f(k), _f(n)
        v = jnp.floor(_f(value))
        v, N, k, n = jnp.broadcast_arrays(v, N, k, n)
        lower, upper = self._bounds(N, k, n)
        inside = (v >= lower) & (v < upper)
        top = jnp.where(inside, v, lower - 1.0)
        acc, _ = _logcdf_by_sum(lambda j: self._logpmf(j, N, k, n), lower, top)
        return jnp.where(v < lower, -jnp.inf, jnp.where(v >= upper, 0.0, acc))

    def random(self, key, N, k, n, size):
        N, k, n = (jnp.broadcast_to(_f(x), size) for x in (N, k, n))
        lower, upper = self._bounds(N, k, n)
        u = jax.random.uniform(key, size, dtype=config.floatX())
        log_c = _binomln(N, n)

        def pmf(x):
            return jnp.exp(_binomln(k, x) + _binomln(N - k, n - x) - log_c)

        cdf0 = pmf(lower)
        init = (lower, cdf0, (cdf0 >= u) | (lower >= upper))

        def cond(s):
            return ~jnp.all(s[2])

        def body(s):
            x, cdf, done = s
            x = jnp.where(done, x, x + 1.0)
            cdf = jnp.where(done, cdf, cdf + pmf(jnp.minimum(x, upper)))
            return x, cdf, done | (cdf >= u) | (x >= upper)

        x, _, _ = jax.lax.while_loop(cond, body, init)
        return x.astype(config.intX())

    def support_point(self, N, k, n, size):
        return jnp.broadcast_to(jnp.floor((n + 1) * (k + 1) / (N + 2)), size)

    def in_support(self, value, N, k, n):
        lower, upper = self._bounds(_f(N), _f(k), _f(n))
        return _is_int(value) & (value >= 0) & _not_below(value, lower) & _not_above(value, upper)

    def check_params(self, N, k, n):
        lower, upper = self._bounds(N, k, n)
        return [(lower <= upper, "lower <= upper"), (N >= 0, "N >= 0"),
                ((k >= 0) & (k <= N), "0 <= k <= N"), ((n >= 0) & (n <= N), "0 <= n <= N")]


class DiscreteUniform(Discrete):
    """DiscreteUniform(lower, upper): equally likely integers lower..upper (bounds floored as in PyMC)."""

    param_names = ("lower", "upper")
    integer_params = ("lower", "upper")

    @classmethod
    def dist(cls, lower, upper, *args, **kwargs):
        bounds = []
        for b in (lower, upper):
            if isinstance(b, TensorVariable):
                b = apply(jnp.floor, b) if jnp.issubdtype(b.dtype, jnp.floating) else b
            else:
                arr = np.asarray(b.to_numpy() if hasattr(b, "to_numpy") else b)
                b = np.floor(arr) if arr.dtype.kind == "f" else arr
            bounds.append(_cast_int_constant(b))
        return super().dist(bounds, *args, **kwargs)

    def logp(self, value, lower, upper):
        shape = jnp.broadcast_shapes(jnp.shape(value), jnp.shape(lower), jnp.shape(upper))
        return jnp.broadcast_to(-jnp.log(_f(upper) - _f(lower) + 1.0), shape)

    def logcdf(self, value, lower, upper):
        # P(X <= lower) = 1 / (upper - lower + 1); PyMC 5.28 returns -inf at value == lower (a PyMC bug)
        lower, upper = _f(lower), _f(upper)
        v = jnp.floor(_f(value))
        inner = jnp.log(jnp.maximum(jnp.minimum(v, upper) - lower + 1.0, 1.0)) - jnp.log(upper - lower + 1.0)
        return jnp.where(v < lower, -jnp.inf, jnp.where(v < upper, inner, 0.0))

    def random(self, key, lower, upper, size):
        lo = jnp.broadcast_to(lower, size).astype(config.intX())
        hi = jnp.broadcast_to(upper, size).astype(config.intX())
        return jax.random.randint(key, size, lo, hi + 1, dtype=config.intX())

    def support_point(self, lower, upper, size):
        return jnp.broadcast_to(jnp.maximum(jnp.floor((upper + lower) / 2.0), lower), size)

    def in_support(self, value, lower, upper):
        return _is_int(value) & _not_below(value, lower) & _not_above(value, upper)

    def check_params(self, lower, upper):
        return [(lower <= upper, "lower <= upper")]


class DiscreteWeibull(Discrete):
    """DiscreteWeibull(q, beta): P(X >= x) = q ** (x ** beta), x = 0, 1, ..."""

    param_names = ("q", "beta")

    @classmethod
    def dist(cls, q, beta, *args, **kwargs):
        return super().dist([q, beta], *args, **kwargs)

    def logp(self, value, q, beta):
        v = jnp.maximum(_f(value), 0.0)
        lq = jnp.log(q)
        a = jnp.where(v == 0, 0.0, jnp.power(jnp.where(v == 0, 1.0, v), beta)) * lq  # log q^(v^beta)
        b = jnp.power(v + 1.0, beta) * lq
        return a + _log1mexp(jnp.minimum(b - a, 0.0))

    def logcdf(self, value, q, beta):
        v = jnp.floor(_f(value))
        vs = jnp.maximum(v, 0.0)
        return jnp.where(v < 0, -jnp.inf, _log1mexp(jnp.power(vs + 1.0, beta) * jnp.log(q)))

    def random(self, key, q, beta, size):
        u = jax.random.uniform(key, size, dtype=config.floatX())
        draws = jnp.ceil(jnp.power(jnp.log1p(-u) / jnp.log(q), 1.0 / beta)) - 1.0
        return jnp.maximum(draws, 0.0).astype(config.intX())

    def support_point(self, q, beta, size):
        # PyMC's median (not rounded: the model casts it to an integer, i.e. truncates toward zero)
        return jnp.broadcast_to(jnp.power(jnp.log(0.5) / jnp.log(q), 1.0 / beta) - 1.0, size)

    def in_support(self, value, q, beta):
        return _is_int(value) & (value >= 0)

    def check_params(self, q, beta):
        return [((q > 0) & (q < 1), "0 < q < 1"), (beta > 0, "beta > 0")]


class Categorical(Discrete):
    """Categorical(p) or Categorical(logit_p=...) over 0..k-1 (k = last axis of p).

    A constant p is checked and normalised as in PyMC (negative entries raise, a sum other than 1 warns
    and rescales); logit_p is kept on the log scale (log_softmax)."""

    param_names = ("p",)
    ndims_params = (1,)
    logit = False

    @classmethod
    def dist(cls, p=None, logit_p=None, **kwargs):
        _exclusive("p", p, "logit_p", logit_p)
        if logit_p is not None:
            node = super().dist([logit_p], **kwargs)
            node.owner.logit = True
            node.owner.param_names = ("logit_p",)
            return node
        if not isinstance(p, TensorVariable):
            p_ = np.asarray(p.to_numpy() if hasattr(p, "to_numpy") else p, dtype=float)
            if np.any(p_ < 0):
                raise ValueError(f"Negative `p` parameters are not valid, got: {p_}")
            p_sum_ = np.sum([p_], axis=-1)
            if not np.all(np.isclose(p_sum_, 1.0)):
                warnings.warn(
                    f"`p` parameters sum to {p_sum_}, instead of 1.0. They will be automatically rescaled. "
                    "You can rescale them directly to get rid of this warning.",
                    UserWarning,
                )
                p_ = p_ / np.sum(p_, axis=-1, keepdims=True)
            p = p_
        return super().dist([p], **kwargs)

    # log probabilities of all k categories, (..., k)
    def _logits(self, *params):
        (p,) = params
        return jax.nn.log_softmax(p, axis=-1) if self.logit else jnp.log(p)

    def _k(self, *params):
        return jnp.shape(params[0])[-1] if jnp.ndim(params[0]) else None

    @staticmethod
    def _take(table, value):
        """table[..., value] with value broadcast against the batch axes of table."""
        k = table.shape[-1]
        shape = jnp.broadcast_shapes(jnp.shape(value), table.shape[:-1])
        idx = jnp.clip(jnp.broadcast_to(jnp.asarray(value), shape), 0, k - 1).astype(jnp.int32)
        tab = jnp.broadcast_to(table, (*shape, k))
        return jnp.take_along_axis(tab, idx[..., None], axis=-1)[..., 0]

    def logp(self, value, *params):
        return self._take(self._logits(*params), value)

    def logcdf(self, value, *params):
        lp = self._logits(*params)
        k = lp.shape[-1]
        lc = jax.lax.cumlogsumexp(lp, axis=lp.ndim - 1)
        v = jnp.floor(_f(value))
        res = self._take(lc, v)
        return jnp.where(v < 0, -jnp.inf, jnp.where(v > k - 1, 0.0, res))

    def random(self, key, *params, size):
        return jax.random.categorical(key, self._logits(*params), axis=-1, shape=size).astype(config.intX())

    def support_point(self, *params, size):
        return jnp.broadcast_to(jnp.argmax(self._logits(*params), axis=-1), size)

    def in_support(self, value, *params):
        ok = _is_int(value) & (value >= 0)
        k = self._k(*params)
        if k is not None:  # a scalar NaN placeholder: the number of categories is unknown here
            ok = ok & (value <= k - 1)
        return ok

    def check_params(self, *params):
        if self.logit:
            return []
        (p,) = params
        ok = jnp.all((p >= 0) & (p <= 1), axis=-1) & jnp.isclose(jnp.sum(p, axis=-1), 1.0, rtol=1e-5, atol=1e-8)
        return [(ok, "0 <= p <= 1, sum(p) = 1")]


def _ordered_logcdf(value, z, log_f):
    """log F(z[..., v]) for 0 <= v < K, -inf below, 0 from K on (z: standardized cutpoints, (..., K))."""
    K = z.shape[-1]
    v = jnp.floor(_f(value))
    res = Categorical._take(log_f(z), v)
    return jnp.where(v < 0, -jnp.inf, jnp.where(v > K - 1, 0.0, res))


def _ordered_new(cls, name, args, compute_p, kwargs):
    """PyMC's OrderedLogistic/OrderedProbit constructor: the Deterministic `<name>_probs` (created first,
    as in PyMC), then the variable itself."""
    from jaxmc.model.context import modelcontext
    from jaxmc.model.named import Deterministic

    model = kwargs.get("model")
    if compute_p and isinstance(name, str):
        try:
            m = modelcontext(model)
        except TypeError:
            m = None
        if m is not None:
            m._check_new_name(name)
            params = [_as_param(a, cls, pn) for a, pn in zip(args, cls.param_names)]
            probs = apply(lambda *ps: cls.compute_p(*ps), *params)
            Deterministic(f"{name}_probs", probs, model=m)
    return super(Categorical, cls).__new__(cls, name, *args, **kwargs)


class OrderedLogistic(Categorical):
    """OrderedLogistic(eta, cutpoints): ordinal outcome 0..K with P(y <= j) = sigmoid(cutpoints[j] - eta).

    As in PyMC, `pm.OrderedLogistic(name, ...)` records the category probabilities as the Deterministic
    `<name>_probs` unless compute_p=False; the log probabilities are computed in log space."""

    param_names = ("eta", "cutpoints")
    ndims_params = (0, 1)

    def __new__(cls, name, eta, cutpoints, compute_p=True, **kwargs):
        return _ordered_new(cls, name, (eta, cutpoints), compute_p, kwargs)

    @classmethod
    def dist(cls, eta, cutpoints, **kwargs):
        return Discrete.dist.__func__(cls, [eta, cutpoints], **kwargs)

    @classmethod
    def compute_p(cls, eta, cutpoints):
        return jnp.exp(cls._log_probs(eta, cutpoints))

    @staticmethod
    def _log_probs(eta, cutpoints):
        eta = jnp.asarray(eta)[..., None]
        c = jnp.asarray(cutpoints)
        shape = jnp.broadcast_shapes(eta.shape[:-1], c.shape[:-1])
        c = jnp.broadcast_to(c, (*shape, c.shape[-1]))
        inf = jnp.full((*shape, 1), jnp.inf, c.dtype)
        upper = jnp.concatenate([c, inf], axis=-1) - eta  # u_j = c_j - eta
        lower = jnp.concatenate([-inf, c], axis=-1) - eta  # l_j = c_{j-1} - eta
        # sigmoid(u) - sigmoid(l) = sigmoid(u) sigmoid(-l) (1 - exp(l - u))
        gap = jnp.concatenate([-inf, c[..., :-1] - c[..., 1:], -inf], axis=-1)
        return jax.nn.log_sigmoid(upper) + jax.nn.log_sigmoid(-lower) + _log1mexp(jnp.minimum(gap, 0.0))

    def _logits(self, eta, cutpoints):
        return self._log_probs(eta, cutpoints)

    def logcdf(self, value, eta, cutpoints):
        # log P(y <= v) = log sigmoid(cutpoints[v] - eta) directly (no cumulated sum)
        return _ordered_logcdf(value, jnp.asarray(cutpoints) - jnp.asarray(eta)[..., None], jax.nn.log_sigmoid)

    def _k(self, eta, cutpoints):
        return jnp.shape(cutpoints)[-1] + 1 if jnp.ndim(cutpoints) else None

    def check_params(self, eta, cutpoints):
        ok = jnp.all(jnp.diff(cutpoints, axis=-1) >= 0, axis=-1) if jnp.ndim(cutpoints) else jnp.array(True)
        return [(ok, "0 <= p <= 1 (cutpoints increasing)")]


class OrderedProbit(Categorical):
    """OrderedProbit(eta, cutpoints, sigma=1): P(y <= j) = Phi((cutpoints[j] - eta) / sigma).

    Records `<name>_probs` as a Deterministic unless compute_p=False (as in PyMC)."""

    param_names = ("eta", "cutpoints", "sigma")
    ndims_params = (0, 1, 0)

    def __new__(cls, name, eta, cutpoints, sigma=1, compute_p=True, **kwargs):
        return _ordered_new(cls, name, (eta, cutpoints, sigma), compute_p, kwargs)

    @classmethod
    def dist(cls, eta, cutpoints, sigma=1, **kwargs):
        return Discrete.dist.__func__(cls, [eta, cutpoints, sigma], **kwargs)

    @classmethod
    def compute_p(cls, eta, cutpoints, sigma=1.0):
        return jnp.exp(cls._log_probs(eta, cutpoints, sigma))

    @staticmethod
    def _log_probs(eta, cutpoints, sigma):
        sigma = jnp.asarray(sigma)[..., None]
        eta = jnp.asarray(eta)[..., None]
        c = jnp.asarray(cutpoints)
        shape = jnp.broadcast_shapes(eta.shape[:-1], c.shape[:-1], sigma.shape[:-1])
        c = jnp.broadcast_to(c, (*shape, c.shape[-1]))
        inf = jnp.full((*shape, 1), jnp.inf, c.dtype)
        z = (c - eta) / sigma
        upper = jnp.concatenate([z, inf], axis=-1)
        lower = jnp.concatenate([-inf, z], axis=-1)
        return _log_ndtr_diff(lower, upper)

    def _logits(self, eta, cutpoints, sigma):
        return self._log_probs(eta, cutpoints, sigma)

    def logcdf(self, value, eta, cutpoints, sigma):
        z = (jnp.asarray(cutpoints) - jnp.asarray(eta)[..., None]) / jnp.asarray(sigma)[..., None]
        return _ordered_logcdf(value, z, jsp.log_ndtr)

    def _k(self, eta, cutpoints, sigma):
        return jnp.shape(cutpoints)[-1] + 1 if jnp.ndim(cutpoints) else None

    def check_params(self, eta, cutpoints, sigma):
        ok = jnp.all(jnp.diff(cutpoints, axis=-1) >= 0, axis=-1) if jnp.ndim(cutpoints) else jnp.array(True)
        return [(ok, "0 <= p <= 1 (cutpoints increasing)"), (sigma > 0, "sigma > 0")]


class DiracDelta(Discrete):
    """DiracDelta(c): all mass at c. As in PyMC the dtype of c sets the variable's dtype (a float c gives a
    float variable)."""

    param_names = ("c",)
    integer_params = ("c",)

    @classmethod
    def dist(cls, c, *args, **kwargs):
        node = super().dist([c], *args, **kwargs)
        if jnp.issubdtype(node.owner.params[0].dtype, jnp.floating):
            node.owner.discrete = False
            node.aval = jax.ShapeDtypeStruct(node.shape, config.floatX())
        return node

    def logp(self, value, c):
        shape = jnp.broadcast_shapes(jnp.shape(value), jnp.shape(c))
        return jnp.broadcast_to(jnp.where(value == c, 0.0, -jnp.inf), shape).astype(config.floatX())

    def logcdf(self, value, c):
        shape = jnp.broadcast_shapes(jnp.shape(value), jnp.shape(c))
        return jnp.broadcast_to(jnp.where(value < c, -jnp.inf, 0.0), shape).astype(config.floatX())

    def random(self, key, c, size):
        return jnp.broadcast_to(c, size)

    def support_point(self, c, size):
        return jnp.broadcast_to(c, size)

    def in_support(self, value, c):
        unknown = jnp.isnan(c) if jnp.issubdtype(jnp.asarray(c).dtype, jnp.floating) else False
        return (value == c) | unknown

"""`pm.Truncated(dist, lower, upper, max_n_steps)`: any univariate distribution with a logcdf, restricted to
[lower, upper] and renormalized (PyMC's density, CDF, support point and default transform).

As in PyMC, truncating a Normal gives a `TruncatedNormal`. Draws use the inverse CDF where the base family
has one (uniform draws between CDF(lower) and CDF(upper), in log space), otherwise rejection sampling in a
bounded `lax.while_loop` of at most `max_n_steps` rounds; entries that never land inside the bounds come
back as NaN (continuous) or are left out of bounds (discrete): PyMC raises `TruncationError`, which compiled,
vectorized JAX code cannot do.
"""

from __future__ import annotations


import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from jaxmc import config, transforms
from jaxmc.distributions.base import Distribution, ShapeError
from jaxmc.distributions.custom import (
    as_param,
    broadcast,
    check_dist_not_registered,
    check_kwargs,
    is_dist_var,
    logccdf,
    make_rv,
    pack_parts,
    part_param_names,
    shape_of,
    to_shape,
    uniform01,
)
from jaxmc.distributions.dist_math import is_static_inf, log_diff_exp

__all__ = ["Truncated"]


# ---------------------------------------------------------------------- inverse CDFs (by family name)
def _lognormal_icdf(q, mu, sigma):
    return jnp.exp(mu + sigma * jsp.ndtri(q))


ICDF = {
    "Normal": lambda q, mu, sigma: mu + sigma * jsp.ndtri(q),
    "HalfNormal": lambda q, sigma: sigma * jsp.ndtri((1.0 + q) / 2.0),
    "LogNormal": _lognormal_icdf,
    "Exponential": lambda q, scale: -scale * jnp.log1p(-q),
    "Uniform": lambda q, lower, upper: lower + q * (upper - lower),
    "Laplace": lambda q, mu, b: mu - b * jnp.sign(q - 0.5) * jnp.log1p(-2.0 * jnp.abs(q - 0.5)),
    "Logistic": lambda q, mu, s: mu + s * jsp.logit(q),
    "Cauchy": lambda q, alpha, beta: alpha + beta * jnp.tan(np.pi * (q - 0.5)),
    "HalfCauchy": lambda q, beta: beta * jnp.tan(np.pi * q / 2.0),
    "Gumbel": lambda q, mu, beta: mu - beta * jnp.log(-jnp.log(q)),
    "Weibull": lambda q, alpha, beta: beta * (-jnp.log1p(-q)) ** (1.0 / alpha),
    "Pareto": lambda q, alpha, m: m * (1.0 - q) ** (-1.0 / alpha),
    "Kumaraswamy": lambda q, a, b: (1.0 - (1.0 - q) ** (1.0 / b)) ** (1.0 / a),
}


def icdf_of(dist):
    """The inverse CDF of a (continuous) family, or None."""
    if dist.discrete:
        return None
    if hasattr(dist, "icdf"):
        return dist.icdf
    fn = ICDF.get(type(dist).__name__)
    return (lambda q, *params: fn(q, *params)) if fn is not None else None


class Truncated(Distribution):
    r"""Truncated(dist, lower=None, upper=None, max_n_steps=10_000): `dist` (an unnamed univariate `.dist()`
    variable with a logcdf) restricted to [lower, upper].

    .. math:: f(x) = \frac{f_{dist}(x)}{F(upper) - F(lower)},\quad lower \le x \le upper

    For discrete `dist` the lower bound is inclusive (F(lower - 1) is used). The default transform is an
    interval transform over the bounds for continuous `dist` (none for discrete ones).
    """

    support_depends_on_params = True

    @classmethod
    def dist(cls, dist, lower=None, upper=None, max_n_steps: int = 10_000, *, shape=None, size=None, **kwargs):
        check_kwargs("Truncated", kwargs)
        if not is_dist_var(dist):
            raise ValueError(
                f"Truncation dist must be a distribution created via the `.dist()` API, got {type(dist)}"
            )
        if dist.owner.ndim_supp > 0:
            raise NotImplementedError("Truncation not implemented for multivariate distributions")
        check_dist_not_registered(dist)
        if lower is None and upper is None:
            raise ValueError("lower and upper cannot both be None")
        shape, size = to_shape(shape), to_shape(size)
        if shape is None and size is None and dist.owner.explicit_shape:
            shape = tuple(dist.shape)
        if type(dist.owner).__name__ == "Normal" and type(dist.owner).__module__.endswith("continuous"):
            # PyMC's `_truncated` dispatch: a truncated Normal is a TruncatedNormal
            from jaxmc.distributions.continuous import TruncatedNormal

            mu, sigma = dist.owner.params
            return TruncatedNormal.dist(mu, sigma, lower=lower, upper=upper, shape=shape, size=size)
        lower = as_param(-np.inf if lower is None else lower, "lower")
        upper = as_param(np.inf if upper is None else upper, "upper")
        base_params, (part,) = pack_parts([dist], 0)
        self = object.__new__(cls)
        self._part = part
        self.max_n_steps = int(max_n_steps)
        self._lb = not is_static_inf(lower, -1)
        self._ub = not is_static_inf(upper, 1)
        implied = broadcast(dist.shape, shape_of(lower), shape_of(upper), what="Truncated")
        if shape is None:
            shape = size if size is not None else implied
        if broadcast(implied, shape, what="Truncated") != tuple(shape):
            raise ShapeError(f"Truncated: the distribution and bounds (shape {implied}) do not broadcast to the "
                             f"requested shape {tuple(shape)}")
        return make_rv(self, [*base_params, lower, upper], shape, discrete=part.discrete,
                       param_names=[*part_param_names("dist", part), "lower", "upper"],
                       ndims_params=[*part.ndims_params(), 0, 0])

    @property
    def base(self):
        return self._part.dist

    def _split(self, params):
        return params[:-2], params[-2], params[-1]

    def _lower_value(self, lower):
        return lower - 1.0 if self.discrete else lower

    def _log_norm(self, bp, lower, upper):
        """(log(F(upper) - F(lower)), log F(lower) or None)."""
        base = self.base
        if self._lb:
            lv = self._lower_value(lower)
            lcl = base.checked_logcdf(lv, *bp)
            if self._ub:
                lcu = base.checked_logcdf(upper, *bp)
                return log_diff_exp(lcu, jnp.minimum(lcl, lcu)), lcl
            return logccdf(base, lv, bp), lcl
        if self._ub:
            return base.checked_logcdf(upper, *bp), None
        return 0.0, None

    def logp(self, value, *params):
        bp, lower, upper = self._split(params)
        lognorm, _ = self._log_norm(bp, lower, upper)
        lp = self.base.checked_logp(value, *bp) - lognorm
        if self._lb:
            lp = jnp.where(value < lower, -jnp.inf, lp)
        if self._ub:
            lp = jnp.where(value <= upper, lp, -jnp.inf)
        return lp

    def logcdf(self, value, *params):
        bp, lower, upper = self._split(params)
        lognorm, lcl = self._log_norm(bp, lower, upper)
        lc = self.base.checked_logcdf(value, *bp)
        if self._lb:
            lc = log_diff_exp(lc, jnp.minimum(lcl, lc))
        lc = lc - lognorm
        if self._lb:
            lc = jnp.where(value < lower, -jnp.inf, lc)
        if self._ub:
            lc = jnp.where(value <= upper, lc, 0.0)
        return lc

    def checked_logcdf(self, value, *params):
        lc = self.logcdf(value, *params)
        ok = jnp.array(True)
        for cond, _ in self.check_params(*params):
            ok = ok & cond
        return jnp.where(ok, lc, -jnp.inf)

    def in_support(self, value, *params):
        bp, lower, upper = self._split(params)
        ok = self.base.in_support(value, *bp)
        return ok & (value >= lower) & (value <= upper)

    def check_params(self, *params):
        if self._lb and self._ub:
            _, lower, upper = self._split(params)
            return [(lower <= upper, "lower_bound <= upper_bound")]
        return []

    def support_point(self, *params, size):
        bp, lower, upper = self._split(params)
        size = tuple(size)
        sp = jnp.asarray(self.base.support_point(*bp, size=size), dtype=config.floatX())
        lower, upper = jnp.asarray(lower, sp.dtype), jnp.asarray(upper, sp.dtype)
        fin_l, fin_u = jnp.isfinite(lower), jnp.isfinite(upper)
        # PyMC's fallback uses (upper - lower) / 2, which can lie outside the bounds: the midpoint is used.
        # For continuous variables the base's support point must lie strictly inside (PyMC keeps one on a
        # bound, where the interval transform is infinite and the initial point fails)
        fallback = jnp.where(fin_l & fin_u, (lower + upper) / 2.0, jnp.where(fin_u, upper - 1.0, lower + 1.0))
        inside = (sp >= lower) & (sp <= upper) if self.discrete else (sp > lower) & (sp < upper)
        out = jnp.where(inside, sp, fallback)
        return jnp.broadcast_to(out, size)

    def default_transform(self):
        if self.discrete:
            return None
        return transforms.Interval(bounds_fn=lambda *params: (params[-2], params[-1]))

    # ---------------------------------------------------------------- draws
    def random(self, key, *params, size):
        bp, lower, upper = self._split(params)
        size = tuple(size)
        icdf = icdf_of(self.base)
        if icdf is not None:
            return self._random_icdf(key, icdf, bp, lower, upper, size)
        return self._random_reject(key, bp, lower, upper, size)

    def _random_icdf(self, key, icdf, bp, lower, upper, size):
        base = self.base
        lcl = base.checked_logcdf(lower, *bp) if self._lb else jnp.asarray(-jnp.inf)
        lcu = base.checked_logcdf(upper, *bp) if self._ub else jnp.asarray(0.0)
        lcl, lcu = jnp.broadcast_to(lcl, size), jnp.broadcast_to(lcu, size)
        u = uniform01(key, size)
        lcl_safe = jnp.minimum(lcl, lcu)
        # log(F(lower) + u (F(upper) - F(lower)))
        lq = jnp.logaddexp(lcl_safe, jnp.log(u) + log_diff_exp(lcu, lcl_safe))
        lq = jnp.where(jnp.isneginf(lcl), jnp.log(u) + lcu, lq)
        x = icdf(jnp.exp(lq), *bp)
        return jnp.clip(x, lower, upper)

    def _random_reject(self, key, bp, lower, upper, size):
        base, n_max = self.base, self.max_n_steps
        dtype = config.intX() if self.discrete else config.floatX()

        def outside(x):
            return (x < lower) | (x > upper)

        def cond(state):
            i, _, _, rej = state
            return (i < n_max) & jnp.any(rej)

        def body(state):
            i, k, x, rej = state
            k, sub = jax.random.split(k)
            new = base.random(sub, *bp, size=size).astype(dtype)
            x = jnp.where(rej, new, x)
            return i + 1, k, x, outside(x)

        init = (jnp.asarray(0), key, jnp.zeros(size, dtype), jnp.ones(size, bool))
        _, _, x, rej = jax.lax.while_loop(cond, body, init)
        if not self.discrete:
            x = jnp.where(rej, jnp.nan, x)
        return x

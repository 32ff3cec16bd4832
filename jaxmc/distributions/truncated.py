"""`pm.Truncated(dist, lower, upper, max_n_steps)`: any univariate distribution with a logcdf, restricted to
[lower, upper] and renormalized (PyMC's density, CDF, support point and default transform)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxmc import config, transforms
from jaxmc.distributions.continuous import Normal, TruncatedNormal
from jaxmc.distributions.dist_math import log_diff_exp, uniform01
from jaxmc.distributions.params import to_shape
from jaxmc.distributions.wrappers import Bounded, check_dist, check_kwargs, logccdf

__all__ = ["Truncated"]


class Truncated(Bounded):
    r"""Truncated(dist, lower=None, upper=None, max_n_steps=10_000): `dist` (an unnamed univariate `.dist()`
    variable with a logcdf) restricted to [lower, upper].

    .. math:: f(x) = \frac{f_{dist}(x)}{F(upper) - F(lower)},\quad lower \le x \le upper

    For discrete `dist` the lower bound is inclusive (F(lower - 1) is used). The default transform is an
    interval transform over the bounds for continuous `dist` (none for discrete ones).

    As in PyMC, truncating a Normal gives a `TruncatedNormal`. Draws use the inverse CDF (`icdf`) where the
    base family has one (uniform draws between CDF(lower) and CDF(upper), in log space), otherwise rejection
    sampling in a bounded `lax.while_loop` of at most `max_n_steps` rounds; entries that never land inside the
    bounds come back as NaN (continuous) or are left out of bounds (discrete): PyMC raises `TruncationError`,
    which compiled, vectorized JAX code cannot do.
    """

    @classmethod
    def dist(cls, dist, lower=None, upper=None, max_n_steps: int = 10_000, *, shape=None, size=None, **kwargs):
        check_kwargs("Truncated", kwargs)
        check_dist(dist, "Truncation", multivariate="Truncation not implemented for multivariate distributions")
        if lower is None and upper is None:
            raise ValueError("lower and upper cannot both be None")
        shape, size = to_shape(shape), to_shape(size)
        if shape is None and size is None and dist.owner.explicit_shape:
            shape = tuple(dist.shape)
        if isinstance(dist.owner, Normal):  # PyMC's `_truncated` dispatch: a truncated Normal is a TruncatedNormal
            mu, sigma = dist.owner.params
            return TruncatedNormal.dist(mu, sigma, lower=lower, upper=upper, shape=shape, size=size)
        return cls._bounded("Truncated", dist, lower, upper, shape, size, max_n_steps=int(max_n_steps))

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
            # at the bounds, set exactly: F(x) - F(lower) cancels to zero only where both are computed alike
            lc = jnp.where(value < lower if self.discrete else value <= lower, -jnp.inf, lc)
        if self._ub:
            lc = jnp.where(value < upper, lc, 0.0)
        return lc

    def in_support(self, value, *params):
        bp, lower, upper = self._split(params)
        ok = self.base.in_support(value, *bp)
        return ok & (value >= lower) & (value <= upper)

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
        icdf = getattr(self.base, "icdf", None) if not self.discrete else None
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
        q = jnp.exp(lq)
        x = jnp.clip(icdf(q, *bp), lower, upper)
        # an interval so far in a tail that q rounds to 0 or 1 has no exact inverse-CDF draw: rejection there
        lost = ~jnp.isfinite(x) | (q >= 1.0) | ((q <= 0.0) & jnp.isfinite(lower))
        return jnp.where(lost, self._random_reject(key, bp, lower, upper, size, todo=lost), x)

    def _random_reject(self, key, bp, lower, upper, size, todo=None):
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

        init = (jnp.asarray(0), key, jnp.zeros(size, dtype), jnp.ones(size, bool) if todo is None else todo)
        _, _, x, rej = jax.lax.while_loop(cond, body, init)
        if not self.discrete:
            x = jnp.where(rej, jnp.nan, x)
        return x

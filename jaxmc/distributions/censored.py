"""`pm.Censored(dist, lower, upper)`: a univariate distribution whose values beyond the bounds are recorded at
the bounds (PyMC's density: CDF mass at `lower`, survival mass at `upper`, the density between)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxmc.distributions.params import to_shape
from jaxmc.distributions.wrappers import Bounded, check_dist, check_kwargs, logccdf

__all__ = ["Censored"]


def censored_logp(dist, value, params, lower, upper, lower_bounded=True, upper_bounded=True):
    """PyMC's log density of clip(X, lower, upper) for X ~ `dist` with parameters `params`.

    The boundary masses are computed at the bounds themselves (equal to PyMC's values at value == bound),
    which keeps the unselected branches finite for gradients."""
    lp = dist.checked_logp(value, *params)
    if upper_bounded:
        lcc = logccdf(dist, upper, params)
        if dist.discrete:  # P(X >= upper) = P(X > upper) + P(X = upper)
            lcc = jnp.logaddexp(lcc, dist.checked_logp(upper, *params))
        lp = jnp.where(value == upper, lcc, jnp.where(value > upper, -jnp.inf, lp))
    if lower_bounded:
        lcl = dist.checked_logcdf(lower, *params)
        lp = jnp.where(value == lower, lcl, jnp.where(value < lower, -jnp.inf, lp))
    if lower_bounded and upper_bounded:
        lp = jnp.where(jnp.all(lower <= upper), lp, -jnp.inf)
    return lp


class Censored(Bounded):
    r"""Censored(dist, lower=-inf, upper=inf): `dist` (an unnamed univariate `.dist()` variable) censored at
    `lower` and `upper` (None or an infinite constant: not censored on that side).

    .. math:: f(x) = \begin{cases} F(lower) & x = lower \\ f_{dist}(x) & lower < x < upper \\
              1 - F(upper) & x = upper \end{cases}

    As in PyMC, continuous censored variables are meant as likelihoods (they have no default transform).
    """

    @classmethod
    def dist(cls, dist, lower=-np.inf, upper=np.inf, *, shape=None, size=None, **kwargs):
        check_kwargs("Censored", kwargs)
        check_dist(dist, "Censoring", multivariate="Censoring of multivariate distributions has not been "
                                                   "implemented yet")
        return cls._bounded("Censored", dist, lower, upper, to_shape(shape), to_shape(size))

    def logp(self, value, *params):
        bp, lower, upper = self._split(params)
        return censored_logp(self.base, value, bp, lower, upper, self._lb, self._ub)

    def logcdf(self, value, *params):
        bp, lower, upper = self._split(params)
        lc = self.base.checked_logcdf(value, *bp)
        if self._lb:
            lc = jnp.where(value < lower, -jnp.inf, lc)
        if self._ub:
            lc = jnp.where(value >= upper, 0.0, lc)
        if self._lb and self._ub:
            lc = jnp.where(lower <= upper, lc, -jnp.inf)
        return lc

    def random(self, key, *params, size):
        bp, lower, upper = self._split(params)
        x = self.base.random(key, *bp, size=tuple(size))
        return jnp.clip(x, lower, upper).astype(x.dtype)

    def support_point(self, *params, size):
        _, lower, upper = self._split(params)
        lower, upper = jnp.broadcast_arrays(jnp.asarray(lower, float), jnp.asarray(upper, float))
        pt = jnp.where(lower == -jnp.inf, jnp.where(jnp.isinf(upper), 0.0, upper - 1.0),
                       jnp.where(upper == jnp.inf, lower + 1.0, (lower + upper) / 2.0))
        return jnp.broadcast_to(pt, tuple(size))

    def in_support(self, value, *params):
        _, lower, upper = self._split(params)
        return (value >= lower) & (value <= upper)

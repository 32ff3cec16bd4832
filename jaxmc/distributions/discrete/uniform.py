"""Discrete families on a set given by the parameters: DiscreteUniform (lower..upper), DiracDelta (one
point)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.distributions import constraints
from jaxmc.distributions.base import Discrete
from jaxmc.distributions.dist_math import as_float
from jaxmc.distributions.params import cast_int_constant
from jaxmc.graph import TensorVariable, apply

__all__ = ["DiracDelta", "DiscreteUniform"]


class DiscreteUniform(Discrete):
    """DiscreteUniform(lower, upper): equally likely integers lower..upper (bounds floored as in PyMC)."""

    param_names = ("lower", "upper")
    support = constraints.integer_interval("lower", "upper")
    arg_constraints = {"lower": constraints.less_equal("upper")}
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
            bounds.append(cast_int_constant(b))
        return super().dist(bounds, *args, **kwargs)

    def logp(self, value, lower, upper):
        shape = jnp.broadcast_shapes(jnp.shape(value), jnp.shape(lower), jnp.shape(upper))
        return jnp.broadcast_to(-jnp.log(as_float(upper) - as_float(lower) + 1.0), shape)

    def logcdf(self, value, lower, upper):
        # P(X <= lower) = 1 / (upper - lower + 1); PyMC 5.28 returns -inf at value == lower (a PyMC bug)
        lower, upper = as_float(lower), as_float(upper)
        v = jnp.floor(as_float(value))
        inner = jnp.log(jnp.maximum(jnp.minimum(v, upper) - lower + 1.0, 1.0)) - jnp.log(upper - lower + 1.0)
        return jnp.where(v < lower, -jnp.inf, jnp.where(v < upper, inner, 0.0))

    def random(self, key, lower, upper, size):
        lo = jnp.broadcast_to(lower, size).astype(config.intX())
        hi = jnp.broadcast_to(upper, size).astype(config.intX())
        return jax.random.randint(key, size, lo, hi + 1, dtype=config.intX())

    def support_point(self, lower, upper, size):
        return jnp.broadcast_to(jnp.maximum(jnp.floor((upper + lower) / 2.0), lower), size)


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

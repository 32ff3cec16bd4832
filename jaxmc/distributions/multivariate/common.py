"""Shared machinery of the multivariate families: subclasses carrying static settings, parameter
broadcasting, triangular solves."""

from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.linalg as jsl

from jaxmc.distributions.base import Distribution
from jaxmc.distributions.params import shape_of
from jaxmc.graph import TensorVariable, apply

_SPECIALIZED: dict = {}


def is_node(x):
    return isinstance(x, TensorVariable)


def ndim_of(x):
    return len(shape_of(x))


def family(cls):
    """The public family class behind a specialized subclass."""
    while cls.__dict__.get("_is_specialized", False):
        cls = cls.__bases__[0]
    return cls


def specialize(cls, **attrs):
    """Subclass of family `cls` carrying static settings `attrs` as class attributes (cached when hashable)."""
    cls = family(cls)
    key = (cls, tuple(sorted(attrs.items(), key=lambda kv: kv[0])))
    try:
        hash(key)
    except TypeError:
        key = None
    if key is not None and key in _SPECIALIZED:
        return _SPECIALIZED[key]
    sub = type(cls.__name__, (cls,), dict(attrs, _is_specialized=True, __module__=cls.__module__,
                                          __qualname__=cls.__qualname__, __doc__=cls.__doc__))
    if key is not None:
        _SPECIALIZED[key] = sub
    return sub


def build(cls, params, **kwargs):
    """Make the graph node of family (or specialized subclass) `cls` with canonical `params`."""
    return Distribution.dist.__func__(cls, params, **kwargs)


def swap(x):
    return jnp.swapaxes(x, -1, -2)


def diag(x):
    return jnp.diagonal(x, axis1=-2, axis2=-1)


def _bcast_to_shape(x, shape):
    return jnp.broadcast_to(x, shape)


def broadcast_param(x, shape):
    """A parameter (array or model variable) broadcast to `shape`."""
    return apply(_bcast_to_shape, x, shape) if is_node(x) else jnp.broadcast_to(x, shape)


def broadcast_up(x, shape):
    """A parameter broadcast against `shape` (unchanged when that does not enlarge it)."""
    target = jnp.broadcast_shapes(shape_of(x), shape)
    return x if target == shape_of(x) else broadcast_param(x, target)


def broadcast_last(mu, mat):
    """PyMC's `mu, _ = broadcast_arrays(mu, mat[..., -1])`: mu gets the batch and length of a matrix."""
    return broadcast_up(mu, shape_of(mat)[:-1])


def solve_lower(L, b):
    """L^{-1} b for lower-triangular L (..., k, k) and vectors b (..., k), batch dims broadcast."""
    k = b.shape[-1]
    if L.ndim == 2:  # one factor: all vectors as right-hand sides of one solve
        flat = jnp.reshape(b, (-1, k)).T
        return jsl.solve_triangular(L, flat, lower=True).T.reshape(b.shape)
    batch = jnp.broadcast_shapes(L.shape[:-2], b.shape[:-1])
    L = jnp.broadcast_to(L, (*batch, k, k))
    b = jnp.broadcast_to(b, (*batch, k))
    return jsl.solve_triangular(L, b[..., None], lower=True)[..., 0]


def solve_lower_mat(L, B):
    """L^{-1} B for lower-triangular L (..., k, k) and matrices B (..., k, m), batch dims broadcast."""
    batch = jnp.broadcast_shapes(L.shape[:-2], B.shape[:-2])
    L = jnp.broadcast_to(L, (*batch, *L.shape[-2:]))
    B = jnp.broadcast_to(B, (*batch, *B.shape[-2:]))
    return jsl.solve_triangular(L, B, lower=True)

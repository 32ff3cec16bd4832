"""`pm.logp` and `pm.logcdf`: the log density (or CDF) of a variable at a value, as a graph node."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxmc.graph import TensorVariable, apply, constant


def _check(rv, fname):
    if not isinstance(rv, TensorVariable) or rv.kind != "rv":
        raise TypeError(f"pm.{fname} takes a random variable (e.g. pm.Normal.dist(0, 1)), found {rv!r}")


def logp(rv: TensorVariable, value, warn_rvs=None, **kwargs) -> TensorVariable:
    """Elementwise log density of `rv` at `value`, a graph node: `.eval()` (or np.asarray) gives numbers."""
    return _at(rv, value, "logp")


def logcdf(rv: TensorVariable, value, warn_rvs=None, **kwargs) -> TensorVariable:
    """Elementwise log CDF of `rv` at `value`."""
    return _at(rv, value, "logcdf")


def _at(rv, value, fname):
    """`dist.checked_<fname>` of `rv`'s distribution at `value`: a node when value or parameters are nodes."""
    _check(rv, fname)
    dist = rv.owner
    method = getattr(dist, f"checked_{fname}")
    value = value if isinstance(value, TensorVariable) else jnp.asarray(value)
    if _has_node(value, dist):
        return apply(lambda v, *p: method(v, *p), value, *dist.params)
    return _wrap(method(value, *dist.params), value, dist)


def _has_node(value, dist):
    return isinstance(value, TensorVariable) or any(isinstance(p, TensorVariable) for p in dist.params)


def _wrap(result, value, dist):
    """Inside jit/grad (traced inputs) the array itself; otherwise a constant node with `.eval()`."""
    if any(isinstance(x, jax.core.Tracer) for x in (value, result, *dist.params)):
        return result
    return constant(result)

"""`pm.logp`, `pm.logcdf` and `pm.icdf`: the log density, log CDF or inverse CDF of a variable at a value, as a
graph node."""

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


def icdf(rv: TensorVariable, value, warn_rvs=None, **kwargs) -> TensorVariable:
    """Elementwise inverse CDF (quantile function) of `rv` at probabilities `value`: NaN for probabilities outside
    [0, 1] or invalid parameters, the support's ends at 0 and 1."""
    _check(rv, "icdf")
    dist = rv.owner
    if getattr(dist, "icdf", None) is None:
        have = "" if dist.discrete else " (pm.logcdf is there for most continuous families)"
        raise NotImplementedError(f"pm.icdf: {type(dist).__name__} has no inverse CDF in jaxmc{have}")

    def checked(q, *params):
        q = jnp.asarray(q, float)
        ok = dist.params_ok(*params) & (q >= 0) & (q <= 1)
        return jnp.where(ok, dist.icdf(q, *params), jnp.nan)

    return _at(rv, value, "icdf", checked)


def _at(rv, value, fname, method=None):
    """`dist.checked_<fname>` of `rv`'s distribution (or `method`) at `value`: a node when value or parameters
    are nodes."""
    _check(rv, fname)
    dist = rv.owner
    method = method or getattr(dist, f"checked_{fname}")
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

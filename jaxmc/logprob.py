"""`pm.logp` and `pm.logcdf`: the log density (or CDF) of a variable at a value, as a graph node."""

from __future__ import annotations

from jaxmc.graph import TensorVariable, apply


def _check(rv, fname):
    if not isinstance(rv, TensorVariable) or rv.kind != "rv":
        raise TypeError(f"pm.{fname} takes a random variable (e.g. pm.Normal.dist(0, 1)), found {rv!r}")


def logp(rv: TensorVariable, value, warn_rvs=None, **kwargs) -> TensorVariable:
    """Elementwise log density of `rv` at `value`; call `.eval()` for numbers."""
    _check(rv, "logp")
    dist = rv.owner
    return apply(lambda v, *p: dist.checked_logp(v, *p), value, *dist.params) if _has_node(value, dist) \
        else dist.checked_logp(value, *dist.params)


def logcdf(rv: TensorVariable, value, warn_rvs=None, **kwargs) -> TensorVariable:
    """Elementwise log CDF of `rv` at `value`."""
    _check(rv, "logcdf")
    dist = rv.owner
    return apply(lambda v, *p: dist.checked_logcdf(v, *p), value, *dist.params) if _has_node(value, dist) \
        else dist.checked_logcdf(value, *dist.params)


def _has_node(value, dist):
    return isinstance(value, TensorVariable) or any(isinstance(p, TensorVariable) for p in dist.params)

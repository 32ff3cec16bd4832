"""Observed values of a random variable: the data node that holds them, converted to the variable's dtype and
checked against the distribution's support (also while some parameters are still unknown)."""

from __future__ import annotations

import itertools

import jax
import numpy as np

from jaxmc import config
from jaxmc.graph import TensorVariable, rv_ancestors
from jaxmc.model.data import observed_key


def observed_in_support(dist, value, params) -> np.ndarray:
    """Build-time support check when some parameters are model variables (unknown now).

    Unknown parameters are tried as NaN (families read it as "unknown") and, for bounds, at -inf and +inf in
    every combination: an entry is rejected only if no such choice puts it in the support. The log density
    checks the rest at run time."""
    unknown = [i for i, p in enumerate(params) if isinstance(p, TensorVariable)]
    shapes = {i: params[i].shape for i in unknown}
    trials = [{i: np.nan for i in unknown}]
    if dist.support_depends_on_params and len(unknown) <= 3:
        trials += [dict(zip(unknown, c)) for c in itertools.product((-np.inf, np.inf), repeat=len(unknown))]
    ok = None
    for trial in trials:
        args = [np.full(shapes[i], trial[i], config.floatX()) if i in trial else p for i, p in enumerate(params)]
        try:
            res = np.asarray(dist.in_support(np.asarray(value), *args))
        except Exception:
            return np.ones((), bool)
        ok = res if ok is None else ok | res
    return ok


def _in_support(dist, value, params) -> np.ndarray:
    if all(not isinstance(p, TensorVariable) for p in params):
        return np.asarray(dist.in_support(np.asarray(value), *params))
    return observed_in_support(dist, value, params)


def observed_node(model, name, rv, observed):
    """The data node of a variable's observed values (converted to its dtype and checked against the support),
    stored in the model's data."""
    dist = rv.owner
    if isinstance(observed, TensorVariable):
        return observed
    value = config.as_intX(observed, f"Variable {name!r}: observed values").astype(rv.dtype) if dist.discrete \
        else config.as_floatX(observed.astype(float)
                                                                                if observed.dtype.kind in "biu" else observed)
    if dist.discrete and observed.dtype.kind == "f" and not np.all(np.mod(observed, 1) == 0):
        bad = np.flatnonzero(np.mod(observed, 1) != 0)[:5]
        raise ValueError(f"Variable {name!r}: observed values must be integers for "
                         f"{type(dist).__name__}; non-integer entries at flat positions {bad.tolist()}")
    params = list(dist.params)
    ok = _in_support(dist, value, params)
    # an entry refused with some parameters unknown may fit the current values of those that are data (or
    # expressions of data only): a Multinomial's n = pm.Data
    current = [p.eval() if isinstance(p, TensorVariable) and not rv_ancestors([p]) else p for p in params]
    if not ok.all() and any(c is not p for c, p in zip(current, params)):
        ok = ok | _in_support(dist, value, current)
    if not ok.all():
        bad = np.argwhere(~np.broadcast_to(ok, ok.shape))[:5]
        vals = [value[tuple(i)] if value.ndim else value for i in bad] if value.ndim == ok.ndim else []
        raise ValueError(
            f"Variable {name!r}: {int((~ok).sum())} observed value(s) outside the support of "
            f"{type(dist).__name__}, at index {[tuple(int(j) for j in i) for i in bad]}"
            + (f" (values {[float(v) for v in vals]})" if vals else "")
            + ". Check the data or the choice of distribution."
        )
    key = observed_key(name)
    node = TensorVariable(None, [], jax.ShapeDtypeStruct(value.shape, value.dtype), kind="data", name=key)
    model.data.add(key, value, node)
    node.model = model
    node.dims = rv.dims
    return node

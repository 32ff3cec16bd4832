"""A new variable's shape from its dims, `shape=` and `observed=` (PyMC's rules), with the errors that name the
variable, the dims and the lengths found."""

from __future__ import annotations

import numpy as np

from jaxmc.graph import TensorVariable, ancestors
from jaxmc.graph.data_shape import shape_sources
from jaxmc.graph.traversal import convert_foreign


def normalize_dims(name, dims):
    """dims as a tuple of names (a single name allowed), or None."""
    if dims is None:
        return None
    if isinstance(dims, str):
        dims = (dims,)
    dims = tuple(dims)
    for d in dims:
        if d is not None and not isinstance(d, str):
            raise TypeError(f"Variable {name!r}: dims must be names (strings), found {d!r}")
    return dims


def observed_value(name, observed):
    """observed= as a numpy (or masked) array, or a data expression; refused when not numeric."""
    if observed is None:
        return None
    observed = convert_foreign(observed)  # PyTensor expressions of data (pytensor_interop)
    if isinstance(observed, TensorVariable):
        if any(a.kind == "rv" for a in ancestors([observed])):
            raise ValueError(f"Variable {name!r}: observed= must be data, not an expression of "
                             "random variables")
        return observed
    if hasattr(observed, "to_numpy"):
        observed = observed.to_numpy()
    if isinstance(observed, np.ma.MaskedArray):
        return observed
    arr = np.asarray(observed)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Variable {name!r}: observed values must be numeric, found dtype {arr.dtype}")
    return arr


def resolve_shape(dim_lengths, name, dims, shape, observed):
    """The variable's shape from dims, shape= and observed= (None: the parameters decide), and the dims
    whose lengths are still unknown."""
    pending = None
    obs_shape = tuple(observed.shape) if observed is not None else None
    sources = ()
    if shape is not None:
        sources = shape_sources(shape)  # entries read from a pm.Data's shape (X.shape[0]) follow its length
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if dims is not None:
        ref = shape if shape is not None else obs_shape
        if ref is not None and len(ref) != len(dims):
            what = "shape" if shape is not None else "observed data"
            raise ValueError(f"Variable {name!r}: dims {dims} have {len(dims)} entries but the {what} "
                             f"has {len(ref)} dimensions (shape {ref}). Give one dim name per axis.")
        lengths = []
        for i, d in enumerate(dims):
            if d is not None and d in dim_lengths:
                lengths.append(dim_lengths[d])
            elif ref is not None:
                lengths.append(ref[i])
            else:
                lengths.append(None)
        if None in lengths:
            unknown = [d for d, n in zip(dims, lengths) if n is None]
            # the parameters may still define them: decided after the distribution is built
            pending = unknown
            dims_shape = None
        else:
            dims_shape = tuple(lengths)
        if dims_shape is not None:
            if obs_shape is not None and obs_shape != dims_shape:
                raise ValueError(
                    f"Variable {name!r}: observed data has shape {obs_shape} but dims {dims} have "
                    f"lengths {dims_shape} (from the model's coords). Make the data and coords agree."
                )
            if shape is not None and shape != dims_shape:
                raise ValueError(f"Variable {name!r}: shape {shape} disagrees with dims {dims} of "
                                 f"lengths {dims_shape}")
            return dims_shape, pending
    if shape is not None:
        if obs_shape is not None and obs_shape != shape:
            raise ValueError(f"Variable {name!r}: observed data has shape {obs_shape} but shape={shape}")
        _record_followers(name, sources)
        return shape, pending
    if obs_shape is not None:
        return obs_shape, pending
    return None, pending


def _record_followers(name: str, sources) -> None:
    """Note on each pm.Data whose length a shape= entry of variable `name` came from: {name: ((axis of the
    variable, axis of the data), ...)}, read by set_data to give the variable the data's new length."""
    by_node: dict = {}
    for axis, src in enumerate(sources):
        if src is not None and getattr(src[0], "kind", None) == "data":
            by_node.setdefault(src[0], []).append((axis, src[1]))
    for node, axes in by_node.items():
        if not hasattr(node, "shape_followers"):
            node.shape_followers = {}
        node.shape_followers[name] = tuple(axes)


def follow_data_lengths(model, new_values: dict) -> list:
    """[(random variable, its new shape)] for the variables whose shape= came from pm.Data in `new_values`
    ({name: new value}) and whose length changes with them."""
    out = {}
    for dname, value in new_values.items():
        node = model.named_vars.get(dname)
        old = model.data.value(dname)
        for vname, axes in getattr(node, "shape_followers", {}).items():
            rv = model.named_vars.get(vname)
            if rv is None or rv.kind != "rv":
                continue
            shape = list(out[rv] if rv in out else rv.aval.shape)
            if any(shape[a] != old.shape[d] for a, d in axes):  # a stale note (the variable was re-made)
                continue
            for a, d in axes:
                shape[a] = int(np.shape(value)[d])
            out[rv] = tuple(shape)
    return [(rv, s) for rv, s in out.items() if s != tuple(rv.aval.shape)]

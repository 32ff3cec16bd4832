"""A new variable's shape from its dims, `shape=` and `observed=` (PyMC's rules), with the errors that name the
variable, the dims and the lengths found."""

from __future__ import annotations

import numpy as np

from jaxmc.graph import TensorVariable, ancestors
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
    if shape is not None:
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
        return shape, pending
    if obs_shape is not None:
        return obs_shape, pending
    return None, pending

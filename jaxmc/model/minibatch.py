"""`pm.Minibatch`: random rows of data tensors as graph expressions `data[index]`, whose index is a data
argument that `pm.fit` redraws at every iteration inside its compiled loop."""

from __future__ import annotations

import itertools
import numbers

import jax
import numpy as np

from jaxmc import config
from jaxmc.graph import TensorVariable, rv_ancestors, toposort
from jaxmc.model.context import modelcontext
from jaxmc.model.data import as_data_array

_counter = itertools.count()


PENDING: dict[str, np.ndarray] = {}  # values of minibatch data made outside a model, until a model adopts them


def _leaf(name: str, value: np.ndarray, model) -> TensorVariable:
    node = TensorVariable(None, [], jax.ShapeDtypeStruct(value.shape, value.dtype), kind="data", name=name)
    node.dims = None
    if model is not None:
        model.data.add(name, value, node)
        node.model = model
    else:
        PENDING[name] = value
    return node


def Minibatch(variable, *variables, batch_size: int):
    """Random rows (the same rows for every tensor of one call, drawn with replacement as PyMC) of the leading
    axis of data arrays or `pm.Data`; give the likelihood `total_size=` the full number of rows."""
    if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool):
        raise TypeError(f"pm.Minibatch(batch_size=...) must be an int, found {type(batch_size).__name__} "
                        f"{batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"pm.Minibatch(batch_size={batch_size}) must be positive")
    try:
        model = modelcontext(None)
    except TypeError:
        model = None
    k = next(_counter)
    tensors = []
    for i, v in enumerate((variable, *variables)):
        if isinstance(v, TensorVariable):
            if rv_ancestors([v]):
                raise ValueError(f"pm.Minibatch: tensor {i} ({v}) depends on random variables; only data (arrays, "
                                 "pm.Data or expressions of them) can be minibatched")
        else:
            arr = as_data_array(f"minibatch.{i}", v)
            if arr.ndim == 0:
                raise ValueError(f"pm.Minibatch: tensor {i} is a scalar; minibatches take rows of the leading axis")
            v = _leaf(f"minibatch_{k}_data_{i}", arr, model)
        if len(v.shape) == 0:
            raise ValueError(f"pm.Minibatch: tensor {i} is a scalar; minibatches take rows of the leading axis")
        tensors.append(v)
    rows = [int(t.shape[0]) for t in tensors]
    if len(set(rows)) > 1:
        raise ValueError(f"pm.Minibatch: all tensors must have the same number of rows (leading axis); found {rows}")
    index = _leaf(f"minibatch_{k}_index", (np.arange(batch_size) % rows[0]).astype(config.intX()), model)
    index.minibatch_rows = rows[0]
    out = [t[index] for t in tensors]
    for i, o in enumerate(out):
        o.name = f"minibatch.{i}"
    return out if variables else out[0]


def minibatch_indices(model) -> list[TensorVariable]:
    """The minibatch index leaves the model's graph uses; leaves made outside the model (and the data they index)
    join its data now."""
    roots = [*model.basic_RVs, *model.deterministics, *model.potentials]
    extra = [p for rv in model.basic_RVs for p in rv.owner.params if isinstance(p, TensorVariable)]
    extra += [rv.observed for rv in model.observed_RVs if isinstance(rv.observed, TensorVariable)]
    known = set(model.data.nodes)
    out = []
    for node in toposort(roots + extra):
        if node.kind != "data":
            continue
        if node not in known and node.name in PENDING:
            model.data.add(node.name, PENDING.pop(node.name), node)
            node.model = model
            known.add(node)
        if getattr(node, "minibatch_rows", None) is not None:
            out.append(node)
    return out


def uses_minibatch(node) -> bool:
    """Whether an expression reads a minibatch."""
    return isinstance(node, TensorVariable) and any(getattr(n, "minibatch_rows", None) is not None
                                                    for n in toposort([node]))

"""Copies of a model with some variables replaced or observed (the engine of `model.copy()`, `pm.do` and
`pm.observe`), and `Model.set_dim`."""

from __future__ import annotations

import warnings

import jax
import numpy as np

from jaxmc.exceptions import ShapeError
from jaxmc.graph import TensorVariable
from jaxmc.graph.clone import clone_replace, copy_node, graph_order
from jaxmc.model.coords import coord_values as coord_values_of
from jaxmc.model.data import check_indices, observed_key
from jaxmc.model.named import Deterministic


def rebuild_model(model, interventions: dict | None = None, observations: dict | None = None, skip=(),
                  dim_lengths: dict | None = None):
    """A new root model with the variables of `model` (registration order, names, dims, transforms), where
    `interventions` ({variable: (kind, new)}: kind "data" (an array), "det" (an expression of the old model's
    variables) or "named" (a constant node or an expression of data)) replace variables and `observations`
    ({RV: array}) turn RVs into observed ones; variables named in `skip` are left out; `dim_lengths` ({dim:
    length}) resizes dims, dropping their coordinate values until `set_dim` gives new ones. Returns (model,
    memo)."""
    root = model.root
    interventions, observations = interventions or {}, observations or {}
    new = type(root)(check_bounds=root.check_bounds, model=None)
    new.coords.update(root.coords)
    dict.update(new.dim_lengths, dict(root.dim_lengths))
    for dim, length in (dim_lengths or {}).items():
        dict.__setitem__(new.dim_lengths, dim, int(length))
        new.coords[dim] = None
    memo: dict = {}

    def clone(nodes):
        later = [n.name for n in graph_order(nodes) if n.kind in ("rv", "data") and n not in memo
                 and root.named_vars.get(n.name) is n]
        if later:
            raise ValueError(f"{later} used before defined in the model (or removed from it): an "
                             "intervention may only use variables defined before the one it replaces")
        return clone_replace(nodes, memo=memo, copy_all=True)

    for name, node in root.named_vars.items():
        if name in skip or node in memo:
            continue
        dims = root.named_vars_to_dims.get(name)
        if any(node is d for d in root.data_vars) and node not in interventions:
            memo[node] = new.register_data(name, np.array(root.data.value(name)), dims)
        elif node in interventions:
            kind, value = interventions[node]
            if kind == "data":
                memo[node] = new.register_data(name, value, dims)
                continue
            if any(a is node for a in graph_order([value])):
                warnings.warn(f"Intervention expression references the variable that is being intervened: "
                              f"{name}. Intervention will be given the name: do_{name}")
                memo[node] = _copy_rv(new, root, name, node, dims, observations, clone)
                name = f"do_{name}"
            (expr,) = clone([value])
            if kind == "det":
                memo[node] = Deterministic(name, expr, dims=dims, model=new)
            else:
                expr.name = name
                memo[node] = new.add_named_variable(expr, dims)
        elif node.kind == "rv":
            memo[node] = _copy_rv(new, root, name, node, dims, observations, clone)
        else:
            (copy,) = clone([node])
            if any(node is d for d in root.deterministics):
                memo[node] = new.add_deterministic(copy, name, dims)
            elif any(node is p for p in root.potentials):
                memo[node] = new.add_potential(copy, name, dims)
            else:
                memo[node] = new.add_named_variable(copy, dims)
    return new, memo


def _copy_rv(new, root, name, rv, dims, observations, clone):
    """Register a copy of random variable `rv` (with copied parameters) in `new`."""
    params = [p for p in rv.owner.params if isinstance(p, TensorVariable)]
    copy = TensorVariable(None, [], rv.aval, kind="rv")
    copy.owner = copy_node(rv, dict(zip(params, clone(params)))).owner
    if dims is not None:  # a dim resized by pm.observe
        shape = tuple(new.dim_lengths[d] if d is not None else n for d, n in zip(dims, rv.shape))
        if shape != tuple(rv.shape):
            copy.aval = jax.ShapeDtypeStruct(shape, rv.dtype)
            copy.owner.shape, copy.owner.batch_shape = shape, shape[:len(shape) - copy.owner.ndim_supp]
    copy.model = None
    initval = None
    if rv in observations:
        observed = observations[rv]
    elif rv.observed is not None:
        key = rv.observed.name
        observed = np.array(root.data.value(key)) if key == observed_key(name) else clone([rv.observed])[0]
    else:
        observed, initval = None, root.rvs_to_initial_values.get(rv)
    t = root.rvs_to_transforms.get(rv)
    return new.register_rv(copy, name, dims=dims, observed=observed, initval=initval,
                           default_transform=t if observed is None else None,
                           total_size=root.rvs_to_total_sizes.get(rv))


def set_dim(model, name: str, new_length: int, coord_values=None) -> None:
    """PyMC's `Model.set_dim`: a new length (and coordinate values, required where the dim has them) for a
    dim created through coords or by a random variable; a dim that pm.Data defines changes with set_data."""
    if name not in model.dim_lengths:
        raise KeyError(f"set_dim: the model has no dim {name!r}; dims: {sorted(model.dim_lengths)}")
    if coord_values is None and model.coords.get(name) is not None:
        raise ValueError(f"'{name}' has coord values. Pass `set_dim(..., coord_values=...)` to update them.")
    if coord_values is not None and len(coord_values) != new_length:
        raise ShapeError(f"set_dim({name!r}): {len(coord_values)} coordinate values but new length "
                         f"{new_length}")
    data = [n.name for n in model.data_vars if name in (n.dims or ())]
    if not data:  # indices held in data must stay in range of the resized dim
        check_indices(model, dim_lengths={**model.dim_lengths, name: int(new_length)}, prefix="set_dim: ")
    if data:
        raise TypeError(f"set_dim({name!r}): the length of this dim comes from pm.Data {data}; change it with "
                        f"pm.set_data({{{data[0]!r}: new_values}}, coords={{{name!r}: ...}})")
    if coord_values is not None:
        model.coords[name] = coord_values_of(name, coord_values)  # labels keep their dtype
    dict.__setitem__(model.dim_lengths, name, int(new_length))
    for rv in model.free_RVs:  # free variables on the dim get the new shape (observed ones follow their data)
        if name in (rv.dims or ()):
            shape = tuple(model.dim_lengths[d] if d is not None else n for d, n in zip(rv.dims, rv.shape))
            rv.aval = jax.ShapeDtypeStruct(shape, rv.dtype)
            rv.owner.shape, rv.owner.batch_shape = shape, shape[:len(shape) - rv.owner.ndim_supp]
            model.rvs_to_initial_values.pop(rv, None)
    model.graph_version += 1

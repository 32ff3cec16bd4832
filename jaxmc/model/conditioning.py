"""`pm.do` and `pm.observe` (PyMC's `pymc.model.transform.conditioning`): new models in which variables are
replaced by interventions or turned into observed ones; the original model is left unchanged."""

from __future__ import annotations

import numpy as np

from jaxmc.graph import TensorVariable, constant, rv_ancestors
from jaxmc.graph.clone import graph_order
from jaxmc.model.clone import rebuild_model
from jaxmc.model.data import as_data_array
from jaxmc.model.imputation import has_missing


def _lookup(model, var, what: str):
    if isinstance(var, str):
        if var not in model:
            raise KeyError(f"{what}: the model has no variable named {var!r}; it has {sorted(model.named_vars)}")
        return model[var]
    return var


def _checked_value(var, value, what: str, resizable=()) -> np.ndarray:
    """An intervention or observation as an array of the variable's shape and dtype (axes whose dims are in
    `resizable` may differ in length)."""
    arr = np.asarray(value.to_numpy() if hasattr(value, "to_numpy") else value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what}: the value for {var.name!r} must be numeric, found dtype {arr.dtype}")
    dims = getattr(var, "dims", None) or (None,) * var.ndim
    if arr.ndim == var.ndim and all(a == n or d in resizable for a, n, d in zip(arr.shape, var.shape, dims)):
        return arr
    if arr.shape != tuple(var.shape):
        raise TypeError(f"{what}: the value for {var.name!r} has shape {arr.shape} but the variable has shape "
                        f"{tuple(var.shape)}; give a value of the variable's shape")
    return arr


def do(model, vars_to_interventions: dict, *, make_interventions_shared: bool = True, prune_vars: bool = False):
    """A new model in which the given variables (objects or names) are replaced by interventions, as PyMC:
    a constant becomes a `pm.Data` of the variable's name and dims (change it with `pm.set_data`), an
    expression of other random variables a Deterministic; the variable's own parents no longer matter.

    `prune_vars=True` then drops the variables that no observed variable depends on."""
    root = model.root
    interventions = {}
    for var, value in vars_to_interventions.items():
        var = _lookup(root, var, "do")
        if not any(var is v for v in root.named_vars.values()):
            raise ValueError(f"do: {var!r} is not a named variable of the model")
        if isinstance(value, TensorVariable):
            if tuple(value.shape) != tuple(var.shape):
                raise TypeError(f"do: the intervention for {var.name!r} has shape {tuple(value.shape)} but the "
                                f"variable has shape {tuple(var.shape)}")
            kind = "det" if rv_ancestors([value]) else "named"
            interventions[var] = (kind, value)
        else:
            arr = _checked_value(var, value, "do")
            arr = as_data_array(var.name, arr.astype(var.dtype) if var.dtype.kind in "iub" else arr)
            interventions[var] = ("data", arr) if make_interventions_shared else ("named", constant(arr))
    new, _ = rebuild_model(root, interventions=interventions)
    return prune_vars_detached_from_observed(new) if prune_vars else new


def observe(model, vars_to_observations: dict):
    """A new model in which the given free (or already observed) random variables are observed with the
    given data, as PyMC; the data must have the variable's shape, except along a dim that no pm.Data defines:
    the dim then takes the data's length, and its coordinate values are dropped until `model.set_dim(dim,
    length, coord_values=...)` gives new ones."""
    root = model.root
    observations, resized = {}, {}
    data_dims = {d for n in root.data_vars for d in (n.dims or ()) if d is not None}
    for var, value in vars_to_observations.items():
        var = _lookup(root, var, "observe")
        if any(var is d for d in root.deterministics):
            raise NotImplementedError(f"observe: {var.name!r} is a Deterministic; jaxmc observes random "
                                      "variables only (write the likelihood with pm.CustomDist)")
        if not any(var is r for r in root.basic_RVs):
            raise ValueError(f"observe: {var!r} is not a random variable of the model")
        arr = _checked_value(var, value, "observe", resizable=set(root.dim_lengths) - data_dims)
        for d, a, n in zip(getattr(var, "dims", None) or (), arr.shape, var.shape):
            if a != n:  # the data give the dim a new length (PyMC: shapes follow; set_dim gives new labels)
                if resized.setdefault(d, a) != a:
                    raise ValueError(f"observe: the data give dim {d!r} lengths {resized[d]} and {a}")
        if has_missing(arr):
            raise NotImplementedError(f"observe: the data for {var.name!r} have missing values; build the model "
                                      "with observed= to impute them")
        observations[var] = arr
    return rebuild_model(root, observations=observations, dim_lengths=resized)[0]


def prune_vars_detached_from_observed(model):
    """A copy of the model without the variables that no observed variable depends on (data are kept)."""
    if model.potentials:
        raise NotImplementedError("Pruning not implemented for models with Potentials")
    needed = {n.id for n in graph_order(model.observed_RVs)}
    skip = {name for name, node in model.named_vars.items()
            if node.id not in needed and not any(node is d for d in model.data_vars)}
    return rebuild_model(model, skip=skip)[0]

"""Named expressions of a model: `pm.Deterministic` (recorded in the posterior) and `pm.Potential` (an extra
term of the log density)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxmc.graph import TensorVariable
from jaxmc.graph.traversal import convert_foreign
from jaxmc.model.context import modelcontext


def Deterministic(name: str, var, dims=None, model=None) -> TensorVariable:
    """A named function of other variables, recorded in the posterior."""
    node, dims = _named_node(name, var, dims)
    return modelcontext(model).add_deterministic(node, name, dims)


def Potential(name: str, var, dims=None, model=None) -> TensorVariable:
    """An extra additive term of the model log density."""
    node, dims = _named_node(name, var, dims)
    return modelcontext(model).add_potential(node, name, dims)


def _identity(x):
    return x


def _named_node(name, var, dims):
    """A node of its own for a Deterministic or Potential (identity over an expression, or a constant)."""
    if isinstance(dims, str):
        dims = (dims,)
    if dims is not None and not isinstance(dims, (tuple, list)):
        raise TypeError(f"Variable {name!r}: dims must be a dim name or a tuple of them, found "
                        f"{type(dims).__name__} {dims!r}")
    var = convert_foreign(var)  # PyTensor expressions (pytensor_interop)
    if isinstance(var, TensorVariable):
        node = TensorVariable(_identity, [var], var.aval, kind="det")
    else:
        try:
            const = jnp.asarray(var)
        except TypeError:
            raise TypeError(f"Variable {name!r}: the value must be numeric (an expression of model variables, a "
                            f"number or an array), found {type(var).__name__} {var!r}") from None
        node = TensorVariable(lambda: const, [], jax.ShapeDtypeStruct(const.shape, const.dtype), kind="det")
    return node, (tuple(dims) if dims else None)

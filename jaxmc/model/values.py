"""Value variables: the graph leaves that stand for a free variable's (unconstrained) value in `model.logp()`,
`model.value_vars` and `model.compile_fn`; expressions over them evaluate with values given by name."""

from __future__ import annotations

import jax
import numpy as np

from jaxmc import config
from jaxmc.graph import TensorVariable, apply, is_node, toposort


def _no_value(name):
    def op():
        raise ValueError(f"Value variable {name!r} has no value: give one, e.g. expr.eval({{{name!r}: value}}) "
                         "or model.compile_fn(expr)(point)")

    return op


class ValueVariable(TensorVariable):
    """The value of free variable `rv` in the space the sampler sees (PyMC's `x_log__` names): `name`, `rv`,
    `transform` (None: the variable's own space) and the unconstrained `shape`."""

    def __init__(self, rv, transform, name: str, shape: tuple):
        dtype = config.floatX() if transform is not None else rv.dtype
        super().__init__(_no_value(name), [], jax.ShapeDtypeStruct(tuple(shape), dtype), kind="value",
                         name=name)
        self.rv = rv
        self.transform = transform

    def __repr__(self):
        return self.name


class ValueExpression(TensorVariable):
    """An expression over value variables (`model.logp()`, `model.replace_rvs_by_values`): `.eval` takes the
    values by variable or by name."""

    def eval(self, values: dict | None = None):
        return TensorVariable.eval(self, by_node(self, values or {}))


def by_node(node, values: dict) -> dict:
    """`values` with names of value variables that `node` depends on replaced by the variables."""
    names = {n.name: n for n in toposort([node]) if n.kind == "value"}
    return {names.get(k, k) if isinstance(k, str) else k: v for k, v in values.items()}


def as_expression(x):
    """Mark freshly built node(s) as value expressions (a node, or a list of them)."""
    if isinstance(x, (list, tuple)):
        return [as_expression(v) for v in x]
    if is_node(x) and type(x) is TensorVariable:
        x.__class__ = ValueExpression
    return x


def value_variable(model, rv) -> ValueVariable:
    """The model's value variable of free variable `rv`, the same node on every call while its transform and
    shape stay (kept in the root model)."""
    cache = model.root.value_var_cache
    t = model.rvs_to_transforms.get(rv)
    shape = tuple(t.unconstrained_shape(rv.shape)) if t is not None else tuple(rv.shape)
    vv = cache.get(rv)
    if vv is None or vv.transform is not t or vv.shape != shape:
        name = f"{rv.name}_{t.name}__" if t is not None else rv.name
        vv = cache[rv] = ValueVariable(rv, t, name, shape)
    return vv


def constrained_value(vv: ValueVariable, params) -> TensorVariable:
    """The free variable's value in its own space, as an expression of its value variable and parameters."""
    if vv.transform is None:
        return vv
    t = vv.transform
    return apply(lambda y, *p: t.backward(y, *p), vv, *params)


def is_discrete(vv) -> bool:
    return np.issubdtype(vv.rv.dtype, np.integer) or vv.rv.dtype == np.bool_

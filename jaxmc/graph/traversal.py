"""Walking a model graph: the node type every graph module knows (`Node`), topological order, leaves, and
evaluation of outputs given values of the leaves."""

from __future__ import annotations

import jax
import jax.numpy as jnp


class Node:
    """What graph code needs of a node: `inputs`, `kind` ("op", "rv", "data", "det", "multi"), `op`, `aval`,
    `id` (creation order); `TensorVariable` is the one implementation."""


_CONVERTERS: list = []


def register_converter(convert) -> None:
    """Let jaxmc accept foreign expressions: `convert(x)` returns a node or array for an object it knows (e.g.
    a PyTensor variable, see pytensor_interop) and None for any other."""
    _CONVERTERS.append(convert)


def convert_foreign(x):
    """x as a node or array if a registered converter knows it, else x unchanged."""
    for convert in _CONVERTERS:
        out = convert(x)
        if out is not None:
            return out
    return x


def foreign_converters() -> tuple:
    """The registered converters (empty when no foreign library is in use)."""
    return tuple(_CONVERTERS)


def bind(fn, leaves: list, treedef, dyn: list):
    """fn as a function of the node leaves only: `op(*values)` puts values at positions `dyn` of the flattened
    (args, kwargs) `leaves` and calls fn."""

    def op(*vals):
        filled = list(leaves)
        for i, v in zip(dyn, vals):
            filled[i] = v
        a, k = jax.tree_util.tree_unflatten(treedef, filled)
        return fn(*a, **k)

    return op


def is_node(x) -> bool:
    return isinstance(x, Node)


def aval_of(x) -> jax.ShapeDtypeStruct:
    """Shape and dtype of a node or an array."""
    if is_node(x):
        return x.aval
    x = jnp.asarray(x)
    return jax.ShapeDtypeStruct(x.shape, x.dtype)


def toposort(outputs, dependencies=None) -> list[Node]:
    """Nodes reachable from outputs, inputs before the nodes that use them (iterative, any depth);
    `dependencies(node)` replaces `node.inputs` as what a node depends on."""
    order, seen = [], set()
    stack = [(n, False) for n in outputs if is_node(n)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node.id in seen:
            continue
        seen.add(node.id)
        stack.append((node, True))
        for inp in reversed(node.inputs if dependencies is None else dependencies(node)):
            if inp.id not in seen:
                stack.append((inp, False))
    return order


def ancestors(outputs, kinds=("rv", "data")) -> list[Node]:
    """Leaves of the given kinds that outputs depend on."""
    return [n for n in toposort(outputs) if n.kind in kinds]


def evaluate(outputs, env: dict) -> list:
    """Values of outputs (nodes or constants), given `env` {leaf node: value}; env is extended in place
    with every intermediate node so that repeated calls share work."""
    for node in toposort(outputs):
        if node in env:
            continue
        if node.kind in ("rv", "data"):
            raise KeyError(node)
        env[node] = node.op(*[env[i] for i in node.inputs])
    return [env[o] if is_node(o) else o for o in outputs]

"""Copies of a model graph with some nodes replaced (PyMC's `clone_replace`): the basis of `pm.do`,
`pm.observe`, `model.copy()` and `model.replace_rvs_by_values`."""

from __future__ import annotations

import jax

from jaxmc.graph.node import TensorVariable
from jaxmc.graph.traversal import Node, is_node, toposort

#: attributes a copy gets from its node other than these (set by the copy itself)
_OWN = ("op", "inputs", "aval", "kind", "name", "id", "owner")


def dependencies(node: Node) -> list[Node]:
    """What a node is computed from: its inputs, and for a random variable its distribution's parameters."""
    deps = list(node.inputs)
    if node.kind == "rv" and node.owner is not None:
        deps += [p for p in node.owner.params if is_node(p)]
    return deps


def graph_order(outputs) -> list[Node]:
    """Nodes that outputs depend on (through random variables' parameters too), dependencies first."""
    return toposort(outputs, dependencies)


def copy_node(node: Node, memo: dict) -> TensorVariable:
    """A new node like `node` whose dependencies are looked up in `memo` (a random variable gets a copy of its
    distribution with the new parameters); the name is kept, registrations in a model are not."""
    inputs = [memo.get(i, i) for i in node.inputs]
    aval = node.aval
    if node.kind in ("op", "det") and any(n.aval != o.aval for n, o in zip(inputs, node.inputs)):
        # an input changed shape (a dim resized by pm.observe): the expression's shape follows
        aval = inputs[0].aval if node.kind == "det" else jax.eval_shape(node.op, *[i.aval for i in inputs])
    new = TensorVariable(node.op, inputs, aval, kind=node.kind, name=node.name)
    for k, v in vars(node).items():
        if k not in _OWN:
            setattr(new, k, v)
    if node.kind == "rv" and node.owner is not None:
        dist = object.__new__(type(node.owner))
        vars(dist).update(vars(node.owner))
        dist.params = [memo.get(p, p) if is_node(p) else p for p in node.owner.params]
        new.owner = dist
    return new


def clone_replace(outputs, replace: dict | None = None, memo: dict | None = None, *,
                  copy_all: bool = False) -> list:
    """Outputs with the nodes in `replace` ({old: new}) replaced; nodes that depend on a replaced node are
    copied, the others are shared unless `copy_all`. `memo` ({old: new}, extended in place) carries
    replacements across calls."""
    memo = {} if memo is None else memo
    memo.update(replace or {})
    for node in graph_order(outputs):
        if node in memo:
            continue
        deps = dependencies(node)
        if not copy_all and all(memo.get(d, d) is d for d in deps):
            continue
        memo[node] = copy_node(node, memo)
    return [memo.get(o, o) if is_node(o) else o for o in outputs]

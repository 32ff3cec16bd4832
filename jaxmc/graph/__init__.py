"""The symbolic model graph: nodes (`node`), walking and evaluating them (`traversal`) and ancestral sampling
(`ancestral`). Model expressions are built from `TensorVariable`s; `evaluate` turns outputs into arrays given
values for the leaves."""

from jaxmc.graph.ancestral import ancestral_sample, current_data_env, data_leaves, draw, eval_node, prng_key, \
    rv_ancestors, rv_shape
from jaxmc.graph.node import TensorVariable, apply, as_node_or_array, constant
from jaxmc.graph.traversal import Node, ancestors, aval_of, evaluate, is_node, toposort

__all__ = ["Node", "TensorVariable", "ancestral_sample", "ancestors", "apply", "as_node_or_array", "aval_of",
           "constant", "current_data_env", "data_leaves", "draw", "eval_node", "evaluate", "is_node",
           "prng_key", "rv_ancestors", "rv_shape", "toposort"]

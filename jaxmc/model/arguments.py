"""Checks of the arguments of a new variable that name it: `shape=`, `transform=`, `total_size=`, and that the
variables it uses belong to its model."""

from __future__ import annotations

import numpy as np

from jaxmc.graph import TensorVariable
from jaxmc.model.context import UNSET


def check_shape_argument(name, shape, what: str = "shape") -> None:
    """`shape=` (or `size=`) must be an int or a sequence of non-negative ints (2.5, "3" or None entries are
    refused, naming the variable)."""
    if shape is None:
        return
    for s in shape if isinstance(shape, (tuple, list)) else (shape,):
        if isinstance(s, (bool, np.bool_)) or not hasattr(s, "__index__"):
            raise TypeError(f"Variable {name!r}: {what} must be an int or a tuple of ints, found {shape!r}")
        if isinstance(s, (int, np.integer)) and s < 0:
            raise ValueError(f"Variable {name!r}: {what} {shape!r} has a negative length")


def check_transform_and_size(name, transform, default_transform, total_size) -> None:
    """transform= and default_transform= must be transforms (or None), total_size= an int or a sequence of ints,
    None or Ellipsis (PyMC's minibatch scaling)."""
    for what, t in (("transform", transform), ("default_transform", default_transform)):
        if t is not UNSET and t is not None and not (hasattr(t, "forward") and hasattr(t, "backward")):
            raise TypeError(f"Variable {name!r}: {what} must be a transform (e.g. pm.distributions.transforms.log) "
                            f"or None, found {type(t).__name__} {t!r}")
    if total_size is None:
        return
    for s in total_size if isinstance(total_size, (tuple, list)) else (total_size,):
        if s is None or s is Ellipsis:
            continue
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)) or s < 1:
            raise TypeError(f"Variable {name!r}: total_size must be a positive int or a tuple of them (None or "
                            f"Ellipsis allowed), found {total_size!r}")


def check_same_model(model, name, inputs) -> None:
    """The named variables that `inputs` (a new variable's parameters or expression) use must belong to `model`'s
    tree of models: a variable of another model is refused, naming both."""
    root, stack, seen = model.root, list(inputs), set()
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(node)
            continue
        if not isinstance(node, TensorVariable) or id(node) in seen:
            continue
        seen.add(id(node))
        owner_model = getattr(node, "model", None)
        if node.name is not None and owner_model is not None:
            if owner_model.root is not root:
                raise ValueError(f"Variable {name!r} uses {node.name!r}, a variable of another model; a variable "
                                 f"can only use variables of its own model. Create {node.name!r} in this model "
                                 "(inside the same `with pm.Model():` block)")
            continue  # a variable of this model: its own inputs were checked when it was added
        stack.extend(node.inputs)
        if node.kind == "rv" and node.owner is not None:
            stack.extend(getattr(node.owner, "params", ()) or ())

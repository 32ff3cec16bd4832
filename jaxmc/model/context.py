"""The stack of models entered with `with pm.Model():` (per thread) and `modelcontext`, which finds the model a
new variable belongs to; `UNSET` marks an argument not given (where None means something)."""

from __future__ import annotations

import threading

#: an argument that was not given (`transform=None` means "no transform", so None cannot mark it)
UNSET = object()

_stack = threading.local()


def model_stack() -> list:
    """The models entered in this thread, innermost last."""
    if not hasattr(_stack, "models"):
        _stack.models = []
    return _stack.models


def modelcontext(model=None):
    """The given model, or the innermost one of the `with` stack."""
    if model is not None:
        if not (hasattr(model, "named_vars") and hasattr(model, "root")):  # a pm.Model (not imported: a cycle)
            raise TypeError(f"model= must be a pm.Model, found {type(model).__name__} {model!r}")
        return model
    models = model_stack()
    if not models:
        raise TypeError("No model on context stack: use `with pm.Model() as model:` (or pass model=).")
    return models[-1]

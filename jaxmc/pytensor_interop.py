"""PyTensor interoperability: `pytensor.tensor` functions accept jaxmc variables, and PyTensor expressions given to
jaxmc become graph nodes through PyTensor's own JAX backend (docs/pytensor.md). Imports PyTensor only when used."""

from __future__ import annotations

import functools
import importlib.abc
import sys
import weakref

import numpy as np

from jaxmc import math as jmath
from jaxmc.graph.node import TensorVariable, apply
from jaxmc.graph.traversal import register_converter

# ====================================================================== jaxmc -> PyTensor


def as_pytensor(node: TensorVariable):
    """The PyTensor input that stands for a jaxmc variable in PyTensor expressions (one per variable).

    Its shape is the variable's static shape, except for data containers (`pm.Data`), whose lengths stay
    unknown to PyTensor so that its rewrites bake no length into the graph that `pm.set_data` could change."""
    ph = getattr(node, "pytensor_input", None)
    if ph is None or ph.tag.jaxmc_node is not node:  # (a copy of a node, graph/clone.py, gets its own)
        import pytensor.tensor as pt

        shape = (None,) * node.ndim if node.kind == "data" else node.shape
        ph = pt.tensor(name=node.name, dtype=str(np.dtype(node.dtype)), shape=shape)
        ph.tag.jaxmc_node = node
        node.pytensor_input = ph
    return ph


def _as_tensor_variable(x, name=None, ndim=None, **kwargs):
    """PyTensor's `as_tensor_variable` for jaxmc variables (registered in its single-dispatch table)."""
    import pytensor.tensor as pt

    return pt.as_tensor_variable(as_pytensor(x), ndim=ndim)


def register_with_pytensor(tensor_module) -> None:
    """Make `pytensor.tensor` (the module given) accept jaxmc variables wherever it accepts tensors, and
    `pytensor.gradient`'s gradient ops too (they call their Op without `as_tensor_variable`)."""
    dispatch = tensor_module._as_tensor_variable
    dispatch.register(TensorVariable)(_as_tensor_variable)
    for seq_type in (list, tuple):  # pt.as_tensor_variable([a, b]) with jaxmc variables a, b
        if not getattr(dispatch.dispatch(seq_type), "accepts_jaxmc", False):
            dispatch.register(seq_type)(_accepting_jaxmc(dispatch.dispatch(seq_type), in_sequence=True))
    gradient = sys.modules.get("pytensor.gradient")  # imported by `pytensor` before `pytensor.tensor`
    for name in ("disconnected_grad", "zero_grad", "grad_clip", "grad_scale"):
        fn = getattr(gradient, name, None)
        if fn is not None and not getattr(fn, "accepts_jaxmc", False):
            setattr(gradient, name, _accepting_jaxmc(fn))


def _accepting_jaxmc(fn, in_sequence=False):
    """fn with jaxmc variables as its first argument (or among its items) replaced by their PyTensor inputs."""

    def convert(x):
        return as_pytensor(x) if isinstance(x, TensorVariable) else x

    @functools.wraps(fn)
    def wrapped(x, *args, **kwargs):
        if in_sequence and any(isinstance(i, TensorVariable) for i in x):
            return fn(type(x)(convert(i) for i in x), *args, **kwargs)
        return fn(x if in_sequence else convert(x), *args, **kwargs)

    wrapped.accepts_jaxmc = True
    return wrapped


class PytensorImportHook(importlib.abc.MetaPathFinder):
    """Registers jaxmc variables with PyTensor right after `pytensor.tensor` is imported, then leaves
    `sys.meta_path`: it finds no module itself, it only wraps the loader that the other finders return."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "pytensor.tensor":
            return None
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module):
            run(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            register_with_pytensor(module)

        loader.exec_module = exec_module  # this spec's own loader object
        return spec


def install() -> None:
    """Register now if PyTensor is loaded, else when it is (jaxmc never imports PyTensor itself)."""
    tensor = sys.modules.get("pytensor.tensor")
    if tensor is not None and hasattr(tensor, "_as_tensor_variable"):
        register_with_pytensor(tensor)
    elif not any(isinstance(f, PytensorImportHook) for f in sys.meta_path):
        sys.meta_path.insert(0, PytensorImportHook())


# ====================================================================== PyTensor -> jaxmc

_converted: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # PyTensor variable -> node or array


def from_pytensor(x):
    """The converter registered with jaxmc's graph: a node (or array) for a PyTensor variable, else None."""
    basic = sys.modules.get("pytensor.graph.basic")
    if basic is None or not isinstance(x, basic.Variable):
        return None
    return to_node(x)


def to_node(var):
    """A jaxmc node computing PyTensor expression `var` (an array when it depends on no jaxmc variable).

    PyTensor inputs that stand for jaxmc variables map back to them; `pytensor.shared` variables become
    constants of their current value (a later `set_value` is not seen: change data with pm.Data and
    pm.set_data); the graph is rewritten as PyTensor's JAX mode does and turned into a JAX function by
    `jax_funcify`. Those rewrites drop `disconnected_grad`, `zero_grad`, `grad_clip` and `grad_scale`, as
    PyMC's do before it differentiates a model's log density: the gradient is PyMC's. Conversions are
    memoised."""
    if hasattr(var.tag, "jaxmc_node"):  # the input standing for a jaxmc variable
        return var.tag.jaxmc_node
    try:
        return _converted[var]
    except KeyError:
        pass
    import pytensor.tensor as pt

    orig = var
    if not isinstance(var.type, pt.TensorType):
        try:
            var = pt.as_tensor_variable(var)
        except (TypeError, NotImplementedError, ValueError):
            raise TypeError(f"jaxmc cannot use PyTensor variable {orig} of type {orig.type}: only tensors "
                            "(pytensor.tensor expressions) convert to jaxmc expressions.") from None
    out = _special_output(var)
    if out is None:
        out = _compile(var)
    _converted[orig] = out
    return out


def _special_output(var):
    """sigmoid and (log-)softmax of one input become jaxmc's own pm.math functions, which jaxmc's numerically
    stable rewrites recognise (e.g. Bernoulli(p=pt.sigmoid(x)))."""
    from pytensor.scalar.math import Sigmoid
    from pytensor.tensor.elemwise import Elemwise
    from pytensor.tensor.special import LogSoftmax, Softmax

    owner = var.owner
    if owner is None or len(owner.inputs) != 1:
        return None
    op = owner.op
    if isinstance(op, Elemwise) and isinstance(op.scalar_op, Sigmoid):
        return jmath.invlogit(to_node(owner.inputs[0]))
    if type(op) in (Softmax, LogSoftmax):
        fn = jmath.softmax if type(op) is Softmax else jmath.log_softmax
        axis = op.axis if op.axis is None or isinstance(op.axis, int) else tuple(op.axis)
        return fn(to_node(owner.inputs[0]), axis=axis)
    return None


def _outer_graph(var):
    """(leaves, ops) of the graph of var: its inputs without an owner and the ops met."""
    leaves, ops, seen, stack = [], [], set(), [var]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if v.owner is None:
            leaves.append(v)
        else:
            ops.append(v.owner.op)
            stack.extend(v.owner.inputs)
    return leaves, ops


def _check_ops(ops, var):
    from pytensor.tensor.random.op import RandomVariable

    for op in ops:
        if isinstance(op, RandomVariable):
            raise TypeError(
                f"PyTensor expression {var} draws a random variable ({op}): jaxmc cannot use PyTensor's (or "
                "PyMC's) random variables. Create random variables with jaxmc, e.g. `pm.Normal(...)` with "
                "`import jaxmc as pm`.")


def _compile(var):
    import pytensor.tensor as pt
    from pytensor.compile.mode import get_mode
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Constant
    from pytensor.graph.fg import FunctionGraph
    from pytensor.graph.replace import clone_replace
    from pytensor.link.jax.dispatch import jax_funcify
    from pytensor.tensor.random.type import RandomType

    leaves, ops = _outer_graph(var)
    _check_ops(ops, var)
    inputs, replace = [], {}
    for v in leaves:
        if isinstance(v, Constant):
            continue
        if hasattr(v.tag, "jaxmc_node"):
            inputs.append(v)
        elif isinstance(v.type, RandomType):
            raise TypeError(f"PyTensor expression {var} uses a random number generator ({v}): jaxmc cannot use "
                            "PyTensor's (or PyMC's) random variables; create them with jaxmc (`pm.Normal(...)` "
                            "with `import jaxmc as pm`).")
        elif isinstance(v, SharedVariable):
            replace[v] = pt.constant(v.get_value(), dtype=v.type.dtype)
        else:
            raise TypeError(
                f"PyTensor expression {var} depends on the free input {v} ({v.type}), which is not a jaxmc "
                "variable: jaxmc has no value for it. Use a jaxmc random variable, pm.Data, a constant, or "
                "pytensor.shared(value) instead.")
    out = clone_replace([var], replace=replace)[0] if replace else var
    fgraph = FunctionGraph(inputs, [out], clone=True)
    get_mode("JAX").optimizer.rewrite(fgraph)
    try:
        fn = jax_funcify(fgraph)
    except NotImplementedError as err:
        raise NotImplementedError(f"PyTensor expression {var} cannot become a jaxmc expression: PyTensor's JAX "
                                  f"backend lacks an operation of it ({err}). Write it with pm.math functions "
                                  "instead.") from None

    def pytensor_graph(*values):
        return fn(*values)[0]

    nodes = [ph.tag.jaxmc_node for ph in inputs]
    if not nodes:
        return np.asarray(pytensor_graph())
    return apply(pytensor_graph, *nodes)


register_converter(from_pytensor)
install()

__all__ = ["PytensorImportHook", "as_pytensor", "from_pytensor", "install", "register_with_pytensor", "to_node"]

"""The model graph's node: `TensorVariable`, a leaf (random variable, data container) or a jax.numpy callable
applied to other nodes and constants; arithmetic, indexing and numpy functions on nodes build nodes."""

from __future__ import annotations

import itertools
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import cpu_ops
from jaxmc.graph import index_bounds
from jaxmc.graph.ancestral import eval_node
from jaxmc.graph.data_shape import DataShape
from jaxmc.graph.rewrites import stable_form
from jaxmc.graph.traversal import Node, bind, convert_foreign, evaluate, foreign_converters, toposort
from jaxmc.graph.traversal import is_node as _is_node

_counter = itertools.count()


class TensorVariable(Node):
    """A node of a model graph.

    kind: "op" (op applied to inputs), "rv" (a random variable), "data" (a `pm.Data` container or observed
    values) or "det" (a named deterministic, identity over its single input).
    """

    __array_priority__ = 1000

    def __init__(self, op, inputs, aval, kind="op", name=None):
        self.op: Callable | None = op
        self.inputs: tuple[TensorVariable, ...] = tuple(inputs)
        self.aval: jax.ShapeDtypeStruct = aval
        self.kind = kind
        self.name = name
        self.id = next(_counter)
        # set for kind == "rv": the distribution instance that owns this variable
        self.owner = None

    # --- static facts -------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        if self.kind == "data":  # lengths that remember their data axis (shape=X.shape follows set_data)
            return DataShape(self, self.aval.shape)
        return tuple(self.aval.shape)

    @property
    def ndim(self) -> int:
        return len(self.aval.shape)

    @property
    def dtype(self):
        return self.aval.dtype

    @property
    def size(self) -> int:
        return int(np.prod(self.aval.shape, dtype=int))

    def __len__(self):
        if not self.shape:
            raise TypeError(f"len() of a scalar variable {self.label()}")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError(f"iteration over a scalar variable {self.label()}")
        return (self[i] for i in range(self.shape[0]))

    def __float__(self):
        return float(np.asarray(self))

    def __bool__(self):
        raise TypeError(
            f"The truth value of a model variable {self.label()} is not known while building the model; "
            "use pm.math.switch(cond, a, b) (or pm.math.where) instead of Python `if`/`and`/`or`."
        )

    def label(self):
        return repr(self.name) if self.name else f"<{self.kind} shape={self.shape}>"

    def __repr__(self):
        if self.name:
            return f"{self.name} ~ {type(self.owner).__name__}" if self.kind == "rv" else f"{self.name}"
        return f"TensorVariable(shape={self.shape}, dtype={self.dtype})"

    def __hash__(self):
        return self.id

    # --- evaluation ---------------------------------------------------------------------------------
    def eval(self, values: dict | None = None):
        """Evaluate with values for the leaves (by variable or name); data take their current values."""
        return eval_node(self, values or {})

    # --- arithmetic ----------------------------------------------------------------------------------
    def __add__(self, o):
        return apply(jnp.add, self, o)

    def __radd__(self, o):
        return apply(jnp.add, o, self)

    def __sub__(self, o):
        return apply(jnp.subtract, self, o)

    def __rsub__(self, o):
        return apply(jnp.subtract, o, self)

    def __mul__(self, o):
        return apply(jnp.multiply, self, o)

    def __rmul__(self, o):
        return apply(jnp.multiply, o, self)

    def __truediv__(self, o):
        return apply(jnp.true_divide, self, o)

    def __rtruediv__(self, o):
        return apply(jnp.true_divide, o, self)

    def __floordiv__(self, o):
        return apply(jnp.floor_divide, self, o)

    def __rfloordiv__(self, o):
        return apply(jnp.floor_divide, o, self)

    def __mod__(self, o):
        return apply(jnp.mod, self, o)

    def __rmod__(self, o):
        return apply(jnp.mod, o, self)

    def __pow__(self, o):
        return apply(jnp.power, self, o)

    def __rpow__(self, o):
        return apply(jnp.power, o, self)

    def __matmul__(self, o):
        return apply(cpu_ops.matmul, self, o)

    def __rmatmul__(self, o):
        return apply(cpu_ops.matmul, o, self)

    def __neg__(self):
        return apply(jnp.negative, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return apply(jnp.abs, self)

    def __invert__(self):
        return apply(jnp.invert, self)

    def __and__(self, o):
        return apply(jnp.logical_and, self, o)

    __rand__ = __and__

    def __or__(self, o):
        return apply(jnp.logical_or, self, o)

    __ror__ = __or__

    def __xor__(self, o):
        return apply(jnp.logical_xor, self, o)

    # comparisons (== and != keep identity semantics, as in PyTensor: use pm.math.eq / neq)
    def __lt__(self, o):
        return apply(jnp.less, self, o)

    def __le__(self, o):
        return apply(jnp.less_equal, self, o)

    def __gt__(self, o):
        return apply(jnp.greater, self, o)

    def __ge__(self, o):
        return apply(jnp.greater_equal, self, o)

    def __eq__(self, o):
        return self is o

    # --- indexing -------------------------------------------------------------------------------------
    def __getitem__(self, idx):
        if not isinstance(idx, tuple):
            idx = (idx,)
        parts = []
        for i in idx:
            if isinstance(i, TensorVariable) and i.dtype == np.bool_:
                raise IndexError(
                    f"Boolean masks that are model variables or pm.Data cannot index {self.label()}: the "
                    "result's length would depend on the data. Index with a numpy boolean array, or with "
                    "integer indices (np.flatnonzero(mask)) stored in pm.Data."
                )
            if isinstance(i, (list, np.ndarray)) and np.asarray(i).dtype == np.bool_:
                mask, axis = np.asarray(i), len(parts)
                expected = tuple(self.shape[axis:axis + mask.ndim])
                if mask.shape != expected and not any(p is Ellipsis or p is None for p in idx):
                    raise IndexError(f"boolean index of shape {mask.shape} does not match {self.label()} along "
                                     f"axis {axis}: the axes there have shape {expected} (as numpy)")
                parts.extend(np.nonzero(mask))
                continue
            parts.append(i)
        if foreign_converters():
            parts = [convert_foreign(p) for p in parts]
        self._check_index_bounds(parts)
        out = apply(_getitem, self, tuple(parts))
        out.is_getitem = True
        checks = index_bounds.data_index_axes(self, parts)
        if checks and isinstance(out, TensorVariable):
            out.index_checks = checks  # integer indices held in data: checked now and on every set_data
            index_bounds.check_at_build(out)
        return out

    def _check_index_bounds(self, parts) -> None:
        """Integer indices given as numbers or numpy arrays must be in range (numpy's IndexError; JAX would
        clamp them silently)."""
        if any(p is None or p is Ellipsis for p in parts) or len(parts) > self.ndim:
            return
        for axis, p in enumerate(parts):
            if isinstance(p, (int, np.integer, list, np.ndarray)) and not isinstance(p, bool):
                arr = np.asarray(p)
                if arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
                    continue
                n = self.shape[axis]
                bad = arr[(arr >= n) | (arr < -n)]
                if bad.size:
                    raise IndexError(f"index {int(bad.flat[0])} is out of bounds for axis {axis} of "
                                     f"{self.label()}, which has size {n} (shape {tuple(self.shape)})")

    # --- methods (numpy-like) --------------------------------------------------------------------------
    @property
    def T(self):
        return apply(jnp.transpose, self)

    def transpose(self, *axes):
        return apply(jnp.transpose, self, axes or None)

    def sum(self, axis=None, keepdims=False):
        return apply(jnp.sum, self, axis=axis, keepdims=keepdims)

    def prod(self, axis=None, keepdims=False):
        return apply(jnp.prod, self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return apply(jnp.mean, self, axis=axis, keepdims=keepdims)

    def std(self, axis=None, keepdims=False, ddof=0):
        return apply(jnp.std, self, axis=axis, keepdims=keepdims, ddof=ddof)

    def var(self, axis=None, keepdims=False, ddof=0):
        return apply(jnp.var, self, axis=axis, keepdims=keepdims, ddof=ddof)

    def max(self, axis=None, keepdims=False):
        return apply(jnp.max, self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return apply(jnp.min, self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis=None):
        return apply(jnp.cumsum, self, axis=axis)

    def cumprod(self, axis=None):
        return apply(jnp.cumprod, self, axis=axis)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply(jnp.reshape, self, tuple(int(s) for s in shape))

    def flatten(self):
        return apply(jnp.ravel, self)

    ravel = flatten

    def squeeze(self, axis=None):
        return apply(jnp.squeeze, self, axis=axis)

    def dot(self, o):
        return apply(cpu_ops.dot, self, o)

    def astype(self, dtype):
        return apply(lambda x: x.astype(dtype), self)

    def dimshuffle(self, *pattern):
        """PyTensor's dimshuffle: a permutation of axes with 'x' for new broadcastable axes."""
        if len(pattern) == 1 and isinstance(pattern[0], (tuple, list)):
            pattern = tuple(pattern[0])
        kept = [p for p in pattern if p != "x"]
        dropped = [a for a in range(self.ndim) if a not in kept]

        def f(x):
            x = jnp.squeeze(x, axis=tuple(dropped)) if dropped else x
            order = sorted(kept)
            x = jnp.transpose(x, [order.index(p) for p in kept])
            for i, p in enumerate(pattern):
                if p == "x":
                    x = jnp.expand_dims(x, i)
            return x

        return apply(f, self)

    # --- numpy protocol --------------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if kwargs.get("out") is not None:
            return NotImplemented
        kwargs.pop("out", None)
        if method == "__call__":
            fn = (_UFUNC_ALIASES.get(ufunc.__name__) or _FUNC_OVERRIDES.get(ufunc.__name__)
                  or getattr(jnp, ufunc.__name__, None))
            if fn is None:
                return NotImplemented
            return apply(fn, *inputs, **kwargs)
        if method == "reduce":
            fn = _UFUNC_REDUCE.get(ufunc.__name__)
            if fn is None:
                return NotImplemented
            return apply(fn, *inputs, **kwargs)
        return NotImplemented

    def __array_function__(self, func, types, args, kwargs):
        fn = _FUNC_OVERRIDES.get(func.__name__) or getattr(jnp, func.__name__, None)
        if fn is None:
            return NotImplemented
        return apply(fn, *args, **kwargs)

    def __array__(self, dtype=None, copy=None):
        if not any(n.kind in ("rv", "data") for n in toposort([self])):  # a constant graph has a value
            value = np.asarray(evaluate([self], {})[0])
            return value.astype(dtype) if dtype is not None else value
        raise TypeError(
            f"Model variable {self.label()} has no value while the model is being built. Use pm.math "
            "or numpy functions on it to build expressions; to get a value use pm.draw(var) or "
            "var.eval()."
        )


def _deferring(method):
    """A binary operator that leaves operands opting out of numpy's protocol (`__array_ufunc__ = None`, e.g.
    pm.gp covariance functions) to their reflected operator, as numpy arrays do: `eta**2 * cov`."""
    def op(self, o):
        return NotImplemented if getattr(type(o), "__array_ufunc__", 0) is None else method(self, o)
    op.__name__ = method.__name__
    return op


for _op in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__"):
    setattr(TensorVariable, _op, _deferring(getattr(TensorVariable, _op)))

_UFUNC_ALIASES = {"absolute": jnp.abs, "conjugate": jnp.conj}
_FUNC_OVERRIDES = {"dot": cpu_ops.dot, "matmul": cpu_ops.matmul}
_UFUNC_REDUCE = {"add": jnp.sum, "multiply": jnp.prod, "maximum": jnp.max, "minimum": jnp.min,
                 "logical_and": jnp.all, "logical_or": jnp.any}


def _getitem(x, idx):
    # (x without a dtype: math._update_subtensor replays this op on an index-capturing object)
    if len(idx) == 1 and hasattr(x, "dtype") and cpu_ops.is_integer_array_index(idx[0]):
        return cpu_ops.take_rows(x, idx[0])  # rows by integer array: scatter-free gradient on CPU
    return x[idx]


def apply(fn: Callable, *args, **kwargs) -> Any:
    """Apply a jax.numpy callable to a mix of nodes and constants; returns a node (or a value if no nodes)."""
    leaves, treedef = jax.tree_util.tree_flatten((args, kwargs), is_leaf=_is_node)
    converted = [convert_foreign(leaf) for leaf in leaves] if foreign_converters() else leaves
    converted = [c.to_numpy() if _is_pandas(c) else c for c in converted]  # pandas Series / DataFrame
    if any(c is not leaf for c, leaf in zip(converted, leaves)):  # foreign expressions (e.g. PyTensor's)
        leaves = converted
        args, kwargs = jax.tree_util.tree_unflatten(treedef, leaves)
    new_fn, new_args, new_kwargs = stable_form(fn, args, kwargs)  # stable rewrites (graph/rewrites.py)
    if new_fn is not fn:
        return apply(new_fn, *new_args, **new_kwargs)
    dyn = [i for i, leaf in enumerate(leaves) if _is_node(leaf)]
    if not dyn:
        return fn(*args, **kwargs)
    static = list(leaves)
    op = bind(fn, static, treedef, dyn)

    inputs = [leaves[i] for i in dyn]
    try:
        aval = jax.eval_shape(op, *[n.aval for n in inputs])
    except Exception as err:  # turn shape errors into a readable message
        shapes = ", ".join(f"{n.label()} with shape {n.shape}" for n in inputs)
        name = getattr(fn, "__name__", str(fn))
        raise ValueError(f"Cannot apply {name} to {shapes}: {_short(err)}") from None
    if not isinstance(aval, jax.ShapeDtypeStruct):
        # multiple outputs: one node per output
        outs, out_tree = jax.tree_util.tree_flatten(aval)
        whole = TensorVariable(op, inputs, jax.ShapeDtypeStruct((), jnp.float32), kind="multi")
        whole.aval_tree = aval
        nodes = [TensorVariable(_pick(j, out_tree), [whole], a) for j, a in enumerate(outs)]
        return jax.tree_util.tree_unflatten(out_tree, nodes)
    node = TensorVariable(op, inputs, aval)
    node.apply_parts = (fn, static, dyn, treedef)  # how the node was built (read by CustomDist(dist=))
    return node


def _is_pandas(x) -> bool:
    return type(x).__module__.startswith("pandas") and hasattr(x, "to_numpy")


def _pick(j, tree):
    def f(value):
        return jax.tree_util.tree_leaves(value)[j]

    return f


def _short(err) -> str:
    msg = str(err).strip().splitlines()
    return msg[0] if msg else type(err).__name__


def as_node_or_array(x):
    """Nodes pass through; foreign expressions (registered converters), pandas and lists become nodes or numpy
    arrays."""
    if _is_node(x):
        return x
    x = convert_foreign(x)
    if _is_node(x):
        return x
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    return np.asarray(x) if not isinstance(x, jax.Array) else x


def constant(value) -> TensorVariable:
    """A node holding a fixed value (so that `.eval()` works on it, as on PyTensor constants)."""
    value = jnp.asarray(value)
    return TensorVariable(lambda: value, [], jax.ShapeDtypeStruct(value.shape, value.dtype))

"""Numerically stable rewrites applied as graph nodes are built (PyMC's stabilizing rewrites: log of sigmoid,
of softmax, of a sum of exps, ...): `stable_form` is the hook of `graph.node.apply` (docs/rewrites.md)."""

from __future__ import annotations

import inspect
import math

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from jaxmc.graph.traversal import bind, is_node

__all__ = ["log1m_sigmoid", "log1mexp", "log_erfc", "log_of_exp", "logdiffexp", "logits_of_softmax",
           "logit_of_sigmoid", "register", "spelling", "stable_form", "with_deps"]


# ------------------------------------------------------------------ the stable replacements
def log1m_sigmoid(x):
    """log(1 - sigmoid(x)) = log_sigmoid(-x)."""
    return jax.nn.log_sigmoid(-x)


def log1mexp(x):
    """log(1 - exp(x)) for x <= 0 (nan above, as PyMC's `log1mexp`), accurate at both ends."""
    near = x > -math.log(2.0)  # each branch sees safe arguments only, so that no gradient is 0 * inf
    return jnp.where(near, jnp.log(-jnp.expm1(jnp.where(near, x, -1.0))),
                     jnp.log1p(-jnp.exp(jnp.where(near, -1.0, x))))


def logdiffexp(a, b):
    """log(exp(a) - exp(b)) = a + log1mexp(b - a), and a where b = -inf (PyMC's `logdiffexp`)."""
    gone = jnp.isneginf(b)
    return jnp.where(gone, a, a + log1mexp(jnp.where(gone, -1.0, b - a)))


def log_erfc(x):
    """log(erfc(x)): log1p(-erf(x)) below 0.5, log(erfc(x)) up to 5, then log 2 + log_ndtr(-sqrt(2) x), finite
    where erfc underflows (each branch sees safe arguments only)."""
    low, far = x < 0.5, x > 5.0
    mid = jnp.where(low | far, 1.0, x)
    return jnp.where(low, jnp.log1p(-jsp.erf(jnp.where(low, x, 0.0))),
                     jnp.where(far, math.log(2.0) + jsp.log_ndtr(-math.sqrt(2.0) * jnp.where(far, x, 6.0)),
                               jnp.log(jsp.erfc(mid))))


def log_of_exp(x):
    """log(exp(x)) = x (floating x only)."""
    return x


def log1p_neg(x):
    """log(1 - x) = log1p(-x)."""
    return jnp.log1p(-x)


def negate(x):
    return -x


def with_deps(fn, deps, *args, **kwargs):
    """fn(*args, **kwargs); `deps` (Deterministics looked through by a rewrite) are inputs of the node only
    so that it still depends on them in the model graph."""
    return fn(*args, **kwargs)


# ------------------------------------------------------------------ recognising an op whatever its spelling
_SPELLINGS: dict = {}


def register(fn, name: str) -> None:
    """Declare that the callable `fn` computes the op `name` (one of `spelling`'s names) with jax.numpy's
    signature for it, so that nodes built with it are rewritten (e.g. a PyTensor bridge's functions)."""
    _SPELLINGS[fn] = name


for _fn, _name in [(jnp.log, "log"), (jnp.log1p, "log1p"), (jnp.exp, "exp"), (jnp.expm1, "expm1"),
                   (jax.nn.sigmoid, "sigmoid"), (jsp.expit, "sigmoid"), (jnp.negative, "neg"),
                   (jnp.add, "add"), (jnp.subtract, "sub"), (jnp.true_divide, "div"), (jnp.divide, "div"),
                   (jnp.sum, "sum"), (jax.nn.softmax, "softmax"), (jsp.erfc, "erfc")]:
    register(_fn, _name)

_REFERENCE = {"sum": jnp.sum, "softmax": jax.nn.softmax}  # signatures that arguments are bound against
_UNARY = {"log", "log1p", "exp", "expm1", "sigmoid", "neg", "erfc"}
_BINARY = {"add", "sub", "div"}


def spelling(fn) -> str | None:
    """The op name under which `fn` is recognised (None for any other callable)."""
    try:
        return _SPELLINGS.get(fn)
    except TypeError:  # an unhashable callable
        return None


def _bind(name, args, kwargs):
    """The arguments of a call of op `name` as a dict (positional and keyword alike), None if unusual."""
    if name in _UNARY:
        return {"x": args[0]} if len(args) == 1 and not kwargs else None
    if name in _BINARY:
        return {"x": args[0], "y": args[1]} if len(args) == 2 and not kwargs else None
    try:
        bound = inspect.signature(_REFERENCE[name]).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return None
    bound.apply_defaults()
    a = dict(bound.arguments)
    if any(a.get(k) is not None for k in ("dtype", "out", "initial", "where")):
        return None
    return {"x": a.get("a", a.get("x")), "axis": a["axis"], "keepdims": a.get("keepdims", False)}


def _through_dets(x):
    """x with Deterministics (identity nodes) looked through."""
    while is_node(x) and x.kind == "det" and x.inputs:
        x = x.inputs[0]
    return x


def _dets_between(outer, inner) -> tuple:
    """Deterministics on the paths from the nodes `outer` down to the nodes `inner` (a matched pattern)."""
    stop = {id(n) for n in inner if is_node(n)}
    found, seen = [], set()
    stack = [(n, 0) for n in outer if is_node(n)]
    while stack:
        node, depth = stack.pop()
        if id(node) in stop or id(node) in seen or depth > 8:
            continue
        seen.add(id(node))
        if node.kind == "det":
            found.append(node)
        stack.extend((i, depth + 1) for i in node.inputs)
    return tuple(found)


def _call(x):
    """(op name, bound arguments) of the node x (through Deterministics) if it was built by a recognised
    op, else (None, None)."""
    x = _through_dets(x)
    parts = getattr(x, "apply_parts", None) if is_node(x) else None
    if parts is None:
        return None, None
    fn, static, _, treedef = parts
    name = spelling(fn)
    if name is None:
        return None, None
    args, kwargs = jax.tree_util.tree_unflatten(treedef, static)  # the nodes themselves at their places
    bound = _bind(name, args, kwargs)
    return (name, bound) if bound is not None else (None, None)


def _is_one(c) -> bool:
    """Is c a constant (number, array or input-free node) whose entries are all 1?"""
    if is_node(c):
        if c.kind not in ("op", "det") or c.inputs or c.op is None:
            return False
        c = c.op()
    try:
        arr = np.asarray(c)
        return arr.dtype.kind in "biuf" and arr.size > 0 and bool(np.all(arr == 1))
    except Exception:
        return False


def _axes(axis, ndim) -> set:
    """The axes a reduction over `axis` covers, as non-negative ints."""
    axes = range(ndim) if axis is None else [axis] if np.ndim(axis) == 0 else axis
    return {int(ax) % max(ndim, 1) for ax in axes}


def _is_float_node(x) -> bool:
    return is_node(x) and jnp.issubdtype(x.dtype, jnp.floating)


def _same_input(a, b) -> bool:
    """Are a and b the same node, or exp nodes of the same input?"""
    if a is b:
        return True
    na, ba = _call(a)
    nb, bb = _call(b)
    return na == nb == "exp" and ba["x"] is bb["x"]


# ------------------------------------------------------------------ the rules
def _sigmoid_arg(p):
    """(x, negated) if p is sigmoid(x) (negated False) or 1 - sigmoid(x) (negated True), else None."""
    name, a = _call(p)
    if name == "sigmoid":
        return a["x"], False
    if name == "sub" and _is_one(a["x"]):
        inner, b = _call(a["y"])
        if inner == "sigmoid":
            return b["x"], True
    return None


def _rule_log(a):
    s = _sigmoid_arg(a["x"])
    if s is not None:
        return (log1m_sigmoid if s[1] else jax.nn.log_sigmoid), (s[0],), {}
    name, b = _call(a["x"])
    if name == "softmax":
        return jax.nn.log_softmax, (b["x"],), {"axis": b["axis"]}
    if name == "sum":
        inner, c = _call(b["x"])
        if inner == "exp":
            return jsp.logsumexp, (c["x"],), {"axis": b["axis"], "keepdims": b["keepdims"]}
    if name == "exp" and _is_float_node(b["x"]):
        return log_of_exp, (b["x"],), {}
    if name == "neg":
        inner, c = _call(b["x"])
        if inner == "expm1":
            return log1mexp, (c["x"],), {}
    if name == "erfc":
        return log_erfc, (b["x"],), {}
    if name in ("add", "sub"):
        (nx, bx), (ny, by) = _call(b["x"]), _call(b["y"])
        if name == "add":
            if nx == ny == "exp":
                return jnp.logaddexp, (bx["x"], by["x"]), {}
            for one, other, n_o, b_o in ((b["x"], b["y"], ny, by), (b["y"], b["x"], nx, bx)):
                if _is_one(one):
                    return (jax.nn.softplus, (b_o["x"],), {}) if n_o == "exp" else (jnp.log1p, (other,), {})
        else:
            if nx == ny == "exp":
                return logdiffexp, (bx["x"], by["x"]), {}
            if _is_one(b["x"]):
                return (log1mexp, (by["x"],), {}) if ny == "exp" else (log1p_neg, (b["y"],), {})
    return None


def _rule_log1p(a):
    name, b = _call(a["x"])
    if name == "exp":
        return jax.nn.softplus, (b["x"],), {}
    if name == "neg":
        s = _sigmoid_arg(b["x"])
        if s is not None:
            return (jax.nn.log_sigmoid if s[1] else log1m_sigmoid), (s[0],), {}
        inner, c = _call(b["x"])
        if inner == "exp":
            return log1mexp, (c["x"],), {}
    return None


def _rule_div(a):
    """exp(x) / sum(exp(x), axis, keepdims=True) -> softmax(x, axis) (also a sum over all axes)."""
    nx, bx = _call(a["x"])
    ny, by = _call(a["y"])
    if nx != "exp" or ny != "sum" or not _same_input(a["x"], by["x"]):
        return None
    x = bx["x"]
    axis = by["axis"]
    if not by["keepdims"] and _axes(axis, x.ndim) != set(range(x.ndim)):
        return None  # a reduced sum that broadcasts along other axes: not a softmax
    return jax.nn.softmax, (x,), {"axis": axis}


_RULES = {"log": _rule_log, "log1p": _rule_log1p, "div": _rule_div}


def _aval(fn, args, kwargs):
    """Shape and dtype of fn(*args, **kwargs) with nodes standing for arrays of their shapes."""
    leaves, treedef = jax.tree_util.tree_flatten((args, kwargs), is_leaf=is_node)
    dyn = [i for i, leaf in enumerate(leaves) if is_node(leaf)]
    return jax.eval_shape(bind(fn, leaves, treedef, dyn), *[leaves[i].aval for i in dyn])


def stable_form(fn, args, kwargs):
    """(fn, args, kwargs) of a call that builds a node, replaced by a numerically stable equivalent when it is
    one of the patterns of docs/rewrites.md (e.g. log(sigmoid(x)) -> log_sigmoid(x)); unchanged otherwise."""
    rule = _RULES.get(spelling(fn))
    if rule is None or not any(is_node(x) for x in args):
        return fn, args, kwargs
    bound = _bind(spelling(fn), args, kwargs)
    new = rule(bound) if bound is not None else None
    if new is None:
        return fn, args, kwargs
    new_fn, new_args, new_kwargs = new
    dets = _dets_between(args, new_args)
    if dets:
        new_fn, new_args = with_deps, (new_fn, tuple(dets), *new_args)
    try:
        same = _aval(fn, args, kwargs) == _aval(new_fn, new_args, new_kwargs)
    except Exception:  # let the original call report its own error
        same = False
    return (new_fn, new_args, new_kwargs) if same else (fn, args, kwargs)


# ------------------------------------------------------------------ probabilities given as sigmoid / softmax
def _built(x, dets, negated, build):
    if not dets and not negated:
        return x
    return build(with_deps, negate if negated else log_of_exp, dets, x)


def logit_of_sigmoid(p, build):
    """x for p = sigmoid(x), -x for p = 1 - sigmoid(x) (through Deterministics, which stay inputs of the
    result), None for any other p; `build` is `graph.apply`. Families with `logit_p` use it for `p=`."""
    s = _sigmoid_arg(p)
    if s is None:
        return None
    x, negated = s
    return _built(x, _dets_between([p], [x]), negated, build)


def logits_of_softmax(p, build):
    """x for p = softmax(x) over the last axis (through Deterministics), None for any other p (Categorical's
    `p=`); `build` is `graph.apply`."""
    name, b = _call(p)
    if name != "softmax" or not is_node(b["x"]):
        return None
    x, axis = b["x"], b["axis"]
    if x.ndim == 0 or _axes(axis, x.ndim) != {x.ndim - 1}:
        return None
    return _built(x, _dets_between([p], [x]), False, build)

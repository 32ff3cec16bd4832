"""The log density of a CustomDist's `dist` graph: one random variable, an elementwise invertible function of
one (change of variables), or clip of one (the censored density)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

from jaxmc import config
from jaxmc.distributions.censored import censored_logp
from jaxmc.graph import evaluate, rv_ancestors, toposort


def _op_parts(node):
    """(fn, static leaves, dynamic positions, treedef) of a node built by `graph.apply` (None if unknown).

    Read from `node.apply_parts` when graph.apply records it, else from the closure of the node's op."""
    parts = getattr(node, "apply_parts", None)
    if parts is not None:
        return tuple(parts)
    op = node.op
    code, closure = getattr(op, "__code__", None), getattr(op, "__closure__", None)
    if code is None or closure is None:
        return None
    cells = {}
    for name, cell in zip(code.co_freevars, closure):
        try:
            cells[name] = cell.cell_contents
        except ValueError:
            return None
    if not {"fn", "static", "dyn", "treedef"} <= set(cells):
        return None
    return cells["fn"], cells["static"], cells["dyn"], cells["treedef"]


_SENTINEL = object()


def _args_with(parts, input_values, dep_index):
    """Positional args and kwargs of the op with input values filled and the dependent input marked."""
    fn, static, dyn, treedef = parts
    filled = list(static)
    for j, (i, v) in enumerate(zip(dyn, input_values)):
        filled[i] = _SENTINEL if j == dep_index else v
    args, kwargs = jax.tree_util.tree_unflatten(treedef, filled)
    pos = [k for k, a in enumerate(args) if a is _SENTINEL]
    return fn, list(args), kwargs, (pos[0] if len(pos) == 1 else None)


def _inverse(fn, args, pos, y):
    """x such that fn(*args with x at pos) = y, for elementwise invertible ops; None if unknown."""
    other = [a for k, a in enumerate(args) if k != pos]
    unary = {
        jnp.exp: jnp.log, jnp.log: jnp.exp, jnp.log1p: jnp.expm1, jnp.expm1: jnp.log1p,
        jax.nn.sigmoid: jsp.logit, jsp.logit: jax.nn.sigmoid, jsp.expit: jsp.logit,
        jnp.negative: jnp.negative, jnp.sinh: jnp.arcsinh, jnp.arcsinh: jnp.sinh, jnp.tanh: jnp.arctanh,
        jnp.arctanh: jnp.tanh, jnp.sqrt: jnp.square,
    }
    if len(args) == 1 and fn in unary:
        return unary[fn](y)
    if len(args) != 2:
        return None
    (c,) = other
    if fn is jnp.add:
        return y - c
    if fn is jnp.subtract:
        return y + c if pos == 0 else c - y
    if fn is jnp.multiply:
        return y / c
    if fn in (jnp.true_divide, jnp.divide):
        return y * c if pos == 0 else c / y
    if fn is jnp.power and pos == 1:
        return jnp.log(y) / jnp.log(c)
    return None


def derived_logp(out, value, env, name="CustomDist"):
    """Log density of `out` (a graph of `.dist()` variables) at `value`, given values of its parameters."""
    rvs = rv_ancestors([out])
    if len(rvs) != 1:
        raise NotImplementedError(
            f"{name}: the log density of the dist graph cannot be derived: it depends on {len(rvs)} random "
            "variables (jaxmc derives it for one random variable, possibly through an elementwise invertible "
            "function or clip). Pass logp= to the CustomDist."
        )
    (x,) = rvs
    xparams = evaluate(x.owner.params, env)
    if out is x:
        return x.owner.checked_logp(value, *xparams)
    depends = {n.id for n in toposort([out]) if x.id in {m.id for m in toposort([n])}}

    def fail(why):
        raise NotImplementedError(
            f"{name}: the log density of the dist graph cannot be derived ({why}). jaxmc derives it for one "
            "random variable, an elementwise invertible function of one (+, -, *, / by terms that do not depend "
            "on it, exp, log, log1p, expm1, sigmoid, logit, sinh, arcsinh, tanh, arctanh, sqrt, c ** x), or "
            "clip of one. Pass logp= to the CustomDist."
        )

    # clip(x, lower, upper) directly on the random variable: the censored density
    parts = _op_parts(out) if out.kind == "op" else None
    if parts is not None and parts[0] is jnp.clip and out.inputs and out.inputs[0] is x:
        if any(n.id in depends for n in out.inputs[1:]):
            fail("the clipping bounds depend on the random variable")
        vals = [None] + evaluate(list(out.inputs[1:]), env)
        fn, args, kwargs, pos = _args_with(parts, vals, 0)
        if pos != 0:
            fail("clip of an unsupported form")
        lo = args[1] if len(args) > 1 else kwargs.get("min", kwargs.get("a_min"))
        hi = args[2] if len(args) > 2 else kwargs.get("max", kwargs.get("a_max"))
        return censored_logp(x.owner, value, xparams, -jnp.inf if lo is None else lo,
                             jnp.inf if hi is None else hi, lo is not None, hi is not None)
    if tuple(out.shape) != tuple(x.shape):
        fail(f"the output shape {tuple(out.shape)} differs from the random variable's {tuple(x.shape)}")

    # walk from the output down to x, recording how to invert each step
    steps = []
    node = out
    while node is not x:
        if node.kind != "op":
            fail(f"unsupported node kind {node.kind!r}")
        dep = [j for j, n in enumerate(node.inputs) if n.id in depends]
        if len(dep) != 1:
            fail("a step uses the random variable more than once")
        parts = _op_parts(node)
        if parts is None:
            fail("an operation of unknown form")
        others = [n for j, n in enumerate(node.inputs) if j != dep[0]]
        steps.append((node, parts, dep[0], others))
        node = node.inputs[dep[0]]
    other_values = {}
    for node, parts, d, others in steps:
        for n in others:
            other_values[n] = evaluate([n], env)[0]

    def backward(y):
        for node, parts, d, others in steps:
            vals = [None if j == d else other_values[n] for j, n in enumerate(node.inputs)]
            fn, args, kwargs, pos = _args_with(parts, vals, d)
            if pos is None or kwargs:
                fail("an operation with keyword arguments")
            inv = _inverse(fn, args, pos, y)
            if inv is None:
                fail(f"{getattr(fn, '__name__', fn)} is not invertible here")
            y = inv
        return y

    value = jnp.asarray(value, dtype=config.floatX()) if not x.owner.discrete else jnp.asarray(value)
    xv = backward(value)
    if x.owner.discrete:
        lp = x.owner.checked_logp(xv, *xparams)
    else:
        _, dx = jax.jvp(backward, (value,), (jnp.ones_like(value),))
        lp = x.owner.checked_logp(xv, *xparams) + jnp.log(jnp.abs(dx))
    return jnp.where(jnp.isnan(lp), -jnp.inf, lp)

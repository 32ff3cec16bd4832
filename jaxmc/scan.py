"""`scan`: PyTensor-style symbolic loops that compile to one `jax.lax.scan`.

The step function is written with model variables, `pm.math` and numpy, exactly as for `pytensor.scan`:

    def step(y_t, err_tm1, mu, theta):          # sequences, then previous outputs, then non_sequences
        return y_t - (mu + theta * err_tm1)

    err, updates = scan(step, sequences=[y], outputs_info=[err0], non_sequences=[mu, theta])

`scan` calls the step function once, on placeholder variables, to record its graph. The recorded graph
becomes a single node of the model whose operation is `jax.lax.scan`, so the loop is traced once by JAX,
differentiated by JAX and runs inside the compiled log density. Model variables that the step function uses
without receiving them as arguments (closures) are found in the recorded graph and passed in automatically,
as PyTensor does; they are computed once, outside the loop.

Supported, as in PyTensor: `sequences` and `outputs_info` as single variables, lists, or dicts with `taps`
(`{"input": x, "taps": [-1, 0]}`, `{"initial": x0, "taps": [-2, -1]}`), `None` entries in `outputs_info`
for outputs that are not fed back, `n_steps`, `go_backwards`, `return_list`, `return_updates`.
Not supported: shared-variable updates (the returned updates are always empty), `until` conditions,
`truncate_gradient` other than -1.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.graph import TensorVariable, apply, toposort

__all__ = ["scan", "InnerGraph", "placeholder"]


def placeholder(aval: jax.ShapeDtypeStruct, name: str | None = None) -> TensorVariable:
    """A stand-in variable for an argument of an inner function (scan step, ODE right-hand side)."""
    return TensorVariable(None, [], jax.ShapeDtypeStruct(tuple(aval.shape), aval.dtype), kind="arg", name=name)


def _aval(x) -> jax.ShapeDtypeStruct:
    if isinstance(x, TensorVariable):
        return x.aval
    x = jnp.asarray(x)
    return jax.ShapeDtypeStruct(x.shape, x.dtype)


class InnerGraph:
    """A Python function of variables recorded once on placeholders, then evaluated on JAX arrays.

    `fn` is called with `placeholders` followed by `extra` (passed unchanged: model variables, constants).
    `outputs` is the flat list of recorded outputs (nodes or constants), `treedef` their structure and
    `raw_result` what fn returned. `free` lists the outer nodes the recorded graph uses (model variables,
    data, expressions of them that do not depend on the placeholders); their values are passed to
    `__call__` after the placeholders' values and are computed once, outside any loop.
    """

    def __init__(self, fn: Callable, placeholders: Sequence[TensorVariable], extra: Sequence = (),
                 what: str = "the function"):
        self.placeholders = list(placeholders)
        result = fn(*self.placeholders, *extra)
        self.raw_result = result
        leaves, self.treedef = jax.tree_util.tree_flatten(result, is_leaf=lambda x: isinstance(x, TensorVariable))
        self.outputs = leaves
        ph_ids = {p.id for p in self.placeholders}
        nodes = toposort([o for o in leaves if isinstance(o, TensorVariable)])
        # nodes that depend on a placeholder are evaluated inside; the rest (closures) come from outside
        inner_ids: set[int] = set(ph_ids)
        for n in nodes:
            if any(i.id in inner_ids for i in n.inputs):
                inner_ids.add(n.id)
        self.steps = [n for n in nodes if n.id in inner_ids and n.id not in ph_ids]
        for n in self.steps:
            if n.kind in ("rv", "data"):
                raise ValueError(f"{what} creates random variables or data ({n.label()}); create them "
                                 "outside and pass them in (or use them from the enclosing scope)")
        free, seen = [], set()
        for n in self.steps:
            for i in n.inputs:
                if i.id not in inner_ids and i.id not in seen:
                    seen.add(i.id)
                    free.append(i)
        for o in leaves:  # outputs that are outer nodes themselves
            if isinstance(o, TensorVariable) and o.id not in inner_ids and o.id not in seen:
                seen.add(o.id)
                free.append(o)
        self.free: list[TensorVariable] = free

    def __call__(self, placeholder_values: Sequence, free_values: Sequence) -> list:
        env: dict = {}
        for p, v in zip(self.placeholders, placeholder_values):
            env[p] = v
        for n, v in zip(self.free, free_values):
            env[n] = v
        for n in self.steps:
            env[n] = n.op(*[env[i] for i in n.inputs])
        return [env[o] if isinstance(o, TensorVariable) else jnp.asarray(o) for o in self.outputs]


# ---------------------------------------------------------------------------------------------- scan
class _Seq:
    """A sequence and its taps (offsets relative to the current step, PyTensor's convention)."""

    def __init__(self, x, taps):
        self.x = x
        self.taps = list(taps)
        self.aval = _aval(x)
        if not self.aval.shape:
            raise ValueError("scan: a sequence must have at least one dimension (the one iterated over)")
        self.length = self.aval.shape[0] - (max(self.taps) - min(self.taps))
        self.step_aval = jax.ShapeDtypeStruct(self.aval.shape[1:], self.aval.dtype)


class _Out:
    """An output: its initial value (None: not fed back) and taps (negative offsets into past outputs).

    With taps [-1] the initial value has the shape of one step; with a deeper tap (e.g. [-2, -1]) it holds
    the first `lag` = -min(taps) past values along its first axis."""

    def __init__(self, initial, taps=(-1,)):
        self.initial = initial
        self.taps = list(taps) if initial is not None else []
        self.lag = -min(self.taps) if self.taps else 0
        if initial is None:
            return
        if any(t >= 0 for t in self.taps):
            raise ValueError(f"scan: output taps must be negative, found {self.taps}")
        aval = _aval(initial)
        if self.lag > 1:
            if not aval.shape or aval.shape[0] < self.lag:
                raise ValueError(f"scan: an output with taps {self.taps} needs an initial value with at least "
                                 f"{self.lag} entries along its first axis, found shape {tuple(aval.shape)}")
            self.step_aval = jax.ShapeDtypeStruct(aval.shape[1:], aval.dtype)
        else:
            self.step_aval = jax.ShapeDtypeStruct(aval.shape, aval.dtype)


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _taps(taps, default):
    if taps is None:
        return list(default)
    if isinstance(taps, (int, np.integer)):
        return [int(taps)]
    return [int(t) for t in taps]


def _parse_sequences(sequences):
    out = []
    for s in _as_list(sequences):
        if isinstance(s, dict):
            if "input" not in s:
                raise ValueError("scan: a sequence given as a dict needs an 'input' entry")
            out.append(_Seq(_array_or_node(s["input"]), _taps(s.get("taps"), [0])))
        else:
            out.append(_Seq(_array_or_node(s), [0]))
    return out


def _parse_outputs(outputs_info):
    out = []
    for o in _as_list(outputs_info):
        if isinstance(o, dict):
            initial = o.get("initial")
            out.append(_Out(_array_or_node(initial) if initial is not None else None, _taps(o.get("taps"), [-1])))
        else:
            out.append(_Out(_array_or_node(o) if o is not None else None))
    return out


def _array_or_node(x):
    if isinstance(x, TensorVariable):
        return x
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    return jnp.asarray(x)


def scan(fn: Callable, sequences=None, outputs_info=None, non_sequences=None, n_steps=None,
         truncate_gradient: int = -1, go_backwards: bool = False, mode=None, name: str | None = None,
         profile: bool = False, allow_gc=None, strict: bool = False, return_list: bool = False,
         return_updates: bool = True):
    """Symbolic loop with `pytensor.scan`'s signature, compiled to one `jax.lax.scan`.

    fn receives, in order: for every sequence its values at the current step (one argument per tap),
    for every output with an initial value its previous values (one argument per tap), then the
    non_sequences. It returns one output or a list of outputs (one per entry of `outputs_info`).

    Returns `(outputs, updates)` like PyTensor (`outputs` alone with `return_updates=False`); `outputs`
    is one variable when fn has one output (unless `return_list=True`), each output stacked over the
    steps along a new first axis. `updates` is always an empty dict (there are no shared variables).
    """
    if truncate_gradient != -1:
        raise NotImplementedError("scan: truncate_gradient is not supported (the full gradient is computed)")
    seqs = _parse_sequences(sequences)
    outs = _parse_outputs(outputs_info)
    non_seqs = _as_list(non_sequences)

    # number of steps
    lengths = [s.length for s in seqs]
    if n_steps is not None:
        if isinstance(n_steps, TensorVariable):
            raise TypeError("scan: n_steps must be a Python or numpy integer (the number of steps is part "
                            "of the compiled program's shape)")
        n = int(n_steps)
        if n < 0:
            raise NotImplementedError("scan: negative n_steps (reverse iteration) is not supported; "
                                      "use go_backwards=True")
        if lengths and n > min(lengths):
            raise ValueError(f"scan: n_steps={n} exceeds the length of the shortest sequence ({min(lengths)})")
    elif lengths:
        n = min(lengths)
    else:
        raise ValueError("scan: give n_steps when there are no sequences")
    if n < 0 or (lengths and min(lengths) < 0):
        raise ValueError("scan: a sequence is shorter than the span of its taps")

    # placeholders in fn's argument order
    phs = []
    for s in seqs:
        phs.extend(placeholder(s.step_aval) for _ in s.taps)
    for o in outs:
        if o.initial is not None:
            phs.extend(placeholder(o.step_aval) for _ in o.taps)

    what = "the scan step function"
    graph = InnerGraph(fn, phs, non_seqs, what=what)
    result = graph.raw_result
    # fn may return (outputs, updates) like in PyTensor
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict):
        if result[1]:
            raise NotImplementedError("scan: updates returned by the step function are not supported")
        graph = InnerGraph(lambda *a: fn(*a)[0], phs, non_seqs, what=what)
        result = graph.raw_result
    if isinstance(result, dict):
        raise NotImplementedError("scan: the step function returned only updates; it must return outputs")
    n_out = len(result) if isinstance(result, (list, tuple)) else 1
    single = n_out == 1  # PyTensor returns a lone output unwrapped, however fn returned it
    if not outs:
        outs = [_Out(None) for _ in range(n_out)]
    if len(outs) != n_out or len(graph.outputs) != n_out:
        raise ValueError(f"scan: the step function returns {n_out} output(s) but outputs_info has {len(outs)} "
                         "entries; give one entry per output (None for outputs that are not fed back)")

    # fed-back outputs must keep their shape; their dtype is the promotion of initial and step result
    out_avals = []
    for k, (o, rec) in enumerate(zip(outs, graph.outputs)):
        rec_aval = _aval(rec)
        if o.initial is None:
            out_avals.append(rec_aval)
            continue
        if tuple(rec_aval.shape) != tuple(o.step_aval.shape):
            raise ValueError(
                f"scan: output {k} has shape {tuple(rec_aval.shape)} at each step but its initial value "
                f"(outputs_info[{k}]) gives shape {tuple(o.step_aval.shape)} per step; they must match")
        out_avals.append(jax.ShapeDtypeStruct(o.step_aval.shape, jnp.result_type(o.step_aval.dtype,
                                                                                  rec_aval.dtype)))
    fed = [(o, a) for o, a in zip(outs, out_avals) if o.initial is not None]

    # the node's inputs: sequences, initial values, closed-over variables (constants stay in the closure)
    items = [s.x for s in seqs] + [o.initial for o, _ in fed] + list(graph.free)
    n_seq, n_init = len(seqs), len(fed)

    def run(*vals):
        seq_vals, init_vals, free_vals = vals[:n_seq], vals[n_seq:n_seq + n_init], vals[n_seq + n_init:]
        xs = []
        for s, v in zip(seqs, seq_vals):
            v = jnp.asarray(v)
            if go_backwards:
                v = v[::-1]
            lo = min(s.taps)
            xs.extend(jax.lax.slice_in_dim(v, t - lo, t - lo + n, axis=0) for t in s.taps)
        carry0 = []
        for (o, aval), v in zip(fed, init_vals):
            v = jnp.asarray(v).astype(aval.dtype)
            carry0.append(v[:o.lag] if o.lag > 1 else v[None])

        def body(carry, x_t):
            step_vals = list(x_t) if x_t is not None else []
            for (o, _), buf in zip(fed, carry):
                step_vals.extend(buf[o.lag + t] for t in o.taps)
            res = graph(step_vals, free_vals)
            res = [jnp.broadcast_to(r, a.shape).astype(a.dtype) for r, a in zip(res, out_avals)]
            new_carry = []
            for (o, _), buf, r in zip(fed, carry, [r for o, r in zip(outs, res) if o.initial is not None]):
                new_carry.append(jnp.concatenate([buf[1:], r[None]], axis=0))
            return new_carry, tuple(res)

        _, ys = jax.lax.scan(body, carry0, xs if xs else None, length=n)
        return tuple(ys)

    dyn_pos = [j for j, i in enumerate(items) if isinstance(i, TensorVariable)]
    if dyn_pos:
        def op(*dyn_vals):
            vals = list(items)
            for j, v in zip(dyn_pos, dyn_vals):
                vals[j] = v
            return run(*vals)

        op.__name__ = name or "scan"
        results = list(apply(op, *[items[j] for j in dyn_pos]))
    else:  # nothing symbolic: plain values, as pm.math functions return for constants
        results = list(jax.jit(run)(*items))
    outputs: Any = results[0] if single and not return_list else results
    if return_updates:
        return outputs, {}
    return outputs

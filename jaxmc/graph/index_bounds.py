"""Integer indices held in data (`a[g]` with `g` a pm.Data): their bounds are checked when the indexing is built
and whenever the data change, since JAX would clamp an out-of-range index silently (PyMC raises IndexError)."""

from __future__ import annotations

import jax
import numpy as np

from jaxmc.graph.traversal import evaluate, is_node, toposort


def data_index_axes(target, parts) -> tuple[tuple[int, int], ...]:
    """((position in the indexing node's inputs, axis of `target`), ...) for the index parts that are integer
    expressions of data only (no random variable); the node's inputs are `target` then the node parts in order."""
    if any(p is None or p is Ellipsis for p in parts) or len(parts) > len(target.aval.shape):
        return ()
    found, pos = [], 0
    for axis, p in enumerate(parts):
        if not is_node(p):
            continue
        pos += 1
        if not np.issubdtype(p.dtype, np.integer) or p.dtype == np.bool_:
            continue
        leaves = [n for n in toposort([p]) if n.kind not in ("op", "det", "multi")]
        if leaves and all(n.kind == "data" for n in leaves):
            found.append((pos, axis))
    return tuple(found)


def check_at_build(node) -> None:
    """Check the data indices of a new indexing node against the data's current values."""
    target = node.inputs[0]
    for pos, axis in getattr(node, "index_checks", ()):
        index = node.inputs[pos]
        try:
            env = {n: n.model.data_values()[n.name] for n in toposort([index, target]) if n.kind == "data"}
        except (AttributeError, KeyError):  # data not (yet) in a model: nothing to check against
            continue
        _check(index, target, axis, env, None, "")


def check_data_indices(roots, values: dict, dim_lengths: dict, rv_shapes: dict | None = None,
                       prefix: str = "") -> None:
    """Check every data index in the graph of `roots` (random variables' parameters included) against `values`
    ({data node: value}), `dim_lengths` (the dims' lengths that the values go with) and `rv_shapes` ({random
    variable: its shape with these values}, for those whose shape changes other than through dims)."""
    nodes = _graph(roots)
    env = dict(values)
    sizes = (dim_lengths, rv_shapes or {})
    for node in nodes:
        for pos, axis in getattr(node, "index_checks", ()):
            _check(node.inputs[pos], node.inputs[0], axis, env, sizes, prefix)


def _graph(roots) -> list:
    def deps(n):
        out = list(n.inputs)
        if n.kind == "rv" and n.owner is not None:
            out += [p for p in n.owner.params if is_node(p)]
        obs = getattr(n, "observed", None)
        return out + [obs] if is_node(obs) else out

    return toposort([r for r in roots if is_node(r)], deps)


def _check(index, target, axis, env: dict, sizes, prefix: str) -> None:
    try:
        value = np.asarray(evaluate([index], env)[0])
    except KeyError:  # a data leaf without a value here
        return
    n = _length(target, axis, env, sizes)
    if n is None or value.size == 0:
        return
    bad = value[(value >= n) | (value < -n)]
    if not bad.size:
        return
    data = [d.name for d in toposort([index]) if d.kind == "data"]
    what = f"pm.Data {index.name!r}" if index.kind == "data" else \
        f"the index computed from pm.Data {', '.join(map(repr, data))}"
    shown = np.unique(bad)[:10].tolist()
    raise IndexError(
        f"{prefix}{what} holds index value(s) {shown} out of bounds for axis {axis} of {_target_label(target)}, "
        f"which has length {n} (valid indices: {-n} to {n - 1}). JAX would clamp them silently; fix the "
        f"values of {', '.join(map(repr, data))} or the length of the indexed variable."
    )


def _target_label(target) -> str:
    if target.name:
        return repr(target.name)
    named = [n.name for n in toposort([target]) if n.name and n.kind in ("rv", "data", "det")]
    return f"an expression of {', '.join(map(repr, named))}" if named else target.label()


def _length(target, axis, env: dict, sizes) -> int | None:
    """The length of `target` along `axis` for the data values in `env` and `sizes` (dims' lengths, random
    variables' shapes; None at build time); None: unknown, e.g. when the new values do not fit together yet."""
    leaves = [n for n in toposort([target]) if n.kind in ("rv", "data")]
    dim_lengths, rv_shapes = sizes or (None, {})
    avals = []
    for leaf in leaves:
        if leaf.kind == "data" and leaf in env:
            v = env[leaf]
            avals.append(jax.ShapeDtypeStruct(np.shape(v), leaf.dtype))
        elif leaf in rv_shapes:
            avals.append(jax.ShapeDtypeStruct(rv_shapes[leaf], leaf.dtype))
        elif leaf.kind == "rv" and dim_lengths is not None and all(getattr(leaf, "dims", None) or (None,)):
            shape = tuple(dim_lengths.get(d, s) for d, s in zip(leaf.dims, leaf.aval.shape))
            avals.append(jax.ShapeDtypeStruct(shape, leaf.dtype))
        else:
            avals.append(leaf.aval)
    if all(a is leaf.aval for a, leaf in zip(avals, leaves)):
        return int(target.aval.shape[axis])
    try:
        out = jax.eval_shape(lambda *vals: evaluate([target], dict(zip(leaves, vals)))[0], *avals)
    except Exception:  # noqa: BLE001  (shapes that do not fit: the run reports it)
        return None
    return int(out.shape[axis]) if axis < len(out.shape) else None

"""Matrix products and integer-array indexing written to run fast where XLA:CPU compiles the sampler's
loops into single kernels (its small-while-loop pass, :func:`jaxmc.xla.enable_small_loop_kernels`).

Inside such a kernel XLA's dot and scatter are generic loops. On CPU, with the pass active, small products
are therefore computed as sums of elementwise products, and the gradient of ``x[idx]`` avoids the scatter:
for a constant ``idx`` it sums contiguous runs planned at trace time, for a traced one it adds into the
rows in a loop with four accumulators (as numba code would, but without waiting on each store); elsewhere
(GPU, large products, the pass turned off) both are XLA's own operations. What each is worth is in
docs/sampling.md ("Where the time goes").
"""
from __future__ import annotations

import contextlib
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

#: products with more multiply-adds than this stay XLA dots (BLAS-speed), even if they split the loop
MAX_LOOP_MACS = 1 << 16

_plain_depth = 0


@contextlib.contextmanager
def plain():
    """Build graphs with XLA's own dot and gather gradient (for forward-mode derivatives: Hessians)."""
    global _plain_depth
    _plain_depth += 1
    try:
        yield
    finally:
        _plain_depth -= 1


@functools.lru_cache(maxsize=None)
def _small_loops_compile_to_kernels(backend: str) -> bool:
    if backend != "cpu":
        return False
    fn = jax.jit(lambda x: jax.lax.fori_loop(0, 3, lambda i, v: v * 0.5 + 1.0, x))
    text = fn.lower(jax.ShapeDtypeStruct((1000,), np.float32)).compile().as_text()
    return "xla_cpu_small_call" in text  # 4 kB of loop state: with its 1 kB default XLA leaves it alone


def loop_kernels_compiled() -> bool:
    """True on CPU when XLA compiles small while loops into single kernels (the option reached XLA)."""
    return _small_loops_compile_to_kernels(jax.default_backend())


def loop_kernels_active() -> bool:
    """True on CPU (outside `plain()`): the code below is written for XLA:CPU's single-kernel loops there
    whether or not the option reached XLA (`loop_kernels_compiled()`), so that a seed gives the same draws
    with the option on or off (docs/xla.md, "The same seed, the same draws"); False on GPU."""
    if _plain_depth:
        return False
    return jax.default_backend() == "cpu"


# ---------------------------------------------------------------------------------------------- products
def _macs(a, out_shape) -> int:
    """Multiply-adds of a product of ``a`` (contracted over its last axis) giving ``out_shape``."""
    return int(math.prod(out_shape)) * int(a.shape[-1])


def _as_sum_ok(a, b) -> bool:
    return (loop_kernels_active() and a.ndim >= 1 and b.ndim >= 1
            and jnp.issubdtype(jnp.result_type(a, b), jnp.floating))


def matmul(a, b):
    """``jnp.matmul``; on CPU with loop kernels, small products as sums of products."""
    a, b = jnp.asarray(a), jnp.asarray(b)
    if not _as_sum_ok(a, b):
        return jnp.matmul(a, b)
    out = jax.eval_shape(jnp.matmul, a, b)  # also checks the shapes, with jnp's error message
    if _macs(a, out.shape) > MAX_LOOP_MACS:
        return jnp.matmul(a, b)
    dtype = out.dtype
    a, b = a.astype(dtype), b.astype(dtype)
    if a.ndim == 1 and b.ndim == 1:
        return jnp.sum(a * b)
    if b.ndim == 1:
        return jnp.sum(a * b, axis=-1)
    if a.ndim == 1:
        return jnp.sum(a[:, None] * b, axis=-2)
    return jnp.sum(a[..., :, :, None] * b[..., None, :, :], axis=-2)


def dot(a, b):
    """``jnp.dot`` (equal to ``matmul`` up to two dimensions; higher ones keep ``jnp.dot``)."""
    a, b = jnp.asarray(a), jnp.asarray(b)
    if a.ndim == 0 or b.ndim == 0 or a.ndim > 2 or b.ndim > 2:
        return jnp.dot(a, b)
    return matmul(a, b)


# ---------------------------------------------------------------------------------------------- indexing
def is_integer_array_index(i) -> bool:
    """An index that gathers rows: an integer array (numpy, JAX or traced) with at least one dimension."""
    if isinstance(i, (bool, int, slice, type(None), type(Ellipsis))):
        return False
    dtype = getattr(i, "dtype", None)
    return dtype is not None and jnp.issubdtype(dtype, jnp.integer) and np.ndim(i) >= 1


def take_rows(x, idx):
    """``x[idx]`` for an integer array ``idx`` (rows of ``x``; negative indices count from the end,
    out-of-range ones are clamped as in ``jnp``); on CPU with loop kernels its gradient adds into the rows
    in a loop instead of a scatter."""
    x = jnp.asarray(x)
    if not loop_kernels_active() or not jnp.issubdtype(x.dtype, jnp.floating):
        return x[idx]
    if isinstance(idx, np.ndarray):  # a constant: its gradient's plan is made now, at trace time
        return _take_rows_constant(x, idx)
    return _take_rows(x, jnp.asarray(idx))


#: at most this many runs are summed as static slices by :func:`_sum_runs`, if they have at least
#: MIN_SLICED_RUN entries
SLICED_RUNS = 16
MIN_SLICED_RUN = 8
#: bucket capacities grow by this factor (padding at most this much work)
BUCKET_GROWTH = 1.5


def _take_rows_constant(x, idx: np.ndarray):
    """``x[idx]`` for a constant integer array ``idx``; the gradient sums each row's entries as contiguous
    runs of the gradient sorted by row (known now), without a scatter or a loop (:func:`_sum_runs`)."""
    n = x.shape[0]
    flat = np.ravel(np.where(idx < 0, idx + n, idx)).astype(np.int64)
    flat = np.clip(flat, 0, n - 1)
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    starts = np.searchsorted(ordered, np.arange(n), side="left")
    ends = np.searchsorted(ordered, np.arange(n), side="right")
    permute = None if np.array_equal(order, np.arange(flat.size)) else order

    @jax.custom_vjp
    def take(x):
        return x[idx]

    def fwd(x):
        return x[idx], None

    def bwd(_, g):
        g = jnp.reshape(g, (flat.size,) + g.shape[idx.ndim:])
        if permute is not None:
            g = g[permute]
        return (_sum_runs(g, starts, ends),)

    take.defvjp(fwd, bwd)
    return take(x)


def _sum_runs(g, starts: np.ndarray, ends: np.ndarray):
    """``out[k] = g[starts[k]:ends[k]].sum(0)`` for static runs (empty runs give zeros).

    The longest runs (at most ``SLICED_RUNS``, of ``MIN_SLICED_RUN`` entries or more) are summed as static
    slices; the others are padded to a few capacities, growing by ``BUCKET_GROWTH``, gathered at once and
    summed along the padding (a padded entry reads an appended zero). A slice per run is fastest to run but
    slowest to compile; the buckets keep most of the speed at a fraction of the compile time."""
    row = g.shape[1:]
    sizes = ends - starts
    n = sizes.shape[0]
    by_size = np.argsort(-sizes, kind="stable")
    sliced = by_size[:SLICED_RUNS][sizes[by_size[:SLICED_RUNS]] >= MIN_SLICED_RUN]
    parts, rows_in_parts = [], []
    if sliced.size:
        parts.append(jnp.stack([jnp.sum(g[starts[k]:ends[k]], axis=0) for k in sliced]))
        rows_in_parts.append(sliced)
    rest = np.setdiff1d(np.arange(n), sliced)
    empty = rest[sizes[rest] == 0]
    rest = rest[sizes[rest] > 0]
    if rest.size:
        # one gather of all buckets' padded entries, then a sum along the padding per bucket
        buckets, low, cap = [], 0, 1
        while low < int(sizes[rest].max()):
            members = rest[(sizes[rest] > low) & (sizes[rest] <= cap)]
            if members.size:
                cols = np.arange(cap)
                take = np.where(cols[None, :] < sizes[members, None], starts[members, None] + cols[None, :],
                                g.shape[0])
                buckets.append((members, take))
            low, cap = cap, max(cap + 1, int(np.ceil(cap * BUCKET_GROWTH)))
        gz = jnp.concatenate([g, jnp.zeros((1,) + row, g.dtype)])
        padded = gz[np.concatenate([t.ravel() for _, t in buckets])]
        at = 0
        for members, take in buckets:
            block = padded[at:at + take.size].reshape(take.shape + row)
            parts.append(jnp.sum(block, axis=1))
            rows_in_parts.append(members)
            at += take.size
    if empty.size:
        parts.append(jnp.zeros((empty.size,) + row, g.dtype))
        rows_in_parts.append(empty)
    where = np.argsort(np.concatenate(rows_in_parts), kind="stable")
    return jnp.concatenate(parts)[where]


@jax.custom_vjp
def _take_rows(x, idx):
    return x[idx]


def _take_rows_fwd(x, idx):
    return x[idx], (idx, x.shape[0])


def _take_rows_bwd(res, g):
    idx, n = res
    flat = jnp.ravel(jnp.clip(jnp.where(idx < 0, idx + n, idx), 0, n - 1))
    g = jnp.reshape(g, (flat.shape[0],) + g.shape[idx.ndim:])
    return _add_into_rows(g, flat, n), None


#: independent accumulators of the scatter-add loop: consecutive rows often go to the same bin (sorted
#: group indices), and one accumulator would wait for each addition to be stored before the next
LANES = 4


def _add_into_rows(g, flat, n):
    """``out[flat[i]] += g[i]`` for every ``i``, as a loop (rows dealt round-robin to ``LANES`` copies of
    ``out``, summed at the end)."""
    m, row = flat.shape[0], g.shape[1:]
    pad = (-m) % LANES
    g = jnp.concatenate([g, jnp.zeros((pad,) + row, g.dtype)]).reshape((-1, LANES) + row)
    flat = jnp.concatenate([flat, jnp.zeros(pad, flat.dtype)]).reshape(-1, LANES)
    zeros = (0,) * len(row)

    def add_rows(r, acc):
        for lane in range(LANES):
            j = flat[r, lane]
            start = (lane, j) + zeros
            cur = jax.lax.dynamic_slice(acc, start, (1, 1) + row)
            acc = jax.lax.dynamic_update_slice(acc, cur + g[r, lane][None, None], start)
        return acc

    acc = jax.lax.fori_loop(0, flat.shape[0], add_rows, jnp.zeros((LANES, n) + row, g.dtype))
    return jnp.sum(acc, axis=0)


_take_rows.defvjp(_take_rows_fwd, _take_rows_bwd)

"""The no-U-turn criterion of nuts-rs (nutpie) for an iteratively built trajectory: a piece of trajectory has
turned when the distance it moved points against the momentum at either end; with the extra checks across sub-tree
boundaries of Stan's and nuts-rs' tree building (see ``merge_is_turning``).

Positions are given relative to the transition's start and multiplied by the direction of integration (+1 forward,
-1 backward in time), so that ``x_b - x_a`` is the distance moved forward in time between leaves in the order they
were integrated. ``(x_b - x_a) . p`` is the same in any coordinates (the metric drops out), which nuts-rs uses in its
whitened space; Stan's generalized criterion instead sums the momenta and needs the velocities ``M^-1 p``."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


def oriented(position: Array, origin: Array, direction) -> Array:
    """``position`` as the checks take it: relative to ``origin`` (the transition's start), times ``direction``."""
    return direction * (position - origin)


def is_turning(p_a: Array, p_b: Array, moved: Array) -> Array:
    """True when a piece of trajectory with end momenta ``p_a``, ``p_b`` that moved by ``moved`` (forward in time)
    turned: it continues while ``p_a . moved > 0`` and ``p_b . moved > 0``."""
    return ~((jnp.sum(p_a * moved) > 0) & (jnp.sum(p_b * moved) > 0))


def merge_is_turning(first_outer: tuple[Array, Array], first_inner: tuple[Array, Array],
                     second_inner: tuple[Array, Array], second_outer: tuple[Array, Array]) -> Array:
    """U-turn test when two adjacent pieces of trajectory are joined (the three checks of Stan and nuts-rs).

    The pieces come one after the other along the direction of integration; each state is ``(momentum,
    position)`` (the position as in the module docstring); ``inner`` states are the two neighbours at the junction,
    ``outer`` states the far ends. Checked: the joined trajectory, the first piece extended by the second's inner
    state, and the second piece extended by the first's inner state.
    """
    (p_fo, x_fo), (p_fi, x_fi), (p_si, x_si), (p_so, x_so) = first_outer, first_inner, second_inner, second_outer
    full = is_turning(p_fo, p_so, x_so - x_fo)
    left = is_turning(p_fo, p_si, x_si - x_fo)
    right = is_turning(p_fi, p_so, x_so - x_fi)
    return full | left | right


class Checkpoints(NamedTuple):
    """What the iterative U-turn checks remember of the leaves that start pending balanced sub-trees.

    Leaves are counted from 0 within the sub-tree being built; ``p_j`` are their momenta and ``x_j`` their
    positions (as in the module docstring). Slot ``i`` holds the latest even leaf ``a`` with ``popcount(a) == i``:

    * ``by_x[i]``: rows ``p_a`` and ``p_{a-1}`` (to be dotted with a new leaf's ``x_n``),
      shape (slots + 1, 2, dim) (the last slot is a spare, see :func:`check_leaf`);
    * ``by_p[i]``: rows ``x_a`` and ``x_{a-1}`` (to be dotted with its ``p_n``), same shape;
    * ``own[i]``: ``p_a . x_a``, ``p_{a-1} . x_{a-1}``, shape (slots + 1, 2);
    * ``link[i]``: with ``b`` the leaf in slot ``i - 1``, ``p_b . x_a`` and ``x_b . p_a``, shape (slots + 1, 2)
      (the checks join a sub-tree's two halves, which start at the leaves of adjacent slots).

    Every check of a new leaf is then a difference of dot products; those that involve stored vectors
    are taken with the new leaf's ``x_n`` and ``p_n`` over the slots the leaf needs (:func:`_slot_dots_and_store`),
    and no stored vector is copied or rewritten per leaf.
    """

    by_x: Array
    by_p: Array
    own: Array
    link: Array


def init_checkpoints(max_treedepth: int, dim: int, dtype) -> Checkpoints:
    """Empty checkpoints with one slot per level of a sub-tree of depth below ``max_treedepth``."""
    rows = max(max_treedepth, 1) + 1  # and a spare slot that odd leaves write to (see check_leaf)
    return Checkpoints(jnp.zeros((rows, 2, dim), dtype), jnp.zeros((rows, 2, dim), dtype),
                       jnp.zeros((rows, 2), dtype), jnp.zeros((rows, 2), dtype))


def first_leaf(ckpts: Checkpoints) -> tuple[Array, Array]:
    """Momentum and position of leaf 0 (always in slot 0)."""
    return ckpts.by_x[0, 0], ckpts.by_p[0, 0]


def check_leaf(ckpts: Checkpoints, n: Array, p: Array, x: Array, prev_p: Array, prev_x: Array, *,
               slot_loop: bool) -> tuple[Checkpoints, Array]:
    """U-turn checks of the sub-trees that leaf ``n`` completes, and the checkpoints with leaf ``n``.

    Leaf ``n`` has momentum ``p = p_n`` and position ``x = x_n``; ``prev_p`` and ``prev_x`` are those of leaf
    ``n - 1``. An odd leaf ``n`` with ``K`` trailing one-bits closes the sub-trees of sizes ``2, 4, ..., 2**K``
    ending at ``n``; the one of size ``2**k`` starts at the leaf ``a`` in slot ``popcount(n) - k``. Each is the join
    of two halves ``[a, m-1]`` and ``[m, n]`` (``m`` is the leaf in the next slot, or ``n`` itself for the smallest
    sub-tree), tested like :func:`merge_is_turning`: the whole ``[a, n]``, ``[a, m]`` and ``[m-1, n]``. An even leaf
    is stored in slot ``popcount(n)`` instead (it completes no sub-tree). ``slot_loop``: see
    :func:`_slot_dots_and_store`.
    """
    slots = ckpts.own.shape[0] - 1
    pc = jax.lax.population_count(n)
    trailing_ones = jax.lax.population_count(n ^ (n + 1)) - 1
    odd = n % 2 == 1
    # the dot products of stored vectors with x_n and p_n; only slots lo .. pc - 1 are read below
    lo = jnp.where(odd, pc - trailing_ones, jnp.maximum(pc - 1, 0))
    # an even leaf goes to slot popcount(n); an odd one writes the same vectors to the spare last slot,
    # which is never read (an unconditional write is done in place, a conditional one would copy)
    j = jnp.where(odd, slots, jnp.minimum(pc, slots - 1))
    rows = jnp.stack([p, prev_p]), jnp.stack([x, prev_x])
    r, by_x, by_p = _slot_dots_and_store(ckpts, x, p, lo, pc, j, *rows, slot_loop=slot_loop)
    pa_xn, pa1_xn = r[:, 0], r[:, 1]  # p_a . x_n, p_{a-1} . x_n
    xa_pn, xa1_pn = r[:, 2], r[:, 3]  # x_a . p_n, x_{a-1} . p_n
    # the new leaf's own dot products
    own_n = jnp.sum(jnp.stack([p * x, p * prev_x, prev_p * x, prev_p * prev_x]), axis=-1)
    pn_xn, pn_xn1, pn1_xn, pn1_xn1 = (own_n[k] for k in range(4))

    # slot i holds a sub-tree's first leaf a, slot i + 1 (static shift by one) its second half's first
    # leaf m, unless that is leaf n itself
    i = jnp.arange(slots)
    valid = (i >= pc - trailing_ones) & (i < pc) & odd
    last = i == pc - 1  # the smallest sub-tree: its second half is leaf n alone (m = n)
    pa_xa = ckpts.own[:slots, 0]
    pa_xm = jnp.where(last, pa_xn[:slots], ckpts.link[1:, 0])
    xa_pm = jnp.where(last, xa_pn[:slots], ckpts.link[1:, 1])
    pm_xm = jnp.where(last, pn_xn, ckpts.own[1:, 0])
    pm1_xn = jnp.where(last, pn1_xn, pa1_xn[1:])  # p_{m-1} . x_n
    pm1_xm1 = jnp.where(last, pn1_xn1, ckpts.own[1:, 1])
    xm1_pn = jnp.where(last, pn_xn1, xa1_pn[1:])  # x_{m-1} . p_n
    pa_xn, xa_pn = pa_xn[:slots], xa_pn[:slots]
    ok = (
        (pa_xn - pa_xa > 0)  # whole [a, n]: p_a . (x_n - x_a)
        & (pn_xn - xa_pn > 0)  # p_n . (x_n - x_a)
        & (pa_xm - pa_xa > 0)  # [a, m]: p_a . (x_m - x_a)
        & (pm_xm - xa_pm > 0)  # p_m . (x_m - x_a)
        & (pm1_xn - pm1_xm1 > 0)  # [m-1, n]: p_{m-1} . (x_n - x_{m-1})
        & (pn_xn - xm1_pn > 0)  # p_n . (x_n - x_{m-1})
    )
    turning = jnp.any(valid & ~ok)

    # the leaf's own dot products, and those with the leaf in the slot before, go where its vectors went
    # (leaf 0 has no slot before: its link row gets the unused row r[0], and link[0] is never read)
    before = jnp.maximum(pc - 1, 0)
    new = Checkpoints(
        by_x,
        by_p,
        _put(ckpts.own, j, 0, jnp.stack([pn_xn, pn1_xn1])),
        _put(ckpts.link, j, 0, jnp.stack([r[before, 0], r[before, 2]])),
    )
    return new, turning


def _slot_dots_and_store(ckpts: Checkpoints, x: Array, p: Array, lo: Array, hi: Array, j: Array,
                         by_x_row: Array, by_p_row: Array, *, slot_loop: bool) -> tuple[Array, Array, Array]:
    """Rows ``lo .. hi - 1`` of ``[p_a . x_n, p_{a-1} . x_n, x_a . p_n, x_{a-1} . p_n]`` (slots + 1, 4; the last
    row, of the spare slot, is not used), then ``by_x`` and ``by_p`` with slot ``j`` set to the given rows.

    With ``slot_loop`` (for XLA:CPU where it compiles the sampler's loops into single kernels: the caller
    knows), a loop over just those slots (one or two on average): a sum over the dimension is a dependent
    chain of additions there, and all slots would cost ``max_treedepth / 2`` times more. The loop also does
    the write, in a last pass (``s == hi``; earlier passes write the spare slot): a loop that only read the
    stored vectors would need its own copy of them, because the write after it updates them in place, and
    that copy, of ``2 (max_treedepth + 1) dim`` values per array and leaf, cost more than all the rest of a
    leaf's bookkeeping. Without it, all slots at once, without a loop. In both cases the rows outside
    ``lo .. hi - 1`` hold values that are not used (the last pass's row ``hi`` is the dot product of a stale
    slot).
    """
    if not slot_loop:
        r = jnp.concatenate([jnp.sum(ckpts.by_x * x, axis=-1), jnp.sum(ckpts.by_p * p, axis=-1)], axis=1)
        return r, _put(ckpts.by_x, j, 0, by_x_row), _put(ckpts.by_p, j, 0, by_p_row)
    spare = ckpts.own.shape[0] - 1

    def one_slot(s, carry):
        out, by_x, by_p = carry
        row = jnp.concatenate([jnp.sum(by_x[s] * x, axis=-1), jnp.sum(by_p[s] * p, axis=-1)])
        w = jnp.where(_always(row) & (s == hi), j, spare)  # see _always: the write waits for the reads
        return _put(out, s, 0, row), _put(by_x, w, 0, by_x_row), _put(by_p, w, 0, by_p_row)

    init = (jnp.zeros((ckpts.own.shape[0], 4), x.dtype), ckpts.by_x, ckpts.by_p)
    return jax.lax.fori_loop(lo, hi + 1, one_slot, init)


def _always(x: Array) -> Array:
    """True, computed from ``x`` (``x >= x`` or ``x != x`` holds for every float, NaN included; XLA does not
    fold it). An in-place write whose index uses it is ordered after the reads that gave ``x``; XLA:CPU
    otherwise copies the whole buffer before each such write (with its default copy insertion, a read not
    upstream of the write may race with it)."""
    return jnp.all((x >= x) | (x != x))


def _put(x: Array, i: Array, axis: int, value: Array) -> Array:
    """``x`` with index ``i`` along ``axis`` set to ``value`` (a dynamic-update-slice: no scatter)."""
    return jax.lax.dynamic_update_index_in_dim(x, value, i, axis)

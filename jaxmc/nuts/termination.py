"""Stan's generalized no-U-turn criterion for an iteratively built trajectory, with the extra checks across
sub-tree boundaries (Stan >= 2.26, nuts-rs): see ``merge_is_turning``."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


def is_turning(p_sharp_a: Array, p_sharp_b: Array, rho: Array) -> Array:
    """True when a trajectory with end velocities ``p_sharp_a``, ``p_sharp_b`` and momentum sum ``rho`` turned.

    The trajectory continues while ``p_sharp_a . rho > 0`` and ``p_sharp_b . rho > 0``; the test is
    symmetric in the two ends, so it does not matter in which time order they come.
    """
    return ~((jnp.sum(p_sharp_a * rho) > 0) & (jnp.sum(p_sharp_b * rho) > 0))


def merge_is_turning(
    first_outer_ps: Array,
    first_inner_p: Array,
    first_inner_ps: Array,
    first_rho: Array,
    second_inner_p: Array,
    second_inner_ps: Array,
    second_outer_ps: Array,
    second_rho: Array,
) -> Array:
    """U-turn test when two adjacent trajectory pieces are joined (Stan's three checks).

    The pieces come one after the other along the direction of integration; ``inner`` states are
    the two neighbouring states at the junction, ``outer`` states the far ends. Checked: the joined
    trajectory, the first piece extended by the second's inner state, and the second piece extended
    by the first's inner state.
    """
    rho = first_rho + second_rho
    full = is_turning(first_outer_ps, second_outer_ps, rho)
    left = is_turning(first_outer_ps, second_inner_ps, first_rho + second_inner_p)
    right = is_turning(first_inner_ps, second_outer_ps, first_inner_p + second_rho)
    return full | left | right


class Checkpoints(NamedTuple):
    """What the iterative U-turn checks remember of the leaves that start pending balanced sub-trees.

    Leaves are counted from 0 within the sub-tree being built; ``S_j = p_0 + ... + p_j`` are momentum
    sums (``S_{-1} = S_{-2} = 0``) and ``ps_j`` velocities (``M^{-1} p_j``). Slot ``i`` holds the latest
    even leaf ``a`` with ``popcount(a) == i``:

    * ``by_rho[i]``: rows ``ps_a`` and ``ps_{a-1}`` (to be dotted with a new leaf's ``S_n``),
      shape (slots + 1, 2, dim) (the last slot is a spare, see :func:`check_leaf`);
    * ``by_p_sharp[i]``: rows ``S_{a-1}`` and ``S_{a-2}`` (to be dotted with its ``ps_n``), same shape;
    * ``own[i]``: ``ps_a . S_{a-1}``, ``ps_{a-1} . S_{a-2}``, ``ps_a . S_a``, shape (slots + 1, 3);
    * ``link[i]``: with ``b`` the leaf in slot ``i - 1``, ``ps_b . S_a`` and ``S_{b-1} . ps_a``, shape
      (slots + 1, 2) (the checks join a sub-tree's two halves, which start at the leaves of adjacent slots).

    Every check of a new leaf is then a difference of dot products; those that involve stored vectors
    are taken with the new leaf's ``S_n`` and ``ps_n`` over the slots the leaf needs (:func:`_slot_dots`),
    and no stored vector is copied or rewritten per leaf.
    """

    by_rho: Array
    by_p_sharp: Array
    own: Array
    link: Array


def init_checkpoints(max_treedepth: int, dim: int, dtype) -> Checkpoints:
    """Empty checkpoints with one slot per level of a sub-tree of depth below ``max_treedepth``."""
    rows = max(max_treedepth, 1) + 1  # and a spare slot that odd leaves write to (see check_leaf)
    return Checkpoints(jnp.zeros((rows, 2, dim), dtype), jnp.zeros((rows, 2, dim), dtype),
                       jnp.zeros((rows, 3), dtype), jnp.zeros((rows, 2), dtype))


def first_p_sharp(ckpts: Checkpoints) -> Array:
    """Velocity of leaf 0 (always in slot 0)."""
    return ckpts.by_rho[0, 0]


def check_leaf(ckpts: Checkpoints, n: Array, p_sharp: Array, rho_before: Array, rho: Array,
               prev_p_sharp: Array, prev_rho_before: Array, *, slot_loop: bool) -> tuple[Checkpoints, Array]:
    """U-turn checks of the sub-trees that leaf ``n`` completes, and the checkpoints with leaf ``n``.

    Leaf ``n`` has velocity ``p_sharp = ps_n``, momentum sums ``rho_before = S_{n-1}`` and ``rho = S_n``;
    ``prev_p_sharp = ps_{n-1}`` and ``prev_rho_before = S_{n-2}`` describe leaf ``n - 1``. An odd leaf ``n``
    with ``K`` trailing one-bits closes the sub-trees of sizes ``2, 4, ..., 2**K`` ending at ``n``; the one
    of size ``2**k`` starts at the leaf ``a`` in slot ``popcount(n) - k``. Each is the join of two halves
    ``[a, m-1]`` and ``[m, n]`` (``m`` is the leaf in the next slot, or ``n`` itself for the smallest
    sub-tree), tested like :func:`merge_is_turning`: the whole ``[a, n]``, ``[a, m]`` and ``[m-1, n]``.
    An even leaf is stored in slot ``popcount(n)`` instead (it completes no sub-tree). ``slot_loop``: see
    :func:`_slot_dots_and_store`.
    """
    slots = ckpts.own.shape[0] - 1
    pc = jax.lax.population_count(n)
    trailing_ones = jax.lax.population_count(n ^ (n + 1)) - 1
    odd = n % 2 == 1
    # the dot products of stored vectors with S_n and ps_n; only slots lo .. pc - 1 are read below
    lo = jnp.where(odd, pc - trailing_ones, jnp.maximum(pc - 1, 0))
    # an even leaf goes to slot popcount(n); an odd one writes the same vectors to the spare last slot,
    # which is never read (an unconditional write is done in place, a conditional one would copy)
    j = jnp.where(odd, slots, jnp.minimum(pc, slots - 1))
    rows = jnp.stack([p_sharp, prev_p_sharp]), jnp.stack([rho_before, prev_rho_before])
    r, by_rho, by_p_sharp = _slot_dots_and_store(ckpts, rho, p_sharp, lo, pc, j, *rows, slot_loop=slot_loop)
    ps_s, pps_s = r[:, 0], r[:, 1]  # ps_a . S_n, ps_{a-1} . S_n
    rb_ps, prb_ps = r[:, 2], r[:, 3]  # S_{a-1} . ps_n, S_{a-2} . ps_n
    # the new leaf's own dot products
    own_n = jnp.sum(jnp.stack([p_sharp * rho, p_sharp * rho_before, p_sharp * prev_rho_before,
                               prev_p_sharp * rho, prev_p_sharp * prev_rho_before]), axis=-1)
    psn_sn, psn_sb, psn_sbb, ppn_sn, ppn_sbb = (own_n[k] for k in range(5))

    # slot i holds a sub-tree's first leaf a, slot i + 1 (static shift by one) its second half's first
    # leaf m, unless that is leaf n itself
    i = jnp.arange(slots)
    valid = (i >= pc - trailing_ones) & (i < pc) & odd
    last = i == pc - 1  # the smallest sub-tree: its second half is leaf n alone (m = n)
    a1 = ckpts.own[:slots, 0]  # ps_a . S_{a-1}
    m_ps_s = jnp.where(last, ps_s[:slots], ckpts.link[1:, 0])  # ps_a . S_m
    m_rb_ps = jnp.where(last, rb_ps[:slots], ckpts.link[1:, 1])  # S_{a-1} . ps_m
    m_own = jnp.where(last, psn_sn, ckpts.own[1:, 2])  # ps_m . S_m
    m_prev = jnp.where(last, ppn_sn, pps_s[1:])  # ps_{m-1} . S_n
    m_prev_own = jnp.where(last, ppn_sbb, ckpts.own[1:, 1])  # ps_{m-1} . S_{m-2}
    m_prb = jnp.where(last, psn_sbb, prb_ps[1:])  # ps_n . S_{m-2}
    ps_s, rb_ps = ps_s[:slots], rb_ps[:slots]
    ok = (
        (ps_s - a1 > 0)  # whole [a, n]: ps_a . (S_n - S_{a-1})
        & (psn_sn - rb_ps > 0)  # ps_n . (S_n - S_{a-1})
        & (m_ps_s - a1 > 0)  # [a, m]: ps_a . (S_m - S_{a-1})
        & (m_own - m_rb_ps > 0)  # ps_m . (S_m - S_{a-1})
        & (m_prev - m_prev_own > 0)  # [m-1, n]: ps_{m-1} . (S_n - S_{m-2})
        & (psn_sn - m_prb > 0)  # ps_n . (S_n - S_{m-2})
    )
    turning = jnp.any(valid & ~ok)

    # the leaf's own dot products, and those with the leaf in the slot before, go where its vectors went
    # (leaf 0 has no slot before: its link row gets the unused row r[0], and link[0] is never read)
    before = jnp.maximum(pc - 1, 0)
    new = Checkpoints(
        by_rho,
        by_p_sharp,
        _put(ckpts.own, j, 0, jnp.stack([psn_sb, ppn_sbb, psn_sn])),
        _put(ckpts.link, j, 0, jnp.stack([r[before, 0], r[before, 2]])),
    )
    return new, turning


def _slot_dots_and_store(ckpts: Checkpoints, rho: Array, p_sharp: Array, lo: Array, hi: Array, j: Array,
                         by_rho_row: Array, by_p_sharp_row: Array, *, slot_loop: bool
                         ) -> tuple[Array, Array, Array]:
    """Rows ``lo .. hi - 1`` of ``[ps_a . S_n, ps_{a-1} . S_n, S_{a-1} . ps_n, S_{a-2} . ps_n]`` (slots + 1,
    4; the last row, of the spare slot, is not used), then ``by_rho`` and ``by_p_sharp`` with slot ``j`` set
    to the given rows.

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
        r = jnp.concatenate([jnp.sum(ckpts.by_rho * rho, axis=-1),
                             jnp.sum(ckpts.by_p_sharp * p_sharp, axis=-1)], axis=1)
        return r, _put(ckpts.by_rho, j, 0, by_rho_row), _put(ckpts.by_p_sharp, j, 0, by_p_sharp_row)
    spare = ckpts.own.shape[0] - 1

    def one_slot(s, carry):
        out, by_rho, by_p_sharp = carry
        row = jnp.concatenate([jnp.sum(by_rho[s] * rho, axis=-1), jnp.sum(by_p_sharp[s] * p_sharp, axis=-1)])
        w = jnp.where(_always(row) & (s == hi), j, spare)  # see _always: the write waits for the reads
        return _put(out, s, 0, row), _put(by_rho, w, 0, by_rho_row), _put(by_p_sharp, w, 0, by_p_sharp_row)

    init = (jnp.zeros((ckpts.own.shape[0], 4), rho.dtype), ckpts.by_rho, ckpts.by_p_sharp)
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

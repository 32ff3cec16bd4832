"""Stan's generalized no-U-turn criterion for an iteratively built trajectory.

Includes the extra checks across sub-tree boundaries (Stan >= 2.26, nuts-rs): see ``merge_is_turning``.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array


def is_turning(p_sharp_a: Array, p_sharp_b: Array, rho: Array) -> Array:
    """True when a trajectory with end velocities ``p_sharp_a``, ``p_sharp_b`` and momentum sum ``rho`` turned.

    The trajectory continues while ``p_sharp_a . rho > 0`` and ``p_sharp_b . rho > 0``; the test is
    symmetric in the two ends, so it does not matter in which time order they come.
    """
    return ~((jnp.dot(p_sharp_a, rho) > 0) & (jnp.dot(p_sharp_b, rho) > 0))


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


# Layout of the per-leaf record used by the iterative check (rows of the checkpoint array). For
# leaf j with momentum sums S_j = p_0 + ... + p_j (within the sub-tree being built):
P_SHARP, RHO_BEFORE, RHO_THROUGH, PREV_P_SHARP, PREV_RHO_BEFORE = range(5)
# p_sharp_j, S_{j-1}, S_j, p_sharp_{j-1}, S_{j-2}


def leaf_record(
    p_sharp: Array, rho_before: Array, rho: Array, prev_p_sharp: Array, prev_rho_before: Array
) -> Array:
    """Stack what the U-turn checks need to know about one leaf (see the row layout above)."""
    return jnp.stack([p_sharp, rho_before, rho, prev_p_sharp, prev_rho_before])


def init_checkpoints(max_treedepth: int, dim: int, dtype) -> Array:
    """Memory of the left-most leaf of every pending balanced sub-tree, one slot per level.

    Slot ``i`` holds the record of the latest even leaf ``a`` with ``popcount(a) == i`` (leaves
    counted from 0 within the sub-tree being built); shape ``(max_treedepth, 5, dim)``.
    """
    return jnp.zeros((max(max_treedepth, 1), 5, dim), dtype)


def update_checkpoints(ckpts: Array, n: Array, record: Array) -> Array:
    """Record leaf ``n`` if it is even (it then starts new balanced sub-trees)."""
    idx = jax.lax.population_count(n)
    return ckpts.at[idx].set(jnp.where(n % 2 == 0, record, ckpts[idx]))  # in place: one row written


def subtree_is_turning(ckpts: Array, n: Array, record: Array) -> Array:
    """Check every balanced sub-tree that leaf ``n`` completes (none when ``n`` is even).

    An odd leaf ``n`` with ``K`` trailing one-bits closes the sub-trees of sizes ``2, 4, ..., 2**K``
    ending at ``n``; the one of size ``2**k`` starts at the leaf in slot ``popcount(n) - k``. Each is
    the join of two halves ``[a, m-1]`` and ``[m, n]``, tested like :func:`merge_is_turning`: the
    whole, ``[a, m]`` and ``[m-1, n]``. The right half starts at the leaf stored in the next slot,
    or is leaf ``n`` alone for the smallest sub-tree. ``ckpts`` must already include leaf ``n``.
    """
    num_slots = ckpts.shape[0]
    pc = jax.lax.population_count(n)
    trailing_ones = jax.lax.population_count(n ^ (n + 1)) - 1
    slots = jnp.arange(num_slots)
    valid = (slots >= pc - trailing_ones) & (slots < pc) & (n % 2 == 1)
    shifted = jnp.concatenate([ckpts[1:], record[None]], axis=0)
    mid = jnp.where((slots == pc - 1)[:, None, None], record[None], shifted)

    p_sharp_n, rho_n = record[P_SHARP], record[RHO_THROUGH]
    p_sharp_a, rho_before_a = ckpts[:, P_SHARP], ckpts[:, RHO_BEFORE]
    full = rho_n - rho_before_a  # leaves a .. n
    left = mid[:, RHO_THROUGH] - rho_before_a  # leaves a .. m
    right = rho_n - mid[:, PREV_RHO_BEFORE]  # leaves m-1 .. n

    def dot(x, y):
        return jnp.sum(x * y, axis=-1)

    ok = (
        (dot(p_sharp_a, full) > 0)
        & (dot(p_sharp_n, full) > 0)
        & (dot(p_sharp_a, left) > 0)
        & (dot(mid[:, P_SHARP], left) > 0)
        & (dot(mid[:, PREV_P_SHARP], right) > 0)
        & (dot(p_sharp_n, right) > 0)
    )
    return jnp.any(valid & ~ok)

"""Stan's generalized no-U-turn criterion for an iteratively built trajectory.

Includes the extra checks across sub-tree boundaries (Stan >= 2.26, nuts-rs); see ``subtree_is_turning``.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


def is_turning(p_sharp_a: Array, p_sharp_b: Array, rho: Array) -> Array:
    """True when a trajectory with end velocities ``p_sharp_a``/``p_sharp_b`` and summed momentum ``rho`` turned.

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


class Checkpoints(NamedTuple):
    """Per-level memory of the left-most state of every pending balanced sub-tree.

    Slot ``i`` holds data of an even leaf ``a`` with ``popcount(a) == i`` (leaves counted from 0 within
    the sub-tree being built): its momentum, velocity, the momentum sum of the leaves before it, and
    the momentum and velocity of the leaf just before it (needed for the boundary checks).
    """

    p: Array
    p_sharp: Array
    rho_before: Array
    prev_p: Array
    prev_p_sharp: Array


def init_checkpoints(max_treedepth: int, dim: int, dtype) -> Checkpoints:
    zeros = jnp.zeros((max(max_treedepth, 1), dim), dtype)
    return Checkpoints(zeros, zeros, zeros, zeros, zeros)


def _popcount(n: Array) -> Array:
    return jax.lax.population_count(n)


def update_checkpoints(
    ckpts: Checkpoints, n: Array, p: Array, p_sharp: Array, rho_before: Array, prev_p: Array, prev_p_sharp: Array
) -> Checkpoints:
    """Record leaf ``n`` if it is even (it then starts new balanced sub-trees)."""
    idx = _popcount(n)
    is_even = (n % 2) == 0

    def put(arr, value):
        return jnp.where(is_even, arr.at[idx].set(value), arr)

    return Checkpoints(
        put(ckpts.p, p),
        put(ckpts.p_sharp, p_sharp),
        put(ckpts.rho_before, rho_before),
        put(ckpts.prev_p, prev_p),
        put(ckpts.prev_p_sharp, prev_p_sharp),
    )


def subtree_is_turning(
    ckpts: Checkpoints,
    n: Array,
    p: Array,
    p_sharp: Array,
    rho_before: Array,
    rho: Array,
    prev_p: Array,
    prev_p_sharp: Array,
) -> Array:
    """Check every balanced sub-tree that leaf ``n`` completes (none when ``n`` is even).

    An odd leaf ``n`` with ``K`` trailing one-bits closes the sub-trees of sizes ``2, 4, ..., 2**K``
    ending at ``n``. Each is the join of two halves, tested with :func:`merge_is_turning`. ``rho`` is
    the momentum sum of leaves ``0..n``, ``rho_before`` that of ``0..n-1``, ``prev_*`` leaf ``n-1``.
    """
    num_slots = ckpts.p.shape[0]
    pc = _popcount(n)
    trailing_ones = _popcount(n ^ (n + 1)) - 1
    slots = jnp.arange(num_slots)
    valid = (slots >= pc - trailing_ones) & (slots < pc) & (n % 2 == 1)
    # The right half of the sub-tree in slot i starts at the leaf stored in slot i + 1, except for
    # the smallest sub-tree (slot pc - 1), whose right half is the current leaf alone.
    is_top = (slots == pc - 1)[:, None]

    def mid(stored, current):
        shifted = jnp.roll(stored, -1, axis=0)
        return jnp.where(is_top, current[None, :], shifted)

    mid_p = mid(ckpts.p, p)
    mid_ps = mid(ckpts.p_sharp, p_sharp)
    mid_rho_before = mid(ckpts.rho_before, rho_before)
    mid_prev_p = mid(ckpts.prev_p, prev_p)
    mid_prev_ps = mid(ckpts.prev_p_sharp, prev_p_sharp)

    first_rho = mid_rho_before - ckpts.rho_before  # leaves a .. m-1
    second_rho = rho[None, :] - mid_rho_before  # leaves m .. n
    turning = jax.vmap(merge_is_turning, in_axes=(0, 0, 0, 0, 0, 0, None, 0))(
        ckpts.p_sharp, mid_prev_p, mid_prev_ps, first_rho, mid_p, mid_ps, p_sharp, second_rho
    )
    return jnp.any(valid & turning)

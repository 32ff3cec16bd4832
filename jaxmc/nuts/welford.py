"""Welford's numerically stable running mean and variance of vectors, as ``(init, update, final)``."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


class WelfordState(NamedTuple):
    """Running ``mean``, sum of squared deviations ``m2`` and sample ``count``."""

    mean: Array
    m2: Array
    count: Array


def init(shape, dtype=jnp.float64) -> WelfordState:
    """Empty accumulator for samples of the given shape."""
    zeros = jnp.zeros(shape, dtype)
    return WelfordState(zeros, zeros, jnp.zeros((), jnp.int32))


def update(state: WelfordState, value: Array, weight=True) -> WelfordState:
    """Add ``value``; when the boolean ``weight`` is False the state is returned unchanged."""
    value = jnp.asarray(value, state.mean.dtype)
    count = state.count + 1
    delta = value - state.mean
    mean = state.mean + delta / count.astype(state.mean.dtype)
    m2 = state.m2 + delta * (value - mean)
    new = WelfordState(mean, m2, count)
    return jax.tree_util.tree_map(lambda n, o: jnp.where(weight, n, o), new, state)


def final(state: WelfordState, ddof: int = 1) -> tuple[Array, Array]:
    """``(mean, variance)``; the variance divides by ``count - ddof``."""
    denom = (state.count - ddof).astype(state.mean.dtype)
    return state.mean, state.m2 / denom

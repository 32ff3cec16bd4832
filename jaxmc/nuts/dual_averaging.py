"""Nesterov dual averaging of the log step size towards a target acceptance statistic.

Stan's constants (gamma=0.05, t0=10, kappa=0.75, mu=log(10*eps0)); ``final`` gives ``step_size_bar``.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


class DualAveragingState(NamedTuple):
    """Iterate ``log_step_size`` and its weighted average ``log_step_size_avg`` (log step_size_bar)."""

    log_step_size: Array
    log_step_size_avg: Array
    hbar: Array  # running average of (target - acceptance)
    mu: Array  # shrinkage point of the iterates
    count: Array  # number of updates done so far


def init(step_size, mu_factor: float = 10.0) -> DualAveragingState:
    """Start (or restart) at ``step_size`` with ``mu = log(mu_factor * step_size)``."""
    step_size = jnp.asarray(step_size)
    log_eps = jnp.log(step_size)
    zero = jnp.zeros((), step_size.dtype)
    return DualAveragingState(
        log_eps, log_eps, zero, jnp.log(mu_factor * step_size), jnp.zeros((), jnp.int32)
    )


def update(
    state: DualAveragingState,
    acceptance: Array,
    target: float,
    gamma: float = 0.05,
    t0: float = 10.0,
    kappa: float = 0.75,
) -> DualAveragingState:
    """One dual-averaging iteration given the acceptance statistic of the last transition and the ``target``."""
    dtype = state.log_step_size.dtype
    acceptance = jnp.minimum(jnp.asarray(acceptance, dtype), 1.0)
    acceptance = jnp.where(jnp.isnan(acceptance), jnp.zeros((), dtype), acceptance)
    count = state.count + 1
    t = count.astype(dtype)
    eta = 1.0 / (t + t0)
    hbar = (1.0 - eta) * state.hbar + eta * (target - acceptance)
    log_eps = state.mu - jnp.sqrt(t) * hbar / gamma
    weight = t ** (-kappa)
    log_eps_avg = weight * log_eps + (1.0 - weight) * state.log_step_size_avg
    return DualAveragingState(log_eps, log_eps_avg, hbar, state.mu, count)


def current(state: DualAveragingState) -> Array:
    """The step size to use for the next transition while adapting."""
    return jnp.exp(state.log_step_size)


def final(state: DualAveragingState) -> Array:
    """The averaged step size (``step_size_bar``) used after adaptation."""
    return jnp.exp(state.log_step_size_avg)

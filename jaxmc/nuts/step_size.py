"""Heuristics for an initial leapfrog step size: Stan's ``init_stepsize`` and nutpie's (nuts-rs) search.

Both double or halve the step size until a one-leapfrog acceptance statistic crosses a threshold.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .integrator import IntegratorState, LogDensityFn, hamiltonian, leapfrog, sample_momentum
from .nuts import HMCState

Array = jax.Array


def _energy_change(logdensity_fn, state: HMCState, momentum, step_size, inv_mass):
    """``H0 - H`` after one leapfrog step; ``-inf`` when the new energy is NaN."""
    start = IntegratorState(state.position, momentum, state.logdensity, state.logdensity_grad)
    end = leapfrog(logdensity_fn, start, step_size, inv_mass)
    delta = hamiltonian(start, inv_mass) - hamiltonian(end, inv_mass)
    return jnp.where(jnp.isnan(delta), -jnp.inf, delta)


class _StanCarry(NamedTuple):
    step_size: Array
    direction: Array
    key: Array
    done: Array
    count: Array


def stan_init_step_size(
    logdensity_fn: LogDensityFn,
    key: Array,
    state: HMCState,
    inv_mass: Array,
    step_size: Array,
    max_iter: int = 100,
) -> Array:
    """Stan's ``base_hmc::init_stepsize``.

    One leapfrog step from ``state`` with fresh momentum each try; the step size is doubled while
    ``H0 - H > log(0.8)`` (or halved while it is below), i.e. until the one-step acceptance
    probability crosses 0.8. Stan throws outside ``(0, 1e7]``; here the search stops at
    ``[1e-10, 1e7]`` or after ``max_iter`` tries.
    """
    dtype = state.position.dtype
    step_size = jnp.asarray(step_size, dtype)
    log_threshold = jnp.log(jnp.asarray(0.8, dtype))
    key, sub = jax.random.split(key)
    delta = _energy_change(logdensity_fn, state, sample_momentum(sub, inv_mass), step_size, inv_mass)
    direction = jnp.where(delta > log_threshold, 1, -1)

    def cond(c: _StanCarry):
        return ~c.done & (c.count < max_iter)

    def body(c: _StanCarry):
        key, sub = jax.random.split(c.key)
        delta = _energy_change(
            logdensity_fn, state, sample_momentum(sub, inv_mass), c.step_size, inv_mass
        )
        stop = jnp.where(c.direction == 1, ~(delta > log_threshold), ~(delta < log_threshold))
        new = jnp.where(c.direction == 1, 2.0 * c.step_size, 0.5 * c.step_size)
        new = jnp.where(stop, c.step_size, new)
        stop = stop | (new > 1e7) | (new < 1e-10)
        return _StanCarry(new, c.direction, key, stop, c.count + 1)

    out = jax.lax.while_loop(
        cond, body, _StanCarry(step_size, direction, key, jnp.bool_(False), jnp.int32(0))
    )
    return jnp.clip(out.step_size, 1e-10, 1e7)


class _NutpieCarry(NamedTuple):
    step_size: Array
    done: Array
    found: Array
    count: Array


def nutpie_init_step_size(
    logdensity_fn: LogDensityFn,
    key: Array,
    state: HMCState,
    inv_mass: Array,
    initial_step: Array,
    target_accept: float = 0.8,
    max_energy_error: float = 1000.0,
    max_iter: int = 100,
) -> tuple[Array, Array]:
    """nuts-rs' step-size search; returns ``(step_size, found)``.

    One momentum draw is used throughout. Starting at ``initial_step``, the one-leapfrog acceptance
    ``min(1, exp(H0 - H))`` decides the direction; the step size is then doubled until the
    acceptance drops to ``target_accept`` or below (or the step exceeds 1e5), or halved until it
    reaches ``target_accept`` (or the step is below 1e-10). A divergent leapfrog or no result within
    ``max_iter`` tries gives back ``initial_step`` with ``found = False``; nuts-rs only restarts its
    dual averaging when ``found`` is True.
    """
    dtype = state.position.dtype
    initial_step = jnp.asarray(initial_step, dtype)
    momentum = sample_momentum(key, inv_mass)

    def accept_stat(step_size):
        delta = _energy_change(logdensity_fn, state, momentum, step_size, inv_mass)
        diverged = ~(-delta <= max_energy_error)
        return jnp.exp(jnp.minimum(delta, 0.0)), diverged

    accept0, diverged0 = accept_stat(initial_step)
    forward = accept0 > target_accept

    def cond(c: _NutpieCarry):
        return ~c.done & (c.count < max_iter)

    def body(c: _NutpieCarry):
        accept, diverged = accept_stat(c.step_size)
        stop_fwd = (accept <= target_accept) | (c.step_size > 1e5)
        stop_bwd = (accept >= target_accept) | (c.step_size < 1e-10)
        found = jnp.where(forward, stop_fwd, stop_bwd) & ~diverged
        new = jnp.where(forward, 2.0 * c.step_size, 0.5 * c.step_size)
        new = jnp.where(found, c.step_size, jnp.where(diverged, initial_step, new))
        return _NutpieCarry(new, found | diverged, found, c.count + 1)

    out = jax.lax.while_loop(
        cond, body, _NutpieCarry(initial_step, diverged0, jnp.bool_(False), jnp.int32(0))
    )
    step_size = jnp.where(out.found, out.step_size, initial_step)
    return step_size, out.found

"""Searches for a leapfrog step size: Stan's ``init_stepsize`` and nutpie's (nuts-rs), each one ``while_loop``
that doubles or halves the step size until a one-leapfrog acceptance statistic crosses a threshold."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import rng
from .integrator import IntegratorState, LogDensityFn, hamiltonian, leapfrog, sample_momentum
from .nuts import HMCState

Array = jax.Array

#: Stan's ``init_stepsize`` searches until the one-leapfrog acceptance probability crosses 0.8: a constant of
#: Stan's algorithm (``base_hmc``), not the user's ``target_accept`` (Stan's search does not read that)
STAN_INIT_ACCEPT = 0.8


def _energy_change(logdensity_fn, state: HMCState, momentum, step_size, inv_mass):
    """``H0 - H`` after one leapfrog step; ``-inf`` when the new energy is NaN."""
    start = IntegratorState(state.position, momentum, state.logdensity, state.logdensity_grad)
    end = leapfrog(logdensity_fn, start, step_size, inv_mass)
    delta = hamiltonian(start, inv_mass) - hamiltonian(end, inv_mass)
    return jnp.where(jnp.isnan(delta), -jnp.inf, delta)


class _StanCarry(NamedTuple):
    count: Array
    step_size: Array
    direction: Array
    done: Array


def stan_init_step_size(
    logdensity_fn: LogDensityFn,
    key: Array,
    state: HMCState,
    inv_mass: Array,
    step_size: Array,
    enabled=True,
    max_iter: int = 100,
) -> Array:
    """Stan's ``base_hmc::init_stepsize``; returns ``step_size`` unchanged when not ``enabled`` (then the loop
    runs no iteration, so the search can sit in a vmapped step function without a ``cond``).

    One leapfrog step from ``state`` with fresh momentum each try. The first try fixes the
    direction; the step size is then doubled while ``H0 - H > log(0.8)`` (or halved while it is
    below), i.e. until the one-step acceptance probability crosses :data:`STAN_INIT_ACCEPT` = 0.8.
    Stan throws outside ``(0, 1e7]``; here the search stops inside ``[1e-10, 1e7]`` or after
    ``max_iter`` tries.
    """
    dtype = state.position.dtype
    seed = rng.seed_of(key)
    step_size = jnp.asarray(step_size, dtype)
    log_threshold = jnp.log(jnp.asarray(STAN_INIT_ACCEPT, dtype))

    def cond(c: _StanCarry):
        return ~c.done

    def body(c: _StanCarry):
        momentum = sample_momentum(rng.substream(seed, c.count), inv_mass)
        delta = _energy_change(logdensity_fn, state, momentum, c.step_size, inv_mass)
        above = delta > log_threshold
        first = c.count == 0
        direction = jnp.where(first, jnp.where(above, 1, -1), c.direction)
        stop = ~first & jnp.where(direction == 1, ~above, ~(delta < log_threshold))
        grown = jnp.where(direction == 1, 2.0 * c.step_size, 0.5 * c.step_size)
        new = jnp.where(first | stop, c.step_size, grown)
        out_of_range = (new > 1e7) | (new < 1e-10)
        done = stop | out_of_range | (c.count + 1 >= max_iter)
        return _StanCarry(c.count + 1, jnp.clip(new, 1e-10, 1e7), direction, done)

    init = _StanCarry(jnp.int32(0), step_size, jnp.int32(1), ~jnp.asarray(enabled))
    return jax.lax.while_loop(cond, body, init).step_size


class _NutpieCarry(NamedTuple):
    count: Array
    step_size: Array
    forward: Array
    done: Array
    found: Array


def nutpie_init_step_size(
    logdensity_fn: LogDensityFn,
    key: Array,
    state: HMCState,
    inv_mass: Array,
    initial_step: Array,
    target_accept: float,
    divergence_threshold: float,
    enabled=True,
    max_iter: int = 100,
    momentum: Array | None = None,
) -> tuple[Array, Array]:
    """nuts-rs' step-size search; returns ``(step_size, found)``.

    One momentum draw is used throughout. A first leapfrog with ``initial_step`` decides the
    direction from its acceptance ``min(1, exp(H0 - H))``; then (up to ``max_iter`` tries) the step
    size is doubled until the acceptance drops to ``target_accept`` or below (or the step exceeds
    1e5), or halved until it reaches ``target_accept`` (or the step is below 1e-10). A divergent
    leapfrog (energy error above ``divergence_threshold``, nuts-rs' ``max_energy_error`` as in the
    trajectories), no result, or ``enabled`` False (no iteration runs) give ``(initial_step, False)``;
    nuts-rs only restarts its dual averaging when ``found`` is True. The momentum is drawn from ``key``
    unless ``momentum`` is given (the sampler passes the transition's own draw: one normal draw less to
    compile and to run).
    """
    dtype = state.position.dtype
    initial_step = jnp.asarray(initial_step, dtype)

    def cond(c: _NutpieCarry):
        return ~c.done

    def body(c: _NutpieCarry):
        # the same draw in every try; drawn inside the loop (a search runs in a few transitions of a run)
        p = sample_momentum(key, inv_mass) if momentum is None else momentum
        delta = _energy_change(logdensity_fn, state, p, c.step_size, inv_mass)
        accept = jnp.exp(jnp.minimum(delta, 0.0))
        diverged = ~(-delta <= divergence_threshold)
        first = c.count == 0
        forward = jnp.where(first, accept > target_accept, c.forward)
        stop_fwd = (accept <= target_accept) | (c.step_size > 1e5)
        stop_bwd = (accept >= target_accept) | (c.step_size < 1e-10)
        found = ~first & ~diverged & jnp.where(forward, stop_fwd, stop_bwd)
        grown = jnp.where(forward, 2.0 * c.step_size, 0.5 * c.step_size)
        new = jnp.where(first | found, c.step_size, grown)
        done = found | diverged | (c.count >= max_iter)
        return _NutpieCarry(c.count + 1, new, forward, done, found)

    init = _NutpieCarry(jnp.int32(0), initial_step, jnp.bool_(True), ~jnp.asarray(enabled), jnp.bool_(False))
    out = jax.lax.while_loop(cond, body, init)
    return jnp.where(out.found, out.step_size, initial_step), out.found

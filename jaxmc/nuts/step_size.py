"""Searches for a leapfrog step size, Stan's ``init_stepsize`` and nutpie's (nuts-rs): state machines that double or
halve the step size after each one-leapfrog try until its acceptance statistic crosses a threshold."""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from . import rng
from .integrator import IntegratorState, LogDensityFn, hamiltonian, leapfrog, sample_momentum
from .nuts import HMCState

Array = jax.Array

#: Stan's ``init_stepsize`` searches until the one-leapfrog acceptance probability crosses 0.8: a constant of
#: Stan's algorithm (``base_hmc``), not the user's ``target_accept`` (Stan's search does not read that)
STAN_INIT_ACCEPT = 0.8
#: most tries of a search
MAX_TRIES = 100


class SearchState(NamedTuple):
    """Where a search stands: ``count`` tries made, ``step_size`` that of the next try (the result once ``done``),
    ``forward`` (doubling, else halving), ``found`` (nutpie: the threshold was crossed), ``initial`` (where the search
    started), ``seed`` (Stan: the seed of each try's momentum)."""

    count: Array
    step_size: Array
    forward: Array
    done: Array
    found: Array
    initial: Array
    seed: Array


class Search(NamedTuple):
    """A step-size search: its state and pure functions. A try is one leapfrog step from the transition's start with
    ``state.step_size`` and the momentum ``momentum(state, inv_mass)`` (None: the transition's own draw), giving the
    energy change ``delta = H0 - H`` (``-inf`` when NaN); ``update(state, delta)`` takes it in; ``result(state)`` is
    the step size settled on. A search whose state is ``done`` from the start (none was due) makes no try, and the
    step size stays. The NUTS kernel makes the tries on its own leapfrog (:func:`.nuts.build_kernel`: one call site
    of the model's gradient in the compiled program); :func:`run` makes them in a loop of its own."""

    state: SearchState
    momentum: Callable[[SearchState, Array], Array] | None
    update: Callable[[SearchState, Array], SearchState]
    result: Callable[[SearchState], Array]


def _start(step_size, enabled, dtype, seed=None) -> SearchState:
    step_size = jnp.asarray(step_size, dtype)
    seed = jnp.zeros((), jnp.uint64) if seed is None else seed
    return SearchState(jnp.int32(0), step_size, jnp.bool_(True), ~jnp.asarray(enabled), jnp.bool_(False), step_size,
                       seed)


def stan_search(key: Array, step_size, dtype, enabled=True, max_tries: int = MAX_TRIES) -> Search:
    """Stan's ``base_hmc::init_stepsize`` from ``step_size``; no try when not ``enabled`` (the result is then
    ``step_size``).

    A fresh momentum for each try (drawn from ``key``). The first try fixes the direction; the step size is then
    doubled while ``H0 - H > log(0.8)`` (or halved while it is below), i.e. until the one-step acceptance probability
    crosses :data:`STAN_INIT_ACCEPT` = 0.8. Stan throws outside ``(0, 1e7]``; here the search stops inside
    ``[1e-10, 1e7]`` or after ``max_tries`` tries.
    """
    log_threshold = jnp.log(jnp.asarray(STAN_INIT_ACCEPT, dtype))

    def momentum(s: SearchState, metric):
        return sample_momentum(rng.substream(s.seed, s.count), metric)

    def update(s: SearchState, delta):
        above = delta > log_threshold
        first = s.count == 0
        forward = jnp.where(first, above, s.forward)
        stop = ~first & jnp.where(forward, ~above, ~(delta < log_threshold))
        grown = jnp.where(forward, 2.0 * s.step_size, 0.5 * s.step_size)
        new = jnp.where(first | stop, s.step_size, grown)
        out_of_range = (new > 1e7) | (new < 1e-10)
        done = s.done | stop | out_of_range | (s.count + 1 >= max_tries)
        return s._replace(count=s.count + 1, step_size=jnp.clip(new, 1e-10, 1e7), forward=forward, done=done)

    return Search(_start(step_size, enabled, dtype, rng.seed_of(key)), momentum, update, lambda s: s.step_size)


def nutpie_search(initial_step, target_accept: float, divergence_threshold: float, dtype, enabled=True,
                  max_tries: int = MAX_TRIES) -> Search:
    """nuts-rs' step-size search from ``initial_step``.

    The transition's momentum in every try. A first leapfrog with ``initial_step`` decides the direction from its
    acceptance ``min(1, exp(H0 - H))``; then (up to ``max_tries`` more tries) the step size is doubled until the
    acceptance drops to ``target_accept`` or below (or the step exceeds 1e5), or halved until it reaches
    ``target_accept`` (or the step is below 1e-10). A divergent leapfrog (energy error above
    ``divergence_threshold``, nuts-rs' ``max_energy_error`` as in the trajectories) or no result end the search
    with ``found`` False and the result ``initial_step`` (nuts-rs only restarts its dual averaging when one is found).
    """

    def update(s: SearchState, delta):
        accept = jnp.exp(jnp.minimum(delta, 0.0))
        diverged = ~(-delta <= divergence_threshold)
        first = s.count == 0
        forward = jnp.where(first, accept > target_accept, s.forward)
        stop_fwd = (accept <= target_accept) | (s.step_size > 1e5)
        stop_bwd = (accept >= target_accept) | (s.step_size < 1e-10)
        found = ~first & ~diverged & jnp.where(forward, stop_fwd, stop_bwd)
        grown = jnp.where(forward, 2.0 * s.step_size, 0.5 * s.step_size)
        new = jnp.where(first | found, s.step_size, grown)
        done = s.done | found | diverged | (s.count >= max_tries)
        return s._replace(count=s.count + 1, step_size=new, forward=forward, done=done, found=found)

    def result(s: SearchState):
        return jnp.where(s.found, s.step_size, s.initial)

    return Search(_start(initial_step, enabled, dtype), None, update, result)


def energy_change(delta: Array) -> Array:
    """A try's ``H0 - H`` as the searches take it: ``-inf`` for NaN."""
    return jnp.where(jnp.isnan(delta), -jnp.inf, delta)


def run(search: Search, logdensity_fn: LogDensityFn, state: HMCState, inv_mass, step_size,
        momentum=None) -> tuple[Array, SearchState]:
    """Make the search's tries in a loop of its own (samplers without the NUTS kernel; ``momentum``: the transition's
    draw, for a search that uses it); returns the step size settled on (``step_size`` when no search was due) and
    the final state."""

    def body(s: SearchState):
        p = momentum if search.momentum is None else search.momentum(s, inv_mass)
        start = IntegratorState(state.position, p, state.logdensity, state.logdensity_grad)
        end = leapfrog(logdensity_fn, start, s.step_size, inv_mass)
        return search.update(s, energy_change(hamiltonian(start, inv_mass) - hamiltonian(end, inv_mass)))

    final = jax.lax.while_loop(lambda s: ~s.done, body, search.state)
    return jnp.where(search.state.done, jnp.asarray(step_size, final.step_size.dtype), search.result(final)), final

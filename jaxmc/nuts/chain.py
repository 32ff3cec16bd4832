"""One MCMC chain as ``(init_fn, step_fn)``: NUTS transitions plus warm-up adaptation keyed by step index.

This is the contract used by the sampling driver: ``step_fn`` is scanned over ``(keys, step_indices)``
and vmapped over chains; indices below ``num_tune`` adapt, later ones sample with fixed tuning.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from . import nuts, rng
from .adaptation import build_adaptation
from .integrator import LogDensityFn
from .nuts import HMCState

Array = jax.Array

STAT_NAMES = (
    "lp",
    "acceptance_rate",
    "step_size",
    "step_size_bar",
    "tree_depth",
    "n_steps",
    "diverging",
    "energy",
    "max_energy_error",
    "reached_max_treedepth",
)


class ChainState(NamedTuple):
    """Everything a chain carries between steps; ``step_size``/``inv_mass`` are used by the next step."""

    hmc: HMCState
    adapt: Any  # NutpieAdaptState or StanAdaptState
    step_size: Array
    inv_mass: Array


def build_chain(
    logdensity_fn: LogDensityFn,
    num_tune: int,
    *,
    adaptation: str = "nutpie",
    target_accept: float = 0.8,
    max_treedepth: int = 10,
    init_step_size: float | None = None,
) -> tuple[Callable[[Array, Array], ChainState], Callable[[ChainState, tuple[Array, Array]], tuple]]:
    """Build ``init_fn(key, position) -> ChainState`` and ``step_fn(state, (key, step_index))``.

    ``logdensity_fn`` maps a flat position vector to a scalar (it may close over traced arrays).
    ``init_fn`` evaluates the density and sets the initial mass matrix (nutpie: ``1/|grad|``,
    Stan: unit). The initial step size is searched at the start of the first ``step_fn`` call (so
    the search is compiled once, with the searches the adaptation needs later): nutpie's (one
    momentum draw; double/halve from ``init_step_size`` = 0.1 until the one-leapfrog acceptance
    crosses ``target_accept``) or Stan's ``init_stepsize`` (fresh momentum per try; from
    ``init_step_size`` = 1.0 until the one-leapfrog acceptance crosses 0.8). ``step_fn`` returns
    ``(new_state, (position, stats))`` with ``stats`` keyed by :data:`STAT_NAMES`; ``step_size``
    there is the one used for that draw. ``step_index`` may be batched or not under ``vmap``.
    """
    num_tune = int(num_tune)
    kernel = nuts.build_kernel(logdensity_fn, max_treedepth=max_treedepth)
    adapt = build_adaptation(adaptation, logdensity_fn, num_tune, target_accept, init_step_size)

    def init_fn(key: Array, position: Array) -> ChainState:
        del key  # the initial step-size search runs at the start of the first step
        hmc = nuts.init(position, logdensity_fn)
        adapt_state, step_size, inv_mass = adapt.init(hmc)
        return ChainState(hmc, adapt_state, step_size, inv_mass)

    def step_fn(state: ChainState, xs: tuple[Array, Array]):
        key, step_index = xs
        seed = rng.seed_of(key)  # hashed sub-streams: no Threefry code per transition
        key_search, key_nuts = rng.substream(seed, 2), rng.substream(seed, 3)
        # one momentum draw for the transition and for a step-size search before it (nutpie's search
        # uses one draw; searches happen in warm-up only): a single normal draw to compile and run
        momentum = nuts.transition_randomness(key_nuts, max_treedepth).momentum(state.inv_mass)
        adapt_state, step_size = adapt.prepare(
            state.adapt, key_search, state.hmc, state.step_size, state.inv_mass, momentum=momentum
        )
        hmc, info = kernel(key_nuts, state.hmc, step_size, state.inv_mass, momentum=momentum)

        def tune(_):
            return adapt.update(adapt_state, step_index, hmc, info, step_size, state.inv_mass)

        def keep(_):
            return adapt_state, step_size, state.inv_mass

        new_adapt, new_step_size, inv_mass = jax.lax.cond(step_index < num_tune, tune, keep, None)
        stats = {
            "lp": info.lp,
            "acceptance_rate": info.acceptance_rate,
            "step_size": step_size,
            "step_size_bar": adapt.step_size_bar(new_adapt),
            "tree_depth": info.tree_depth,
            "n_steps": info.n_steps,
            "diverging": info.diverging,
            "energy": info.energy,
            "max_energy_error": info.max_energy_error,
            "reached_max_treedepth": info.reached_max_treedepth,
        }
        new_state = ChainState(hmc, new_adapt, new_step_size, inv_mass)
        return new_state, (hmc.position, stats)

    return init_fn, step_fn

"""One MCMC chain as a :class:`Chain` of pure functions: NUTS transitions plus warm-up adaptation keyed by step
index, the contract used by the sampling driver (steps looped over, vmapped over chains)."""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax

from . import nuts, rng
from .adaptation_low_rank import select_adaptation
from .integrator import LogDensityFn
from .nuts import HMCState
from .options import NUTSOptions

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
    """Everything a chain carries between steps; ``step_size``/``inv_mass`` (the metric: a diagonal vector or a
    :class:`.metric.Metric`) are used by the next step."""

    hmc: HMCState
    adapt: Any  # NutpieAdaptState, StanAdaptState or LowRankAdaptState
    step_size: Array
    inv_mass: Any


class Chain(NamedTuple):
    """A chain's pure functions (:func:`build_chain`).

    * ``init(logdensity_fn, key, position) -> ChainState``;
    * ``step(logdensity_fn, state, (key, step_index)) -> (state, (position, stats))``: one step, warm-up included;
    * ``transition``: the same without the warm-up's refits, which the caller then applies between steps:
      ``refit(state, step_index)`` after step ``step_index`` refits the metric where ``refit_due(state,
      step_index)`` is true (a branch) and returns ``state`` unchanged elsewhere. ``refit_due`` gives None when the
      warm-up of the state's metric never refits (the diagonal schemes): ``transition`` is then ``step``. A loop of
      ``transition`` alone holds no matrix decomposition, sort or product, which XLA:CPU compiles into one kernel
      (docs/xla.md); ``step`` is ``transition`` followed by ``refit``.
    """

    init: Callable[[LogDensityFn, Array, Array], ChainState]
    step: Callable[..., tuple]
    transition: Callable[..., tuple]
    refit_due: Callable[[ChainState, Any], Any]
    refit: Callable[[ChainState, Any], ChainState]


def build_chain(num_tune: int, options: NUTSOptions, *, slot_loop: bool = False) -> Chain:
    """Build the :class:`Chain` of ``options``.

    ``logdensity_fn`` maps a flat position vector to a scalar (it may close over traced arrays); it is
    passed at each call, so one chain serves densities that change between steps (a compound step's
    discrete values), as long as ``state.hmc`` holds its value and gradient (:func:`.nuts.init`). Steps
    with ``step_index < num_tune`` adapt (:func:`.adaptation_low_rank.select_adaptation` of ``options``), later ones
    sample with fixed tuning; ``slot_loop`` goes to :func:`.nuts.build_kernel`.

    ``init`` evaluates the density and sets the initial mass matrix (nutpie and low-rank: ``1/|grad|``,
    Stan: unit). The initial step size is searched at the start of the first step, by the NUTS kernel before its
    trajectory (so the search is compiled once, on the kernel's leapfrog, with the searches the adaptation needs
    later): nutpie's (the transition's momentum; double/halve from ``init_step_size`` until the one-leapfrog acceptance
    crosses ``target_accept``) or Stan's ``init_stepsize`` (fresh momentum per try; from ``init_step_size`` until the
    one-leapfrog acceptance crosses Stan's 0.8). ``stats`` are keyed by :data:`STAT_NAMES`;
    ``step_size`` there is the one used for that draw. ``step_index`` may be batched or not under ``vmap``.
    """
    num_tune = int(num_tune)
    max_treedepth = options.max_treedepth
    kernel = nuts.build_kernel(max_treedepth, options.divergence_threshold, slot_loop=slot_loop)
    adapt = select_adaptation(num_tune, options)

    def init_fn(logdensity_fn: LogDensityFn, key: Array, position: Array) -> ChainState:
        del key  # the initial step-size search runs at the start of the first step
        hmc = nuts.init(position, logdensity_fn)
        adapt_state, step_size, inv_mass = adapt.init(hmc)
        return ChainState(hmc, adapt_state, step_size, inv_mass)

    def transition_fn(logdensity_fn: LogDensityFn, state: ChainState, xs: tuple[Array, Array]):
        key, step_index = xs
        seed = rng.seed_of(key)  # hashed sub-streams: no Threefry code per transition
        key_search, key_nuts = rng.substream(seed, 2), rng.substream(seed, 3)
        # one momentum draw for the transition and for a step-size search before it (nutpie's search
        # uses one draw; searches happen in warm-up only): a single normal draw to compile and run
        momentum = nuts.transition_randomness(key_nuts, max_treedepth).momentum(state.inv_mass)
        # a step-size search (warm-up only) is made by the kernel before the trajectory, on its leapfrog: the
        # model's gradient has one call site in the compiled program
        search = adapt.search(state.adapt, key_search, state.step_size, state.hmc.position.dtype)
        hmc, info = kernel(logdensity_fn, key_nuts, state.hmc, state.step_size, state.inv_mass, momentum=momentum,
                           search=search)
        adapt_state, step_size = adapt.searched(state.adapt, info.search), info.step_size

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

    def refit_due(state: ChainState, step_index):
        return adapt.refit_due(step_index, state.inv_mass)

    def refit(state: ChainState, step_index) -> ChainState:
        due = refit_due(state, step_index)
        if due is None:
            return state

        def fit(s: ChainState) -> ChainState:
            adapt_state, inv_mass = adapt.refit(s.adapt, step_index, s.inv_mass)
            return s._replace(adapt=adapt_state, inv_mass=inv_mass)

        return jax.lax.cond(due, fit, lambda s: s, state)

    def step_fn(logdensity_fn: LogDensityFn, state: ChainState, xs: tuple[Array, Array]):
        new_state, out = transition_fn(logdensity_fn, state, xs)
        return refit(new_state, xs[1]), out

    return Chain(init_fn, step_fn, transition_fn, refit_due, refit)

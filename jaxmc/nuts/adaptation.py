"""Warm-up adaptation of step size and diagonal mass matrix (nutpie's and Stan's schemes), as pure functions
keyed by the step index, so that one compiled program serves warm-up and sampling."""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import dual_averaging as da
from . import step_size as step_size_search
from . import welford
from .integrator import LogDensityFn, sample_momentum
from .nuts import HMCState, NUTSInfo
from .options import NUTSOptions

Array = jax.Array

# nuts-rs clips the mass-matrix variances to this range
VARIANCE_CLIP = (1e-20, 1e20)
# where each scheme's first step-size search starts unless NUTSOptions.init_step_size is set: nuts-rs'
# StepSizeSettings.initial_step, Stan's stepsize
NUTPIE_INITIAL_STEP = 0.1
STAN_INITIAL_STEP = 1.0


class Adaptation(NamedTuple):
    """Pure functions of one warm-up scheme (``step_index`` is the index of the draw just made).

    * ``init(hmc_state) -> (adapt_state, step_size, inv_mass)``: the initial step-size search is
      left pending;
    * ``search(adapt_state, key, step_size, dtype) -> step_size.Search``: the step-size search due before the next
      transition (none in most steps: the search is then done before any try), which the NUTS kernel makes on its own
      leapfrog (:func:`prepare` makes it in a loop of its own);
    * ``searched(adapt_state, search_state) -> adapt_state``: after the transition's search (``search_state``: its
      final state), e.g. dual averaging restarted at the step size found;
    * ``update(adapt_state, step_index, hmc_state, info, step_size, inv_mass)
      -> (adapt_state, step_size, inv_mass)``: after each tuning transition (``step_index <
      num_tune``); at the last tuning step the step size becomes ``step_size_bar``;
    * ``step_size_bar(adapt_state)``: the dual-averaging average;
    * ``refit_due(step_index, inv_mass)``: whether ``refit`` follows the update of that step (a function of the
      step index alone), or None when the scheme never refits this metric;
    * ``refit(adapt_state, step_index, inv_mass) -> (adapt_state, inv_mass)``: the expensive part of an update
      (a new metric fitted to the window), kept out of ``update`` so that the sampler runs it between steps, outside
      the loop of transitions (which XLA:CPU then compiles into one kernel, docs/xla.md).
    """

    init: Callable
    search: Callable
    searched: Callable
    update: Callable
    step_size_bar: Callable
    refit_due: Callable = lambda step_index, inv_mass: None
    refit: Callable | None = None


def prepare(adapt: Adaptation, logdensity_fn: LogDensityFn, state, key, hmc: HMCState, step_size, metric,
            momentum=None):
    """The step-size search due before a transition made in a loop of its own (samplers without the NUTS kernel);
    returns the adaptation state after it and the transition's step size. ``momentum``: the transition's draw (drawn
    from ``key`` when not given) for the searches that use it."""
    search = adapt.search(state, key, step_size, hmc.position.dtype)
    if search.momentum is None and momentum is None:
        momentum = sample_momentum(key, metric)
    eps, final = step_size_search.run(search, logdensity_fn, hmc, metric, step_size, momentum)
    return adapt.searched(state, final), eps


def tree_where(pred, a, b):
    """``a`` where ``pred`` else ``b``, leaf by leaf."""
    return jax.tree_util.tree_map(lambda x, y: jnp.where(pred, x, y), a, b)


# --------------------------------------------------------------------------------------------
# nutpie (nuts-rs) gradient-based diagonal adaptation
# --------------------------------------------------------------------------------------------


class NutpieSchedule(NamedTuple):
    """nuts-rs ``EuclideanAdaptOptions`` defaults, resolved for a given ``num_tune``."""

    early_end: int  # draws before this use the early switch frequency
    final_window: int  # draws from here on keep the mass matrix fixed
    switch_freq: int = 80  # the first window after the early window
    early_switch_freq: int = 10
    update_freq: int = 1
    window_growth: float = 1.5  # each later window is this much longer than the one before


def nutpie_schedule(
    num_tune: int,
    early_window: float = 0.3,
    step_size_window: float = 0.15,
    mass_matrix_switch_freq: int = 80,
    early_mass_matrix_switch_freq: int = 10,
    mass_matrix_update_freq: int = 1,
    mass_matrix_window_growth: float = 1.5,
) -> NutpieSchedule:
    step_window = int(step_size_window * num_tune)
    return NutpieSchedule(
        early_end=int(early_window * num_tune),
        final_window=max(num_tune - step_window, 0),
        switch_freq=mass_matrix_switch_freq,
        early_switch_freq=early_mass_matrix_switch_freq,
        update_freq=mass_matrix_update_freq,
        window_growth=mass_matrix_window_growth,
    )


class NutpieAdaptState(NamedTuple):
    """Foreground/background running variances of draws and gradients, plus dual averaging."""

    dual_avg: da.DualAveragingState
    draw: welford.WelfordState
    grad: welford.WelfordState
    draw_bg: welford.WelfordState
    grad_bg: welford.WelfordState
    has_initial_mass_matrix: Array  # True until the mass matrix is first changed
    last_update: Array
    search_pending: Array  # do the step-size search before the next transition
    window_size: Array  # draws the background needs for the next switch after the early window


def inv_mass_from_grad(grad: Array) -> Array:
    """nuts-rs' initial variance: ``1 / |grad|`` clipped; non-finite entries become 1."""
    var = 1.0 / jnp.clip(jnp.abs(grad), *VARIANCE_CLIP)
    return jnp.where(jnp.isfinite(var), var, jnp.ones_like(var))


def inv_mass_from_draws_grads(draw_var: Array, grad_var: Array, previous: Array) -> Array:
    """``sqrt(var(draws) / var(grads))`` clipped; non-finite or zero entries keep ``previous`` (the two may be sums
    of squares instead of variances: only their ratio counts)."""
    var = jnp.sqrt(draw_var / grad_var)
    ok = jnp.isfinite(var) & (var != 0)
    return jnp.where(ok, jnp.clip(var, *VARIANCE_CLIP), previous)


def nutpie_search_fns(options: NUTSOptions, initial_step: float) -> tuple[Callable, Callable]:
    """The ``search`` and ``searched`` of nutpie's schemes (diagonal and low-rank): a pending step-size search from
    ``initial_step`` with the transition's momentum, which restarts dual averaging where it finds one; the state
    needs ``dual_avg`` and ``search_pending``."""

    def search(state, key, step_size, dtype):
        del key, step_size
        return step_size_search.nutpie_search(initial_step, options.target_accept, options.divergence_threshold,
                                              dtype, enabled=state.search_pending)

    def searched(state, final: step_size_search.SearchState):
        dual_avg = tree_where(final.found, da.init(final.step_size), state.dual_avg)
        return state._replace(dual_avg=dual_avg, search_pending=jnp.bool_(False))

    return search, searched


class NutpieWindow(NamedTuple):
    """Where a warm-up draw stands in nutpie's mass-matrix windows (the diagonal and the low-rank scheme)."""

    draw: Array  # the step index, int32
    in_mass_phase: Array  # before the final window, where the mass matrix stays fixed
    is_early: Array  # in the early window (the early switch frequency)
    switch_freq: Array  # background draws that allow a switch
    is_late: Array  # no switch: the window after it would not end before the final window
    add: Array  # the draw enters the windows (it moved; a divergent one only beyond 4 steps)
    size: Array  # the window size of the state after this draw when it does not switch
    next_size: Array  # the same when it switches

    def window_size(self, switch):
        """The ``window_size`` to keep after this draw."""
        return jnp.where(switch & ~self.is_early, self.next_size, self.size)


def nutpie_window(sched: NutpieSchedule, step_index, info: NUTSInfo, window_size, background) -> NutpieWindow:
    """The window phase of the transition just made at ``step_index``: ``window_size`` is the state's (initially
    ``sched.switch_freq``), ``background`` the draws in the background window before this one.

    After the early window the windows grow: each switch multiplies the next window's length by
    ``sched.window_growth``; the first one is at least as long as the background gathered by then. No switch happens
    once the next window would not end before the final window (nuts-rs ``GlobalStrategy``)."""
    draw = jnp.asarray(step_index, jnp.int32)
    in_mass_phase = draw < sched.final_window
    is_early = draw < sched.early_end
    size = jnp.where(draw == sched.early_end, jnp.maximum(window_size, background), window_size)
    switch_freq = jnp.where(is_early, sched.early_switch_freq, size)
    grown = jnp.floor(size * sched.window_growth + 0.5).astype(jnp.int32)
    next_size = jnp.where(is_early, sched.early_switch_freq, jnp.maximum(size + 1, grown))
    idx = info.index_in_trajectory
    is_good = jnp.where(info.diverging, jnp.abs(idx) > 4, idx != 0)
    return NutpieWindow(draw, in_mass_phase, is_early, switch_freq, next_size + draw > sched.final_window,
                        in_mass_phase & is_good, size, next_size)


def nutpie_step_size(dual_avg, window: NutpieWindow, info: NUTSInfo, num_tune: int, target_accept: float):
    """Dual averaging on the acceptance rate (nutpie's symmetric one once no switch can happen); returns the new
    dual-averaging state, the step size (the average at the last tuning step) and whether this is that step."""
    late = ~window.in_mass_phase | window.is_late
    accept = jnp.where(late, info.acceptance_rate_sym, info.acceptance_rate)
    dual_avg = da.update(dual_avg, accept, target_accept)
    last = window.draw == num_tune - 1
    return dual_avg, jnp.where(last, da.final(dual_avg), da.current(dual_avg)), last


def nutpie_adaptation(num_tune: int, options: NUTSOptions, schedule: NutpieSchedule | None = None) -> Adaptation:
    """nutpie / nuts-rs default adaptation (``DiagGradNutsSettings``) to ``options.target_accept``.

    * Init: the variance estimate is ``1 / |grad|`` at the initial point, which also seeds the
      running variances; the step size is searched from ``options.init_step_size`` (default
      :data:`NUTPIE_INITIAL_STEP`; see :func:`~jaxmc.nuts.step_size.nutpie_search`, whose
      divergences are those of ``options.divergence_threshold``).
    * For draws before ``final_window`` (the last 15% of tuning keep the mass matrix fixed), the
      draw and its gradient enter a foreground and a background running variance (skipped when
      the draw did not move, or for a divergent draw within 4 steps of the start). When the
      background holds ``switch_freq`` draws (10 in the first 30% of tuning, then 80) and enough
      mass-matrix draws remain, it replaces the foreground and a new background starts. The
      variance is set to ``sqrt(var(draws) / var(grads))`` after every draw (foreground of 3+).
    * Step size: dual averaging on the mean acceptance rate; once no more switches can happen it
      uses nutpie's symmetric acceptance statistic. The first time the mass matrix changes the
      step size is searched again and dual averaging restarts.
    """
    sched = nutpie_schedule(num_tune) if schedule is None else schedule
    target_accept = options.target_accept
    initial_step = initial_step_of(options, NUTPIE_INITIAL_STEP)

    def init(hmc: HMCState):
        dtype = hmc.position.dtype
        shape = hmc.position.shape
        first = lambda x: welford.update(welford.init(shape, dtype), x)  # noqa: E731
        step_size = jnp.asarray(initial_step, dtype)
        state = NutpieAdaptState(
            da.init(step_size),
            first(hmc.position),
            first(hmc.logdensity_grad),
            first(hmc.position),
            first(hmc.logdensity_grad),
            jnp.bool_(True),
            jnp.int32(0),
            jnp.bool_(True),
            jnp.int32(sched.switch_freq),
        )
        return state, step_size, inv_mass_from_grad(hmc.logdensity_grad)

    search, searched = nutpie_search_fns(options, initial_step)

    def update(state: NutpieAdaptState, step_index, hmc: HMCState, info: NUTSInfo, step_size, inv_mass):
        window = nutpie_window(sched, step_index, info, state.window_size, state.draw_bg.count)
        draw, in_mass_phase, add = window.draw, window.in_mass_phase, window.add
        dtype = hmc.position.dtype
        fg_draw = welford.update(state.draw, hmc.position, add)
        fg_grad = welford.update(state.grad, hmc.logdensity_grad, add)
        bg_draw = welford.update(state.draw_bg, hmc.position, add)
        bg_grad = welford.update(state.grad_bg, hmc.logdensity_grad, add)

        could_switch = bg_draw.count >= window.switch_freq
        switch = in_mass_phase & could_switch & ~window.is_late
        empty = welford.init(hmc.position.shape, dtype)
        fg_draw = tree_where(switch, bg_draw, fg_draw)
        fg_grad = tree_where(switch, bg_grad, fg_grad)
        bg_draw = tree_where(switch, empty, bg_draw)
        bg_grad = tree_where(switch, empty, bg_grad)

        want_update = switch | (draw - state.last_update >= sched.update_freq)
        did_change = in_mass_phase & want_update & (fg_draw.count >= 3)
        _, draw_var = welford.final(fg_draw)
        _, grad_var = welford.final(fg_grad)
        new_inv_mass = jnp.where(
            did_change, inv_mass_from_draws_grads(draw_var, grad_var, inv_mass), inv_mass
        )
        last_update = jnp.where(did_change, draw, state.last_update)

        dual_avg, new_step, last = nutpie_step_size(state.dual_avg, window, info, num_tune, target_accept)
        # the first change of the mass matrix triggers a new step-size search (made before the next transition)
        search_due = did_change & state.has_initial_mass_matrix & ~last
        new_state = NutpieAdaptState(
            dual_avg,
            fg_draw,
            fg_grad,
            bg_draw,
            bg_grad,
            state.has_initial_mass_matrix & ~did_change,
            last_update,
            search_due,
            window.window_size(switch),
        )
        return new_state, new_step.astype(dtype), new_inv_mass

    def step_size_bar(state: NutpieAdaptState):
        return da.final(state.dual_avg)

    return Adaptation(init, search, searched, update, step_size_bar)


# --------------------------------------------------------------------------------------------
# Stan windowed adaptation
# --------------------------------------------------------------------------------------------


class StanSchedule(NamedTuple):
    """Resolved Stan windows: the metric is learned for ``window_start <= i < window_stop`` and
    updated at the steps listed in ``window_ends``."""

    window_start: int
    window_stop: int
    window_ends: tuple[int, ...]


def stan_schedule(
    num_tune: int, init_buffer: int = 75, term_buffer: int = 50, base_window: int = 25
) -> StanSchedule:
    """Stan's ``windowed_adaptation`` (including its rescaling when ``num_tune`` is short)."""
    if num_tune < 20:  # Stan: "No adaptation will take place"
        return StanSchedule(0, 0, ())
    if init_buffer + base_window + term_buffer > num_tune:
        init_buffer = int(0.15 * num_tune)
        term_buffer = int(0.1 * num_tune)
        base_window = num_tune - (init_buffer + term_buffer)
    last = num_tune - term_buffer - 1
    window_size = base_window
    next_window = init_buffer + window_size - 1
    ends = []
    for counter in range(num_tune):
        if counter == next_window:
            ends.append(counter)
            if next_window == last:
                continue
            window_size *= 2
            next_window = counter + window_size
            if next_window != last and next_window + 2 * window_size >= num_tune - term_buffer:
                next_window = last
    return StanSchedule(init_buffer, num_tune - term_buffer, tuple(ends))


class StanAdaptState(NamedTuple):
    """Dual averaging plus the running variance of the current slow window."""

    dual_avg: da.DualAveragingState
    draw: welford.WelfordState
    search_pending: Array  # search a step size (and restart dual averaging) before the next transition


def stan_adaptation(num_tune: int, options: NUTSOptions, schedule: StanSchedule | None = None) -> Adaptation:
    """Stan's windowed adaptation for ``diag_e`` NUTS, to ``options.target_accept``.

    Unit mass matrix and :func:`~jaxmc.nuts.step_size.stan_search` from ``options.init_step_size``
    (default :data:`STAN_INITIAL_STEP`) at init (dual averaging with ``mu = log(10 * init_step_size)``);
    dual averaging at every tuning step; at each slow-window end (see :func:`stan_schedule`) the variance
    of the window's draws becomes ``n/(n+5) * var + 1e-3 * 5/(n+5)``, the step size is searched again
    from the current one and dual averaging restarts with ``mu = log(10 * step_size)``.
    """
    sched = stan_schedule(num_tune) if schedule is None else schedule
    ends = np.asarray(sched.window_ends, dtype=np.int32)
    target_accept = options.target_accept
    initial_step = initial_step_of(options, STAN_INITIAL_STEP)

    def init(hmc: HMCState):
        dtype = hmc.position.dtype
        step_size = jnp.asarray(initial_step, dtype)
        state = StanAdaptState(
            da.init(step_size), welford.init(hmc.position.shape, dtype), jnp.bool_(True)
        )
        return state, step_size, jnp.ones_like(hmc.position)

    def search(state: StanAdaptState, key, step_size, dtype):
        # a fresh momentum for each try
        return step_size_search.stan_search(key, step_size, dtype, enabled=state.search_pending)

    def searched(state: StanAdaptState, final: step_size_search.SearchState):
        # Stan sets mu = log(10 * stepsize) with the user's stepsize before the first search, and
        # with the searched one (restarting dual averaging) at every window end
        pending, eps = state.search_pending, final.step_size
        restart = pending & (state.dual_avg.count > 0)
        log_eps = jnp.log(eps)
        first = state.dual_avg._replace(log_step_size=log_eps, log_step_size_avg=log_eps)
        dual_avg = tree_where(restart, da.init(eps), tree_where(pending, first, state.dual_avg))
        return state._replace(dual_avg=dual_avg, search_pending=jnp.bool_(False))

    def update(state: StanAdaptState, step_index, hmc: HMCState, info: NUTSInfo, step_size, inv_mass):
        counter = jnp.asarray(step_index, jnp.int32)
        dtype = hmc.position.dtype
        dual_avg = da.update(state.dual_avg, info.acceptance_rate, target_accept)
        in_window = (counter >= sched.window_start) & (counter < sched.window_stop)
        draw = welford.update(state.draw, hmc.position, in_window)
        is_end = jnp.any(counter == ends) if ends.size else jnp.bool_(False)
        n = draw.count.astype(dtype)
        _, var = welford.final(draw)
        var = (n / (n + 5.0)) * var + 1e-3 * (5.0 / (n + 5.0))
        new_inv_mass = jnp.where(is_end, var, inv_mass)
        draw = tree_where(is_end, welford.init(hmc.position.shape, dtype), draw)
        last = counter == num_tune - 1
        new_step = jnp.where(last, da.final(dual_avg), da.current(dual_avg))
        # at a window end Stan searches a step size from the current one and restarts dual
        # averaging (before the next transition)
        new_state = StanAdaptState(dual_avg, draw, is_end & ~last)
        return new_state, new_step.astype(dtype), new_inv_mass

    def step_size_bar(state: StanAdaptState):
        return da.final(state.dual_avg)

    return Adaptation(init, search, searched, update, step_size_bar)


#: the warm-up schemes by name (``NUTSOptions.adaptation``): ``factory(num_tune, options) -> Adaptation``
ADAPTATIONS = {"nutpie": nutpie_adaptation, "stan": stan_adaptation}


def build_adaptation(num_tune: int, options: NUTSOptions) -> Adaptation:
    """The scheme named ``options.adaptation`` (a key of :data:`ADAPTATIONS`) for ``num_tune`` warm-up steps."""
    name = options.adaptation
    if name not in ADAPTATIONS:
        raise ValueError(f"unknown adaptation {name!r}; choose one of {sorted(ADAPTATIONS)}")
    return ADAPTATIONS[name](int(num_tune), options)


def initial_step_of(options: NUTSOptions, default: float) -> float:
    """Where a scheme's first step-size search starts: ``options.init_step_size``, else the scheme's ``default``."""
    return default if options.init_step_size is None else float(options.init_step_size)

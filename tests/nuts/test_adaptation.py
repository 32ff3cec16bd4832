"""Warm-up schedules and the nutpie mass-matrix adaptation, driven with synthetic draws."""
import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.nuts import DEFAULTS, nuts
from jaxmc.nuts.adaptation import nutpie_adaptation, nutpie_schedule, prepare, stan_schedule


def test_stan_schedule_default():
    s = stan_schedule(1000)
    assert (s.window_start, s.window_stop) == (75, 950)
    assert s.window_ends == (99, 149, 249, 449, 949)


def test_stan_schedule_short_tuning_is_rescaled_like_stan():
    # 75 + 25 + 50 > 100: Stan uses 15% / 75% / 10%
    s = stan_schedule(100)
    assert (s.window_start, s.window_stop, s.window_ends) == (15, 90, (89,))
    s = stan_schedule(150)  # exactly fits: one window
    assert (s.window_start, s.window_stop, s.window_ends) == (75, 100, (99,))
    s = stan_schedule(500)
    assert s.window_ends == (99, 149, 249, 449)
    assert stan_schedule(19).window_ends == ()  # Stan: no adaptation below 20 iterations


def test_nutpie_schedule_default():
    s = nutpie_schedule(1000)
    assert (s.early_end, s.final_window) == (300, 850)
    assert (s.early_switch_freq, s.switch_freq, s.update_freq, s.window_growth) == (10, 80, 1, 1.5)


def _synthetic_run(num_tune, scales, seed=0):
    """Feed i.i.d. Gaussian draws (and their exact gradients) to the nutpie update."""
    dim = scales.shape[0]

    def logdensity(x):
        return -0.5 * jnp.sum((x / scales) ** 2)

    adapt = nutpie_adaptation(num_tune, DEFAULTS)

    @jax.jit
    def run(key):
        key_init, key_draws = jax.random.split(key)
        hmc = nuts.init(jnp.ones(dim), logdensity)
        state, step_size, inv_mass = adapt.init(hmc)
        draws = jax.random.normal(key_draws, (num_tune, dim)) * scales

        def step(carry, xs):
            state, step_size, inv_mass = carry
            i, x = xs
            hmc = nuts.HMCState(x, logdensity(x), -x / scales**2)
            info = nuts.NUTSInfo(
                acceptance_rate=jnp.asarray(0.8),
                tree_depth=jnp.int32(2),
                n_steps=jnp.int32(3),
                diverging=jnp.bool_(False),
                energy=jnp.asarray(0.0),
                max_energy_error=jnp.asarray(0.1),
                reached_max_treedepth=jnp.bool_(False),
                lp=hmc.logdensity,
                acceptance_rate_sym=jnp.asarray(0.8),
                index_in_trajectory=jnp.int32(2),
            )
            state, step_size = prepare(adapt, logdensity, state, jax.random.fold_in(key_init, i), hmc, step_size,
                                       inv_mass)
            state, step_size, inv_mass = adapt.update(state, i, hmc, info, step_size, inv_mass)
            out = (state.draw_bg.count, state.draw.count, inv_mass, state.search_pending, step_size)
            return (state, step_size, inv_mass), out

        return jax.lax.scan(step, (state, step_size, inv_mass), (jnp.arange(num_tune), draws))

    return run(jax.random.key(seed))


def test_nutpie_window_switching_and_estimate():
    scales = jnp.array([1e-3, 1.0, 30.0])
    (state, step_size, inv_mass), (bg, fg, inv_masses, pending, step_sizes) = _synthetic_run(1000, scales)
    bg, fg, inv_masses = np.asarray(bg), np.asarray(fg), np.asarray(inv_masses)
    # early phase: the background (started with the initial point) is swapped in every 10 draws
    switches = np.flatnonzero(bg == 0)
    assert switches[0] == 8 and np.all(np.diff(switches[switches < 300]) == 10)
    # later: windows of 80, then 120 draws (each 1.5x the one before); the next one, 180 draws, would have to end
    # before the final step-size window (850) with 270 draws to spare, so there is none
    late = switches[switches >= 300]
    np.testing.assert_array_equal(late, [378, 498])
    np.testing.assert_array_equal(fg[late], [80, 120])
    assert np.all(fg[switches[switches < 300][1:]] == 10)
    assert bg[849] == 849 - 498
    # the mass matrix is first updated after the third point (initial point + 2 draws), which makes
    # a step-size search due; it stays fixed in the final window
    np.testing.assert_array_equal(np.flatnonzero(pending), [1])
    assert np.all(inv_masses[850:] == inv_masses[849])
    # sqrt(var(x) / var(grad)) = scale**2 for Gaussian draws
    ratio = inv_masses[849] / np.asarray(scales) ** 2
    assert np.all((ratio > 0.8) & (ratio < 1.25))
    # last tuning step: the step size becomes the dual-averaging average
    np.testing.assert_allclose(step_sizes[-1], np.exp(state.dual_avg.log_step_size_avg), rtol=1e-12)

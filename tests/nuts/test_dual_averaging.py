"""Dual averaging and Welford accumulators against plain numpy transcriptions."""
import jax.numpy as jnp
import numpy as np

from jaxmc.nuts import dual_averaging, welford


def numpy_dual_averaging(eps0, accepts, delta=0.8, gamma=0.05, t0=10.0, kappa=0.75):
    """Stan's stepsize_adaptation::learn_stepsize, step by step."""
    mu, s_bar, x_bar = np.log(10 * eps0), 0.0, 0.0
    out = []
    for counter, a in enumerate(accepts, start=1):
        a = min(a, 1.0)
        eta = 1.0 / (counter + t0)
        s_bar = (1.0 - eta) * s_bar + eta * (delta - a)
        x = mu - s_bar * np.sqrt(counter) / gamma
        x_eta = counter ** (-kappa)
        x_bar = (1.0 - x_eta) * x_bar + x_eta * x
        out.append((np.exp(x), np.exp(x_bar)))
    return out


def test_dual_averaging_matches_stan():
    accepts = np.random.default_rng(0).uniform(0.3, 1.2, size=60)
    state = dual_averaging.init(jnp.asarray(0.37))
    expected = numpy_dual_averaging(0.37, accepts)
    for a, (eps, eps_bar) in zip(accepts, expected):
        state = dual_averaging.update(state, a, 0.8)
        np.testing.assert_allclose(dual_averaging.current(state), eps, rtol=1e-12)
        np.testing.assert_allclose(dual_averaging.final(state), eps_bar, rtol=1e-12)
    assert int(state.count) == 60


def test_dual_averaging_moves_towards_target():
    state = dual_averaging.init(jnp.asarray(1.0))
    for _ in range(200):  # acceptance too low: the step size must shrink
        state = dual_averaging.update(state, 0.2, 0.8)
    assert dual_averaging.final(state) < 0.1
    state = dual_averaging.init(jnp.asarray(1.0))
    for _ in range(200):  # acceptance too high: the step size must grow
        state = dual_averaging.update(state, 1.0, 0.8)
    assert dual_averaging.final(state) > 10.0


def test_dual_averaging_keeps_float32():
    state = dual_averaging.init(jnp.asarray(0.5, jnp.float32))
    state = dual_averaging.update(state, jnp.float32(0.6), 0.8)
    assert state.log_step_size.dtype == jnp.float32
    assert state.log_step_size_avg.dtype == jnp.float32


def test_welford_matches_numpy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3)) * np.array([1e-3, 1.0, 1e3]) + np.array([5.0, -2.0, 1e4])
    keep = rng.uniform(size=50) < 0.7
    state = welford.init((3,), jnp.float64)
    for xi, k in zip(x, keep):
        state = welford.update(state, xi, k)
    mean, var = welford.final(state)
    np.testing.assert_allclose(mean, x[keep].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(var, x[keep].var(axis=0, ddof=1), rtol=1e-10)
    _, var0 = welford.final(state, ddof=0)
    np.testing.assert_allclose(var0, x[keep].var(axis=0), rtol=1e-10)
    assert int(state.count) == keep.sum()

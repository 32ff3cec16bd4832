"""The ``build_chain`` contract used by the sampling driver: stats, traced data, reproducibility, float32
(most checks reuse the cached 100-d normal run of ``nuts_testing``)."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxmc.nuts import ADAPTATIONS, DEFAULTS, STAT_NAMES, build_chain
from tests.nuts.nuts_testing import NUM_CHAINS, NUM_DRAWS, NUM_TUNE, chain_fns, chain_keys, result, scan_chain


def test_stats_contract():
    r = result("normal100", "nutpie")
    stats = r.all_stats
    assert set(stats) == set(STAT_NAMES)
    n = NUM_TUNE + NUM_DRAWS
    assert r.positions.shape == (NUM_CHAINS, n, 100)
    for name, value in stats.items():
        assert value.shape == (NUM_CHAINS, n), name
    assert stats["tree_depth"].dtype == jnp.int32 and stats["n_steps"].dtype == jnp.int32
    assert stats["diverging"].dtype == jnp.bool_ and stats["reached_max_treedepth"].dtype == jnp.bool_
    for name in ("lp", "acceptance_rate", "step_size", "step_size_bar", "energy", "max_energy_error"):
        assert stats[name].dtype == jnp.float64, name
        assert np.all(np.isfinite(stats[name])), name
    # tuning moves the step size; from the last tuning step on it is step_size_bar
    step = np.asarray(stats["step_size"])
    assert np.all(np.ptp(step[:, :NUM_TUNE], axis=1) > 0)
    np.testing.assert_allclose(step[:, NUM_TUNE], stats["step_size_bar"][:, NUM_TUNE - 1], rtol=1e-12)


def test_same_key_gives_bit_identical_draws():
    r = result("normal100", "nutpie")
    _, again, stats = r.run(r.keys)
    np.testing.assert_array_equal(r.positions, again)
    for name in STAT_NAMES:
        np.testing.assert_array_equal(r.all_stats[name], stats[name])


def test_chain_does_not_depend_on_its_neighbours():
    """Chain 0 gives the same draws whatever the other chains in the vmapped batch do."""
    r = result("normal100", "nutpie")
    keys = r.keys.at[1:].set(jax.random.split(jax.random.key(99), NUM_CHAINS - 1))
    _, mixed, _ = r.run(keys)
    np.testing.assert_array_equal(r.positions[0], mixed[0])
    assert not np.array_equal(r.positions[1], mixed[1])


def test_chain_alone_matches_vmapped_chain():
    """A chain run alone (a separately compiled batch of one) gives the vmapped chain's draws.

    XLA may fuse the batched program differently, so the two agree to rounding error (not bit for
    bit); with the step size fixed after tuning such differences stay at that level.
    """
    r = result("normal100", "nutpie")
    _, alone, stats = r.run(r.keys[2:3])
    np.testing.assert_allclose(alone[0], r.positions[2], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(stats["n_steps"][0], r.all_stats["n_steps"][2])


SCALES = jnp.array([0.5, 1.0, 2.0])
SHORT_TUNE, SHORT_DRAWS = 200, 400


@functools.partial(jax.jit, static_argnames=("adaptation",))
def run_with_data(data, keys, adaptation="nutpie"):
    """Driver-like use: ``build_chain`` inside jit, the log density closing over traced ``data``."""

    def logdensity(x):
        return -0.5 * jnp.sum(((x - data) / SCALES.astype(data.dtype)) ** 2)

    init_fn, step_fn = chain_fns(SHORT_TUNE, adaptation=adaptation)

    def one_chain(key):
        key_init, key_steps = jax.random.split(key)
        return scan_chain(init_fn, step_fn, logdensity, key_init, key_steps, jnp.zeros_like(data),
                          SHORT_TUNE + SHORT_DRAWS)

    return jax.vmap(one_chain)(keys)


DATA = jnp.array([1.0, -2.0, 3.0])
KEYS = chain_keys(7, 3)


def test_float32_with_traced_data():
    data = DATA.astype(jnp.float32)
    state, (positions, stats) = run_with_data(data, KEYS)
    assert positions.dtype == jnp.float32
    for leaf in jax.tree_util.tree_leaves(state):
        assert leaf.dtype in (jnp.float32, jnp.int32, jnp.bool_), leaf.dtype
    for name in ("lp", "acceptance_rate", "step_size", "step_size_bar", "energy", "max_energy_error"):
        assert stats[name].dtype == jnp.float32, name
        assert np.all(np.isfinite(stats[name])), name
    assert not stats["diverging"][:, SHORT_TUNE:].any()
    draws = np.asarray(positions[:, SHORT_TUNE:], dtype=np.float64).reshape(-1, 3)
    se = np.asarray(SCALES) / np.sqrt(draws.shape[0] / 4)  # generous: ESS >= a quarter of the draws
    assert np.all(np.abs(draws.mean(axis=0) - np.asarray(DATA)) < 4 * se)  # the data were used
    np.testing.assert_allclose(draws.std(axis=0), np.asarray(SCALES), rtol=0.25)


@pytest.mark.parametrize("adaptation", ADAPTATIONS)
def test_float32_types_are_stable_without_compiling(adaptation):
    """Tracing alone checks the dtypes: scan and while_loop reject a carry whose type changes."""
    state, (positions, stats) = jax.eval_shape(
        functools.partial(run_with_data, adaptation=adaptation), DATA.astype(jnp.float32), KEYS
    )
    assert positions.dtype == jnp.float32
    assert all(stats[name].dtype == jnp.float32 for name in ("lp", "step_size", "energy"))


def test_unknown_adaptation_is_rejected():
    with pytest.raises(ValueError, match="unknown adaptation"):
        build_chain(10, DEFAULTS._replace(adaptation="pymc"))


def test_no_tuning_traces():
    def logdensity(x):
        return -0.5 * jnp.sum(x**2)

    init_fn, step_fn = build_chain(0, DEFAULTS)[:2]
    state = jax.eval_shape(functools.partial(init_fn, logdensity), jax.random.key(0), jnp.ones(2))
    _, (position, stats) = jax.eval_shape(functools.partial(step_fn, logdensity), state,
                                          (jax.random.key(1), jnp.int32(0)))
    assert position.shape == (2,) and set(stats) == set(STAT_NAMES)

"""The NUTS kernel alone: trajectories against nuts-rs' recursion, and invariance of the target (one compiled,
vmapped kernel per ``slot_loop`` serves all tests: the log-density parameters are traced arguments)."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from jaxmc.nuts import DEFAULTS, nuts, termination
from tests.nuts.nuts_testing import SLOT_LOOP
from tests.nuts.tree_reference import tree_shape

DIM, BATCH = 5, 4096
COV = np.array([[1.0, 0.99], [0.99, 1.0]])
PRECISIONS = {
    "corr": np.block([[np.linalg.inv(COV), np.zeros((2, 3))], [np.zeros((3, 2)), np.eye(3)]]),
    "banana": np.diag([0.25, 0.0, 1.0, 1.0, 1.0]),
    "scales": np.diag(np.logspace(-1, 1, DIM) ** -2.0),
}
BANANA = {"corr": 0.0, "banana": 4.0, "scales": 0.0}


def logdensity(x, precision, banana):
    """Gaussian with the given precision, plus a banana-shaped term in the first two coordinates."""
    return -0.5 * x @ (precision @ x) - 0.5 * banana * (x[1] - 0.5 * x[0] ** 2) ** 2


MAX_TREEDEPTH = 8


@functools.partial(jax.jit, static_argnames="slot_loop")
def kernel(keys, positions, step_sizes, inv_masses, precision, banana, slot_loop=SLOT_LOOP):
    """One transition for each of ``BATCH`` independent states."""
    fn = functools.partial(logdensity, precision=precision, banana=banana)
    k = nuts.build_kernel(MAX_TREEDEPTH, DEFAULTS.divergence_threshold, slot_loop=slot_loop)

    def one(key, position, step_size, inv_mass):
        return k(fn, key, nuts.init(position, fn), step_size, inv_mass)

    return jax.vmap(one)(keys, positions, step_sizes, inv_masses)


@pytest.mark.parametrize("name, seed", [("corr", 0), ("banana", 1), ("scales", 2)])
def test_same_trajectories_as_nuts_rs(name, seed):
    """Depth, leapfrog count and divergence agree with nuts-rs' recursion, transition by transition."""
    precision, banana = jnp.asarray(PRECISIONS[name]), BANANA[name]
    fn = functools.partial(logdensity, precision=precision, banana=banana)
    rng = np.random.default_rng(seed)
    keys = jax.random.split(jax.random.key(seed), BATCH)
    positions = rng.normal(size=(BATCH, DIM))
    step_sizes = np.exp(rng.uniform(np.log(0.01), np.log(1.2), size=BATCH))
    inv_masses = np.exp(0.3 * rng.normal(size=(BATCH, DIM)))
    _, info = kernel(keys, positions, step_sizes, inv_masses, precision, banana)
    shapes = []
    for i in range(12):
        ours = (int(info.tree_depth[i]), int(info.n_steps[i]), bool(info.diverging[i]))
        state = nuts.init(jnp.asarray(positions[i]), fn)
        inv_mass = jnp.asarray(inv_masses[i])
        assert ours == tree_shape(fn, keys[i], state, step_sizes[i], inv_mass, MAX_TREEDEPTH,
                                       DEFAULTS.divergence_threshold)
        shapes.append(ours)
    assert len({s[0] for s in shapes}) >= 3  # the cases cover several tree depths


def test_kernel_leaves_banana_invariant():
    """Start from exact draws of a banana-shaped density; five transitions must keep it.

    x0 ~ N(0, 2^2), x1 | x0 ~ N(x0^2 / 2, 1/2^2), x2..x4 ~ N(0, 1). A wrong multinomial or
    progressive-sampling weight shows up as a shift of these distributions.
    """
    precision, banana = jnp.asarray(PRECISIONS["banana"]), BANANA["banana"]
    rng = np.random.default_rng(3)
    x = rng.normal(size=(BATCH, DIM))
    x[:, 0] *= 2.0
    x[:, 1] = 0.5 * x[:, 0] ** 2 + 0.5 * x[:, 1]
    exact = x.copy()
    inv_mass = np.ones((BATCH, DIM))
    step_size = np.full(BATCH, 0.3)
    depth, diverging = [], []
    for t in range(5):
        keys = jax.random.split(jax.random.key(100 + t), BATCH)
        state, info = kernel(keys, x, step_size, inv_mass, precision, banana)
        x = np.asarray(state.position)
        depth.append(np.asarray(info.tree_depth))
        diverging.append(np.asarray(info.diverging))
    print(f"\nmean tree depth {np.mean(depth):.2f}, divergences {np.mean(diverging):.4f}")
    assert np.mean(depth) > 2  # real trajectories, not single steps
    assert np.mean(diverging) < 0.1  # (divergent transitions leave the target invariant too)
    assert np.mean(np.abs(x - exact) > 1e-12) > 0.5  # the chains moved
    reference = rng.normal(size=(BATCH, DIM))
    reference[:, 0] *= 2.0
    reference[:, 1] = 0.5 * reference[:, 0] ** 2 + 0.5 * reference[:, 1]
    for i in range(DIM):
        assert stats.ks_2samp(x[:, i], reference[:, i]).pvalue > 1e-3, i
    residual = (x[:, 1] - 0.5 * x[:, 0] ** 2) / 0.5
    assert stats.kstest(residual, "norm").pvalue > 1e-3
    assert stats.kstest(x[:, 0] / 2.0, "norm").pvalue > 1e-3


def test_merge_checks_detect_turn_at_junction():
    """The full-trajectory test passes but a junction test does not: the extra checks matter."""
    v = lambda *x: jnp.array(x, dtype=jnp.float64)  # noqa: E731
    # (momentum, position): the second piece's first state moved back against the first piece's start momentum
    first_outer, first_inner = (v(1.0, 0.0), v(0.0, 0.0)), (v(1.0, 0.2), v(2.0, 0.5))
    second_inner, second_outer = (v(-2.0, -1.0), v(-0.5, 0.5)), (v(1.0, 0.0), v(4.0, 0.0))
    assert not bool(termination.is_turning(first_outer[0], second_outer[0], second_outer[1] - first_outer[1]))
    assert bool(termination.is_turning(first_outer[0], second_inner[0], second_inner[1] - first_outer[1]))
    assert bool(termination.merge_is_turning(first_outer, first_inner, second_inner, second_outer))
    # the same pieces without the backward step do not turn
    second_inner = (v(1.0, 0.0), v(2.5, 0.5))
    assert not bool(termination.merge_is_turning(first_outer, first_inner, second_inner, second_outer))


def test_slot_loop_and_vectorized_checks_agree():
    """The U-turn checks loop over the needed checkpoint slots with ``slot_loop`` (jaxmc's sampler sets it
    where XLA compiles loops into single CPU kernels) and use all slots at once without: same trees."""
    precision, banana = jnp.asarray(PRECISIONS["banana"]), BANANA["banana"]
    rng = np.random.default_rng(7)
    args = (jax.random.split(jax.random.key(7), BATCH), rng.normal(size=(BATCH, DIM)),
            np.exp(rng.uniform(np.log(0.01), np.log(1.2), size=BATCH)),
            np.exp(0.3 * rng.normal(size=(BATCH, DIM))), precision, banana)
    _, loop_info = kernel(*args, slot_loop=True)
    _, plain_info = kernel(*args, slot_loop=False)
    for name in ("tree_depth", "n_steps", "diverging"):
        np.testing.assert_array_equal(loop_info._asdict()[name], plain_info._asdict()[name])
    assert len(np.unique(loop_info.tree_depth)) >= 4


def test_checkpoints_are_not_copied_per_leaf():
    """The checkpoint arrays (max_treedepth + 1, 2, dim) are updated in place: in the compiled program of a
    run of transitions, at most the initial zeros of a transition are copied, no copy sits in a loop over
    leaves (there XLA copied both arrays twice per leaf, which made a leaf 2 to 2.5 times slower)."""
    from jaxmc import config

    if not SLOT_LOOP:
        pytest.skip("the in-place slot loop is used where XLA compiles loops into single CPU kernels")
    dim = 37

    def logdensity(z):
        return -0.5 * jnp.sum(z * z)

    def run(x):
        kern = nuts.build_kernel(10, DEFAULTS.divergence_threshold, slot_loop=True)

        def body(i, st):
            return kern(logdensity, jax.random.fold_in(jax.random.key(0), i), st, 0.3, jnp.ones(dim))[0]

        return jax.lax.fori_loop(0, 5, body, nuts.init(x, logdensity))

    text = jax.jit(run, compiler_options=config.compiler_options()).lower(jnp.zeros(dim)).compile().as_text()
    copies = [line for line in text.splitlines() if "copy(" in line and f"[11,2,{dim}]" in line.split("copy(")[0]]
    assert len(copies) <= 2, copies  # one per array: the fresh zeros of a transition

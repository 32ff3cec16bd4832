"""The step-size searches: made by the NUTS kernel on its own leapfrog, they settle where the same search made in a
loop of its own settles, and the trajectory after them is the one the kernel makes with that step size."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxmc.nuts import nuts, rng, step_size

SCALES = jnp.array([0.1, 0.3, 1.0, 2.0, 5.0])


def logdensity(x):
    return -0.5 * jnp.sum((x / SCALES) ** 2) - 0.01 * jnp.sum(x**4)


def searches(kind, start):
    if kind == "nutpie":
        return step_size.nutpie_search(start, 0.8, 1e8, jnp.float64)
    return step_size.stan_search(rng.seed_of(jax.random.key(3)), start, jnp.float64)


@pytest.mark.parametrize("kind", ["nutpie", "stan"])
@pytest.mark.parametrize("start", [1e-4, 4.0])  # the step grows, shrinks
def test_kernel_search_settles_as_its_own_loop(kind, start):
    kernel = nuts.build_kernel(10, 1000.0)
    state = nuts.init(jnp.array([0.02, -0.1, 0.5, 2.0, -3.0]), logdensity)
    inv_mass = jnp.ones(5)
    key = rng.seed_of(jax.random.key(0))
    momentum = nuts.transition_randomness(key, 10).momentum(inv_mass)

    @jax.jit
    def both():
        search = searches(kind, start)
        alone, final_alone = step_size.run(search, logdensity, state, inv_mass, 0.5, momentum)
        new, info = kernel(logdensity, key, state, 0.5, inv_mass, momentum=momentum, search=search)
        plain, plain_info = kernel(logdensity, key, state, info.step_size, inv_mass, momentum=momentum)
        return alone, final_alone, new, info, plain, plain_info

    alone, final_alone, new, info, plain, plain_info = both()
    assert int(final_alone.count) > 3 and bool(final_alone.forward) == (start < 1)  # tries, doubling or halving
    assert bool(final_alone.found) == (kind == "nutpie")  # (Stan's search has no such flag)
    assert float(info.step_size) == float(alone)
    for a, b in zip(jax.tree_util.tree_leaves(info.search), jax.tree_util.tree_leaves(final_alone)):
        np.testing.assert_array_equal(a, b)
    # the trajectory after the search is the kernel's with that step size; the tries are not counted as its steps
    for a, b in zip(new, plain):
        np.testing.assert_array_equal(a, b)
    assert int(info.n_steps) == int(plain_info.n_steps)
    assert float(info.acceptance_rate) == float(plain_info.acceptance_rate)


def test_no_search_due_keeps_the_step_size():
    kernel = nuts.build_kernel(10, 1000.0)
    state = nuts.init(jnp.ones(5), logdensity)
    key = rng.seed_of(jax.random.key(1))
    search = step_size.nutpie_search(1e-3, 0.8, 1000.0, jnp.float64, enabled=False)
    _, info = jax.jit(lambda: kernel(logdensity, key, state, 0.25, jnp.ones(5), search=search))()
    assert float(info.step_size) == 0.25 and int(info.search.count) == 0
    eps, final = step_size.run(search, logdensity, state, jnp.ones(5), 0.25, jnp.ones(5))
    assert float(eps) == 0.25 and int(final.count) == 0

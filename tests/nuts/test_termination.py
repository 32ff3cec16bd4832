"""The iterative tree build against a recursive transcription of Stan's ``base_nuts``."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxmc.nuts import nuts, termination
from stan_reference import stan_tree_shape

DIM = 5
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


@jax.jit
def kernel(key, state, step_size, inv_mass, precision, banana):
    fn = functools.partial(logdensity, precision=precision, banana=banana)
    return nuts.build_kernel(fn, max_treedepth=8)(key, state, step_size, inv_mass)


@pytest.mark.parametrize("name, seed", [("corr", 0), ("banana", 1), ("scales", 2)])
def test_same_trajectories_as_stan(name, seed):
    """Depth, leapfrog count and divergence agree with Stan's recursion, transition by transition."""
    precision, banana = jnp.asarray(PRECISIONS[name]), BANANA[name]
    fn = functools.partial(logdensity, precision=precision, banana=banana)
    rng = np.random.default_rng(seed)
    shapes = []
    for i in range(12):
        key = jax.random.key(100 * seed + i)
        state = nuts.init(jnp.asarray(rng.normal(size=DIM)), fn)
        step_size = float(np.exp(rng.uniform(np.log(0.01), np.log(1.2))))
        inv_mass = jnp.asarray(np.exp(0.3 * rng.normal(size=DIM)))
        _, info = kernel(key, state, step_size, inv_mass, precision, banana)
        ours = (int(info.tree_depth), int(info.n_steps), bool(info.diverging))
        assert ours == stan_tree_shape(fn, key, state, step_size, inv_mass, max_depth=8)
        shapes.append(ours)
    assert len({s[0] for s in shapes}) >= 3  # the cases cover several tree depths


def test_merge_checks_detect_turn_at_junction():
    """The full-trajectory test passes but a junction test does not: Stan's extra checks matter."""
    v = lambda *x: jnp.array(x, dtype=jnp.float64)  # noqa: E731
    args = dict(
        first_outer_ps=v(1.0, 0.0),
        first_inner_p=v(-0.2, 1.0),
        first_inner_ps=v(-0.2, 1.0),
        first_rho=v(3.0, 0.0),
        second_inner_p=v(-2.0, -1.0),
        second_inner_ps=v(-2.0, -1.0),
        second_outer_ps=v(1.0, 0.0),
        second_rho=v(3.0, 0.0),
    )
    rho = args["first_rho"] + args["second_rho"]
    assert not bool(termination.is_turning(args["first_outer_ps"], args["second_outer_ps"], rho))
    assert bool(termination.merge_is_turning(**args))

"""Leapfrog integrator: energy conservation, second-order error and time reversibility."""
import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.nuts.integrator import IntegratorState, hamiltonian, leapfrog, logdensity_and_grad
from tests.nuts.nuts_testing import jit_leapfrog

SCALES = jnp.array([0.5, 1.0, 2.0, 3.0])


def logdensity(x):
    return -0.5 * jnp.sum((x / SCALES) ** 2)


def start_state(inv_mass):
    x = jnp.array([0.3, -1.0, 2.0, 0.5])
    p = jnp.array([1.0, 0.2, -0.7, 0.4]) / jnp.sqrt(inv_mass)
    logp, grad = logdensity_and_grad(logdensity, x)
    return IntegratorState(x, p, logp, grad)


def integrate(state, step_size, num_steps, inv_mass):
    body = lambda _, s: leapfrog(logdensity, s, step_size, inv_mass)  # noqa: E731
    return jax.lax.fori_loop(0, num_steps, body, state)


def max_energy_error(step_size, total_time, inv_mass):
    state = start_state(inv_mass)
    h0 = hamiltonian(state, inv_mass)
    errors = []
    for _ in range(int(round(total_time / step_size))):
        state = jit_leapfrog(logdensity, state, step_size, inv_mass)
        errors.append(abs(float(hamiltonian(state, inv_mass) - h0)))
    return max(errors)


def test_energy_is_conserved_for_small_steps():
    inv_mass = jnp.array([0.25, 1.0, 4.0, 9.0])
    assert max_energy_error(0.01, 3.0, inv_mass) < 1e-4


def test_energy_error_is_second_order():
    inv_mass = jnp.ones(4)
    e1 = max_energy_error(0.1, 3.0, inv_mass)
    e2 = max_energy_error(0.05, 3.0, inv_mass)
    assert 3.0 < e1 / e2 < 5.0


def test_gradient_matches_log_density():
    state = start_state(jnp.ones(4))
    np.testing.assert_allclose(state.logdensity_grad, -state.position / SCALES**2)


def test_reversibility():
    inv_mass = jnp.array([0.3, 1.0, 2.0, 5.0])
    state = start_state(inv_mass)
    forward = integrate(state, 0.2, 25, inv_mass)
    flipped = forward._replace(momentum=-forward.momentum)
    back = integrate(flipped, 0.2, 25, inv_mass)
    np.testing.assert_allclose(back.position, state.position, atol=1e-10)
    np.testing.assert_allclose(-back.momentum, state.momentum, atol=1e-10)
    # integrating with a negative step size undoes a forward integration too
    undone = integrate(forward, -0.2, 25, inv_mass)
    np.testing.assert_allclose(undone.position, state.position, atol=1e-10)
    np.testing.assert_allclose(undone.momentum, state.momentum, atol=1e-10)

"""The optimisers: PyMC's defaults, the windowed adagrad's formula, norm constraints, bad arguments."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxmc as pm
from jaxmc.variational.updates import as_optimizer


def test_defaults_are_pymcs():
    assert pm.adagrad_window().kwargs == {"learning_rate": 0.001, "epsilon": 0.1, "n_win": 10}
    assert pm.adam().kwargs == {"learning_rate": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    assert pm.adamax().kwargs["learning_rate"] == 0.002
    assert pm.sgd().kwargs == {"learning_rate": 1e-3}
    assert pm.rmsprop().kwargs == {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6}
    assert pm.adadelta().kwargs == {"learning_rate": 1.0, "rho": 0.95, "epsilon": 1e-6}
    assert as_optimizer(pm.adam, "x").kwargs == pm.adam().kwargs  # passed uncalled: its defaults


def test_adagrad_window_formula():
    """param -= lr * g / sqrt(sum of the last n_win squared gradients + eps), the window a ring buffer."""
    tx = pm.adagrad_window(learning_rate=0.1, epsilon=0.1, n_win=3).transform()
    params = {"p": jnp.zeros(2)}
    state = tx.init(params)
    grads = [np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([3.0, 1.0]), np.array([-1.0, 2.0])]
    for k, g in enumerate(grads):
        updates, state = tx.update({"p": jnp.asarray(g)}, state, params)
        window = grads[max(0, k - 2):k + 1]
        expected = -0.1 * g / np.sqrt(sum(w**2 for w in window) + 0.1)
        np.testing.assert_allclose(updates["p"], expected, rtol=1e-6)


def test_sgd_and_momentum_steps():
    g = {"p": jnp.array([2.0])}
    params = {"p": jnp.zeros(1)}
    tx = pm.sgd(learning_rate=0.1).transform()
    np.testing.assert_allclose(tx.update(g, tx.init(params), params)[0]["p"], [-0.2])
    tx = pm.momentum(learning_rate=0.1, momentum=0.5).transform()
    s = tx.init(params)
    u1, s = tx.update(g, s, params)
    u2, s = tx.update(g, s, params)
    np.testing.assert_allclose([u1["p"][0], u2["p"][0]], [-0.2, -0.3])  # v = m v - lr g


@pytest.mark.parametrize("opt", [pm.sgd(learning_rate=0.05), pm.momentum(learning_rate=0.02),
                                 pm.nesterov_momentum(learning_rate=0.02), pm.adagrad(learning_rate=1.0),
                                 pm.adagrad_window(learning_rate=0.1), pm.rmsprop(learning_rate=0.05),
                                 pm.adadelta(learning_rate=20.0), pm.adam(learning_rate=0.1),
                                 pm.adamax(learning_rate=0.1)], ids=lambda o: o.name)
def test_every_optimizer_minimises_a_quadratic(opt):
    import jax

    tx = opt.transform()
    target = jnp.array([3.0, -1.0])

    @jax.jit
    def run(p):
        def body(_, c):
            p, s = c
            g = jax.grad(lambda q: jnp.sum((q - target) ** 2))(p)
            u, s = tx.update(g, s, p)
            return p + u, s

        return jax.lax.fori_loop(0, 2000, body, (p, tx.init(p)))[0]

    np.testing.assert_allclose(run(jnp.zeros(2)), target, atol=0.05)


def test_norm_constraints():
    a, b = jnp.array([3.0, 0.0]), jnp.array([0.0, 4.0])
    out, norm = pm.total_norm_constraint([a, b], 1.0, return_norm=True)
    assert float(norm) == pytest.approx(5.0)
    assert float(jnp.sqrt(sum(jnp.sum(o**2) for o in out))) == pytest.approx(1.0, rel=1e-6)
    m = pm.norm_constraint(jnp.array([[3.0, 1.0], [4.0, 0.0]]), 1.0)
    np.testing.assert_allclose(np.linalg.norm(m, axis=0), [1.0, 1.0], rtol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="learning rate must be positive"):
        pm.sgd(learning_rate=-1)
    with pytest.raises(ValueError, match="n_win"):
        pm.adagrad_window(n_win=0)
    with pytest.raises(TypeError, match="must be a number"):
        pm.adam(learning_rate="fast")

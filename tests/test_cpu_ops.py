"""Products and integer-array indexing that keep the sampler's loops single CPU kernels (jaxmc.cpu_ops)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmc as pm
from jaxmc import cpu_ops
from tests.helpers import chunk_program

RNG = np.random.default_rng(0)


def test_small_loop_option_reached_xla():
    """jaxmc sets XLA's small-while-loop option when imported; on CPU it must be in effect here."""
    assert "xla_cpu_small_while_loop_byte_threshold" in __import__("os").environ.get("XLA_FLAGS", "")
    assert cpu_ops.loop_kernels_active() == (jax.default_backend() == "cpu")
    with cpu_ops.plain():
        assert not cpu_ops.loop_kernels_active()


@pytest.mark.parametrize("sa, sb", [((5,), (5,)), ((7, 5), (5,)), ((5,), (5, 3)), ((7, 5), (5, 3)),
                                    ((2, 7, 5), (2, 5, 3)), ((2, 7, 5), (5,)), ((300, 300), (300, 300))])
def test_matmul_and_dot_equal_jnp(sa, sb):
    a, b = RNG.normal(size=sa), RNG.normal(size=sb)
    np.testing.assert_allclose(cpu_ops.matmul(a, b), np.matmul(a, b), rtol=1e-12, atol=1e-12)
    if len(sa) <= 2 and len(sb) <= 2:
        np.testing.assert_allclose(cpu_ops.dot(a, b), np.dot(a, b), rtol=1e-12, atol=1e-12)
    with pytest.raises(TypeError):
        cpu_ops.matmul(a, np.ones(sb[:-1] + (sb[-1] + 1,)) if len(sb) == 1 else np.ones((sb[0] + 1,)))


def test_matmul_gradient_and_integers():
    a, b = RNG.normal(size=(6, 4)), RNG.normal(size=4)
    g1 = jax.grad(lambda v: jnp.sum(jnp.sin(cpu_ops.matmul(a, v))))(b)
    g2 = jax.grad(lambda v: jnp.sum(jnp.sin(a @ v)))(b)
    np.testing.assert_allclose(g1, g2, rtol=1e-12)
    ints = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(cpu_ops.matmul(ints, ints.T), ints @ ints.T)  # integers: jnp's dot


@pytest.mark.parametrize("shape, idx", [
    ((85,), RNG.integers(0, 85, 919)),
    ((85,), RNG.integers(-85, 85, 50)),  # negative indices count from the end
    ((7, 3), RNG.integers(0, 7, (5, 4))),  # rows of a matrix, a 2-D index
    ((85,), np.sort(RNG.integers(0, 85, 919))),  # sorted: no permutation of the gradient
    ((400,), RNG.integers(0, 300, 5000)),  # 100 rows never indexed; most runs summed in buckets
    ((3,), RNG.integers(0, 3, 10_000)),  # long runs, all summed as slices
])
def test_take_rows_value_and_gradient(shape, idx):
    x = jnp.asarray(RNG.normal(size=shape))
    w = jnp.asarray(RNG.normal(size=idx.shape + shape[1:]))
    ours = lambda v: jnp.sum(jnp.sin(cpu_ops.take_rows(v, idx)) * w)  # noqa: E731
    plain = lambda v: jnp.sum(jnp.sin(v[idx]) * w)  # noqa: E731
    np.testing.assert_allclose(ours(x), plain(x), rtol=1e-13)
    np.testing.assert_allclose(jax.grad(ours)(x), jax.grad(plain)(x), rtol=1e-12, atol=1e-13)
    batched = jax.vmap(jax.grad(ours))(jnp.stack([x, 2 * x]))  # chains vmapped
    np.testing.assert_allclose(batched[1], jax.grad(plain)(2 * x), rtol=1e-12, atol=1e-13)
    # a traced index (pm.Data): the gradient adds into the rows in a loop instead
    traced = jax.jit(jax.grad(lambda v, i: jnp.sum(jnp.sin(cpu_ops.take_rows(v, i)) * w)))
    np.testing.assert_allclose(traced(x, jnp.asarray(idx)), jax.grad(plain)(x), rtol=1e-12, atol=1e-13)


def test_model_indexing_hessian_and_sampler_program():
    """A hierarchical model indexed by group: d2logp (forward-over-reverse) works, and the sampler's chunk
    program is one kernel on CPU (no loop left to XLA's per-operation executor)."""
    group = np.repeat(np.arange(5), 4)
    y = RNG.normal(size=20)
    with pm.Model() as model:
        a = pm.Normal("a", 0.0, 1.0, shape=5)
        x = pm.Data("x", RNG.normal(size=(20, 2)))
        beta = pm.Normal("beta", 0.0, 1.0, shape=2)
        pm.Normal("y", a[group] + pm.math.dot(x, beta), 1.0, observed=y)
    hess = model.compile_d2logp()(model.initial_point())
    assert np.all(np.isfinite(hess)) and np.asarray(hess).shape == (7, 7)
    with model:  # the diagonal metric's program (the low-rank warm-up's: tests/sampling/test_programs.py)
        idata = pm.sample(draws=20, tune=20, chains=1, progressbar=False, compute_convergence_checks=False,
                          nuts={"mass_matrix": "diag"})
    assert idata.posterior["a"].shape == (1, 20, 5)
    if jax.default_backend() != "cpu":
        return
    _, entry = chunk_program(model)
    assert "xla_cpu_small_call" in entry and " while(" not in entry


def test_out_of_range_index_names_the_variable():
    with pm.Model():
        a = pm.Normal("a", 0.0, 1.0, shape=5)
        with pytest.raises(IndexError, match="out of bounds for axis 0 of .*a.*size 5"):
            a[np.array([0, 5])]
        with pytest.raises(IndexError, match="size 5"):
            a[-6]
        assert a[np.array([0, -5])].shape == (2,)

"""Shared test helpers: which PyMC is installed (`PYMC6`), PyTensor's own linker for sampling with PyMC, PyMC
parity of compiled log densities, transform Jacobian checks, and the compiled text of a model's sampler program."""

from __future__ import annotations

import contextlib
from importlib import metadata

import jax
import jax.numpy as jnp
import numpy as np


def _pymc_major() -> int:
    try:
        return int(metadata.version("pymc").split(".")[0])
    except metadata.PackageNotFoundError:
        return 0


#: the installed PyMC is 6.x: jaxmc follows PyMC 6 where 5.28 and 6 differ (docs/pymc-versions.md), so
#: tests compare with PyMC directly there only when this is true
PYMC6 = _pymc_major() >= 6


@contextlib.contextmanager
def pytensor_compiled():
    """PyTensor's own linker inside the block (numba with PyMC 6, C with PyMC 5.28), for code that samples with
    PyMC: the default suite's Python linker (tests/conftest.py) would run its many evaluations far too slowly.
    The suite's rewrites stay as they are (PyTensor reads them once)."""
    import pytensor

    with pytensor.config.change_flags(linker="auto"):
        yield


def pymc_parity(build, n_points: int = 20, rtol: float = 1e-6, seed: int = 0, scale: float = 1.0,
                jacobian: bool = True, initial_point: bool = False, logp_offset: float = 0.0):
    """Build the same model with jaxmc and PyMC (`build(pm)` returns the model) and compare value-variable
    names, dims and `compile_logp()` at `n_points` random unconstrained points (and the initial points'
    values with `initial_point=True`). `logp_offset` is added to PyMC's log density (a known constant
    difference)."""
    import pymc
    import jaxmc

    jm = build(jaxmc)
    pmm = build(pymc)
    jpoint = jm.initial_point()
    ppoint = pmm.initial_point()
    assert sorted(jpoint) == sorted(ppoint), (sorted(jpoint), sorted(ppoint))
    for k in jpoint:
        assert np.shape(jpoint[k]) == np.shape(ppoint[k]), (k, np.shape(jpoint[k]), np.shape(ppoint[k]))
        if initial_point:
            np.testing.assert_allclose(np.asarray(jpoint[k], float), np.asarray(ppoint[k], float), rtol=1e-6,
                                       atol=1e-8, err_msg=f"initial point of {k}")
    assert {k: tuple(v) for k, v in jm.named_vars_to_dims.items() if v} == \
        {k: tuple(v) for k, v in pmm.named_vars_to_dims.items() if v}
    jf = jm.compile_logp(jacobian=jacobian)
    pf = pmm.compile_logp(jacobian=jacobian)
    rng = np.random.default_rng(seed)
    for _ in range(n_points):
        point = {k: (np.asarray(v) + scale * rng.normal(size=np.shape(v))).astype(np.asarray(v).dtype)
                 if np.asarray(v).dtype.kind == "f" else np.asarray(v) for k, v in ppoint.items()}
        a, b = float(jf(point)), float(pf(point)) + logp_offset
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-8, err_msg=str(point))
    return jm, pmm


def check_transform(transform, value, *inputs, atol=1e-6, manifold="first"):
    """Round trip forward/backward; returns (log_jac_det, the same from jax.jacobian of backward).

    For maps onto a lower-dimensional set (simplex, zero-sum), `manifold="first"` takes the density of the
    first n outputs (PyMC's simplex convention); "isometric" uses sqrt(det(J^T J))."""
    value = jnp.asarray(value, dtype=jnp.float64)
    y = transform.forward(value, *inputs)
    np.testing.assert_allclose(transform.backward(y, *inputs), value, atol=atol, rtol=1e-6)
    flat_y = jnp.ravel(y)

    def back_flat(fy):
        return jnp.ravel(transform.backward(fy.reshape(y.shape), *inputs))

    jac = jax.jacobian(back_flat)(flat_y)
    ldj = float(jnp.sum(transform.log_jac_det(y, *inputs)))
    if jac.shape[0] == jac.shape[1]:
        expected = float(jnp.linalg.slogdet(jac)[1])
    elif manifold == "first":
        expected = float(jnp.linalg.slogdet(jac[: jac.shape[1]])[1])
    else:
        expected = float(0.5 * jnp.linalg.slogdet(jac.T @ jac)[1])
    return ldj, expected


def z_score(a, b):
    """(mean(a) - mean(b)) over the combined Monte Carlo standard error; a, b: (chain, draw) draws."""
    from jaxmc.diagnostics import ess_mean

    se = [np.std(x) / np.sqrt(float(ess_mean(x))) for x in (a, b)]
    return (np.mean(a) - np.mean(b)) / np.hypot(*se)


def chunk_program(model) -> tuple[str, str]:
    """The optimized HLO text of the model's compiled sampler chunk program and its ENTRY computation."""
    (_, run), = model.programs("sample executables")
    text = run.as_text()
    entry = text[text.index("ENTRY"):]
    return text, entry[:entry.index("\n}\n")]

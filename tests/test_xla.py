"""jaxmc.xla: options passed to XLA are checked against the installed jaxlib, unknown ones are skipped."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmc as pm
from jaxmc import xla


def test_unknown_compile_option_is_dropped():
    opts = xla.supported({"xla_backend_optimization_level": 1, "xla_jaxmc_option_that_does_not_exist": True})
    assert opts == {"xla_backend_optimization_level": 1}
    assert float(jax.jit(lambda x: x * 2, compiler_options=opts)(jnp.float64(2.0))) == 4.0


def test_all_unknown_options_leave_nothing():
    assert xla.supported({"xla_not_an_option_a": 1, "xla_not_an_option_b": "x"}) == {}


def test_compiler_options_are_all_supported():
    for dtype in ("float64", "float32"):
        opts = xla.compiler_options(dtype)
        assert xla.supported(opts) == opts
        dropped = xla.dropped_compiler_options(dtype)
        assert set(opts) | set(dropped) == set(xla.wanted_compiler_options(dtype == "float64"))


def test_sampling_with_a_renamed_option(monkeypatch):
    """A future XLA that renames one of jaxmc's options must not stop sampling."""
    wanted = xla.wanted_compiler_options
    monkeypatch.setattr(xla, "wanted_compiler_options",
                        lambda f64: {**wanted(f64), "xla_cpu_option_renamed_in_a_future_xla": False})
    xla._compiler_options.cache_clear()
    try:
        assert "xla_cpu_option_renamed_in_a_future_xla" not in xla.compiler_options("float64")
        with pm.Model():
            pm.Normal("x", 0.0, 1.0)
            idata = pm.sample(draws=50, tune=50, chains=1, progressbar=False, random_seed=1)
        assert np.isfinite(idata.posterior["x"].values).all()
    finally:
        monkeypatch.undo()
        xla._compiler_options.cache_clear()


def test_loop_flag_only_when_jaxlib_knows_it():
    assert xla._jaxlib_knows(xla.SMALL_LOOP_OPTION) is True  # the installed (tested) jaxlib
    assert xla._jaxlib_knows("xla_jaxmc_flag_that_does_not_exist") is False


def _import_and_print_flags(env):
    code = "import os, jaxmc; print(os.environ.get('XLA_FLAGS', ''))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.parametrize("setting, expected", [("1", True), ("0", False)])
def test_small_loop_flag_setting(setting, expected):
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["JAXMC_SMALL_LOOP_KERNELS"] = setting
    assert (xla.SMALL_LOOP_OPTION in _import_and_print_flags(env)) is expected


def test_users_extra_options_are_kept():
    env = dict(os.environ, XLA_FLAGS="--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=2048")
    env.pop("JAXMC_SMALL_LOOP_KERNELS", None)
    assert _import_and_print_flags(env) == env["XLA_FLAGS"]


def test_flags_left_alone_when_jax_started_first():
    """Too late to matter: XLA_FLAGS (seen by child processes) is not changed, and the import warns."""
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAXMC_SMALL_LOOP_KERNELS")}
    code = "import os, jax.numpy as jnp; jnp.ones(2).sum(); import jaxmc; print(repr(os.environ.get('XLA_FLAGS')))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"
    assert "imported after JAX had started" in out.stderr


def test_sampler_programs_are_cached_on_disk_and_reused(tmp_path):
    """pm.sample compiles through jaxmc's own cache: a second process loads the programs and gives the same
    draws; nothing else lands in the folder."""
    script = ("import numpy as np, jaxmc as pm\n"
              "with pm.Model():\n"
              "    mu = pm.Normal('mu')\n"
              "    pm.Normal('y', mu, 1.0, observed=np.arange(5.0))\n"
              "    idata = pm.sample(draws=30, tune=30, chains=2, random_seed=4, progressbar=False,\n"
              "                      compute_convergence_checks=False)\n"
              "print(repr(idata['posterior']['mu'].values.tolist()))\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("JAXMC_COMPILATION_CACHE", None)
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
            for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr[-2000:]
    folder = tmp_path / "jaxmc" / "xla"
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) >= 2 and all(f.endswith(".jaxmc") for f in files), files
    assert runs[0].stdout == runs[1].stdout


def test_cached_program_of_a_model_with_other_names_is_not_reused():
    """The same program text with other argument names (another model's data) is another cache entry: reusing
    it gave 'Function compiled with input pytree does not match'."""
    def fit(obs_name):
        with pm.Model():
            mu = pm.Normal("mu")
            pm.Normal(obs_name, mu, 1.0, observed=np.arange(4.0))
            return pm.sample(draws=10, tune=10, chains=1, random_seed=1, progressbar=False,
                             compute_convergence_checks=False)

    a, b = fit("y_one"), fit("y_two")
    np.testing.assert_array_equal(a["posterior"]["mu"].values, b["posterior"]["mu"].values)


def test_scipy_blas_runs_one_thread_once_a_model_compiles():
    """jaxlib's CPU LAPACK calls run on SciPy's BLAS; its threads on top of XLA's oversubscribe the cores, so
    jaxmc limits that library (and not numpy's) to one thread when it compiles a model."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if jax.default_backend() != "cpu":
        pytest.skip("the limit applies on CPU")
    with pm.Model() as model:
        pm.MvNormal("x", mu=np.zeros(3), cov=np.eye(3))
    model.compiled()
    scipy_libs = [lib for lib in threadpoolctl.ThreadpoolController().lib_controllers
                  if lib.user_api == "blas" and "scipy" in lib.filepath and "numpy" not in lib.filepath]
    if not scipy_libs:
        pytest.skip("SciPy's BLAS is not a library threadpoolctl knows here")
    assert all(lib.num_threads == 1 for lib in scipy_libs)
    assert xla.limit_lapack_threads() == 1



@pytest.mark.skipif(not xla.LAPACK_ONE_AT_A_TIME, reason="this jaxlib's batched LAPACK kernels do not deadlock")
def test_batched_lapack_calls_are_lowered_one_matrix_at_a_time():
    """jaxlib 0.10's batched CPU LAPACK kernels (a Cholesky of each chain's covariance) can wait for each other
    forever when XLA runs two at once; jaxmc lowers a batch as a loop of single-matrix calls."""
    spd = np.broadcast_to(np.eye(5) * 2.0, (3, 2, 5, 5))
    b = np.ones((3, 2, 5, 4))
    hlo = jax.jit(lambda s, y: jax.scipy.linalg.cho_solve((jnp.linalg.cholesky(s), True), y)).lower(
        spd, b).as_text()
    calls = [line for line in hlo.splitlines() if "lapack_" in line and "custom_call" in line]
    assert calls and all("3x2x5" not in line and "6x5" not in line for line in calls), calls


def test_batched_linear_algebra_is_unchanged_by_the_loop_lowering():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 2, 5, 5))
    spd = a @ np.swapaxes(a, -1, -2) + 5 * np.eye(5)
    b = rng.normal(size=(3, 2, 5, 4))
    chol = np.linalg.cholesky(spd)
    np.testing.assert_allclose(jax.jit(jnp.linalg.cholesky)(spd), chol, rtol=1e-12)
    solve = jax.jit(lambda l, y: jax.scipy.linalg.solve_triangular(l, y, lower=True))
    np.testing.assert_allclose(solve(chol, b), np.linalg.solve(chol, b), rtol=1e-10)
    np.testing.assert_allclose(jax.jit(jnp.linalg.det)(a), np.linalg.det(a), rtol=1e-10)
    w, v = jax.jit(jnp.linalg.eigh)(spd)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(spd), rtol=1e-10)
    np.testing.assert_allclose(v @ (w[..., None] * np.swapaxes(v, -1, -2)), spd, rtol=1e-10)
    np.testing.assert_allclose(jax.jit(lambda x: jnp.linalg.svd(x, compute_uv=False))(a),
                               np.linalg.svd(a, compute_uv=False), rtol=1e-10)
    q, r = jax.jit(jnp.linalg.qr)(a)
    np.testing.assert_allclose(q @ r, a, atol=1e-12)
    grad = jax.jit(jax.grad(lambda s: jnp.sum(jnp.log(jnp.diagonal(jnp.linalg.cholesky(s), axis1=-2, axis2=-1)))))
    np.testing.assert_allclose(grad(spd), 0.5 * np.linalg.inv(spd), rtol=1e-8, atol=1e-12)
    version = xla._version_tuple(jax.lib.__version__)
    low, high = xla.LAPACK_BATCH_DEADLOCK
    assert bool(xla.LAPACK_ONE_AT_A_TIME) == (low <= version < high)

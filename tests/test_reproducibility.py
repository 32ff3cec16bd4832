"""Reproducibility and process hygiene: the same seed gives the same draws, every setting that changes them warns,
importing jaxmc leaves JAX's own compilation cache alone, and jaxmc's program cache holds only its programs."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmc as pm
from jaxmc import xla

SAMPLE = """
import hashlib, numpy as np, jaxmc as pm
X = np.random.default_rng(0).normal(size=(40, 3))
with pm.Model():
    b = pm.Normal("b", 0.0, 1.0, shape=3)
    pm.Normal("y", pm.math.dot(X, b), 1.0, observed=X @ np.array([0.5, -1.0, 2.0]) + 0.3)
    idata = pm.sample(draws=60, tune=60, chains=2, chain_method="sequential", random_seed=11, progressbar=False,
                      compute_convergence_checks=False)
print("DRAWS", hashlib.sha256(np.ascontiguousarray(idata.posterior["b"].values).tobytes()).hexdigest())
"""


def _run(code, **env):
    full = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAXMC_SMALL_LOOP_KERNELS")}
    full.update(env)
    out = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def _draws(out):
    return [line for line in out.stdout.splitlines() if line.startswith("DRAWS")][0]


@pytest.fixture(scope="module")
def runs():
    """The same seeded run in fresh processes: JAX used before `import jaxmc`, the loop option switched off,
    and the default."""
    return {"late": _run("import jax.numpy as jnp; jnp.ones(2).sum()\n" + SAMPLE),
            "off": _run(SAMPLE, JAXMC_SMALL_LOOP_KERNELS="0"), "default": _run(SAMPLE)}


def test_jax_before_import_warns_and_gives_the_loop_kernels_off_draws(runs):
    """JAX started first: the loop option cannot reach XLA. jaxmc says so at import, and the draws are those of
    JAXMC_SMALL_LOOP_KERNELS=0 (which also warns), bit for bit."""
    late, off = runs["late"], runs["off"]
    assert "imported after JAX had started" in late.stderr and "sampling on CPU is slower" in late.stderr
    assert "JAXMC_SMALL_LOOP_KERNELS=0" in off.stderr and "sampling on CPU is slower" in off.stderr
    assert "sampling on CPU is slower" not in runs["default"].stderr
    assert _draws(late) == _draws(off)


def test_the_loop_option_does_not_change_the_draws(runs):
    assert _draws(runs["late"]) == _draws(runs["default"])


def test_parallel_and_sequential_chains_give_the_same_draws():
    X = np.random.default_rng(1).normal(size=(30, 2))
    with pm.Model():
        b = pm.Normal("b", 0.0, 1.0, shape=2)
        pm.Normal("y", pm.math.dot(X, b), 1.0, observed=X @ np.array([1.0, -0.5]))
        runs = [pm.sample(draws=50, tune=50, chains=3, cores=2, chain_method=m, random_seed=5, progressbar=False,
                          compute_convergence_checks=False) for m in ("parallel", "sequential")]
    np.testing.assert_array_equal(runs[0].posterior["b"].values, runs[1].posterior["b"].values)


def test_import_leaves_jax_compilation_cache_alone():
    """JAX's persistent cache is process-wide: turning it on would write the user's own jax.jit programs."""
    out = _run("import jax, jaxmc; print('DIR', jax.config.jax_compilation_cache_dir)")
    assert "DIR None" in out.stdout


def test_tests_never_write_to_the_home_cache():
    folder = xla.cache_folder()
    home_cache = os.path.join(os.path.expanduser("~"), ".cache")
    assert folder is not None and not os.path.realpath(folder).startswith(os.path.realpath(home_cache))
    assert os.environ["XDG_CACHE_HOME"] in folder


class _NoCompile:
    """A lowered program that must come from the cache."""

    def __init__(self, lowered):
        self.lowered = lowered

    def as_text(self):
        return self.lowered.as_text()

    @property
    def in_tree(self):
        return self.lowered.in_tree

    @property
    def out_tree(self):
        return self.lowered.out_tree

    def compile(self):
        raise AssertionError("compiled again instead of loaded from jaxmc's cache")


def test_program_cache_holds_only_jaxmc_programs_and_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXMC_COMPILATION_CACHE", str(tmp_path))
    fn = jax.jit(lambda x: jnp.sin(x) * 3.0 + x.sum())
    x = jnp.arange(5.0)
    fn(x)  # the user's own jit: never written
    assert list(tmp_path.iterdir()) == []
    first = xla.compile_program(fn.lower(x))
    files = sorted(tmp_path.iterdir())
    assert len(files) == 1 and files[0].suffix == ".jaxmc"
    again = xla.compile_program(_NoCompile(fn.lower(x)))  # loaded from disk
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(first(x)))
    other = jax.jit(lambda x: jnp.cos(x) - 1.0)
    xla.compile_program(other.lower(x))
    assert len(list(tmp_path.iterdir())) == 2
    os.utime(files[0], (1, 1))  # the least recently used entry goes first
    xla.prune_cache(str(tmp_path), files[0].stat().st_size + 1)
    assert not files[0].exists() and len(list(tmp_path.iterdir())) == 1


def test_cache_key_depends_on_compile_options_and_program():
    x = jnp.arange(3.0)
    low = jax.jit(lambda x: x * 2.0).lower(x)
    keys = {xla._cache_key(low, ()), xla._cache_key(low, {"xla_backend_optimization_level": 1}),
            xla._cache_key(jax.jit(lambda x: x * 3.0).lower(x), ())}
    assert len(keys) == 3


@pytest.mark.parametrize("value", ["0", "false"])
def test_cache_off(monkeypatch, value):
    monkeypatch.setenv("JAXMC_COMPILATION_CACHE", value)
    assert xla.cache_folder() is None


def test_jax_format_entries_are_removed_from_the_default_folder_only(tmp_path, monkeypatch):
    monkeypatch.delenv("JAXMC_COMPILATION_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    default = xla.cache_folder()
    other = tmp_path / "other"
    other.mkdir()
    for folder in (default, str(other)):
        for name in ("jit_f-0a1b-cache", "jit_f-0a1b-atime"):
            open(os.path.join(folder, name), "w").close()
    xla.compile_program(jax.jit(lambda x: x - 2.0).lower(jnp.arange(2.0)))
    assert [p.endswith(".jaxmc") for p in os.listdir(default)] == [True]
    xla.prune_cache(str(other), 2**20)
    assert sorted(os.listdir(other)) == ["jit_f-0a1b-atime", "jit_f-0a1b-cache"]


def test_vectorized_chains_on_cpu_say_their_draws_differ():
    with pm.Model():
        pm.Normal("x")
        with pytest.warns(UserWarning, match="vectorized.*other draws"):
            pm.sample(draws=5, tune=5, chains=2, chain_method="vectorized", progressbar=False,
                      compute_convergence_checks=False, random_seed=1)


def test_draw_refuses_seeds_pymc_refuses():
    with pm.Model():
        x = pm.Normal("x")
    for bad in (1.5, -1, "abc"):
        with pytest.raises((TypeError, ValueError), match="random_seed"):
            pm.draw(x, random_seed=bad)

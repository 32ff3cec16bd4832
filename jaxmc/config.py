"""Global settings: float64 by default (as PyMC, float32 selectable for GPUs), the on-disk compilation cache
and the XLA options of jaxmc's compiled programs."""

import os

# Set before JAX creates its CPU client, which reads XLA_FLAGS once (see `_enable_small_loop_kernels`).
_SMALL_LOOP_OPTION = "xla_cpu_small_while_loop_byte_threshold"
_SMALL_LOOP_BYTES = 64 * 2**20


def _enable_small_loop_kernels() -> None:
    """Let XLA:CPU compile a whole while loop into one kernel (its small-while-loop pass, with the size
    limit raised from 1 kB to 64 MB of loop state), instead of dispatching every operation of every
    iteration as its own kernel. NUTS is loops of many tiny operations: on eight schools a gradient
    evaluation inside the sampler costs 0.8 us this way instead of 3.15 us (BENCHMARKS.md). The pass
    skips loops that contain a library call (LAPACK, YNNPACK fusions) or a sort, and only applies on CPU;
    `jaxmc.cpu_ops` writes products and gathers' gradients so that they run fast inside such a kernel.

    XLA reads the option once per process from XLA_FLAGS, when JAX first creates its CPU client, so it is
    set here, when jaxmc is imported; it then also applies to other JAX code in the process. Set
    JAXMC_SMALL_LOOP_KERNELS=0 to leave XLA_FLAGS alone; a value already given in XLA_FLAGS is kept.
    """
    if os.environ.get("JAXMC_SMALL_LOOP_KERNELS", "1") in ("0", "false", "False", ""):
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if _SMALL_LOOP_OPTION in flags or "xla_backend_extra_options" in flags:
        return  # the user's own setting wins (XLA would take only one xla_backend_extra_options)
    option = f"--xla_backend_extra_options={_SMALL_LOOP_OPTION}={_SMALL_LOOP_BYTES}"
    os.environ["XLA_FLAGS"] = f"{flags} {option}".strip()


_enable_small_loop_kernels()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)


def _enable_compilation_cache() -> None:
    """Keep compiled programs on disk (like PyTensor's compiledir), so that running the same model again in
    a new process skips XLA compilation. JAXMC_COMPILATION_CACHE=0 turns it off; a path sets the folder."""
    setting = os.environ.get("JAXMC_COMPILATION_CACHE", "1")
    if setting in ("0", "false", "False", ""):
        return
    folder = setting if setting not in ("1", "true", "True") else os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "jaxmc", "xla")
    try:
        os.makedirs(folder, exist_ok=True)
        if jax.config.jax_compilation_cache_dir is None:
            jax.config.update("jax_compilation_cache_dir", folder)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
    except (OSError, AttributeError):  # read-only home or an older JAX: run without the cache
        pass


_enable_compilation_cache()

_floatX = os.environ.get("JAXMC_FLOATX", "float64")
if _floatX not in ("float32", "float64"):
    raise ValueError(f"JAXMC_FLOATX must be 'float32' or 'float64', found {_floatX!r}")


def floatX() -> str:
    """The float dtype of parameters, data and the sampler ('float64' unless set)."""
    return _floatX


def intX() -> str:
    return "int64" if _floatX == "float64" else "int32"


def set_floatX(dtype: str) -> None:
    """Select 'float32' (GPU friendly) or 'float64' for models built afterwards (or set JAXMC_FLOATX)."""
    global _floatX
    if dtype not in ("float32", "float64"):
        raise ValueError(f"floatX must be 'float32' or 'float64', found {dtype!r}")
    _floatX = dtype


def as_floatX(x):
    """Cast floats (and bools/ints used as real parameters) to floatX; leave integer data alone."""
    x = np.asarray(x) if not isinstance(x, jax.Array) else x
    if jnp.issubdtype(x.dtype, jnp.floating):
        return x.astype(_floatX)
    return x


def compiler_options() -> dict:
    """XLA options for jaxmc's compiled programs (sampler, predictive) on CPU, where compilation is most
    of a small model's run.

    XLA's newer fusion emitters double the compile time of these loop-heavy programs (4.3 s -> 2.5 s CPU
    for the flagship's chunk program without them), and LLVM's -O1 instead of -O3 cuts another 20% (radon:
    1.5 s -> 1.25 s); neither changes the sampling speed measurably, also on a 5000 x 50 logistic
    regression (BENCHMARKS.md). In float64, sums are also left sequential: XLA's pairwise rewrite of
    long reductions (for float32 accuracy) adds kernels to every leapfrog step (radon: 1.3 s -> 1.15 s
    compile, 10% faster sampling). For the posterior predictive of the flagship (4000 draws x 1500 rows)
    -O1 makes the first call 1.05 s -> 0.71 s and the second 0.19 s -> 0.23 s; for 10 new rows the first
    call goes 1.56 s -> 0.36 s.

    No YNNPACK library fusions: XLA turns larger multiply-and-sum patterns, such as the U-turn checks of a
    model with 52 or more parameters, into library calls, which split the sampler's loops out of single
    kernels (see `_enable_small_loop_kernels`; radon's sampling 0.6 s -> 0.3 s). XLA's region analysis in
    copy insertion (`xla_cpu_copy_insertion_use_region_analysis`) removed copies of the U-turn checkpoints
    (radon: 4.6 -> 3.3 us per gradient evaluation, 4 chains; the slot loop in jaxmc.nuts.termination now
    avoids them without it) but miscompiles diffrax's ODE solver loops (different log-density gradients
    inside a loop), so it stays off; tests/test_scan_ode.py checks an ODE model's gradients in a compiled
    loop against plain jit."""
    if jax.default_backend() != "cpu":
        return {}
    opts = {"xla_cpu_use_fusion_emitters": False, "xla_backend_optimization_level": 1,
            "xla_cpu_experimental_ynn_fusion_type": ""}
    if jnp.dtype(floatX()) == jnp.float64:
        opts["xla_disable_hlo_passes"] = "tree_reduction_rewriter"
    return opts

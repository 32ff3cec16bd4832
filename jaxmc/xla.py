"""Everything jaxmc does to JAX and XLA process-wide (float64, the loop-kernel flag in XLA_FLAGS, the on-disk
compilation cache) and the compile options of jaxmc's own programs, each checked against the installed jaxlib.

What each setting does and what it is worth is in docs/xla.md.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import mmap
import os

log = logging.getLogger("jaxmc")

#: XLA:CPU's small-while-loop pass compiles a whole loop into one kernel when its state is under this size
SMALL_LOOP_OPTION = "xla_cpu_small_while_loop_byte_threshold"
SMALL_LOOP_BYTES = 64 * 2**20
_EXTRA_OPTIONS_FLAG = "xla_backend_extra_options"


def _off(variable: str) -> bool:
    return os.environ.get(variable, "1") in ("0", "false", "False", "")


def _jaxlib_knows(*names: str) -> bool:
    """Whether the installed jaxlib's XLA library contains these option names (read without importing jax,
    which must not start before XLA_FLAGS is final). An unknown flag in XLA_FLAGS aborts the process, so
    a flag is only ever set when its name is found here."""
    spec = importlib.util.find_spec("jaxlib")
    if spec is None or not spec.submodule_search_locations:
        return False
    folder = list(spec.submodule_search_locations)[0]
    for lib in ("libjax_common.so", "xla_extension.so", "_jax.so"):
        path = os.path.join(folder, lib)
        if not os.path.exists(path) or os.path.getsize(path) < 2**20:
            continue
        try:
            with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                return all(m.find(n.encode()) >= 0 for n in names)
        except (OSError, ValueError):
            return False
    return False


def _jaxlib_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jaxlib")
    except PackageNotFoundError:
        return "?"


def enable_small_loop_kernels() -> bool:
    """Add the small-while-loop size limit to XLA_FLAGS, before JAX creates its CPU client (which reads
    XLA_FLAGS once per process). Returns whether XLA_FLAGS now asks for it.

    Skipped when JAXMC_SMALL_LOOP_KERNELS=0, when the user's XLA_FLAGS already set backend extra options
    (XLA takes only one), or when the installed jaxlib does not know the option. It has no effect when JAX
    created its CPU client before jaxmc was imported (`jaxmc.cpu_ops.loop_kernels_active()` tells)."""
    flags = os.environ.get("XLA_FLAGS", "")
    if SMALL_LOOP_OPTION in flags:
        return True
    if _off("JAXMC_SMALL_LOOP_KERNELS") or _EXTRA_OPTIONS_FLAG in flags:
        return False
    if not _jaxlib_knows(_EXTRA_OPTIONS_FLAG, SMALL_LOOP_OPTION):
        log.info("jaxlib does not know %s; XLA_FLAGS left alone (see docs/xla.md)", SMALL_LOOP_OPTION)
        return False
    option = f"--{_EXTRA_OPTIONS_FLAG}={SMALL_LOOP_OPTION}={SMALL_LOOP_BYTES}"
    os.environ["XLA_FLAGS"] = f"{flags} {option}".strip()
    return True


enable_small_loop_kernels()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

jax.config.update("jax_enable_x64", True)


def enable_compilation_cache() -> None:
    """Keep compiled programs on disk (like PyTensor's compiledir), so that running the same model again in
    a new process skips XLA compilation. JAXMC_COMPILATION_CACHE=0 turns it off; a path sets the folder."""
    if _off("JAXMC_COMPILATION_CACHE"):
        return
    setting = os.environ.get("JAXMC_COMPILATION_CACHE", "1")
    folder = setting if setting not in ("1", "true", "True") else os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "jaxmc", "xla")
    try:
        os.makedirs(folder, exist_ok=True)
        if jax.config.jax_compilation_cache_dir is None:
            jax.config.update("jax_compilation_cache_dir", folder)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
    except (OSError, AttributeError):  # read-only home or an older JAX: run without the cache
        pass


enable_compilation_cache()


def wanted_compiler_options(float64: bool) -> dict:
    """The compile options jaxmc asks for on CPU (docs/xla.md says what each is worth): XLA's older loop
    emitters and LLVM at -O1 (faster compiles), no YNNPACK library fusions (they would split the sampler's
    loops out of single kernels) and, in float64, sums left sequential (no pairwise rewrite)."""
    opts = {"xla_cpu_use_fusion_emitters": False, "xla_backend_optimization_level": 1,
            "xla_cpu_experimental_ynn_fusion_type": ""}
    if float64:
        opts["xla_disable_hlo_passes"] = "tree_reduction_rewriter"
    return opts


def supported(options: dict) -> dict:
    """The subset of `options` that the installed XLA accepts, found by compiling a one-operation program
    with them and dropping each option XLA names as unknown (a renamed or removed option must not stop a
    program from compiling). The dropped ones are logged."""
    opts = dict(options)
    while opts:
        try:
            jax.jit(lambda x: x + 1, compiler_options=opts).lower(jnp.float32(0)).compile()
            break
        except Exception as err:  # noqa: BLE001 - jaxlib raises JaxRuntimeError (a RuntimeError) here
            bad = [k for k in opts if f"'{k}'" in str(err)]
            if not bad:
                bad = [k for k in opts if k in str(err)] or list(opts)  # unrecognised message: drop them all
            for k in bad:
                log.info("XLA option %s=%r is not supported by jaxlib %s; dropped", k, opts.pop(k),
                         _jaxlib_version())
    return opts


@functools.lru_cache(maxsize=None)
def _compiler_options(backend: str, float64: bool) -> tuple:
    if backend != "cpu":
        return ()
    return tuple(supported(wanted_compiler_options(float64)).items())


def compiler_options(dtype) -> dict:
    """XLA options for jaxmc's compiled programs (sampler, predictive) whose floats are `dtype`: the
    wanted ones on CPU that the installed XLA supports, none elsewhere."""
    return dict(_compiler_options(jax.default_backend(), jnp.dtype(dtype) == jnp.float64))


def dropped_compiler_options(dtype="float64") -> list[str]:
    """The options jaxmc would like but the installed XLA does not support (empty on tested versions)."""
    if jax.default_backend() != "cpu":
        return []
    kept = compiler_options(dtype)
    return [k for k in wanted_compiler_options(jnp.dtype(dtype) == jnp.float64) if k not in kept]

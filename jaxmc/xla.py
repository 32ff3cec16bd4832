"""Everything jaxmc does to JAX and XLA process-wide (float64, the loop-kernel flag in XLA_FLAGS, one thread for the
BLAS behind jaxlib's CPU linear algebra, jaxlib 0.10's batched LAPACK calls one matrix at a time) and to its own
programs (compile options, its size-limited on-disk cache), each checked against the installed jax and jaxlib.

What each setting does and what it is worth is in docs/xla.md.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import logging
import mmap
import os
import pickle
import sys
import tempfile
import warnings

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


def _backend_started() -> bool:
    """Whether JAX already created its backends (and so read XLA_FLAGS) in this process."""
    if "jax" not in sys.modules:
        return False
    try:
        from jax._src import xla_bridge  # no public API tells; present in jax 0.4.3x to 0.12

        return bool(xla_bridge.backends_are_initialized())
    except (ImportError, AttributeError):
        return False


_STARTED_BEFORE = _backend_started()
#: whether XLA_FLAGS asks for the loop-kernel option (left alone when JAX started first: too late to matter)
LOOP_KERNELS_REQUESTED = (SMALL_LOOP_OPTION in os.environ.get("XLA_FLAGS", "") if _STARTED_BEFORE
                          else enable_small_loop_kernels())
#: XLA_FLAGS as JAX's CPU client reads it: None when JAX started before jaxmc was imported (not known)
XLA_FLAGS_IN_EFFECT = None if _STARTED_BEFORE else os.environ.get("XLA_FLAGS", "")


def loop_kernel_notice() -> str | None:
    """Why the loop-kernel option is not in effect, with what that changes, or None when it is requested."""
    if os.environ.get("JAXMC_SMALL_LOOP_KERNELS") is not None and _off("JAXMC_SMALL_LOOP_KERNELS"):
        why = "JAXMC_SMALL_LOOP_KERNELS=0 leaves XLA's small-while-loop option off"
        fix = "unset JAXMC_SMALL_LOOP_KERNELS"
    elif _STARTED_BEFORE and not LOOP_KERNELS_REQUESTED and sys.modules["jax"].default_backend() == "cpu":
        why = ("jaxmc was imported after JAX had started (JAX reads XLA_FLAGS once, when it creates its "
               "backends), so XLA's small-while-loop option could not be set")
        fix = "import jaxmc before running any JAX code, or start Python with XLA_FLAGS set as docs/xla.md shows"
    elif _STARTED_BEFORE:
        return None  # the user's own XLA_FLAGS carried the option
    elif not LOOP_KERNELS_REQUESTED and _EXTRA_OPTIONS_FLAG in os.environ.get("XLA_FLAGS", ""):
        why = f"XLA_FLAGS already sets {_EXTRA_OPTIONS_FLAG} (XLA takes one), without {SMALL_LOOP_OPTION}"
        fix = f"add {SMALL_LOOP_OPTION}={SMALL_LOOP_BYTES} to it, comma-separated"
    else:
        return None  # requested, or a jaxlib that does not know the option (logged above)
    return (f"{why}: sampling on CPU is slower (the draws for a random_seed are the same; docs/xla.md). To get "
            f"the default speed, {fix}.")


if loop_kernel_notice():
    warnings.warn(loop_kernel_notice(), stacklevel=2)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

jax.config.update("jax_enable_x64", True)

#: jaxlib releases whose CPU LAPACK kernels split a batch of matrices over XLA's intra-op thread pool and wait
#: for the pieces on a thread of that same pool: two batched calls running at once on a 2-thread pool wait for
#: each other forever (found on 0.10.2; the parallel path is compiled out from 0.11.2 on)
LAPACK_BATCH_DEADLOCK = ((0, 10, 0), (0, 11, 2))
#: the linear-algebra primitives with such kernels, with the rank of one problem in their first operand
LAPACK_PRIMITIVES = {"cholesky_p": 2, "triangular_solve_p": 2, "lu_p": 2, "geqrf_p": 2, "geqp3_p": 2,
                     "householder_product_p": 2, "ormqr_p": 2, "eigh_p": 2, "eig_p": 2, "svd_p": 2, "schur_p": 2,
                     "hessenberg_p": 2, "tridiagonal_p": 2, "tridiagonal_solve_p": 1}


def _version_tuple(text: str) -> tuple:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _one_matrix_at_a_time(prim, rule, rank: int):
    """`rule` (a CPU lowering of `prim`) for one problem; a batch becomes a loop of single-problem calls."""
    import math

    from jax._src.interpreters import mlir

    def lowering(ctx, *args, **params):
        shape = ctx.avals_in[0].shape
        nb = len(shape) - rank
        if nb <= 0 or math.prod(shape[:nb]) <= 1:
            return rule(ctx, *args, **params)
        batch = shape[:nb]

        def loop(*xs):
            flat = [x.reshape((-1,) + x.shape[nb:]) for x in xs]
            out = jax.lax.map(lambda ys: prim.bind(*ys, **params), flat)
            unflat = lambda y: y.reshape(batch + y.shape[1:])  # noqa: E731
            return [unflat(y) for y in out] if prim.multiple_results else unflat(out)

        return mlir.lower_fun(loop, multiple_results=prim.multiple_results)(ctx, *args)

    lowering.jaxmc_one_at_a_time = True
    return lowering


def serialize_lapack_batches() -> list[str]:
    """On the jaxlib releases in LAPACK_BATCH_DEADLOCK, lower each batched CPU LAPACK call (a Cholesky of every
    chain's covariance, of every posterior draw's) as a loop of single-matrix calls, which never use the thread
    pool: the batched kernels of those releases can deadlock (docs/xla.md). Process-wide, for every program
    lowered afterwards; returns the primitives changed (none on other releases)."""
    version = _version_tuple(_jaxlib_version())
    low, high = LAPACK_BATCH_DEADLOCK
    if not low <= version < high:
        return []
    from jax._src.interpreters import mlir
    from jax._src.lax import linalg

    table = getattr(mlir, "_platform_specific_lowerings", {}).get("cpu", {})
    changed = []
    for name, rank in LAPACK_PRIMITIVES.items():
        prim = getattr(linalg, name, None)
        entry = table.get(prim) if prim is not None else None
        if entry is None or getattr(entry.rule, "jaxmc_one_at_a_time", False):
            continue
        table[prim] = mlir.LoweringRuleEntry(_one_matrix_at_a_time(prim, entry.rule, rank), entry.inline)
        changed.append(name)
    return changed


LAPACK_ONE_AT_A_TIME = serialize_lapack_batches()

#: default size limit of jaxmc's on-disk cache of compiled programs (JAXMC_COMPILATION_CACHE_MB sets it)
CACHE_MB = 512


def cache_folder() -> str | None:
    """The folder of jaxmc's on-disk program cache: ``$XDG_CACHE_HOME/jaxmc/xla`` (``~/.cache/jaxmc/xla``),
    another folder when JAXMC_COMPILATION_CACHE is a path, None when it is 0 or the folder cannot be made."""
    if _off("JAXMC_COMPILATION_CACHE"):
        return None
    setting = os.environ.get("JAXMC_COMPILATION_CACHE", "1")
    folder = setting if setting not in ("1", "true", "True") else _default_folder()
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:  # read-only home: run without the cache
        return None
    return folder


def cache_limit_bytes() -> int:
    return int(float(os.environ.get("JAXMC_COMPILATION_CACHE_MB", CACHE_MB)) * 2**20)


def _cache_key(lowered, options, devices=None) -> str:
    from importlib.metadata import version

    devices = jax.devices()[:1] if devices is None else devices
    device = devices[0]
    # the program text holds no Python structure: the argument and result trees (dict keys, e.g. data names)
    # are part of the key, or a program of another model with the same text would come back with its trees
    parts = [lowered.as_text(), repr(lowered.in_tree), repr(lowered.out_tree), repr(sorted(dict(options).items())),
             version("jax"), _jaxlib_version(), device.platform, getattr(device, "device_kind", ""),
             repr(XLA_FLAGS_IN_EFFECT), repr([d.id for d in devices])]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:40]


def compile_program(lowered, options=(), devices=None):
    """``lowered.compile()`` through jaxmc's own on-disk cache: a program compiled in an earlier process (same
    program text, compile ``options``, jax and jaxlib versions, device and XLA_FLAGS) is loaded instead of
    compiled. Only what is compiled through here is cached (never the user's own ``jax.jit`` code), and the
    folder is kept under its size limit by removing the least recently used programs. Any failure to read or
    write the cache falls back to compiling; nothing is cached when JAX started before jaxmc was imported
    (the XLA_FLAGS in effect are then unknown). `devices`: the devices the program runs on, in order (default:
    the one device of a one-device process; with several devices and none given, or several processes, the
    program is compiled and not cached: a loaded program runs on the devices it is given)."""
    if devices is None and jax.device_count() == 1:
        devices = jax.devices()
    cached = XLA_FLAGS_IN_EFFECT is not None and devices is not None and jax.process_count() == 1
    folder = cache_folder() if cached else None
    if folder is None:
        return lowered.compile()
    from jax.experimental import serialize_executable

    devices = list(devices)
    path = os.path.join(folder, _cache_key(lowered, options, devices) + ".jaxmc")
    try:
        with open(path, "rb") as f:
            compiled = serialize_executable.deserialize_and_load(*pickle.load(f), execution_devices=devices)
        os.utime(path)  # most recently used
        return compiled
    except FileNotFoundError:
        pass
    except Exception as err:  # noqa: BLE001 - a stale or truncated entry: compile again
        log.info("jaxmc cache entry %s unreadable (%s); compiling", path, err)
    compiled = lowered.compile()
    tmp = None
    try:
        blob = pickle.dumps(serialize_executable.serialize(compiled))
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".tmp") as f:
            tmp = f.name
            f.write(blob)
        os.replace(tmp, path)  # atomic: a concurrent reader sees the whole entry or none
        tmp = None
        prune_cache(folder, cache_limit_bytes())
    except Exception as err:  # noqa: BLE001 - an executable that cannot be serialized, a full disk
        log.info("jaxmc could not cache a compiled program (%s)", err)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.remove(tmp)
    return compiled


def _default_folder() -> str:
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "jaxmc", "xla")


def prune_cache(folder: str, limit: int) -> None:
    """Remove the least recently used programs of `folder` until the rest take at most `limit` bytes. In the
    default folder, entries in JAX's own cache format (``*-cache``, ``*-atime``: not jaxmc's) go too."""
    entries = []
    foreign = os.path.realpath(folder) == os.path.realpath(_default_folder())
    for name in os.listdir(folder):
        if foreign and name.endswith(("-cache", "-atime")):
            try:
                os.remove(os.path.join(folder, name))
            except OSError:
                pass
        elif name.endswith(".jaxmc"):
            try:
                st = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            entries.append((st.st_mtime, st.st_size, name))
    total = sum(e[1] for e in entries)
    for _, size, name in sorted(entries):
        if total <= limit:
            break
        try:
            os.remove(os.path.join(folder, name))
            total -= size
        except OSError:
            pass


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
            jax.jit(lambda x: x + 1, compiler_options=opts).lower(jax.ShapeDtypeStruct((), jnp.float32)).compile()
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
    wanted ones on CPU that the installed XLA supports, none elsewhere. On CPU, the first call also limits
    jaxlib's BLAS to one thread (`limit_lapack_threads`)."""
    backend = jax.default_backend()
    if backend == "cpu":
        limit_lapack_threads()
    return dict(_compiler_options(backend, jnp.dtype(dtype) == jnp.float64))


LAPACK_THREADS_VARIABLE = "JAXMC_LAPACK_THREADS"


@functools.lru_cache(maxsize=None)
def limit_lapack_threads() -> int | None:
    """jaxlib's CPU Cholesky, triangular solves and other LAPACK calls run on SciPy's BLAS
    (`scipy.linalg.cython_lapack`). Its own threads on top of XLA's (chains run in parallel threads)
    oversubscribe the cores: a GP's gradient (100x100 Cholesky and solves) took 51 ms instead of 1.1 ms on a
    2-core machine under load. So jaxmc limits SciPy's BLAS, and only it (numpy's is a separate library), to
    $JAXMC_LAPACK_THREADS threads (default 1; 0 leaves it alone) with threadpoolctl. Returns the limit set,
    or None when nothing was changed (no SciPy, threadpoolctl or OpenBLAS found, or the variable is 0)."""
    try:
        n = int(os.environ.get(LAPACK_THREADS_VARIABLE, "1"))
    except ValueError:
        warnings.warn(f"{LAPACK_THREADS_VARIABLE} must be a whole number of threads (0: leave SciPy's BLAS alone); "
                      f"found {os.environ[LAPACK_THREADS_VARIABLE]!r}, using 1", stacklevel=2)
        n = 1
    if n <= 0 or importlib.util.find_spec("scipy") is None or importlib.util.find_spec("threadpoolctl") is None:
        return None
    import scipy.linalg.cython_lapack  # noqa: F401  (loads the library jaxlib calls, if not loaded yet)
    from threadpoolctl import ThreadpoolController

    scipy_dir = os.path.dirname(importlib.util.find_spec("scipy").origin)
    own = (scipy_dir + os.sep, scipy_dir + ".libs" + os.sep)  # scipy/.dylibs (macOS), scipy.libs (Linux)
    libs = [lib for lib in ThreadpoolController().lib_controllers
            if lib.user_api == "blas" and (lib.filepath or "").startswith(own)]
    for lib in libs:
        lib.set_num_threads(n)
    return n if libs else None


def dropped_compiler_options(dtype="float64") -> list[str]:
    """The options jaxmc would like but the installed XLA does not support (empty on tested versions)."""
    if jax.default_backend() != "cpu":
        return []
    kept = compiler_options(dtype)
    return [k for k in wanted_compiler_options(jnp.dtype(dtype) == jnp.float64) if k not in kept]


#: the CPU collectives that several processes on CPU need (jax's config name; gloo ships with jaxlib)
CPU_COLLECTIVES = ("jax_cpu_collectives_implementation", "gloo")


def start_distributed(**kwargs) -> None:
    """`jax.distributed.initialize(**kwargs)` for jaxmc.distributed, before JAX creates its backends (it must):
    refused when called twice or after JAX started; on CPU, gloo collectives where the installed jax has the
    setting (the default of jax 0.10 and 0.12, set explicitly so that a changed default cannot break it)."""
    if jax.distributed.is_initialized():
        raise RuntimeError("jaxmc.distributed.initialize() was already called in this process (JAX's distributed "
                           "runtime is running); call it once, at the start of the script")
    if _backend_started():
        raise RuntimeError("jaxmc.distributed.initialize() was called after JAX had started (an array was made or "
                           "a program run); call it right after `import jaxmc`, before building a model")
    name, value = CPU_COLLECTIVES
    if name in jax.config.values and jax.config.values[name] in (None, "none", ""):
        jax.config.update(name, value)
    jax.distributed.initialize(**kwargs)

"""The suite's process settings (a temporary program cache, XLA's optimization level for the tests' own programs,
PyTensor's Python linker for PyMC's reference functions) and shared fixtures: `traces` counts how often the model's
log density and the forward (predictive) draw are traced, by wrapping them (Python runs them only while JAX traces a
program)."""

import atexit
import collections
import os
import shutil
import signal
import tempfile
import threading

# Before jaxmc is imported: its program cache (and anything else that follows XDG) goes to a temporary folder,
# never the user's home; `tests/test_reproducibility.py` checks it.
_CACHE_HOME = tempfile.mkdtemp(prefix="jaxmc-tests-cache-")
atexit.register(shutil.rmtree, _CACHE_HOME, True)
os.environ["XDG_CACHE_HOME"] = _CACHE_HOME
if os.environ.get("JAXMC_COMPILATION_CACHE", "1") not in ("0", "false", "False", ""):
    os.environ.pop("JAXMC_COMPILATION_CACHE", None)  # a path set by the user is not for the tests

# Programs compiled without XLA options of their own (eager operations, the tests' own `jax.jit`, jaxmc's helpers such
# as `compile_logp`, predictive draws of 4M values or more) are compiled at XLA's lowest backend optimization level,
# which compiles them faster; the programs jaxmc compiles with its options (sampler, `pm.draw`, smaller predictive
# draws) set their own level and are compiled as for users.
# A level already in XLA_FLAGS is kept; subprocesses started by the tests inherit the setting.
_OPT_LEVEL = "--xla_backend_optimization_level"
if _OPT_LEVEL not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_OPT_LEVEL}=0".strip()

import sys  # noqa: E402

import pytest  # noqa: E402

from jaxmc import compile as jaxmc_compile  # noqa: E402
from jaxmc import interrupt  # noqa: E402
from jaxmc import predictive  # noqa: E402
from jaxmc import progress  # noqa: E402


def pytest_configure(config):
    """The default suite (`-m 'not slow'`) evaluates PyMC's functions with PyTensor's Python linker (`linker=py`
    in `PYTENSOR_FLAGS`, inherited by subprocesses): the same graphs and rewrites but the fusion of elementwise
    operations (whose Python implementation takes at most 32 operands and loops over elements in Python), each
    operation run by its Python implementation, so that nothing is compiled to C (PyMC 5) or with numba (PyMC 6).
    On a fresh machine PyTensor's cache of compiled code is empty, and compiling it took most of the time of the
    tests that compare with PyMC. Tests that sample with PyMC run in `tests.helpers.pytensor_compiled()`. The
    slow tests sample with PyMC, so a selection that may hold them keeps PyTensor's own linker, as does a linker
    or mode already set in `PYTENSOR_FLAGS` (or PyTensor imported before the suite starts)."""
    markexpr = config.getoption("markexpr", "") or ""
    if "not slow" not in markexpr or "slow" in markexpr.replace("not slow", ""):
        return
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "linker" in flags or "mode" in flags or "pytensor" in sys.modules:  # imported: it has read its flags
        return
    os.environ["PYTENSOR_FLAGS"] = f"{flags},linker=py,optimizer_excluding=fusion".lstrip(",")


@pytest.fixture
def python_sigint_handler():
    """Python's own Ctrl-C handler for the test, also where the test process was started with SIGINT ignored
    (e.g. in the background of a non-interactive shell), where jaxmc leaves Ctrl-C ignored too."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def ctrl_c_at():
    """`ctrl_c_at(patcher, call, bar=progress.SamplingProgress)`: send SIGINT to this process from the `call`-th
    update of the progress bar class `bar` (pm.sample's; `progress.LoopProgress` for find_MAP, pm.fit, SMC),
    from a worker thread when chains run separately, as pressing Ctrl-C then would, and there waits until the main
    thread has handled it (so that the run stops there, however loaded the machine); `patcher` is a pytest
    MonkeyPatch."""

    def install(patcher, call: int, bar=progress.SamplingProgress):
        calls = {"n": 0}
        original = bar.update
        handle = interrupt.Interrupt._handle
        handled = threading.Event()

        def update(self, *args, **kwargs):
            original(self, *args, **kwargs)
            calls["n"] += 1
            if calls["n"] == call:
                os.kill(os.getpid(), signal.SIGINT)
                if threading.current_thread() is not threading.main_thread():
                    # Python runs the handler in the main thread once that thread holds the GIL: the chains'
                    # threads would otherwise go on, and under load finish the run before it does
                    handled.wait(30)

        def handle_and_tell(self, signum, frame):
            try:
                return handle(self, signum, frame)
            finally:
                handled.set()

        patcher.setattr(bar, "update", update)
        patcher.setattr(interrupt.Interrupt, "_handle", handle_and_tell)

    return install


@pytest.fixture
def traces(monkeypatch):
    """A Counter with keys "logp" (traces of the compiled log density) and "forward" (of a predictive draw)."""
    count = collections.Counter()
    logp = jaxmc_compile.CompiledModel.logp
    draw = predictive.ancestral_sample

    def counted_logp(self, *args, **kwargs):
        count["logp"] += 1
        return logp(self, *args, **kwargs)

    def counted_draw(*args, **kwargs):
        count["forward"] += 1
        return draw(*args, **kwargs)

    monkeypatch.setattr(jaxmc_compile.CompiledModel, "logp", counted_logp)
    monkeypatch.setattr(predictive, "ancestral_sample", counted_draw)
    return count

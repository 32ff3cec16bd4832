"""Run PyMC code unchanged: `install()` makes `import pymc` (and every `pymc.x.y`) give jaxmc's module of the
same role, one module object under both names (table: `jaxmc.pymc_names.MODULES`); `run` is `python -m jaxmc run`."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import runpy
import sys

from jaxmc import pymc_names

__all__ = ["PyMCFinder", "install", "installed", "run", "uninstall"]


def _is_pymc(fullname: str) -> bool:
    return fullname == "pymc" or fullname.startswith("pymc.")


class PyMCFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A sys.meta_path finder and loader that answers for `pymc` and every `pymc.*` name: the module is
    jaxmc's (`pymc_names.module`), never a second copy; a module jaxmc lacks raises NotInJaxmcError, an
    ImportError naming the alternative."""

    def find_spec(self, fullname, path=None, target=None):
        if not _is_pymc(fullname):
            return None
        module = pymc_names.module(fullname)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=hasattr(module, "__path__"),
                                              loader_state=module)

    def create_module(self, spec):
        return spec.loader_state

    def exec_module(self, module):
        pass  # the module is jaxmc's, already imported


_FINDER = PyMCFinder()


def installed() -> bool:
    """Whether `import pymc` gives jaxmc in this process."""
    return _FINDER in sys.meta_path


def install() -> PyMCFinder:
    """From now on `import pymc`, `import pymc as pm`, `from pymc import x` and `from pymc.x.y import z`
    give jaxmc's modules (docs/compat.md). Call it before anything imports PyMC; idempotent."""
    if installed():
        return _FINDER
    real = sorted(n for n, m in list(sys.modules.items()) if _is_pymc(n) and not _is_jaxmc(m))
    if real:
        raise RuntimeError(f"PyMC itself is already imported in this process ({', '.join(real[:3])}...): call "
                           "jaxmc.compat.install() before anything imports pymc, or run the script with "
                           "`python -m jaxmc run SCRIPT.py`")
    sys.meta_path.insert(0, _FINDER)
    return _FINDER


def uninstall() -> None:
    """Undo `install()`: `import pymc` finds PyMC again (jaxmc's modules stay imported as jaxmc.*)."""
    while _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in [n for n, m in list(sys.modules.items()) if _is_pymc(n) and _is_jaxmc(m)]:
        del sys.modules[name]


def _is_jaxmc(module) -> bool:
    return (getattr(module, "__name__", "").split(".")[0] == "jaxmc"
            or any(module is m for m in pymc_names.FACADES.values()))


def run(path: str, args=()) -> None:
    """Run the Python script at `path` as `__main__` with `sys.argv = [path, *args]` and jaxmc answering
    `import pymc` (as `python path args...` would run it with PyMC). The script's SystemExit propagates."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such script: {path!r}")
    sys.argv = [path, *args]
    folder = os.path.dirname(os.path.abspath(path))  # first on sys.path, as `python path` puts it
    if sys.path:
        sys.path[0] = folder
    else:
        sys.path.insert(0, folder)
    install()
    runpy.run_path(path, run_name="__main__")

"""Shared fixtures: `traces` counts how often the model's log density and the forward (predictive) draw are traced,
by wrapping them (Python runs them only while JAX traces a program)."""

import atexit
import collections
import os
import shutil
import tempfile

# Before jaxmc is imported: its program cache (and anything else that follows XDG) goes to a temporary folder,
# never the user's home; `tests/test_reproducibility.py` checks it.
_CACHE_HOME = tempfile.mkdtemp(prefix="jaxmc-tests-cache-")
atexit.register(shutil.rmtree, _CACHE_HOME, True)
os.environ["XDG_CACHE_HOME"] = _CACHE_HOME
if os.environ.get("JAXMC_COMPILATION_CACHE", "1") not in ("0", "false", "False", ""):
    os.environ.pop("JAXMC_COMPILATION_CACHE", None)  # a path set by the user is not for the tests

import pytest  # noqa: E402

from jaxmc import compile as jaxmc_compile  # noqa: E402
from jaxmc import predictive  # noqa: E402


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

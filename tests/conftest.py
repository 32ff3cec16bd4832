"""Shared fixtures: `traces` counts how often the model's log density and the forward (predictive) draw are traced,
by wrapping them (Python runs them only while JAX traces a program)."""

import collections

import pytest

from jaxmc import compile as jaxmc_compile
from jaxmc import predictive


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

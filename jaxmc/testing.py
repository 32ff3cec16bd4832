"""Test helpers PyMC users import from `pymc.testing`: `assert_no_rvs`, `rvs_in_graph`, `select_by_precision`."""

from __future__ import annotations

from jaxmc import config
from jaxmc.graph import is_node
from jaxmc.graph.clone import graph_order


def rvs_in_graph(vars) -> set:
    """The random variables (named or `.dist()`) that an expression or expressions depend on."""
    vars = [vars] if is_node(vars) else list(vars)
    return {n for n in graph_order(vars) if n.kind == "rv"}


def assert_no_rvs(vars) -> None:
    """Raise AssertionError if the expression(s) still depend on random variables (e.g. after
    `model.replace_rvs_by_values` or in `model.logp()`)."""
    rvs = rvs_in_graph(vars)
    if rvs:
        raise AssertionError(f"RV found in graph: {sorted(rvs, key=lambda n: n.id)}")


def select_by_precision(float64, float32):
    """The first value when floatX is float64, the second otherwise (decimal cutoffs for checks)."""
    return float64 if config.floatX() == "float64" else float32

"""Helpers shared by the distribution tests: quiet and fast PyMC calls, jitted jaxmc log densities of `.dist()`
cases, and PyMC's log densities of many cases from one compiled function."""

from __future__ import annotations

import functools
import warnings

import jax
import numpy as np

import jaxmc


def np_logp(rv, value):
    """`pm.logp` as numbers (it returns a graph node, as PyMC)."""
    return np.asarray(jaxmc.logp(rv, value).eval())


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


def fast(fn, *a, **k):
    """PyMC with PyTensor's FAST_COMPILE mode (no C compilation: these graphs are small)."""
    import pytensor

    with pytensor.config.change_flags(mode="FAST_COMPILE"):
        return quiet(fn, *a, **k)


def jit_eval(rv, values, what="logp"):
    """`pm.logp` / `pm.logcdf` of a `.dist()` variable with constant parameters, as one jitted function."""
    d = rv.owner
    f = d.checked_logp if what == "logp" else d.checked_logcdf
    return np.asarray(jax.jit(lambda v, *p: f(v, *p))(values, *d.params))


def jaxmc_cases(cases):
    """A cached `f(name, what="logp")`: the jitted jaxmc logp / logcdf of case `name` at its values, for cases
    `name -> (build(pm), values, ...)`."""

    @functools.lru_cache(maxsize=None)
    def evaluate(name, what="logp"):
        make, values = cases[name][:2]
        return jit_eval(quiet(make, jaxmc), values, what)

    return evaluate


def _pymc_graphs(cases, value_of):
    """PyMC's logp (and logcdf where a case asks for it) of cases `name -> (build(pm), values, with_logcdf)` at
    `value_of(i, values)`: (outputs, keys (name, "logp" | "logcdf"))."""
    import pymc

    outs, keys = [], []
    for i, (name, (make, values, has_cdf)) in enumerate(cases.items()):
        rv = quiet(make, pymc)
        v = value_of(i, values)
        outs.append(pymc.logp(rv, v))
        keys.append((name, "logp"))
        if has_cdf:
            outs.append(pymc.logcdf(rv, v))
            keys.append((name, "logcdf"))
    return outs, keys


def pymc_at_values(cases):
    """PyMC's logp (and logcdf) of every case at its values, from one compiled function:
    {(name, "logp" | "logcdf"): array}."""
    import pytensor

    outs, keys = _pymc_graphs(cases, lambda i, values: values)
    fn = fast(pytensor.function, [], outs)
    return {k: np.asarray(v) for k, v in zip(keys, fn())}


def pymc_by_row(cases, n_rows):
    """PyMC's logp (and logcdf) of every case in one compiled function of one symbolic value per case, called
    once per row of the values (for PyMC distributions whose logp takes values of the variable's shape):
    {(name, "logp" | "logcdf"): array with one row per row of the values}."""
    import pytensor
    import pytensor.tensor as pt

    ins = []

    def symbolic(i, values):
        ins.append(pt.tensor(f"v{i}", shape=values.shape[1:], dtype=str(values.dtype)))
        return ins[-1]

    outs, keys = _pymc_graphs(cases, symbolic)
    fn = quiet(pytensor.function, ins, outs, on_unused_input="ignore", mode="FAST_COMPILE")
    rows = [fn(*[values[r] for _, values, _ in cases.values()]) for r in range(n_rows)]
    return {key: np.stack([np.asarray(row[j]) for row in rows]) for j, key in enumerate(keys)}

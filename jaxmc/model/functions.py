"""`model.compile_fn`: a compiled function of a point ({name: value}) or of positional inputs that computes graph
outputs; value variables and named random variables take the given values, other random variables are drawn."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.graph import ancestral_sample, current_data_env, is_node, prng_key
from jaxmc.graph.clone import graph_order


def compile_fn(model, outs, inputs=None, point_fn: bool = True, random_seed=None, **kwargs):
    """PyMC's `Model.compile_fn`: with `point_fn` the function takes a point dict (extra keys are ignored),
    otherwise the values of `inputs` in order. Outputs come back as numpy arrays (a list for a list). PyTensor
    options (mode=, on_unused_input=, ...) are accepted and ignored."""
    single = is_node(outs)
    outs = [outs] if single else list(outs)
    nodes = graph_order(outs)
    leaves = [n for n in nodes if n.kind == "value"]
    if inputs is None:
        # a point may also give values of named random variables (not drawn then)
        inputs = leaves + ([n for n in nodes if n.kind == "rv" and n.name] if point_fn else [])
        if not point_fn and len(inputs) > 1:
            raise ValueError("compile_fn requires inputs= when there is more than one input and point_fn=False")
    inputs = [model[i] if isinstance(i, str) else i for i in inputs]
    if not point_fn:
        missing = [n.name for n in leaves if not any(n is i for i in inputs)]
        if missing:
            raise ValueError(f"compile_fn: the outputs depend on value variable(s) {missing}, which are not "
                             "among inputs=")
    base = prng_key(random_seed)
    calls = itertools.count()
    data_env = current_data_env(outs)
    data_nodes = list(data_env)

    def fn(*args, **kw):
        if point_fn:
            point = dict(args[0] if args else {}, **kw)
            absent = [i.name for i in inputs if i.name not in point and i.kind == "value"]
            if absent:
                raise KeyError(f"compile_fn: the point has no value for {absent}; it has {sorted(point)}")
            used = [i for i in inputs if i.name in point]
            vals = [jnp.asarray(point[i.name]) for i in used]
        else:
            if len(args) != len(inputs):
                raise TypeError(f"compile_fn: expected {len(inputs)} input(s) "
                                f"{[i.name for i in inputs]}, got {len(args)}")
            used, vals = inputs, [jnp.asarray(a) for a in args]
        data = [jnp.asarray(n.model.data_values()[n.name]) for n in data_nodes]
        key = jax.random.fold_in(base, next(calls))
        res = jitted_for(used)(vals, data, key)
        res = [np.asarray(r) for r in res]
        return res[0] if single else res

    cache: dict = {}

    def jitted_for(used):
        ids = tuple(i.id for i in used)
        if ids not in cache:
            def run_used(vals, data, key):
                env = dict(zip(data_nodes, data))
                env.update(zip(used, vals))
                return ancestral_sample(outs, key, env)

            cache[ids] = jax.jit(run_used, compiler_options=config.compiler_options())
        return cache[ids]

    return fn


def model_compile_fn(outs, *, inputs=None, mode=None, point_fn: bool = True, model=None, **kwargs):
    """`pm.compile_fn`: `Model.compile_fn` of the model in context (or `model=`)."""
    from jaxmc.model.context import modelcontext

    return compile_fn(modelcontext(model), outs, inputs=inputs, point_fn=point_fn, **kwargs)

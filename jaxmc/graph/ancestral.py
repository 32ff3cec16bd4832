"""Ancestral sampling on a model graph: each random variable drawn from its distribution given its parents,
shapes following the current data and dims; `pm.draw` and `x.eval()` run on it."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.seeds import int_seed
from jaxmc.graph.traversal import Node, aval_of, convert_foreign, evaluate, is_node, toposort


def rv_shape(rv: Node, params, env) -> tuple[int, ...]:
    """Shape of a random variable given current data: dims follow the model's current dim lengths,
    observed variables follow their data, explicit shapes are fixed, otherwise the parameters decide."""
    dist = rv.owner
    model = getattr(rv, "model", None)
    dims = getattr(rv, "dims", None)
    if model is not None and dims and all(d is not None for d in dims):
        return tuple(model.dim_lengths[d] for d in dims)
    if getattr(rv, "shape_follows_data", False):  # shape=X.shape of a pm.Data: follows set_data
        return rv.shape
    observed = getattr(rv, "observed", None)
    if observed is not None and observed in env:
        return tuple(jnp.shape(env[observed]))
    if dist.explicit_shape:
        return rv.shape
    k = dist.ndims_params or (0,) * len(params)
    batch = jnp.broadcast_shapes(*[jnp.shape(p)[: jnp.ndim(p) - n] for p, n in zip(params, k)]) \
        if params else ()
    supp = tuple(dist.supp_shape(*[aval_of(p) for p in params])) if dist.ndim_supp else ()
    return (*batch, *supp)


def rv_ancestors(outputs) -> list[Node]:
    """Random variables that outputs depend on, through parameters too, in creation order."""
    found: dict[int, Node] = {}
    frontier = [o for o in outputs if is_node(o)]
    while frontier:
        nxt = []
        for node in toposort(frontier):
            if node.kind == "rv" and node.id not in found:
                found[node.id] = node
                nxt.extend(p for p in node.owner.params if is_node(p))
                obs = getattr(node, "observed", None)
                if obs is not None:
                    nxt.append(obs)
        frontier = nxt
    return [found[i] for i in sorted(found)]


def data_leaves(outputs) -> list[Node]:
    nodes = []
    for rv in rv_ancestors(outputs):
        nodes.extend(p for p in rv.owner.params if is_node(p))
    return [n for n in toposort(list(outputs) + nodes) if n.kind == "data"]


def current_data_env(outputs) -> dict:
    """{data node: current value} for every data container outputs depend on."""
    env = {}
    for n in data_leaves(outputs):
        env[n] = jnp.asarray(n.model.data_values()[n.name])
    return env


def ancestral_sample(outputs, key, env: dict, size_of=None):
    """Draw every random variable that outputs depend on and that env lacks; returns output values.
    `size_of(rv, params, size)` may change the shape `rv_shape` gives a variable's draw."""
    for rv in rv_ancestors(outputs):
        if rv in env:
            continue
        params = evaluate(rv.owner.params, env)
        key, sub = jax.random.split(key)
        size = rv_shape(rv, params, env)
        if size_of is not None:
            size = size_of(rv, params, size)
        env[rv] = rv.owner.random(sub, *params, size=size).astype(rv.dtype)
    return evaluate(outputs, env)


def draw(vars, draws: int = 1, random_seed=None, givens=None, **kwargs):
    """Draws of variables from their (prior) generative graph, like `pm.draw`."""
    vars = convert_foreign(vars)  # a PyTensor expression of model variables (pytensor_interop)
    single = is_node(vars)
    outs = [vars] if single else [convert_foreign(v) for v in vars]
    key = prng_key(random_seed)
    env0 = current_data_env(outs)
    for k, v in (givens or {}).items():
        env0[k] = jnp.asarray(v)

    def one(k):
        return ancestral_sample(outs, k, dict(env0))

    keys = jax.random.split(key, draws)
    res = jax.jit(jax.vmap(one), compiler_options=config.compiler_options())(keys)
    res = [np.asarray(r[0] if draws == 1 else r) for r in res]
    return res[0] if single else res


def eval_node(node: Node, values: dict):
    env = current_data_env([node])
    names = {n.name: n for n in rv_ancestors([node]) + data_leaves([node])}
    for k, v in values.items():
        if is_node(k):
            env[k] = jnp.asarray(v)
        elif k in names:  # names of variables the node does not depend on are ignored
            env[names[k]] = jnp.asarray(v)
    return np.asarray(ancestral_sample([node], prng_key(None), env)[0])


def prng_key(random_seed):
    """A JAX PRNG key from a seed (int, numpy Generator, a key itself, or None for a fresh one); other seeds
    are refused as PyMC 6 refuses them (jaxmc.seeds)."""
    random_seed = int_seed(random_seed)
    if isinstance(random_seed, jax.Array) and random_seed.dtype == jnp.uint32:
        return random_seed
    if isinstance(random_seed, np.random.Generator):
        random_seed = int(random_seed.integers(2**31))
    if random_seed is None:
        random_seed = int(np.random.SeedSequence().generate_state(1)[0] % (2**31))
    return jax.random.PRNGKey(int(random_seed))

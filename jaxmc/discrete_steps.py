"""Steps for discrete free variables inside the compiled sampler (PyMC's compound-step assignment).

As `pm.sample` does in PyMC: binary variables (Bernoulli) get Gibbs updates (PyMC's
BinaryGibbsMetropolis), categorical ones Gibbs over all categories (CategoricalGibbsMetropolis), other
integer variables random-walk Metropolis with a rounded-normal proposal whose scale is tuned during warm-up
(PyMC's Metropolis tuning rule). Each element is updated in turn, conditional on everything else.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

GIBBS, METROPOLIS = 0, 1


class DiscreteBlock(NamedTuple):
    """Static description of the discrete coordinates of the flat vector."""

    index: np.ndarray  # positions in the flat vector
    kind: np.ndarray  # GIBBS or METROPOLIS per coordinate
    n_values: np.ndarray  # number of values for Gibbs coordinates (0..n-1), else 0
    group: np.ndarray  # which variable each coordinate belongs to (one proposal scale per variable)
    names: tuple  # variable names, by group


class DiscreteState(NamedTuple):
    scale: jax.Array  # Metropolis proposal scale per variable
    accepted: jax.Array  # acceptances per variable in the current tuning interval
    proposed: jax.Array


def block_for(cm) -> DiscreteBlock | None:
    """The discrete coordinates of a compiled model and the step each gets."""
    index, kind, n_values, group, names = [], [], [], [], []
    for slot in cm.slots:
        dist = slot.rv.owner
        if not dist.discrete:
            continue
        g = len(names)
        names.append(slot.rv.name)
        cls = type(dist).__name__
        size = slot.stop - slot.start
        if cls == "Bernoulli":
            k, n = GIBBS, 2
        elif cls == "Categorical":
            k, n = GIBBS, int(jnp.shape(dist.params[0])[-1])
        else:
            k, n = METROPOLIS, 0
        index.extend(range(slot.start, slot.stop))
        kind.extend([k] * size)
        n_values.extend([n] * size)
        group.extend([g] * size)
    if not index:
        return None
    return DiscreteBlock(np.array(index), np.array(kind), np.array(n_values), np.array(group), tuple(names))


def init(block: DiscreteBlock, dtype) -> DiscreteState:
    n = len(block.names)
    return DiscreteState(jnp.ones(n, dtype), jnp.zeros(n, dtype), jnp.zeros(n, dtype))


def step(key, x, logp_fn: Callable, block: DiscreteBlock, state: DiscreteState, tuning) -> tuple:
    """Update every discrete coordinate of the flat vector x once; returns (x, state)."""
    max_n = int(max(block.n_values.max(), 1))
    index = jnp.asarray(block.index)
    kind = jnp.asarray(block.kind)
    n_values = jnp.asarray(block.n_values)
    group = jnp.asarray(block.group)

    def update(i, carry):
        x, lp, st, key = carry
        key, k1, k2 = jax.random.split(key, 3)
        pos = index[i]

        def gibbs(_):
            cand = jnp.arange(max_n, dtype=x.dtype)
            lps = jax.vmap(lambda v: logp_fn(x.at[pos].set(v)))(cand)
            lps = jnp.where(jnp.arange(max_n) < n_values[i], lps, -jnp.inf)
            choice = jax.random.categorical(k1, lps)
            return x.at[pos].set(cand[choice]), lps[choice], st

        def metropolis(_):
            g = group[i]
            delta = jnp.round(jax.random.normal(k1, (), x.dtype) * st.scale[g])
            prop = x.at[pos].add(delta)
            lp_prop = logp_fn(prop)
            accept = (jnp.log(jax.random.uniform(k2, (), x.dtype)) < lp_prop - lp) & jnp.isfinite(lp_prop)
            accept = accept & (delta != 0)
            new_st = st._replace(accepted=st.accepted.at[g].add(accept.astype(x.dtype)),
                                 proposed=st.proposed.at[g].add(1.0))
            return jnp.where(accept, prop, x), jnp.where(accept, lp_prop, lp), new_st

        x, lp, st = jax.lax.cond(kind[i] == GIBBS, gibbs, metropolis, None)
        return x, lp, st, key

    lp0 = logp_fn(x)
    x, _, state, _ = jax.lax.fori_loop(0, len(block.index), update, (x, lp0, state, key))
    state = jax.lax.cond(tuning, _tune, lambda s: s, state)
    return x, state


def _tune(st: DiscreteState, interval: float = 100.0) -> DiscreteState:
    """PyMC's Metropolis scale tuning, applied each time a variable has had `interval` proposals."""
    due = st.proposed >= interval
    rate = st.accepted / jnp.maximum(st.proposed, 1.0)
    factor = jnp.select([rate < 0.001, rate < 0.05, rate < 0.2, rate > 0.95, rate > 0.75, rate > 0.5],
                        [0.1, 0.5, 0.9, 10.0, 2.0, 1.1], 1.0)
    scale = jnp.where(due, st.scale * factor, st.scale)
    return DiscreteState(scale, jnp.where(due, 0.0, st.accepted), jnp.where(due, 0.0, st.proposed))

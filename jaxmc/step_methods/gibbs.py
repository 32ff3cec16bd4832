"""PyMC's Metropolis-within-Gibbs steps for binary and categorical variables (BinaryGibbsMetropolis,
CategoricalGibbsMetropolis) and BinaryMetropolis, as pure kernels over their coordinates."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.step_methods.base import COMPATIBLE, IDEAL, INCOMPATIBLE, BlockedStep, Kernel, Setup, metropolis_accept


def n_categories(slot) -> int:
    """Number of values of a Bernoulli (2) or Categorical (last axis of p) variable, else 0."""
    dist = slot.rv.owner
    name = type(dist).__name__
    if name == "Bernoulli":
        return 2
    if name == "Categorical":
        return int(jnp.shape(dist.params[0])[-1])
    return 0


class _Empty(NamedTuple):
    pass


def _order(order, n: int, where: str):
    """'random' (a fresh permutation each step) or a permutation of range(n), checked as PyMC."""
    if isinstance(order, str):
        if order != "random":
            raise ValueError(f"{where}(order={order!r}): give 'random' or a permutation of range({n})")
        return None
    order = [int(i) for i in order]
    if sorted(order) != list(range(n)):
        raise ValueError(f"{where}(order=...): 'order' has to be a permutation of range({n}), found {order}")
    return np.asarray(order)


def _sweep_kernel(order, n: int, update) -> Kernel:
    """A kernel without state or stats that visits each of its n coordinates once per step, in `order` (None: a
    fresh random permutation), updating coordinate c by `update(k_propose, k_accept, c, logp, x, lp) -> (x, lp)`
    where lp is the log density at x."""

    def step(key, state, x, logp, i):
        k_order, k_loop = jax.random.split(key)
        visit = jax.random.permutation(k_order, n) if order is None else jnp.asarray(order)

        def one(j, carry):
            k1, k2 = jax.random.split(jax.random.fold_in(k_loop, j))
            return update(k1, k2, visit[j], logp, *carry)

        x, _ = jax.lax.fori_loop(0, n, one, (x, logp(x)))
        return x, state, {}

    return Kernel(lambda key, x, logp: _Empty(), step, lambda dtype: {})


class BinaryGibbsMetropolis(BlockedStep):
    """PyMC's BinaryGibbsMetropolis: each binary coordinate in turn (random order by default) proposes its flip
    with probability ``transit_p`` and keeps it by the Metropolis rule. No sample_stats."""

    stats_dtypes = {}

    def __init__(self, vars, *, order="random", transit_p=0.8, model=None, blocked=None, **kwargs):
        super().__init__(vars, model, blocked, **kwargs)
        self.order, self.transit_p = order, float(transit_p)

    @staticmethod
    def competence(slot, discrete):
        return IDEAL if discrete and n_categories(slot) == 2 else INCOMPATIBLE

    def kernel(self, cm, setup: Setup) -> Kernel:
        index, n = jnp.asarray(setup.index), len(setup.index)
        order = _order(self.order, n, "BinaryGibbsMetropolis")
        transit_p = self.transit_p

        def flip(k1, k2, c, logp, x, lp):
            pos = index[c]
            prop = x.at[pos].set(1 - x[pos])
            lp_prop = logp(prop)
            ok = (jax.random.uniform(k1, (), x.dtype) < transit_p) & metropolis_accept(k2, lp_prop - lp)
            return jnp.where(ok, prop, x), jnp.where(ok, lp_prop, lp)

        return _sweep_kernel(order, n, flip)


class CategoricalGibbsMetropolis(BlockedStep):
    """PyMC's CategoricalGibbsMetropolis: each categorical (or binary) coordinate in turn proposes another
    category, uniformly (``proposal="uniform"``) or by Liu's metropolised Gibbs ("proportional"), kept by the
    Metropolis rule. No sample_stats."""

    stats_dtypes = {}

    def __init__(self, vars, *, proposal="uniform", order="random", model=None, blocked=None, **kwargs):
        super().__init__(vars, model, blocked, **kwargs)
        if proposal not in ("uniform", "proportional"):
            raise ValueError(f"CategoricalGibbsMetropolis(proposal={proposal!r}): give 'uniform' or 'proportional'")
        self.proposal, self.order = proposal, order

    @staticmethod
    def competence(slot, discrete):
        k = n_categories(slot) if discrete else 0
        if type(slot.rv.owner).__name__ == "Categorical":
            return IDEAL if k > 2 else COMPATIBLE
        return COMPATIBLE if k == 2 else INCOMPATIBLE

    def kernel(self, cm, setup: Setup) -> Kernel:
        index, n = jnp.asarray(setup.index), len(setup.index)
        by_pos = {}
        for s in cm.slots:
            by_pos.update({p: n_categories(s) for p in range(s.start, s.stop)})
        ks = jnp.asarray([by_pos[int(p)] for p in setup.index])
        kmax = int(max(int(ks.max()), 2))
        order = _order(self.order, n, "CategoricalGibbsMetropolis")
        proportional = self.proposal == "proportional"

        def propose(k1, k2, c, logp, x, lp):
            pos, k = index[c], ks[c]
            cur = x[pos].astype(jnp.int32)
            if proportional:
                cand = jnp.arange(kmax)
                lps = jax.vmap(lambda v: logp(x.at[pos].set(v.astype(x.dtype))))(cand)
                lps = jnp.where(cand < k, lps, -jnp.inf)
                probs = jax.nn.softmax(lps)
                p_cur = probs[cur]
                other = jnp.where(cand == cur, -jnp.inf, jnp.log(probs))
                new = jax.random.categorical(k1, other)
                log_ratio = jnp.log1p(-p_cur) - jnp.log1p(-probs[new])
                lp_new = lps[new]
            else:
                new = jax.random.randint(k1, (), 0, k - 1)
                new = jnp.where(new >= cur, new + 1, new)
                lp_new = logp(x.at[pos].set(new.astype(x.dtype)))
                log_ratio = lp_new - lp
            ok = metropolis_accept(k2, jnp.where(jnp.isnan(log_ratio), -jnp.inf, log_ratio))
            return jnp.where(ok, x.at[pos].set(new.astype(x.dtype)), x), jnp.where(ok, lp_new, lp)

        return _sweep_kernel(order, n, propose)


class BinaryMetropolis(BlockedStep):
    """PyMC's BinaryMetropolis: flips every binary coordinate with probability ``1 - 0.5**scaling`` at once
    and keeps the joint proposal by the Metropolis rule. Stats ``accept``, ``p_jump``."""

    stats_dtypes = {"accept": "f", "p_jump": "f"}

    def __init__(self, vars, *, scaling=1.0, tune=True, tune_interval=100, model=None, blocked=None, **kwargs):
        super().__init__(vars, model, blocked, **kwargs)
        self.scaling, self.tune, self.tune_interval = float(scaling), bool(tune), int(tune_interval)

    @staticmethod
    def competence(slot, discrete):
        return COMPATIBLE if discrete and n_categories(slot) == 2 else INCOMPATIBLE

    def kernel(self, cm, setup: Setup) -> Kernel:
        index = jnp.asarray(setup.index)
        p_jump = 1.0 - 0.5 ** self.scaling

        def step(key, state, x, logp, i):
            k1, k2 = jax.random.split(key)
            flip = jax.random.uniform(k1, index.shape, x.dtype) < p_jump
            prop = x.at[index].set(jnp.where(flip, 1 - x[index], x[index]))
            log_ratio = logp(prop) - logp(x)
            ok = metropolis_accept(k2, log_ratio)
            stats = {"accept": jnp.exp(log_ratio).astype(x.dtype), "p_jump": jnp.asarray(p_jump, x.dtype)}
            return jnp.where(ok, prop, x), state, stats

        def empty(dtype):
            return {"accept": jnp.zeros((), dtype), "p_jump": jnp.zeros((), dtype)}

        return Kernel(lambda key, x, logp: _Empty(), step, empty)

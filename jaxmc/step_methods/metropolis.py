"""PyMC's random-walk Metropolis (`Metropolis`, with its proposal classes) and `DEMetropolisZ` (differential
evolution from the chain's own history, kept in the chain state), as pure kernels with PyMC's tuning."""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.step_methods.base import (COMPATIBLE, INCOMPATIBLE, BlockedStep, Kernel, Setup, metropolis_accept,
                                     tune_scaling)


class Proposal:
    """A zero-mean proposal parameterised by ``s`` (PyMC's); ``sample(key, dtype)`` draws one deviate."""

    def __init__(self, s):
        self.s = np.asarray(s, dtype=float)

    def sample(self, key, dtype):
        raise NotImplementedError


class NormalProposal(Proposal):
    def sample(self, key, dtype):
        return jax.random.normal(key, self.s.shape, dtype) * self.s


class UniformProposal(Proposal):
    def sample(self, key, dtype):
        return jax.random.uniform(key, self.s.shape, dtype, -1.0, 1.0) * self.s


class CauchyProposal(Proposal):
    def sample(self, key, dtype):
        return jax.random.cauchy(key, self.s.shape, dtype) * self.s


class LaplaceProposal(Proposal):
    def sample(self, key, dtype):
        k1, k2 = jax.random.split(key)
        return (jax.random.exponential(k1, self.s.shape, dtype) - jax.random.exponential(k2, self.s.shape, dtype)) \
            * self.s


class PoissonProposal(Proposal):
    def sample(self, key, dtype):
        return (jax.random.poisson(key, self.s, self.s.shape) - self.s).astype(dtype)


class MultivariateNormalProposal(Proposal):
    def __init__(self, s):
        super().__init__(s)
        n, m = self.s.shape if self.s.ndim == 2 else (0, 1)
        if self.s.ndim != 2 or n != m:
            raise ValueError(f"MultivariateNormalProposal: the covariance must be a square matrix, found shape "
                             f"{self.s.shape}")
        self.chol = np.linalg.cholesky(self.s)

    def sample(self, key, dtype):
        return jnp.asarray(self.chol, dtype) @ jax.random.normal(key, (self.s.shape[0],), dtype)


def _proposal(S, proposal_dist, n: int, where: str) -> Proposal:
    S = np.ones(n) if S is None else np.asarray(S, dtype=float)
    if proposal_dist is None:
        if S.ndim == 1:
            return NormalProposal(S)
        if S.ndim == 2:
            return MultivariateNormalProposal(S)
        raise ValueError(f"{where}(S=...): invalid rank {S.ndim} for the proposal scale; give a vector or a matrix")
    if not (isinstance(proposal_dist, type) and issubclass(proposal_dist, Proposal)):
        raise TypeError(f"{where}(proposal_dist=...) must be one of jaxmc's proposal classes (pm.NormalProposal, "
                        f"UniformProposal, CauchyProposal, LaplaceProposal, PoissonProposal, "
                        f"MultivariateNormalProposal), found {proposal_dist!r}")
    return proposal_dist(S)


def _check_size(prop: Proposal, n: int, where: str):
    size = prop.s.shape[0] if prop.s.ndim else 1
    if prop.s.ndim and size != n:
        raise ValueError(f"{where}(S=...): S has {size} entries but the step's variables have {n} values; give S "
                         f"of length {n}")


class MetropolisState(NamedTuple):
    scaling: jax.Array  # per coordinate (elementwise updates) or (1,)
    accepted_sum: jax.Array
    steps_until_tune: jax.Array


class Metropolis(BlockedStep):
    """PyMC's Metropolis-Hastings step: a proposal ``proposal_dist(S) * scaling``, one coordinate at a time in
    random order (the whole block at once for one scalar variable), discrete coordinates rounded; during
    warm-up the scale is tuned every ``tune_interval`` steps by PyMC's rule. Stats ``accept``, ``accepted``,
    ``scaling``."""

    stats_dtypes = {"accept": "f", "accepted": "f", "scaling": "f"}
    default_blocked = False  # PyMC: one Metropolis step per variable unless blocked=True
    split_attrs = ("S", "scaling")

    def __init__(self, vars=None, *, S=None, proposal_dist=None, scaling=1.0, tune=True, tune_interval=100,
                 model=None, blocked=None, **kwargs):
        super().__init__(vars, model, blocked, **kwargs)
        self.S = None if S is None else np.asarray(S, float)
        self.proposal_dist = proposal_dist
        _proposal(self.S, proposal_dist, 1, "Metropolis")  # checks the arguments now
        self.scaling = np.atleast_1d(np.asarray(scaling, float))
        self.tune, self.tune_interval = bool(tune), int(tune_interval)
        if self.tune_interval < 1:
            raise ValueError(f"Metropolis(tune_interval={tune_interval!r}) must be a positive integer")

    @staticmethod
    def competence(slot, discrete):
        return COMPATIBLE

    def default_vars(self, slots):
        return list(slots)

    def kernel(self, cm, setup: Setup) -> Kernel:
        n = len(setup.index)
        prop = _proposal(self.S, self.proposal_dist, n, "Metropolis")
        _check_size(prop, n, "Metropolis")
        index = jnp.asarray(setup.index)
        disc = np.zeros(cm.size, bool)
        for s in cm.slots:
            disc[s.start:s.stop] = s.rv.owner.discrete
        discrete = jnp.asarray(disc[setup.index])
        own = set(setup.index.tolist())
        slots = [s for s in cm.slots if s.start in own]
        scalar = len(slots) == 1 and tuple(slots[0].shape) == ()  # PyMC: one scalar variable, no loop
        elemwise = not scalar
        dims = n if elemwise else 1
        tune, interval, num_tune = self.tune, self.tune_interval, setup.tune
        scaling0 = self.scaling

        def init(key, x, logp):
            scaling = jnp.broadcast_to(jnp.asarray(scaling0, x.dtype), (dims,))
            return MetropolisState(scaling, jnp.zeros(dims, jnp.int32), jnp.int32(interval))

        def step(key, state, x, logp, i):
            scaling, acc_sum, until = state
            retune = (until == 0) & tune & (i < num_tune)
            scaling = jnp.where(retune, tune_scaling(scaling, acc_sum / float(interval)), scaling)
            acc_sum = jnp.where(retune, 0, acc_sum)
            until = jnp.where(until == 0, interval, until)
            k_prop, k_order, k_loop = jax.random.split(key, 3)
            delta = prop.sample(k_prop, x.dtype) * scaling
            delta = jnp.where(discrete, jnp.round(delta), delta)
            if elemwise:
                visit = jax.random.permutation(k_order, n)

                def one(j, carry):
                    x, lp, log_r, acc = carry
                    c = visit[j]
                    cand = x.at[index[c]].add(delta[c])
                    lp_c = logp(cand)
                    ratio = lp_c - lp
                    ok = metropolis_accept(jax.random.fold_in(k_loop, j), ratio)
                    return (jnp.where(ok, cand, x), jnp.where(ok, lp_c, lp), log_r.at[c].set(ratio),
                            acc.at[c].set(ok))

                x, _, log_r, acc = jax.lax.fori_loop(
                    0, n, one, (x, logp(x), jnp.zeros(n, x.dtype), jnp.zeros(n, bool)))
            else:
                cand = x.at[index].add(delta)
                log_r = jnp.reshape(logp(cand) - logp(x), (1,))
                acc = jnp.reshape(metropolis_accept(k_loop, log_r[0]), (1,))
                x = jnp.where(acc[0], cand, x)
            acc_sum = acc_sum + acc.astype(jnp.int32)
            stats = {"accept": jnp.mean(jnp.exp(log_r)), "accepted": jnp.mean(acc.astype(x.dtype)),
                     "scaling": jnp.mean(scaling)}
            return x, MetropolisState(scaling, acc_sum, until - 1), stats

        def empty(dtype):
            z = jnp.zeros((), dtype)
            return {"accept": z, "accepted": z, "scaling": z}

        return Kernel(init, step, empty)


class DEMetropolisZState(NamedTuple):
    history: jax.Array  # (tune + draws, n) the chain's past points of this block
    count: jax.Array  # points written
    first: jax.Array  # first point proposals use (warm-up points dropped when tuning ends)
    scaling: jax.Array
    lamb: jax.Array
    accepted: jax.Array
    steps_until_tune: jax.Array


class DEMetropolisZ(BlockedStep):
    """PyMC's DEMetropolisZ (ter Braak & Vrugt 2008): proposals ``x + lamb * (z1 - z2) + noise * scaling`` from
    two past points of the chain's own history (kept in the chain state); ``tune="scaling"`` or ``"lambda"``
    is tuned every ``tune_interval`` warm-up steps by PyMC's rule, and at the end of warm-up the first
    ``tune_drop_fraction`` of the history is dropped. Stats ``accept``, ``accepted``, ``scaling``, ``lambda``."""

    stats_dtypes = {"accept": "f", "accepted": "b", "scaling": "f", "lambda": "f"}

    def __init__(self, vars=None, *, S=None, proposal_dist=None, lamb=None, scaling=0.001, tune="scaling",
                 tune_interval=100, tune_drop_fraction=0.9, model=None, blocked=None, **kwargs):
        super().__init__(vars, model, blocked, **kwargs)
        if tune not in (None, "scaling", "lambda"):
            raise ValueError(f'DEMetropolisZ(tune={tune!r}): the parameter "tune" must be one of None, "scaling", '
                             '"lambda"')
        self.S = None if S is None else np.asarray(S, float)
        self.proposal_dist = proposal_dist
        _proposal(self.S, proposal_dist, 1, "DEMetropolisZ")
        self.lamb = None if lamb is None else float(lamb)
        self.scaling = float(np.mean(scaling))
        self.tune, self.tune_interval, self.tune_drop_fraction = tune, int(tune_interval), float(tune_drop_fraction)

    @staticmethod
    def competence(slot, discrete):
        return INCOMPATIBLE if discrete else COMPATIBLE

    def kernel(self, cm, setup: Setup) -> Kernel:
        n = len(setup.index)
        prop = _proposal(self.S, self.proposal_dist, n, "DEMetropolisZ")
        _check_size(prop, n, "DEMetropolisZ")
        lamb0 = 2.38 / math.sqrt(2 * cm.size) if self.lamb is None else self.lamb  # PyMC: the model's size
        total = max(setup.tune + setup.draws, 1)
        num_tune, interval, target, drop = setup.tune, self.tune_interval, self.tune, self.tune_drop_fraction
        index = jnp.asarray(setup.index)

        def init(key, x, logp):
            return DEMetropolisZState(jnp.zeros((total, n), x.dtype), jnp.int32(0), jnp.int32(0),
                                      jnp.asarray(self.scaling, x.dtype), jnp.asarray(lamb0, x.dtype), jnp.int32(0),
                                      jnp.int32(interval))

        def step(key, state, x, logp, i):
            st = state
            retune = (st.steps_until_tune == 0) & (target is not None) & (i < num_tune)
            rate = st.accepted / float(interval)
            scaling = jnp.where(retune & (target == "scaling"), tune_scaling(st.scaling, rate), st.scaling)
            lamb = jnp.where(retune & (target == "lambda"), tune_scaling(st.lamb, rate), st.lamb)
            accepted = jnp.where(st.steps_until_tune == 0, 0, st.accepted)
            until = jnp.where(st.steps_until_tune == 0, interval, st.steps_until_tune)
            # PyMC's stop_tuning: the first warm-up points are dropped once, when the draws begin
            first = jnp.where((i == num_tune) & (num_tune > 0),
                              st.first + jnp.floor(drop * (st.count - st.first)).astype(jnp.int32), st.first)
            k_eps, k1, k2, k_acc = jax.random.split(key, 4)
            eps = prop.sample(k_eps, x.dtype) * scaling
            it = st.count - first
            i1 = jax.random.randint(k1, (), 0, jnp.maximum(it, 1))
            i2 = (i1 + 1 + jax.random.randint(k2, (), 0, jnp.maximum(it - 1, 1))) % jnp.maximum(it, 1)
            jump = lamb * (st.history[first + i1] - st.history[first + i2])
            cur = x[index]
            q = cur + jnp.where(it > 1, jump, 0.0) + eps
            cand = x.at[index].set(q)
            log_r = logp(cand) - logp(x)
            ok = metropolis_accept(k_acc, log_r)
            x = jnp.where(ok, cand, x)
            history = jax.lax.dynamic_update_index_in_dim(st.history, x[index], jnp.minimum(st.count, total - 1), 0)
            new = DEMetropolisZState(history, st.count + 1, first, scaling, lamb, accepted + ok.astype(jnp.int32),
                                     until - 1)
            stats = {"accept": jnp.exp(log_r), "accepted": ok, "scaling": scaling, "lambda": lamb}
            return x, new, stats

        def empty(dtype):
            z = jnp.zeros((), dtype)
            return {"accept": z, "accepted": jnp.bool_(False), "scaling": z, "lambda": z}

        return Kernel(init, step, empty)

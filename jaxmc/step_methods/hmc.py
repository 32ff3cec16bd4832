"""The gradient-based steps: `NUTS` (jaxmc.nuts's chain with its warm-up) and PyMC's `HamiltonianMC` (fixed
path length, jittered step size, Stan's windowed adaptation to ``target_accept``), over their coordinates."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxmc.nuts import DEFAULTS, HMCState, build_chain, check_mass_matrix, leapfrog, stan_adaptation
from jaxmc.nuts import init as nuts_init
from jaxmc.nuts.adaptation import prepare
from jaxmc.nuts.integrator import IntegratorState, hamiltonian, sample_momentum
from jaxmc.step_methods.base import COMPATIBLE, IDEAL, INCOMPATIBLE, Block, BlockedStep, Kernel, Setup

#: PyMC's NUTS keywords jaxmc accepts and ignores (its mass matrix and step size are adapted)
IGNORED_NUTS_KEYWORDS = {"step_scale", "early_max_treedepth", "adapt_step_size", "scaling", "is_cov", "potential",
                         "rng", "initial_point", "compile_kwargs", "mode", "blocked"}


def _no_stats(dtype):
    z = jnp.zeros((), dtype)
    return {"lp": z, "acceptance_rate": z + 1, "step_size": z, "step_size_bar": z, "tree_depth": jnp.int32(0),
            "n_steps": jnp.int32(0), "diverging": jnp.bool_(False), "energy": z, "max_energy_error": z,
            "reached_max_treedepth": jnp.bool_(False)}


class NUTS(BlockedStep):
    """The No-U-Turn Sampler (jaxmc.nuts) over ``vars`` (all continuous variables by default), for
    `pm.sample(step=pm.NUTS(...))` as in PyMC; sample_stats as ArviZ names PyMC's (``lp``,
    ``acceptance_rate``, ``tree_depth``, ...)."""

    stats_dtypes = {"lp": "f", "acceptance_rate": "f", "step_size": "f", "step_size_bar": "f", "tree_depth": "i",
                    "n_steps": "i", "diverging": "b", "energy": "f", "max_energy_error": "f",
                    "reached_max_treedepth": "b"}

    def __init__(self, vars=None, target_accept: float = DEFAULTS.target_accept,
                 max_treedepth: int = DEFAULTS.max_treedepth, adaptation: str = DEFAULTS.adaptation, model=None,
                 mass_matrix: str = DEFAULTS.mass_matrix, **kwargs):
        unknown = set(kwargs) - IGNORED_NUTS_KEYWORDS
        if unknown:
            raise TypeError(f"pm.NUTS got unknown keyword argument(s) {sorted(unknown)}; accepted: "
                            "vars, target_accept, max_treedepth, adaptation, model, mass_matrix")
        super().__init__(vars, model)
        self.target_accept = target_accept
        self.max_treedepth = max_treedepth
        self.adaptation = adaptation
        check_mass_matrix(mass_matrix, adaptation, "pm.NUTS(mass_matrix=...)")
        self.mass_matrix = mass_matrix

    @staticmethod
    def competence(slot, discrete):
        return INCOMPATIBLE if discrete else IDEAL

    def options(self):
        return DEFAULTS._replace(target_accept=float(self.target_accept), max_treedepth=int(self.max_treedepth),
                                 adaptation=self.adaptation, mass_matrix=self.mass_matrix)

    def kernel(self, cm, setup: Setup) -> Kernel:
        chain = build_chain(setup.tune, self.options(), slot_loop=setup.slot_loop)
        block = Block(setup.index, setup.size)

        def init(key, x, logp):
            return chain.init(lambda xb: logp(block.put(x, xb)), key, block.get(x))

        def step(key, state, x, logp, i):
            def density(xb):
                return logp(block.put(x, xb))

            if setup.shared:  # the cached density and gradient refer to the point before the other steps
                state = state._replace(hmc=nuts_init(block.get(x), density))
            state, (xb, stats) = chain.transition(density, state, (key, i))
            return block.put(x, xb), state, stats

        return Kernel(init, step, _no_stats, chain.refit_due, chain.refit)


class _Info(NamedTuple):
    acceptance_rate: jax.Array


class HMCChainState(NamedTuple):
    hmc: HMCState
    adapt: Any
    step_size: jax.Array
    inv_mass: jax.Array


class HamiltonianMC(BlockedStep):
    """PyMC's HamiltonianMC: ``path_length / step_size`` leapfrog steps (at most ``max_steps``) with the step
    size jittered by uniform(0.85, 1.15), then a Metropolis accept; warm-up adapts the step size to
    ``target_accept`` (0.65) and a diagonal mass matrix (Stan's windows, jaxmc.nuts). Stats ``step_size``,
    ``n_steps``, ``step_size_bar``, ``accept``, ``diverging``, ``energy_error``, ``energy``, ``path_length``,
    ``accepted``, ``lp``."""

    stats_dtypes = {"step_size": "f", "n_steps": "i", "step_size_bar": "f", "accept": "f", "diverging": "b",
                    "energy_error": "f", "energy": "f", "path_length": "f", "accepted": "b", "lp": "f"}

    def __init__(self, vars=None, path_length=2.0, max_steps=1024, *, target_accept=0.65, model=None, **kwargs):
        unknown = set(kwargs) - IGNORED_NUTS_KEYWORDS - {"step_rand", "gamma", "k", "t0", "adapt_step_size"}
        if unknown:
            raise TypeError(f"pm.HamiltonianMC got unknown keyword argument(s) {sorted(unknown)}; accepted: vars, "
                            "path_length, max_steps, target_accept, model")
        super().__init__(vars, model)
        if not path_length > 0:
            raise ValueError(f"HamiltonianMC(path_length={path_length!r}) must be positive")
        if not 0 < target_accept < 1:
            raise ValueError(f"HamiltonianMC(target_accept={target_accept!r}) must be in (0, 1)")
        self.path_length, self.max_steps, self.target_accept = float(path_length), int(max_steps), float(target_accept)

    @staticmethod
    def competence(slot, discrete):
        return INCOMPATIBLE if discrete else COMPATIBLE

    def kernel(self, cm, setup: Setup) -> Kernel:
        adapt = stan_adaptation(setup.tune, DEFAULTS._replace(target_accept=self.target_accept, adaptation="stan"))
        block = Block(setup.index, setup.size)
        path_length, max_steps, num_tune = self.path_length, self.max_steps, setup.tune
        threshold = DEFAULTS.divergence_threshold

        def init(key, x, logp):
            hmc = nuts_init(block.get(x), lambda xb: logp(block.put(x, xb)))
            return HMCChainState(hmc, *adapt.init(hmc))

        def step(key, state, x, logp, i):
            def density(xb):
                return logp(block.put(x, xb))

            hmc = nuts_init(block.get(x), density) if setup.shared else state.hmc
            k_search, k_mom, k_jit, k_acc = jax.random.split(key, 4)
            adapt_state, eps = prepare(adapt, density, state.adapt, k_search, hmc, state.step_size, state.inv_mass)
            dtype = hmc.position.dtype
            eps_used = eps * jax.random.uniform(k_jit, (), dtype, 0.85, 1.15)
            n_steps = jnp.clip(jnp.floor(path_length / eps_used), 1, max_steps).astype(jnp.int32)
            start = IntegratorState(hmc.position, sample_momentum(k_mom, state.inv_mass), hmc.logdensity,
                                    hmc.logdensity_grad)
            end = jax.lax.fori_loop(0, n_steps, lambda _, s: leapfrog(density, s, eps_used, state.inv_mass), start)
            e0, e1 = hamiltonian(start, state.inv_mass), hamiltonian(end, state.inv_mass)
            error = jnp.where(jnp.isnan(e1 - e0), jnp.inf, e1 - e0)
            accept_prob = jnp.minimum(1.0, jnp.exp(-error))
            accepted = jax.random.uniform(k_acc, (), dtype) < accept_prob
            new = jax.tree_util.tree_map(lambda a, b: jnp.where(accepted, a, b),
                                         HMCState(end.position, end.logdensity, end.logdensity_grad), hmc)

            def tune(_):
                return adapt.update(adapt_state, i, new, _Info(accept_prob), eps, state.inv_mass)

            new_adapt, new_eps, inv_mass = jax.lax.cond(i < num_tune, tune,
                                                        lambda _: (adapt_state, eps, state.inv_mass), None)
            stats = {"step_size": eps_used, "n_steps": n_steps, "step_size_bar": adapt.step_size_bar(new_adapt),
                     "accept": accept_prob, "diverging": error > threshold,
                     "energy_error": jnp.where(accepted, error, 0.0), "energy": jnp.where(accepted, e1, e0),
                     "path_length": jnp.asarray(path_length, dtype), "accepted": accepted, "lp": new.logdensity}
            return block.put(x, new.position), HMCChainState(new, new_adapt, new_eps, inv_mass), stats

        def empty(dtype):
            z = jnp.zeros((), dtype)
            return {"step_size": z, "n_steps": jnp.int32(0), "step_size_bar": z, "accept": z,
                    "diverging": jnp.bool_(False), "energy_error": z, "energy": z, "path_length": z,
                    "accepted": jnp.bool_(False), "lp": z}

        return Kernel(init, step, empty)

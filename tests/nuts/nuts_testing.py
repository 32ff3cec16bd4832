"""Helpers of the NUTS tests: chains run through ``build_chain``, an ESS estimator, and known targets."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import cpu_ops, diagnostics
from jaxmc.nuts import DEFAULTS, build_chain
from jaxmc.nuts.integrator import leapfrog

#: the kernels' ``slot_loop`` as jaxmc's sampler passes it (a loop where XLA:CPU compiles loops into kernels)
SLOT_LOOP = cpu_ops.loop_kernels_active()

#: one leapfrog step, jitted for step-by-step use (the log density is a static argument)
jit_leapfrog = jax.jit(leapfrog, static_argnums=0)


def chain_fns(num_tune, **options):
    """``build_chain`` with the default options but ``options`` (the diagonal metric unless ``mass_matrix`` is
    given: these tests check the kernel and the diagonal schemes), and the sampler's ``slot_loop``."""
    options.setdefault("mass_matrix", "diag")
    return build_chain(num_tune, DEFAULTS._replace(**options), slot_loop=SLOT_LOOP)[:2]


def scan_chain(init_fn, step_fn, logdensity_fn, key_init, key_steps, position, n):
    """``n`` steps of one chain from ``position`` under ``lax.scan``: ``(final_state, (positions, stats))``."""
    state = init_fn(logdensity_fn, key_init, position)
    xs = (jax.random.split(key_steps, n), jnp.arange(n, dtype=jnp.int32))
    return jax.lax.scan(functools.partial(step_fn, logdensity_fn), state, xs)


def make_runner(logdensity_fn, dim, num_tune, num_draws, adaptation="nutpie", dtype=jnp.float64, **options):
    """Jitted ``keys -> (final_state, positions, stats)`` running one chain per key (vmapped)."""
    init_fn, step_fn = chain_fns(num_tune, adaptation=adaptation, **options)

    def one_chain(key):
        key_pos, key_init, key_steps = jax.random.split(key, 3)
        position = jax.random.uniform(key_pos, (dim,), dtype, minval=-2.0, maxval=2.0)
        state, (positions, stats) = scan_chain(init_fn, step_fn, logdensity_fn, key_init, key_steps, position,
                                               num_tune + num_draws)
        return state, positions, stats

    return jax.jit(jax.vmap(one_chain))


def chain_keys(seed, num_chains):
    return jax.random.split(jax.random.key(seed), num_chains)


def ess(x):
    """Split-chain effective sample size of draws shaped (chains, draws): jaxmc.diagnostics.ess_mean."""
    return float(diagnostics.ess_mean(np.asarray(x)[..., None])[0])


def ess_per_dim(draws):
    """ESS of each coordinate of draws shaped (chains, draws, dim)."""
    return diagnostics.ess_mean(draws)


# ------------------------------------------------------------------------------------------
# Known targets, sampled once per test session (compiling a chain program is the costly part)
# ------------------------------------------------------------------------------------------

NUM_CHAINS, NUM_TUNE, NUM_DRAWS = 4, 1000, 1000

CORR_COV = np.array([[1.0, 0.99], [0.99, 1.0]])
CORR_PREC = jnp.asarray(np.linalg.inv(CORR_COV))
SCALES = np.logspace(-4, 4, 20)
SCALES_J = jnp.asarray(SCALES)


def normal100(x):
    return -0.5 * jnp.sum(x**2)


def correlated(x):
    return -0.5 * x @ (CORR_PREC @ x)


def scaled(x):
    return -0.5 * jnp.sum((x / SCALES_J) ** 2)


NUMPY_LOGP = {
    "normal100": lambda x: -0.5 * np.sum(x**2, axis=-1),
    "corr2": lambda x: -0.5 * np.einsum("...i,ij,...j->...", x, np.asarray(CORR_PREC), x),
    "scales20": lambda x: -0.5 * np.sum((x / SCALES) ** 2, axis=-1),
}

# name -> (log density, dimension, true variances); all means are 0
TARGETS = {
    "normal100": (normal100, 100, np.ones(100)),
    "corr2": (correlated, 2, np.diag(CORR_COV)),
    "scales20": (scaled, 20, SCALES**2),
}


class Result:
    """One run of ``NUM_CHAINS`` vmapped chains on a target; keeps the compiled runner for reuse."""

    def __init__(self, target, adaptation, seed=2024):
        logdensity, dim, variances = TARGETS[target]
        self.run = make_runner(logdensity, dim, NUM_TUNE, NUM_DRAWS, adaptation=adaptation)
        self.keys = chain_keys(seed, NUM_CHAINS)
        state, positions, stats = self.run(self.keys)
        self.positions, self.all_stats = positions, stats
        self.variances = variances
        self.state = state
        self.draws = np.asarray(positions)[:, NUM_TUNE:]
        self.tune_stats = {k: np.asarray(v)[:, :NUM_TUNE] for k, v in stats.items()}
        self.stats = {k: np.asarray(v)[:, NUM_TUNE:] for k, v in stats.items()}
        self.ess_mean = ess_per_dim(self.draws)
        self.ess_square = ess_per_dim(self.draws**2)

    @property
    def grads_per_ess(self):
        return self.stats["n_steps"].sum() / self.ess_mean.min()


@functools.lru_cache(maxsize=None)
def result(target, adaptation):
    """Cached per test session, shared by the test modules."""
    return Result(target, adaptation)



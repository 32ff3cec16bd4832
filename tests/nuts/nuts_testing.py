"""Test helpers: run vmapped chains through ``build_chain`` and a small split-chain ESS estimator."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.nuts import build_chain


def make_runner(logdensity_fn, dim, num_tune, num_draws, adaptation="nutpie", dtype=jnp.float64, **kwargs):
    """Jitted ``keys -> (final_state, positions, stats)`` running one chain per key (vmapped)."""
    init_fn, step_fn = build_chain(logdensity_fn, num_tune, adaptation=adaptation, **kwargs)
    n = num_tune + num_draws

    def one_chain(key):
        key_pos, key_init, key_steps = jax.random.split(key, 3)
        position = jax.random.uniform(key_pos, (dim,), dtype, minval=-2.0, maxval=2.0)
        state = init_fn(key_init, position)
        xs = (jax.random.split(key_steps, n), jnp.arange(n, dtype=jnp.int32))
        state, (positions, stats) = jax.lax.scan(step_fn, state, xs)
        return state, positions, stats

    return jax.jit(jax.vmap(one_chain))


def chain_keys(seed, num_chains):
    return jax.random.split(jax.random.key(seed), num_chains)


def _autocov(x):
    """Biased autocovariance of each row of ``x`` (chains, draws), via FFT."""
    n = x.shape[-1]
    x = x - x.mean(axis=-1, keepdims=True)
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(x, size, axis=-1)
    return np.fft.irfft(f * np.conj(f), size, axis=-1)[..., :n] / n


def ess(x):
    """Split-chain effective sample size (Stan / Vehtari et al. 2021, without rank normalisation).

    ``x`` has shape (chains, draws); Geyer's initial monotone positive sequence truncates the sum.
    """
    x = np.asarray(x, dtype=np.float64)
    half = x.shape[1] // 2
    x = np.concatenate([x[:, :half], x[:, half : 2 * half]], axis=0)
    m, n = x.shape
    acov = _autocov(x)
    chain_var = acov[:, 0] * n / (n - 1.0)
    within = chain_var.mean()
    var_plus = within * (n - 1.0) / n + (x.mean(axis=1).var(ddof=1) if m > 1 else 0.0)
    rho = 1.0 - (within - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    # Geyer: sums of adjacent pairs, truncated at the first negative one, made monotone
    pairs = rho[: 2 * (n // 2)].reshape(-1, 2).sum(axis=1)
    positive = pairs > 0
    stop = np.argmin(positive) if not positive.all() else len(pairs)
    pairs = np.minimum.accumulate(pairs[:stop])
    tau = -1.0 + 2.0 * pairs.sum()
    return m * n / max(tau, 1.0 / np.log10(m * n))


def ess_per_dim(draws):
    """ESS of each coordinate of draws shaped (chains, draws, dim)."""
    return np.array([ess(draws[..., i]) for i in range(draws.shape[-1])])


# ------------------------------------------------------------------------------------------
# Known targets, sampled once per test session (compiling a chain program is the costly part)
# ------------------------------------------------------------------------------------------

NUM_CHAINS, NUM_TUNE, NUM_DRAWS = 4, 1000, 1000
ADAPTATIONS = ["nutpie", "stan"]

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



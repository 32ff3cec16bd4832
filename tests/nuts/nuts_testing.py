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


@functools.lru_cache(maxsize=None)
def cached(fn, *args):
    return fn(*args)

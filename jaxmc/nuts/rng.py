"""Counter-based random numbers for the sampler's inner loops: uniforms and normals hashed from a seed.

A PRNG key (JAX's Threefry) costs a loop of rounds per split or draw, and XLA on CPU runs each as its own
small kernels; a transition needs several. Here a transition's key is read once as a 64-bit seed, and
number ``i`` of a stream is output ``i`` of SplitMix64 (Steele, Lea and Flood 2014) from that seed: a pure
function of ``(seed, i)``, cheap, fused into the code that uses it, reproducible bit for bit.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

Array = jax.Array

_GAMMA = 0x9E3779B97F4A7C15  # SplitMix64's increment


def _mix64(z: Array) -> Array:
    """SplitMix64's output function (Stafford's variant 13 finalizer) on uint64."""
    z = (z ^ (z >> 30)) * jnp.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> 27)) * jnp.uint64(0x94D049BB133111EB)
    return z ^ (z >> 31)


def _to_words(z: Array) -> Array:
    return jnp.stack([(z >> 32).astype(jnp.uint32), z.astype(jnp.uint32)])


def _from_words(seed: Array) -> Array:
    return (seed[0].astype(jnp.uint64) << 32) | seed[1].astype(jnp.uint64)


def seed_of(key: Array) -> Array:
    """The (2,) uint32 seed of a JAX PRNG key (typed or raw); a seed is returned as it is."""
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    words = jnp.ravel(key).astype(jnp.uint32)
    if words.shape[0] == 2:
        return words
    return _to_words(_mix64(_from_words(words[:2]) ^ _mix64(_from_words(words[-2:]))))


def substream(seed: Array, stream) -> Array:
    """An independent seed for sub-stream ``stream`` (an integer) of ``seed``."""
    s = jnp.asarray(stream).astype(jnp.uint64)
    return _to_words(_mix64(_mix64(_from_words(seed)) + (s + jnp.uint64(1)) * jnp.uint64(_GAMMA)))


def uniform_at(seed: Array, index: Array, dtype) -> Array:
    """Uniform number ``index`` (any integer shape) of the stream ``seed``, in the open interval (0, 1):
    output ``index`` of SplitMix64 started from the mixed seed; 53 random bits in float64, 24 in float32."""
    i = jnp.asarray(index).astype(jnp.uint64)
    z = _mix64(_mix64(_from_words(seed)) + (i + jnp.uint64(1)) * jnp.uint64(_GAMMA))
    if jnp.finfo(dtype).nmant > 23:
        return ((z >> 11).astype(dtype) + 0.5) * 2.0**-53
    return ((z >> 40).astype(dtype) + 0.5) * 2.0**-24


def normal(seed: Array, shape: tuple[int, ...], dtype) -> Array:
    """Standard normal draws of ``shape`` from ``seed`` (Box-Muller on uniforms 2i and 2i + 1)."""
    i = jnp.arange(math.prod(shape), dtype=jnp.uint32).reshape(shape)
    u1 = uniform_at(seed, 2 * i, dtype)
    u2 = uniform_at(seed, 2 * i + 1, dtype)
    return jnp.sqrt(-2.0 * jnp.log(u1)) * jnp.cos(2.0 * jnp.pi * u2)

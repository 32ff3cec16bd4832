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
    """Standard normal draws of ``shape`` from ``seed`` (Box-Muller on uniforms ``2i`` and ``2i + 1``, the
    cosine output only). The logarithm and cosine are the polynomials below, not libm's: XLA:CPU calls libm
    once per value (docs/sampling.md says what that costs)."""
    i = jnp.arange(math.prod(shape), dtype=jnp.uint32).reshape(shape)
    r = jnp.sqrt(-2.0 * log_unit(uniform_at(seed, 2 * i, dtype)))
    return r * cos_sin_2pi(uniform_at(seed, 2 * i + 1, dtype))[0]


#: terms of the series of ``log((1 + s) / (1 - s)) = 2 (s + s^3 / 3 + ...)`` for ``|s| <= 0.1716``
_LOG_TERMS = 11
#: terms of the Taylor series of sine and cosine on ``[-pi / 4, pi / 4]``
_TRIG_TERMS = 10


def log_unit(u: Array) -> Array:
    """Natural logarithm of ``u`` in ``(0, 1]`` (normal floats), accurate to a few units in the last place.

    ``u = m 2**e`` with ``m`` in ``[sqrt(1/2), sqrt(2))``; ``log m = 2 atanh(s)`` with ``s = (m - 1) / (m + 1)``,
    ``|s| <= 0.1716``, whose odd series converges to double precision in 11 terms."""
    m, e = _frexp_normal(u)  # m in [0.5, 1)
    small = m < 0.7071067811865476
    m = jnp.where(small, 2.0 * m, m)
    e = e - small.astype(u.dtype)
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    acc = jnp.full_like(u, 1.0 / (2 * _LOG_TERMS - 1))
    for k in range(_LOG_TERMS - 2, -1, -1):
        acc = acc * z + 1.0 / (2 * k + 1)
    return e * math.log(2.0) + 2.0 * s * acc


def _frexp_normal(u: Array) -> tuple[Array, Array]:
    """``jnp.frexp`` for positive normal floats, from the bits (less code to compile than ``jnp.frexp``,
    which also handles zeros, subnormals and infinities)."""
    if jnp.finfo(u.dtype).bits == 64:
        itype, shift, bias, mask = jnp.uint64, 52, 1022, (1 << 52) - 1
    else:
        itype, shift, bias, mask = jnp.uint32, 23, 126, (1 << 23) - 1
    bits = jax.lax.bitcast_convert_type(u, itype)
    exponent = (bits >> shift).astype(jnp.int32) - bias
    mantissa = jax.lax.bitcast_convert_type((bits & itype(mask)) | itype(bias << shift), u.dtype)
    return mantissa, exponent.astype(u.dtype)


def cos_sin_2pi(u: Array) -> tuple[Array, Array]:
    """``cos(2 pi u)`` and ``sin(2 pi u)`` for ``u`` in ``[0, 1]``: the nearest quarter turn ``q`` is exact, the
    rest ``theta`` is in ``[-pi / 4, pi / 4]``, where the Taylor series of both converge in 10 terms."""
    v = 4.0 * u
    q = jnp.floor(v + 0.5)
    theta = (v - q) * (0.5 * math.pi)  # v - q is exact
    z = theta * theta
    sin_acc = jnp.full_like(u, 1.0 / math.factorial(2 * _TRIG_TERMS - 1))
    cos_acc = jnp.full_like(u, 1.0 / math.factorial(2 * _TRIG_TERMS - 2))
    for k in range(_TRIG_TERMS - 2, -1, -1):
        sin_acc = sin_acc * (-z) + 1.0 / math.factorial(2 * k + 1)
        cos_acc = cos_acc * (-z) + 1.0 / math.factorial(2 * k)
    sin_t, cos_t = theta * sin_acc, cos_acc
    # quarter turns 0..3: (cos, sin) = (C, S), (-S, C), (-C, -S), (S, -C)
    quarter = q.astype(jnp.int32) % 4
    odd = quarter % 2 == 1
    cos_sign = (1 - 2 * (((quarter + 1) // 2) % 2)).astype(u.dtype)
    sin_sign = (1 - 2 * (quarter // 2)).astype(u.dtype)
    return jnp.where(odd, sin_t, cos_t) * cos_sign, jnp.where(odd, cos_t, sin_t) * sin_sign

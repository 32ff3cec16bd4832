"""The Euclidean metric of HMC: a diagonal inverse mass matrix, optionally with a low-rank correction
(nutpie's low-rank modified mass matrix), and its kinetic energy, momentum draw and velocity in O(d k)."""
from __future__ import annotations

from typing import NamedTuple, Union

import jax
import jax.numpy as jnp

from . import rng

Array = jax.Array


class Metric(NamedTuple):
    """Inverse mass matrix ``M^-1 = S (I + U (diag(vals) - I) U^T) S`` with ``S = diag(sqrt(inv_mass))``.

    ``vecs`` (d x k) has orthonormal columns, or zero columns where unused (their ``vals`` are 1); ``k`` is fixed
    when the program is traced (``k == 0``: the diagonal metric, computed by exactly the diagonal formulas).
    """

    inv_mass: Array  # (d,) diagonal variances (the scaling)
    vecs: Array  # (d, k) eigenvectors in the scaled space
    vals: Array  # (k,) eigenvalues in the scaled space
    active: Array  # () bool: some column is used (else the metric equals its diagonal, whose formulas then run)


#: a metric: a :class:`Metric`, or a plain vector holding the diagonal of ``M^-1``
MetricLike = Union[Metric, Array]


def diagonal(inv_mass: Array, rank: int = 0) -> Metric:
    """The diagonal metric ``inv_mass`` with ``rank`` unused low-rank columns."""
    d = inv_mass.shape[0]
    return Metric(inv_mass, jnp.zeros((d, rank), inv_mass.dtype), jnp.ones((rank,), inv_mass.dtype), jnp.bool_(False))


def low_rank(inv_mass: Array, vecs: Array, vals: Array) -> Metric:
    """The metric with scaling ``inv_mass`` and low-rank columns ``vecs`` / ``vals`` (unused ones: zero / 1)."""
    return Metric(inv_mass, vecs, vals, jnp.any(vals != 1.0))


def diag_of(metric: MetricLike) -> Array:
    """The diagonal scaling ``inv_mass`` of a metric."""
    return metric.inv_mass if isinstance(metric, Metric) else metric


def is_diagonal(metric: MetricLike) -> bool:
    """True when the metric has no low-rank columns (known when tracing)."""
    return not isinstance(metric, Metric) or metric.vecs.shape[-1] == 0


def _project(metric: Metric, y: Array) -> Array:
    """``U^T y`` as a multiply-and-reduce (a small matrix-vector product would be a library call per leapfrog step);
    ``y`` is computed once first (XLA would otherwise recompute it, a momentum draw included, for every column)."""
    return jnp.sum(metric.vecs * y[:, None], axis=0)


def _low_rank_apply(metric: Metric, y: Array, power) -> Array:
    """``(I + U (vals**power - 1) U^T) y``."""
    coef = (metric.vals ** power - 1.0) * _project(metric, y)
    return y + jnp.sum(metric.vecs * coef[None, :], axis=1)


def _by_kind(metric: MetricLike, diagonal_formula, low_rank_formula) -> Array:
    """``diagonal_formula(inv_mass)`` for a diagonal metric, else ``low_rank_formula()`` where some column is used and
    the diagonal formula where none is: a branch around the formula alone (a few operations to compile twice, not the
    NUTS kernel), which spares a metric whose fit kept no column the O(d k) work per leapfrog step. Under ``vmap``
    (vectorized chains) both are computed."""
    if is_diagonal(metric):
        return diagonal_formula(diag_of(metric))
    return jax.lax.cond(metric.active, low_rank_formula, lambda: diagonal_formula(metric.inv_mass))


def velocity(momentum: Array, metric: MetricLike) -> Array:
    """``M^-1 p``."""

    def low_rank_formula():
        scale = jnp.sqrt(metric.inv_mass)
        return scale * _low_rank_apply(metric, scale * momentum, 1.0)

    return _by_kind(metric, lambda inv_mass: inv_mass * momentum, low_rank_formula)


def kinetic_energy(momentum: Array, metric: MetricLike) -> Array:
    """Gaussian kinetic energy ``p^T M^{-1} p / 2``."""

    def low_rank_formula():
        y = jnp.sqrt(metric.inv_mass) * momentum
        coef = _project(metric, y)
        return 0.5 * (jnp.sum(y * y) + jnp.sum((metric.vals - 1.0) * coef * coef))

    return _by_kind(metric, lambda inv_mass: 0.5 * jnp.sum(momentum * inv_mass * momentum), low_rank_formula)


def sample_momentum(key: Array, metric: MetricLike) -> Array:
    """Draw ``p ~ N(0, M)``; ``key`` is a PRNG key or a seed (:mod:`.rng`)."""
    inv_mass = diag_of(metric)
    z = rng.normal(rng.seed_of(key), inv_mass.shape, inv_mass.dtype)
    return _by_kind(metric, lambda v: z / jnp.sqrt(v), lambda: _low_rank_apply(metric, z, -0.5) / jnp.sqrt(inv_mass))


def dense_inverse_mass(metric: MetricLike) -> Array:
    """``M^-1`` as a dense (d x d) matrix (for tests and diagnostics; O(d^2) memory)."""
    inv_mass = diag_of(metric)
    scale = jnp.sqrt(inv_mass)
    inner = jnp.eye(inv_mass.shape[0], dtype=inv_mass.dtype)
    if not is_diagonal(metric):
        inner = inner + (metric.vecs * (metric.vals - 1.0)) @ metric.vecs.T
    return scale[:, None] * inner * scale[None, :]


def with_diagonal(metric: MetricLike, inv_mass: Array) -> MetricLike:
    """``metric`` with its diagonal scaling replaced by ``inv_mass`` (same kind; a seeded initial metric)."""
    return metric._replace(inv_mass=inv_mass) if isinstance(metric, Metric) else inv_mass

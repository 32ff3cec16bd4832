"""Velocity-Verlet (leapfrog) integrator for Hamiltonian dynamics with a diagonal metric.

Positions and momenta are flat vectors; ``inv_mass`` is the diagonal of the inverse mass matrix.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from . import rng

Array = jax.Array
LogDensityFn = Callable[[Array], Array]


class IntegratorState(NamedTuple):
    """A point in phase space together with the log density and its gradient at ``position``."""

    position: Array
    momentum: Array
    logdensity: Array
    logdensity_grad: Array


def logdensity_and_grad(logdensity_fn: LogDensityFn, position: Array) -> tuple[Array, Array]:
    """Log density and its gradient, both in the dtype of ``position``."""
    logdensity, grad = jax.value_and_grad(logdensity_fn)(position)
    return jnp.asarray(logdensity, position.dtype), jnp.asarray(grad, position.dtype)


def kinetic_energy(momentum: Array, inv_mass: Array) -> Array:
    """Gaussian kinetic energy ``p^T M^{-1} p / 2``."""
    return 0.5 * jnp.sum(momentum * inv_mass * momentum)


def hamiltonian(state: IntegratorState, inv_mass: Array) -> Array:
    """Total energy: potential (``-logdensity``) plus kinetic energy."""
    return -state.logdensity + kinetic_energy(state.momentum, inv_mass)


def sample_momentum(key: Array, inv_mass: Array) -> Array:
    """Draw ``p ~ N(0, M)`` with ``M = diag(1 / inv_mass)``; ``key`` is a PRNG key or a seed (:mod:`.rng`)."""
    z = rng.normal(rng.seed_of(key), inv_mass.shape, inv_mass.dtype)
    return z / jnp.sqrt(inv_mass)


def leapfrog(
    logdensity_fn: LogDensityFn, state: IntegratorState, step_size: Array, inv_mass: Array
) -> IntegratorState:
    """One velocity-Verlet step; a negative ``step_size`` integrates backward in time."""
    dtype = state.position.dtype
    half = jnp.asarray(0.5 * step_size, dtype)
    momentum = state.momentum + half * state.logdensity_grad
    position = state.position + jnp.asarray(step_size, dtype) * inv_mass * momentum
    logdensity, grad = logdensity_and_grad(logdensity_fn, position)
    momentum = momentum + half * grad
    return IntegratorState(position, momentum, logdensity, grad)

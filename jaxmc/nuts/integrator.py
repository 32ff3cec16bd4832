"""Velocity-Verlet (leapfrog) integrator for Hamiltonian dynamics with a Euclidean metric.

Positions and momenta are flat vectors; ``inv_mass`` is the metric (:mod:`.metric`: a diagonal vector or a Metric).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from . import metric

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


kinetic_energy = metric.kinetic_energy
sample_momentum = metric.sample_momentum


def hamiltonian(state: IntegratorState, inv_mass: Array) -> Array:
    """Total energy: potential (``-logdensity``) plus kinetic energy."""
    return -state.logdensity + kinetic_energy(state.momentum, inv_mass)


def leapfrog(
    logdensity_fn: LogDensityFn, state: IntegratorState, step_size: Array, inv_mass: Array
) -> IntegratorState:
    """One velocity-Verlet step; a negative ``step_size`` integrates backward in time."""
    dtype = state.position.dtype
    half = jnp.asarray(0.5 * step_size, dtype)
    momentum = state.momentum + half * state.logdensity_grad
    if metric.is_diagonal(inv_mass):
        position = state.position + jnp.asarray(step_size, dtype) * metric.diag_of(inv_mass) * momentum
    else:
        position = state.position + jnp.asarray(step_size, dtype) * metric.velocity(momentum, inv_mass)
    logdensity, grad = logdensity_and_grad(logdensity_fn, position)
    momentum = momentum + half * grad
    return IntegratorState(position, momentum, logdensity, grad)

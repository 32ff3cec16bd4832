"""Compile a model into pure functions of (flat unconstrained vector, data): `logp` and `expand`.

Data (pm.Data and observed values) are arguments of the jitted functions, never baked-in constants, so
new values of the same shapes reuse the compiled code.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config, cpu_ops, xla
from jaxmc.graph import TensorVariable, evaluate


class Slot(NamedTuple):
    """Where one value variable lives in the flat vector."""

    name: str
    rv: TensorVariable
    transform: object
    shape: tuple
    start: int
    stop: int


class CompiledModel:
    """The flat layout of a model's value variables and the pure functions over it."""

    def __init__(self, model, jacobian: bool = True):
        if jax.default_backend() == "cpu":
            xla.limit_lapack_threads()  # before any LAPACK call of the model's programs (docs/xla.md)
        self.model = model
        self.jacobian = jacobian
        self.rvs = list(model.basic_RVs)
        self.potentials = list(model.potentials)
        self.deterministics = list(model.deterministics)
        slots, start = [], 0
        for vv in model.value_vars:
            slots.append(Slot(vv.name, vv.rv, vv.transform, vv.shape, start, start + vv.size))
            start += vv.size
        self.slots = slots
        self.size = start
        self.slot_of = {s.rv: s for s in slots}
        self._logp = jax.jit(self.logp, static_argnames=("vars",))
        self.logp_and_grad = jax.jit(jax.value_and_grad(self.logp), static_argnames=("vars",))
        self._terms = jax.jit(self.terms)
        self._expand = jax.jit(self.expand)

    # ------------------------------------------------------------------ pure functions
    def walk(self, x, data, values=None):
        """[(rv, value, params, jacobian term or None)] in creation order, and the filled environment.

        Free variables come from the flat unconstrained `x`, or, when `values` is given, from constrained
        values by name (posterior draws)."""
        env = self.model.data.env(data)
        out = []
        for rv in self.rvs:
            dist = rv.owner
            params = evaluate(dist.params, env)
            slot = self.slot_of.get(rv)
            if values is not None and slot is not None:
                value, jac = jnp.asarray(values[rv.name]), None
            elif slot is None:
                value = evaluate([rv.observed], env)[0]
                jac = None
            else:
                y = x[slot.start:slot.stop].reshape(slot.shape)
                if slot.transform is not None:
                    value = slot.transform.backward(y, *params)
                    jac = slot.transform.log_jac_det(y, *params)
                else:
                    value = jnp.round(y).astype(rv.dtype) if dist.discrete else y
                    jac = None
            env[rv] = value
            out.append((rv, value, params, jac))
        return env, out

    def _rv_logp(self, rv, value, params, jac):
        lp = rv.owner.checked_logp(value, *params)
        total_size = self.model.rvs_to_total_sizes.get(rv)
        if total_size is not None and rv.observed is not None:
            total = np.prod(total_size if isinstance(total_size, (tuple, list)) else [total_size])
            lp = lp * (total / max(np.prod(jnp.shape(value)), 1))
        total = jnp.sum(lp)
        if jac is not None and self.jacobian:
            total = total + jnp.sum(jac)
        return total

    def logp(self, x, data, vars=None):
        """Model log density at flat unconstrained x (with the Jacobian terms if `jacobian`)."""
        env, walked = self.walk(x, data)
        total = jnp.zeros((), x.dtype)
        for rv, value, params, jac in walked:
            if vars is None or rv.name in vars:
                total = total + self._rv_logp(rv, value, params, jac)
        if vars is None:
            for pot in evaluate(self.potentials, env):
                total = total + jnp.sum(pot)
        return total.astype(x.dtype)

    def terms(self, x, data):
        """Log density of each random variable and potential, by name."""
        env, walked = self.walk(x, data)
        out = {rv.name: self._rv_logp(rv, value, params, jac) for rv, value, params, jac in walked}
        for pot, val in zip(self.potentials, evaluate(self.potentials, env)):
            out[pot.name] = jnp.sum(val)
        return out

    def elementwise_logp(self, x, data, names):
        """Pointwise log density of the named (observed) variables: {name: array of the variable's batch}."""
        env, walked = self.walk(x, data)
        return {rv.name: rv.owner.checked_logp(value, *params) for rv, value, params, _ in walked
                if rv.name in names}

    def loglik_from_values(self, values, data, names):
        """Pointwise log likelihood of the named observed variables at constrained free values."""
        env, walked = self.walk(None, data, values=values)
        return {rv.name: rv.owner.checked_logp(value, *params) for rv, value, params, _ in walked
                if rv.name in names}

    def expand(self, x, data):
        """Constrained values of the free variables and the deterministics, by name."""
        env, walked = self.walk(x, data)
        out = {rv.name: value for rv, value, _, _ in walked if rv.observed is None}
        for det, val in zip(self.deterministics, evaluate(self.deterministics, env)):
            out[det.name] = jnp.asarray(val)
        return out

    # ------------------------------------------------------------------ points
    def flat_to_point(self, x) -> dict[str, np.ndarray]:
        x = np.asarray(x)
        return {s.name: x[s.start:s.stop].reshape(s.shape) for s in self.slots}

    def point_to_flat(self, point: dict) -> jax.Array:
        parts = []
        for s in self.slots:
            if s.name in point:
                v = point[s.name]
            elif s.rv.name in point and s.transform is None:
                v = point[s.rv.name]
            else:
                raise KeyError(f"Point is missing value variable {s.name!r}; expected keys "
                               f"{[t.name for t in self.slots]}")
            v = np.asarray(v, dtype=config.floatX())
            if v.shape != tuple(s.shape):
                try:
                    v = np.broadcast_to(v, s.shape)
                except ValueError:
                    raise ValueError(f"Point value for {s.name!r} has shape {v.shape}, expected "
                                     f"{tuple(s.shape)}") from None
            parts.append(v.reshape(-1))
        return jnp.asarray(np.concatenate(parts) if parts else np.zeros(0, config.floatX()))

    def initial_point(self) -> dict[str, np.ndarray]:
        return self.flat_to_point(self.initial_flat())

    def initial_flat(self) -> jax.Array:
        """Initial values (initval, else the support point), mapped to the unconstrained space."""
        if not hasattr(self, "_initial_jit"):
            self._initial_jit = jax.jit(self._initial_flat)
        return self._initial_jit(self.model.data_values())

    def _initial_flat(self, data) -> jax.Array:
        from jaxmc.graph.ancestral import rv_shape

        env = self.model.data.env(data)
        parts = []
        for rv in self.rvs:
            dist = rv.owner
            params = evaluate(dist.params, env)
            if rv.observed is not None:
                env[rv] = evaluate([rv.observed], env)[0]
                continue
            iv = self.model.rvs_to_initial_values.get(rv)
            value = jnp.asarray(iv) if iv is not None else dist.support_point(
                *params, size=rv_shape(rv, params, env))
            value = jnp.broadcast_to(value, rv.shape).astype(rv.dtype)
            env[rv] = value
            t = self.slot_of[rv].transform
            u = t.forward(value, *params) if t is not None else value
            parts.append(jnp.reshape(u, -1).astype(config.floatX()))
        return jnp.concatenate(parts) if parts else jnp.zeros(0, config.floatX())

    # ------------------------------------------------------------------ point functions (PyMC API)
    def point_function(self, kind, vars=None, sum=True):
        names = None
        if vars is not None:
            vars = vars if isinstance(vars, (list, tuple)) else [vars]
            names = tuple(v.name if isinstance(v, TensorVariable) else v for v in vars)
        model = self.model

        def fn(point=None, **kwargs):
            point = dict(point or {}, **kwargs)
            x = self.point_to_flat(point)
            data = model.data_values()
            if kind == "logp":
                if not sum:
                    terms = self.elementwise_logp(x, data, names or tuple(r.name for r in self.rvs))
                    return [np.asarray(v) for v in terms.values()]
                return np.asarray(self._logp(x, data, vars=names))
            if kind == "dlogp":
                return np.asarray(self.logp_and_grad(x, data, vars=names)[1])
            if kind == "d2logp":
                with cpu_ops.plain():  # forward-over-reverse: no custom gradients in the graph
                    return np.asarray(jax.hessian(self.logp)(x, data, vars=names))
            if kind == "terms":
                return {k: np.asarray(v) for k, v in self._terms(x, data).items()}
            raise ValueError(kind)

        return fn

"""Ordinary differential equations in models: `DifferentialEquation`, PyMC's `pm.ode` API solved by diffrax.

    def rhs(y, t, p):                      # PyMC's convention: y (n_states,), t scalar, p (n_theta,)
        return [-p[0] * y[0], p[0] * y[0] - p[1] * y[1]]

    ode_model = DifferentialEquation(func=rhs, times=np.arange(0.5, 10, 0.5), n_states=2, n_theta=2, t0=0)
    with pm.Model():
        k = pm.HalfNormal("k", 1, shape=2)
        y_hat = ode_model(y0=[1.0, 0.0], theta=k)           # shape (len(times), n_states)
        pm.LogNormal("obs", mu=pm.math.log(y_hat[:, 1]), sigma=0.1, observed=data)

`func` is written as for PyMC (indexing, arithmetic, `pm.math` functions; it may return a list with one
entry per state, or an array). It is recorded once on placeholder variables, so numpy functions of the
arguments and model variables it closes over work too. The solution comes from `diffrax.diffeqsolve` with
an adaptive explicit Runge-Kutta method (Tsit5 by default) and a PID step-size controller (rtol 1e-6,
atol 1e-8 by default), saved at `times`. Gradients with respect to `y0`, `theta` and any closed-over
variables are computed by automatic differentiation through the solver (diffrax's default
`RecursiveCheckpointAdjoint`: exact gradients of the discretised solution, memory bounded by checkpointing).

If a solve fails (e.g. `max_steps` reached in a stiff region of parameter space met during warm-up) the
solution is NaN, so the log density is not finite there and the sampler rejects the point instead of
crashing. For stiff systems pass an implicit solver, e.g. `solver=diffrax.Kvaerno5()`.

Differences from PyMC: PyMC solves with `scipy.integrate.odeint` (LSODA) and forward sensitivities, outside
the compiled graph; here the solve is part of the compiled JAX program. `return_sens=True` returns the
sensitivities d y(t) / d (y0, theta) (computed with `jax.jacrev` through the solver) as PyMC does.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.graph import TensorVariable, apply
from jaxmc.scan import InnerGraph, placeholder

__all__ = ["DifferentialEquation", "solve_ode"]


class DifferentialEquation:
    """dy/dt = func(y, t, p), y(t0) = y0, solved at `times` (PyMC's `pm.ode.DifferentialEquation`).

    Parameters (PyMC's): func, times, n_states, n_theta, t0. Extra keyword-only options: `solver` (a diffrax
    solver instance, default `diffrax.Tsit5()`), `rtol`, `atol` (PID controller tolerances), `max_steps`
    (solver steps allowed for the whole interval, default 4096), `dt0` (first step; None lets the controller
    choose), `adjoint` (a diffrax adjoint, default its `RecursiveCheckpointAdjoint`).
    """

    def __init__(self, func: Callable, times, *, n_states: int, n_theta: int, t0: float = 0,
                 solver=None, rtol: float = 1e-6, atol: float = 1e-8, max_steps: int = 4096,
                 dt0: float | None = None, adjoint=None):
        if not callable(func):
            raise ValueError("Argument func must be callable.")
        if n_states < 1:
            raise ValueError("Argument n_states must be at least 1.")
        if n_theta <= 0:
            raise ValueError("Argument n_theta must be positive.")
        times = np.asarray(times, dtype=float)
        if times.ndim != 1 or times.size == 0:
            raise ValueError(f"times must be a non-empty 1-d array, found shape {times.shape}")
        if np.any(np.diff(times) < 0):
            raise ValueError("times must be non-decreasing")
        if times[0] < t0:
            raise ValueError(f"times must not precede t0={t0} (first time {times[0]})")
        self.func = func
        self.t0 = float(t0)
        self.times = tuple(times.tolist())
        self.n_times = len(times)
        self.n_states = int(n_states)
        self.n_theta = int(n_theta)
        self.n_p = self.n_states + self.n_theta
        self.solver = solver
        self.rtol = rtol
        self.atol = atol
        self.max_steps = int(max_steps)
        self.dt0 = dt0
        self.adjoint = adjoint
        self._cache: dict = {}

    def __repr__(self):
        return (f"DifferentialEquation(func={getattr(self.func, '__name__', self.func)}, n_times={self.n_times}, "
                f"n_states={self.n_states}, n_theta={self.n_theta}, t0={self.t0})")

    # ------------------------------------------------------------------ building the node
    def __call__(self, y0, theta, return_sens: bool = False, **kwargs):
        """The solution at `times`, shape (n_times, n_states) (and the sensitivities, shape
        (n_times, n_states, n_states + n_theta), with `return_sens=True`)."""
        if kwargs:
            raise TypeError(f"DifferentialEquation() got unexpected keyword argument(s) {sorted(kwargs)}")
        y0 = self._vector(y0, self.n_states, "y0")
        theta = self._vector(theta, self.n_theta, "theta")
        fx = config.floatX()
        ph_y = placeholder(jax.ShapeDtypeStruct((self.n_states,), fx), "y")
        ph_t = placeholder(jax.ShapeDtypeStruct((), fx), "t")
        ph_p = placeholder(jax.ShapeDtypeStruct((self.n_theta,), fx), "p")
        graph = InnerGraph(self.func, [ph_y, ph_t, ph_p], what="the ODE function")
        out = graph.raw_result
        n_out = len(out) if isinstance(out, (list, tuple)) else int(np.prod(_shape(out)) or 1)
        if n_out != self.n_states:
            raise ValueError(f"The ODE function returns {n_out} derivative(s) but n_states={self.n_states}")
        solve = self._solver_fn(graph)
        free = list(graph.free)

        def states(y0v, thv, *free_vals):
            return solve(y0v, thv, free_vals)

        def with_sens(y0v, thv, *free_vals):
            ys = solve(y0v, thv, free_vals)
            jac = jax.jacrev(lambda a, b: solve(a, b, free_vals), argnums=(0, 1))(y0v, thv)
            return ys, jnp.concatenate(jac, axis=-1)

        fn = with_sens if return_sens else states
        if not any(isinstance(a, TensorVariable) for a in (y0, theta, *free)):
            # plain values: solve now with a compiled solver (diffrax is slow op by op), kept for later calls
            key = ("const", return_sens)
            if key not in self._cache:
                self._cache[key] = jax.jit(fn)
            return self._cache[key](y0, theta)
        return apply(fn, y0, theta, *free)

    def _vector(self, v, n, what):
        if isinstance(v, (list, tuple)):
            if len(v) != n:
                raise ValueError(f"Length of {what} is wrong: {len(v)}, expected {n}")
            fx = config.floatX()
            return apply(lambda *xs: jnp.stack([jnp.asarray(x, fx).reshape(()) for x in xs]), *v)
        if isinstance(v, TensorVariable):
            if v.shape not in ((n,), ()) and v.size != n:
                raise ValueError(f"{what} has shape {v.shape}, expected ({n},)")
            return apply(lambda x: jnp.reshape(x, (n,)).astype(config.floatX()), v)
        arr = jnp.asarray(v, dtype=config.floatX()).reshape(-1)
        if arr.size != n:
            raise ValueError(f"{what} has {arr.size} entries, expected {n}")
        return arr

    def _solver_fn(self, graph: InnerGraph):
        import diffrax

        n_states = self.n_states
        times = np.asarray(self.times, dtype=config.floatX())  # numpy: no arrays captured from a trace
        t0, t1 = self.t0, self.times[-1]
        solver = self.solver if self.solver is not None else diffrax.Tsit5()
        controller = diffrax.PIDController(rtol=self.rtol, atol=self.atol)
        adjoint = self.adjoint if self.adjoint is not None else diffrax.RecursiveCheckpointAdjoint()
        max_steps, dt0 = self.max_steps, self.dt0

        def rhs(t, y, args):
            p, free_vals = args
            out = graph([y, jnp.asarray(t, y.dtype), p], free_vals)
            if len(out) == 1 and n_states > 1:
                return jnp.reshape(out[0], (n_states,)).astype(y.dtype)
            return jnp.stack([jnp.reshape(o, ()) for o in out]).astype(y.dtype)

        term = diffrax.ODETerm(rhs)

        def solve(y0, theta, free_vals):
            if t1 == t0:  # every requested time is t0
                return jnp.broadcast_to(y0, (len(self.times), n_states))
            sol = diffrax.diffeqsolve(term, solver, t0=t0, t1=t1, dt0=dt0, y0=y0, args=(theta, tuple(free_vals)),
                                      saveat=diffrax.SaveAt(ts=times), stepsize_controller=controller,
                                      adjoint=adjoint, max_steps=max_steps, throw=False)
            ok = sol.result == diffrax.RESULTS.successful
            return jnp.where(ok, sol.ys, jnp.nan)

        return solve


def _shape(x):
    return x.shape if isinstance(x, TensorVariable) else np.shape(x)


def solve_ode(func: Callable, y0, times, theta, *, t0: float = 0, **options):
    """One-call form: `DifferentialEquation(func, times, ...)(y0=y0, theta=theta)`, sizes from the inputs."""
    n_states = len(y0) if isinstance(y0, (list, tuple)) else int(np.prod(_shape(y0)) or 1)
    n_theta = len(theta) if isinstance(theta, (list, tuple)) else int(np.prod(_shape(theta)) or 1)
    return DifferentialEquation(func, times, n_states=n_states, n_theta=n_theta, t0=t0, **options)(y0, theta)

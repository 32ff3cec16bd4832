"""The compiled L-BFGS loop of find_MAP: optax.lbfgs with its zoom line search, stopped by the rules of
scipy's L-BFGS-B (relative decrease `ftol`, largest gradient entry `gtol`), run in paced jitted chunks."""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import cpu_ops
from jaxmc.aot import AheadOfTime

# scipy.optimize.minimize(method="L-BFGS-B")'s gtol and maxcor; ftol = factr * eps with factr 1e5 where scipy
# has 1e7: one short line-search step (small decrease, far from the optimum) then does not end the run, and the
# optimum lands closer to the exact one than scipy's (docs/find_map.md), so it agrees with PyMC's to 1e-4
FTOL = 2.220446049250313e-11
GTOL = 1e-5
MEMORY = 10
CHUNK = 1000  # most iterations in one compiled call (run_loop paces calls to about a quarter second)

RUNNING, CONVERGED_F, CONVERGED_G, LINESEARCH_FAILED, NOT_FINITE, MAXEVAL = range(6)
MESSAGES = {
    RUNNING: "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT",
    CONVERGED_F: "CONVERGENCE: RELATIVE REDUCTION OF F <= FACTR*EPSMCH",
    CONVERGED_G: "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL",
    LINESEARCH_FAILED: "ABNORMAL: the line search found no step that decreases the objective",
    NOT_FINITE: "ABNORMAL: the objective or its gradient is not finite at the next step",
    MAXEVAL: "STOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT",
}


class OptimizeResult(dict):
    """The optimiser's result as scipy.optimize gives it (a dict with attribute access: x, fun, jac, nit, nfev,
    status, success, message, method), without importing scipy."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self):
        width = max(map(len, self), default=0)
        return "\n".join(f"{k.rjust(width)}: {v!r}" for k, v in self.items())


class LBFGSState(NamedTuple):
    """The optimised coordinates `z`, the optax state, the objective (negative log density) and its gradient
    at z, the iterations and evaluations so far, and the status (RUNNING until a stopping rule fires)."""

    z: jax.Array
    opt: object
    f: jax.Array
    g: jax.Array
    nit: jax.Array
    nfev: jax.Array
    status: jax.Array


class Settings(NamedTuple):
    """Stopping rules and memory (static: part of the compiled program's cache key)."""

    ftol: float = FTOL
    gtol: float = GTOL
    maxfun: int = 15000
    memory: int = MEMORY


def objective(logp, moving):
    """`f(z, x0, data)`: the negative log density at `x0` with the coordinates `moving` (None: all) set to z."""
    def f(z, x0, data):
        x = z if moving is None else x0.at[moving].set(z)
        return -logp(x, data)

    return f


SMALL_PROGRAM = 100_000  # numbers in the arguments up to which a program compiles at LLVM -O0


class Program(NamedTuple):
    """`start(z0)`: the state before the first evaluation (made on the host, no compilation);
    `chunk(state, start, stop, x0, data) -> (state, (f, gnorm, status, values))`: iterations start .. stop - 1
    in one `lax.while_loop`, ending early when a rule fires (the first call evaluates the start point first);
    `values` are `expand(x, data)` at the point reached."""

    start: Callable
    chunk: AheadOfTime


def build(logp, expand, moving, settings: Settings) -> Program:
    """The program of the L-BFGS run over the coordinates `moving` (None: all) of the flat vector, on the
    compiled model's `logp(x, data)`; `expand(x, data)` gives the named values returned with each call."""
    import optax

    opt = optax.lbfgs(memory_size=settings.memory)
    f = jax.jit(objective(logp, moving))  # traced once, though the line search calls it at several places

    def evaluate(s: LBFGSState, x0, data) -> LBFGSState:
        value, grad = jax.value_and_grad(f)(s.z, x0, data)
        status = jnp.where(jnp.isfinite(value) & jnp.all(jnp.isfinite(grad)), RUNNING, NOT_FINITE)
        return LBFGSState(s.z, opt.init(s.z), value.astype(s.f.dtype), grad, jnp.int32(0), jnp.int32(1),
                          status.astype(jnp.int32))

    def step(s: LBFGSState, x0, data) -> LBFGSState:
        def fun(z):
            return f(z, x0, data)

        updates, opt_state = opt.update(s.g, s.opt, s.z, value=s.f, grad=s.g, value_fn=fun)
        z = optax.apply_updates(s.z, updates)
        value = optax.tree.get(opt_state, "value")
        grad = optax.tree.get(opt_state, "grad")
        nfev = s.nfev + optax.tree.get(opt_state, "info").num_linesearch_steps.astype(jnp.int32)
        finite = jnp.isfinite(value) & jnp.all(jnp.isfinite(grad))
        decreased = finite & (value <= s.f)
        small = (s.f - value) / jnp.maximum(jnp.maximum(jnp.abs(s.f), jnp.abs(value)), 1.0) <= settings.ftol
        status = jnp.select(
            [~finite, ~decreased, jnp.max(jnp.abs(grad), initial=0.0) <= settings.gtol, small,
             nfev >= settings.maxfun],
            [NOT_FINITE, LINESEARCH_FAILED, CONVERGED_G, CONVERGED_F, MAXEVAL], RUNNING)
        # a step that does not decrease the objective is not taken: the state keeps the best point so far
        new = LBFGSState(z, opt_state, value, grad, s.nit + 1, nfev, status.astype(jnp.int32))
        kept = s._replace(nit=s.nit + 1, nfev=nfev, status=status.astype(jnp.int32))
        return jax.tree.map(lambda a, b: jnp.where(decreased, a, b), new, kept)

    def chunk(state: LBFGSState, start, stop, x0, data):
        def cond(carry):
            i, s = carry
            return (i < stop) & (s.status == RUNNING)

        def body(carry):
            i, s = carry
            return i + 1, step(s, x0, data)

        # XLA's own gather gradient (not jaxmc's loop kernels): a smaller program, faster to compile, for a
        # loop that runs once
        with cpu_ops.plain():
            state = jax.lax.cond(state.nfev == 0, evaluate, lambda s, x0, data: s, state, x0, data)
            _, state = jax.lax.while_loop(cond, body, (start, state))
        x = state.z if moving is None else x0.at[moving].set(state.z)
        return state, (state.f, jnp.linalg.norm(state.g), state.status, expand(x, data))

    def first_state(z0) -> LBFGSState:
        z0 = np.asarray(z0)
        opt_state = jax.tree.map(lambda a: np.zeros(a.shape, a.dtype), jax.eval_shape(opt.init, z0))
        return LBFGSState(z0, opt_state, np.zeros((), z0.dtype), np.zeros_like(z0), np.int32(0), np.int32(0),
                          np.int32(RUNNING))

    return Program(first_state, AheadOfTime(chunk, quick_below=SMALL_PROGRAM))


def minimize(program: Program, z0, x0, data, total: int, progressbar: bool):
    """Run the program from `build` for at most `total` iterations with `jaxmc.iterate.run_loop`: the final
    LBFGSState (nfev 0: not evaluated, Ctrl-C came first), whether Ctrl-C stopped it, and the named values at
    the point reached (None if no call finished)."""
    from jaxmc.iterate import run_loop

    last = {"values": None}

    def run_chunk(s, start, stop):
        return program.chunk(s, start, stop, x0, data)

    def record(start, n, out, s):
        last["values"] = out[3]

    def status(out, s):
        f, gnorm = out[:2]
        return f"logp = {-float(f):,.5g}, ||grad|| = {float(gnorm):,.5g}"

    result = run_loop(run_chunk, program.start(z0), total, description="MAP", progressbar=progressbar,
                      record=record, status=status, finished=lambda out, s: int(out[2]) != RUNNING, chunk=CHUNK)
    return result.state, result.interrupted, last["values"]


def message(status: int) -> str:
    return MESSAGES[int(np.asarray(status))]

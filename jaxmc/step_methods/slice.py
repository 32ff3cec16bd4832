"""PyMC's univariate slice sampler (Neal 2003, stepping out and shrinkage, coordinate by coordinate) as a
pure kernel; the interval widths are tuned during warm-up. Stats ``nstep_out``, ``nstep_in``."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.step_methods.base import COMPATIBLE, INCOMPATIBLE, BlockedStep, Kernel, Setup

#: most shrinkage steps of one coordinate (PyMC has no bound; a bound keeps the compiled loop finite)
MAX_SHRINK = 1000


class SliceState(NamedTuple):
    w: jax.Array  # interval width per coordinate
    n_tunes: jax.Array


class Slice(BlockedStep):
    """PyMC's Slice step: for each coordinate, a level under the density, an interval of width ``w`` stepped
    out at most ``max_steps`` times (split at random between the sides) and shrunk until a point is inside
    the slice; during warm-up (``tune=True``) ``w`` becomes the running mean of the final interval widths."""

    stats_dtypes = {"nstep_out": "i", "nstep_in": "i"}

    default_blocked = False  # PyMC: one Slice step per variable unless blocked=True
    split_attrs = ("w",)

    def __init__(self, vars=None, *, w=1.0, tune=True, model=None, max_steps: int = 100, blocked=None, **kwargs):
        super().__init__(vars, model, blocked, **kwargs)
        if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
            raise ValueError(f"Slice(max_steps={max_steps!r}): max_steps must be a positive integer")
        self.w = np.asarray(w, float)
        self.tune, self.max_steps = bool(tune), int(max_steps)

    @staticmethod
    def competence(slot, discrete):
        return INCOMPATIBLE if discrete else COMPATIBLE  # PyMC prefers it only where there is no gradient

    def kernel(self, cm, setup: Setup) -> Kernel:
        n = len(setup.index)
        index = jnp.asarray(setup.index)
        w0 = np.resize(np.ravel(self.w), n)  # PyMC repeats w over the coordinates
        max_steps, tune, num_tune = self.max_steps, self.tune, setup.tune

        def init(key, x, logp):
            return SliceState(jnp.asarray(w0, x.dtype), jnp.zeros((), x.dtype))

        def step(key, state, x, logp, i):
            tuning = tune & (i < num_tune)
            w_all, n_tunes = state

            def coordinate(j, carry):
                x, w_all, n_out, n_in = carry
                k = jax.random.split(jax.random.fold_in(key, j), 5)
                pos, wi = index[j], w_all[j]
                x0 = x[pos]

                def at(v):
                    return logp(x.at[pos].set(v))

                y = at(x0) - jax.random.exponential(k[0], (), x.dtype)
                left = x0 - jax.random.uniform(k[1], (), x.dtype) * wi
                right = left + wi
                m_left = jax.random.randint(k[2], (), 0, max_steps)
                m_right = max_steps - 1 - m_left

                def out(side, limit, sign):
                    def cond(c):
                        return (c[1] < limit) & (y <= at(c[0]))

                    return jax.lax.while_loop(cond, lambda c: (c[0] + sign * wi, c[1] + 1), (side, jnp.int32(0)))

                left, c_left = out(left, m_left, -1.0)
                right, c_right = out(right, m_right, 1.0)

                def shrink_cond(c):
                    return (y > c[3]) & (c[4] < MAX_SHRINK)

                def shrink(c):
                    lo, hi, v, _, cnt = c
                    hi = jnp.where(v > x0, v, hi)
                    lo = jnp.where(v < x0, v, lo)
                    v = jax.random.uniform(jax.random.fold_in(k[4], cnt), (), x.dtype, lo, hi)
                    return lo, hi, v, at(v), cnt + 1

                v = jax.random.uniform(k[3], (), x.dtype, left, right)
                lo, hi, v, lp_v, cnt = jax.lax.while_loop(shrink_cond, shrink, (left, right, v, at(v), jnp.int32(0)))
                v = jnp.where(y > lp_v, x0, v)  # the bound was reached: stay (never happens on a proper slice)
                w_new = jnp.where(tuning, wi * (n_tunes / (n_tunes + 1)) + (hi - lo) / (n_tunes + 1), wi)
                return x.at[pos].set(v), w_all.at[j].set(w_new), n_out + c_left + c_right, n_in + cnt

            x, w_all, n_out, n_in = jax.lax.fori_loop(0, n, coordinate,
                                                      (x, w_all, jnp.int32(0), jnp.int32(0)))
            state = SliceState(w_all, n_tunes + jnp.where(tuning, 1.0, 0.0).astype(n_tunes.dtype))
            return x, state, {"nstep_out": n_out, "nstep_in": n_in}

        def empty(dtype):
            return {"nstep_out": jnp.int32(0), "nstep_in": jnp.int32(0)}

        return Kernel(init, step, empty)

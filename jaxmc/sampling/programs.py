"""The compiled sampler programs: one chain's init and chunk functions (NUTS, and the compound step for
discrete variables), jitted with jaxmc's XLA options and cached on the model."""

from __future__ import annotations

import concurrent.futures

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config, cpu_ops, discrete_steps, xla
from jaxmc.nuts import STAT_NAMES, build_chain
from jaxmc.nuts import init as nuts_init
from jaxmc.nuts import rng
from jaxmc.sampling.settings import SampleSettings
from jaxmc.sampling.start import find_start


MAX_CHUNK = 500  # most steps per compiled call; the progress bar updates between calls


CHUNK_BYTES = 16 * 2**20  # most output bytes of one call (large deterministics give shorter chunks); well
# under the size up to which XLA compiles the chunk loop into one CPU kernel (jaxmc.xla)


def chunk_length(model, names) -> int:
    """Steps of the compiled chunk program: fixed per model (runs of any length share one program; steps
    past the requested ones are skipped), at most MAX_CHUNK and CHUNK_BYTES of output per chain."""
    per_step = 8 * (16 + sum(int(np.prod(model.named_vars[n].aval.shape)) for n in names))
    return int(np.clip(CHUNK_BYTES // per_step, 10, MAX_CHUNK))


def _build_programs(cm, settings: SampleSettings, names, chunk: int, vectorized: bool):
    """jit-compiled (init, run_chunk), vmapped over chains when `vectorized`; cached on the model so that
    sampling again (new data of the same shapes, another seed) reuses the compiled program."""
    key = (cm.jacobian, settings.tune, settings.nuts_options, tuple(names), chunk, vectorized)
    return cm.model.program("sample", key, lambda: _make_programs(cm, settings, names, chunk, vectorized))


def _make_programs(cm, settings: SampleSettings, names, chunk: int, vectorized: bool):
    """The single-chain init and chunk functions: NUTS on the continuous coordinates and, when the model
    has discrete free variables, a compound step that updates them after each NUTS transition."""
    block = discrete_steps.block_for(cm)
    disc = jnp.asarray(np.sort(block.index)) if block is not None else jnp.zeros(0, jnp.int32)
    cont_np = np.setdiff1d(np.arange(cm.size), np.asarray(disc))
    cont = jnp.asarray(cont_np)
    has_nuts = cont_np.size > 0

    pieces = _interleave(cm.size, np.asarray(disc))
    # a nested jit: every call site below (starting point, leapfrog, step-size search) reuses one trace of
    # the model's density (and of its gradient) instead of tracing it again; XLA inlines it (radon: 0.1 s
    # less to lower). A fresh one per program, not cm._logp: cpu_ops reads plain() when it is traced.
    logp = jax.jit(cm.logp)

    def assemble(xc, xd):
        """The flat point from its continuous and discrete parts, by static slices (a scatter would
        compile to an element-by-element loop on CPU and sit inside every leapfrog step)."""
        if block is None:
            return xc
        parts = [(xc if from_cont else xd)[a:b] for from_cont, a, b in pieces]
        return jnp.concatenate([p.astype(xc.dtype if has_nuts else xd.dtype) for p in parts])

    # one chain for the program, given the density at each call; the U-turn checks loop over their slots
    # where XLA:CPU compiles the sampler's loops into single kernels
    init_fn, step_fn = build_chain(settings.tune, settings.nuts_options, slot_loop=cpu_ops.loop_kernels_active())

    def density(data, xd):
        """The log density of the continuous coordinates, for the discrete values `xd`."""
        return lambda xc: logp(assemble(xc, xd), data)

    def init_one(key, base, jitter, data):
        k_start, key = jax.random.split(key)
        x, ok = find_start(logp, k_start, base, jitter, data)
        xd = x[disc]
        chain = init_fn(density(data, xd), key, x if block is None else x[cont]) if has_nuts else None
        dstate = discrete_steps.init(block, x.dtype) if block is not None else None
        return (chain, xd, dstate), x, ok

    def step(state, xs, data):
        chain, xd, dstate = state
        key, i = xs
        k_nuts, k_disc = (key, None) if block is None else jax.random.split(key)
        if has_nuts:
            chain, (xc, stats) = step_fn(density(data, xd), chain, (k_nuts, i))
        else:
            xc, stats = jnp.zeros(0, xd.dtype), _empty_stats(xd.dtype)
        if block is not None:
            x, dstate = discrete_steps.step(k_disc, assemble(xc, xd), lambda v: cm.logp(v, data), block,
                                            dstate, i < settings.tune)
            xd = x[disc]
            if has_nuts:  # the cached density and gradient refer to the old discrete values
                chain = chain._replace(hmc=nuts_init(xc, density(data, xd)))
                stats = dict(stats, lp=chain.hmc.logdensity)
        return (chain, xd, dstate), (assemble(xc, xd), stats)

    def chunk_one(state, key, start, stop, data):
        """Steps start .. stop - 1 (at most `chunk`); step i's randomness is sub-stream i of the chain's
        seed, so the draws do not depend on how a run is cut into calls."""
        seed = rng.seed_of(key)

        def one(st, i):
            st2, (pos, stats) = step(st, (rng.substream(seed, i), i), data)
            values = cm.expand(pos, data)
            return st2, ({n: values[n] for n in names}, stats)

        dtype = state[0].hmc.position.dtype if has_nuts else state[1].dtype
        point = jnp.zeros(cm.size, dtype)
        values = jax.eval_shape(lambda x: {n: cm.expand(x, data)[n] for n in names}, point)
        shapes = (values, _empty_stats(dtype))  # one step's output, without tracing a step twice
        buffers = jax.tree_util.tree_map(lambda a: jnp.zeros((chunk, *jnp.shape(a)), a.dtype), shapes)

        def body(carry):  # a while loop that stops at `stop`, writing each step's output in place
            i, st, bufs = carry
            st, out = one(st, i)
            bufs = jax.tree_util.tree_map(lambda b, o: jax.lax.dynamic_update_index_in_dim(b, o, i - start, 0),
                                          bufs, out)
            return i + 1, st, bufs

        _, state, buffers = jax.lax.while_loop(lambda c: c[0] < stop, body, (start, state, buffers))
        return state, buffers

    opts = config.compiler_options()
    if vectorized:
        init = jax.jit(jax.vmap(init_one, in_axes=(0, 0, None, None)), compiler_options=opts)
        run = jax.jit(jax.vmap(chunk_one, in_axes=(0, 0, None, None, None)), compiler_options=opts)
    else:
        init = jax.jit(init_one, compiler_options=opts)
        run = jax.jit(chunk_one, compiler_options=opts)
    return init, run


def output_avals(cm, names, data, dtype):
    """One step's output of the chunk program, (values by name, stats), as shapes and dtypes."""
    point = jax.ShapeDtypeStruct((cm.size,), dtype)
    values = jax.eval_shape(lambda x: {n: cm.expand(x, data)[n] for n in names}, point)
    values = {n: values[n] for n in names}  # in the model's order (eval_shape sorts the keys)
    stats = jax.eval_shape(lambda: _empty_stats(dtype))
    return values, {n: stats[n] for n in STAT_NAMES}


def _interleave(size: int, disc: np.ndarray) -> list[tuple[bool, int, int]]:
    """Runs of the flat layout as (from the continuous part?, start, stop) in that part's coordinates."""
    is_disc = np.zeros(size, bool)
    is_disc[disc] = True
    runs, i, pos = [], 0, [0, 0]
    while i < size:
        j = i
        while j < size and is_disc[j] == is_disc[i]:
            j += 1
        k = int(is_disc[i])
        runs.append((not is_disc[i], pos[k], pos[k] + j - i))
        pos[k] += j - i
        i = j
    return runs


def _empty_stats(dtype):
    z = jnp.zeros((), dtype)
    return {"lp": z, "acceptance_rate": z + 1, "step_size": z, "step_size_bar": z, "tree_depth": jnp.int32(0),
            "n_steps": jnp.int32(0), "diverging": jnp.bool_(False), "energy": z, "max_energy_error": z,
            "reached_max_treedepth": jnp.bool_(False)}


def executables(cm, settings, names, chunk, vectorized, keys, base, jitter, data):
    """Ahead-of-time compiled (init, run_chunk) for these argument shapes, compiled concurrently (XLA
    releases the GIL while it compiles) and cached on the model."""
    init, run = _build_programs(cm, settings, names, chunk, vectorized)
    init_args = (keys, base, jitter, data) if vectorized else (keys[0], base[0], jitter, data)
    sig = jax.tree_util.tree_map(lambda a: (jnp.shape(a), jnp.result_type(a)), init_args)

    def compile_both():
        # the chunk program compiles longest: start it first, and lower the init program meanwhile
        state = jax.eval_shape(init, *init_args)[0]
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            opts = config.compiler_options()
            run_exe = pool.submit(xla.compile_program, run.lower(state, init_args[0], jnp.int32(0), jnp.int32(0),
                                                                 data), opts)
            init_exe = pool.submit(xla.compile_program, init.lower(*init_args), opts)
            return init_exe.result(), run_exe.result()

    return cm.model.program("sample executables", (id(init), str(sig)), compile_both)


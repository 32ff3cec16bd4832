"""The compiled sampler programs: one chain's init and chunk functions (the run's step methods, NUTS by
default, composed in one loop), jitted with jaxmc's XLA options and cached on the model."""

from __future__ import annotations

import concurrent.futures
import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config, cpu_ops, step_methods, xla
from jaxmc.nuts import rng
from jaxmc.nuts.metric import with_diagonal
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


def _build_programs(cm, settings: SampleSettings, names, chunk: int, vectorized: bool, placement=None):
    """jit-compiled (init, run_chunk), vmapped over chains when `vectorized`; cached on the model so that
    sampling again (new data of the same shapes, another seed) reuses the compiled program. A `placement`
    over several devices (jaxmc.sharding) gives the programs its shardings."""
    steps = run_steps(cm, settings)
    spans = placement is not None and placement.spans
    where = (placement.mesh, placement.chains_split, tuple(sorted(placement.data_axes.items()))
             if placement.data_axes else None) if spans else None
    key = (cm.jacobian, settings.tune, settings.draws if _keeps_history(steps) else None, settings.nuts_options,
           tuple(a.key for a in steps), settings.seeded_mass, tuple(names), chunk, vectorized, where)
    return cm.model.program("sample", key, lambda: _make_programs(cm, settings, steps, names, chunk, vectorized,
                                                                  placement if spans else None))


def run_steps(cm, settings: SampleSettings) -> tuple:
    """The run's steps: those the settings carry, else PyMC's default assignment (NUTS with the settings'
    options for the continuous variables, the Gibbs and Metropolis steps for the discrete ones)."""
    if settings.steps:
        return settings.steps
    default = step_methods.NUTS(target_accept=settings.target_accept, max_treedepth=settings.max_treedepth,
                                adaptation=settings.adaptation)
    return step_methods.assign(cm, [], default)


def _keeps_history(steps) -> bool:
    return any(isinstance(a.step, step_methods.DEMetropolisZ) for a in steps)


def _kernels(cm, settings: SampleSettings, steps):
    loop = cpu_ops.loop_kernels_active()
    return [a.step.kernel(cm, step_methods.Setup(np.asarray(a.index, int), cm.size, settings.tune, settings.draws,
                                                 len(steps) > 1, loop)) for a in steps]


def _make_programs(cm, settings: SampleSettings, steps, names, chunk: int, vectorized: bool, placement=None):
    """The single-chain init and chunk functions: the run's steps applied one after the other at each draw,
    each a pure kernel over its coordinates of the flat point (jaxmc.step_methods)."""
    # a nested jit: every call site below (starting point, leapfrog, step-size search) reuses one trace of
    # the model's density (and of its gradient) instead of tracing it again; XLA inlines it (radon: 0.1 s
    # less to lower). A fresh one per program, not cm._logp: cpu_ops reads plain() when it is traced.
    logp = jax.jit(cm.logp)
    kernels = _kernels(cm, settings, steps)

    def init_one(key, base, jitter, data):
        inv_mass = None
        if settings.seeded_mass:  # (jitter, initial inverse mass), for the NUTS and HMC steps' warm-up
            jitter, inv_mass = jitter[0], jitter[1]
        k_start, key = jax.random.split(key)
        x, ok = find_start(logp, k_start, base, jitter, data)
        states = tuple(k.init(key, x, lambda v: logp(v, data)) for k in kernels)
        if inv_mass is not None:
            seeded = [inv_mass[np.asarray(a.index)].astype(x.dtype) for a in steps]
            states = tuple(st._replace(inv_mass=with_diagonal(st.inv_mass, v)) if hasattr(st, "inv_mass") else st
                           for st, v in zip(states, seeded))
        return (x, states), x, ok

    def step(state, xs, data):
        x, states = state
        key, i = xs
        keys = [key] if len(kernels) == 1 else list(jax.random.split(key, len(kernels)))
        new_states, stats = [], []
        for kernel, k, st in zip(kernels, keys, states):
            x, st, s = kernel.step(k, st, x, lambda v: logp(v, data), i)
            new_states.append(st)
            stats.append(s)
        return (x, tuple(new_states)), (x, step_methods.merge_stats(stats))

    def chunk_one(state, key, start, stop, data):
        """Steps start .. stop - 1 (at most `chunk`); step i's randomness is sub-stream i of the chain's
        seed, so the draws do not depend on how a run is cut into calls."""
        seed = rng.seed_of(key)

        def one(st, i):
            st2, (pos, stats) = step(st, (rng.substream(seed, i), i), data)
            values = cm.expand(pos, data)
            return st2, ({n: values[n] for n in names}, stats)

        dtype = state[0].dtype
        point = jnp.zeros(cm.size, dtype)
        values = jax.eval_shape(lambda x: {n: cm.expand(x, data)[n] for n in names}, point)
        shapes = (values, _empty_stats(kernels, dtype))  # one step's output, without tracing a step twice
        buffers = jax.tree_util.tree_map(lambda a: jnp.zeros((chunk, *jnp.shape(a)), a.dtype), shapes)

        def body(carry):  # a while loop that stops at `stop`, writing each step's output in place
            i, st, bufs = carry
            st, out = one(st, i)
            bufs = jax.tree_util.tree_map(lambda b, o: jax.lax.dynamic_update_index_in_dim(b, o, i - start, 0),
                                          bufs, out)
            return i + 1, st, bufs

        if all(k.refit_due(st, start) is None for k, st in zip(kernels, state[1])):
            _, state, buffers = jax.lax.while_loop(lambda c: c[0] < stop, body, (start, state, buffers))
            return state, buffers

        def due(st, i):  # whether a warm-up refit follows step i (the step index alone decides)
            dues = [d for d in (k.refit_due(s, i) for k, s in zip(kernels, st[1])) if d is not None]
            return functools.reduce(jnp.logical_or, dues)

        def refit(st, i):
            return st[0], tuple(k.refit(s, i) for k, s in zip(kernels, st[1]))

        def steps_then_refit(carry):
            """The steps up to the next refit (a loop without the refit, one XLA:CPU kernel), then the refit."""
            def step_body(c):
                i, st, bufs = body(c[:3])
                return i, st, bufs, due(st, i - 1)

            i, st, bufs, _ = jax.lax.while_loop(lambda c: (c[0] < stop) & ~c[3], step_body,
                                                (*carry, jnp.bool_(False)))
            return i, refit(st, i - 1), bufs

        _, state, buffers = jax.lax.while_loop(lambda c: c[0] < stop, steps_then_refit, (start, state, buffers))
        return state, buffers

    opts = config.compiler_options()
    if vectorized:
        init_one, chunk_one = (jax.vmap(init_one, in_axes=(0, 0, None, None)),
                               jax.vmap(chunk_one, in_axes=(0, 0, None, None, None)))
    if placement is None:
        return jax.jit(init_one, compiler_options=opts), jax.jit(chunk_one, compiler_options=opts)
    # several devices: the chain axis split or replicated, the data as placed; XLA partitions the programs and
    # adds the reductions (docs/scale.md)
    rep, data = placement.replicated, placement.data_shardings(cm.model.data_values())
    cs = placement.chain_sharding if vectorized else rep
    if vectorized and placement.chains_split:  # each device its own chains, whole loops without collectives
        init_one, chunk_one = placement.per_device(init_one, 2, 2), placement.per_device(chunk_one, 2, 3)
    out = rep if jax.process_count() > 1 else cs  # what the host reads: whole on every process, where several
    init = jax.jit(init_one, in_shardings=(cs, cs, rep, data), out_shardings=(cs, out, out), compiler_options=opts)
    run = jax.jit(chunk_one, in_shardings=(cs, cs, rep, rep, data), out_shardings=(cs, out), compiler_options=opts)
    return init, run


def _empty_stats(kernels, dtype):
    return step_methods.merge_stats([k.empty_stats(dtype) for k in kernels])


def output_avals(cm, settings, names, data, dtype):
    """One step's output of the chunk program, (values by name, stats), as shapes and dtypes."""
    point = jax.ShapeDtypeStruct((cm.size,), dtype)
    values = jax.eval_shape(lambda x: {n: cm.expand(x, data)[n] for n in names}, point)
    values = {n: values[n] for n in names}  # in the model's order (eval_shape sorts the keys)
    steps = run_steps(cm, settings)
    kernels = _kernels(cm, settings, steps)
    order = []  # the stats' order, noted while tracing (eval_shape sorts the keys); no eager op to compile

    def empty():
        per_kernel = [k.empty_stats(dtype) for k in kernels]
        order.extend(dict.fromkeys(n for st in per_kernel for n in st))
        return step_methods.merge_stats(per_kernel)

    stats = jax.eval_shape(empty)
    return values, {n: stats[n] for n in order}


def executables(cm, settings, names, chunk, vectorized, keys, base, jitter, data, placement=None):
    """Ahead-of-time compiled (init, run_chunk) for these argument shapes, compiled concurrently (XLA
    releases the GIL while it compiles) and cached on the model."""
    init, run = _build_programs(cm, settings, names, chunk, vectorized, placement)
    init_args = (keys, base, jitter, data) if vectorized else (keys[0], base[0], jitter, data)
    sig = jax.tree_util.tree_map(lambda a: (jnp.shape(a), jnp.result_type(a)), init_args)
    if placement is not None and placement.spans:  # lowered from shapes: host arrays cannot span processes
        init_args = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(jnp.shape(a), jnp.result_type(a)),
                                           init_args)
        data = init_args[3]

    def compile_both():
        # the chunk program compiles longest: start it first, and lower the init program meanwhile
        state = jax.eval_shape(init, *init_args)[0]
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            opts, where = config.compiler_options(), None if placement is None else placement.devices
            start = jax.ShapeDtypeStruct((), jnp.int32)
            run_exe = pool.submit(xla.compile_program, run.lower(state, init_args[0], start, start, data), opts,
                                  where)
            init_exe = pool.submit(xla.compile_program, init.lower(*init_args), opts, where)
            return init_exe.result(), run_exe.result()

    return cm.model.program("sample executables", (id(init), str(sig)), compile_both)


"""`pm.sample`: NUTS warm-up and draws inside one compiled JAX program, chains vectorized or in parallel."""

from __future__ import annotations

import concurrent.futures
import os
import threading
import time
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config, cpu_ops
from jaxmc.model import modelcontext
from jaxmc import discrete_steps
from jaxmc.nuts import ADAPTATIONS, DEFAULTS, STAT_NAMES, NUTSOptions, build_chain
from jaxmc.nuts import init as nuts_init
from jaxmc.nuts import rng

CHAIN_METHODS = ("vectorized", "parallel", "sequential")


class SamplingError(RuntimeError):
    """Sampling could not start or run (e.g. no finite initial point)."""


class NUTS:
    """The No-U-Turn Sampler's settings, for `pm.sample(step=pm.NUTS(...))` as in PyMC."""

    def __init__(self, vars=None, target_accept: float = DEFAULTS.target_accept,
                 max_treedepth: int = DEFAULTS.max_treedepth, adaptation: str = DEFAULTS.adaptation, model=None,
                 **kwargs):
        unknown = set(kwargs) - {"step_scale", "early_max_treedepth", "adapt_step_size", "scaling",
                                 "is_cov", "potential"}
        if unknown:
            raise TypeError(f"pm.NUTS got unknown keyword argument(s) {sorted(unknown)}; accepted: "
                            "vars, target_accept, max_treedepth, adaptation, model")
        if vars is not None:
            raise TypeError("pm.NUTS(vars=...): jaxmc samples all continuous variables with one NUTS "
                            "step; leave vars unset")
        self.target_accept = target_accept
        self.max_treedepth = max_treedepth
        self.adaptation = adaptation


class SampleSettings(NamedTuple):
    draws: int
    tune: int
    chains: int
    target_accept: float
    max_treedepth: int
    adaptation: str
    chain_method: str
    cores: int

    @property
    def nuts_options(self) -> NUTSOptions:
        """The chain's options: these settings, the defaults for the others."""
        return DEFAULTS._replace(target_accept=self.target_accept, max_treedepth=self.max_treedepth,
                                 adaptation=self.adaptation)


_ACCEPTED = ["draws", "tune", "chains", "cores", "target_accept", "max_treedepth", "random_seed",
             "initvals", "progressbar", "discard_tuned_samples", "return_inferencedata", "idata_kwargs",
             "var_names", "chain_method", "nuts", "step", "model", "init", "compute_convergence_checks",
             "nuts_sampler", "keep_warning_stat", "quiet"]

#: warm-up steps when `tune=None` (PyMC 6's default asks the step method; its NUTS asks for 1000)
DEFAULT_TUNE = 1000


def sample(draws: int = 1000, tune: int | None = None, chains: int = 4, cores: int | None = None,
           target_accept: float = DEFAULTS.target_accept, max_treedepth: int = DEFAULTS.max_treedepth,
           random_seed=None, initvals=None, progressbar: bool = True, discard_tuned_samples: bool = True,
           return_inferencedata: bool = True, idata_kwargs: dict | None = None, var_names=None,
           chain_method: str | None = None, nuts: dict | None = None, step=None, model=None, init: str = "auto",
           compute_convergence_checks: bool = True, nuts_sampler: str | None = None, keep_warning_stat=False,
           quiet: bool = False, **kwargs):
    """Draw posterior samples with NUTS (PyMC 6's signature); returns ArviZ data.

    Warm-up (`tune`, 1000 steps unless given) adapts a diagonal mass matrix from gradients and draws
    (nutpie's scheme, the default) or with Stan's windowed variances (`nuts={"adaptation": "stan"}`), and
    the step size by dual averaging. `quiet=True` shows no progress bar and no convergence warnings.
    """
    if kwargs:
        raise TypeError(f"pm.sample got unknown keyword argument(s) {sorted(kwargs)}; accepted: {_ACCEPTED}")
    model = modelcontext(model)
    nuts = dict(nuts or {})
    unknown = set(nuts) - {"target_accept", "max_treedepth", "adaptation"}
    if unknown:
        raise TypeError(f"pm.sample(nuts=...) got unknown key(s) {sorted(unknown)}; accepted: "
                        "target_accept, max_treedepth, adaptation")
    if isinstance(step, (list, tuple)):
        step = step[0] if len(step) == 1 else step
    if step is not None and not isinstance(step, NUTS):
        raise TypeError(f"pm.sample(step=...): jaxmc supports pm.NUTS(...) steps, found {step!r}")
    if step is not None:
        target_accept, max_treedepth = step.target_accept, step.max_treedepth
        nuts.setdefault("adaptation", step.adaptation)
    target_accept = nuts.get("target_accept", target_accept)
    max_treedepth = nuts.get("max_treedepth", max_treedepth)
    adaptation = nuts.get("adaptation", DEFAULTS.adaptation)
    if adaptation not in ADAPTATIONS:
        raise ValueError(f"nuts adaptation must be one of {tuple(ADAPTATIONS)}, found {adaptation!r}")
    if not 0 < target_accept < 1:
        raise ValueError(f"target_accept must be in (0, 1), found {target_accept}")
    if nuts_sampler not in (None, "pymc", "jaxmc"):
        warnings.warn(f"nuts_sampler={nuts_sampler!r} is ignored: jaxmc always uses its own NUTS")
    tune = DEFAULT_TUNE if tune is None else tune
    draws, tune, chains = int(draws), int(tune), int(chains)
    if draws < 0 or tune < 0 or chains < 1:
        raise ValueError(f"draws and tune must be >= 0 and chains >= 1 (found {draws}, {tune}, {chains})")
    cores = int(cores) if cores is not None else min(chains, os.cpu_count() or 1)
    chain_method = chain_method or default_chain_method(chains)
    if chain_method not in CHAIN_METHODS:
        raise ValueError(f"chain_method must be one of {CHAIN_METHODS}, found {chain_method!r}")
    settings = SampleSettings(draws, tune, chains, float(target_accept), int(max_treedepth), adaptation,
                              chain_method, cores)

    cm = model.compiled()
    _check_sampleable(model, cm)
    data = {k: jnp.asarray(v) for k, v in model.data_values().items()}
    keys = chain_keys(random_seed, chains)
    base, jitter = starting_points(model, cm, data, chains, initvals)

    names = _output_names(model, var_names)
    t0 = time.perf_counter()
    result = _run(cm, data, base, jitter, keys, settings, names, progressbar and not quiet)
    sampling_time = time.perf_counter() - t0
    posterior, stats, n_done, interrupted = result

    n_tuned = min(n_done, tune)
    out_post = {k: v[:, n_tuned:] for k, v in posterior.items()}
    out_stats = {k: v[:, n_tuned:] for k, v in stats.items()}
    warm_post = {k: v[:, :n_tuned] for k, v in posterior.items()}
    warm_stats = {k: v[:, :n_tuned] for k, v in stats.items()}
    attrs = {"sampling_time": sampling_time, "tuning_steps": tune, "adaptation": adaptation,
             "chain_method": chain_method, "n_draws": out_post[next(iter(out_post))].shape[1]
             if out_post else 0}
    if not return_inferencedata:
        return {"posterior": out_post, "sample_stats": out_stats}

    from jaxmc import convert

    idata_kwargs = dict(idata_kwargs or {})
    groups = {"posterior": out_post, "sample_stats": out_stats,
              "observed_data": convert.observed_data(model), "constant_data": convert.constant_data(model)}
    if not discard_tuned_samples:
        groups["warmup_posterior"] = warm_post
        groups["warmup_sample_stats"] = warm_stats
    idata = convert.to_inference_data(model, groups, attrs=attrs)
    if idata_kwargs.pop("log_likelihood", False):
        compute_log_likelihood(idata, model=model, progressbar=False)
    if compute_convergence_checks and not interrupted and not quiet:
        _warn_convergence(model, out_post, out_stats, settings)
    return idata


def default_chain_method(chains: int) -> str:
    """On CPU, one single-chain program run by `cores` threads ("parallel"): it compiles faster and runs
    faster than vectorized chains, whose batched while-loops wait for the longest tree (BENCHMARKS.md). On
    accelerators, vectorized chains."""
    return "parallel" if jax.default_backend() == "cpu" else "vectorized"


def chain_keys(random_seed, chains: int) -> np.ndarray:
    """Independent raw PRNG keys (uint32 pairs) per chain from the seed, made on the host (no compile)."""
    if isinstance(random_seed, (list, tuple)):
        random_seed = int(random_seed[0])
    if isinstance(random_seed, np.random.Generator):
        random_seed = int(random_seed.integers(2**31))
    seq = np.random.SeedSequence(None if random_seed is None else int(random_seed))
    return seq.generate_state(2 * chains, dtype=np.uint32).reshape(chains, 2)


def _check_sampleable(model, cm):
    simulators = [rv.name for rv in model.basic_RVs if type(rv.owner).__name__ == "Simulator"]
    if simulators:
        raise SamplingError(f"{simulators} are pm.Simulator variables: they have no gradient, and jaxmc has no "
                            "likelihood-free sampler (PyMC uses pm.sample_smc for them).")
    if cm.size == 0:
        raise SamplingError("The model has no free variables to sample; use pm.sample_prior_predictive")


def _output_names(model, var_names):
    all_names = [rv.name for rv in model.free_RVs] + [d.name for d in model.deterministics]
    if var_names is None:
        return all_names
    missing = [n for n in var_names if n not in all_names]
    if missing:
        raise KeyError(f"var_names {missing} are not free variables or deterministics; available: {all_names}")
    return [n for n in all_names if n in var_names]


# ---------------------------------------------------------------------- initial points
def starting_points(model, cm, data, chains, initvals=None):
    """Per chain: the support points (or initvals) in the unconstrained space, and where to jitter them.

    The init program adds uniform(-1, 1) jitter to the continuous coordinates (none with initvals) and
    retries up to 10 times until the log density and its gradient are finite."""
    base = np.asarray(cm.initial_flat())
    jitter = np.ones(cm.size, base.dtype)
    for s in cm.slots:
        if s.rv.owner.discrete:
            jitter[s.start:s.stop] = 0.0  # discrete values start at their support point
    if initvals is None:
        return np.broadcast_to(base, (chains, cm.size)).copy(), jitter
    iv_list = initvals if isinstance(initvals, (list, tuple)) else [initvals] * chains
    if len(iv_list) != chains:
        raise ValueError(f"initvals: {len(iv_list)} dicts for {chains} chains")
    bases = []
    for iv in iv_list:
        point = cm.flat_to_point(base)
        for name, value in iv.items():
            rv = model.named_vars.get(name)
            slot = cm.slot_of.get(rv) if rv is not None else None
            if slot is None:
                raise KeyError(f"initvals: {name!r} is not a free variable of the model")
            u = slot.transform.forward(jnp.asarray(value), *_params_at(cm, rv, base, data)) \
                if slot.transform is not None else jnp.asarray(value)
            point[slot.name] = np.broadcast_to(np.asarray(u), slot.shape)
        bases.append(np.asarray(cm.point_to_flat(point)))
    return np.stack(bases), jitter * 0.0


def _find_start(logp, key, base, jitter, data, tries: int = 10):
    """In the init program: jittered starting point with finite log density ``logp(x, data)`` and gradient
    (or the last try)."""
    def attempt(carry):
        i, x, ok, key = carry
        key, sub = jax.random.split(key)
        cand = base + jax.random.uniform(sub, base.shape, base.dtype, -1.0, 1.0) * jitter
        lp, g = jax.value_and_grad(logp)(cand, data)
        good = jnp.isfinite(lp) & jnp.all(jnp.isfinite(g))
        return i + 1, cand, good, key

    _, x, ok, _ = jax.lax.while_loop(lambda c: (c[0] < tries) & ~c[2], attempt,
                                     (0, base, jnp.bool_(False), key))
    return x, ok


def _start_failed(cm, x, ok, data, tries: int = 10):
    bad_chain = int(np.flatnonzero(~np.asarray(ok))[0])
    point = cm.flat_to_point(np.asarray(x)[bad_chain])
    terms = cm.point_function("terms")(point)
    bad = [k for k, v in terms.items() if not np.isfinite(v)]
    grad = np.asarray(jax.grad(cm.logp)(jnp.asarray(cm.point_to_flat(point)), data))
    bad_grad = [s.name for s in cm.slots if not np.all(np.isfinite(grad[s.start:s.stop]))]
    return SamplingError(
        "Initial evaluation of the model failed: no finite starting point after "
        f"{tries} tries. Log density not finite for {bad or 'none'}; gradient not finite for "
        f"{bad_grad or 'none'}. Starting point: "
        f"{ {k: np.round(v, 3).tolist() for k, v in point.items()} }. Use model.debug() to see why, "
        "or pass initvals=."
    )


def _params_at(cm, rv, flat, data):
    env, walked = cm._walk(flat, data)
    for r, _, params, _ in walked:
        if r is rv:
            return params
    return []


# ---------------------------------------------------------------------- the compiled run
MAX_CHUNK = 500  # most steps per compiled call; the progress bar updates between calls
CHUNK_SECONDS = 0.25  # aimed-at wall time of one call, so that slow models still show progress
CHUNK_BYTES = 16 * 2**20  # most output bytes of one call (large deterministics give shorter chunks); well
# under the size up to which XLA compiles the chunk loop into one CPU kernel (jaxmc.xla)


def _chunk_length(model, names) -> int:
    """Steps of the compiled chunk program: fixed per model (runs of any length share one program; steps
    past the requested ones are skipped), at most MAX_CHUNK and CHUNK_BYTES of output per chain."""
    per_step = 8 * (16 + sum(int(np.prod(model.named_vars[n].aval.shape)) for n in names))
    return int(np.clip(CHUNK_BYTES // per_step, 10, MAX_CHUNK))


class _Pacer:
    """How many steps the next call runs: few at first, then about CHUNK_SECONDS' worth, up to the chunk."""

    def __init__(self, chunk: int):
        self.chunk = chunk
        self.n = min(chunk, 20)

    def timed(self, n: int, seconds: float) -> None:
        per_step = max(seconds, 1e-6) / max(n, 1)
        self.n = int(np.clip(CHUNK_SECONDS / per_step, 1, self.chunk))


def _drive(call, state, total: int, chunk: int, record, stopped=lambda: False):
    """Run steps 0 .. total - 1 through `call(state, start, stop) -> (state, out)` in calls paced by a
    `_Pacer`; `record(start, n, out)` gets each call's output on the host (leading step axis not cut)."""
    pacer, start = _Pacer(chunk), 0
    while start < total and not stopped():
        n = min(pacer.n, total - start)
        t0 = time.perf_counter()
        state, out = call(state, jnp.int32(start), jnp.int32(start + n))
        out = jax.device_get(out)
        pacer.timed(n, time.perf_counter() - t0)
        record(start, n, out)
        start += n
    return state


def _build_programs(cm, settings: SampleSettings, names, chunk: int, vectorized: bool):
    """jit-compiled (init, run_chunk), vmapped over chains when `vectorized`; cached on the model so that
    sampling again (new data of the same shapes, another seed) reuses the compiled program."""
    key = ("sample", cm.model._version, settings.tune, settings.nuts_options, tuple(names), chunk, vectorized)
    cache = cm.model._compiled
    if key not in cache:
        cache[key] = _make_programs(cm, settings, names, chunk, vectorized)
    return cache[key]


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
        x, ok = _find_start(logp, k_start, base, jitter, data)
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


def _executables(cm, settings, names, chunk, vectorized, keys, base, jitter, data):
    """Ahead-of-time compiled (init, run_chunk) for these argument shapes, compiled concurrently (XLA
    releases the GIL while it compiles) and cached on the model."""
    init, run = _build_programs(cm, settings, names, chunk, vectorized)
    init_args = (keys, base, jitter, data) if vectorized else (keys[0], base[0], jitter, data)
    sig = jax.tree_util.tree_map(lambda a: (jnp.shape(a), jnp.result_type(a)), init_args)
    cache_key = ("exe", id(init), str(sig))
    cache = cm.model._compiled
    if cache_key not in cache:
        # the chunk program compiles longest: start it first, and lower the init program meanwhile
        state = jax.eval_shape(init, *init_args)[0]
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            run_exe = pool.submit(run.lower(state, init_args[0], jnp.int32(0), jnp.int32(0), data).compile)
            init_exe = pool.submit(init.lower(*init_args).compile)
            cache[cache_key] = (init_exe.result(), run_exe.result())
    return cache[cache_key]


def _run(cm, data, base, jitter, keys, settings: SampleSettings, names, progressbar):
    total = settings.tune + settings.draws
    chunk = _chunk_length(cm.model, names)
    vectorized = settings.chain_method == "vectorized"
    init, run = _executables(cm, settings, names, chunk, vectorized, keys, base, jitter, data)
    progress = _Progress(settings, progressbar)
    interrupted = False
    if vectorized:
        state, x, ok = init(keys, base, jitter, data)
        starts = [(state, x, ok)]
    else:
        starts = [init(keys[c], base[c], jitter, data) for c in range(len(keys))]
        x = np.stack([np.asarray(s[1]) for s in starts])
        ok = np.array([bool(s[2]) for s in starts])
    if not np.all(np.asarray(ok)):
        raise _start_failed(cm, x, ok, data)
    per_chain: list[list] = [[] for _ in range(len(keys))]
    try:
        with progress:
            if vectorized:
                def record(start, n, out):
                    for c in range(len(keys)):
                        per_chain[c].append(jax.tree_util.tree_map(lambda a: a[c, :n], out))
                    progress.update(start, n, out[1])

                _drive(lambda st, a, b: run(st, keys, a, b, data), state, total, chunk, record)
            else:
                interrupted = _run_chains_separately(run, [s[0] for s in starts], keys, data, total, chunk,
                                                     settings, progress, per_chain)
    except KeyboardInterrupt:
        interrupted = True
    if interrupted:
        warnings.warn("Sampling interrupted: returning the draws made so far.")
    n_done = min(sum(next(iter(o[1].values())).shape[0] for o in p) for p in per_chain)
    if n_done == 0:
        raise SamplingError("Sampling was interrupted before the first chunk of draws finished.")

    def gather(part, key):
        return np.stack([np.concatenate([o[part][key] for o in p])[:n_done] for p in per_chain])

    posterior = {n: gather(0, n) for n in names}
    stats = {n: gather(1, n) for n in STAT_NAMES}
    return posterior, stats, n_done, interrupted


def _run_chains_separately(run, states, keys, data, total, chunk, settings, progress, per_chain) -> bool:
    """One chain per call of the same single-chain program; threads run `cores` chains at once. Appends
    each call's (values, stats) to `per_chain[c]`; returns whether Ctrl-C stopped the run."""
    n = len(keys)
    stop = threading.Event()

    def one(c):
        def record(start, m, out):
            out = jax.tree_util.tree_map(lambda a: a[:m], out)
            per_chain[c].append(out)
            progress.update(start, m, out[1], chains=1)

        _drive(lambda st, a, b: run(st, keys[c], a, b, data), states[c], total, chunk, record, stop.is_set)
        return c

    workers = settings.cores if settings.chain_method == "parallel" else 1
    interrupted = False
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(one, c) for c in range(n)]
        try:
            for f in futures:
                f.result()
        except KeyboardInterrupt:  # finish the chunks under way, keep what every chain has drawn
            interrupted = True
            stop.set()
            for f in futures:
                try:
                    f.result()
                except KeyboardInterrupt:
                    pass
    return interrupted


class _Progress:
    """rich progress as PyMC 6 shows it: one bar over warm-up and draws with a gap at the boundary, the phase,
    the step count within the phase per chain, draws per second, divergences, step size; silent when
    disabled."""

    def __init__(self, settings: SampleSettings, enabled: bool):
        self.settings = settings
        self.enabled = enabled
        self.done = 0
        self.divergences = 0
        self.t0 = time.perf_counter()
        self._bar = None

    def __enter__(self):
        if self.enabled:
            from rich.progress import Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("[bold]{task.fields[phase]}"), _tune_draw_bar(self.settings.tune, self.settings.draws),
                                 TextColumn("{task.fields[count]}"),
                                 TextColumn("{task.fields[rate]} draws/s"),
                                 TextColumn("divergences {task.fields[div]}"),
                                 TextColumn("step {task.fields[step]}"), TimeElapsedColumn(),
                                 TimeRemainingColumn(), transient=False)
            self._bar.__enter__()
            total = (self.settings.tune + self.settings.draws) * self.settings.chains
            phase = "tune" if self.settings.tune else "draw"
            n = self.settings.tune or self.settings.draws
            self._task = self._bar.add_task("sampling", total=total, phase=phase, count=f"0/{n}", rate="-",
                                            div=0, step="-")
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def update(self, start, n, stats, chains=None):
        chains = self.settings.chains if chains is None else chains
        stop = start + n
        tune = self.settings.tune
        div = np.asarray(stats["diverging"])[..., :n]
        if stop > tune:
            self.divergences += int(div[..., max(0, tune - start):].sum())
        self.done += n * chains
        if self._bar is None:
            return
        elapsed = time.perf_counter() - self.t0
        per_chain = self.done // self.settings.chains
        if per_chain < tune or not self.settings.draws:
            phase, count = "tune", f"{per_chain}/{tune}"
        else:
            phase, count = "draw", f"{per_chain - tune}/{self.settings.draws}"
        step = float(np.mean(np.asarray(stats["step_size"])[..., n - 1]))
        self._bar.update(self._task, completed=self.done, phase=phase, count=count,
                         rate=f"{self.done / elapsed:,.0f}", div=self.divergences, step=f"{step:.3g}")


def _tune_draw_bar(tune: int, draws: int):
    """A rich bar column drawn in two parts, warm-up and draws, with a gap at the boundary."""
    from rich.progress import BarColumn, ProgressBar
    from rich.table import Table

    class TuneDrawBar(BarColumn):
        def render(self, task):
            width = self.bar_width or 40
            w_tune = int(round((width - 1) * tune / max(tune + draws, 1)))
            if not 0 < w_tune < width - 1:
                return super().render(task)
            n_tune = task.total * tune / (tune + draws)
            style = {"style": self.style, "complete_style": self.complete_style,
                     "finished_style": self.finished_style}
            grid = Table.grid(padding=0)
            grid.add_row(ProgressBar(total=n_tune, completed=min(task.completed, n_tune), width=w_tune, **style),
                         " ", ProgressBar(total=task.total - n_tune, completed=max(0.0, task.completed - n_tune),
                                          width=width - 1 - w_tune, **style))
            return grid

    return TuneDrawBar()


# ---------------------------------------------------------------------- after sampling
def _warn_convergence(model, posterior, stats, settings: SampleSettings):
    n_div = int(np.asarray(stats["diverging"]).sum())
    if n_div:
        warnings.warn(f"There were {n_div} divergences after tuning. Increase `target_accept` or "
                      "reparameterize.", stacklevel=3)
    n_max = int(np.asarray(stats["reached_max_treedepth"]).sum())
    if n_max:
        warnings.warn(f"{n_max} draws reached the maximum tree depth ({settings.max_treedepth}). "
                      "Increase `max_treedepth`, increase `target_accept` or reparameterize.", stacklevel=3)
    if settings.chains < 2 or settings.draws < 50:
        if settings.chains < 2:
            warnings.warn("Only one chain was sampled: convergence can't be checked with r_hat. Use "
                          "chains >= 2.", stacklevel=3)
        return
    from jaxmc.diagnostics import rhat_and_ess_bulk

    free = [np.asarray(posterior[rv.name]) for rv in model.free_RVs if rv.name in posterior]
    free = [v.reshape(v.shape[0], v.shape[1], -1) for v in free if v.size]
    if not free:
        return
    draws = np.concatenate(free, axis=2)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-NaN (constant) parameters give NaN, as in ArviZ
        rhats, ess = rhat_and_ess_bulk(draws)
        max_rhat, min_ess = float(np.nanmax(rhats)), float(np.nanmin(ess))
    if max_rhat > 1.01:
        warnings.warn(f"The rhat statistic is larger than 1.01 for some parameters (max {max_rhat:.3f}). "
                      "This indicates problems during sampling.", stacklevel=3)
    if min_ess < 100 * settings.chains:
        warnings.warn(f"The effective sample size per chain is smaller than 100 for some parameters "
                      f"(min ESS {min_ess:.0f} over {settings.chains} chains). A higher number is needed "
                      "for reliable rhat and ess computation.", stacklevel=3)


def compute_log_likelihood(idata, var_names=None, extend_inferencedata: bool = True, model=None,
                           progressbar: bool = False):
    """Pointwise log likelihood of the observed variables for every posterior draw (PyMC's API)."""
    from jaxmc import convert
    from jaxmc.forward import posterior_values

    model = modelcontext(model)
    cm = model.compiled()
    names = [rv.name for rv in model.observed_RVs]
    if var_names is not None:
        bad = [n for n in var_names if n not in names]
        if bad:
            raise KeyError(f"compute_log_likelihood: {bad} are not observed variables; observed: {names}")
        names = list(var_names)
    values, (nchain, ndraw) = posterior_values(idata, model)
    data = {k: jnp.asarray(v) for k, v in model.data_values().items()}
    fn = jax.jit(jax.vmap(lambda v: cm.loglik_from_values(v, data, tuple(names))))
    flat = {k: v.reshape(nchain * ndraw, *v.shape[2:]) for k, v in values.items()}
    out = _map_in_chunks(fn, flat, nchain * ndraw)
    ll = {k: v.reshape(nchain, ndraw, *v.shape[1:]) for k, v in out.items()}
    if not extend_inferencedata:
        return convert.to_inference_data(model, {"log_likelihood": ll})
    return convert.add_groups(idata, model, {"log_likelihood": ll})


def _map_in_chunks(fn, flat: dict, n: int, max_bytes: int = 256 * 2**20):
    """Apply a vmapped fn over the leading axis in chunks of bounded output size."""
    probe = jax.eval_shape(fn, {k: jax.ShapeDtypeStruct((1, *v.shape[1:]), v.dtype) for k, v in flat.items()})
    per_row = sum(int(np.prod(a.shape)) * a.dtype.itemsize for a in jax.tree_util.tree_leaves(probe))
    size = int(max(1, min(n, max_bytes // max(per_row, 1))))
    pieces = []
    for s in range(0, n, size):
        part = {k: v[s:s + size] for k, v in flat.items()}
        if s + size > n and s > 0:  # pad the last chunk: one compiled shape for all chunks
            pad = s + size - n
            part = {k: np.concatenate([v, np.repeat(v[-1:], pad, 0)]) for k, v in part.items()}
            res = jax.device_get(fn(part))
            res = {k: v[: size - pad] for k, v in res.items()}
        else:
            res = jax.device_get(fn(part))
        pieces.append(res)
    return {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}

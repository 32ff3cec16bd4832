"""Runs the compiled chunk program until every step is done: paced calls, chains vectorized, in threads or
one after the other, the progress bar, Ctrl-C."""

from __future__ import annotations

import concurrent.futures
import threading
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.nuts import STAT_NAMES
from jaxmc.progress import SamplingProgress
from jaxmc.sampling.programs import chunk_length, executables
from jaxmc.sampling.settings import SampleSettings, SamplingError
from jaxmc.sampling.start import start_failed


CHUNK_SECONDS = 0.25  # aimed-at wall time of one call, so that slow models still show progress


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


def run_chains(cm, data, base, jitter, keys, settings: SampleSettings, names, progressbar):
    total = settings.tune + settings.draws
    chunk = chunk_length(cm.model, names)
    vectorized = settings.chain_method == "vectorized"
    init, run = executables(cm, settings, names, chunk, vectorized, keys, base, jitter, data)
    progress = SamplingProgress(settings, progressbar)
    interrupted = False
    if vectorized:
        state, x, ok = init(keys, base, jitter, data)
        starts = [(state, x, ok)]
    else:
        starts = [init(keys[c], base[c], jitter, data) for c in range(len(keys))]
        x = np.stack([np.asarray(s[1]) for s in starts])
        ok = np.array([bool(s[2]) for s in starts])
    if not np.all(np.asarray(ok)):
        raise start_failed(cm, x, ok, data)
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


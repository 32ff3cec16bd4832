"""Runs the compiled chunk program until every step is done: paced calls, chains vectorized, in threads or
one after the other, output written into preallocated arrays, the progress bar, Ctrl-C and checkpoints."""

from __future__ import annotations

import concurrent.futures
import threading
import time
import warnings
from typing import NamedTuple

import jax
import numpy as np

from jaxmc.progress import SamplingProgress
from jaxmc.interrupt import Interrupt, in_background
from jaxmc.iterate import Pacer
from jaxmc.sampling.converge import check, next_draws, status
from jaxmc.sampling.programs import chunk_length, executables, output_avals
from jaxmc.sampling.settings import SampleSettings
from jaxmc.sampling.start import start_failed


class SampleResult(NamedTuple):
    """What a run produced: (chain, draw) arrays by name, the warm-up ones (None when not kept), the warm-up
    steps and draws each chain finished, and whether Ctrl-C stopped the run."""

    posterior: dict
    stats: dict
    warmup_posterior: dict | None
    warmup_stats: dict | None
    tuned: np.ndarray
    drawn: np.ndarray
    interrupted: bool
    until: tuple | None = None  # with target_ess/max_rhat: (draws per chain at the last check, converge.Check)


def _drive(call, state, total: int, chunk: int, record, stopped=lambda: False, start: int = 0):
    """Run steps start .. total - 1 through `call(state, start, stop) -> (state, out)` in calls paced by a
    `Pacer`; `record(start, n, out, state)` gets each call's output on the host (leading step axis not cut)."""
    pacer = Pacer(chunk)
    paced = jax.process_count() == 1  # several processes make the same calls: whole chunks (docs/scale.md)
    while start < total and not stopped():
        n = min(pacer.n if paced else chunk, total - start)
        t0 = time.perf_counter()
        state, out = call(state, np.int32(start), np.int32(start + n))  # host scalars (jax ones would compile a cast)
        out = jax.device_get(out)
        pacer.timed(n, time.perf_counter() - t0)
        record(start, n, out, state)
        start += n
    return state


class Output:
    """Host arrays of the run, allocated once at their final size: (chain, draw, ...) per variable and stat,
    and (chain, tune, ...) for the warm-up when kept; `done[c]` counts the steps chain c has written."""

    def __init__(self, avals, chains: int, tune: int, draws: int, keep_warmup: bool):
        values, stats = avals
        self.tune, self.draws = tune, draws

        def alloc(avals, n):
            return {k: np.empty((chains, n, *a.shape), a.dtype) for k, a in avals.items()}

        self.parts = {"posterior": alloc(values, draws), "stats": alloc(stats, draws)}
        if keep_warmup:
            self.parts.update(warmup_posterior=alloc(values, tune), warmup_stats=alloc(stats, tune))
        self.done = np.zeros(chains, np.int64)

    def write(self, rows, start: int, n: int, out) -> None:
        """Steps start .. start + n - 1 of the chains `rows` (a slice); `out` = (values, stats) with axes
        (chain, step, ...)."""
        stop, t = start + n, self.tune
        for part, src in zip(("posterior", "stats"), out):
            if start < t and "warmup_" + part in self.parts:
                w = min(stop, t)
                for k, dst in self.parts["warmup_" + part].items():
                    dst[rows, start:w] = src[k][:, :w - start]
            if stop > t:
                a = max(start, t)
                for k, dst in self.parts[part].items():
                    dst[rows, a - t:stop - t] = src[k][:, a - start:n]
        self.done[rows] = stop

    def counts(self, done=None):
        """Per chain: (warm-up steps, draws) finished."""
        done = self.done if done is None else done
        return np.minimum(done, self.tune), np.maximum(done - self.tune, 0)

    def snapshot(self, done) -> dict:
        """The written part of every array (views), for a checkpoint."""
        tuned, drawn = self.counts(done)
        out = {}
        for part, arrays in self.parts.items():
            n = int((tuned if part.startswith("warmup") else drawn).max())
            out.update({(part, k): a[:, :n] for k, a in arrays.items()})
        return out

    def grow(self, draws: int) -> None:
        """Room for `draws` draws per chain (sampling until converged), the draws so far kept."""
        for part in ("posterior", "stats"):
            for k, a in self.parts[part].items():
                self.parts[part][k] = new = np.empty((a.shape[0], draws, *a.shape[2:]), a.dtype)
                new[:, :a.shape[1]] = a
        self.draws = draws

    def restore(self, arrays: dict, done) -> None:
        longest = max((a.shape[1] for (part, _), a in arrays.items() if part == "posterior"), default=0)
        if longest > self.draws:  # a checkpoint of a run that drew past `draws` (target_ess)
            self.grow(longest)
        for (part, k), a in arrays.items():
            self.parts[part][k][:, :a.shape[1]] = a
        self.done[:] = done

    def finish(self, interrupted: bool) -> SampleResult:
        """The arrays as they are when every chain is done; else copies cut to the longest chain, the
        missing draws of shorter chains NaN (integer and boolean arrays then become float)."""
        tuned, drawn = self.counts()
        parts = {}
        for part, arrays in self.parts.items():
            counts = tuned if part.startswith("warmup") else drawn
            parts[part] = {k: _trim(arrays.pop(k), counts) for k in list(arrays)}
        return SampleResult(parts["posterior"], parts["stats"], parts.get("warmup_posterior"),
                            parts.get("warmup_stats"), tuned, drawn, interrupted)


def _trim(a: np.ndarray, counts) -> np.ndarray:
    n = int(counts.max()) if counts.size else 0
    if n == a.shape[1] and np.all(counts == n):
        return a
    if np.all(counts == n):
        return a[:, :n].copy()  # a copy: a view would keep the whole buffer alive
    out = a[:, :n].astype(a.dtype if np.issubdtype(a.dtype, np.inexact) else np.float64)
    for c, m in enumerate(counts):
        out[c, m:] = np.nan
    return out


def run_chains(cm, data, base, jitter, keys, settings: SampleSettings, names, progressbar,
               keep_warmup: bool = False, checkpoint=None, placement=None) -> SampleResult:
    """Compile (in the background), start and run every chain; Ctrl-C at any point returns what is done.
    A `placement` over several devices (jaxmc.sharding) runs the partitioned programs on them."""
    total = settings.tune + settings.draws
    chunk = chunk_length(cm.model, names)
    vectorized = settings.chain_method == "vectorized"
    saved = checkpoint.saved if checkpoint is not None else None
    if saved is not None:
        keys = saved.keys
    output = Output(output_avals(cm, settings, names, data, base.dtype), len(keys), settings.tune, settings.draws,
                    keep_warmup)
    until = None
    with Interrupt() as stop:
        compiled = None if stop.is_set() else in_background(executables, cm, settings, names, chunk, vectorized,
                                                             keys, base, jitter, data, placement)
        if compiled is not None and stop.wait([compiled]):
            try:
                until = _run(compiled.result(), cm, data, base, jitter, keys, settings, progressbar, output,
                             checkpoint, stop, vectorized, chunk, total, placement)
            except KeyboardInterrupt:  # raised by code of the user's (a progress callback) or outside the main thread
                stop.requested.set()
    interrupted = stop.is_set()
    result = output.finish(interrupted)._replace(until=until)
    if interrupted:
        message = interrupted_message(result, settings._replace(draws=output.draws), keep_warmup)
        warnings.warn(message, stacklevel=3)  # the caller of pm.sample
    return result


def _run(executables_, cm, data, base, jitter, keys, settings, progressbar, output, checkpoint, stop, vectorized,
         chunk, total, placement=None):
    init, run = executables_
    if placement is not None and placement.spans:  # global arrays (several processes take no host arrays)
        put, cs = placement.put, placement.chain_sharding if vectorized else None
        init_exe, run_exe = init, run
        init = lambda k, b, j, d: init_exe(put(k, cs), put(b, cs), put(j), d)  # noqa: E731
        run = lambda st, k, a, b, d: run_exe(st, put(k, cs), put(a), put(b), d)  # noqa: E731
    saved = checkpoint.saved if checkpoint is not None else None
    if vectorized:
        state, x, ok = init(keys, base, jitter, data)
    else:
        starts = [init(keys[c], base[c], jitter, data) for c in range(len(keys))]
        state = [s[0] for s in starts]
        x = np.stack([np.asarray(s[1]) for s in starts])
        ok = np.array([bool(s[2]) for s in starts])
    if not np.all(np.asarray(ok)):
        raise start_failed(cm, x, ok, data)
    if saved is not None:
        state = saved.states(state, vectorized)
        output.restore(saved.arrays, saved.done)
    progress = SamplingProgress(settings, progressbar)
    progress.done = int(output.done.sum())
    until, targets = None, settings.targets

    def record(start, n, out, st):  # vectorized: every chain's output of one call
        output.write(slice(None), start, n, out)
        progress.update(start, n, out[1])
        if checkpoint is not None and checkpoint.due():
            checkpoint.save(keys, jax.device_get(st), output.done.copy(), output)

    with progress:
        while True:  # one round without targets; with them, rounds until they are met (jaxmc.sampling.converge)
            if vectorized:
                state = _drive(lambda st, a, b: run(st, keys, a, b, data), state, total, chunk, record,
                               stop.is_set, int(output.done.min()))
                if checkpoint is not None and (stop.is_set() or checkpoint.due()):  # always after Ctrl-C
                    checkpoint.save(keys, jax.device_get(state), output.done.copy(), output)
            else:
                state = _run_separately(run, state, keys, data, total, chunk, settings, progress, output,
                                        checkpoint, stop)
            if targets is None or stop.is_set():
                return until
            n = total - settings.tune
            until = (n, check(cm.model, output.parts["posterior"], n, targets))
            more = next_draws(targets, n, until[1])
            progress.note(("converged: " if until[1].met else "") + status(targets, until[1]))
            if more is None:
                return until
            if more > output.draws:  # else a resumed run drew them before: the rounds replay its checks
                output.grow(more)
            progress.extend(more)
            total = settings.tune + more


def _run_separately(run, states, keys, data, total, chunk, settings, progress, output, checkpoint, stop):
    """One chain per call of the same single-chain program; threads run `cores` chains at once (one with
    "sequential"), the main thread waits, watching for Ctrl-C and writing checkpoints."""
    lock, failed = threading.Lock(), threading.Event()
    latest = list(states)

    def one(c):
        def record(start, m, out, st):
            values, stats = jax.tree_util.tree_map(lambda a: a[None], out)
            with lock:
                output.write(slice(c, c + 1), start, m, (values, stats))
                latest[c] = st
            progress.update(start, m, stats, chains=1)

        _drive(lambda st, a, b: run(st, keys[c], a, b, data), states[c], total, chunk, record,
               lambda: stop.is_set() or failed.is_set(), int(output.done[c]))

    def watch():
        if any(f.done() and not f.cancelled() and f.exception() is not None for f in futures):
            failed.set()  # a chain raised: the others stop too, and the error is raised below
        save()

    def save(force=False):
        if checkpoint is not None and (force or checkpoint.due()):
            with lock:
                done, current = output.done.copy(), list(latest)
            host = jax.device_get(current)
            checkpoint.save(keys, jax.tree_util.tree_map(lambda *a: np.stack(a), *host), done, output)

    workers = max(1, settings.cores if settings.chain_method == "parallel" else 1)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(one, c) for c in range(len(keys))]
        if not stop.wait(futures, every=watch):
            # Ctrl-C: chains not started stay so; the calls under way end (each within about CHUNK_SECONDS)
            running = [f for f in futures if not f.cancel()]
            concurrent.futures.wait(running)
        for f in futures:
            if not f.cancelled() and f.exception() is not None:
                raise f.exception()
    finally:
        pool.shutdown(wait=False)
    save(force=stop.is_set())  # always after Ctrl-C
    return latest


def interrupted_message(result: SampleResult, settings: SampleSettings, keep_warmup: bool) -> str:
    """The warning after Ctrl-C, with the true counts (per chain where they differ)."""
    tuned, drawn = result.tuned, result.drawn

    def counts(a, of):
        return f"{int(a[0])} of {of}" if np.all(a == a[0]) else f"{a.tolist()} of {of} (per chain)"

    msg = (f"Sampling interrupted: returning {counts(drawn, settings.draws)} draws and "
           f"{counts(tuned, settings.tune)} warm-up steps")
    if not np.all(drawn == drawn[0]) or (keep_warmup and not np.all(tuned == tuned[0])):
        msg += "; chains shorter than the longest are padded with NaN (integer and boolean arrays become float)"
    if drawn.max() == 0 and tuned.max() > 0 and not keep_warmup:
        msg += ("; the run stopped during warm-up, so the posterior is empty: pass discard_tuned_samples=False "
                "to keep warm-up draws")
    return msg + "."

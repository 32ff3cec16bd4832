"""Runs an iterative compiled algorithm (optimisation, variational fit, SMC) in paced calls of one jitted
chunk function: whole loops inside JAX, a progress bar and Ctrl-C between calls."""

from __future__ import annotations

import time
import warnings
from typing import Callable, NamedTuple

import jax
import numpy as np

from jaxmc.interrupt import Interrupt
from jaxmc.progress import LoopProgress

CHUNK_SECONDS = 0.25  # aimed-at wall time of one call, so that slow models still show progress


class Pacer:
    """How many steps the next call runs: few at first, then about CHUNK_SECONDS' worth, up to `chunk`."""

    def __init__(self, chunk: int, first: int = 20):
        self.chunk = chunk
        self.n = min(chunk, first)

    def timed(self, n: int, seconds: float) -> None:
        per_step = max(seconds, 1e-6) / max(n, 1)
        self.n = int(np.clip(CHUNK_SECONDS / per_step, 1, self.chunk))


class LoopResult(NamedTuple):
    """The state after the last finished call, the iterations done, whether the loop ended early because
    `finished` said so, and whether Ctrl-C stopped it."""

    state: object
    done: int
    finished: bool
    interrupted: bool


def run_loop(run_chunk: Callable, state, total: int, *, description: str = "", progressbar: bool = True,
             record: Callable | None = None, status: Callable | None = None, finished: Callable | None = None,
             chunk: int = 1000, start: int = 0, bar_position: Callable | None = None) -> LoopResult:
    """Iterations start .. total - 1 of `run_chunk(state, start, stop) -> (state, out)`, a jitted function that
    runs iterations start .. stop - 1 inside one compiled loop (a `lax.while_loop` or `fori_loop`).

    Between calls, on the host: `record(start, n, out, state)` keeps what the caller needs (e.g. the loss
    history), `status(out, state) -> str` is shown beside the bar, and `finished(out, state) -> bool` ends the
    loop early (convergence, a non-finite loss). `bar_position(out, state) -> (completed, total)` sets the bar
    in other units than iterations (SMC: beta out of 1). Ctrl-C stops between calls; the state of the last finished
    call comes back with `interrupted=True`, so the caller returns what it has.
    """
    pacer = Pacer(chunk)
    done, ended = start, False
    with Interrupt() as stop, LoopProgress(description, total, progressbar, count=bar_position is None) as bar:
        while done < total and not stop.is_set():
            n = min(pacer.n, total - done)
            t0 = time.perf_counter()
            try:
                new_state, out = run_chunk(state, np.int32(done), np.int32(done + n))
                out = jax.device_get(out)
            except KeyboardInterrupt:  # raised outside the main thread's handler (e.g. by a user callback)
                stop.requested.set()
                break
            pacer.timed(n, time.perf_counter() - t0)
            state = new_state
            if record is not None:
                record(done, n, out, state)
            done += n
            completed, bar_total = bar_position(out, state) if bar_position is not None else (done, None)
            bar.update(completed, status(out, state) if status is not None else "", total=bar_total)
            if finished is not None and finished(out, state):
                ended = True
                if bar_position is None:  # converged early: the bar ends full, at the iterations run
                    bar.update(done, status(out, state) if status is not None else "", total=done)
                break
        interrupted = stop.is_set()
    return LoopResult(state, done, ended, interrupted)


def warn_interrupted(what: str, done: int, total: int, stacklevel: int = 3) -> None:
    """The warning after Ctrl-C stopped a loop, with the iterations done."""
    warnings.warn(f"{what} interrupted after {done} of {total} iterations; returning the result so far.",
                  stacklevel=stacklevel)

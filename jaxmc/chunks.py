"""Maps a batched program over many rows (posterior draws) in chunks of bounded memory; the last chunk is
padded with copies of its last row so that every call has the one compiled shape."""

from __future__ import annotations

import ctypes
import functools

import jax
import numpy as np

#: most bytes of output one call produces (its temporaries come on top): the peak memory of a whole map is the
#: result plus a few times this
MAX_CHUNK_BYTES = 8 * 2**20
#: chunks of at least this much output give their freed memory back to the operating system after the call
TRIM_BYTES = 2**20


def rows_per_chunk(bytes_per_row: int, n: int, max_bytes: int = MAX_CHUNK_BYTES) -> int:
    """Rows per call: as many as fit in `max_bytes` of output, at least 1, at most n."""
    return int(max(1, min(n, max_bytes // max(bytes_per_row, 1))))


def map_rows(call, values: dict, n: int, size: int, out: dict, progress=None) -> dict:
    """`call(start, rows)` on rows start .. start + size - 1 of every array in `values` (the last chunk padded),
    each result written into the preallocated numpy arrays of `out` (leading axis n); `progress(done, n)`
    after each call. Each chunk's output and temporaries are freed, and given back to the operating system
    (`release_free_memory`), before the next call: the peak is `out` plus about one chunk."""
    for start in range(0, n, size):
        stop = min(n, start + size)
        part = {k: v[start:stop] for k, v in values.items()}
        if stop - start < size:
            part = {k: np.concatenate([v, np.repeat(v[-1:], size - (stop - start), 0)]) for k, v in part.items()}
        res = {k: np.asarray(v) for k, v in jax.device_get(call(start, part)).items()}
        for k in res:
            out[k][start:stop] = res[k][: stop - start]
        nbytes = sum(v.nbytes for v in res.values())
        del res, part  # the next call would otherwise run with this chunk's buffers alive
        if nbytes >= TRIM_BYTES:
            release_free_memory()
        if progress is not None:
            progress(stop, n)
    return out


def release_free_memory() -> None:
    """Return the C heap's free pages to the operating system (glibc's `malloc_trim`; nothing elsewhere).
    Buffers of a few MB are carved from the heap rather than mapped, and once freed they would otherwise stay
    in the process's resident memory."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=None)
def _malloc_trim():
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return None

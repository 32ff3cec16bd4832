"""Maps a batched program over many rows (posterior draws) in chunks of bounded memory; the last chunk is
padded with copies of its last row so that every call has the one compiled shape."""

from __future__ import annotations

import jax
import numpy as np

#: most bytes of output one call produces
MAX_CHUNK_BYTES = 256 * 2**20


def rows_per_chunk(bytes_per_row: int, n: int, max_bytes: int = MAX_CHUNK_BYTES) -> int:
    """Rows per call: as many as fit in `max_bytes` of output, at least 1, at most n."""
    return int(max(1, min(n, max_bytes // max(bytes_per_row, 1))))


def map_rows(call, values: dict, n: int, size: int, out: dict, progress=None) -> dict:
    """`call(start, rows)` on rows start .. start + size - 1 of every array in `values` (the last chunk padded),
    each result written into the preallocated numpy arrays of `out` (leading axis n); `progress(done, n)`
    after each call."""
    for start in range(0, n, size):
        stop = min(n, start + size)
        part = {k: v[start:stop] for k, v in values.items()}
        if stop - start < size:
            part = {k: np.concatenate([v, np.repeat(v[-1:], size - (stop - start), 0)]) for k, v in part.items()}
        res = jax.device_get(call(start, part))
        for k, v in res.items():
            out[k][start:stop] = np.asarray(v)[: stop - start]
        if progress is not None:
            progress(stop, n)
    return out

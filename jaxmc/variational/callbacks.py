"""PyMC's fit callbacks: `CheckParametersConvergence` and `Tracker`, called between compiled chunks of the fit
loop at iterations that are multiples of their `every`."""

from __future__ import annotations

import collections

import numpy as np


class Callback:
    """`callback(approx, losses, i)` after iteration i (1-based); raising StopIteration ends the fit. `every`: the
    iterations it is called at (multiples of it; the compiled loop stops there to call it)."""

    every = 1

    def __call__(self, approx, loss, i):
        raise NotImplementedError


def relative(current: np.ndarray, prev: np.ndarray, eps=1e-6) -> np.ndarray:
    return (np.abs(current - prev) + eps) / (np.abs(prev) + eps)


def absolute(current: np.ndarray, prev: np.ndarray) -> np.ndarray:
    return np.abs(current - prev)


_DIFF = {"relative": relative, "absolute": absolute}


class CheckParametersConvergence(Callback):
    """Stops the fit when the norm (`ord`) of the change of the parameters over `every` iterations (`diff`:
    "relative" or "absolute") is below `tolerance`."""

    def __init__(self, every=100, tolerance=1e-3, diff="relative", ord=np.inf):
        if diff not in _DIFF:
            raise ValueError(f"CheckParametersConvergence(diff={diff!r}) must be one of {sorted(_DIFF)}")
        if not isinstance(every, (int, np.integer)) or isinstance(every, bool) or every < 1:
            raise ValueError(f"CheckParametersConvergence(every={every!r}) must be a positive int")
        self._diff = _DIFF[diff]
        self.ord, self.every, self.tolerance = ord, int(every), tolerance
        self.prev = None

    def __call__(self, approx, _, i) -> None:
        if self.prev is None:
            self.prev = self.flatten_shared(approx.params)
            return
        if i % self.every or i < self.every:
            return
        current = self.flatten_shared(approx.params)
        delta = self._diff(current, self.prev)
        self.prev = current
        if np.linalg.norm(delta, self.ord) < self.tolerance:
            raise StopIteration(f"Convergence achieved at {i}")

    @staticmethod
    def flatten_shared(shared_list):
        return np.concatenate([np.ravel(sh.get_value()) for sh in shared_list])


class Tracker(Callback):
    """Records stats during the fit: `Tracker(name=fn, ...)`, `fn()` or `fn(approx, losses, i)`, read back as
    `tracker[name]`. Called at every iteration (set `tracker.every = k` to record every k-th, much faster)."""

    def __init__(self, **kwargs):
        self.whatchdict = kwargs
        self.hist = collections.defaultdict(list)

    def record(self, approx, hist, i):
        for key, fn in self.whatchdict.items():
            try:
                res = fn()
            except Exception:  # (PyMC's rule: a function of no arguments first, then of (approx, hist, i))
                res = fn(approx, hist, i)
            self.hist[key].append(res)

    def clear(self):
        self.hist = collections.defaultdict(list)

    def __getitem__(self, item):
        return self.hist[item]

    __call__ = record

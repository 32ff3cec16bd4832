"""Rank-normalized split R-hat and bulk ESS (Vehtari et al. 2021) in numpy, for the checks after sampling.

The same definitions as ArviZ's `rhat(method="rank")` and `ess(method="bulk")`, vectorized over
parameters, so that `pm.sample` can warn without ArviZ compiling its numba functions in every process.
"""
from __future__ import annotations

import numpy as np
from scipy import special


def _split(x: np.ndarray) -> np.ndarray:
    """(chain, draw, ...) -> (2 chain, draw // 2, ...): the first and last halves of every chain."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def _average_ranks(flat: np.ndarray) -> np.ndarray:
    """Ranks 1..n down each column of (n, k), ties sharing their average rank, NaN columns all NaN (as
    `scipy.stats.rankdata(method="average")`; sorting rows of the transpose is several times faster)."""
    a = np.ascontiguousarray(flat.T)
    k, n = a.shape
    order = np.argsort(a, axis=1)
    s = np.take_along_axis(a, order, axis=1)
    pos = np.broadcast_to(np.arange(n), (k, n))
    starts = np.ones((k, n), bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]  # a new value begins a run of ties
    ends = np.ones((k, n), bool)
    ends[:, :-1] = starts[:, 1:]
    first = np.maximum.accumulate(np.where(starts, pos, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, pos, n - 1)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty((k, n))
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=1)
    ranks[np.isnan(a).any(axis=1)] = np.nan
    return ranks.T


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks (average ranks for ties), per parameter."""
    n = x.shape[0] * x.shape[1]
    ranks = _average_ranks(x.reshape(n, -1))
    return special.ndtri((ranks - 0.375) / (n + 0.25)).reshape(x.shape)


def _rhat(x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    within = x.var(axis=1, ddof=1).mean(axis=0)
    between = n * x.mean(axis=1).var(axis=0, ddof=1)
    return np.sqrt((between / within + n - 1) / n)


def rhat(x) -> np.ndarray:
    """Rank-normalized split R-hat of draws shaped (chain, draw, ...): max of bulk and tail (folded)."""
    return rhat_and_ess_bulk(x)[0]


def rhat_and_ess_bulk(x) -> tuple[np.ndarray, np.ndarray]:
    """:func:`rhat` and :func:`ess_bulk` of the same draws, ranking them once."""
    x = _split(np.asarray(x, dtype=float))
    folded = np.abs(x - np.median(x.reshape(-1, *x.shape[2:]), axis=0))
    z = _z_scale(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.fmax(_rhat(z), _rhat(_z_scale(folded)))
        ess = _ess(z.reshape(z.shape[0], z.shape[1], -1)).reshape(z.shape[2:])
    return r, ess


def _autocov(x: np.ndarray) -> np.ndarray:
    """Biased autocovariance along axis 1 of (chain, draw, k), by FFT."""
    n = x.shape[1]
    centered = x - x.mean(axis=1, keepdims=True)
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(centered, n=size, axis=1)
    return np.fft.irfft(f * np.conj(f), n=size, axis=1)[:, :n] / n


def _ess(x: np.ndarray) -> np.ndarray:
    """Effective sample size of (chain, draw, k) with Geyer's initial monotone sequence (Stan's estimator)."""
    m, n = x.shape[:2]
    acov = _autocov(x)
    mean_var = acov[:, 0].mean(axis=0) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if m > 1:
        var_plus = var_plus + x.mean(axis=1).var(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus  # (lag, k)
    rho[0] = 1.0
    k_max = max((n - 3) // 2, 0)  # the last pair of lags (2k, 2k + 1) the sequence may look at
    pairs = rho[: 2 * k_max + 2].reshape(k_max + 1, 2, -1)
    sums = pairs.sum(axis=1)  # (k, param)
    nonpositive = sums[1:] <= 0
    first = np.where(nonpositive.any(axis=0), nonpositive.argmax(axis=0) + 1, k_max) if k_max else \
        np.zeros(sums.shape[1], int)
    first = np.minimum(first, k_max)
    mono = np.minimum.accumulate(sums, axis=0)
    ks = np.arange(k_max + 1)[:, None]
    head = np.where(ks < first, mono, 0.0).sum(axis=0)
    last_even = np.take_along_axis(pairs[:, 0], first[None], axis=0)[0]
    last_sum = np.take_along_axis(sums, first[None], axis=0)[0]
    tail = np.where((last_even > 0) | (last_sum >= 0), last_even, 0.0)
    tau = -1.0 + 2.0 * head + tail
    total = m * n
    tau = np.maximum(tau, 1.0 / np.log10(total))
    ess = total / tau
    constant = np.ptp(x.reshape(total, -1), axis=0) < np.finfo(float).resolution
    return np.where(constant, float(total), ess)


def ess_mean(x) -> np.ndarray:
    """Split-chain effective sample size of draws shaped (chain, draw, ...), without rank normalization
    (ArviZ's `ess(method="mean")`): the ESS that sets the Monte Carlo error of a mean."""
    x = _split(np.asarray(x, dtype=float))
    return _ess(x.reshape(x.shape[0], x.shape[1], -1)).reshape(x.shape[2:])


def ess_bulk(x) -> np.ndarray:
    """Bulk effective sample size of draws shaped (chain, draw, ...)."""
    x = _split(np.asarray(x, dtype=float))
    shape = x.shape[2:]
    z = _z_scale(x).reshape(x.shape[0], x.shape[1], -1)
    return _ess(z).reshape(shape)

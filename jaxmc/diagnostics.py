"""Rank-normalized split R-hat and bulk ESS (Vehtari et al. 2021) in numpy, for the checks after sampling.

The same definitions as ArviZ's `rhat(method="rank")` and `ess(method="bulk")`, vectorized over
parameters, so that `pm.sample` can warn without ArviZ compiling its numba functions in every process.
"""
from __future__ import annotations

import concurrent.futures

import numpy as np
from scipy import special


def _split(x: np.ndarray) -> np.ndarray:
    """(chain, draw, ...) -> (2 chain, draw // 2, ...): the first and last halves of every chain."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks, per parameter: `ndtri((rank - 3/8) / (n + 1/4))` with ties
    sharing their average rank and NaN columns all NaN (ArviZ's rank normalization, with
    `scipy.stats.rankdata(method="average")`). Sorting rows of the transpose, and looking the scores of
    untied ranks up in one table, is several times faster than ranking with scipy."""
    n = x.shape[0] * x.shape[1]
    a = np.ascontiguousarray(x.reshape(n, -1).T)  # (k, n)
    k = a.shape[0]
    order = np.argsort(a, axis=1)
    s = np.take_along_axis(a, order, axis=1)
    starts = np.ones((k, n), bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]  # a new value begins a run of ties
    sorted_z = np.broadcast_to(special.ndtri((np.arange(1, n + 1) - 0.375) / (n + 0.25)), (k, n)).copy()
    tied = ~starts.all(axis=1)
    if tied.any():  # average ranks within runs of equal values
        st = starts[tied]
        pos = np.broadcast_to(np.arange(n), st.shape)
        ends = np.ones_like(st)
        ends[:, :-1] = st[:, 1:]
        first = np.maximum.accumulate(np.where(st, pos, 0), axis=1)
        last = np.minimum.accumulate(np.where(ends, pos, n - 1)[:, ::-1], axis=1)[:, ::-1]
        sorted_z[tied] = special.ndtri(((first + last) / 2.0 + 1.0 - 0.375) / (n + 0.25))
    z = np.empty((k, n))
    np.put_along_axis(z, order, sorted_z, axis=1)
    z[np.isnan(a).any(axis=1)] = np.nan
    return z.T.reshape(x.shape)


def _rhat(x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    within = x.var(axis=1, ddof=1).mean(axis=0)
    between = n * x.mean(axis=1).var(axis=0, ddof=1)
    return np.sqrt((between / within + n - 1) / n)


def _rank_rhat(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R-hat of split draws (max of bulk and tail), and the bulk normal scores it ranked them to."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:  # numpy sorts without the GIL
        z_folded = pool.submit(lambda: _z_scale(np.abs(x - np.median(x.reshape(-1, *x.shape[2:]), axis=0))))
        z = _z_scale(x)
        z_folded = z_folded.result()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.fmax(_rhat(z), _rhat(z_folded)), z


def _bulk_ess(z: np.ndarray) -> np.ndarray:
    """ESS of rank-normalized split draws (chain, draw, ...)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _ess(z.reshape(z.shape[0], z.shape[1], -1)).reshape(z.shape[2:])


def rhat(x) -> np.ndarray:
    """Rank-normalized split R-hat of draws shaped (chain, draw, ...): max of bulk and tail (folded)."""
    return _rank_rhat(_split(np.asarray(x, dtype=float)))[0]


def rhat_and_ess_bulk(x) -> tuple[np.ndarray, np.ndarray]:
    """:func:`rhat` and :func:`ess_bulk` of the same draws, ranking them once."""
    r, z = _rank_rhat(_split(np.asarray(x, dtype=float)))
    return r, _bulk_ess(z)


def rhat_ess_bulk_tail(x) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`rhat`, :func:`ess_bulk` and :func:`ess_tail` of the same draws (chain, draw, ...), ranking them
    once: what `pm.sample(target_ess=...)` checks between rounds of draws."""
    x = np.asarray(x, dtype=float)
    r, z = _rank_rhat(_split(x))
    return r, _bulk_ess(z), ess_tail(x)


def ess_tail(x, prob: float = 0.05) -> np.ndarray:
    """Tail effective sample size of draws shaped (chain, draw, ...) (Stan's, and ArviZ 0's `ess(method="tail")`;
    ArviZ 1 takes its ci_prob): the smaller split-chain ESS of the indicators `x <= q` for the `prob` and
    `1 - prob` quantiles (type 7)."""
    x = np.asarray(x, dtype=float)
    flat = x.reshape(x.shape[0], x.shape[1], -1)
    q = np.quantile(flat.reshape(-1, flat.shape[2]), [prob, 1 - prob], axis=0)  # (2, k)
    ind = np.concatenate([flat <= q[0], flat <= q[1]], axis=2).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ess = _ess(_split(ind))
    k = flat.shape[2]
    return np.minimum(ess[:k], ess[k:]).reshape(x.shape[2:])


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
    return _bulk_ess(_z_scale(_split(np.asarray(x, dtype=float))))

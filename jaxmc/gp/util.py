"""`pm.gp.util`: jitter for Cholesky factorisations (`stabilize`), k-means inducing points and `plot_gp_dist`."""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import numpy as np

from jaxmc.gp.kernel import expr
from jaxmc.graph import is_node

JITTER_DEFAULT = 1e-6

__all__ = ["JITTER_DEFAULT", "kmeans_inducing_points", "plot_gp_dist", "stabilize"]


def stabilize(K, jitter=JITTER_DEFAULT):
    """K + jitter * I: a small diagonal that keeps a covariance matrix numerically positive definite."""
    return expr(lambda K, j: K + j * jnp.eye(K.shape[-2], K.shape[-1], dtype=K.dtype), K, jitter)


def kmeans_inducing_points(n_inducing, X, **kmeans_kwargs):
    """Locations of `n_inducing` inducing points: k-means centres of the columns-whitened inputs X (scipy's
    `kmeans`; `kmeans_kwargs` go to it)."""
    if is_node(X):
        raise TypeError("To use K-means initialization, please provide X as a type that can be cast to "
                        "np.ndarray (numpy array, list, pandas), instead of a model variable "
                        f"({X.label()}); pass its values.")
    X = np.asarray(X.to_numpy() if hasattr(X, "to_numpy") else X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_points, n_columns); found shape {X.shape}")
    if not isinstance(n_inducing, (int, np.integer)) or not 0 < n_inducing <= X.shape[0]:
        raise ValueError(f"n_inducing must be an integer between 1 and the number of points ({X.shape[0]}); "
                         f"found {n_inducing!r}")
    scaling = np.std(X, 0)
    scaling[scaling <= 1e-6] = 1.0
    if "k_or_guess" in kmeans_kwargs:
        warnings.warn("Use `n_inducing` to set the `k_or_guess` parameter instead.")
    from scipy.cluster.vq import kmeans

    Xu, _ = kmeans(X / scaling, k_or_guess=n_inducing, **kmeans_kwargs)
    return Xu * scaling


def plot_gp_dist(ax, samples, x, plot_samples=True, palette="Reds", fill_alpha=0.8, samples_alpha=0.1,
                 fill_kwargs=None, samples_kwargs=None):
    """Plot 1-D GP posterior draws `samples` (S, X) over the grid `x` as nested percentile bands (51..99) and
    a few draws; returns the matplotlib axes."""
    import matplotlib.pyplot as plt

    samples = np.asarray(samples)
    fill_kwargs = fill_kwargs or {}
    samples_kwargs = samples_kwargs or {}
    if np.any(np.isnan(samples)):
        warnings.warn("There are `nan` entries in the [samples] arguments. The plot will not contain a band!",
                      UserWarning)
    cmap = plt.get_cmap(palette)
    percs = np.linspace(51, 99, 40)
    colors = (percs - np.min(percs)) / (np.max(percs) - np.min(percs))
    samples = samples.T
    x = np.asarray(x).flatten()
    for i, p in enumerate(percs[::-1]):
        upper = np.percentile(samples, p, axis=1)
        lower = np.percentile(samples, 100 - p, axis=1)
        ax.fill_between(x, upper, lower, color=cmap(colors[i]), alpha=fill_alpha, **fill_kwargs)
    if plot_samples:
        idx = np.random.randint(0, samples.shape[1], 30)
        ax.plot(x, samples[:, idx], color=cmap(0.9), lw=1, alpha=samples_alpha, **samples_kwargs)
    return ax

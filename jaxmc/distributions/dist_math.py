"""Shared numerical helpers for log densities (normal CDF in log space, parameter resolution)."""

import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def normal_lcdf(mu, sigma, x):
    """log Phi((x - mu) / sigma), accurate in both tails."""
    return jsp.log_ndtr((x - mu) / sigma)


def normal_lccdf(mu, sigma, x):
    return jsp.log_ndtr(-(x - mu) / sigma)


def log_diff_exp(a, b):
    """log(exp(a) - exp(b)) for a >= b."""
    return a + jnp.log1p(-jnp.exp(b - a))


def get_tau_sigma(tau=None, sigma=None):
    """PyMC's rule: give one of tau (precision) or sigma; default sigma = 1."""
    if tau is not None and sigma is not None:
        raise TypeError("Can't pass both tau and sigma")
    if tau is None and sigma is None:
        return 1.0, 1.0
    if sigma is None:
        return tau, tau ** -0.5
    return sigma ** -2.0, sigma

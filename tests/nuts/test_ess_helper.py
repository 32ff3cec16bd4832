"""The ESS estimator used by the sampler tests, checked on AR(1) chains with known ESS."""
import numpy as np

from tests.nuts.nuts_testing import ess


def test_ess_of_ar1_matches_theory():
    rng = np.random.default_rng(1)
    phi, chains, n = 0.5, 4, 20000
    x = np.zeros((chains, n))
    eps = rng.normal(size=(chains, n))
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + eps[:, t]
    expected = chains * n * (1 - phi) / (1 + phi)
    assert abs(ess(x) / expected - 1) < 0.1


def test_ess_of_iid_draws_is_about_n():
    x = np.random.default_rng(2).normal(size=(4, 5000))
    assert abs(ess(x) / 20000 - 1) < 0.1

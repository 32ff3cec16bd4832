"""The SMC stage's pure functions against PyMC's rules written in NumPy: the next beta by bisection on the ESS,
systematic resampling, the correlation that ends a stage's MCMC steps, and the kernels' arguments."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import logsumexp

from jaxmc.smc.kernels import IMH, MH, check_fraction, mvn_logpdf, next_beta, pearson, proposal_cholesky, \
    systematic_resampling


def _numpy_next_beta(lik, beta, threshold):
    """PyMC's update_beta_and_weights (bisection on the integer ESS, upper start 2, tolerance 1e-6)."""
    low, up, rn = beta, 2.0, int(len(lik) * threshold)
    while up - low > 1e-6:
        new = (low + up) / 2.0
        lw_un = (new - beta) * lik
        lw = lw_un - logsumexp(lw_un)
        ess = int(np.exp(-logsumexp(lw * 2)))
        if ess == rn:
            break
        if ess < rn:
            up = new
        else:
            low = new
    return min(new, 1.0)


@pytest.mark.parametrize("scale,beta,threshold", [(1.0, 0.0, 0.5), (30.0, 0.0, 0.5), (300.0, 0.2, 0.7),
                                                  (0.01, 0.0, 0.5), (50.0, 0.9, 0.3)])
def test_next_beta_matches_pymc_rule(scale, beta, threshold):
    lik = -scale * np.random.default_rng(1).chisquare(3, 500)
    new, log_w = next_beta(jnp.asarray(lik), jnp.asarray(beta), threshold)
    ref = _numpy_next_beta(lik, beta, threshold)
    assert float(new) == pytest.approx(ref, abs=1e-12)
    np.testing.assert_allclose(np.asarray(log_w), (ref - beta) * lik, rtol=1e-12)
    if ref < 1:  # the ESS of the weights is the target fraction of the particles
        lw = (ref - beta) * lik
        ess = np.exp(2 * logsumexp(lw) - logsumexp(2 * lw))
        assert abs(ess - threshold * len(lik)) < 2


def test_systematic_resampling_counts():
    w = np.random.default_rng(2).dirichlet(np.full(200, 0.3))
    for seed in range(5):
        idx = np.asarray(systematic_resampling(jax.random.PRNGKey(seed), jnp.asarray(w)))
        counts = np.bincount(idx, minlength=200)
        assert counts.sum() == 200 and np.all(np.diff(idx) >= 0)
        # each particle is drawn floor(N w) or ceil(N w) times
        assert np.all(counts >= np.floor(200 * w) - 1e-9) and np.all(counts <= np.ceil(200 * w) + 1e-9)


def test_pearson_and_proposal_density():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(300, 3))
    b = a + rng.normal(size=(300, 3)) * np.array([0.1, 1.0, 10.0])
    ref = [abs(np.corrcoef(a[:, i], b[:, i])[0, 1]) for i in range(3)]
    np.testing.assert_allclose(np.asarray(pearson(jnp.asarray(a), jnp.asarray(b))), ref, rtol=1e-10)
    from scipy.stats import multivariate_normal

    chol = proposal_cholesky(jnp.asarray(b))
    cov = np.cov(b, rowvar=False, ddof=0) + 1e-6 * np.eye(3)
    np.testing.assert_allclose(np.asarray(chol @ chol.T), cov, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(mvn_logpdf(jnp.asarray(a), jnp.asarray(b.mean(0)), chol)),
                               multivariate_normal(b.mean(0), cov).logpdf(a), rtol=1e-10)


def test_mh_scale_tuning_follows_pymc():
    scales, acc = jnp.asarray([0.5, 1.0, 2.0]), jnp.asarray([0.1, 0.234, 0.9])
    chain = np.exp(np.log(np.asarray(scales)) + (np.asarray(acc) - 0.234))
    np.testing.assert_allclose(np.asarray(MH().tune(False, scales, acc)), 0.5 * (chain + chain.mean()))
    np.testing.assert_allclose(np.asarray(MH().tune(True, scales, acc)), np.asarray(scales))
    assert MH.initial_scale(1) == 1.0 and MH.initial_scale(10) == pytest.approx(2.38**2 / 10)


@pytest.mark.parametrize("kw,match", [({"threshold": 0.0}, "threshold"), ({"threshold": 1.5}, "threshold"),
                                      ({"correlation_threshold": 1.0}, "correlation_threshold"),
                                      ({"threshold": "half"}, "threshold"), ({"n_steps": 3}, "n_steps")])
def test_kernel_arguments(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        IMH(**kw)
    assert check_fraction("threshold", 0.25) == 0.25

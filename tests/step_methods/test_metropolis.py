"""Metropolis and DEMetropolisZ: known moments, PyMC's tuning rule and stats, proposal classes."""

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.step_methods import DEMetropolisZ, Metropolis, NormalProposal, UniformProposal
from jaxmc.step_methods.base import tune_scaling

from .helpers import COV, MEAN, assert_moments, correlated_normal, run


def test_tuning_rule_is_pymcs():
    rates = np.array([0.0, 0.01, 0.1, 0.3, 0.6, 0.8, 0.99])
    np.testing.assert_allclose(tune_scaling(np.ones(7), rates), [0.1, 0.5, 0.9, 1.0, 1.1, 2.0, 10.0])


def test_metropolis_correlated_normal_moments_and_stats():
    idata = run(correlated_normal(), Metropolis(), draws=5000, tune=1000)
    assert_moments(idata.posterior["x"].values, MEAN, COV, ess=400)
    stats = idata.sample_stats
    assert set(stats.data_vars) == {"accept", "accepted", "scaling"}
    assert stats["scaling"].dims == ("chain", "draw")
    assert 0.2 < float(stats["accepted"].mean()) < 0.7  # tuned away from the initial scale 1
    assert not np.allclose(stats["scaling"].values, 1.0)


def test_demetropolisz_correlated_normal_moments():
    idata = run(correlated_normal(), DEMetropolisZ(), draws=5000, tune=2000)
    assert_moments(idata.posterior["x"].values, MEAN, COV, ess=400)
    assert set(idata.sample_stats.data_vars) == {"accept", "accepted", "scaling", "lambda"}
    assert idata.sample_stats["accepted"].dtype == bool
    np.testing.assert_allclose(idata.sample_stats["lambda"].values, 2.38 / np.sqrt(4))


def test_proposal_classes_and_discrete_metropolis():
    with pm.Model() as model:
        pm.Normal("a", 0, 1)
        pm.Poisson("n", 4.0)
    idata = run(model, Metropolis(proposal_dist=UniformProposal, scaling=0.5), draws=3000)
    assert abs(float(idata.posterior["a"].mean())) < 0.15
    assert abs(float(idata.posterior["n"].mean()) - 4.0) < 0.3
    assert idata.posterior["n"].dtype.kind == "i"
    assert NormalProposal(np.ones(3)).sample(__import__("jax").random.PRNGKey(0), float).shape == (3,)


def test_bad_arguments():
    with pytest.raises(TypeError, match="proposal_dist"):
        Metropolis(proposal_dist=lambda s: s)
    with pytest.raises(ValueError, match='"tune" must be one of'):
        DEMetropolisZ(tune="both")
    with pm.Model() as model:
        pm.Normal("a", 0, 1, shape=2)
    with pytest.raises(ValueError, match="S has 3 entries"):
        run(model, Metropolis(S=np.ones(3)), draws=10, tune=10)

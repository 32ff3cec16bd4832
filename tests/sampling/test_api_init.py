"""pm.sample(init="pathfinder"): chains start at Pathfinder's points and its variances seed the NUTS mass matrix."""

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.step_methods import Metropolis
from jaxmc.variational import pathfinder


def normal_model():
    with pm.Model() as m:
        pm.Normal("a", 0.0, 1.0)
    return m


def fake_start(points, inv_mass, calls):
    def start(model, cm, data, chains, key):
        calls.append((model, cm.size, chains, np.asarray(key).shape))
        return np.asarray(points, float).reshape(chains, cm.size), np.full(cm.size, inv_mass)
    return start


def test_chains_start_at_the_pathfinder_points(monkeypatch):
    calls = []
    monkeypatch.setattr(pathfinder, "pathfinder_start", fake_start([[5.0], [-7.0]], 1.0, calls))
    model = normal_model()
    with model:
        idata = pm.sample(draws=1, tune=0, chains=2, init="pathfinder", random_seed=1, progressbar=False,
                          step=Metropolis(scaling=1e-9, tune=False), compute_convergence_checks=False)
    assert calls and calls[0][0] is model and calls[0][1:3] == (1, 2)
    np.testing.assert_allclose(idata.posterior["a"].values[:, 0], [5.0, -7.0], atol=1e-6)


def test_pathfinder_variances_seed_the_mass_matrix(monkeypatch):
    step_sizes = []
    for inv_mass in (1.0, 1e-6):
        monkeypatch.setattr(pathfinder, "pathfinder_start", fake_start([[0.1], [0.2]], inv_mass, []))
        with normal_model():
            idata = pm.sample(draws=1, tune=2, chains=2, init="PATHFINDER+adapt_diag", random_seed=1,
                              progressbar=False, discard_tuned_samples=False, compute_convergence_checks=False)
        step_sizes.append(float(idata.warmup_sample_stats["step_size"].values[:, 0].mean()))
    assert step_sizes[1] > 100 * step_sizes[0]  # the first step-size search used the given inverse mass


def test_initvals_refused():
    with normal_model(), pytest.raises(ValueError, match="drop initvals"):
        pm.sample(draws=5, tune=5, chains=1, init="pathfinder", initvals={"a": 0.0}, progressbar=False)


@pytest.mark.slow
def test_pathfinder_init_real_run_moments():
    with pm.Model():
        mu = pm.Normal("mu", 10.0, 5.0)
        sigma = pm.HalfNormal("sigma", 2.0)
        pm.Normal("y", mu, sigma, observed=np.random.default_rng(0).normal(12.0, 1.5, 50))
        idata = pm.sample(draws=1000, tune=300, chains=2, init="pathfinder", random_seed=2, progressbar=False)
    assert abs(float(idata.posterior["mu"].mean()) - 12.0) < 0.6
    assert abs(float(idata.posterior["sigma"].mean()) - 1.5) < 0.4

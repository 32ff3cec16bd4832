"""HamiltonianMC and NUTS(vars=...): known moments, stats, options."""

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.step_methods import NUTS, HamiltonianMC, Slice

from .helpers import COV, MEAN, assert_moments, correlated_normal, run


def test_hmc_correlated_normal_moments_and_stats():
    idata = run(correlated_normal(), HamiltonianMC(), draws=2000)
    assert_moments(idata.posterior["x"].values, MEAN, COV, ess=500)
    stats = idata.sample_stats
    assert {"step_size", "n_steps", "accept", "accepted", "diverging", "energy_error", "path_length", "lp"} <= \
        set(stats.data_vars)
    assert 0.45 < float(stats["accept"].mean()) < 0.9  # adapted to target_accept 0.65
    np.testing.assert_array_equal(stats["n_steps"].values, np.floor(2.0 / stats["step_size"].values).clip(1))


def test_nuts_on_some_variables_slice_on_others():
    with pm.Model() as model:
        pm.Normal("a", 3.0, 2.0)
        pm.Normal("b", -1.0, 0.5)
    idata = run(model, [NUTS(vars=["a"], target_accept=0.9), Slice(["b"])], draws=2000)
    assert abs(float(idata.posterior["a"].mean()) - 3.0) < 0.2
    assert abs(float(idata.posterior["b"].std()) - 0.5) < 0.05
    assert {"tree_depth", "nstep_in"} <= set(idata.sample_stats.data_vars)


def test_bad_options():
    with pytest.raises(ValueError, match="path_length"):
        HamiltonianMC(path_length=0)
    with pytest.raises(TypeError, match="unknown keyword"):
        HamiltonianMC(speed=2)
    with pytest.raises(TypeError, match="unknown keyword"):
        NUTS(speed=2)

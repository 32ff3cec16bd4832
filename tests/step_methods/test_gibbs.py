"""The binary and categorical Gibbs steps and BinaryMetropolis on a Bernoulli/Categorical model with an exact
posterior."""

import numpy as np
import pytest
from scipy import stats as st

import jaxmc as pm
from jaxmc.step_methods import BinaryGibbsMetropolis, BinaryMetropolis, CategoricalGibbsMetropolis

from .helpers import run

W = np.array([0.2, 0.3, 0.5])
Y, YK = 0.7, np.array([2.1, -0.2])


def model():
    with pm.Model() as m:
        z = pm.Categorical("z", W)
        pm.Normal("y", mu=-2.0 + 2.0 * z, sigma=1.0, observed=Y)
        k = pm.Bernoulli("k", 0.3, shape=2)
        pm.Normal("yk", mu=2.0 * k, sigma=1.0, observed=YK)
    return m


def exact():
    pz = W * st.norm.pdf(Y, -2.0 + 2.0 * np.arange(3), 1)
    a = 0.3 * st.norm.pdf(YK, 2, 1)
    return pz / pz.sum(), a / (a + 0.7 * st.norm.pdf(YK, 0, 1))


def check(idata, atol=0.03):
    pz, pk = exact()
    z = idata.posterior["z"].values.ravel()
    np.testing.assert_allclose(np.bincount(z, minlength=3) / z.size, pz, atol=atol)
    np.testing.assert_allclose(idata.posterior["k"].values.reshape(-1, 2).mean(0), pk, atol=atol)


def test_default_gibbs_steps_exact_marginals():
    idata = run(model(), None, draws=3000, tune=200)  # BinaryGibbsMetropolis and CategoricalGibbsMetropolis
    check(idata)
    assert "sample_stats" not in idata  # PyMC 6: these steps report no stats


def test_proportional_proposal_and_binary_metropolis():
    steps = [CategoricalGibbsMetropolis(["z"], proposal="proportional", order=[0]), BinaryMetropolis(["k"])]
    idata = run(model(), steps, draws=3000, tune=200)
    check(idata)
    assert set(idata.sample_stats.data_vars) == {"accept", "p_jump"}
    np.testing.assert_allclose(idata.sample_stats["p_jump"].values, 0.5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="proposal"):
        CategoricalGibbsMetropolis(["z"], proposal="other")
    with pytest.raises(ValueError, match="permutation"):
        run(model(), BinaryGibbsMetropolis(["k"], order=[0, 0]), draws=5, tune=5)

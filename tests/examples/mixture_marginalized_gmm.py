"""Mixtures: marginalized Gaussian mixture (NormalMixture) with ordered component means.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/mixture_models/marginalized_gaussian_mixture_model.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook's PyMC v5 version
(transform=pm.distributions.transforms.ordered, initval=); fewer draws; plotting dropped.
"""

import os
import sys

import arviz as az
import numpy as np
import pymc as pm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import write_results  # noqa: E402

RANDOM_SEED = 8927
rng = np.random.default_rng(RANDOM_SEED)

N = 1000

W = np.array([0.35, 0.4, 0.25])

MU = np.array([0.0, 2.0, 5.0])
SIGMA = np.array([0.5, 0.5, 1.0])

component = rng.choice(MU.size, size=N, p=W)
x = rng.normal(MU[component], SIGMA[component], size=N)

with pm.Model(coords={"cluster": np.arange(len(W)), "obs_id": np.arange(N)}) as model:
    w = pm.Dirichlet("w", np.ones_like(W))

    mu = pm.Normal(
        "mu",
        np.zeros_like(W),
        1.0,
        dims="cluster",
        transform=pm.distributions.transforms.ordered,
        initval=[1, 2, 3],
    )
    tau = pm.Gamma("tau", 1.0, 1.0, dims="cluster")

    x_obs = pm.NormalMixture("x_obs", w, mu, tau=tau, observed=x, dims="obs_id")

with model:
    trace = pm.sample(1000, tune=1000, chains=4, cores=1, random_seed=RANDOM_SEED, progressbar=False)

    # sample posterior predictive samples
    ppc_trace = pm.sample_posterior_predictive(trace, var_names=["x_obs"], random_seed=RANDOM_SEED, progressbar=False)

write_results(sys.argv[1], {"model": trace})

"""Multivariate: MvNormal with an LKJ Cholesky covariance prior (LKJCholeskyCov, expand_packed_triangular).

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/case_studies/LKJ.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook (pm.Model's removed rng_seeder=
argument dropped); fewer draws; plotting dropped.
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

N = 10000

mu_actual = np.array([1.0, -2.0])
sigmas_actual = np.array([0.7, 1.5])
Rho_actual = np.matrix([[1.0, -0.4], [-0.4, 1.0]])

Sigma_actual = np.diag(sigmas_actual) * Rho_actual * np.diag(sigmas_actual)

x = rng.multivariate_normal(mu_actual, Sigma_actual, size=N)

with pm.Model() as m:
    packed_L = pm.LKJCholeskyCov(
        "packed_L", n=2, eta=2.0, sd_dist=pm.Exponential.dist(1.0, shape=2), compute_corr=False
    )

packed_L.eval()

with m:
    L = pm.expand_packed_triangular(2, packed_L)
    Sigma = L.dot(L.T)

assert L.eval().shape == (2, 2)

coords = {"axis": ["y", "z"], "axis_bis": ["y", "z"], "obs_id": np.arange(N)}
with pm.Model(coords=coords) as model:
    chol, corr, stds = pm.LKJCholeskyCov(
        "chol", n=2, eta=2.0, sd_dist=pm.Exponential.dist(1.0, shape=2)
    )
    cov = pm.Deterministic("cov", chol.dot(chol.T), dims=("axis", "axis_bis"))

with model:
    mu = pm.Normal("mu", 0.0, sigma=1.5, dims="axis")
    obs = pm.MvNormal("obs", mu, chol=chol, observed=x, dims=("obs_id", "axis"))

with model:
    trace = pm.sample(
        1000,
        tune=1000,
        chains=4,
        cores=1,
        random_seed=RANDOM_SEED,
        progressbar=False,
        idata_kwargs={"dims": {"chol_stds": ["axis"], "chol_corr": ["axis", "axis_bis"]}},
    )
summary = az.summary(trace, var_names="~chol", round_to=2)

mu_post = trace.posterior["mu"].mean(("chain", "draw")).values
Sigma_post = trace.posterior["cov"].mean(("chain", "draw")).values

write_results(sys.argv[1], {"model": trace}, var_names=["mu", "cov", "chol_stds", "chol_corr"])

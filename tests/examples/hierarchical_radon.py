"""Hierarchical: radon in Minnesota homes, varying-intercept model (and the pooled model's prior predictive).

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/case_studies/multilevel_modeling.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook (pm.MutableData -> pm.Data, removed in
PyMC 6; prior.squeeze -> az.extract for ArviZ 1.x). Data: data/radon_mn.csv, the Minnesota subset as shipped in ArviZ's radon example (Apache-2.0), whose
log radon is Gelman & Hill's log(activity) (zeros set to 0.1) rather than the notebook's log(activity + 0.1).
Plotting dropped; fewer draws.
"""

import os
import sys

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import write_results  # noqa: E402

RANDOM_SEED = 8924

srrs_mn = pd.read_csv(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "radon_mn.csv"))
county, mn_counties = srrs_mn.county.factorize()
srrs_mn["county_code"] = county
log_radon = srrs_mn.log_radon.values
floor_measure = srrs_mn.floor.values

with pm.Model() as pooled_model:
    floor_ind = pm.Data("floor_ind", floor_measure, dims="obs_id")

    alpha = pm.Normal("alpha", 0, sigma=10)
    beta = pm.Normal("beta", mu=0, sigma=10)
    sigma = pm.Exponential("sigma", 5)

    theta = alpha + beta * floor_ind

    y = pm.Normal("y", theta, sigma=sigma, observed=log_radon, dims="obs_id")

pm.model_to_graphviz(pooled_model)

with pooled_model:
    prior_checks = pm.sample_prior_predictive(random_seed=RANDOM_SEED)

# the notebook's prior_checks.prior.squeeze(drop=True) needs an InferenceData (ArviZ 0.x)
prior = az.extract(prior_checks, group="prior")
assert prior["alpha"].size == 500

coords = {"county": mn_counties}

with pm.Model(coords=coords) as varying_intercept:
    floor_idx = pm.Data("floor_idx", floor_measure, dims="obs_id")
    county_idx = pm.Data("county_idx", county, dims="obs_id")

    # Priors
    mu_a = pm.Normal("mu_a", mu=0.0, sigma=10.0)
    sigma_a = pm.Exponential("sigma_a", 1)

    # Random intercepts
    alpha = pm.Normal("alpha", mu=mu_a, sigma=sigma_a, dims="county")
    # Common slope
    beta = pm.Normal("beta", mu=0.0, sigma=10.0)

    # Model error
    sd_y = pm.Exponential("sd_y", 1)

    # Expected value
    y_hat = alpha[county_idx] + beta * floor_idx

    # Data likelihood
    y_like = pm.Normal("y_like", mu=y_hat, sigma=sd_y, observed=log_radon, dims="obs_id")

pm.model_to_graphviz(varying_intercept)

with varying_intercept:
    varying_intercept_trace = pm.sample(
        1000, tune=1000, chains=4, cores=1, random_seed=RANDOM_SEED, progressbar=False
    )

beta_summary = az.summary(varying_intercept_trace, var_names=["beta"])

write_results(sys.argv[1], {"varying_intercept": varying_intercept_trace})

"""Causal inference: interrupted time series, prior/posterior predictive and a counterfactual forecast.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/causal_inference/interrupted_time_series.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook (pm.MutableData -> pm.Data, removed in
PyMC 6); the scipy noise is seeded; date frequency "M" -> "ME" (pandas 3); fewer draws; plotting dropped.
"""

import os
import sys

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from scipy.stats import norm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import extend, write_results  # noqa: E402

RANDOM_SEED = 8927
rng = np.random.default_rng(RANDOM_SEED)
np.random.seed(RANDOM_SEED)  # norm(...).rvs below uses the global state

treatment_time = "2017-01-01"
β0 = 0
β1 = 0.1
dates = pd.date_range(
    start=pd.to_datetime("2010-01-01"), end=pd.to_datetime("2020-01-01"), freq="ME"
)
N = len(dates)


def causal_effect(df):
    return (df.index > treatment_time) * 2


df = (
    pd.DataFrame()
    .assign(time=np.arange(N), date=dates)
    .set_index("date", drop=True)
    .assign(y=lambda x: β0 + β1 * x.time + causal_effect(x) + norm(0, 0.5).rvs(N))
)

# Split into pre and post intervention dataframes
pre = df[df.index < treatment_time]
post = df[df.index >= treatment_time]

with pm.Model() as model:
    # observed predictors and outcome
    time = pm.Data("time", pre["time"].to_numpy(), dims="obs_id")
    # priors
    beta0 = pm.Normal("beta0", 0, 1)
    beta1 = pm.Normal("beta1", 0, 0.2)
    # the actual linear model
    mu = pm.Deterministic("mu", beta0 + (beta1 * time), dims="obs_id")
    sigma = pm.HalfNormal("sigma", 2)
    # likelihood
    pm.Normal("obs", mu=mu, sigma=sigma, observed=pre["y"].to_numpy(), dims="obs_id")

pm.model_to_graphviz(model)

with model:
    idata = pm.sample_prior_predictive(random_seed=RANDOM_SEED)

with model:
    extend(idata, pm.sample(1000, tune=1000, chains=4, cores=1, random_seed=RANDOM_SEED, progressbar=False))

with model:
    extend(idata, pm.sample_posterior_predictive(idata, random_seed=RANDOM_SEED, progressbar=False))

# convert outcome into an XArray object with a labelled dimension to help in the next step
y = xr.DataArray(pre["y"].to_numpy(), dims=["obs_id"])

# do the calculation by taking the difference
excess = y - idata.posterior_predictive["obs"]

with model:
    pm.set_data(
        {
            "time": post["time"].to_numpy(),
        }
    )
    counterfactual = pm.sample_posterior_predictive(
        idata, var_names=["obs"], random_seed=RANDOM_SEED, progressbar=False
    )

# convert outcome into an XArray object with a labelled dimension to help in the next step
outcome = xr.DataArray(post["y"].to_numpy(), dims=["obs_id"])

# do the calculation by taking the difference
excess = outcome - counterfactual.posterior_predictive["obs"]

# calculate the cumulative causal impact
cumsum = excess.cumsum(dim="obs_id")
assert cumsum.sizes["obs_id"] == len(post)

write_results(sys.argv[1], {"model": idata}, var_names=["beta0", "beta1", "sigma"])

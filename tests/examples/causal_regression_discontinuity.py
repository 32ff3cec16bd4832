"""Causal inference: sharp regression discontinuity, with counterfactual predictions via pm.set_data.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/causal_inference/regression_discontinuity.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook; fewer draws; plotting dropped.
"""

import os
import sys

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import write_results  # noqa: E402

RANDOM_SEED = 123
rng = np.random.default_rng(RANDOM_SEED)

# define true parameters
threshold = 0.0
treatment_effect = 0.7
N = 1000
sd = 0.3  # represents change between pre and post test with zero measurement error

# No measurement error, but random change from pre to post
df = (
    pd.DataFrame.from_dict({"x": rng.normal(size=N)})
    .assign(treated=lambda x: x.x < threshold)
    .assign(y=lambda x: (x.x + rng.normal(loc=0, scale=sd, size=N) + treatment_effect * x.treated))
)

with pm.Model() as model:
    x = pm.Data("x", df.x, dims="obs_id")
    treated = pm.Data("treated", df.treated, dims="obs_id")
    sigma = pm.HalfNormal("sigma", 1)
    delta = pm.Cauchy("effect", alpha=0, beta=1)
    mu = pm.Deterministic("mu", x + (delta * treated), dims="obs_id")
    pm.Normal("y", mu=mu, sigma=sigma, observed=df.y, dims="obs_id")

pm.model_to_graphviz(model)

with model:
    idata = pm.sample(1000, tune=1000, chains=4, cores=1, random_seed=RANDOM_SEED, progressbar=False)

# MODEL EXPECTATION WITHOUT TREATMENT ------------------------------------
# probe data
_x = np.linspace(np.min(df.x), np.max(df.x), 500)
_treated = np.zeros(_x.shape, dtype=bool)

# posterior prediction (see technical note above)
with model:
    pm.set_data({"x": _x, "treated": _treated})
    ppc = pm.sample_posterior_predictive(idata, var_names=["mu", "y"], progressbar=False)

# MODEL EXPECTATION WITH TREATMENT ---------------------------------------
# probe data
_x = np.linspace(np.min(df.x), np.max(df.x), 500)
_treated = np.ones(_x.shape, dtype=bool)

# posterior prediction (see technical note above)
with model:
    pm.set_data({"x": _x, "treated": _treated})
    ppc = pm.sample_posterior_predictive(idata, var_names=["mu", "y"], progressbar=False)

assert ppc.posterior_predictive["y"].shape[-1] == 500

write_results(sys.argv[1], {"model": idata}, var_names=["effect", "sigma"])

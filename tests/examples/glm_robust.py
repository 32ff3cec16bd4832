"""GLM: robust linear regression (Normal vs StudentT likelihood on data with outliers).

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/generalized_linear_models/GLM-robust.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook (pm.ConstantData -> pm.Data, removed
in PyMC 6); plotting dropped; fewer draws.
"""

import os
import sys

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import write_results  # noqa: E402

RANDOM_SEED = 8927
rng = np.random.default_rng(RANDOM_SEED)

size = 100
true_intercept = 1
true_slope = 2

x = np.linspace(0, 1, size)
# y = a + b*x
true_regression_line = true_intercept + true_slope * x
# add noise
y = true_regression_line + rng.normal(scale=0.5, size=size)

# Add outliers
x_out = np.append(x, [0.1, 0.15, 0.2])
y_out = np.append(y, [8, 6, 9])

data = pd.DataFrame(dict(x=x_out, y=y_out))

with pm.Model() as model:
    xdata = pm.Data("x", x_out, dims="obs_id")

    # define priors
    intercept = pm.Normal("intercept", mu=0, sigma=1)
    slope = pm.Normal("slope", mu=0, sigma=1)
    sigma = pm.HalfCauchy("sigma", beta=10)

    mu = pm.Deterministic("mu", intercept + slope * xdata, dims="obs_id")

    # define likelihood
    likelihood = pm.Normal("y", mu=mu, sigma=sigma, observed=y_out, dims="obs_id")

    # inference
    trace = pm.sample(1000, tune=1000, chains=4, cores=1, random_seed=1, progressbar=False)

normal_dist = pm.Normal.dist(mu=0, sigma=1)
t_dist = pm.StudentT.dist(mu=0, lam=1, nu=1)
x_eval = np.linspace(-8, 8, 300)
normal_pdf = pm.math.exp(pm.logp(normal_dist, x_eval)).eval()
t_pdf = pm.math.exp(pm.logp(t_dist, x_eval)).eval()

with pm.Model() as robust_model:
    xdata = pm.Data("x", x_out, dims="obs_id")

    # define priors
    intercept = pm.Normal("intercept", mu=0, sigma=1)
    slope = pm.Normal("slope", mu=0, sigma=1)
    sigma = pm.HalfCauchy("sigma", beta=10)

    mu = pm.Deterministic("mu", intercept + slope * xdata, dims="obs_id")

    # define likelihood
    likelihood = pm.StudentT("y", mu=mu, sigma=sigma, nu=3, observed=y_out, dims="obs_id")

    # inference
    robust_trace = pm.sample(1000, tune=1000, chains=4, cores=1, random_seed=2, progressbar=False)

robust_post = az.extract(robust_trace, num_samples=20)

write_results(sys.argv[1], {"normal": trace, "robust": robust_trace}, var_names=["intercept", "slope", "sigma"])

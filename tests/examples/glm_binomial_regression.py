"""GLM: binomial regression with an inverse-logit link.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/generalized_linear_models/GLM-binomial-regression.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook (pm.ConstantData -> pm.Data, removed
in PyMC 6); plotting dropped; fewer draws.
"""

import os
import sys

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

from scipy.special import expit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import write_results  # noqa: E402

rng = np.random.default_rng(1234)

# true params
beta0_true = 0.7
beta1_true = 0.4
# number of yes/no questions
n = 20

sample_size = 30
x = np.linspace(-10, 20, sample_size)
# Linear model
mu_true = beta0_true + beta1_true * x
# transformation (inverse logit function = expit)
p_true = expit(mu_true)
# Generate data
y = rng.binomial(n, p_true)
# bundle data into dataframe
data = pd.DataFrame({"x": x, "y": y})

coords = {"observation": data.index.values}

with pm.Model(coords=coords) as binomial_regression_model:
    x = pm.Data("x", data["x"], dims="observation")
    # priors
    beta0 = pm.Normal("beta0", mu=0, sigma=1)
    beta1 = pm.Normal("beta1", mu=0, sigma=1)
    # linear model
    mu = beta0 + beta1 * x
    p = pm.Deterministic("p", pm.math.invlogit(mu), dims="observation")
    # likelihood
    pm.Binomial("y", n=n, p=p, observed=data["y"], dims="observation")

pm.model_to_graphviz(binomial_regression_model)

with binomial_regression_model:
    idata = pm.sample(1000, tune=1000, chains=4, cores=1, random_seed=1234, progressbar=False)

post_mean = idata.posterior.p.mean(("chain", "draw"))
beta0_draws = az.extract(idata, var_names="beta0")

write_results(sys.argv[1], {"binomial_regression_model": idata})

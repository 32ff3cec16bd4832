"""GLM: logistic regression with an interaction, out-of-sample predictions through pm.set_data.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/generalized_linear_models/GLM-out-of-sample-predictions.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook (pm.MutableData -> pm.Data, removed in
PyMC 6). patsy and scikit-learn are replaced by the same design matrix built with numpy and a seeded split;
the prediction grid is 30 x 30 instead of 300 x 300; plotting dropped; fewer draws.
"""

import os
import sys

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

from scipy.special import expit as inverse_logit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import extend, write_results  # noqa: E402

RANDOM_SEED = 8927
rng = np.random.default_rng(RANDOM_SEED)

# Number of data points
n = 250
# Create features
x1 = rng.normal(loc=0.0, scale=2.0, size=n)
x2 = rng.normal(loc=0.0, scale=2.0, size=n)
# Define target variable
intercept = -0.5
beta_x1 = 1
beta_x2 = -1
beta_interaction = 2
z = intercept + beta_x1 * x1 + beta_x2 * x2 + beta_interaction * x1 * x2
p = inverse_logit(z)
# note binimial with n=1 is equal to a bernoulli
y = rng.binomial(n=1, p=p, size=n)
df = pd.DataFrame(dict(x1=x1, x2=x2, y=y))

# patsy.dmatrices("y ~ x1 * x2", data=df)
y = df["y"].to_numpy().astype(float)
labels = ["Intercept", "x1", "x2", "x1:x2"]
x = np.column_stack([np.ones(n), df["x1"], df["x2"], df["x1"] * df["x2"]])

# train_test_split(x, y, train_size=0.7)
order = rng.permutation(n)
n_train = int(0.7 * n)
x_train, x_test = x[order[:n_train]], x[order[n_train:]]
y_train, y_test = y[order[:n_train]], y[order[n_train:]]

COORDS = {"coeffs": labels}

with pm.Model(coords=COORDS) as model:
    # data containers
    X = pm.Data("X", x_train)
    y = pm.Data("y", y_train)
    # priors
    b = pm.Normal("b", mu=0, sigma=1, dims="coeffs")
    # linear model
    mu = pm.math.dot(X, b)
    # link function
    p = pm.Deterministic("p", pm.math.invlogit(mu))
    # likelihood
    pm.Bernoulli("obs", p=p, observed=y)

pm.model_to_graphviz(model)

with model:
    idata = pm.sample(1000, tune=1000, chains=4, cores=1, random_seed=RANDOM_SEED, progressbar=False)

summary = az.summary(idata, var_names="b")

with model:
    pm.set_data({"X": x_test, "y": y_test})
    extend(idata, pm.sample_posterior_predictive(idata, random_seed=RANDOM_SEED, progressbar=False))

p_test_pred = idata.posterior_predictive["obs"].mean(dim=["chain", "draw"])
y_test_pred = (p_test_pred >= 0.5).astype("int")
assert p_test_pred.shape == (len(y_test),), p_test_pred.shape


def make_grid():
    x1_grid = np.linspace(start=-9, stop=9, num=30)
    x2_grid = x1_grid
    x1_mesh, x2_mesh = np.meshgrid(x1_grid, x2_grid)
    x_grid = np.stack(arrays=[x1_mesh.flatten(), x2_mesh.flatten()], axis=1)
    return x1_grid, x2_grid, x_grid


x1_grid, x2_grid, x_grid = make_grid()

with model:
    # Create features on the grid.
    x_grid_ext = np.column_stack([np.ones(len(x_grid)), x_grid[:, 0], x_grid[:, 1], x_grid[:, 0] * x_grid[:, 1]])
    # set the observed variables
    pm.set_data({"X": x_grid_ext})
    # calculate pushforward values of `p`
    ppc_grid = pm.sample_posterior_predictive(idata, var_names=["p"], progressbar=False)

assert ppc_grid.posterior_predictive["p"].shape[-1] == len(x_grid)

write_results(sys.argv[1], {"model": idata})

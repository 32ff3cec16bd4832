"""Gaussian processes: gp.Marginal regression with white Gaussian noise, .conditional and .predict.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/gaussian_processes/GP-Marginal.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook; the data simulation uses a seeded
Generator instead of the global np.random seed; `nuts_sampler="numpyro", chains=1` -> PyMC's default sampler
with 4 chains and 500 draws (so the point for .predict selects chain 0 as well as draw 0); plotting dropped.
"""

import os
import sys

import arviz as az
import numpy as np
import pymc as pm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import write_results  # noqa: E402

rng = np.random.default_rng(1)

n = 100  # The number of data points
X = np.linspace(0, 10, n)[:, None]  # The inputs to the GP, they must be arranged as a column vector

# Define the true covariance function and its parameters
ell_true = 1.0
eta_true = 3.0
cov_func = eta_true**2 * pm.gp.cov.Matern52(1, ell_true)

# A mean function that is zero everywhere
mean_func = pm.gp.mean.Zero()

# The latent function values are one sample from a multivariate normal
f_true = rng.multivariate_normal(mean_func(X).eval(), cov_func(X).eval() + 1e-8 * np.eye(n), 1).flatten()

# The observed data is the latent function plus a small amount of IID Gaussian noise
sigma_true = 2.0
y = f_true + sigma_true * rng.standard_normal(n)

with pm.Model() as model:
    ell = pm.Gamma("ell", alpha=2, beta=1)
    eta = pm.HalfCauchy("eta", beta=5)

    cov = eta**2 * pm.gp.cov.Matern52(1, ell)
    gp = pm.gp.Marginal(cov_func=cov)

    sigma = pm.HalfCauchy("sigma", beta=5)
    y_ = gp.marginal_likelihood("y", X=X, y=y, sigma=sigma)

    marginal_post = pm.sample(500, tune=1000, chains=4, cores=1, random_seed=3, progressbar=False)

summary = az.summary(marginal_post, var_names=["ell", "eta", "sigma"], round_to=2, kind="stats")

# new values from x=0 to x=20
X_new = np.linspace(0, 20, 600)[:, None]

# add the GP conditional to the model, given the new X values
with model:
    f_pred = gp.conditional("f_pred", X_new)

with model:
    pred_samples = pm.sample_posterior_predictive(marginal_post.sel(draw=slice(0, 20)), var_names=["f_pred"],
                                                  random_seed=4, progressbar=False)
f_pred_samples = az.extract(pred_samples, group="posterior_predictive", var_names=["f_pred"])
assert f_pred_samples.shape == (600, 4 * 21), f_pred_samples.shape

with model:
    y_pred = gp.conditional("y_pred", X_new, pred_noise=True)
    y_samples = pm.sample_posterior_predictive(marginal_post.sel(draw=slice(0, 50)), var_names=["y_pred"],
                                               random_seed=5, progressbar=False)
y_pred_samples = az.extract(y_samples, group="posterior_predictive", var_names=["y_pred"])
assert y_pred_samples.shape == (600, 4 * 51), y_pred_samples.shape

# predict
with model:
    mu, var = gp.predict(X_new, point=az.extract(marginal_post.posterior.sel(chain=[0], draw=[0])).squeeze(), diag=True)
sd = np.sqrt(var)
assert mu.shape == (600,) and np.all(np.isfinite(sd))

write_results(sys.argv[1], {"marginal": marginal_post}, var_names=["ell", "eta", "sigma"])

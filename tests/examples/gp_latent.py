"""Gaussian processes: gp.Latent with a Student-T likelihood, and a Latent GP classification, with .conditional.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/gaussian_processes/GP-Latent.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook; `nuts_sampler="numpyro"` -> PyMC's
default sampler (500 draws, 4 chains; classification with 150 of the notebook's 300 points); the classification
labels are drawn with numpy (`pm.draw(..., random_seed=rng)` draws other labels in each library); the true
functions are drawn with numpy's multivariate_normal and a 1e-8 jitter (PyMC 6's MvNormal draw of the singular
ExpQuad covariance gives NaN); plotting dropped; compared: the hyperparameters, and f of the regression.
"""

import os
import sys

import arviz as az
import numpy as np
import pymc as pm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import extend, write_results  # noqa: E402

RANDOM_SEED = 8998
rng = np.random.default_rng(RANDOM_SEED)

n = 50  # The number of data points
X = np.linspace(0, 10, n)[:, None]  # The inputs to the GP must be arranged as a column vector

# Define the true covariance function and its parameters
ell_true = 1.0
eta_true = 4.0
cov_func = eta_true**2 * pm.gp.cov.ExpQuad(1, ell_true)

# A mean function that is zero everywhere
mean_func = pm.gp.mean.Zero()

# The latent function values are one sample from a multivariate normal
f_true = rng.multivariate_normal(mean_func(X).eval(), cov_func(X).eval() + 1e-8 * np.eye(n))

# The observed data is the latent function plus a small amount of T distributed noise
sigma_true = 1.0
nu_true = 5.0
y = f_true + sigma_true * rng.standard_t(df=nu_true, size=n)

with pm.Model() as model:
    ell = pm.Gamma("ell", alpha=2, beta=1)
    eta = pm.HalfNormal("eta", sigma=5)

    cov = eta**2 * pm.gp.cov.ExpQuad(1, ell)
    gp = pm.gp.Latent(cov_func=cov)

    f = gp.prior("f", X=X)

    sigma = pm.HalfNormal("sigma", sigma=2.0)
    nu = 1 + pm.Gamma("nu", alpha=2, beta=0.1)  # add one because student t is undefined for degrees of freedom less than one
    y_ = pm.StudentT("y", mu=f, lam=1.0 / sigma, nu=nu, observed=y)

    idata = pm.sample(500, tune=1000, chains=4, cores=1, random_seed=1, progressbar=False)

n_new = 200
X_new = np.linspace(-4, 14, n_new)[:, None]

with model:
    # add the GP conditional to the model, given the new X values
    f_pred = gp.conditional("f_pred", X_new, jitter=1e-4)

    # Sample from the GP conditional distribution
    idata = extend(idata, pm.sample_posterior_predictive(idata, var_names=["f_pred"], random_seed=2,
                                                         progressbar=False))
f_pred = az.extract(idata, group="posterior_predictive", var_names="f_pred").transpose("sample", ...)
assert f_pred.shape == (4 * 500, n_new), f_pred.shape

# Example 2: classification
RANDOM_SEED = 8888
rng = np.random.default_rng(RANDOM_SEED)

# number of data points
n = 150

# x locations
x = np.linspace(0, 10, n)

# true covariance
ell_true = 0.5
eta_true = 1.0
cov_func = eta_true**2 * pm.gp.cov.ExpQuad(1, ell_true)
K = cov_func(x[:, None]).eval()

# zero mean function
mean = np.zeros(n)

# sample from the gp prior
f_true = rng.multivariate_normal(mean, K + 1e-8 * np.eye(n))

# Sample the GP through the likelihood
y = rng.binomial(1, 1.0 / (1.0 + np.exp(-f_true)))

with pm.Model() as class_model:
    ell = pm.InverseGamma("ell", mu=1.0, sigma=0.5)
    eta = pm.Exponential("eta", lam=1.0)
    cov = eta**2 * pm.gp.cov.ExpQuad(1, ell)

    gp = pm.gp.Latent(cov_func=cov)
    f = gp.prior("f", X=x[:, None])

    # logit link and Bernoulli likelihood
    p = pm.Deterministic("p", pm.math.invlogit(f))
    y_ = pm.Bernoulli("y", p=p, observed=y)

    class_idata = pm.sample(500, tune=1000, chains=4, cores=1, random_seed=3, progressbar=False)

n_pred = 200
X_new = np.linspace(0, 12, n_pred)[:, None]

with class_model:
    f_pred = gp.conditional("f_pred", X_new, jitter=1e-4)
    p_pred = pm.Deterministic("p_pred", pm.math.invlogit(f_pred))

with class_model:
    class_idata = extend(class_idata, pm.sample_posterior_predictive(
        class_idata.posterior, var_names=["f_pred", "p_pred"], random_seed=4, progressbar=False))
p_pred = az.extract(class_idata, group="posterior_predictive", var_names="p_pred").transpose("sample", ...)
assert p_pred.shape == (4 * 500, n_pred), p_pred.shape

write_results(sys.argv[1], {"regression": idata, "classification": class_idata},
              var_names={"regression": ["eta", "ell", "sigma", "nu", "f"], "classification": ["eta", "ell"]})

"""GLM: regression on truncated data (pm.Truncated) and on censored data (pm.Censored), plus compile_logp.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/generalized_linear_models/GLM-truncated-censored-regression.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook; the plain linear regressions on the
truncated/censored data are left out; fewer draws; plotting dropped.
"""

import os
import sys

from copy import copy

import arviz as az
import numpy as np
import pymc as pm
import xarray as xr

from numpy.random import default_rng

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import write_results  # noqa: E402

rng = default_rng(12345)

slope, intercept, σ, N = 1, 0, 2, 200
x = rng.uniform(-10, 10, N)
y = rng.normal(loc=slope * x + intercept, scale=σ)


def truncate_y(x, y, bounds):
    keep = (y >= bounds[0]) & (y <= bounds[1])
    return (x[keep], y[keep])


def censor_y(x, y, bounds):
    cy = copy(y)
    cy[y <= bounds[0]] = bounds[0]
    cy[y >= bounds[1]] = bounds[1]
    return (x, cy)


bounds = [-5, 5]
xt, yt = truncate_y(x, y, bounds)
xc, yc = censor_y(x, y, bounds)


def truncated_regression(x, y, bounds):
    with pm.Model() as model:
        slope = pm.Normal("slope", mu=0, sigma=1)
        intercept = pm.Normal("intercept", mu=0, sigma=1)
        σ = pm.HalfNormal("σ", sigma=1)
        normal_dist = pm.Normal.dist(mu=slope * x + intercept, sigma=σ)
        pm.Truncated("obs", normal_dist, lower=bounds[0], upper=bounds[1], observed=y)
    return model


def censored_regression(x, y, bounds):
    with pm.Model() as model:
        slope = pm.Normal("slope", mu=0, sigma=1)
        intercept = pm.Normal("intercept", mu=0, sigma=1)
        σ = pm.HalfNormal("σ", sigma=1)
        y_latent = pm.Normal.dist(mu=slope * x + intercept, sigma=σ)
        obs = pm.Censored("obs", y_latent, lower=bounds[0], upper=bounds[1], observed=y)

    return model


with pm.Model() as m:
    pm.Normal("y", 0, 2)

with pm.Model() as m_censored:
    pm.Censored("y", pm.Normal.dist(0, 2), lower=-1.0, upper=None)

logp_fn = m.compile_logp()
logp_censored_fn = m_censored.compile_logp()

xi = np.hstack((np.linspace(-6, -1.01), [-1.0], np.linspace(-0.99, 6)))
uncensored = [np.exp(logp_fn({"y": x})) for x in xi]
censored = [np.exp(logp_censored_fn({"y": x})) for x in xi]
assert censored[50] > uncensored[50] and censored[0] == 0.0, (censored[50], uncensored[50], censored[0])

truncated_model = truncated_regression(xt, yt, bounds)

with truncated_model:
    truncated_fit = pm.sample(1000, tune=1000, chains=4, cores=1, random_seed=1, progressbar=False)

censored_model = censored_regression(xc, yc, bounds)

with censored_model:
    censored_fit = pm.sample(
        1000, tune=1000, chains=4, cores=1, random_seed=2, progressbar=False, init="adapt_diag"
    )

xi = xr.DataArray(np.array([np.min(xt), np.max(xt)]), dims=["obs_id"])
post = az.extract(truncated_fit)
y_ppc = xi * post["slope"] + post["intercept"]

write_results(sys.argv[1], {"truncated_model": truncated_fit, "censored_model": censored_fit})

"""Survival: three parameterizations of the Weibull accelerated failure time model, censoring via pm.Potential.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/survival_analysis/weibull_aft.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook. The notebook downloads 500 rows of
R's flchain data through statsmodels; this script simulates 500 right-censored Weibull lifetimes of a similar
scale instead (seeded). Plotting dropped; fewer draws.
"""

import os
import sys

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import write_results  # noqa: E402

RANDOM_SEED = 8927
np.random.seed(RANDOM_SEED)

# simulated stand-in for flchain: Weibull lifetimes (days), censored at the end of follow-up
lifetime = 9000.0 * np.random.weibull(1.3, size=500)
follow_up = np.random.uniform(1500, 5000, size=500)
y = np.minimum(lifetime, follow_up).round() + 1
censored = lifetime > follow_up


def weibull_lccdf(x, alpha, beta):
    """Log complementary cdf of Weibull distribution."""
    return -((x / beta) ** alpha)


with pm.Model() as model_1:
    alpha_sd = 10.0

    mu = pm.Normal("mu", mu=0, sigma=100)
    alpha_raw = pm.Normal("a0", mu=0, sigma=0.1)
    alpha = pm.Deterministic("alpha", pt.exp(alpha_sd * alpha_raw))
    beta = pm.Deterministic("beta", pt.exp(mu / alpha))

    y_obs = pm.Weibull("y_obs", alpha=alpha, beta=beta, observed=y[~censored])
    y_cens = pm.Potential("y_cens", weibull_lccdf(y[censored], alpha, beta))

with model_1:
    # Change init to avoid divergences
    data_1 = pm.sample(
        1000, tune=1000, chains=4, cores=1, random_seed=1, progressbar=False, target_accept=0.9, init="adapt_diag"
    )

with pm.Model() as model_2:
    alpha = pm.Normal("alpha", mu=0, sigma=10)
    r = pm.Gamma("r", alpha=1, beta=0.001, initval=0.25)
    beta = pm.Deterministic("beta", pt.exp(-alpha / r))

    y_obs = pm.Weibull("y_obs", alpha=r, beta=beta, observed=y[~censored])
    y_cens = pm.Potential("y_cens", weibull_lccdf(y[censored], r, beta))

with model_2:
    # Increase target_accept to avoid divergences
    data_2 = pm.sample(1000, tune=1000, chains=4, cores=1, random_seed=2, progressbar=False, target_accept=0.9)

logtime = np.log(y)


def gumbel_sf(y, mu, sigma):
    """Gumbel survival function."""
    return 1.0 - pt.exp(-pt.exp(-(y - mu) / sigma))


with pm.Model() as model_3:
    s = pm.HalfNormal("s", tau=5.0)
    gamma = pm.Normal("gamma", mu=0, sigma=5)

    y_obs = pm.Gumbel("y_obs", mu=gamma, beta=s, observed=logtime[~censored])
    y_cens = pm.Potential("y_cens", gumbel_sf(y=logtime[censored], mu=gamma, sigma=s))

with model_3:
    # Change init to avoid divergences
    data_3 = pm.sample(1000, tune=1000, chains=4, cores=1, random_seed=3, progressbar=False, init="adapt_diag")

summary = az.summary(data_1, var_names=["alpha", "beta"], round_to=2)

write_results(sys.argv[1], {"model_1": data_1, "model_2": data_2, "model_3": data_3})

"""Time series: AR(2) with a constant, rho as one vector and as pt.stack of three priors.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/time_series/AR.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook; the AR(1) fit is left out; fewer
draws; plotting dropped.
"""

import os
import sys

import arviz as az
import numpy as np
import pymc as pm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import write_results  # noqa: E402

RANDOM_SEED = 8927
np.random.seed(RANDOM_SEED)

T = 10000

# true stationarity:
true_rho = 0.7, -0.3
# true standard deviation of the innovation:
true_sigma = 2.0
# true process mean:
true_center = -1.0

y = np.random.normal(loc=true_center, scale=true_sigma, size=T)
y[1] += true_rho[0] * y[0]
for t in range(2, T - 100):
    y[t] += true_rho[0] * y[t - 1] + true_rho[1] * y[t - 2]

y = y[-5000:]

with pm.Model() as ar2:
    rho = pm.Normal("rho", 0.0, 1.0, shape=3)
    sigma = pm.HalfNormal("sigma", 3)
    likelihood = pm.AR(
        "y", rho=rho, sigma=sigma, constant=True, init_dist=pm.Normal.dist(0, 10), observed=y
    )

    idata = pm.sample(
        1000,
        tune=1000,
        chains=4,
        cores=1,
        random_seed=RANDOM_SEED,
        progressbar=False,
    )

import pytensor.tensor as pt

with pm.Model() as ar2_bis:
    rho0 = pm.Normal("rho0", mu=0.0, sigma=5.0)
    rho1 = pm.Uniform("rho1", -1, 1)
    rho2 = pm.Uniform("rho2", -1, 1)
    sigma = pm.HalfNormal("sigma", 3)
    likelihood = pm.AR(
        "y",
        rho=pt.stack([rho0, rho1, rho2]),
        sigma=sigma,
        constant=True,
        init_dist=pm.Normal.dist(0, 10),
        observed=y,
    )

    idata_bis = pm.sample(
        1000,
        tune=1000,
        chains=4,
        cores=1,
        target_accept=0.9,
        random_seed=RANDOM_SEED,
        progressbar=False,
    )

write_results(sys.argv[1], {"ar2": idata, "ar2_bis": idata_bis})

"""Hierarchical: eight schools, centered and non-centered parameterizations.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/diagnostics_and_criticism/Diagnosing_biased_Inference_with_Divergences.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook; the non-centered model is compared
(fit_ncp90: target_accept=0.90), the centered one only runs (its posterior is biased by divergences, so its
means are not a fair comparison); plotting dropped.
"""

import os
import sys

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import divergences, write_results  # noqa: E402

SEED = 20134234

# Data of the Eight Schools Model
J = 8
y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
sigma = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
# tau = 25.

with pm.Model() as Centered_eight:
    mu = pm.Normal("mu", mu=0, sigma=5)
    tau = pm.HalfCauchy("tau", beta=5)
    theta = pm.Normal("theta", mu=mu, sigma=tau, shape=J)
    obs = pm.Normal("obs", mu=theta, sigma=sigma, observed=y)

with Centered_eight:
    short_trace = pm.sample(200, chains=4, cores=1, random_seed=SEED, progressbar=False)

diagnostics = az.summary(short_trace, kind="diagnostics", round_to=2)
divergent = short_trace.sample_stats["diverging"]
print(f"Number of Divergences {divergent.sum().item()}")

with pm.Model() as NonCentered_eight:
    mu = pm.Normal("mu", mu=0, sigma=5)
    tau = pm.HalfCauchy("tau", beta=5)
    theta_tilde = pm.Normal("theta_t", mu=0, sigma=1, shape=J)
    theta = pm.Deterministic("theta", mu + tau * theta_tilde)
    obs = pm.Normal("obs", mu=theta, sigma=sigma, observed=y)

with NonCentered_eight:
    fit_ncp90 = pm.sample(1000, tune=1000, chains=4, cores=1, random_seed=SEED, target_accept=0.90, progressbar=False)

write_results(sys.argv[1], {"NonCentered_eight": fit_ncp90})

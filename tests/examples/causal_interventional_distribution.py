"""Causal inference: interventional distributions with the do-operator (pm.do) on three DAGs.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/causal_inference/interventional_distribution.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook with `do` taken from PyMC (pm.do, where
it lives now) instead of pymc_experimental; sample_prior_predictive(samples=...) -> draws= (PyMC 6);
N = 10,000 draws instead of 1,000,000; plotting dropped. The compared quantities are prior (forward) draws.
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

J = 8
y = np.array([28, 8, -3, 7, -1, 1, 18, 12])
sigma = np.array([15, 10, 16, 11, 9, 11, 10, 18])

with pm.Model() as schools:
    eta = pm.Normal("eta", 0, 1, shape=J)
    mu = pm.Normal("mu", 0, sigma=1e6)
    tau = pm.HalfCauchy("tau", 25)
    theta = mu + tau * eta
    obs = pm.Normal("obs", theta, sigma=sigma, observed=y)

pm.model_to_graphviz(schools)

# number of samples to generate
N = 10_000

with pm.Model() as model1:
    x = pm.Normal("x")
    temp = pm.Normal("temp")
    y = pm.Deterministic("y", x + 1 + np.sqrt(3) * temp)
    idata1 = pm.sample_prior_predictive(draws=N, random_seed=rng)

df1 = az.extract(idata1, group="prior", var_names=["x", "y"]).to_dataframe()

pm.model_to_graphviz(model1)

with pm.Model() as model2:
    y = pm.Normal("y", mu=1, sigma=2)
    temp = pm.Normal("temp")
    x = pm.Deterministic("x", (y - 1) / 4 + np.sqrt(3) * temp / 2)
    idata2 = pm.sample_prior_predictive(draws=N, random_seed=rng)

df2 = az.extract(idata2, group="prior", var_names=["x", "y"]).to_dataframe()

pm.model_to_graphviz(model2)

with pm.Model() as model3:
    z = pm.Normal("z")
    temp = pm.Normal("temp")
    y = pm.Deterministic("y", z + 1 + np.sqrt(3) * temp)
    x = pm.Deterministic("x", z)
    idata3 = pm.sample_prior_predictive(draws=N, random_seed=rng)

df3 = az.extract(idata3, group="prior", var_names=["x", "y"]).to_dataframe()

pm.model_to_graphviz(model3)

# Extract samples from P(y|x≈2)
conditional1 = df1.query("1.9 < x < 2.1")["y"]
conditional2 = df2.query("1.9 < x < 2.1")["y"]
conditional3 = df3.query("1.9 < x < 2.1")["y"]

model1_do = pm.do(model1, {"x": 2})
pm.model_to_graphviz(model1_do)

model2_do = pm.do(model2, {"x": 2})
pm.model_to_graphviz(model2_do)

model3_do = pm.do(model3, {"x": 2})
pm.model_to_graphviz(model3_do)

with model1_do:
    idata1_do = pm.sample_prior_predictive(draws=N, random_seed=rng)

with model2_do:
    idata2_do = pm.sample_prior_predictive(draws=N, random_seed=rng)

with model3_do:
    idata3_do = pm.sample_prior_predictive(draws=N, random_seed=rng)

# put the interventional distributions into a convenient long-format data frame
df1_new = pd.DataFrame(
    {
        "Interventional": az.extract(idata1_do, group="prior", var_names="y").squeeze().data,
        "DAG": 1,
    }
)

write_results(
    sys.argv[1],
    {
        "model1": idata1,
        "model2": idata2,
        "model3": idata3,
        "model1_do": idata1_do,
        "model2_do": idata2_do,
        "model3_do": idata3_do,
    },
    group="prior",
    var_names=["x", "y"],
)

"""Causal inference: what-if analysis with pm.do and pm.observe (simulate, condition, intervene, predict).

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/causal_inference/interventional_what_if_do_operator.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook; plotting dropped; fewer draws. The
notebook simulates its data with sample_prior_predictive on the pm.do model; the script does that too, but
then fits the 100 rows stored in data/what_if_do_observe.csv (one such simulation made with PyMC, seed 42),
so that PyMC and jaxmc fit the same data.
"""

import os
import sys

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import write_results  # noqa: E402

rng = np.random.default_rng(42)
SEED = 8927

with pm.Model(coords={"i": [0]}) as model_generative:
    # priors
    beta_y0 = pm.Normal("beta_y0")
    beta_ay = pm.Normal("beta_ay")
    beta_by = pm.Normal("beta_by")
    beta_cy = pm.Normal("beta_cy")
    # observation noise on Y
    sigma_y = pm.HalfNormal("sigma_y")
    # core nodes and causal relationships
    a = pm.Normal("a", mu=0, sigma=1, dims="i")
    b = pm.Normal("b", mu=0, sigma=1, dims="i")
    c = pm.Normal("c", mu=0, sigma=1, dims="i")
    y_mu = pm.Deterministic(
        "y_mu", beta_y0 + (beta_ay * a) + (beta_by * b) + (beta_cy * c), dims="i"
    )
    y = pm.Normal("y", mu=y_mu, sigma=sigma_y, dims="i")


pm.model_to_graphviz(model_generative)

true_values = {
    "beta_ay": 1.5,
    "beta_by": 0.7,
    "beta_cy": 0.3,
    "sigma_y": 0.2,
    "beta_y0": 0.0,
}

model_simulate = pm.do(model_generative, true_values)

model_simulate.to_graphviz()

N = 100

with model_simulate:
    simulate = pm.sample_prior_predictive(draws=N, random_seed=rng)

observed = {
    "a": simulate.prior["a"].values.flatten(),
    "b": simulate.prior["b"].values.flatten(),
    "c": simulate.prior["c"].values.flatten(),
    "y": simulate.prior["y"].values.flatten(),
}

df = pd.DataFrame(observed)
assert df.shape == (N, 4), df.shape
if len(sys.argv) > 2 and sys.argv[2] == "--write-data":
    df.to_csv(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "what_if_do_observe.csv"), index=False)
# the same simulated rows for PyMC and jaxmc
df = pd.read_csv(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "what_if_do_observe.csv"))

data_dict = {"a": df["a"], "b": df["b"], "c": df["c"], "y": df["y"]}
model_inference = pm.observe(model_generative, data_dict)
model_inference.set_dim("i", N, coord_values=np.arange(N))
pm.model_to_graphviz(model_inference)

with model_inference:
    idata = pm.sample(1000, tune=1000, chains=4, cores=1, random_seed=SEED, progressbar=False)

model_counterfactual = pm.do(model_inference, {"a": df["a"], "c": df["c"]})

model_b0 = pm.do(model_counterfactual, {"b": np.zeros(N, dtype="int32")}, prune_vars=True)
model_b1 = pm.do(model_counterfactual, {"b": df["b"]}, prune_vars=True)

# Sample when 'b' was 0: P(y | (a,c), do(b=0))
idata_b0 = pm.sample_posterior_predictive(
    idata,
    model=model_b0,
    predictions=True,
    var_names=["y_mu"],
    random_seed=SEED,
    progressbar=False,
)
# Sample when 'b' was as observed: P(y | (a,c), do(b=observed))
idata_b1 = pm.sample_posterior_predictive(
    idata,
    model=model_b1,
    predictions=True,
    var_names=["y_mu"],
    random_seed=SEED,
    progressbar=False,
)

df["b_scenario_1"] = 0
df["y_scenario_1"] = (
    idata_b0.predictions.y_mu.mean(("chain", "draw")).values.reshape(1, -1).flatten()
)

model_b0 = pm.do(model_counterfactual, {"b": 5 * df["b"]}, prune_vars=True)

# Sample when 'b' was 5 times b: P(y | (a,c), do(b=5*b))
idata_b5 = pm.sample_posterior_predictive(
    idata,
    model=model_b0,
    predictions=True,
    var_names=["y_mu"],
    random_seed=SEED,
    progressbar=False,
)

df["b_scenario_2"] = 5 * df["b"]
df["y_scenario_2"] = (
    idata_b5.predictions.y_mu.mean(("chain", "draw")).values.reshape(1, -1).flatten()
)

write_results(
    sys.argv[1],
    {
        "model_inference": idata,
        "do_b0": (idata_b0, "predictions"),
        "do_b5": (idata_b5, "predictions"),
    },
    var_names={"model_inference": list(true_values), "do_b0": ["y_mu"], "do_b5": ["y_mu"]},
)

"""Causal inference: difference in differences, with counterfactual pushforward predictions via pm.set_data.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/causal_inference/difference_in_differences.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook; fewer draws; plotting dropped.
"""

import os
import sys

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import write_results  # noqa: E402

RANDOM_SEED = 8927
rng = np.random.default_rng(RANDOM_SEED)


def outcome(t, control_intercept, treat_intercept_delta, trend, Δ, group, treated):
    return control_intercept + (treat_intercept_delta * group) + (t * trend) + (Δ * treated * group)


def is_treated(t, intervention_time, group):
    return (t > intervention_time) * group


# true parameters
control_intercept = 1
treat_intercept_delta = 0.25
trend = 1
Δ = 0.5
intervention_time = 0.5

ti = np.linspace(-0.5, 1.5, 1000)

df = pd.DataFrame(
    {
        "group": [0, 0, 1, 1] * 10,
        "t": [0.0, 1.0, 0.0, 1.0] * 10,
        "unit": np.concatenate([[i] * 2 for i in range(20)]),
    }
)

df["treated"] = is_treated(df["t"], intervention_time, df["group"])

df["y"] = outcome(
    df["t"],
    control_intercept,
    treat_intercept_delta,
    trend,
    Δ,
    df["group"],
    df["treated"],
)
df["y"] += rng.normal(0, 0.1, df.shape[0])

with pm.Model() as model:
    # data
    t = pm.Data("t", df["t"].values, dims="obs_idx")
    treated = pm.Data("treated", df["treated"].values, dims="obs_idx")
    group = pm.Data("group", df["group"].values, dims="obs_idx")
    # priors
    _control_intercept = pm.Normal("control_intercept", 0, 5)
    _treat_intercept_delta = pm.Normal("treat_intercept_delta", 0, 1)
    _trend = pm.Normal("trend", 0, 5)
    _Δ = pm.Normal("Δ", 0, 1)
    sigma = pm.HalfNormal("sigma", 1)
    # expectation
    mu = pm.Deterministic(
        "mu",
        outcome(t, _control_intercept, _treat_intercept_delta, _trend, _Δ, group, treated),
        dims="obs_idx",
    )
    # likelihood
    pm.Normal("obs", mu, sigma, observed=df["y"].values, dims="obs_idx")

pm.model_to_graphviz(model)

with model:
    idata = pm.sample(1000, tune=1000, chains=4, cores=1, random_seed=RANDOM_SEED, progressbar=False)

# pushforward predictions for control group
with model:
    group_control = [0] * len(ti)  # must be integers
    treated = [0] * len(ti)  # must be integers
    pm.set_data({"t": ti, "group": group_control, "treated": treated})
    ppc_control = pm.sample_posterior_predictive(idata, var_names=["mu"], progressbar=False)

# pushforward predictions for treatment group
with model:
    group = [1] * len(ti)  # must be integers
    pm.set_data(
        {
            "t": ti,
            "group": group,
            "treated": is_treated(ti, intervention_time, group),
        }
    )
    ppc_treatment = pm.sample_posterior_predictive(idata, var_names=["mu"], progressbar=False)

# counterfactual: what do we predict of the treatment group (after the intervention) if
# they had _not_ been treated?
t_counterfactual = np.linspace(intervention_time, 1.5, 100)
with model:
    group = [1] * len(t_counterfactual)  # must be integers
    pm.set_data(
        {
            "t": t_counterfactual,
            "group": group,
            "treated": [0] * len(t_counterfactual),  # THIS IS OUR COUNTERFACTUAL
        }
    )
    ppc_counterfactual = pm.sample_posterior_predictive(idata, var_names=["mu"], progressbar=False)

assert ppc_counterfactual.posterior_predictive["mu"].shape[-1] == len(t_counterfactual)

write_results(sys.argv[1], {"model": idata}, var_names=["control_intercept", "treat_intercept_delta", "trend", "Δ", "sigma"])

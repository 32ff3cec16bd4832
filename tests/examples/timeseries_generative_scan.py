"""Time series: AR(2) written as a generative graph with pytensor.scan inside pm.CustomDist, fitted by pm.observe.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/time_series/Time_Series_Generative_Graph.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook; sample_prior_predictive(samples=) ->
draws= (PyMC 6); the observed series is read from data/ar2_generative.csv (the notebook's prior draw 2, made
once with PyMC, seed 42) so that PyMC and jaxmc fit the same data; statsmodels, the forecast section and
plotting dropped; fewer draws.
"""

import os
import sys

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt

from pymc.pytensorf import collect_default_updates

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import write_results  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "ar2_generative.csv")

rng = np.random.default_rng(42)

lags = 2  # Number of lags
trials = 100  # Time series length


# This is the transition function for the AR(2) model.
# We take as inputs previous steps and then specify the autoregressive relationship.
# Finally, we add Gaussian noise to the model.
def ar_step(x_tm2, x_tm1, rho, sigma):
    mu = x_tm1 * rho[0] + x_tm2 * rho[1]
    x = mu + pm.Normal.dist(sigma=sigma)
    return x, collect_default_updates([x])


# Here we actually "loop" over the time series.
def ar_dist(ar_init, rho, sigma, size):
    ar_innov, _ = pytensor.scan(
        fn=ar_step,
        outputs_info=[{"initial": ar_init, "taps": range(-lags, 0)}],
        non_sequences=[rho, sigma],
        n_steps=trials - lags,
        strict=True,
    )

    return ar_innov


coords = {
    "lags": range(-lags, 0),
    "steps": range(trials - lags),
    "trials": range(trials),
}
with pm.Model(coords=coords, check_bounds=False) as model:
    rho = pm.Normal(name="rho", mu=0, sigma=0.2, dims=("lags",))
    sigma = pm.HalfNormal(name="sigma", sigma=0.2)

    ar_init = pm.Normal(name="ar_init", sigma=0.5, dims=("lags",))

    ar_innov = pm.CustomDist(
        "ar_dist",
        ar_init,
        rho,
        sigma,
        dist=ar_dist,
        dims=("steps",),
    )

    ar = pm.Deterministic(
        name="ar", var=pt.concatenate([ar_init, ar_innov], axis=-1), dims=("trials",)
    )


pm.model_to_graphviz(model)

with model:
    prior = pm.sample_prior_predictive(draws=100, random_seed=rng)

chosen_draw = 2
# select a random draw from the prior
prior_draw = prior.prior.isel(chain=0, draw=chosen_draw)
assert prior_draw["ar"].shape == (trials,)
if len(sys.argv) > 2 and sys.argv[2] == "--write-data":
    pd.DataFrame({"ar": prior_draw["ar"].values}).to_csv(DATA, index=False)
# the same series for PyMC and jaxmc
ar_obs = pd.read_csv(DATA)["ar"].to_numpy()
test_data = ar_obs[lags:]

with pm.observe(model, {"ar_dist": test_data}) as observed_model:
    trace = pm.sample(1000, tune=1000, chains=4, cores=1, random_seed=42, progressbar=False)

with observed_model:
    post_pred = pm.sample_posterior_predictive(trace, random_seed=rng, progressbar=False)

post_pred_ar = post_pred.posterior_predictive["ar"]
assert post_pred_ar.sizes["trials"] == trials


def conditional_ar_dist(y_data, rho, sigma, size):
    # Here we condition on the observed data by passing it through the `sequences` argument.
    ar_innov, _ = pytensor.scan(
        fn=ar_step,
        sequences=[{"input": y_data, "taps": list(range(-lags, 0))}],
        non_sequences=[rho, sigma],
        n_steps=trials - lags,
        strict=True,
    )

    return ar_innov


coords = {
    "lags": range(-lags, 0),
    "steps": range(-1, trials - lags - 1),  # <- Coordinate shift!
    "trials": range(1, trials + 1),  # <- Coordinate shift!
}
with pm.Model(coords=coords, check_bounds=False) as conditional_model:
    y_data = pm.Data("y_data", ar_obs)
    rho = pm.Flat(name="rho", dims=("lags",))
    sigma = pm.Flat(name="sigma")

    ar_innov = pm.CustomDist(
        "ar_dist",
        y_data,
        rho,
        sigma,
        dist=conditional_ar_dist,
        dims=("steps",),
    )

    ar = pm.Deterministic(
        name="ar", var=pt.concatenate([ar_init, ar_innov], axis=-1), dims=("trials",)
    )

    post_pred_conditional = pm.sample_posterior_predictive(
        trace, var_names=["ar"], random_seed=rng, progressbar=False
    )

assert post_pred_conditional.posterior_predictive["ar"].sizes["trials"] == trials

write_results(sys.argv[1], {"observed_model": trace}, var_names=["rho", "sigma", "ar_init"])

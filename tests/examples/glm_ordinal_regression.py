"""GLM: ordinal regression (OrderedLogistic) with ordered Normal cutpoints and with Dirichlet cutpoints.

Source: https://github.com/pymc-devs/pymc-examples/blob/main/examples/generalized_linear_models/GLM-ordinal-regression.ipynb
(MIT license, see LICENSE-pymc-examples). Model code as in the notebook (transforms.univariate_ordered -> transforms.ordered, its PyMC 6 name); the data are simulated by the
notebook's make_data with a fixed seed (one whose ratings are 0..K-1, which OrderedLogistic needs); the sample call inside make_model uses PyMC's default sampler and
fewer draws instead of nuts_sampler="numpyro"; two of the five models are fitted; plotting and statsmodels dropped.
"""

import os
import sys

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from scipy.stats import bernoulli

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_results import extend, write_results  # noqa: E402

rng = np.random.default_rng(42)
np.random.seed(41)  # make_data uses the global state; with seed 41 the ratings are 0..K-1, as the model needs


def make_data():
    salary = np.random.normal(40, 10, 500)
    work_sat = np.random.beta(1, 0.4, 500)
    work_from_home = bernoulli.rvs(0.7, size=500)
    work_from_home_calc = np.where(work_from_home, 1.4 * work_from_home, work_from_home)
    latent_rating = (
        0.08423 * salary + 0.2 * work_sat + work_from_home_calc + np.random.normal(0, 1, 500)
    )
    explicit_rating = np.round(latent_rating, 0)
    df = pd.DataFrame(
        {
            "salary": salary,
            "work_sat": work_sat,
            "work_from_home": work_from_home,
            "latent_rating": latent_rating,
            "explicit_rating": explicit_rating,
        }
    )
    return df


df = make_data()

K = len(df["explicit_rating"].unique())


def constrainedUniform(N, min=0, max=1):
    return pm.Deterministic(
        "cutpoints",
        pt.concatenate(
            [
                np.ones(1) * min,
                pt.extra_ops.cumsum(pm.Dirichlet("cuts_unknown", a=np.ones(N - 2)))
                * (min + (max - min)),
            ]
        ),
    )


def make_model(priors, model_spec=1, constrained_uniform=False, logit=True):
    with pm.Model() as model:

        if constrained_uniform:
            cutpoints = constrainedUniform(K, 0, K)
        else:
            sigma = pm.Exponential("sigma", priors["sigma"])
            cutpoints = pm.Normal(
                "cutpoints",
                mu=priors["mu"],
                sigma=sigma,
                transform=pm.distributions.transforms.ordered,
            )

        if model_spec == 1:
            beta = pm.Normal("beta", priors["beta"][0], priors["beta"][1], size=1)
            mu = pm.Deterministic("mu", beta[0] * df.salary)
        elif model_spec == 2:
            beta = pm.Normal("beta", priors["beta"][0], priors["beta"][1], size=2)
            mu = pm.Deterministic("mu", beta[0] * df.salary + beta[1] * df.work_sat)
        elif model_spec == 3:
            beta = pm.Normal("beta", priors["beta"][0], priors["beta"][1], size=3)
            mu = pm.Deterministic(
                "mu", beta[0] * df.salary + beta[1] * df.work_sat + beta[2] * df.work_from_home
            )
        if logit:
            y_ = pm.OrderedLogistic("y", cutpoints=cutpoints, eta=mu, observed=df.explicit_rating)
        else:
            y_ = pm.OrderedProbit("y", cutpoints=cutpoints, eta=mu, observed=df.explicit_rating)
        idata = pm.sample(
            1000, tune=1000, chains=4, cores=1, random_seed=42, progressbar=False,
            idata_kwargs={"log_likelihood": True},
        )
        extend(idata, pm.sample_posterior_predictive(idata, random_seed=42, progressbar=False))
    return idata, model


priors = {"sigma": 1, "beta": [0, 1], "mu": np.linspace(0, K, K - 1)}
idata3, model3 = make_model(priors, model_spec=3)
idata4, model4 = make_model(priors, model_spec=3, constrained_uniform=True)

summary3 = az.summary(idata3, var_names=["sigma", "cutpoints", "beta"])
pm.model_to_graphviz(model3)

write_results(
    sys.argv[1],
    {"model3": idata3, "model4": idata4},
    var_names={"model3": ["sigma", "cutpoints", "beta"], "model4": ["cuts_unknown", "cutpoints", "beta"]},
)

"""sblrc-blr: Bayesian linear regression, 5 predictors, normal priors, half-normal noise scale."""

import numpy as np

POSTERIOR = "sblrc-blr"


def build(pm, data):
    X = np.asarray(data["X"], float)
    with pm.Model(coords={"predictor": np.arange(X.shape[1])}) as model:
        y = pm.Data("y_obs", np.asarray(data["y"], float))
        beta = pm.Normal("beta", mu=0.0, sigma=10.0, dims="predictor")
        sigma = pm.HalfNormal("sigma", sigma=10.0)
        pm.Normal("y", mu=pm.math.dot(X, beta), sigma=sigma, observed=y)
    return model

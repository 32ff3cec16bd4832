"""diamonds-diamonds: log price on 24 collinear polynomial/interaction terms of diamond features (brms model)."""

import numpy as np

POSTERIOR = "diamonds-diamonds"


def build(pm, data):
    X = np.asarray(data["X"], float)
    Xc = X[:, 1:] - X[:, 1:].mean(axis=0)  # centred predictors without the intercept column
    with pm.Model() as model:
        b = pm.Normal("b", mu=0.0, sigma=1.0, shape=Xc.shape[1])
        intercept = pm.StudentT("Intercept", nu=3, mu=8.0, sigma=10.0)
        sigma = pm.HalfStudentT("sigma", nu=3, sigma=10.0)
        pm.Normal("Y", mu=intercept + pm.math.dot(Xc, b), sigma=sigma, observed=np.asarray(data["Y"], float))
    return model

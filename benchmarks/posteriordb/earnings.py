"""earnings-logearn_interaction_z: log earnings on standardised height, sex and their interaction."""

import numpy as np

POSTERIOR = "earnings-logearn_interaction_z"


def build(pm, data):
    height = np.asarray(data["height"], float)
    male = np.asarray(data["male"], float)
    log_earn = np.log(np.asarray(data["earn"], float))
    z_height = (height - height.mean()) / height.std(ddof=1)
    X = np.column_stack([np.ones_like(height), z_height, male, z_height * male])
    with pm.Model() as model:
        beta = pm.Flat("beta", shape=4)
        sigma = pm.HalfFlat("sigma")
        pm.Normal("log_earn", mu=pm.math.dot(X, beta), sigma=sigma, observed=log_earn)
    return model

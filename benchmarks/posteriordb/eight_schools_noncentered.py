"""eight_schools-eight_schools_noncentered: hierarchical normal model, non-centred (see data/*/MODEL.md)."""

import numpy as np

POSTERIOR = "eight_schools-eight_schools_noncentered"
#: posteriordb name -> (variable, 0-based index); the default `theta[j]` -> theta[j-1] rule applies
NAME_MAP: dict = {}
#: the README's heavy-tailed quantities: z-tests only, the fixed 0.8-1.25 sd ratio is not applied
HEAVY_TAILED = ("tau",)


def build(pm, data):
    J = int(data["J"])
    with pm.Model(coords={"school": np.arange(J)}) as model:
        y = pm.Data("y_obs", np.asarray(data["y"], float), dims="school")
        sigma = np.asarray(data["sigma"], float)
        mu = pm.Normal("mu", mu=0.0, sigma=5.0)
        tau = pm.HalfCauchy("tau", beta=5.0)
        theta_trans = pm.Normal("theta_trans", mu=0.0, sigma=1.0, dims="school")
        theta = pm.Deterministic("theta", mu + tau * theta_trans, dims="school")
        pm.Normal("y", mu=theta, sigma=sigma, observed=y, dims="school")
    return model

"""kilpisjarvi_mod-kilpisjarvi: linear trend on an un-centred year covariate (corr(alpha, beta) ~ -0.99999)."""

import numpy as np

POSTERIOR = "kilpisjarvi_mod-kilpisjarvi"


def build(pm, data):
    x = np.asarray(data["x"], float)
    with pm.Model() as model:
        alpha = pm.Normal("alpha", mu=data["pmualpha"], sigma=data["psalpha"])
        beta = pm.Normal("beta", mu=data["pmubeta"], sigma=data["psbeta"])
        sigma = pm.HalfFlat("sigma")
        pm.Normal("y", mu=alpha + beta * x, sigma=sigma, observed=np.asarray(data["y"], float))
    return model

"""arK-arK: AR(5) on a simulated series; the lagged values are data, so the mean is a matrix product."""

import numpy as np

POSTERIOR = "arK-arK"


def build(pm, data):
    K, y = int(data["K"]), np.asarray(data["y"], float)
    T = len(y)
    # lags[t - K, k] = y[t - k - 1]: the coefficient beta[k] multiplies lag k + 1
    lags = np.column_stack([y[K - k - 1:T - k - 1] for k in range(K)])
    with pm.Model(coords={"lag": np.arange(1, K + 1)}) as model:
        alpha = pm.Normal("alpha", mu=0.0, sigma=10.0)
        beta = pm.Normal("beta", mu=0.0, sigma=10.0, dims="lag")
        sigma = pm.HalfCauchy("sigma", beta=2.5)
        pm.Normal("y", mu=alpha + pm.math.dot(lags, beta), sigma=sigma, observed=y[K:])
    return model

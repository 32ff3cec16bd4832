"""low_dim_gauss_mix-low_dim_gauss_mix: two-component normal mixture, ordered means, log-sum-exp likelihood."""

import numpy as np

from benchmarks.posteriordb.common import normal_lpdf

POSTERIOR = "low_dim_gauss_mix-low_dim_gauss_mix"


def build(pm, data):
    y = np.asarray(data["y"], float)
    with pm.Model(coords={"component": [0, 1]}) as model:
        mu = pm.Normal("mu", mu=0.0, sigma=2.0, dims="component",
                       transform=pm.distributions.transforms.ordered, initval=np.array([-1.0, 1.0]))
        sigma = pm.HalfNormal("sigma", sigma=2.0, dims="component")
        theta = pm.Beta("theta", alpha=5.0, beta=5.0)
        lp = pm.math.stack([pm.math.log(theta) + normal_lpdf(pm, y, mu[0], sigma[0]),
                            pm.math.log(1.0 - theta) + normal_lpdf(pm, y, mu[1], sigma[1])])
        pm.Potential("y_loglik", pm.math.logsumexp(lp, axis=0).sum())
    return model

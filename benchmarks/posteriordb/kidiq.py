"""kidiq-kidscore_momiq: kid_score ~ N(beta[0] + beta[1] * mom_iq, sigma), flat prior on beta."""

import numpy as np

POSTERIOR = "kidiq-kidscore_momiq"


def build(pm, data):
    mom_iq = np.asarray(data["mom_iq"], float)
    with pm.Model() as model:
        beta = pm.Flat("beta", shape=2)
        sigma = pm.HalfCauchy("sigma", beta=2.5)
        pm.Normal("kid_score", mu=beta[0] + beta[1] * mom_iq, sigma=sigma,
                  observed=np.asarray(data["kid_score"], float))
    return model

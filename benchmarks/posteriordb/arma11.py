"""arma-arma11: ARMA(1, 1); the moving-average error is a recursion, written with scan.

With jaxmc the recursion is `jaxmc.scan.scan` (one `jax.lax.scan`); with PyMC the same code runs with
`pytensor.scan`.
"""

import numpy as np

from benchmarks.posteriordb.common import scan_fn

POSTERIOR = "arma-arma11"


def build(pm, data):
    scan = scan_fn(pm)
    y = np.asarray(data["y"], float)
    with pm.Model() as model:
        y_obs = pm.Data("y_obs", y)  # sequences must be variables for pytensor.scan
        mu = pm.Normal("mu", mu=0.0, sigma=10.0)
        phi = pm.Normal("phi", mu=0.0, sigma=2.0)
        theta = pm.Normal("theta", mu=0.0, sigma=2.0)
        sigma = pm.HalfCauchy("sigma", beta=2.5)

        def step(y_t, y_tm1, err_tm1, mu, phi, theta):
            nu_t = mu + phi * y_tm1 + theta * err_tm1
            return nu_t, y_t - nu_t

        nu_1 = mu + phi * mu  # the pre-sample error is 0
        err_1 = y_obs[0] - nu_1
        (nu_rest, _), _ = scan(step, sequences=[y_obs[1:], y_obs[:-1]], outputs_info=[None, err_1],
                               non_sequences=[mu, phi, theta])
        nu = pm.math.concatenate([pm.math.stack([nu_1]), nu_rest])
        # e_t = y_t - nu_t ~ N(0, sigma)  <=>  y_t ~ N(nu_t, sigma)  (nu_t depends on y only through the past)
        pm.Normal("y", mu=nu, sigma=sigma, observed=y_obs)
    return model

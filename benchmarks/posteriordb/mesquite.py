"""mesquite-logmesquite_logvash: log leaf weight on log canopy volume, area, shape, total height, group."""

import numpy as np

POSTERIOR = "mesquite-logmesquite_logvash"


def build(pm, data):
    d = {k: np.asarray(v, float) for k, v in data.items() if k != "N"}
    lcv = np.log(d["diam1"] * d["diam2"] * d["canopy_height"])
    lca = np.log(d["diam1"] * d["diam2"])
    lcs = np.log(d["diam1"] / d["diam2"])
    lth = np.log(d["total_height"])
    X = np.column_stack([np.ones_like(lcv), lcv, lca, lcs, lth, d["group"]])
    with pm.Model() as model:
        beta = pm.Flat("beta", shape=6)
        sigma = pm.HalfFlat("sigma")
        pm.Normal("log_weight", mu=pm.math.dot(X, beta), sigma=sigma, observed=np.log(d["weight"]))
    return model

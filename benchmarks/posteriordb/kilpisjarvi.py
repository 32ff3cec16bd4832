"""kilpisjarvi_mod-kilpisjarvi: linear trend on an un-centred year covariate (corr(alpha, beta) ~ -0.99999)."""

import numpy as np

POSTERIOR = "kilpisjarvi_mod-kilpisjarvi"
#: pm.sample's defaults. With a diagonal mass matrix (`nuts={"mass_matrix": "diag"}`, or nutpie's default) and
#: corr(alpha, beta) = -0.99999 every draw needs ~500-1000 leapfrog steps and 4 x 1000 draws give a bulk ESS of only
#: ~300-520, so the R-hat/ESS gate fails for about half of the seeds; the default metric ("auto": a low-rank
#: correction, docs/mass-matrix.md) needs about 6 gradients per effective draw. The diagonal metric's rows are in
#: RESULTS.md (`--diag`).
SAMPLE_KWARGS = {}


def build(pm, data):
    x = np.asarray(data["x"], float)
    with pm.Model() as model:
        alpha = pm.Normal("alpha", mu=data["pmualpha"], sigma=data["psalpha"])
        beta = pm.Normal("beta", mu=data["pmubeta"], sigma=data["psbeta"])
        sigma = pm.HalfFlat("sigma")
        pm.Normal("y", mu=alpha + beta * x, sigma=sigma, observed=np.asarray(data["y"], float))
    return model

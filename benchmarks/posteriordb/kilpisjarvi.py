"""kilpisjarvi_mod-kilpisjarvi: linear trend on an un-centred year covariate (corr(alpha, beta) ~ -0.99999)."""

import numpy as np

POSTERIOR = "kilpisjarvi_mod-kilpisjarvi"
#: With a diagonal mass matrix and corr(alpha, beta) = -0.99999 every draw needs ~500-1000 leapfrog steps and
#: 4 x 1000 draws give a bulk ESS of only ~300-520: at pm.sample's defaults the R-hat/ESS gate (and PyMC's
#: "effective sample size per chain is smaller than 100" warning) fails for about half of the seeds, for
#: jaxmc and nutpie alike. As that warning advises, the run is longer (seeds 1-4 at 2000 + 2000: ESS >= 820).
#: The default-settings rows are in RESULTS.md (`--draws 1000 --tune 1000`).
SAMPLE_KWARGS = {"tune": 2000, "draws": 2000}


def build(pm, data):
    x = np.asarray(data["x"], float)
    with pm.Model() as model:
        alpha = pm.Normal("alpha", mu=data["pmualpha"], sigma=data["psalpha"])
        beta = pm.Normal("beta", mu=data["pmubeta"], sigma=data["psbeta"])
        sigma = pm.HalfFlat("sigma")
        pm.Normal("y", mu=alpha + beta * x, sigma=sigma, observed=np.asarray(data["y"], float))
    return model

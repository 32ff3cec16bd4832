"""PyMC parity of the flagship model and eight schools (centered and non-centered)."""

from types import SimpleNamespace

import numpy as np
import pytest

from jaxmc.demo import build_model

from tests.helpers import pymc_parity

pytest.importorskip("pymc")

SCHOOLS_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SCHOOLS_SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def flagship(pm):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    err = rng.uniform(0.5, 1.5, size=40)
    y = X @ np.array([0.5, -1.0, 2.0]) + 0.3 + rng.normal(size=40) * err
    data = SimpleNamespace(X=X, y=y, y_err=err, ids=np.arange(40), features=["a", "b", "c"])
    return build_model(data, pm)  # the demo's model code, built with jaxmc or PyMC


def eight_schools(pm, centered):
    with pm.Model(coords={"school": [f"s{i}" for i in range(8)]}) as model:
        mu = pm.Normal("mu", 0, 5)
        tau = pm.HalfCauchy("tau", 5) if hasattr(pm, "HalfCauchy") else pm.HalfNormal("tau", 5)
        if centered:
            theta = pm.Normal("theta", mu, tau, dims="school")
        else:
            z = pm.Normal("theta_tilde", 0, 1, dims="school")
            theta = pm.Deterministic("theta", mu + tau * z, dims="school")
        pm.Normal("obs", theta, SCHOOLS_SIGMA, observed=SCHOOLS_Y, dims="school")
    return model


def test_flagship_parity():
    pymc_parity(flagship)


@pytest.mark.parametrize("centered", [True, False])
def test_eight_schools_parity(centered):
    pymc_parity(lambda pm: eight_schools(pm, centered))

"""The eight-schools workflow with ArviZ, as users write it on ArviZ 0.x and 1.x: sample with the log
likelihood, posterior predictive, summary, trace plot, LOO, netCDF round trip."""

import warnings

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.convert import arviz_major, group_dataset, group_names

Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
SCHOOLS = ["Choate", "Deerfield", "Phillips Andover", "Phillips Exeter", "Hotchkiss", "Lawrenceville",
           "St. Paul's", "Mt. Hermon"]


@pytest.fixture(scope="module")
def idata():
    with pm.Model(coords={"school": SCHOOLS}) as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        z = pm.Normal("z", 0.0, 1.0, dims="school")
        theta = pm.Deterministic("theta", mu + tau * z, dims="school")
        pm.Normal("obs", theta, SIGMA, observed=Y, dims="school")
        idata = pm.sample(draws=500, tune=500, chains=2, random_seed=4, progressbar=False,
                          idata_kwargs={"log_likelihood": True})
        pm.sample_posterior_predictive(idata, extend_inferencedata=True, random_seed=5, progressbar=False)
    return idata


def test_groups(idata):
    assert {"posterior", "sample_stats", "log_likelihood", "posterior_predictive", "observed_data"} \
        <= set(group_names(idata))
    assert group_dataset(idata, "posterior_predictive")["obs"].shape == (2, 500, 8)


def test_summary(idata):
    import arviz as az

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        if arviz_major() >= 1:
            table = az.summary(idata, var_names=["mu", "tau", "theta"], ci_prob=0.9)
        else:
            table = az.summary(idata, var_names=["mu", "tau", "theta"], hdi_prob=0.9)
    assert list(table.index)[:3] == ["mu", "tau", "theta[Choate]"]
    assert abs(table.loc["mu", "mean"] - 4.4) < 1.5  # posteriordb: mu 4.4 (sd 3.3)


def test_trace_plot(idata, tmp_path):
    import arviz as az
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    az.plot_trace(idata, var_names=["mu", "tau"])
    plt.savefig(tmp_path / "trace.png")
    plt.close("all")
    assert (tmp_path / "trace.png").stat().st_size > 1000


def test_loo(idata):
    import arviz as az

    loo = az.loo(idata)
    elpd = float(loo.elpd if arviz_major() >= 1 else loo["elpd_loo"])
    assert -35 < elpd < -28  # eight schools: elpd_loo about -30.7


def test_netcdf_round_trip(idata, tmp_path):
    import arviz as az

    path = tmp_path / "eight_schools.nc"
    idata.to_netcdf(str(path))
    back = az.from_netcdf(str(path))
    assert set(group_names(back)) == set(group_names(idata))
    np.testing.assert_array_equal(group_dataset(back, "posterior")["theta"].values,
                                  group_dataset(idata, "posterior")["theta"].values)
    assert list(group_dataset(back, "posterior")["school"].values) == SCHOOLS


def test_no_arviz_refactor_notice(tmp_path):
    """ArviZ 0.x warns once a day of its coming refactor; jaxmc's own use of ArviZ does not show it."""
    import os
    import subprocess
    import sys

    code = ("import warnings, numpy as np, jaxmc as pm\n"
            "warnings.simplefilter('default')\n"
            "with pm.Model():\n"
            "    pm.Normal('y', pm.Normal('mu', 0, 1), 1, observed=np.zeros(3))\n"
            "    pm.sample(draws=50, tune=50, chains=2, progressbar=False, random_seed=1,\n"
            "              compute_convergence_checks=False)\n")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), JAXMC_COMPILATION_CACHE="0")  # no stamp: due today
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr

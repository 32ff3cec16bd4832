"""`pm.compute_log_prior` and `pm.compute_log_likelihood` at given posterior draws, against PyMC's on the same draws."""

import warnings

import numpy as np
import pytest

import jaxmc as pm
from jaxmc import convert

C, D = 2, 15
Y = np.array([0.3, -1.2, 2.5, 0.8])


def _model(lib):
    with lib.Model(coords={"group": ["a", "b", "c"], "obs": range(4)}) as model:
        mu = lib.Normal("mu", 0.0, 2.0, dims="group")
        sigma = lib.HalfNormal("sigma", 1.5)
        p = lib.Beta("p", 2.0, 3.0)
        w = lib.Dirichlet("w", np.ones(3), dims="group")
        lib.Normal("y", (mu * w).sum() + p, sigma, observed=Y, dims="obs")
    return model


def _draws():
    rng = np.random.default_rng(2)
    return {"mu": rng.normal(size=(C, D, 3)), "sigma": rng.gamma(2.0, 0.5, size=(C, D)),
            "p": rng.beta(2.0, 3.0, size=(C, D)), "w": rng.dirichlet(np.ones(3), size=(C, D))}


@pytest.fixture(scope="module")
def idata():
    return convert.to_inference_data(_model(pm), {"posterior": _draws()})


def test_log_prior_known_values(idata):
    out = pm.compute_log_prior(idata, model=_model(pm), extend_inferencedata=False)
    draws = _draws()
    stats = pytest.importorskip("scipy.stats")
    np.testing.assert_allclose(out["mu"].values, stats.norm(0, 2).logpdf(draws["mu"]))
    np.testing.assert_allclose(out["sigma"].values, stats.halfnorm(scale=1.5).logpdf(draws["sigma"]))
    np.testing.assert_allclose(out["p"].values, stats.beta(2, 3).logpdf(draws["p"]))
    assert out["mu"].dims == ("chain", "draw", "group") and out["w"].dims == ("chain", "draw")
    assert set(out.data_vars) == {"mu", "sigma", "p", "w"}


def test_log_prior_equals_pymc(idata):
    pymc = pytest.importorskip("pymc")
    ours = pm.compute_log_prior(idata, model=_model(pm), extend_inferencedata=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pymc.stats.compute_log_prior(idata, model=_model(pymc), extend_inferencedata=False,
                                              progressbar=False)
    for name in ("mu", "sigma", "p", "w"):
        assert ours[name].dims == theirs[name].dims, name
        # PyMC rounds its constants (log sqrt(2 pi) and others) near 1e-8; jaxmc agrees with scipy exactly
        np.testing.assert_allclose(ours[name].values, theirs[name].values, rtol=0, atol=5e-8, err_msg=name)


def test_extend_and_var_names(idata):
    model = _model(pm)
    out = pm.compute_log_prior(idata.copy(), var_names=["sigma"], model=model)
    assert set(convert.group_dataset(out, "log_prior").data_vars) == {"sigma"}
    lik = pm.compute_log_likelihood(idata, model=model, extend_inferencedata=False)
    assert lik["y"].dims == ("chain", "draw", "obs")
    with pytest.raises(ValueError, match="free_RVs"):
        pm.compute_log_prior(idata, var_names=["y"], model=model)
    with pytest.raises(ValueError, match="observed_RVs"):
        pm.compute_log_likelihood(idata, var_names=["mu"], model=model)
    posterior = convert.group_dataset(idata, "posterior")
    ds = pm.compute_log_prior(posterior, model=model)  # a Dataset: nothing to extend, the log prior comes back
    np.testing.assert_array_equal(ds["p"].values, pm.compute_log_prior(idata, model=model,
                                                                       extend_inferencedata=False)["p"].values)

"""pm.gp.MarginalApprox (FITC, VFE, DTC): the approximate marginal likelihood and the conditional/predict
moments equal PyMC's at fixed hyperparameters; a conditional after sampling through
sample_posterior_predictive; bad input. Slow: the posterior agrees with PyMC's by z-score."""

import importlib.util
import numpy as np
import pytest

import jaxmc as pm
from tests.helpers import pymc_parity, z_score

RNG = np.random.default_rng(11)
N = 40
X = np.sort(RNG.uniform(0, 8, (N, 2)), axis=0)
Y = np.sin(X[:, 0]) + 0.3 * np.cos(X[:, 1]) + 0.2 * RNG.normal(size=N)
XU = RNG.uniform(0, 8, (7, 2))
XNEW = RNG.uniform(-1, 9, (6, 2))
POINT = {"ls": 1.4, "eta": 0.8, "sigma": 0.3, "c": 0.1}
APPROX = ["FITC", "VFE", "DTC"]


def _model(lib, approx):
    with lib.Model() as model:
        ls = lib.Gamma("ls", 2.0, 1.0)
        eta = lib.HalfNormal("eta", 2.0)
        sigma = lib.HalfNormal("sigma", 1.0)
        c = lib.Normal("c")
        gp = lib.gp.MarginalApprox(approx=approx, mean_func=lib.gp.mean.Constant(c),
                                   cov_func=eta**2 * lib.gp.cov.Matern52(2, ls=[ls, 2.0 * ls]))
        gp.marginal_likelihood("y", X=X, Xu=XU, y=Y, sigma=sigma)
    return model, gp


def _pymc():
    return pytest.importorskip("pymc")


@pytest.mark.parametrize("approx", APPROX)
def test_marginal_likelihood_logp_matches_pymc(approx):
    _pymc()
    jm, pmm = pymc_parity(lambda lib: _model(lib, approx)[0], n_points=4, rtol=1e-8)
    assert [p.name for p in jm.potentials] == ["marginalapprox_loglik_y"]


@pytest.mark.parametrize("approx", APPROX)
def test_predict_and_conditional_match_pymc(approx):
    pymc = _pymc()
    jm, jgp = _model(pm, approx)
    pmm, pgp = _model(pymc, approx)
    for diag, pred_noise in ((False, False), (True, True)):
        with jm:
            mine = jgp.predict(XNEW, point=POINT, diag=diag, pred_noise=pred_noise)
        with pmm:
            theirs = pgp.predict(XNEW, point=POINT, diag=diag, pred_noise=pred_noise)
        for a, b in zip(mine, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
        if not diag:
            pmu, pcov = theirs
    with jm:
        f = jgp.conditional("f", XNEW)
    mu, chol = f.owner.params[:2]  # the MvNormal's mean and Cholesky factor (of cov + jitter, as PyMC's)
    np.testing.assert_allclose(mu.eval(POINT), pmu, rtol=1e-8)
    L = chol.eval(POINT)
    np.testing.assert_allclose(L @ L.T, pcov, rtol=1e-8, atol=1e-12)


def test_additive_given_matches_pymc():
    """An additive component's conditional through given={"gp": sum, "X", "Xu", "y", "sigma"}, as PyMC."""
    pymc = _pymc()

    def build(lib):
        with lib.Model() as m:
            g1 = lib.gp.MarginalApprox("FITC", cov_func=lib.gp.cov.ExpQuad(2, ls=1.5))
            g2 = lib.gp.MarginalApprox("FITC", cov_func=0.5 * lib.gp.cov.Matern32(2, ls=0.7))
            g = g1 + g2
            g.marginal_likelihood("y", X=X, Xu=XU, y=Y, sigma=0.3)
        return m, g, g1

    (jm, jg, jg1), (pmm, pg, pg1) = build(pm), build(pymc)
    given = {"gp": None, "X": X, "Xu": XU, "y": Y, "sigma": 0.3}
    with jm:
        mine = jg1.predict(XNEW, point={}, given={**given, "gp": jg})
    with pmm:
        theirs = pg1.predict(XNEW, point={}, given={**given, "gp": pg})
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)


def test_fitc_equals_exact_gp_with_inducing_points_at_the_data():
    """With Xu = X, Qff = Kff: FITC and DTC are the exact marginal likelihood (known answer)."""
    x = X[:12]
    y = Y[:12]
    K = 0.8**2 * np.exp(-0.5 * ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1) / 1.3**2)
    C = K + 0.3**2 * np.eye(12)
    _, logdet = np.linalg.slogdet(C)
    exact = -0.5 * (y @ np.linalg.solve(C, y) + logdet + 12 * np.log(2 * np.pi))
    for approx in ("FITC", "DTC"):
        with pm.Model():
            gp = pm.gp.MarginalApprox(approx, cov_func=0.8**2 * pm.gp.cov.ExpQuad(2, ls=1.3))
            pot = gp.marginal_likelihood("y", X=x, Xu=x, y=y, sigma=0.3, jitter=1e-12)
        np.testing.assert_allclose(float(pot.eval()), exact, rtol=1e-6)


@pytest.mark.filterwarnings("ignore:The effect of Potentials")
def test_conditional_through_sample_posterior_predictive():
    """The conditional added after the fit draws through sample_posterior_predictive, each draw with its own
    hyperparameters (a trace alternating between two points): per point, the draws' mean and variance equal
    predict's within Monte Carlo error."""
    m, gp = _model(pm, "FITC")
    points = [POINT, {k: 1.3 * v for k, v in POINT.items()}]
    with m:
        gp.conditional("f_pred", XNEW)
        pp = pm.sample_posterior_predictive(two_point_trace(points, 400), var_names=["f_pred"],
                                            random_seed=6, progressbar=False)
    draws = pp.posterior_predictive["f_pred"].values
    assert draws.shape == (1, 400, len(XNEW))
    for i, point in enumerate(points):
        mu, var = gp.predict(XNEW, point=point, diag=True, model=m)
        group = draws[0, i::2]
        z = (group.mean(0) - mu) / np.sqrt(var / len(group))
        assert np.all(np.abs(z) < 4.5), z
        np.testing.assert_allclose(group.var(0), var, rtol=0.5)


def two_point_trace(points, n):
    """A one-chain trace (xarray Dataset) whose draws alternate between two points."""
    import xarray as xr

    return xr.Dataset({k: (("chain", "draw"), np.array([[points[d % 2][k] for d in range(n)]])) for k in points[0]})


def test_failed_factorisation_is_a_rejected_step_not_a_crash():
    """Kuu not positive definite at a point (a negative amplitude): the log density is not finite there, so
    the sampler rejects the step instead of raising."""
    with pm.Model() as m:
        a = pm.Normal("a", 1.0, 1.0)
        gp = pm.gp.MarginalApprox("FITC", cov_func=a * pm.gp.cov.ExpQuad(2, ls=1.0))
        gp.marginal_likelihood("y", X=X, Xu=XU, y=Y, sigma=0.1)
    logp, dlogp = m.compile_logp(), m.compile_dlogp()
    assert np.isfinite(logp({"a": 1.0}))
    assert not np.isfinite(logp({"a": -3.0}))
    dlogp({"a": -3.0})  # no exception


def test_bad_input_messages():
    gp = pm.gp.MarginalApprox(cov_func=pm.gp.cov.ExpQuad(2, ls=1.0))
    with pytest.raises(NotImplementedError, match="`approx` must be one of"):
        pm.gp.MarginalApprox("SoR", cov_func=pm.gp.cov.ExpQuad(2, ls=1.0))
    with pytest.raises(AttributeError, match="'X' not set"):
        gp.conditional("f", XNEW)
    with pm.Model():
        with pytest.raises(ValueError, match="`X` must be a 2-D array"):
            gp.marginal_likelihood("y", X=X[:, 0], Xu=XU, y=Y, sigma=0.1)
        with pytest.raises(ValueError, match=r"`Xu` must have the columns of `X` \(2\), got 1"):
            gp.marginal_likelihood("y", X=X, Xu=XU[:, :1], y=Y, sigma=0.1)
        with pytest.raises(ValueError, match=r"`y` must have shape \(40,\)"):
            gp.marginal_likelihood("y", X=X, Xu=XU, y=Y[1:], sigma=0.1)
        with pytest.raises(TypeError, match="`sigma` must be the noise standard deviation"):
            gp.marginal_likelihood("y", X=X, Xu=XU, y=Y, sigma=pm.gp.cov.WhiteNoise(0.1))
        with pytest.raises(TypeError, match="different approximations"):
            gp + pm.gp.MarginalApprox("FITC", cov_func=pm.gp.cov.ExpQuad(2, ls=1.0))
    with pytest.warns(FutureWarning, match="renamed to gp.MarginalApprox"):
        old = pm.gp.MarginalSparse("DTC", cov_func=pm.gp.cov.ExpQuad(2, ls=1.0))
    assert isinstance(old, pm.gp.MarginalApprox) and old.approx == "DTC"


@pytest.mark.slow
def test_posterior_matches_pymc():
    """A sparse (FITC) GP regression on 300 points with 15 inducing points: posterior means of the
    hyperparameters agree with PyMC's by z-score."""
    pymc = _pymc()
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(0, 10, 300))[:, None]
    y = np.sin(x[:, 0]) + 0.3 * rng.normal(size=300)
    xu = np.linspace(0, 10, 15)[:, None]

    def build(lib):
        with lib.Model() as m:
            ls = lib.Gamma("ls", 2.0, 1.0)
            eta = lib.HalfNormal("eta", 1.0)
            sigma = lib.HalfNormal("sigma", 1.0)
            gp = lib.gp.MarginalApprox("FITC", cov_func=eta**2 * lib.gp.cov.ExpQuad(1, ls=ls))
            gp.marginal_likelihood("y", X=x, Xu=xu, y=y, sigma=sigma)
        return m

    with build(pm):
        mine = pm.sample(1000, tune=1000, chains=4, random_seed=1, progressbar=False).posterior
    # PyMC's own NUTS takes many minutes on this model; its model runs on NumPyro's NUTS instead
    sampler = "numpyro" if importlib.util.find_spec("numpyro") else "pymc"
    with build(pymc):
        theirs = pymc.sample(1000, tune=1000, chains=4, random_seed=1, progressbar=False,
                             nuts_sampler=sampler).posterior
    for name in ("ls", "eta", "sigma"):
        assert abs(z_score(mine[name].values, theirs[name].values)) < 4.5, name

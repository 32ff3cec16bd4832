"""pm.gp.LatentKron and pm.gp.MarginalKron: log densities, prior values and conditional/predict moments equal
PyMC's at fixed hyperparameters and the dense GP's (known answer); Kronecker products and solves equal the
dense ones; bad input."""

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.kronecker import cartesian, kron_dot, kron_solve_lower, kron_solve_upper
from tests.helpers import pymc_parity

RNG = np.random.default_rng(5)
X1 = np.linspace(0, 1, 5)[:, None]
X2 = RNG.uniform(0, 2, (4, 2))
Y = RNG.normal(size=20)
XNEW = np.concatenate([RNG.uniform(0, 1, (6, 1)), RNG.uniform(0, 2, (6, 2))], 1)
POINT = {"ls": 0.4, "sigma": 0.3}


def _covs(lib, ls):
    return [lib.gp.cov.ExpQuad(1, ls=ls), 2.0 * lib.gp.cov.Matern32(2, ls=[0.5, 0.8])]


def _marginal(lib):
    with lib.Model() as m:
        ls = lib.Gamma("ls", 2.0, 4.0)
        sigma = lib.HalfNormal("sigma", 1.0)
        gp = lib.gp.MarginalKron(mean_func=lib.gp.mean.Constant(0.2), cov_funcs=_covs(lib, ls))
        gp.marginal_likelihood("y", Xs=[X1, X2], y=Y, sigma=sigma)
    return m, gp


def _latent(lib):
    with lib.Model() as m:
        ls = lib.Gamma("ls", 2.0, 4.0)
        gp = lib.gp.LatentKron(cov_funcs=_covs(lib, ls))
        f = gp.prior("f", Xs=[X1, X2])
    return m, gp, f


def _pymc():
    return pytest.importorskip("pymc")


def test_kronecker_products_and_solves_equal_dense():
    A = [np.linalg.cholesky(np.cov(RNG.normal(size=(n, 3 * n))) + np.eye(n)) for n in (3, 4, 2)]
    K = np.kron(np.kron(A[0], A[1]), A[2])
    m = RNG.normal(size=(24, 5))
    np.testing.assert_allclose(kron_dot(A, m), K @ m, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(kron_dot(A, m[:, 0]), K @ m[:, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(kron_solve_lower(A, m), np.linalg.solve(K, m), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(kron_solve_upper([a.T for a in A], m), np.linalg.solve(K.T, m), rtol=1e-10,
                               atol=1e-12)
    pymc = _pymc()
    np.testing.assert_array_equal(cartesian(X1, X2), pymc.math.cartesian(X1, X2))


def test_marginal_kron_logp_matches_pymc():
    _pymc()
    pymc_parity(lambda lib: _marginal(lib)[0], n_points=4, rtol=1e-8)


def test_marginal_kron_predict_matches_pymc_and_the_dense_gp():
    pymc = _pymc()
    jm, jgp = _marginal(pm)
    pmm, pgp = _marginal(pymc)
    for diag in (False, True):
        with jm:
            mine = jgp.predict(XNEW, point=POINT, diag=diag)
        with pmm:
            theirs = pgp.predict(XNEW, point=POINT, diag=diag)
        for a, b in zip(mine, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
    # known answer: the dense GP on the grid, with the noise sigma^2 added at prediction (PyMC 6 adds sigma)
    cov = pm.gp.cov.Kron(_covs(pm, POINT["ls"]))
    X = cartesian(X1, X2)
    K = np.asarray(cov(X).eval()) + POINT["sigma"] ** 2 * np.eye(20)
    Ks = np.asarray(cov(X, XNEW).eval())
    mu = 0.2 + Ks.T @ np.linalg.solve(K, Y - 0.2)
    C = np.asarray(cov(XNEW).eval()) - Ks.T @ np.linalg.solve(K, Ks) + POINT["sigma"] ** 2 * np.eye(6)
    with jm:
        got_mu, got_cov = jgp.predict(XNEW, point=POINT, pred_noise=True)
        _, got_var = jgp.predict(XNEW, point=POINT, pred_noise=True, diag=True)
    np.testing.assert_allclose(got_mu, mu, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got_cov, C, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got_var, np.diag(C), rtol=1e-8, atol=1e-10)


def test_latent_kron_prior_and_conditional_match_pymc():
    pymc = _pymc()
    pymc_parity(lambda lib: _latent(lib)[0], n_points=3, rtol=1e-8)
    jm, jgp, jf = _latent(pm)
    pmm, pgp, pf = _latent(pymc)
    v = RNG.normal(size=20)
    values = {"ls": 0.4, "f_rotated_": v}
    np.testing.assert_allclose(jf.eval(values), pf.eval({pmm["ls"]: 0.4, pmm["f_rotated_"]: v}), rtol=1e-8,
                               atol=1e-12)
    with jm:
        fc = jgp.conditional("fc", XNEW)
    with pmm:
        pfc = pgp.conditional("fc", XNEW)
    mu, chol = fc.owner.params[:2]
    pmu, pcov = pgp._build_conditional(XNEW, 1e-6)
    np.testing.assert_allclose(mu.eval(values), pmu.eval({pmm["ls"]: 0.4, pmm["f_rotated_"]: v}), rtol=1e-8,
                               atol=1e-10)
    L = chol.eval(values)
    np.testing.assert_allclose(L @ L.T, pcov.eval({pmm["ls"]: 0.4}), rtol=1e-7, atol=1e-10)
    assert pfc is not None


def test_bad_input_messages():
    gp = pm.gp.MarginalKron(cov_funcs=_covs(pm, 0.4))
    with pm.Model():
        with pytest.raises(ValueError, match=r"one input array per covariance function \(2\), got 1"):
            gp.marginal_likelihood("y", Xs=[X1], y=Y, sigma=0.1)
        with pytest.raises(TypeError, match="`Xs` must be a list"):
            gp.marginal_likelihood("y", Xs=X1, y=Y, sigma=0.1)
        with pytest.raises(ValueError, match=r"`y` must be a vector as long as .* \(20\), got shape \(19,\)"):
            gp.marginal_likelihood("y", Xs=[X1, X2], y=Y[1:], sigma=0.1)
        with pytest.raises(ValueError, match=r"`Xs\[0\]` must be a 2-D array"):
            gp.marginal_likelihood("y", Xs=[X1[:, 0], X2], y=Y, sigma=0.1)
        with pytest.raises(ValueError, match="one input array per covariance function"):
            pm.gp.LatentKron(cov_funcs=_covs(pm, 0.4)).prior("f", Xs=[X1, X2, X1])
    with pytest.raises(AttributeError, match="'Xs' not set"):
        pm.gp.LatentKron(cov_funcs=_covs(pm, 0.4)).conditional("f", XNEW)
    with pytest.raises(TypeError, match="Additive, Kronecker"):
        gp + gp

"""pm.gp.HSGP and pm.gp.HSGPPeriodic: prior_linearized's basis and spectral weights, the helpers and the
prior/conditional values equal PyMC's; the approximation converges to the exact covariance (known answer);
the conditional through sample_posterior_predictive; bad input. Slow: an HSGP posterior on 3000 points agrees
with PyMC's by z-score."""

import importlib.util
import inspect
import warnings

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.gp import hsgp_approx
from tests.helpers import pymc_parity, z_score

RNG = np.random.default_rng(9)
X = RNG.uniform(-3, 7, (50, 3))
XNEW = RNG.uniform(-3, 8, (9, 3))

CASES = {
    "expquad-c-one-active-dim": dict(m=[7], c=1.5, kernel="ExpQuad", active_dims=[1], ls=0.9),
    "matern52-L-two-dims": dict(m=[4, 5], L=[8.0, 9.0], kernel="Matern52", active_dims=[0, 2], ls=[1.1, 2.0]),
    "matern32-drop-first-three-dims": dict(m=[6, 3, 2], c=2.0, kernel="Matern32", active_dims=[0, 1, 2],
                                           ls=1.3, drop_first=True),
    "expquad-boundaries": dict(m=[5, 4], c=1.7, kernel="ExpQuad", active_dims=[0, 2], ls=[1.0, 0.7],
                               boundary=["neumann", "dirichlet-neumann"]),
}


def _pymc():
    return pytest.importorskip("pymc")


def _hsgp(lib, case, parametrization="noncentered"):
    kw = {k: case[k] for k in ("m", "c", "L", "drop_first", "boundary") if k in case}
    cov = 2.0 * getattr(lib.gp.cov, case["kernel"])(3, ls=case["ls"], active_dims=case["active_dims"])
    return lib.gp.HSGP(**kw, parametrization=parametrization, cov_func=cov)


def _needs(pymc, case):
    if "boundary" in case and "boundary" not in inspect.signature(pymc.gp.HSGP).parameters:
        pytest.skip("this PyMC's HSGP has no `boundary` (PyMC 6 has)")


def _value(x):
    return np.asarray(x.eval()) if hasattr(x, "eval") else np.asarray(x)


@pytest.mark.parametrize("name", list(CASES))
def test_prior_linearized_matches_pymc(name):
    pymc = _pymc()
    case = CASES[name]
    _needs(pymc, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # drop_first
        with pm.Model():
            phi, sqrt_psd = _hsgp(pm, case).prior_linearized(X)
        with pymc.Model():
            pphi, psqrt_psd = _hsgp(pymc, case).prior_linearized(X)
    np.testing.assert_allclose(_value(phi), _value(pphi), rtol=1e-8, atol=1e-12)
    # PyMC's Matern52 density rounds pi through float32 (relative 2e-8); ours is exact
    rtol = 1e-7 if case["kernel"] == "Matern52" else 1e-8
    np.testing.assert_allclose(_value(sqrt_psd), _value(psqrt_psd), rtol=rtol)


@pytest.mark.parametrize("parametrization", ["noncentered", "centered"])
def test_prior_logp_and_conditional_match_pymc(parametrization):
    """All active dims (PyMC's conditional fails for a strict subset of the columns; ours slices after
    centring, as its prior does)."""
    pymc = _pymc()
    case = dict(m=[6, 3, 2], c=2.0, kernel="Matern32", active_dims=[0, 1, 2], ls=1.3)

    def build(lib):
        with lib.Model() as m:
            gp = _hsgp(lib, case, parametrization)
            f = gp.prior("f", X)
            fnew = gp.conditional("fnew", XNEW)
        return m, f, fnew

    pymc_parity(lambda lib: build(lib)[0], n_points=2, rtol=1e-8)
    (jm, jf, jfn), (pmm, pf, pfn) = build(pm), build(pymc)
    beta = RNG.normal(size=36)
    for mine, theirs in ((jf, pf), (jfn, pfn)):
        np.testing.assert_allclose(mine.eval({"f_hsgp_coeffs": beta}), theirs.eval({pmm["f_hsgp_coeffs"]: beta}),
                                   rtol=1e-8, atol=1e-12)


def test_periodic_matches_pymc():
    pymc = _pymc()
    xp = RNG.uniform(0, 10, (30, 1))
    xn = RNG.uniform(-2, 12, (8, 1))

    def build(lib):
        with lib.Model() as m:
            gp = lib.gp.HSGPPeriodic(m=12, scale=1.7, cov_func=lib.gp.cov.Periodic(1, period=3.3, ls=0.8))
            (phi_cos, phi_sin), psd = gp.prior_linearized(xp)
            f = gp.prior("f", xp)
            fnew = gp.conditional("fnew", xn)
        return m, (phi_cos, phi_sin, psd), f, fnew

    (jm, jparts, jf, jfn), (pmm, pparts, pf, pfn) = build(pm), build(pymc)
    for a, b in zip(jparts, pparts):
        np.testing.assert_allclose(_value(a), _value(b), rtol=1e-8, atol=1e-12)
    beta = RNG.normal(size=23)
    for mine, theirs in ((jf, pf), (jfn, pfn)):
        np.testing.assert_allclose(mine.eval({"f_hsgp_coeffs_": beta}),
                                   theirs.eval({pmm["f_hsgp_coeffs_"]: beta}), rtol=1e-8, atol=1e-12)


def test_helpers_match_pymc():
    pymc = _pymc()
    ph = pymc.gp.hsgp_approx
    L = hsgp_approx.set_boundary(X[:, :2], 1.6)
    np.testing.assert_allclose(L, ph.set_boundary(X[:, :2], 1.6), rtol=1e-12)
    eig = hsgp_approx.calc_eigenvalues(L, [4, 3])
    np.testing.assert_allclose(eig, _value(ph.calc_eigenvalues(L, [4, 3])), rtol=1e-12)
    np.testing.assert_allclose(_value(hsgp_approx.calc_eigenvectors(X[:, :2] - 2.0, L, eig, [4, 3])),
                               _value(ph.calc_eigenvectors(X[:, :2] - 2.0, L, eig, [4, 3])), rtol=1e-8, atol=1e-12)
    for kernel in ("ExpQuad", "matern52", "Matern32"):
        assert hsgp_approx.approx_hsgp_hyperparams([0, 10], [1, 4], kernel) == \
            ph.approx_hsgp_hyperparams([0, 10], [1, 4], kernel)


def test_approximation_converges_to_the_exact_covariance():
    """Known answer: phi diag(psd) phi^T -> K(X, X) inside the boundary as m grows."""
    x = np.linspace(-2, 2, 40)[:, None]
    cov = pm.gp.cov.ExpQuad(1, ls=0.7)
    with pm.Model():
        phi, sqrt_psd = pm.gp.HSGP(m=[60], c=3.0, cov_func=cov).prior_linearized(x)
    approx = _value(phi) @ np.diag(_value(sqrt_psd) ** 2) @ _value(phi).T
    np.testing.assert_allclose(approx, _value(cov(x)), atol=1e-6)


def test_conditional_through_sample_posterior_predictive():
    """The conditional (a Deterministic of the coefficients) added after the fit is computed for every draw."""
    import xarray as xr

    with pm.Model() as m:
        ls = pm.Gamma("ls", 2.0, 1.0)
        gp = pm.gp.HSGP(m=[10], c=1.5, cov_func=pm.gp.cov.ExpQuad(1, ls=ls))
        gp.prior("f", X[:, :1])
    beta = RNG.normal(size=(2, 5, 10))
    ls_draws = RNG.uniform(0.5, 2.0, (2, 5))
    trace = xr.Dataset({"ls": (("chain", "draw"), ls_draws), "f_hsgp_coeffs": (("chain", "draw", "k"), beta)})
    with m:
        gp.conditional("fnew", XNEW[:, :1])
        pp = pm.sample_posterior_predictive(trace, var_names=["fnew"], random_seed=1, progressbar=False)
    got = pp.posterior_predictive["fnew"].values
    assert got.shape == (2, 5, 9)
    eig = hsgp_approx.calc_eigenvalues(gp.L, [10])
    centre = (X[:, 0].max() + X[:, 0].min()) / 2  # the training inputs' centre, kept for new points
    phi_new = _value(hsgp_approx.calc_eigenvectors(XNEW[:, :1] - centre, gp.L, eig, [10]))
    for c in range(2):
        for d in range(5):
            psd = _value(pm.gp.cov.ExpQuad(1, ls=ls_draws[c, d]).power_spectral_density(np.sqrt(eig)))
            np.testing.assert_allclose(got[c, d], phi_new @ (beta[c, d] * np.sqrt(psd)), rtol=1e-8, atol=1e-12)


def test_bad_input_messages():
    cov = pm.gp.cov.ExpQuad(2, ls=1.0)
    with pytest.raises(ValueError, match="`m` .* is required"):
        pm.gp.HSGP(c=1.5, cov_func=cov)
    with pytest.raises(ValueError, match="one of `c` .* or `L` .*both are missing"):
        pm.gp.HSGP(m=[10, 10], cov_func=cov)
    with pytest.raises(ValueError, match="one of `c` or `L`, not both"):
        pm.gp.HSGP(m=[10, 10], c=1.5, L=[3.0, 3.0], cov_func=cov)
    with pytest.raises(ValueError, match=r"`m` must be a sequence with one element per active dimension .*\(2\)"):
        pm.gp.HSGP(m=[10], c=1.5, cov_func=cov)
    with pytest.raises(ValueError, match=r"`m` must be a sequence"):
        pm.gp.HSGP(m=10, c=1.5, cov_func=cov)
    with pytest.raises(ValueError, match=r"`L` must be a sequence with one element per active dimension"):
        pm.gp.HSGP(m=[10, 10], L=[3.0], cov_func=cov)
    with pytest.raises(ValueError, match=r"`c` must be a number or a sequence with one element"):
        pm.gp.HSGP(m=[10, 10], c=[1.5, 1.5, 1.5], cov_func=cov)
    with pytest.raises(ValueError, match="`parametrization` must be either"):
        pm.gp.HSGP(m=[10, 10], c=1.5, parametrization="whitened", cov_func=cov)
    with pytest.raises(ValueError, match="`cov_func` is required"):
        pm.gp.HSGP(m=[10], c=1.5)
    with pytest.warns(UserWarning, match="c >= 1.2"):
        pm.gp.HSGP(m=[10, 10], c=1.1, cov_func=cov)
    with pm.Model():
        with pytest.raises(ValueError, match="`X` must be a 2-D array"):
            pm.gp.HSGP(m=[10, 10], c=1.5, cov_func=cov).prior("f", X[:, 0])
        with pytest.raises(ValueError, match="Call `.prior"):
            pm.gp.HSGP(m=[10, 10], c=1.5, cov_func=cov).conditional("f", X[:, :2])
    with pytest.raises(ValueError, match="`m` must be a positive integer"):
        pm.gp.HSGPPeriodic(m=[10], cov_func=pm.gp.cov.Periodic(1, period=1.0, ls=1.0))
    with pytest.raises(ValueError, match="`cov_func` must be an instance of a `Periodic`"):
        pm.gp.HSGPPeriodic(m=10, cov_func=pm.gp.cov.ExpQuad(1, ls=1.0))
    with pytest.raises(ValueError, match="`boundary` must be one of"):
        pm.gp.HSGP(m=[10, 10], c=1.5, boundary="periodic", cov_func=cov)
    with pytest.raises(ValueError, match="out of order"):
        hsgp_approx.approx_hsgp_hyperparams([10, 0], [1, 4], "expquad")


@pytest.mark.slow
def test_posterior_on_3000_points_matches_pymc():
    pymc = _pymc()
    rng = np.random.default_rng(4)
    x = np.sort(rng.uniform(0, 20, 3000))[:, None]
    y = np.sin(x[:, 0]) + 0.5 * np.cos(0.3 * x[:, 0]) + 0.5 * rng.normal(size=3000)

    def build(lib):
        with lib.Model() as m:
            ls = lib.Gamma("ls", 4.0, 2.0)
            eta = lib.HalfNormal("eta", 1.0)
            sigma = lib.HalfNormal("sigma", 1.0)
            f = lib.gp.HSGP(m=[40], c=1.5, cov_func=eta**2 * lib.gp.cov.Matern52(1, ls=ls)).prior("f", x)
            lib.Normal("y", f, sigma, observed=y)
        return m

    with build(pm):
        mine = pm.sample(1000, tune=1000, chains=4, random_seed=1, progressbar=False).posterior
    # PyMC's own NUTS needs more than 7 minutes here; its model runs on NumPyro's NUTS instead
    sampler = "numpyro" if importlib.util.find_spec("numpyro") else "pymc"
    with build(pymc):
        theirs = pymc.sample(1000, tune=1000, chains=4, random_seed=1, progressbar=False,
                             nuts_sampler=sampler).posterior
    for name in ("ls", "eta", "sigma"):
        a, b = mine[name].values, theirs[name].values
        assert abs(z_score(a, b)) < 4.5, (name, a.mean(), b.mean())

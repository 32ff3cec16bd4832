"""pm.gp.cov: each covariance function equals PyMC's at random inputs (full, cross, diagonal), with active_dims,
combinations and model-variable hyperparameters; spectral densities; bad input."""

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.gp import cov
from tests.helpers import PYMC6

pymc = pytest.importorskip("pymc")

RNG = np.random.default_rng(42)
X = RNG.uniform(-2, 2, size=(12, 3))
XS = RNG.uniform(-2, 2, size=(7, 3))
XI = np.array([[0], [1], [2], [1], [0]], float)  # integer inputs (Coregion)


def _pt_value(x):
    import pytensor

    return np.asarray(pytensor.function([], x, mode="FAST_COMPILE")()) if hasattr(x, "owner") else np.asarray(x)


def _close(mine, theirs, rtol=1e-8):
    theirs = _pt_value(theirs)
    atol = 1e-12 if rtol <= 1e-8 else rtol * np.abs(theirs).max()  # looser: relative to the largest entry
    np.testing.assert_allclose(np.asarray(mine.eval() if hasattr(mine, "eval") else mine), theirs, rtol=rtol,
                               atol=atol)


def _warp(x):
    return x**3 + 1.0


def _lengthscale(x, a):
    return 0.5 + a * x[:, 0] ** 2


def _scaling(x):
    return 1.0 + x[:, 0] ** 2


KERNELS = {
    "ExpQuad": lambda c: c.ExpQuad(3, ls=[0.5, 1.0, 2.0]),
    "ExpQuad-ls_inv": lambda c: c.ExpQuad(3, ls_inv=1.3),
    "Matern52": lambda c: c.Matern52(3, ls=0.7, active_dims=[0, 2]),
    "Matern32": lambda c: c.Matern32(3, ls=[0.8], active_dims=[1]),
    "Matern12": lambda c: c.Matern12(3, ls=1.1),
    "Exponential": lambda c: c.Exponential(3, ls=0.9),
    "RatQuad": lambda c: c.RatQuad(3, alpha=1.5, ls=[0.6, 0.9, 1.2]),
    "Cosine": lambda c: c.Cosine(3, ls=2.5, active_dims=[2]),
    "Periodic": lambda c: c.Periodic(3, period=1.7, ls=0.8, active_dims=[0, 1]),
    "Linear": lambda c: c.Linear(3, c=0.3),
    "Polynomial": lambda c: c.Polynomial(3, c=0.1, d=3, offset=0.5, active_dims=[1, 2]),
    "Constant": lambda c: c.Constant(2.5),
    "WhiteNoise": lambda c: c.WhiteNoise(0.4),
    "Circular": lambda c: c.Circular(3, period=3.0, tau=5, active_dims=[0]),
    "WarpedInput": lambda c: c.WarpedInput(3, c.ExpQuad(1, ls=2.0), _warp, active_dims=[1]),
    "WrappedPeriodic": lambda c: c.WrappedPeriodic(c.Matern32(3, ls=0.9, active_dims=[0]), period=2.0),
    "Gibbs": lambda c: c.Gibbs(3, _lengthscale, args=(0.3,), active_dims=[0]),
    "ScaledCov": lambda c: c.ScaledCov(3, c.Matern52(3, ls=1.0), _scaling),
    "sum": lambda c: c.ExpQuad(3, ls=0.5, active_dims=[0]) + c.Matern32(3, ls=1.0, active_dims=[1, 2]),
    "scaled-sum": lambda c: 2.0 * c.ExpQuad(3, ls=0.5) + 0.7 + c.Linear(3, c=0.0) * 0.1,
    "product": lambda c: c.ExpQuad(3, ls=0.5, active_dims=[0]) * c.Periodic(3, period=1.0, ls=1.0,
                                                                            active_dims=[2]),
    "power": lambda c: c.Matern52(3, ls=1.4) ** 2,
    "kron": lambda c: c.Kron([c.ExpQuad(1, ls=0.5), c.Matern52(2, ls=[1.0, 2.0])]),
}


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_covariance_matches_pymc(name):
    mine, theirs = KERNELS[name](cov), KERNELS[name](pymc.gp.cov)
    rtol = 1e-6 if name == "Cosine" and PYMC6 else 1e-8  # PyMC 6.4's Cosine is 1e-7 off: test_cosine_exact
    _close(mine(X), theirs(X), rtol)
    _close(mine(X, XS), theirs(X, XS), rtol)
    if name not in ("kron", "scaled-sum"):  # PyMC: Kron's diag is not a diagonal; a scalar sum's diag is a scalar
        _close(mine(X, diag=True), theirs(X, diag=True))
    assert mine(X).shape == (12, 12) and mine(X, XS).shape == (12, 7)


def test_cosine_exact():
    x = X[:, 2] / 2.5
    exact = np.cos(2 * np.pi * np.sqrt((x[:, None] - x[None, :]) ** 2 + 1e-12))
    np.testing.assert_allclose(cov.Cosine(3, ls=2.5, active_dims=[2])(X).eval(), exact, rtol=1e-12, atol=1e-13)


def test_coregion_matches_pymc():
    W, kappa = RNG.normal(size=(3, 2)), np.array([0.5, 1.0, 2.0])
    mine, theirs = cov.Coregion(1, W=W, kappa=kappa), pymc.gp.cov.Coregion(1, W=W, kappa=kappa)
    _close(mine(XI), theirs(XI))
    _close(mine(XI, XI[:3]), theirs(XI, XI[:3]))
    _close(mine(XI, diag=True), theirs(XI, diag=True))
    B = W @ W.T + np.diag(kappa)
    _close(cov.Coregion(1, B=B)(XI), pymc.gp.cov.Coregion(1, B=B)(XI))


def test_hyperparameters_as_model_variables():
    """eta**2 * Matern52(ls) with eta, ls model variables: an expression of them, equal to PyMC's at a point."""
    values = {"eta": 1.3, "ls": 0.6, "a": 0.2}
    exprs = []
    for lib in (pm, pymc):
        with lib.Model():
            eta = lib.HalfNormal("eta", 1.0)
            ls = lib.Gamma("ls", 2.0, 2.0)
            a = lib.Normal("a")
            k = (eta**2 * lib.gp.cov.Matern52(3, ls=ls) + lib.gp.cov.ExpQuad(3, ls=[ls, 1.0], active_dims=[0, 2])
                 * lib.gp.cov.Linear(3, c=a) + lib.gp.cov.WhiteNoise(eta))
            exprs.append((k(X), k(X, XS), k(X, diag=True)))
    import pytensor

    rvs = {eta: values["eta"], ls: values["ls"], a: values["a"]}  # PyMC's variables
    fn = pytensor.function(list(rvs), list(exprs[1]), mode="FAST_COMPILE")
    for mine, theirs in zip(exprs[0], fn(*rvs.values())):
        np.testing.assert_allclose(mine.eval(values), theirs, rtol=1e-8)


@pytest.mark.parametrize("name", ["ExpQuad", "Matern52", "Matern32"])
def test_power_spectral_density_matches_pymc(name):
    omega = RNG.uniform(0, 3, size=(9, 2))
    for make in (lambda c: getattr(c, name)(2, ls=[0.7, 1.4]),
                 lambda c: 1.7 * getattr(c, name)(2, ls=0.9) + getattr(c, name)(2, ls=[0.5, 2.0])):
        # rtol 1e-7: PyMC computes the constant 5**2.5 in float32 (jaxmc: float64, see the Matern12 test)
        _close(make(cov).power_spectral_density(omega), make(pymc.gp.cov).power_spectral_density(omega), 1e-7)


def test_matern12_spectral_density_is_known_form():
    """1-D Matern 1/2 (exp(-r/l)): S(w) = 2 l / (1 + l^2 w^2)."""
    w = np.linspace(0, 5, 11)[:, None]
    np.testing.assert_allclose(cov.Matern12(1, ls=0.8).power_spectral_density(w).eval(),
                               2 * 0.8 / (1 + 0.64 * w[:, 0] ** 2), rtol=1e-12)


def test_spectral_density_not_available_is_an_error():
    with pytest.raises(NotImplementedError, match="power spectral density"):
        (cov.ExpQuad(1, ls=1.0) + cov.Cosine(1, ls=1.0)).power_spectral_density(np.ones((3, 1)))
    with pytest.raises(NotImplementedError, match="products"):
        (cov.ExpQuad(1, ls=1.0) * cov.Matern52(1, ls=1.0)).power_spectral_density(np.ones((3, 1)))


@pytest.mark.parametrize("ls", [0.05, 0.3, 1.0, 4.0])
def test_periodic_low_rank_coefficients(ls):
    from scipy.special import ive

    J = np.arange(40)
    expected = np.where(J > 0, 2.0, 1.0) * ive(J, 1 / ls**2)
    got = cov.Periodic(1, period=1.0, ls=ls).power_spectral_density_approx(J).eval()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-300)
    _close(cov.Periodic(1, period=1.0, ls=ls).power_spectral_density_approx(J),
           pymc.gp.cov.Periodic(1, period=1.0, ls=ls).power_spectral_density_approx(J), rtol=1e-9)


def test_kernel_inside_model_log_density():
    """A GP covariance of model variables compiles into the model's log density (one jitted program)."""
    with pm.Model() as m:
        ls = pm.Gamma("ls", 2, 2)
        K = cov.ExpQuad(3, ls=ls)(X)
        pm.MvNormal("y", mu=np.zeros(12), cov=K + 1e-6 * np.eye(12), observed=np.ones(12))
    assert np.isfinite(m.compile_logp()(m.initial_point()))


# ------------------------------------------------------------------------------------------------- bad input
def test_bad_input_messages():
    with pytest.raises(ValueError, match="ls must be positive"):
        cov.ExpQuad(1, ls=-1.0)
    with pytest.raises(ValueError, match="ls_inv must be positive"):
        cov.Matern52(2, ls_inv=[1.0, -2.0])
    with pytest.raises(ValueError, match="ls must be positive"):
        cov.Periodic(1, period=1.0, ls=[0.0])
    with pytest.raises(ValueError, match="Only one of 'ls' or 'ls_inv'"):
        cov.ExpQuad(1)
    with pytest.raises(ValueError, match="active_dims"):
        cov.ExpQuad(2, ls=1.0, active_dims=[2])
    with pytest.raises(ValueError, match="input_dim must be a positive integer"):
        cov.ExpQuad(0, ls=1.0)
    with pytest.raises(ValueError, match="one value per active dimension"):
        cov.ExpQuad(3, ls=[1.0, 2.0])
    with pytest.raises(ValueError, match="2-D array"):
        cov.ExpQuad(1, ls=1.0)(np.ones(5))
    with pytest.raises(ValueError, match="X has 1 column.*input_dim=2"):
        cov.ExpQuad(2, ls=1.0)(np.ones((5, 1)))
    with pytest.raises(ValueError, match="Xs has 1 column"):
        cov.ExpQuad(2, ls=1.0)(np.ones((5, 2)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="same `input_dim`"):
        cov.ExpQuad(1, ls=1.0) + cov.ExpQuad(2, ls=1.0)
    with pytest.raises(ValueError, match="scalar"):
        cov.ExpQuad(1, ls=1.0) ** np.ones(2)
    with pytest.warns(UserWarning, match="Only 1 column"):
        cov.ExpQuad(1, ls=1.0)(np.ones((5, 2)))

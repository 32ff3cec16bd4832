"""`pm.icdf` against scipy's ppf, and `pm.find_constrained_prior` against PyMC's."""

import warnings

import jax
import numpy as np
import pytest

import jaxmc as pm

stats = pytest.importorskip("scipy.stats")

Q = np.array([1e-9, 1e-4, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-4, 1 - 1e-9])

# (jaxmc distribution, scipy frozen distribution)
FAMILIES = {
    "Normal": (pm.Normal.dist(1.5, 2.0), stats.norm(1.5, 2.0)),
    "HalfNormal": (pm.HalfNormal.dist(2.0), stats.halfnorm(scale=2.0)),
    "Exponential": (pm.Exponential.dist(lam=3.0), stats.expon(scale=1 / 3.0)),
    "Uniform": (pm.Uniform.dist(-1.0, 4.0), stats.uniform(-1.0, 5.0)),
    "LogNormal": (pm.LogNormal.dist(0.5, 0.8), stats.lognorm(0.8, scale=np.exp(0.5))),
    "StudentT": (pm.StudentT.dist(nu=3.5, mu=1.0, sigma=2.0), stats.t(3.5, 1.0, 2.0)),
    "StudentT_heavy": (pm.StudentT.dist(nu=0.7, mu=0.0, sigma=1.0), stats.t(0.7)),
    "HalfStudentT": (pm.HalfStudentT.dist(nu=4.0, sigma=2.0), None),
    "Gamma": (pm.Gamma.dist(alpha=2.5, beta=4.0), stats.gamma(2.5, scale=0.25)),
    "Gamma_small": (pm.Gamma.dist(alpha=0.2, beta=1.0), stats.gamma(0.2)),
    "InverseGamma": (pm.InverseGamma.dist(alpha=3.0, beta=2.0), stats.invgamma(3.0, scale=2.0)),
    "Beta": (pm.Beta.dist(2.0, 5.0), stats.beta(2.0, 5.0)),
    "Beta_u": (pm.Beta.dist(0.4, 0.6), stats.beta(0.4, 0.6)),
    "Cauchy": (pm.Cauchy.dist(1.0, 2.0), stats.cauchy(1.0, 2.0)),
    "HalfCauchy": (pm.HalfCauchy.dist(2.0), None),
    "Laplace": (pm.Laplace.dist(1.0, 2.0), stats.laplace(1.0, 2.0)),
    "Logistic": (pm.Logistic.dist(1.0, 2.0), stats.logistic(1.0, 2.0)),
    "Weibull": (pm.Weibull.dist(alpha=1.5, beta=2.0), stats.weibull_min(1.5, scale=2.0)),
    "Gumbel": (pm.Gumbel.dist(1.0, 2.0), stats.gumbel_r(1.0, 2.0)),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_icdf_equals_scipy_ppf(name):
    dist, ref = FAMILIES[name]
    got = pm.icdf(dist, Q).eval()
    if ref is None:  # |StudentT| and |Cauchy|: scipy's quantiles lose digits in a tail, mpmath's CDF does not
        mpmath = pytest.importorskip("mpmath")
        with mpmath.workdps(30):
            if name == "HalfCauchy":
                cdf = [2 / mpmath.pi * mpmath.atan(mpmath.mpf(x) / 2) for x in got]
            else:  # P(|T| < t) = I_{t²/(nu+t²)}(1/2, nu/2), sigma = 2, nu = 4
                cdf = [mpmath.betainc(0.5, 2, 0, (mpmath.mpf(x) / 2) ** 2 / (4 + (mpmath.mpf(x) / 2) ** 2),
                                      regularized=True) for x in got]
        np.testing.assert_allclose([float(c) for c in cdf], Q, rtol=1e-9)
    else:
        np.testing.assert_allclose(got, ref.ppf(Q), rtol=1e-9, atol=1e-300)
    ends = pm.icdf(dist, np.array([0.0, 1.0, -0.1, 1.1])).eval()
    low, high = ref.support() if ref is not None else (0.0, np.inf)
    np.testing.assert_array_equal(ends[:2], [low, high])
    assert np.isnan(ends[2:]).all()


def test_icdf_inverts_logcdf_and_differentiates():
    for name in ("Gamma", "Beta", "StudentT"):
        dist, ref = FAMILIES[name]
        x = pm.icdf(dist, Q[1:-1]).eval()
        np.testing.assert_allclose(np.exp(pm.logcdf(dist, x).eval()), Q[1:-1], rtol=1e-9)
    slope = jax.grad(lambda q: pm.icdf(pm.Gamma.dist(alpha=2.5, beta=4.0), q))(0.3)
    np.testing.assert_allclose(slope, 1.0 / stats.gamma(2.5, scale=0.25).pdf(stats.gamma(2.5, scale=0.25).ppf(0.3)))


def test_icdf_of_nodes_and_bad_input():
    with pm.Model():
        sigma = pm.HalfNormal("sigma", 1.0)
        q = pm.icdf(pm.Normal.dist(0.0, sigma), 0.975)
    np.testing.assert_allclose(q.eval({"sigma": 2.0}), 2.0 * stats.norm.ppf(0.975))
    assert np.isnan(pm.icdf(pm.Normal.dist(0.0, -1.0), 0.5).eval())  # invalid parameter
    with pytest.raises(NotImplementedError, match="Poisson has no inverse CDF"):
        pm.icdf(pm.Poisson.dist(3.0), 0.5)
    with pytest.raises(TypeError, match="random variable"):
        pm.icdf(1.0, 0.5)


# (family, arguments): PyMC's own examples and common priors
CONSTRAINED = [
    ("Gamma", dict(lower=0.1, upper=0.4, mass=0.75, init_guess={"alpha": 1, "beta": 10})),
    ("Normal", dict(lower=-1, upper=3, init_guess={"mu": 0, "sigma": 1})),
    ("Exponential", dict(lower=0, upper=3.0, mass=0.9, init_guess={"lam": 1}, mass_below_lower=0)),
    ("Beta", dict(lower=0.1, upper=0.7, init_guess={"alpha": 2, "beta": 2})),
    ("LogNormal", dict(lower=1, upper=10, init_guess={"mu": 1, "sigma": 1})),
    ("HalfNormal", dict(lower=0, upper=2, init_guess={"sigma": 1}, mass_below_lower=0)),
]


def _constrained(lib, family, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return lib.find_constrained_prior(getattr(lib, family), **kwargs)


@pytest.mark.parametrize("family,kwargs", CONSTRAINED, ids=[c[0] for c in CONSTRAINED])
def test_find_constrained_prior_equals_pymc(family, kwargs):
    pymc = pytest.importorskip("pymc")
    ours, theirs = _constrained(pm, family, kwargs), _constrained(pymc, family, kwargs)
    assert set(ours) == set(theirs)
    for k in ours:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-4, err_msg=k)


def test_find_constrained_prior_meets_the_constraint():
    with pytest.warns(FutureWarning, match="PreliZ"):
        opt = pm.find_constrained_prior(pm.StudentT, lower=0, upper=1, init_guess={"mu": 5, "sigma": 2},
                                        fixed_params={"nu": 7})
    assert opt["nu"] == 7
    t = stats.t(7, opt["mu"], opt["sigma"])
    np.testing.assert_allclose(t.cdf(1) - t.cdf(0), 0.95, atol=1e-6)
    gamma = _constrained(pm, *CONSTRAINED[0])
    g = stats.gamma(gamma["alpha"], scale=1 / gamma["beta"])
    np.testing.assert_allclose(g.cdf(0.4) - g.cdf(0.1), 0.75, atol=1e-6)


def test_find_constrained_prior_bad_input():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(ValueError, match="between 0.01 and 0.99"):
            pm.find_constrained_prior(pm.Normal, 0, 1, {"mu": 0, "sigma": 1}, mass=0.999)
        with pytest.raises(NotImplementedError, match="non-scalar"):
            pm.find_constrained_prior(pm.Dirichlet, 0, 1, {"a": [1.0, 1.0]})

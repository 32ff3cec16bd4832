"""Mixtures, zero-inflated and hurdle families: log densities and CDFs against scipy and PyMC, model parity,
default transforms and their Jacobians, shapes and errors, draws' moments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats as st
from scipy.special import logsumexp

import jaxmc
from tests.distributions.helpers import fast, jaxmc_cases, np_logp, pymc_by_row
from tests.helpers import check_transform, pymc_parity

pymc = pytest.importorskip("pymc")
pytensor = pytest.importorskip("pytensor")

R = np.random.default_rng(7)
N = 24
COV = np.array([[1.0, 0.4], [0.4, 0.8]])


REALS = R.normal(1.0, 3.0, size=(N, 1))[:, 0]
COUNTS = np.concatenate([np.zeros(6), R.poisson(3.0, N - 6)]).astype("int64")
SMALL_COUNTS = np.minimum(COUNTS, 10)
POS = np.concatenate([np.zeros(5), R.gamma(2.0, 1.0, N - 5)])
MV = R.normal(size=(N, 2)) * 2
BATCH_REALS = R.normal(size=(N, 4)) * 2

# name: (build, values, has logcdf in PyMC)
CASES = {
    "Mixture-list": (lambda pm: pm.Mixture.dist([0.3, 0.7], [pm.Normal.dist(0.0, 1.0),
                                                            pm.StudentT.dist(4.0, 1.0, sigma=2.0)]), REALS, True),
    "Mixture-single-poisson": (lambda pm: pm.Mixture.dist([0.2, 0.5, 0.3], pm.Poisson.dist(mu=[1.0, 4.0, 9.0])),
                               COUNTS, True),
    "Mixture-batched-weights": (lambda pm: pm.Mixture.dist(np.array([[0.1, 0.9], [0.5, 0.5], [0.8, 0.2], [0.3, 0.7]]),
                                                           [pm.Normal.dist(np.arange(4.0), 1.0), pm.Gumbel.dist(1.0, 2.0)]),
                                BATCH_REALS, True),
    "NormalMixture": (lambda pm: pm.NormalMixture.dist([0.2, 0.3, 0.5], mu=[-2.0, 0.0, 3.0], sigma=[0.5, 1.0, 2.0]),
                      REALS, True),
    "NormalMixture-tau": (lambda pm: pm.NormalMixture.dist([0.4, 0.6], mu=[-1.0, 2.0], tau=[1.0, 0.25]), REALS, True),
    "ZeroInflatedPoisson": (lambda pm: pm.ZeroInflatedPoisson.dist(0.7, 3.0), COUNTS, True),
    "ZeroInflatedBinomial": (lambda pm: pm.ZeroInflatedBinomial.dist(0.6, 10, 0.3), SMALL_COUNTS, True),
    "ZeroInflatedNegativeBinomial": (lambda pm: pm.ZeroInflatedNegativeBinomial.dist(0.8, mu=3.0, alpha=2.0),
                                     COUNTS, True),
    "ZeroInflatedNegativeBinomial-np": (lambda pm: pm.ZeroInflatedNegativeBinomial.dist(0.8, n=2.5, p=0.4),
                                        COUNTS, True),
    "HurdlePoisson": (lambda pm: pm.HurdlePoisson.dist(0.7, 3.0), COUNTS, True),
    "HurdleNegativeBinomial": (lambda pm: pm.HurdleNegativeBinomial.dist(0.6, mu=3.0, alpha=2.0), COUNTS, True),
    "HurdleGamma": (lambda pm: pm.HurdleGamma.dist(0.7, alpha=2.0, beta=1.5), POS, True),
    "HurdleGamma-musigma": (lambda pm: pm.HurdleGamma.dist(0.7, mu=2.0, sigma=1.5), POS, True),
    "HurdleLogNormal": (lambda pm: pm.HurdleLogNormal.dist(0.4, mu=0.5, sigma=0.8), POS, True),
    "Mixture-mvnormal": (lambda pm: pm.Mixture.dist([0.4, 0.6], [pm.MvNormal.dist(np.zeros(2), COV),
                                                                pm.MvNormal.dist(np.ones(2), np.eye(2))]), MV, False),
    "Mixture-mvnormal-single": (lambda pm: pm.Mixture.dist([0.4, 0.6], pm.MvNormal.dist(np.array([[0.0, 0.0],
                                                                                                   [1.0, 1.0]]), COV)),
                                MV, False),
}

_jaxmc = jaxmc_cases(CASES)


@pytest.fixture(scope="module")
def pymc_results():
    """PyMC's logp (and logcdf) of every case in one compiled function (PyMC's mixtures take values of the
    variable's shape)."""
    return pymc_by_row(CASES, N)


# ---------------------------------------------------------------------------------------------- 0. names
def test_all_pymc_mixture_names_exported():
    import pymc.distributions.mixture as pmx

    from jaxmc.distributions import mixture as jmx

    assert sorted(set(pmx.__all__) - set(jmx.__all__)) == []
    for name in pmx.__all__:
        assert hasattr(jaxmc, name), name
    assert set(pmx.__all__) <= {n.split("-")[0] for n in CASES}


# ---------------------------------------------------------------------------------------------- 1. scipy
def test_mixtures_scipy():
    x = REALS
    ref = logsumexp([np.log(0.3) + st.norm(0, 1).logpdf(x), np.log(0.7) + st.t(4, 1, 2).logpdf(x)], axis=0)
    np.testing.assert_allclose(_jaxmc("Mixture-list"), ref, rtol=1e-10)
    ref = logsumexp([np.log(0.3) + st.norm(0, 1).logcdf(x), np.log(0.7) + st.t(4, 1, 2).logcdf(x)], axis=0)
    np.testing.assert_allclose(_jaxmc("Mixture-list", "logcdf"), ref, rtol=1e-10)
    k = COUNTS
    ref = logsumexp([np.log(w) + st.poisson(m).logpmf(k) for w, m in [(0.2, 1), (0.5, 4), (0.3, 9)]], axis=0)
    np.testing.assert_allclose(_jaxmc("Mixture-single-poisson"), ref, rtol=1e-10)
    ref = logsumexp([np.log(w) + st.norm(m, s).logpdf(x) for w, m, s in [(.2, -2, .5), (.3, 0, 1), (.5, 3, 2)]],
                    axis=0)
    np.testing.assert_allclose(_jaxmc("NormalMixture"), ref, rtol=1e-10)
    w = np.array([[0.1, 0.9], [0.5, 0.5], [0.8, 0.2], [0.3, 0.7]])
    xb = BATCH_REALS
    ref = logsumexp([np.log(w[:, 0]) + st.norm(np.arange(4.0), 1).logpdf(xb),
                     np.log(w[:, 1]) + st.gumbel_r(1, 2).logpdf(xb)], axis=0)
    np.testing.assert_allclose(_jaxmc("Mixture-batched-weights"), ref, rtol=1e-10)
    ref = logsumexp([np.log(0.4) + st.multivariate_normal(np.zeros(2), COV).logpdf(MV),
                     np.log(0.6) + st.multivariate_normal(np.ones(2), np.eye(2)).logpdf(MV)], axis=0)
    np.testing.assert_allclose(_jaxmc("Mixture-mvnormal"), ref, rtol=1e-10)
    ref = logsumexp([np.log(0.4) + st.multivariate_normal(np.zeros(2), COV).logpdf(MV),
                     np.log(0.6) + st.multivariate_normal(np.ones(2), COV).logpdf(MV)], axis=0)
    np.testing.assert_allclose(_jaxmc("Mixture-mvnormal-single"), ref, rtol=1e-10)


def _zero_inflated(psi, pmf, k):
    return np.log((1 - psi) * (k == 0) + psi * pmf(k))


def _hurdle(psi, logpmf, lognorm, k):
    with np.errstate(divide="ignore"):
        return np.where(k == 0, np.log1p(-psi), np.log(psi) + logpmf(np.where(k == 0, 1, k)) - lognorm)


def test_zero_inflated_and_hurdle_scipy():
    k = COUNTS
    np.testing.assert_allclose(_jaxmc("ZeroInflatedPoisson"), _zero_inflated(0.7, st.poisson(3).pmf, k), rtol=1e-10)
    np.testing.assert_allclose(_jaxmc("ZeroInflatedBinomial"),
                               _zero_inflated(0.6, st.binom(10, 0.3).pmf, SMALL_COUNTS), rtol=1e-10)
    nb = st.nbinom(2.0, 2.0 / 5.0)
    np.testing.assert_allclose(_jaxmc("ZeroInflatedNegativeBinomial"), _zero_inflated(0.8, nb.pmf, k), rtol=1e-10)
    np.testing.assert_allclose(_jaxmc("ZeroInflatedNegativeBinomial-np"),
                               _zero_inflated(0.8, st.nbinom(2.5, 0.4).pmf, k), rtol=1e-10)
    zip_cdf = np.log((1 - 0.7) + 0.7 * st.poisson(3).cdf(k))
    np.testing.assert_allclose(_jaxmc("ZeroInflatedPoisson", "logcdf"), zip_cdf, rtol=1e-10)
    pois = st.poisson(3)
    np.testing.assert_allclose(_jaxmc("HurdlePoisson"), _hurdle(0.7, pois.logpmf, np.log(pois.sf(0)), k),
                               rtol=1e-10)
    np.testing.assert_allclose(_jaxmc("HurdleNegativeBinomial"), _hurdle(0.6, nb.logpmf, np.log(nb.sf(0)), k),
                               rtol=1e-10)
    # the non-zero part of a continuous hurdle is not renormalized (as in PyMC)
    np.testing.assert_allclose(_jaxmc("HurdleGamma"), _hurdle(0.7, st.gamma(2.0, scale=1 / 1.5).logpdf, 0.0, POS),
                               rtol=1e-10)
    np.testing.assert_allclose(_jaxmc("HurdleLogNormal"),
                               _hurdle(0.4, st.lognorm(0.8, scale=np.exp(0.5)).logpdf, 0.0, POS), rtol=1e-10)
    hp_cdf = np.log(0.3 + 0.7 * (pois.cdf(k) - pois.cdf(0)) / pois.sf(0))
    np.testing.assert_allclose(_jaxmc("HurdlePoisson", "logcdf"), hp_cdf, rtol=1e-10)


# ---------------------------------------------------------------------------------------------- 2. PyMC
@pytest.mark.parametrize("name", list(CASES))
def test_logp_logcdf_match_pymc(name, pymc_results):
    ours = _jaxmc(name)
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, pymc_results[(name, "logp")], rtol=1e-6)
    if (name, "logcdf") in pymc_results:
        np.testing.assert_allclose(_jaxmc(name, "logcdf"), pymc_results[(name, "logcdf")], rtol=1e-6)


def test_invalid_weights_and_component_parameters():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bad_w = jaxmc.Mixture.dist([0.3, 0.3], [jaxmc.Normal.dist(), jaxmc.Normal.dist(1.0)])
        bad_comp = jaxmc.Mixture.dist([0.5, 0.5], [jaxmc.Normal.dist(), jaxmc.Normal.dist(1.0, -1.0)])
    assert np.isneginf(np_logp(bad_w, 0.0)) and np.isneginf(np_logp(bad_comp, 0.0))
    assert np.isneginf(np_logp(jaxmc.ZeroInflatedPoisson.dist(1.5, 2.0), 1))
    assert np.isneginf(np_logp(jaxmc.HurdlePoisson.dist(-0.1, 2.0), 1))
    assert np.all(np.isneginf(np_logp(jaxmc.ZeroInflatedPoisson.dist(0.5, 2.0), np.array([-1, 2.5]))))
    assert np.isneginf(np_logp(jaxmc.HurdleGamma.dist(0.5, 2.0, 1.0), -1.0))


# ---------------------------------------------------------------------------------------------- 3. models
def _mixture_model(pm):
    rng = np.random.default_rng(3)
    y = np.concatenate([rng.normal(-2, 1, 10), rng.normal(2, 0.5, 10)])
    counts = np.array([0, 0, 3, 1, 0, 5, 2, 0, 0, 4])
    with pm.Model(coords={"obs": np.arange(20), "comp": ["a", "b"]}) as model:
        w = pm.Dirichlet("w", np.ones(2), dims="comp")
        mu = pm.Normal("mu", np.array([-1.0, 1.0]), 2.0, dims="comp",
                       transform=pm.distributions.transforms.ordered)
        sigma = pm.HalfNormal("sigma", 1.0, dims="comp")
        pm.NormalMixture("y", w, mu, sigma, observed=y, dims="obs")
        psi = pm.Beta("psi", 2.0, 2.0)
        lam = pm.Exponential("lam", 0.5)
        pm.ZeroInflatedPoisson("zip", psi, lam, observed=counts)
        pm.ZeroInflatedBinomial("zib", psi, 6, 0.4, observed=counts)
        pm.ZeroInflatedNegativeBinomial("zinb", psi, mu=lam, alpha=3.0, observed=counts)
        pm.HurdlePoisson("hp", psi, lam, observed=counts)
        pm.HurdleNegativeBinomial("hnb", psi, mu=lam, alpha=3.0, observed=counts)
        pm.HurdleGamma("hg", psi, alpha=2.0, beta=lam, observed=counts * 0.7)
        pm.HurdleLogNormal("hln", psi, mu=mu[0], sigma=sigma[1], observed=counts * 0.3)
        pm.Mixture("mx_pos", w, [pm.Gamma.dist(2.0, lam), pm.LogNormal.dist(0.0, 1.0)])
        pm.Mixture("mx_mv", w, [pm.MvNormal.dist(mu[0] * np.ones(2), COV),
                                pm.MvNormal.dist(mu[1] * np.ones(2), np.eye(2))], observed=MV[:5])
        pm.Mixture("mx_single", [0.3, 0.7], pm.Normal.dist(mu, sigma), shape=3)
    return model


def test_model_parity():
    jm, pmm = fast(pymc_parity, _mixture_model)
    names = {v.name for v in jm.value_vars}
    assert {"w_simplex__", "mu_ordered__", "mx_pos_log__", "mx_single"} <= names
    ip = jm.initial_point()
    assert np.isfinite(jm.compile_logp()(ip)) and np.all(np.isfinite(jm.compile_dlogp()(ip)))


def test_imputed_mixture_matches_pymc():
    y = np.array([0.5, np.nan, -1.0, 2.0, np.nan])

    def build(pm):
        with pm.Model() as m:
            w = pm.Dirichlet("w", np.ones(2))
            mu = pm.Normal("mu", 0.0, 2.0, shape=2)
            pm.NormalMixture("y", w, mu, sigma=np.array([1.0, 0.5]), observed=y)
        return m

    jm, _ = fast(pymc_parity, build, n_points=5)
    assert jm.initial_point()["y_unobserved"].shape == (2,)


# ---------------------------------------------------------------------------------------------- 4. transforms
def test_default_transforms_follow_pymc():
    with jaxmc.Model() as m:
        jaxmc.Mixture("pos", [0.5, 0.5], [jaxmc.Gamma.dist(2.0, 1.0), jaxmc.Exponential.dist(1.0)])
        jaxmc.Mixture("same_interval", [0.5, 0.5], [jaxmc.Uniform.dist(0.0, 2.0), jaxmc.Uniform.dist(0.0, 2.0)])
        jaxmc.Mixture("reals", [0.5, 0.5], [jaxmc.Normal.dist(), jaxmc.Normal.dist(1.0)])
        jaxmc.Mixture("simplex", [0.5, 0.5], [jaxmc.Dirichlet.dist(np.ones(3)), jaxmc.Dirichlet.dist(np.ones(3) * 3)])
        with pytest.warns(UserWarning, match="No safe default transform"):
            jaxmc.Mixture("diff_interval", [0.5, 0.5], [jaxmc.Uniform.dist(0.0, 1.0), jaxmc.Uniform.dist(0.0, 2.0)])
        with pytest.warns(UserWarning, match="No safe default transform"):
            jaxmc.Mixture("mixed", [0.5, 0.5], [jaxmc.Uniform.dist(0.0, 1.0), jaxmc.Beta.dist(2.0, 2.0)])
        with pytest.warns(UserWarning, match="No safe default transform"):
            jaxmc.HurdleGamma("hg", 0.5, 2.0, 1.0)
    names = {v.name for v in m.value_vars}
    assert names == {"pos_log__", "same_interval_interval__", "reals", "simplex_simplex__", "diff_interval",
                     "mixed", "hg"}
    for rv in m.free_RVs:
        t = m.rvs_to_transforms[rv]
        if t is None:
            continue
        value = np.full(rv.shape, 1.0 / 3.0) if rv.name == "simplex" else np.full(rv.shape, 0.7)
        ldj, expected = check_transform(t, value, *rv.owner.params)
        np.testing.assert_allclose(ldj, expected, rtol=1e-8, err_msg=rv.name)
    ip = m.initial_point()
    np.testing.assert_allclose(ip["pos_log__"], np.log(0.5 * 2.0 + 0.5 * 1.0))


# ---------------------------------------------------------------------------------------------- 5. shapes, errors
def test_shapes_and_errors():
    assert jaxmc.NormalMixture.dist([0.5, 0.5], [0.0, 1.0], [1.0, 1.0], shape=(4,)).shape == (4,)
    assert jaxmc.Mixture.dist(np.ones((3, 2)) / 2, [jaxmc.Normal.dist(), jaxmc.Normal.dist()]).shape == (3,)
    assert jaxmc.Mixture.dist([0.5, 0.5], jaxmc.Poisson.dist(np.ones((5, 2)))).shape == (5,)
    d = jaxmc.Mixture.dist([0.5, 0.5], [jaxmc.Dirichlet.dist(np.ones(3)), jaxmc.Dirichlet.dist(np.ones(3))], size=4)
    assert d.shape == (4, 3)
    assert jaxmc.ZeroInflatedPoisson.dist(0.5, np.ones(6)).dtype.kind == "i"
    with pytest.raises(ValueError, match="either discrete or continuous"):
        jaxmc.Mixture.dist([0.5, 0.5], [jaxmc.Normal.dist(), jaxmc.Poisson.dist(1.0)])
    with pytest.raises(ValueError, match="same support dimensionality"):
        jaxmc.Mixture.dist([0.5, 0.5], [jaxmc.Normal.dist(), jaxmc.MvNormal.dist(np.zeros(2), np.eye(2))])
    with pytest.raises(ValueError, match=r"created via the `.dist\(\)` API"):
        jaxmc.Mixture.dist([0.5, 0.5], [1.0, 2.0])
    with pytest.warns(UserWarning, match="Single component"):
        jaxmc.Mixture.dist([0.5, 0.5], [jaxmc.Normal.dist(size=2)])
    with jaxmc.Model():
        x = jaxmc.Normal("x")
        with pytest.raises(ValueError, match="already registered"):
            jaxmc.Mixture("bad", [0.5, 0.5], [x, jaxmc.Normal.dist()])
        with pytest.raises(ValueError, match="outside the support"):
            jaxmc.ZeroInflatedPoisson("zip", 0.5, 2.0, observed=np.array([1, -1]))


# ---------------------------------------------------------------------------------------------- 6. draws
def test_draw_moments():
    n = 20000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dists = [
            jaxmc.ZeroInflatedPoisson.dist(0.7, 3.0),
            jaxmc.NormalMixture.dist([0.2, 0.8], [-2.0, 1.0], [1.0, 0.5]),
            jaxmc.HurdlePoisson.dist(0.6, 2.0),
            jaxmc.HurdleGamma.dist(0.4, 2.0, 1.0),
            jaxmc.Mixture.dist([0.3, 0.7], [jaxmc.MvNormal.dist(np.zeros(2), COV),
                                            jaxmc.MvNormal.dist(np.array([2.0, -1.0]), np.eye(2))]),
            jaxmc.Mixture.dist(np.array([[0.9, 0.1], [0.1, 0.9]]), jaxmc.Poisson.dist(np.array([1.0, 10.0]), size=(2, 2))),
        ]
    zip_, nm, hp, hg, mv, batch = jaxmc.draw(dists, draws=n, random_seed=5)
    assert zip_.dtype.kind == "i" and hp.dtype.kind == "i" and mv.shape == (n, 2) and batch.shape == (n, 2)

    def check(name, x, mean, var):
        x = np.asarray(x, float)
        z = (x.mean(0) - mean) / np.sqrt(np.asarray(var) / n)
        assert np.all(np.abs(z) < 5), (name, z)

    check("zip", zip_, 0.7 * 3, 0.7 * 3 * (1 + 0.3 * 3))
    m = 0.2 * -2 + 0.8 * 1
    check("normal mixture", nm, m, 0.2 * (1 + 4) + 0.8 * (0.25 + 1) - m**2)
    hp_mean = 0.6 * 2.0 / (1 - np.exp(-2.0))
    hp_m2 = 0.6 * (2.0 + 4.0) / (1 - np.exp(-2.0))
    check("hurdle poisson", hp, hp_mean, hp_m2 - hp_mean**2)
    assert np.all(hp[hp != 0] >= 1)
    check("hurdle gamma", hg, 0.4 * 2.0, 0.4 * 6.0 - 0.8**2)
    assert abs(np.mean(hg == 0) - 0.6) < 5 * np.sqrt(0.24 / n)
    mv_mean = 0.7 * np.array([2.0, -1.0])
    check("mv mixture", mv, mv_mean, 0.3 * np.diag(COV) + 0.7 * (1 + np.array([4.0, 1.0])) - mv_mean**2)
    check("batched weights", batch, np.array([0.9 + 1.0, 0.1 + 9.0]),
          np.array([0.9 * 2 + 0.1 * 110, 0.1 * 2 + 0.9 * 110]) - np.array([1.9, 9.1]) ** 2)

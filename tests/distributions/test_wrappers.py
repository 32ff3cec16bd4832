"""Censored, Truncated and CustomDist / DensityDist: log densities and CDFs against scipy and PyMC, model
parity, transforms, draws (inverse CDF, rejection, user functions, generative graphs) and PyMC's errors."""

from __future__ import annotations


import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st
from scipy import integrate

import jaxmc
from tests.distributions.helpers import fast, jaxmc_cases, np_logp, pymc_at_values
from tests.helpers import PYMC6, check_transform, pymc_parity

pymc = pytest.importorskip("pymc")
pytensor = pytest.importorskip("pytensor")

R = np.random.default_rng(23)
N = 16


def _with(values, *extra):
    return np.concatenate([np.asarray(extra, dtype=float), values])


CENS_X = _with(R.uniform(-1, 3, N), -1.0, 3.0, -1.5, 3.5)
POS_X = _with(R.uniform(0.5, 4, N), 0.5, 1.0, 3.0, 0.2, 4.5)
EXP_X = _with(R.uniform(0, 2, N), 2.0, 2.5)
COUNT_X = np.arange(0, 11).astype("int64")
REAL_X = R.normal(0, 2, N)
UNIT_X = R.uniform(0.01, 0.99, N)
PERT_X = R.uniform(0.5, 9.5, N)


def _pert(low, peak, high, lmbda, size, pm):
    rng_ = high - low
    a = 1 + lmbda * (peak - low) / rng_
    b = 1 + lmbda * (high - peak) / rng_
    return pm.Beta.dist(a, b, size=size) * rng_ + low


# name: (build, values, PyMC has a logcdf)
CASES = {
    "Censored-normal": (lambda pm: pm.Censored.dist(pm.Normal.dist(1.0, 2.0), lower=-1.0, upper=3.0), CENS_X, True),
    "Censored-lower": (lambda pm: pm.Censored.dist(pm.Gamma.dist(2.0, 1.0), lower=1.0, upper=None), POS_X, True),
    # lam = 2: PyMC's Exponential(1.5) is off by ~4e-8 in absolute terms (its 1 / lam goes through float32)
    "Censored-upper": (lambda pm: pm.Censored.dist(pm.Exponential.dist(2.0), lower=None, upper=2.0), EXP_X, True),
    "Censored-poisson": (lambda pm: pm.Censored.dist(pm.Poisson.dist(3.0), lower=1, upper=5), COUNT_X, True),
    "Truncated-gamma": (lambda pm: pm.Truncated.dist(pm.Gamma.dist(2.0, 1.0), lower=1.0, upper=3.0), POS_X, True),
    "Truncated-exponential-lower": (lambda pm: pm.Truncated.dist(pm.Exponential.dist(0.7), lower=1.0), POS_X, True),
    "Truncated-studentt-upper": (lambda pm: pm.Truncated.dist(pm.StudentT.dist(3.0, 0.0, sigma=1.5), upper=2.0),
                                 REAL_X, True),
    "Truncated-normal": (lambda pm: pm.Truncated.dist(pm.Normal.dist(0.5, 1.5), lower=-1.0, upper=2.0), REAL_X, True),
    "Truncated-poisson": (lambda pm: pm.Truncated.dist(pm.Poisson.dist(3.0), lower=1, upper=8), COUNT_X, True),
    "Truncated-binomial-lower": (lambda pm: pm.Truncated.dist(pm.Binomial.dist(10, 0.3), lower=2), COUNT_X, True),
    "CustomDist-logp": (lambda pm: pm.CustomDist.dist(0.5, 2.0, logp=lambda v, m, s: -0.5 * ((v - m) / s) ** 2
                                                      - pm.math.log(s)), REAL_X, False),
    "CustomDist-shifted-exponential": (lambda pm: pm.CustomDist.dist(
        1.5, -1.0, dist=lambda lam, shift, size: pm.Exponential.dist(lam, size=size) + shift), REAL_X, False),
    "CustomDist-exp-normal": (lambda pm: pm.CustomDist.dist(
        0.3, 0.8, dist=lambda mu, s, size: pm.math.exp(pm.Normal.dist(mu, s, size=size))), POS_X, False),
    "CustomDist-pert": (lambda pm: pm.CustomDist.dist(0.0, 3.0, 10.0, 4.0,
                                                      dist=lambda lo, pk, hi, lm, size: _pert(lo, pk, hi, lm, size, pm)),
                        PERT_X, False),
    "CustomDist-logit-normal": (lambda pm: pm.CustomDist.dist(
        0.2, 1.1, dist=lambda mu, s, size: pm.math.invlogit(pm.Normal.dist(mu, s, size=size))), UNIT_X, False),
    "CustomDist-negative-scaled-gamma": (lambda pm: pm.CustomDist.dist(
        2.0, dist=lambda a, size: -pm.Gamma.dist(a, 1.0, size=size) / 2.0), -POS_X, False),
    "CustomDist-shifted-poisson": (lambda pm: pm.CustomDist.dist(
        2.5, dist=lambda mu, size: pm.Poisson.dist(mu, size=size) + 1), COUNT_X, False),
    "CustomDist-clip": (lambda pm: pm.CustomDist.dist(
        1.0, 2.0, dist=lambda mu, s, size: pm.math.clip(pm.Normal.dist(mu, s, size=size), -1.0, 3.0)), CENS_X, False),
}

_jaxmc = jaxmc_cases(CASES)


@pytest.fixture(scope="module")
def pymc_results():
    """PyMC's logp (and logcdf) of every case in one compiled function."""
    return pymc_at_values(CASES)


# ---------------------------------------------------------------------------------------------- 0. names
def test_names_exported():
    for name in ("Censored", "Truncated", "CustomDist", "DensityDist"):
        assert hasattr(jaxmc, name)


def test_density_dist_is_deprecated():
    """PyMC 6: DensityDist is a CustomDist subclass that warns (PyMC 5.28: a plain alias)."""
    assert issubclass(jaxmc.DensityDist, jaxmc.CustomDist)
    with pytest.warns(FutureWarning, match="DensityDist has been deprecated, use CustomDist instead"):
        rv = jaxmc.DensityDist.dist(0.0, logp=lambda v, m: -((v - m) ** 2))
    np.testing.assert_allclose(np.asarray(jaxmc.logp(rv, 2.0)), -4.0)
    for pm in (jaxmc, pymc) if PYMC6 else (jaxmc,):
        with pm.Model():
            with pytest.warns(FutureWarning, match="DensityDist has been deprecated"):
                pm.DensityDist("dd", 1.0, logp=lambda v, m: -((v - m) ** 2), observed=np.array([0.5]))
    if PYMC6:
        with pytest.warns(FutureWarning, match="DensityDist has been deprecated, use CustomDist instead"):
            pymc.DensityDist.dist(0.0, logp=lambda v, m: -((v - m) ** 2))
    else:
        assert pymc.DensityDist is pymc.CustomDist


# ---------------------------------------------------------------------------------------------- 1. scipy
def test_censored_scipy():
    x = CENS_X
    d = st.norm(1.0, 2.0)
    ref = np.where(x == -1, d.logcdf(-1.0), np.where(x == 3, d.logsf(3.0), d.logpdf(x)))
    ref = np.where((x < -1) | (x > 3), -np.inf, ref)
    np.testing.assert_allclose(_jaxmc("Censored-normal"), ref, rtol=1e-10)
    np.testing.assert_allclose(_jaxmc("CustomDist-clip"), ref, rtol=1e-10)
    ref_cdf = np.where(x < -1, -np.inf, np.where(x >= 3, 0.0, d.logcdf(x)))
    np.testing.assert_allclose(_jaxmc("Censored-normal", "logcdf"), ref_cdf, rtol=1e-10)
    k = COUNT_X
    p = st.poisson(3.0)
    with np.errstate(divide="ignore"):
        ref = np.where(k == 1, p.logcdf(1), np.where(k == 5, np.log(p.sf(4)), p.logpmf(k)))
        ref = np.where((k < 1) | (k > 5), -np.inf, ref)
    np.testing.assert_allclose(_jaxmc("Censored-poisson"), ref, rtol=1e-10)


def test_truncated_scipy():
    x = POS_X
    g = st.gamma(2.0)
    ref = np.where((x < 1) | (x > 3), -np.inf, g.logpdf(x) - np.log(g.cdf(3) - g.cdf(1)))
    np.testing.assert_allclose(_jaxmc("Truncated-gamma"), ref, rtol=1e-10)
    with np.errstate(divide="ignore"):
        ref_cdf = np.where(x < 1, -np.inf, np.where(x > 3, 0.0, np.log((g.cdf(np.clip(x, 1, 3)) - g.cdf(1))
                                                                      / (g.cdf(3) - g.cdf(1)))))
    np.testing.assert_allclose(_jaxmc("Truncated-gamma", "logcdf"), ref_cdf, rtol=1e-9)
    e = st.expon(scale=1 / 0.7)
    ref = np.where(x < 1, -np.inf, e.logpdf(x) - e.logsf(1.0))
    np.testing.assert_allclose(_jaxmc("Truncated-exponential-lower"), ref, rtol=1e-10)
    t = st.t(3.0, 0.0, 1.5)
    ref = np.where(REAL_X > 2, -np.inf, t.logpdf(REAL_X) - t.logcdf(2.0))
    np.testing.assert_allclose(_jaxmc("Truncated-studentt-upper"), ref, rtol=1e-10)
    tn = st.truncnorm((-1 - 0.5) / 1.5, (2 - 0.5) / 1.5, 0.5, 1.5)
    np.testing.assert_allclose(_jaxmc("Truncated-normal"), tn.logpdf(REAL_X), rtol=1e-10)
    k = COUNT_X
    p = st.poisson(3.0)
    with np.errstate(divide="ignore"):
        ref = np.where((k < 1) | (k > 8), -np.inf, p.logpmf(k) - np.log(p.cdf(8) - p.cdf(0)))
    np.testing.assert_allclose(_jaxmc("Truncated-poisson"), ref, rtol=1e-10)
    b = st.binom(10, 0.3)
    with np.errstate(divide="ignore"):
        ref = np.where(k < 2, -np.inf, b.logpmf(k) - np.log(b.sf(1)))
    np.testing.assert_allclose(_jaxmc("Truncated-binomial-lower"), ref, rtol=1e-10)
    with np.errstate(divide="ignore"):
        ref_cdf = np.where(k < 1, -np.inf, np.where(k > 8, 0.0, np.log((p.cdf(np.minimum(k, 8)) - p.cdf(0))
                                                                       / (p.cdf(8) - p.cdf(0)))))
    np.testing.assert_allclose(_jaxmc("Truncated-poisson", "logcdf"), ref_cdf, rtol=1e-10)


def test_truncated_normal_is_truncatednormal():
    t = jaxmc.Truncated.dist(jaxmc.Normal.dist(0.0, 1.0), lower=0.0)
    assert type(t.owner).__name__ == "TruncatedNormal"
    t = jaxmc.Truncated.dist(jaxmc.Normal.dist(0.0, 1.0, shape=3), lower=0.0)
    assert t.shape == (3,)


def test_custom_dist_derived_logp_scipy():
    np.testing.assert_allclose(_jaxmc("CustomDist-logp"), -0.5 * ((REAL_X - 0.5) / 2) ** 2 - np.log(2.0),
                               rtol=1e-12)
    np.testing.assert_allclose(_jaxmc("CustomDist-shifted-exponential"),
                               st.expon(loc=-1.0, scale=1 / 1.5).logpdf(REAL_X), rtol=1e-10)
    np.testing.assert_allclose(_jaxmc("CustomDist-exp-normal"), st.lognorm(0.8, scale=np.exp(0.3)).logpdf(POS_X),
                               rtol=1e-10)
    a, b = 1 + 4 * 3 / 10, 1 + 4 * 7 / 10
    np.testing.assert_allclose(_jaxmc("CustomDist-pert"), st.beta(a, b, loc=0, scale=10).logpdf(PERT_X), rtol=1e-10)
    u = UNIT_X
    ref = st.norm(0.2, 1.1).logpdf(np.log(u / (1 - u))) - np.log(u) - np.log1p(-u)
    np.testing.assert_allclose(_jaxmc("CustomDist-logit-normal"), ref, rtol=1e-10)
    np.testing.assert_allclose(_jaxmc("CustomDist-negative-scaled-gamma"),
                               st.gamma(2.0, scale=0.5).logpdf(POS_X), rtol=1e-10)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(_jaxmc("CustomDist-shifted-poisson"), st.poisson(2.5, loc=1).logpmf(COUNT_X),
                                   rtol=1e-10)


# ---------------------------------------------------------------------------------------------- 2. PyMC
@pytest.mark.parametrize("name", list(CASES))
def test_logp_logcdf_match_pymc(name, pymc_results):
    ours = _jaxmc(name)
    ref = pymc_results[(name, "logp")]
    np.testing.assert_array_equal(np.isfinite(ours), np.isfinite(ref))
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    if (name, "logcdf") in pymc_results:
        np.testing.assert_allclose(_jaxmc(name, "logcdf"), pymc_results[(name, "logcdf")], rtol=1e-6)


# ---------------------------------------------------------------------------------------------- 3. models
def _wrapper_model(pm):
    rng = np.random.default_rng(2)
    y_cens = np.clip(rng.normal(0.5, 1.5, 12), -1.0, 2.0)
    counts = np.array([1, 2, 5, 3, 1, 9, 4])
    with pm.Model(coords={"obs": np.arange(12)}) as model:
        mu = pm.Normal("mu", 0.0, 1.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Censored("cens", pm.Normal.dist(mu, sigma), lower=-1.0, upper=2.0, observed=y_cens, dims="obs")
        pm.Censored("cens_free", pm.Normal.dist(mu, sigma), lower=-1.0, upper=2.0)
        pm.Truncated("tn_obs", pm.Normal.dist(mu, sigma), lower=-3.0, upper=3.0, observed=y_cens)
        pm.Truncated("tg", pm.Gamma.dist(2.0, sigma), lower=0.5, upper=4.0)
        pm.Truncated("te", pm.Exponential.dist(sigma), lower=0.5, shape=2)
        pm.Truncated("tpois", pm.Poisson.dist(pm.math.exp(mu)), lower=1, upper=10, observed=counts)
        pm.CustomDist("cd_logp", mu, sigma, logp=lambda v, m, s: -0.5 * ((v - m) / s) ** 2 - pm.math.log(s),
                      observed=y_cens)
        pm.CustomDist("cd_dist", sigma, -1.0,
                      dist=lambda lam, shift, size: pm.Exponential.dist(lam, size=size) + shift, observed=y_cens)
        pm.CustomDist("cd_free", mu, dist=lambda m, size: pm.Normal.dist(m, 1.0, size=size) * 2.0 + 1.0, shape=3)
        pm.DensityDist("dd", mu, logp=lambda v, m: -((v - m) ** 2), observed=y_cens[:4])
    return model


def test_model_parity():
    jm, pmm = fast(pymc_parity, _wrapper_model)
    names = {v.name for v in jm.value_vars}
    assert names == {"mu", "sigma_log__", "cens_free", "tg_interval__", "te_interval__", "cd_free"}
    ip = jm.initial_point()
    assert np.isfinite(jm.compile_logp()(ip)) and np.all(np.isfinite(jm.compile_dlogp()(ip)))


def test_truncated_interval_transform_jacobian():
    t = jaxmc.Truncated.dist(jaxmc.Gamma.dist(2.0, 1.0), lower=0.5, upper=4.0)
    tr = t.owner.default_transform()
    ldj, expected = check_transform(tr, np.array([0.7, 1.5, 3.9]), *t.owner.params)
    np.testing.assert_allclose(ldj, expected, rtol=1e-10)
    t = jaxmc.Truncated.dist(jaxmc.Exponential.dist(1.0), lower=1.0)
    ldj, expected = check_transform(t.owner.default_transform(), np.array([1.5, 10.0]), *t.owner.params)
    np.testing.assert_allclose(ldj, expected, rtol=1e-10)
    assert jaxmc.Truncated.dist(jaxmc.Poisson.dist(2.0), lower=1).owner.default_transform() is None


def test_support_points():
    with jaxmc.Model() as m:
        jaxmc.Truncated("inside", jaxmc.Gamma.dist(4.0, 1.0), lower=1.0, upper=10.0)  # Gamma's support point 4
        jaxmc.Truncated("outside", jaxmc.Gamma.dist(4.0, 1.0), lower=10.0, upper=12.0)
        jaxmc.Truncated("lower", jaxmc.Exponential.dist(1.0), lower=5.0)
        jaxmc.Truncated("on_bound", jaxmc.Exponential.dist(1.0), lower=1.0)  # PyMC keeps 1.0: -inf
        jaxmc.Censored("cens", jaxmc.Normal.dist(), lower=-1.0, upper=3.0)
        jaxmc.Censored("cens_low", jaxmc.Normal.dist(), lower=2.0)
        jaxmc.CustomDist("cd", 2.0, logp=lambda v, m: -((v - m) ** 2),
                         support_point=lambda rv, size, m: jnp.full_like(rv, m))
        jaxmc.CustomDist("cd_graph", 2.0, dist=lambda m, size: jaxmc.Normal.dist(m, 1.0, size=size) * 3.0)
    pt = m.compiled().expand(m.compiled().initial_flat(), m.data_values())
    np.testing.assert_allclose([pt["inside"], pt["outside"], pt["lower"], pt["on_bound"]], [4.0, 11.0, 6.0, 2.0])
    assert np.isfinite(m.compile_logp()(m.initial_point()))
    np.testing.assert_allclose([pt["cens"], pt["cens_low"], pt["cd"], pt["cd_graph"]], [1.0, 3.0, 2.0, 6.0])


# ---------------------------------------------------------------------------------------------- 4. draws
def _moments(pdf, lo, hi):
    z = integrate.quad(pdf, lo, hi)[0]
    m1 = integrate.quad(lambda x: x * pdf(x), lo, hi)[0] / z
    m2 = integrate.quad(lambda x: x * x * pdf(x), lo, hi)[0] / z
    return m1, m2 - m1**2


def test_draw_moments():
    n = 20000
    dists = {
        "trunc_gamma_reject": (jaxmc.Truncated.dist(jaxmc.Gamma.dist(2.0, 1.0), lower=1.0, upper=3.0),
                               _moments(st.gamma(2.0).pdf, 1, 3)),
        "trunc_exp_icdf": (jaxmc.Truncated.dist(jaxmc.Exponential.dist(0.7), lower=1.0),
                           (1.0 + 1 / 0.7, 1 / 0.49)),
        "trunc_weibull_icdf": (jaxmc.Truncated.dist(jaxmc.Weibull.dist(1.5, 2.0), lower=0.5, upper=2.5),
                               _moments(st.weibull_min(1.5, scale=2.0).pdf, 0.5, 2.5)),
        "trunc_normal": (jaxmc.Truncated.dist(jaxmc.Normal.dist(0.5, 1.5), lower=-1.0, upper=2.0),
                         (st.truncnorm(-1.0, 1.0, 0.5, 1.5).mean(), st.truncnorm(-1.0, 1.0, 0.5, 1.5).var())),
        "cens_normal": (jaxmc.Censored.dist(jaxmc.Normal.dist(1.0, 2.0), lower=-1.0, upper=3.0), None),
        "cd_random": (jaxmc.CustomDist.dist(2.0, logp=lambda v, m: -((v - m) ** 2),
                                            random=lambda m, rng=None, size=None: rng.normal(m, 0.5, size=size)),
                      (2.0, 0.25)),
        "cd_graph": (jaxmc.CustomDist.dist(0.3, 0.5, dist=lambda mu, s, size: jaxmc.math.exp(
            jaxmc.Normal.dist(mu, s, size=size))), (st.lognorm(0.5, scale=np.exp(0.3)).mean(),
                                                   st.lognorm(0.5, scale=np.exp(0.3)).var())),
    }
    p = st.poisson(3.0).pmf(np.arange(1, 9))
    p = p / p.sum()
    tp_mean = np.sum(np.arange(1, 9) * p)
    tp_var = np.sum(np.arange(1, 9) ** 2 * p) - tp_mean**2
    dists["trunc_poisson"] = (jaxmc.Truncated.dist(jaxmc.Poisson.dist(3.0), lower=1, upper=8), (tp_mean, tp_var))
    draws = dict(zip(dists, jaxmc.draw([d for d, _ in dists.values()], draws=n, random_seed=9)))
    for name, (_, mv) in dists.items():
        x = np.asarray(draws[name], float)
        assert np.all(np.isfinite(x)), name
        if mv is None:
            continue
        mean, var = mv
        assert abs(x.mean() - mean) < 5 * np.sqrt(var / n), (name, x.mean(), mean)
        assert abs(x.var() - var) < 6 * np.sqrt(2 * var**2 / n) + 5 * np.sqrt(np.var((x - x.mean()) ** 2) / n), \
            (name, x.var(), var)
    tp = draws["trunc_poisson"]
    assert tp.dtype.kind == "i" and tp.min() >= 1 and tp.max() <= 8
    c = draws["cens_normal"]
    d = st.norm(1.0, 2.0)
    assert abs(np.mean(c == -1.0) - d.cdf(-1.0)) < 5 * np.sqrt(0.25 / n)
    assert abs(np.mean(c == 3.0) - d.sf(3.0)) < 5 * np.sqrt(0.25 / n)
    assert c.min() == -1.0 and c.max() == 3.0


def test_rejection_that_does_not_converge_gives_nan():
    far = jaxmc.Truncated.dist(jaxmc.Gamma.dist(2.0, 1.0), lower=60.0, max_n_steps=5)
    x = jaxmc.draw(far, draws=3, random_seed=1)
    assert np.all(np.isnan(x))


# ---------------------------------------------------------------------------------------------- 5. CustomDist API
def test_custom_dist_shapes_dtypes_and_signature():
    def random(mu, rng=None, size=None):
        return rng.multivariate_normal(mu, np.eye(mu.shape[-1]), size=size)

    def logp(value, mu):
        return -0.5 * jnp.sum((value - mu) ** 2, axis=-1)

    mv = jaxmc.CustomDist.dist(np.zeros(3), logp=logp, random=random, signature="(n)->(n)")
    assert mv.shape == (3,) and mv.owner.ndim_supp == 1
    x = jaxmc.draw(mv, draws=5, random_seed=1)
    assert x.shape == (5, 3)
    np.testing.assert_allclose(np_logp(mv, np.ones(3)), -1.5)
    cnt = jaxmc.CustomDist.dist(3.0, dtype="int64", random=lambda lam, rng=None, size=None: rng.poisson(lam, size),
                                size=(2, 4))
    x = jaxmc.draw(cnt, draws=7, random_seed=2)
    assert x.shape == (7, 2, 4) and x.dtype.kind == "i"
    with jaxmc.Model() as m:
        jaxmc.CustomDist("s", logp=lambda v: jnp.sum(-(v**2)), observed=np.ones(5))  # a summed logp stays summed
        jaxmc.CustomDist("c", 1, dtype="int64", logp=lambda v, k: -jnp.abs(v - k), observed=np.array([0, 3]))
    assert float(m.compile_logp()({})) == pytest.approx(-5.0 - 1.0 - 2.0)
    assert type(m["s"].owner).__name__ == "CustomDist_s"


def test_custom_dist_errors():
    with pytest.raises(TypeError, match="DensityDist API has changed"):
        jaxmc.CustomDist.dist(lambda v: v, 1.0)
    with pytest.raises(ValueError, match="Cannot provide both dist and random"):
        jaxmc.CustomDist.dist(1.0, dist=lambda m, size: jaxmc.Normal.dist(m), random=lambda m, rng, size: m)
    with pytest.raises(TypeError, match="should no longer return a PyTensor graph"):
        jaxmc.CustomDist.dist(1.0, random=lambda m, size: jaxmc.Normal.dist(m, size=size))
    no_cdf = jaxmc.CustomDist.dist(1.0, logp=lambda v, m: -v)
    with pytest.raises(NotImplementedError, match="logcdf"):
        jaxmc.logcdf(no_cdf, 0.0)
    with pytest.raises(NotImplementedError, match="random"):
        jaxmc.draw(no_cdf)
    two = jaxmc.CustomDist.dist(0.0, dist=lambda m, size: jaxmc.Normal.dist(m, size=size) + jaxmc.Normal.dist(size=size))
    with pytest.raises(NotImplementedError, match="cannot be derived"):
        jaxmc.logp(two, 0.0)
    assert jaxmc.draw(two, draws=4, random_seed=0).shape == (4,)
    square = jaxmc.CustomDist.dist(0.0, dist=lambda m, size: jaxmc.Normal.dist(m, size=size) ** 2)
    with pytest.raises(NotImplementedError, match="not invertible"):
        jaxmc.logp(square, 1.0)
    with jaxmc.Model():
        with pytest.raises(ValueError, match="Model variables cannot be created in the dist function"):
            jaxmc.CustomDist("bad", 0.0, dist=lambda m, size: jaxmc.Normal("inner", m))
        with pytest.raises(TypeError, match="observed"):
            jaxmc.CustomDist("old", logp=lambda v: v, observed={"a": 1})
    with pytest.raises(ValueError, match="Censoring dist"):
        jaxmc.Censored.dist(1.0, lower=0.0)
    with pytest.raises(NotImplementedError, match="multivariate"):
        jaxmc.Censored.dist(jaxmc.MvNormal.dist(np.zeros(2), np.eye(2)), lower=0.0)
    with pytest.raises(ValueError, match="cannot both be None"):
        jaxmc.Truncated.dist(jaxmc.Gamma.dist(2.0, 1.0))
    with pytest.raises(NotImplementedError, match="multivariate"):
        jaxmc.Truncated.dist(jaxmc.MvNormal.dist(np.zeros(2), np.eye(2)), lower=0.0)


def test_custom_dist_graph_follows_size_and_data():
    with jaxmc.Model() as m:
        x = jaxmc.Data("x", np.zeros(4))
        mu = jaxmc.Normal("mu", 0.0, 1.0)
        jaxmc.CustomDist("y", mu, dist=lambda m_, size: jaxmc.Normal.dist(m_, 0.1, size=size) + 5.0,
                         observed=np.full(4, 5.0))
        jaxmc.Deterministic("xs", x)
    pp = jaxmc.sample_prior_predictive(draws=50, model=m, random_seed=3, return_inferencedata=False)
    assert pp["y"].shape == (1, 50, 4)
    assert abs(float(np.mean(pp["y"] - pp["mu"][..., None])) - 5.0) < 0.1


# ---------------------------------------------------------------------------------------------- 6. Simulator
def _constant_sim(rng, loc, scale, size):  # a deterministic simulator: PyMC's and jaxmc's logp agree exactly
    return np.full(size, loc) + scale * np.linspace(-1.0, 1.0, size[-1])


def test_simulator_matches_pymc():
    values = R.normal(1.0, 2.0, 6)
    kinds = [dict(), dict(distance="laplace", epsilon=0.5), dict(sum_stat="sort"), dict(sum_stat="mean", epsilon=2.0),
             dict(distance=lambda eps, a, b: -np.abs(a - b) ** 3 / eps, sum_stat=np.sort)]
    outs, ours = [], []
    for kw in kinds:
        outs.append(pymc.logp(pymc.Simulator.dist(_constant_sim, 1.0, 0.5, size=6, **kw), values))
        ours.append(np.asarray(np_logp(jaxmc.Simulator.dist(_constant_sim, 1.0, 0.5, size=6, **kw), values)))
    ref = fast(pytensor.function, [], outs)()
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    with pytest.raises(NotImplementedError, match="KL"):
        jaxmc.Simulator.dist(_constant_sim, 1.0, 0.5, distance="kullback_leibler")
    with pytest.raises(ValueError, match="Cannot pass both"):
        jaxmc.Simulator.dist(_constant_sim, 1.0, params=[1.0, 0.5])


def test_simulator_draws_and_model():
    def sim(rng, loc, scale, size):
        return rng.normal(loc, scale, size=size)

    data = R.normal(1.0, 2.0, 30)
    with jaxmc.Model() as m:
        loc = jaxmc.Normal("loc", 0.0, 1.0)
        s = jaxmc.Simulator("s", sim, loc, 2.0, sum_stat="sort", epsilon=1.0, observed=data)
    assert type(s.owner).__name__ == "Simulator_s"
    lp = m.compile_logp()
    assert np.isfinite(lp({"loc": 1.0})) and lp({"loc": 1.0}) == lp({"loc": 1.0})  # seeded by value and params
    pp = jaxmc.sample_prior_predictive(draws=200, model=m, random_seed=1, return_inferencedata=False)
    assert pp["s"].shape == (1, 200, 30)
    x = jaxmc.draw(jaxmc.Simulator.dist(sim, 1.0, 2.0), draws=4000, random_seed=2)
    assert abs(x.mean() - 1.0) < 5 * 2.0 / np.sqrt(4000) and abs(x.std() - 2.0) < 0.15


# ---------------------------------------------------------------------------------------------- 7. float32
def test_float32():
    from jaxmc import config

    old = config.floatX()
    config.set_floatX("float32")
    try:
        dists = [
            (jaxmc.Censored.dist(jaxmc.Normal.dist(), lower=-1.0, upper=1.0), np.array([-1.0, 0.0, 1.0])),
            (jaxmc.Truncated.dist(jaxmc.Gamma.dist(2.0, 1.0), lower=1.0, upper=3.0), np.array([1.5, 2.0])),
            (jaxmc.CustomDist.dist(1.0, dist=lambda m, size: jaxmc.math.exp(jaxmc.Normal.dist(m, 1.0, size=size))),
             np.array([1.5, 2.0])),
            (jaxmc.NormalMixture.dist([0.3, 0.7], [0.0, 1.0], [1.0, 2.0]), np.array([0.5, 1.0])),
            (jaxmc.AR.dist([0.5, 0.2], sigma=1.0, init_dist=jaxmc.Normal.dist(), steps=4), np.arange(6.0)),
        ]
        for d, v in dists:
            lp = np_logp(d, v.astype(np.float32))
            assert lp.dtype == np.float32 and np.all(np.isfinite(lp)), type(d.owner).__name__
        x = jaxmc.draw([d for d, _ in dists] + [jaxmc.HurdlePoisson.dist(0.5, 2.0)], draws=3, random_seed=1)
        assert [a.dtype for a in x] == [np.float32] * 5 + [np.int32]
    finally:
        config.set_floatX(old)

"""Time series: log densities against hand-built scipy references and PyMC (one compiled PyMC function),
model-level PyMC parity (value variables, dims, compiled logp), steps/shape inference, draws' moments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats as st

import jaxmc
from tests.distributions.helpers import fast, jaxmc_cases, np_logp, pymc_by_row
from tests.helpers import pymc_parity

pymc = pytest.importorskip("pymc")
pytensor = pytest.importorskip("pytensor")

R = np.random.default_rng(11)
T = 8


def _ou(x, k):  # Ornstein-Uhlenbeck drift and constant diffusion, valid for PyMC and jaxmc
    return -k * x, 0.7 + 0 * x


# ---------------------------------------------------------------------------------------------- cases
COV = np.array([[1.0, 0.3], [0.3, 0.5]])
SERIES = R.normal(size=(4, T)).cumsum(-1)
SERIES_B = R.normal(size=(4, 3, T)).cumsum(-1)
MV_SERIES = R.normal(size=(4, T, 2)).cumsum(-2)
GARCH_Y = R.normal(size=(4, T)) * 0.5
GARCH_YB = R.normal(size=(4, 2, T)) * 0.5

CASES = {
    "GRW": (lambda pm: pm.GaussianRandomWalk.dist(mu=0.3, sigma=1.5, init_dist=pm.Normal.dist(1.0, 2.0),
                                                 steps=T - 1), SERIES),
    "GRW-shape-default-init": (lambda pm: pm.GaussianRandomWalk.dist(mu=-0.2, sigma=0.8, shape=T), SERIES),
    "GRW-batch": (lambda pm: pm.GaussianRandomWalk.dist(mu=np.array([0.0, 0.5, -1.0]), sigma=np.array([1, 2, 3.0]),
                                                       init_dist=pm.Normal.dist(0, 3), shape=(3, T)), SERIES_B),
    "RandomWalk-StudentT": (lambda pm: pm.RandomWalk.dist(init_dist=pm.Laplace.dist(0.0, 2.0),
                                                          innovation_dist=pm.StudentT.dist(4.0, 0.1, sigma=1.2),
                                                          steps=T - 1), SERIES),
    "MvGRW": (lambda pm: pm.MvGaussianRandomWalk.dist(mu=np.array([0.1, -0.2]), cov=COV,
                                                     init_dist=pm.MvNormal.dist(np.zeros(2), np.eye(2)),
                                                     steps=T - 1), MV_SERIES),
    "MvGRW-default-init-chol": (lambda pm: pm.MvGaussianRandomWalk.dist(mu=np.zeros(2), chol=np.linalg.cholesky(COV),
                                                                       shape=(T, 2)), MV_SERIES),
    "MvStudentTRW": (lambda pm: pm.MvStudentTRandomWalk.dist(nu=5.0, mu=np.array([0.1, 0.0]), scale=COV,
                                                            init_dist=pm.MvNormal.dist(np.zeros(2), 3 * np.eye(2)),
                                                            steps=T - 1), MV_SERIES),
    "AR1": (lambda pm: pm.AR.dist(rho=[0.7], sigma=1.2, init_dist=pm.Normal.dist(0, 2), steps=T - 1), SERIES),
    "AR2-constant": (lambda pm: pm.AR.dist(rho=[0.5, 0.6, -0.3], sigma=0.9, constant=True,
                                           init_dist=pm.Normal.dist(1.0, 2.0), steps=T - 2), SERIES),
    "AR2-default-init-tau": (lambda pm: pm.AR.dist(rho=np.array([0.4, 0.2]), tau=2.0, shape=T), SERIES),
    "AR1-batch": (lambda pm: pm.AR.dist(rho=np.array([[0.3], [0.9], [-0.5]]), sigma=np.array([1.0, 0.5, 2.0]),
                                        init_dist=pm.Normal.dist(0, 1), shape=(3, T)), SERIES_B),
    "AR2-vector-init": (lambda pm: pm.AR.dist(rho=[0.5, -0.2], sigma=1.0,
                                              init_dist=pm.MvNormal.dist(np.zeros(2), COV), steps=T - 2), SERIES),
    "GARCH11": (lambda pm: pm.GARCH11.dist(omega=0.2, alpha_1=0.3, beta_1=0.5, initial_vol=0.8, steps=T - 1),
                GARCH_Y),
    "GARCH11-batch": (lambda pm: pm.GARCH11.dist(omega=np.array([0.1, 0.4]), alpha_1=0.2, beta_1=np.array([0.6, 0.1]),
                                                 initial_vol=1.1, shape=(2, T)), GARCH_YB),
    "EulerMaruyama": (lambda pm: pm.EulerMaruyama.dist(dt=0.1, sde_fn=_ou, sde_pars=(0.8,),
                                                       init_dist=pm.Normal.dist(0.0, 2.0), steps=T - 1), SERIES),
}

_jaxmc_logp = jaxmc_cases(CASES)


@pytest.fixture(scope="module")
def pymc_logps():
    """PyMC's logp of every case in one compiled function of one symbolic value per case (PyMC's time series
    logp takes one series at a time), called once per row of the values."""
    res = pymc_by_row({name: (make, values, False) for name, (make, values) in CASES.items()}, 4)
    return {name: res[(name, "logp")] for name in CASES}


# ---------------------------------------------------------------------------------------------- 0. names
def test_all_pymc_timeseries_names_exported():
    import pymc.distributions.timeseries as pts

    from jaxmc.distributions import timeseries as jts

    assert sorted(set(pts.__all__) - set(jts.__all__)) == []
    for name in pts.__all__:
        assert hasattr(jaxmc, name), name
    covered = {n.split("-")[0] for n in CASES} | {"RandomWalk", "MvStudentTRandomWalk"}
    assert {"GRW", "MvGRW", "AR1", "GARCH11", "EulerMaruyama", "RandomWalk"} <= covered


# ---------------------------------------------------------------------------------------------- 1. references
def test_gaussian_random_walk_scipy():
    x = SERIES
    ref = st.norm(1.0, 2.0).logpdf(x[:, 0]) + st.norm(0.3, 1.5).logpdf(np.diff(x, axis=-1)).sum(-1)
    np.testing.assert_allclose(_jaxmc_logp("GRW"), ref, rtol=1e-12)
    ref = st.norm(0, 100).logpdf(x[:, 0]) + st.norm(-0.2, 0.8).logpdf(np.diff(x, axis=-1)).sum(-1)
    np.testing.assert_allclose(_jaxmc_logp("GRW-shape-default-init"), ref, rtol=1e-12)


def test_mv_random_walks_scipy():
    x = MV_SERIES
    d = np.diff(x, axis=1)
    ref = st.multivariate_normal(np.zeros(2), np.eye(2)).logpdf(x[:, 0]) + \
        st.multivariate_normal([0.1, -0.2], COV).logpdf(d).sum(-1)
    np.testing.assert_allclose(_jaxmc_logp("MvGRW"), ref, rtol=1e-10)
    ref = st.multivariate_normal(np.zeros(2), 3 * np.eye(2)).logpdf(x[:, 0]) + \
        st.multivariate_t([0.1, 0.0], COV, df=5.0).logpdf(d).sum(-1)
    np.testing.assert_allclose(_jaxmc_logp("MvStudentTRW"), ref, rtol=1e-10)


def _ar_ref(x, rho, sigma, const, init):
    p = len(rho)
    lp = init.logpdf(x[..., :p]).sum(-1)
    for t in range(p, x.shape[-1]):
        mean = const + sum(rho[i] * x[..., t - 1 - i] for i in range(p))
        lp = lp + st.norm(mean, sigma).logpdf(x[..., t])
    return lp


def test_ar_scipy():
    x = SERIES
    np.testing.assert_allclose(_jaxmc_logp("AR1"), _ar_ref(x, [0.7], 1.2, 0.0, st.norm(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(_jaxmc_logp("AR2-constant"), _ar_ref(x, [0.6, -0.3], 0.9, 0.5, st.norm(1, 2)),
                               rtol=1e-12)
    np.testing.assert_allclose(_jaxmc_logp("AR2-default-init-tau"),
                               _ar_ref(x, [0.4, 0.2], 2.0**-0.5, 0.0, st.norm(0, 100)), rtol=1e-12)
    ref = st.multivariate_normal(np.zeros(2), COV).logpdf(x[:, :2]) + \
        _ar_ref(x, [0.5, -0.2], 1.0, 0.0, st.norm(0, 1)) - st.norm(0, 1).logpdf(x[:, :2]).sum(-1)
    np.testing.assert_allclose(_jaxmc_logp("AR2-vector-init"), ref, rtol=1e-12)


def _garch_ref(y, omega, a, b, vol0):
    lp = st.norm(0, vol0).logpdf(y[..., 0])
    vol = np.full(y.shape[:-1], vol0, dtype=float)
    for t in range(1, y.shape[-1]):
        vol = np.sqrt(omega + a * y[..., t - 1] ** 2 + b * vol**2)
        lp = lp + st.norm(0, vol).logpdf(y[..., t])
    return lp


def test_garch11_scipy():
    np.testing.assert_allclose(_jaxmc_logp("GARCH11"), _garch_ref(GARCH_Y, 0.2, 0.3, 0.5, 0.8), rtol=1e-12)
    ref = _garch_ref(GARCH_YB, np.array([0.1, 0.4]), 0.2, np.array([0.6, 0.1]), 1.1)
    np.testing.assert_allclose(_jaxmc_logp("GARCH11-batch"), ref, rtol=1e-12)
    # a long series: the associative scan agrees with the sequential recursion
    y = R.normal(size=200) * 0.3
    lp = np_logp(jaxmc.GARCH11.dist(0.05, 0.1, 0.85, 0.5, steps=199), y)
    np.testing.assert_allclose(lp, _garch_ref(y, 0.05, 0.1, 0.85, 0.5), rtol=1e-10)


def test_euler_maruyama_scipy():
    x, dt, k = SERIES, 0.1, 0.8
    mu = x[:, :-1] + dt * (-k * x[:, :-1])
    ref = st.norm(0, 2).logpdf(x[:, 0]) + st.norm(mu, np.sqrt(dt) * 0.7).logpdf(x[:, 1:]).sum(-1)
    np.testing.assert_allclose(_jaxmc_logp("EulerMaruyama"), ref, rtol=1e-12)


# ---------------------------------------------------------------------------------------------- 2. PyMC
@pytest.mark.parametrize("name", list(CASES))
def test_logp_matches_pymc(name, pymc_logps):
    ours = _jaxmc_logp(name)
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, pymc_logps[name], rtol=1e-6)


def test_invalid_parameters_give_minus_inf():
    assert np.isneginf(np_logp(jaxmc.AR.dist([0.5], sigma=-1.0, init_dist=jaxmc.Normal.dist(), steps=3),
                                 np.zeros(4)))
    assert np.isneginf(np_logp(jaxmc.GaussianRandomWalk.dist(sigma=-1.0, init_dist=jaxmc.Normal.dist(), steps=3),
                                 np.zeros(4)))
    assert np.isneginf(np_logp(jaxmc.GARCH11.dist(-1.0, 0.1, 0.1, 1.0, steps=3), np.ones(4)))
    em = jaxmc.EulerMaruyama.dist(0.1, lambda x, s: (0 * x, s), (-1.0,), init_dist=jaxmc.Normal.dist(), steps=3)
    assert np.isneginf(np_logp(em, np.zeros(4)))


# ---------------------------------------------------------------------------------------------- 3. models
def _ts_model(pm):
    coords = {"t": np.arange(T), "series": ["a", "b", "c"], "dim": ["x", "y"]}
    y = np.random.default_rng(5).normal(size=T).cumsum()
    with pm.Model(coords=coords) as model:
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.GaussianRandomWalk("grw", mu=0.1, sigma=sigma, init_dist=pm.Normal.dist(0, 2), dims=("series", "t"))
        pm.GaussianRandomWalk("grw_obs", sigma=sigma, init_dist=pm.Normal.dist(0, 5), observed=y)
        rho = pm.Normal("rho", 0, 0.5, shape=2)
        pm.AR("ar", rho=rho, sigma=sigma, init_dist=pm.Normal.dist(0, 1), dims="t")
        pm.AR("ar_obs", rho=rho, sigma=1.0, constant=True, ar_order=1, init_dist=pm.Normal.dist(0, 3), observed=y)
        pm.MvGaussianRandomWalk("mvgrw", mu=np.zeros(2), cov=COV, init_dist=pm.MvNormal.dist(np.zeros(2), np.eye(2)),
                                dims=("t", "dim"))
        nu = pm.Gamma("nu", 5.0, 1.0)
        pm.MvStudentTRandomWalk("mvt_obs", nu=nu, mu=np.zeros(2), scale=COV,
                                init_dist=pm.MvNormal.dist(np.zeros(2), np.eye(2)), observed=MV_SERIES[0])
        a1 = pm.Beta("a1", 2.0, 5.0)
        pm.GARCH11("garch", omega=0.3, alpha_1=a1, beta_1=0.4, initial_vol=1.0, observed=GARCH_Y[0])
        k = pm.HalfNormal("k", 1.0)
        pm.EulerMaruyama("em", dt=0.2, sde_fn=_ou, sde_pars=(k,), init_dist=pm.Normal.dist(0, 1), dims="t")
        innov = pm.Laplace.dist(0.0, sigma)
        pm.RandomWalk("rw", init_dist=pm.Normal.dist(0, 1), innovation_dist=innov, steps=T - 1)
    return model


def test_model_parity():
    jm, pmm = fast(pymc_parity, _ts_model)
    names = {v.name for v in jm.value_vars}
    assert {"grw", "ar", "mvgrw", "em", "rw", "sigma_log__", "a1_logodds__"} <= names
    ip = jm.initial_point()
    assert ip["grw"].shape == (3, T) and ip["mvgrw"].shape == (T, 2) and ip["ar"].shape == (T,)
    assert np.isfinite(jm.compile_logp()(ip))
    assert np.all(np.isfinite(jm.compile_dlogp()(ip)))


# ---------------------------------------------------------------------------------------------- 4. shapes
def test_steps_and_shape_inference():
    init = jaxmc.Normal.dist()
    assert jaxmc.GaussianRandomWalk.dist(init_dist=init, steps=5).shape == (6,)
    assert jaxmc.GaussianRandomWalk.dist(init_dist=init, shape=(2, 6)).shape == (2, 6)
    assert jaxmc.GaussianRandomWalk.dist(init_dist=init, steps=5, size=3).shape == (3, 6)
    assert jaxmc.GaussianRandomWalk.dist(sigma=np.ones(4), init_dist=init, steps=2).shape == (4, 3)
    assert jaxmc.AR.dist([0.1, 0.2, 0.3], init_dist=init, constant=True, steps=4).shape == (6,)
    assert jaxmc.AR.dist(np.ones((3, 2)), init_dist=init, steps=4).shape == (3, 6)
    assert jaxmc.MvGaussianRandomWalk.dist(np.zeros(3), cov=np.eye(3), init_dist=jaxmc.MvNormal.dist(np.zeros(3),
                                           np.eye(3)), steps=4).shape == (5, 3)
    assert jaxmc.GARCH11.dist(0.1, 0.1, 0.1, 1.0, shape=(2, 7)).shape == (2, 7)
    assert jaxmc.EulerMaruyama.dist(0.1, _ou, (np.ones(3),), init_dist=init, steps=4).shape == (3, 5)
    with pytest.raises(ValueError, match="Must specify steps or shape"):
        jaxmc.GaussianRandomWalk.dist(init_dist=init)
    with pytest.raises(ValueError, match="support_shape does not match"):
        jaxmc.GaussianRandomWalk.dist(init_dist=init, steps=3, shape=7)
    with pytest.raises(ValueError, match="ar_order"):
        jaxmc.AR.dist([0.5], constant=True, init_dist=init, steps=3)
    with pytest.raises(TypeError, match="init_dist must be a distribution"):
        jaxmc.RandomWalk.dist(init_dist=1.0, innovation_dist=jaxmc.Normal.dist(), steps=3)
    with pytest.raises(TypeError, match="same support dimensionality"):
        jaxmc.RandomWalk.dist(init_dist=init, innovation_dist=jaxmc.MvNormal.dist(np.zeros(2), np.eye(2)), steps=3)
    with pytest.warns(UserWarning, match="Initial distribution not specified"):
        jaxmc.GaussianRandomWalk.dist(steps=3)
    with jaxmc.Model(coords={"t": range(9)}) as m:
        g = jaxmc.GaussianRandomWalk("g", init_dist=jaxmc.Normal.dist(), dims="t")
        a = jaxmc.AR("a", [0.5, 0.1], init_dist=jaxmc.Normal.dist(), observed=np.zeros(9))
        registered = jaxmc.Normal("registered")
        with pytest.raises(ValueError, match="already registered"):
            jaxmc.GaussianRandomWalk("bad", init_dist=registered, steps=3)
    assert g.shape == (9,) and a.shape == (9,)
    assert m.named_vars_to_dims["g"] == ("t",)


# ---------------------------------------------------------------------------------------------- 5. draws
def test_draw_moments():
    n = 20000
    t = 6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dists = [
            jaxmc.GaussianRandomWalk.dist(mu=0.5, sigma=1.5, init_dist=jaxmc.Normal.dist(1.0, 2.0), steps=t - 1),
            jaxmc.AR.dist([0.5, 0.8], sigma=1.0, constant=True, init_dist=jaxmc.Normal.dist(0.0, 1.0), steps=t - 1),
            jaxmc.GARCH11.dist(0.2, 0.3, 0.4, 1.5, steps=t - 1),
            jaxmc.EulerMaruyama.dist(0.1, _ou, (2.0,), init_dist=jaxmc.Normal.dist(3.0, 1.0), steps=t - 1),
            jaxmc.MvGaussianRandomWalk.dist(np.array([0.2, -0.1]), cov=COV,
                                            init_dist=jaxmc.MvNormal.dist(np.zeros(2), np.eye(2)), steps=t - 1),
        ]
    grw, ar, garch, em, mv = jaxmc.draw(dists, draws=n, random_seed=3)
    assert grw.shape == (n, t) and mv.shape == (n, t, 2)
    steps = np.arange(t)

    def check(name, x, mean, var):
        z = (x.mean(0) - mean) / np.sqrt(var / n)
        assert np.all(np.abs(z) < 5), (name, z)
        v = x.var(0)
        z = (v - var) / np.sqrt(2 * var**2 / n)
        assert np.all(np.abs(z) < 6), (name, "var", z)

    check("grw", grw, 1.0 + 0.5 * steps, 4.0 + 2.25 * steps)
    # AR(1) with constant 0.5 and coefficient 0.8 from x_0 ~ N(0, 1)
    m_ar, v_ar = [0.0], [1.0]
    for _ in range(t - 1):
        m_ar.append(0.5 + 0.8 * m_ar[-1])
        v_ar.append(0.64 * v_ar[-1] + 1.0)
    check("ar", ar, np.array(m_ar), np.array(v_ar))
    # GARCH: E[y_t] = 0, E[y_t^2] = E[sigma_t^2] follows omega + (alpha + beta) E[sigma_{t-1}^2]
    ev = [1.5**2]
    for _ in range(t - 1):
        ev.append(0.2 + 0.7 * ev[-1])
    z = garch.mean(0) / np.sqrt(np.array(ev) / n)
    assert np.all(np.abs(z) < 5)
    assert np.all(np.abs(np.mean(garch**2, 0) - ev) < 6 * np.sqrt(np.var(garch**2, 0) / n))
    # Euler-Maruyama of an OU process: x_{t+1} = (1 - dt k) x_t + sqrt(dt) 0.7 eps
    a = 1 - 0.1 * 2.0
    m_em, v_em = [3.0], [1.0]
    for _ in range(t - 1):
        m_em.append(a * m_em[-1])
        v_em.append(a**2 * v_em[-1] + 0.1 * 0.49)
    check("em", em, np.array(m_em), np.array(v_em))
    # MvGRW: the last step's covariance is I + (t - 1) COV
    last = mv[:, -1]
    check("mv", last, np.array([0.2, -0.1]) * (t - 1), np.diag(np.eye(2) + (t - 1) * COV))
    c = np.cov(last.T)
    np.testing.assert_allclose(c, np.eye(2) + (t - 1) * COV, atol=6 * np.sqrt(np.max(np.diag(c)) ** 2 * 2 / n))


def test_prior_predictive_follows_data_shape():
    with jaxmc.Model() as m:
        data = jaxmc.Data("y", np.zeros(5))
        s = jaxmc.HalfNormal("s", 1.0)
        jaxmc.GaussianRandomWalk("obs", sigma=s, init_dist=jaxmc.Normal.dist(0, 1), observed=data)
    pp = jaxmc.sample_prior_predictive(draws=30, model=m, random_seed=1, return_inferencedata=False)
    assert pp["obs"].shape == (1, 30, 5)

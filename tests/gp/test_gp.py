"""pm.gp.Latent, Marginal and TP: log densities, conditionals and predictions equal PyMC's at fixed
hyperparameters; failed factorisations reject the step; conditionals after sampling through
sample_posterior_predictive; bad input. Slow: posteriors agree with PyMC's by z-score."""

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.gp.gp import point_values
from tests.helpers import PYMC6, pymc_parity

RNG = np.random.default_rng(7)
N = 15
X = np.sort(RNG.uniform(0, 6, N))[:, None]
Y = np.sin(X[:, 0]) + 0.2 * RNG.normal(size=N)
XNEW = np.linspace(-1, 7, 9)[:, None]
POINT = {"ls": 1.3, "eta": 0.9, "sigma": 0.25, "c": 0.2}
# PyMC 6.4's squared distances are ~6e-8 off the exact ones (jaxmc's are exact: tests/gp/test_cov.py::
# test_cosine_exact), so predictions are compared at 1e-8 with PyMC 5.28 and at 1e-6 with PyMC 6.4
RTOL, ATOL = (1e-6, 1e-6) if PYMC6 else (1e-8, 1e-12)


def _marginal(lib, noise_cov=False):
    with lib.Model() as model:
        ls = lib.Gamma("ls", 2.0, 1.0)
        eta = lib.HalfNormal("eta", 2.0)
        sigma = lib.HalfNormal("sigma", 1.0)
        c = lib.Normal("c")
        gp = lib.gp.Marginal(mean_func=lib.gp.mean.Constant(c),
                             cov_func=eta**2 * lib.gp.cov.Matern52(1, ls=ls) + lib.gp.cov.ExpQuad(1, ls=3.0))
        noise = lib.gp.cov.WhiteNoise(sigma) + 0.01 * lib.gp.cov.ExpQuad(1, ls=0.5) if noise_cov else sigma
        gp.marginal_likelihood("y", X=X, y=Y, sigma=noise)
    return model, gp


def _pymc():
    return pytest.importorskip("pymc")


@pytest.mark.parametrize("noise_cov", [False, True])
def test_marginal_likelihood_logp_matches_pymc(noise_cov):
    _pymc()
    pymc_parity(lambda lib: _marginal(lib, noise_cov)[0], n_points=5, rtol=1e-8)


def test_marginal_predict_and_conditional_match_pymc():
    pymc = _pymc()
    jm, jgp = _marginal(pm)
    pmm, pgp = _marginal(pymc)
    for kw in ({}, {"diag": True}, {"pred_noise": True}, {"diag": True, "pred_noise": True}):
        mine = jgp.predict(XNEW, point=POINT, **kw)
        with pmm:
            theirs = pgp.predict(XNEW, point=POINT, **kw)
        for a, b in zip(mine, theirs):
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL * np.abs(b).max(), err_msg=str(kw))
    # given= another GP's inputs and data (additive GPs)
    given = {"X": X[::2], "y": Y[::2], "sigma": 0.3, "gp": jgp}
    mine = jgp.predict(XNEW, point=POINT, given=given)
    with pmm:
        theirs = pgp.predict(XNEW, point=POINT, given={**given, "gp": pgp})
    np.testing.assert_allclose(mine[0], theirs[0], rtol=RTOL)
    np.testing.assert_allclose(mine[1], theirs[1], rtol=RTOL, atol=ATOL * np.abs(theirs[1]).max())
    # the conditional variable: an MvNormal of that mean and covariance
    with jm:
        f = jgp.conditional("f_pred", XNEW)
    mu, chol = f.owner.params
    mean, cov = point_values([mu, chol], POINT)
    np.testing.assert_allclose(mean, jgp.predict(XNEW, point=POINT)[0], rtol=1e-12)
    np.testing.assert_allclose(cov @ cov.T, jgp.predict(XNEW, point=POINT)[1], rtol=1e-8, atol=1e-10)


def test_predict_needs_the_point():
    _, gp = _marginal(pm)
    with pytest.raises(ValueError, match="Values for .*ls.* must be included"):
        gp.predict(XNEW, point={"eta": 1.0})


def _latent(lib, reparameterize=True):
    with lib.Model() as model:
        ls = lib.Gamma("ls", 2.0, 1.0)
        eta = lib.HalfNormal("eta", 2.0)
        gp = lib.gp.Latent(mean_func=lib.gp.mean.Linear(coeffs=np.array([0.5])),
                           cov_func=eta**2 * lib.gp.cov.ExpQuad(1, ls=ls))
        f = gp.prior("f", X=X, reparameterize=reparameterize)
        lib.Bernoulli("y", logit_p=f, observed=(Y > 0).astype(int))
    return model, gp


@pytest.mark.parametrize("reparameterize", [True, False])
def test_latent_prior_logp_matches_pymc(reparameterize):
    _pymc()
    jm, _ = pymc_parity(lambda lib: _latent(lib, reparameterize)[0], n_points=4, rtol=1e-8)
    names = sorted(jm.initial_point())
    assert names == (["eta_log__", "f_rotated_", "ls_log__"] if reparameterize else ["eta_log__", "f", "ls_log__"])


def test_latent_prior_and_conditional_match_pymc():
    pymc = _pymc()
    from pymc.gp.util import replace_with_values

    jm, jgp = _latent(pm)
    pmm, pgp = _latent(pymc)
    point = {"ls": 1.1, "eta": 0.8, "f_rotated_": RNG.normal(size=N)}
    f_mine = point_values([jgp.f], point)[0]
    f_theirs = replace_with_values([pgp.f.owner.inputs[0]], point, model=pmm)[0]  # under the Deterministic
    np.testing.assert_allclose(f_mine, f_theirs, rtol=1e-8)
    point["f"] = f_mine
    mine = point_values(jgp._build_conditional(XNEW, *jgp._get_given_vals(None), 1e-6), point)
    with pmm:
        theirs = replace_with_values(list(pgp._build_conditional(XNEW, *pgp._get_given_vals(None), 1e-6)),
                                     point, model=pmm)
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-8)
    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-6, atol=1e-10)
    with jm:
        fc = jgp.conditional("fc", XNEW, method="svd")
    assert fc.shape == (len(XNEW),)


def _tp(lib):
    with lib.Model() as model:
        ls = lib.Gamma("ls", 2.0, 1.0)
        gp = lib.gp.TP(scale_func=lib.gp.cov.Matern32(1, ls=ls), nu=4.0)
        gp.prior("f", X=X)
    return model, gp


def test_tp_prior_and_conditional_match_pymc():
    pymc = _pymc()
    from pymc.gp.util import replace_with_values

    pymc_parity(lambda lib: _tp(lib)[0], n_points=4, rtol=1e-8)
    _, jgp = _tp(pm)
    pmm, pgp = _tp(pymc)
    point = {"ls": 0.9, "f_rotated_": RNG.standard_t(4, size=N)}
    with pmm:
        nu2, *rest = pgp._build_conditional(XNEW, pgp.X, pgp.f, 1e-6)
        point["f"] = point_values([jgp.f], point)[0]
        theirs = [nu2, *replace_with_values(rest, point, model=pmm)]
    from jaxmc.gp.gp import _tp_conditional  # noqa: PLC2701
    from jaxmc.gp.util import stabilize

    cov = jgp.cov_func
    nu2, mu, scale = _tp_conditional(*(np.asarray(point_values([v], point)[0]) for v in (
        stabilize(cov(X), 1e-6), cov(X, XNEW), cov(XNEW), jgp.f - jgp.mean_func(X), jgp.mean_func(XNEW))), 4.0)
    np.testing.assert_allclose(nu2, theirs[0])
    np.testing.assert_allclose(mu, theirs[1], rtol=1e-8)
    np.testing.assert_allclose(scale, theirs[2], rtol=1e-6, atol=1e-10)


def test_failed_factorisation_is_a_rejected_step_not_a_crash():
    """A covariance that is not positive definite at a point (a negative amplitude) gives a non-finite log
    density there, so the sampler rejects the step (a divergence) instead of raising."""
    with pm.Model() as m:
        a = pm.Normal("a", 1.0, 1.0)
        gp = pm.gp.Marginal(cov_func=a * pm.gp.cov.ExpQuad(1, ls=1.0))
        gp.marginal_likelihood("y", X=X, y=Y, sigma=0.01)
    logp, dlogp = m.compile_logp(), m.compile_dlogp()
    assert np.isfinite(logp({"a": 1.0}))
    assert not np.isfinite(logp({"a": -3.0}))
    dlogp({"a": -3.0})  # no exception


def test_conditional_through_sample_posterior_predictive():
    """gp.conditional added after pm.sample draws through sample_posterior_predictive (vectorised over draws);
    the draws' mean equals the average of predict's means over the posterior draws."""
    m, gp = _marginal(pm)
    with m:
        idata = pm.sample(150, tune=200, chains=2, random_seed=3, progressbar=False, compute_convergence_checks=False)
        gp.conditional("f_pred", XNEW)
        pp = pm.sample_posterior_predictive(idata, var_names=["f_pred"], random_seed=4, progressbar=False)
    draws = pp.posterior_predictive["f_pred"].values
    assert draws.shape == (2, 150, len(XNEW))
    post = idata.posterior
    means, variances = [], []
    for c in range(2):
        for d in range(0, 150, 10):
            mu, var = gp.predict(XNEW, point={k: post[k].values[c, d] for k in ("ls", "eta", "sigma", "c")},
                                 diag=True)
            means.append(mu)
            variances.append(var)
    sd = np.sqrt(np.mean(variances, 0) + np.var(means, 0))
    z = (draws.mean((0, 1)) - np.mean(means, 0)) / (sd / np.sqrt(300 / 3))  # generous effective size
    assert np.all(np.abs(z) < 4.5), z


# ------------------------------------------------------------------------------------------------- util
def test_util_stabilize_kmeans_and_plot():
    from jaxmc.gp import util

    np.testing.assert_allclose(util.stabilize(np.eye(3), 0.5).eval(), 1.5 * np.eye(3))
    rng = np.random.default_rng(0)
    pts = np.concatenate([rng.normal(0, 0.1, (30, 2)), rng.normal(5, 0.1, (30, 2))])
    np.random.seed(0)  # scipy's kmeans draws its start from numpy's global generator
    xu = util.kmeans_inducing_points(2, pts)
    assert xu.shape == (2, 2)
    np.testing.assert_allclose(np.sort(xu[:, 0]), [0.0, 5.0], atol=0.1)
    with pytest.raises(ValueError, match="n_inducing"):
        util.kmeans_inducing_points(100, pts)
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    samples = rng.normal(size=(50, 20))
    assert util.plot_gp_dist(ax, samples, np.linspace(0, 1, 20)) is ax
    assert len(ax.collections) == 40  # one band per percentile
    plt.close(fig)


# ------------------------------------------------------------------------------------------------- bad input
def test_bad_input_messages():
    gp = pm.gp.Marginal(cov_func=pm.gp.cov.ExpQuad(1, ls=1.0))
    with pm.Model():
        with pytest.raises(ValueError, match="needs the noise: sigma="):
            gp.marginal_likelihood("y", X=X, y=Y)
        with pytest.raises(ValueError, match="X must be a 2-D array"):
            gp.marginal_likelihood("y", X=X[:, 0], y=Y, sigma=0.1)
        with pytest.raises(ValueError, match="X has 15 rows but y has 14"):
            gp.marginal_likelihood("y", X=X, y=Y[1:], sigma=0.1)
        with pytest.raises(ValueError, match="X has 2 column"):
            pm.gp.Latent(cov_func=pm.gp.cov.ExpQuad(3, ls=1.0)).prior("f", X=np.ones((4, 2)))
        with pytest.warns(FutureWarning, match="'noise' parameter"):
            gp.marginal_likelihood("y", X=X, y=Y, noise=0.1)
    with pytest.raises(AttributeError, match="'X' not set"):
        pm.gp.Latent(cov_func=pm.gp.cov.ExpQuad(1, ls=1.0)).conditional("f", XNEW)
    with pytest.raises(ValueError, match="'nu'"):
        pm.gp.TP(scale_func=pm.gp.cov.ExpQuad(1, ls=1.0))
    with pytest.raises(TypeError, match="covariance function"):
        pm.gp.Latent(cov_func="ExpQuad")


# ------------------------------------------------------------------------------------------------- posteriors
def _sample(lib, model, seed, **kw):
    import contextlib
    import warnings

    fast_run = contextlib.nullcontext()
    if lib is not pm:  # PyMC samples with its compiled C code (tests/gp/conftest.py sets FAST_COMPILE)
        import pytensor

        fast_run = pytensor.config.change_flags(mode="FAST_RUN")
    with model, warnings.catch_warnings(), fast_run:
        warnings.simplefilter("ignore")
        return lib.sample(1000, tune=1000, chains=4, random_seed=seed, progressbar=False, **kw)


def _z_scores(a, b, names):
    """(mean_a - mean_b) / sqrt(mcse_a^2 + mcse_b^2) of each scalar of each variable (ArviZ 0.x and 1.x)."""
    import arviz as az

    def stats(idata, name):
        x = np.asarray(idata.posterior[name].values)
        x = x.reshape(x.shape[0], x.shape[1], -1)
        cols = [x[:, :, k] for k in range(x.shape[2])]
        mean = np.array([c.mean() for c in cols])
        mcse = np.array([c.std(ddof=1) / np.sqrt(float(az.ess(c, method="mean"))) for c in cols])
        return mean, mcse

    out = {}
    for name in names:
        (ea, ma), (eb, mb) = stats(a, name), stats(b, name)
        out[name] = (ea - eb) / np.sqrt(ma**2 + mb**2)
    return out


def _regression(lib):
    """PyMC's GP-Marginal example (Matern52 + Gamma/HalfCauchy priors), n = 40."""
    rng = np.random.default_rng(11)
    x = np.sort(rng.uniform(0, 10, 40))[:, None]
    f = 3.0 * np.sin(x[:, 0]) * np.exp(-0.1 * x[:, 0])
    y = f + 0.5 * rng.normal(size=40)
    with lib.Model() as model:
        ell = lib.Gamma("ell", alpha=2, beta=1)
        eta = lib.HalfCauchy("eta", beta=5)
        gp = lib.gp.Marginal(cov_func=eta**2 * lib.gp.cov.Matern52(1, ell))
        sigma = lib.HalfCauchy("sigma", beta=5)
        gp.marginal_likelihood("y", X=x, y=y, sigma=sigma)
    return model


def _classification(lib):
    """A Latent GP with a Bernoulli likelihood (PyMC's GP-Latent classification example, small n)."""
    rng = np.random.default_rng(12)
    x = np.sort(rng.uniform(0, 5, 30))[:, None]
    y = rng.binomial(1, 1 / (1 + np.exp(-2.0 * np.sin(2 * x[:, 0]))))
    with lib.Model() as model:
        ell = lib.InverseGamma("ell", mu=1.0, sigma=0.5)
        eta = lib.Exponential("eta", lam=1.0)
        gp = lib.gp.Latent(cov_func=eta**2 * lib.gp.cov.ExpQuad(1, ell))
        f = gp.prior("f", X=x)
        lib.Bernoulli("y", p=lib.math.invlogit(f), observed=y)
    return model


def _student_t_process(lib):
    """A Student-t process prior with Gaussian observations (gp.TP), n = 30."""
    rng = np.random.default_rng(13)
    x = np.sort(rng.uniform(0, 10, 30))[:, None]
    y = np.sin(x[:, 0]) + 0.3 * rng.standard_t(3, size=30)
    with lib.Model() as model:
        ell = lib.Gamma("ell", alpha=2, beta=1)
        f = lib.gp.TP(scale_func=lib.gp.cov.ExpQuad(1, ell), nu=5).prior("f", X=x)
        sigma = lib.HalfNormal("sigma", 1.0)
        lib.Normal("y", mu=f, sigma=sigma, observed=y)
    return model


@pytest.mark.slow
@pytest.mark.parametrize("build,names", [(_regression, ["ell", "eta", "sigma"]),
                                         (_classification, ["ell", "eta", "f"]),
                                         (_student_t_process, ["ell", "sigma", "f"])],
                         ids=["marginal", "latent", "tp"])
def test_posterior_agrees_with_pymc(build, names):
    pymc = _pymc()
    mine = _sample(pm, build(pm), 1)
    theirs = _sample(pymc, build(pymc), 2)
    for name, z in _z_scores(mine, theirs, names).items():
        assert np.all(np.abs(z) < 4), (name, z)


@pytest.mark.slow
def test_gp_pois_regr_posteriordb_with_latent():
    """posteriordb's gp_pois_regr written with pm.gp.Latent passes the pack's z-test against Stan's draws."""
    from benchmarks.posteriordb.common import check_posterior, load_data

    posterior = "gp_pois_regr-gp_pois_regr"
    data = load_data(posterior)
    x = np.asarray(data["x"], float)[:, None]
    with pm.Model(coords={"obs": np.arange(len(x))}) as model:
        rho = pm.Gamma("rho", alpha=25.0, beta=4.0)
        alpha = pm.HalfNormal("alpha", sigma=2.0)
        gp = pm.gp.Latent(cov_func=alpha**2 * pm.gp.cov.ExpQuad(1, ls=rho))
        f = gp.prior("f", X=x, jitter=1e-10, dims="obs")
        pm.Poisson("k", mu=pm.math.exp(f), observed=np.asarray(data["k"]), dims="obs")
    idata = _sample(pm, model, 20240601, target_accept=0.95)
    checks = check_posterior(posterior, idata.posterior)
    failed = [c for c in checks if not c.passed]
    assert not failed, "\n".join(f"{c.name}: {c.why}" for c in failed)

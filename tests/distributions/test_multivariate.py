"""Multivariate families: log densities against scipy.stats and PyMC, model-level PyMC parity, draws,
transforms, shapes and PyMC's parameter checks.

jaxmc follows PyMC 6 where PyMC 5.28 differs (LKJCorr, LKJCholeskyCov's normalizing constant, Wishart's
transform, WishartBartlett): on PyMC 5.28 those are checked against PyMC 6's formulas instead."""

import functools
import warnings

import numpy as np
import pytest
import scipy.special as sps
import scipy.stats as st

import jaxmc
from tests.helpers import PYMC6, check_transform, pymc_parity

pymc = pytest.importorskip("pymc")
pytensor = pytest.importorskip("pytensor")
pt = pytest.importorskip("pytensor.tensor")

RTOL = 1e-6


def _spd(rng, k, jitter=1.0):
    A = rng.normal(size=(k, k))
    return A @ A.T + jitter * np.eye(k)


def _random_corr(rng, n):
    A = rng.normal(size=(n, n + 2))
    C = A @ A.T
    d = 1 / np.sqrt(np.diag(C))
    return d[:, None] * C * d[None, :]


# ---------------------------------------------------------------------------------------------- fixtures
R = np.random.default_rng(20250101)
K3 = 3
COV = _spd(R, K3)
COV_B = np.stack([_spd(R, K3), _spd(R, K3)])  # batched covariances (2, 3, 3)
MU_B = R.normal(size=(2, K3))
X_MVN = R.normal(size=(5, 2, K3)) * 2
ROWCOV = _spd(R, 2)
X_MAT = R.normal(size=(4, 2, K3)) * 2
MU_MAT = R.normal(size=(2, K3))
A_DIR = np.array([[0.7, 1.5, 2.0, 3.2], [2.0, 0.9, 1.1, 0.6]])
X_DIR = np.stack([[R.dirichlet(a) for a in A_DIR] for _ in range(5)])  # (5, 2, 4)
N_MN = np.array([7, 12])
P_MN = np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.4, 0.1]])
X_MN = np.stack([[R.multinomial(n, p) for n, p in zip(N_MN, P_MN)] for _ in range(5)]).astype("int64")
NU_W = 6
X_WISH = st.wishart(df=NU_W, scale=COV).rvs(size=4, random_state=R)
X_WISH = (X_WISH + np.swapaxes(X_WISH, -1, -2)) / 2
W_GRID = np.array([[0, 1, 0, 1, 0], [1, 0, 1, 0, 1], [0, 1, 0, 1, 0], [1, 0, 1, 0, 1], [0, 1, 0, 1, 0]])
X_LKJCC = np.stack([np.linalg.cholesky(_spd(R, 3))[np.tril_indices(3)] for _ in range(4)])
X_LKJCORR = np.stack([np.linalg.cholesky(_random_corr(R, 4)) for _ in range(4)])  # Cholesky factors


def lkj_log_norm(eta, n):
    """PyMC 6's log normalizing constant of LKJ(eta) over n x n correlation matrices (PyMC 5.28 has the
    opposite sign)."""
    k = np.arange(1, n)
    return (n - 1) * sps.gammaln(eta + 0.5 * (n - 1)) - np.sum(0.5 * k * np.log(np.pi)
                                                                + sps.gammaln(eta + 0.5 * (n - 1 - k)))


def lkj_chol_logp(L, eta):
    """PyMC 6's LKJCorr log density of Cholesky factors L (..., n, n): LKJ(eta) at L L^T times the Jacobian
    of L -> L L^T (over the entries below the diagonal)."""
    n = L.shape[-1]
    exponents = 2 * eta - 2 + n - np.arange(1, n + 1)
    return lkj_log_norm(eta, n) + np.sum(exponents * np.log(np.diagonal(L, axis1=-2, axis2=-1)), -1)


def _zerosum(x, axes):
    for ax in axes:
        x = x - x.mean(axis=ax, keepdims=True)
    return x


X_ZSN1 = _zerosum(R.normal(size=(4, 3, 5)), [-1])
X_ZSN2 = _zerosum(R.normal(size=(4, 3, 5)), [-1, -2])
X_SBW = R.dirichlet(np.ones(5), size=4)
ORD_CUT = np.array([-1.0, 0.2, 1.3])
ORD_ETA = np.array([0.3, -0.5])
ORD_N = np.array([10, 15])
X_ORD = np.stack([[R.multinomial(n, np.ones(4) / 4) for n in ORD_N] for _ in range(3)]).astype("int64")


def jaxmc_logp(make, values):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rv = make(jaxmc)
    return np.asarray(jaxmc.logp(rv, values))


def pymc_logp(make, values, batched=True):
    """PyMC's logp at each point: one compiled function over a symbolic value (all points at once when
    PyMC's logp accepts batched values, else point by point)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rv = make(pymc)
        shape = values.shape if batched else values.shape[1:]
        v = pt.tensor("v", shape=shape, dtype=str(values.dtype))
        f = pytensor.function([v], pymc.logp(rv, v))
        if batched:
            return np.asarray(f(values))
        return np.array([np.asarray(f(x)) for x in values])


# ---------------------------------------------------------------------------------------------- 1. scipy
@pytest.mark.parametrize("kind", ["cov", "tau", "chol"])
def test_mvnormal_scipy(kind):
    par = {"cov": dict(cov=COV), "tau": dict(tau=np.linalg.inv(COV)), "chol": dict(chol=np.linalg.cholesky(COV))}
    lp = jaxmc_logp(lambda pm: pm.MvNormal.dist(MU_B, **par[kind]), X_MVN)
    assert lp.shape == (5, 2)
    ref = np.array([[st.multivariate_normal(MU_B[j], COV).logpdf(X_MVN[i, j]) for j in range(2)] for i in range(5)])
    np.testing.assert_allclose(lp, ref, rtol=RTOL)


def test_mvnormal_batched_cov_scipy():
    mu = MU_B[0]
    lp = jaxmc_logp(lambda pm: pm.MvNormal.dist(mu, COV_B), X_MVN)
    ref = np.array([[st.multivariate_normal(mu, COV_B[j]).logpdf(X_MVN[i, j]) for j in range(2)] for i in range(5)])
    np.testing.assert_allclose(lp, ref, rtol=RTOL)
    lp = jaxmc_logp(lambda pm: pm.MvNormal.dist(mu, chol=np.linalg.cholesky(COV_B).swapaxes(-1, -2),
                                                 lower=False), X_MVN)
    np.testing.assert_allclose(lp, ref, rtol=RTOL)


def test_mvstudentt_scipy():
    nu = np.array([3.5, 7.0])
    lp = jaxmc_logp(lambda pm: pm.MvStudentT.dist(nu=nu, mu=MU_B, scale=COV), X_MVN)
    ref = np.array([[st.multivariate_t(MU_B[j], COV, df=nu[j]).logpdf(X_MVN[i, j]) for j in range(2)]
                    for i in range(5)])
    np.testing.assert_allclose(lp, ref, rtol=RTOL)
    lp_tau = jaxmc_logp(lambda pm: pm.MvStudentT.dist(nu=nu, mu=MU_B, tau=np.linalg.inv(COV)), X_MVN)
    np.testing.assert_allclose(lp_tau, ref, rtol=RTOL)


def test_dirichlet_scipy():
    lp = jaxmc_logp(lambda pm: pm.Dirichlet.dist(A_DIR), X_DIR)
    ref = np.array([[st.dirichlet(A_DIR[j]).logpdf(X_DIR[i, j]) for j in range(2)] for i in range(5)])
    np.testing.assert_allclose(lp, ref, rtol=RTOL)


def test_multinomial_scipy():
    lp = jaxmc_logp(lambda pm: pm.Multinomial.dist(N_MN, P_MN), X_MN)
    ref = np.array([[st.multinomial(N_MN[j], P_MN[j]).logpmf(X_MN[i, j]) for j in range(2)] for i in range(5)])
    np.testing.assert_allclose(lp, ref, rtol=RTOL)
    # outside the support: wrong total, negative count
    bad = np.array([[1, 2, 3, 0], [13, -1, 0, 0]])
    assert np.all(np.isneginf(jaxmc_logp(lambda pm: pm.Multinomial.dist(N_MN, P_MN), bad)))


def test_dirichlet_multinomial_scipy():
    lp = jaxmc_logp(lambda pm: pm.DirichletMultinomial.dist(N_MN, A_DIR), X_MN)
    ref = np.array([[st.dirichlet_multinomial(A_DIR[j], N_MN[j]).logpmf(X_MN[i, j]) for j in range(2)]
                    for i in range(5)])
    np.testing.assert_allclose(lp, ref, rtol=RTOL)


def test_wishart_scipy():
    lp = jaxmc_logp(lambda pm: pm.Wishart.dist(NU_W, COV), X_WISH)
    ref = np.array([st.wishart(df=NU_W, scale=COV).logpdf(x) for x in X_WISH])
    np.testing.assert_allclose(lp, ref, rtol=RTOL)
    lp = jaxmc_logp(lambda pm: pm.Wishart.dist(NU_W, scale_chol=np.linalg.cholesky(COV)), X_WISH)
    np.testing.assert_allclose(lp, ref, rtol=RTOL)
    # PyMC 6 reads the lower triangle of the value (its density is in Cholesky form)
    asym = X_WISH[0] + np.array([[0, 1e-3, 0], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(jaxmc_logp(lambda pm: pm.Wishart.dist(NU_W, COV), asym), ref[0], rtol=RTOL)
    asym = X_WISH[0] + np.array([[0, 0, 0], [1e-3, 0, 0], [0, 0, 0]])
    sym = np.tril(asym) + np.tril(asym, -1).T
    np.testing.assert_allclose(jaxmc_logp(lambda pm: pm.Wishart.dist(NU_W, COV), asym),
                               st.wishart(df=NU_W, scale=COV).logpdf(sym), rtol=RTOL)
    # not positive definite: outside the support (PyMC 6 gives nan)
    assert np.isneginf(jaxmc_logp(lambda pm: pm.Wishart.dist(NU_W, COV), np.array([[1.0, 2, 0], [2, 1, 0], [0, 0, 1]])))


@pytest.mark.parametrize("chol", [False, True])
def test_matrix_normal_scipy(chol):
    if chol:
        make = lambda pm: pm.MatrixNormal.dist(MU_MAT, rowchol=np.linalg.cholesky(ROWCOV),  # noqa: E731
                                               colchol=np.linalg.cholesky(COV))
    else:
        make = lambda pm: pm.MatrixNormal.dist(MU_MAT, rowcov=ROWCOV, colcov=COV)  # noqa: E731
    lp = jaxmc_logp(make, X_MAT)
    ref = np.array([st.matrix_normal(MU_MAT, ROWCOV, COV).logpdf(x) for x in X_MAT])
    np.testing.assert_allclose(lp, ref, rtol=RTOL)


def test_kronecker_normal_scipy():
    sigma = 0.4
    full = np.kron(ROWCOV, COV) + sigma**2 * np.eye(6)
    x = X_MAT.reshape(4, 6)
    ref = st.multivariate_normal(np.zeros(6), full).logpdf(x)
    for par in (dict(covs=[ROWCOV, COV]), dict(chols=[np.linalg.cholesky(ROWCOV), np.linalg.cholesky(COV)]),
                dict(evds=[np.linalg.eigh(ROWCOV), np.linalg.eigh(COV)])):
        lp = jaxmc_logp(lambda pm: pm.KroneckerNormal.dist(np.zeros(6), sigma=sigma, **par), x)
        np.testing.assert_allclose(lp, ref, rtol=RTOL)


# ---------------------------------------------------------------------------------------------- 2. PyMC
def _sd_exp(pm):
    return pm.Exponential.dist(1.3, shape=3) if hasattr(pm, "Exponential") else pm.HalfNormal.dist(1.3, shape=3)


PARITY = {
    "MvNormal_cov": (lambda pm: pm.MvNormal.dist(MU_B, cov=COV), X_MVN, True),
    "MvNormal_tau": (lambda pm: pm.MvNormal.dist(MU_B, tau=np.linalg.inv(COV)), X_MVN, True),
    "MvNormal_chol": (lambda pm: pm.MvNormal.dist(MU_B, chol=np.linalg.cholesky(COV)), X_MVN, True),
    "MvNormal_batched_cov": (lambda pm: pm.MvNormal.dist(MU_B[0], cov=COV_B), X_MVN, True),
    "MvStudentT": (lambda pm: pm.MvStudentT.dist(nu=np.array([3.5, 7.0]), mu=MU_B, scale=COV), X_MVN, True),
    "MvStudentT_chol": (lambda pm: pm.MvStudentT.dist(nu=5.0, mu=MU_B, chol=np.linalg.cholesky(COV)), X_MVN,
                        True),
    "Dirichlet": (lambda pm: pm.Dirichlet.dist(A_DIR), X_DIR, True),
    "Multinomial": (lambda pm: pm.Multinomial.dist(N_MN, P_MN), X_MN, True),
    "DirichletMultinomial": (lambda pm: pm.DirichletMultinomial.dist(N_MN, A_DIR), X_MN, True),
    "Wishart": (lambda pm: pm.Wishart.dist(NU_W, COV), X_WISH, False),
    "MatrixNormal": (lambda pm: pm.MatrixNormal.dist(MU_MAT, rowcov=ROWCOV, colcov=COV), X_MAT, False),
    "KroneckerNormal": (lambda pm: pm.KroneckerNormal.dist(np.zeros(6), covs=[ROWCOV, COV], sigma=0.4),
                        X_MAT.reshape(4, 6), True),
    "LKJCholeskyCov_halfnormal": (lambda pm: pm.LKJCholeskyCov.dist(
        eta=2.0, n=3, sd_dist=pm.HalfNormal.dist(1.5), compute_corr=False), X_LKJCC, False),
    "LKJCholeskyCov_exponential": (lambda pm: pm.LKJCholeskyCov.dist(
        eta=1.0, n=3, sd_dist=_sd_exp(pm), compute_corr=False), X_LKJCC, False),
    "LKJCorr": (lambda pm: pm.LKJCorr.dist(n=4, eta=1.7), X_LKJCORR, True),
    "LKJCorr_eta1": (lambda pm: pm.LKJCorr.dist(n=4, eta=1.0), X_LKJCORR, True),
    "ZeroSumNormal": (lambda pm: pm.ZeroSumNormal.dist(sigma=1.7, shape=(4, 3, 5)), X_ZSN1, True),
    "ZeroSumNormal_2axes": (lambda pm: pm.ZeroSumNormal.dist(sigma=np.array([1.0, 2.0, 0.5, 3.0])[:, None, None],
                                                             n_zerosum_axes=2, support_shape=(3, 5)), X_ZSN2, True),
    "CAR": (lambda pm: pm.CAR.dist(mu=np.arange(5.0) / 5, W=W_GRID, alpha=0.6, tau=1.8), X_MAT.reshape(-1)[:20]
            .reshape(4, 5), True),
    "ICAR": (lambda pm: pm.ICAR.dist(W=W_GRID, sigma=1.3), X_MAT.reshape(-1)[:20].reshape(4, 5), False),
    "StickBreakingWeights": (lambda pm: pm.StickBreakingWeights.dist(alpha=2.5, K=4), X_SBW, True),
    "OrderedMultinomial": (lambda pm: pm.OrderedMultinomial.dist(eta=ORD_ETA, cutpoints=ORD_CUT, n=ORD_N), X_ORD,
                           True),
}


def _packed_corr(L):
    """PyMC 5.28's LKJCorr value: the upper triangle of L L^T."""
    C = L @ np.swapaxes(L, -1, -2)
    return C[..., np.triu_indices(L.shape[-1], 1)[0], np.triu_indices(L.shape[-1], 1)[1]]


#: PARITY cases whose log density changed in PyMC 6: on PyMC 5.28, (PyMC 5.28's log density, made from its
#: own distribution) -> PyMC 6's, computed from PyMC 6's formulas
PYMC5_TO_6 = {
    # the LKJ normalizing constant's sign flipped: PyMC 5.28 adds -lkj_log_norm
    "LKJCholeskyCov_halfnormal": lambda lp5: lp5 + 2 * lkj_log_norm(2.0, 3),
    "LKJCholeskyCov_exponential": lambda lp5: lp5 + 2 * lkj_log_norm(1.0, 3),
}


@pytest.mark.parametrize("case", sorted(PARITY))
def test_pymc_logp_parity(case):
    make, values, batched = PARITY[case]
    a = jaxmc_logp(make, values)
    assert a.shape[0] == values.shape[0]
    assert np.all(np.isfinite(a))
    if not PYMC6 and case.startswith("LKJCorr"):
        # PyMC 5.28's LKJCorr is a density of the packed correlations: PyMC 6's is that of the Cholesky
        # factor, i.e. times the Jacobian of L -> L L^T, with the normalizing constant's sign flipped
        eta = 1.7 if case == "LKJCorr" else 1.0
        b5 = pymc_logp(lambda pm: pm.LKJCorr.dist(n=4, eta=eta), _packed_corr(values), batched=False)
        n = values.shape[-1]
        jac = np.sum((n - np.arange(1, n + 1)) * np.log(np.diagonal(values, axis1=-2, axis2=-1)), -1)
        np.testing.assert_allclose(a, b5 + 2 * lkj_log_norm(eta, n) + jac, rtol=RTOL)
        np.testing.assert_allclose(a, lkj_chol_logp(values, eta), rtol=RTOL)
        return
    b = pymc_logp(make, values, batched)
    b = b.reshape(a.shape)  # PyMC's CAR keeps a length-1 axis for a single vector
    if not PYMC6 and case in PYMC5_TO_6:
        b = PYMC5_TO_6[case](b)
    np.testing.assert_allclose(a, b, rtol=RTOL)


def test_lkj_normalizing_constant():
    """PyMC 6's constant: n = 2 is Beta(eta, eta) on [-1, 1]; n = 3 against a Monte Carlo integral of
    det(R)^(eta - 1) over the correlation matrices."""
    for eta in (0.7, 1.0, 2.5):
        np.testing.assert_allclose(lkj_log_norm(eta, 2), -(2 * eta - 1) * np.log(2) - sps.betaln(eta, eta),
                                   rtol=1e-12)
        r = np.linspace(-0.99, 0.99, 5)
        lp = jaxmc_logp(lambda pm: pm.LKJCorr.dist(n=2, eta=eta),
                        np.stack([np.array([[1, 0], [x, np.sqrt(1 - x**2)]]) for x in r]))
        # the density of L (its entry below the diagonal is r) is that of r ~ 2 Beta(eta, eta) - 1
        np.testing.assert_allclose(lp, st.beta(eta, eta, loc=-1, scale=2).logpdf(r), rtol=1e-10)
    u = np.random.default_rng(0).uniform(-1, 1, size=(2_000_000, 3))
    det = 1 + 2 * u[:, 0] * u[:, 1] * u[:, 2] - (u**2).sum(1)
    for eta in (1.0, 2.0):
        integral = 8 * np.mean(np.where(det > 0, np.abs(det) ** (eta - 1), 0.0))
        np.testing.assert_allclose(lkj_log_norm(eta, 3), -np.log(integral), atol=5e-3)


def test_pymc_logp_parity_outside_support():
    """Values outside the support: LKJCorr factors whose rows are not of norm 1 or whose diagonal is not
    positive, negative simplex entries, counts not summing to n."""
    bad_corr = np.stack([X_LKJCORR[0] * 1.01, X_LKJCORR[1] * np.array([1, -1, 1, 1])[None, :]])
    assert np.all(np.isneginf(jaxmc_logp(lambda pm: pm.LKJCorr.dist(n=4, eta=1.5), bad_corr)))
    if PYMC6:  # rows of norm 1.01 fail PyMC 6's parameter check too (a negative diagonal gives nan)
        from pymc.logprob.utils import ParameterValueError

        with pytest.raises(ParameterValueError, match="LKJCorr"):
            pymc_logp(lambda pm: pm.LKJCorr.dist(n=4, eta=1.5), bad_corr[:1], batched=False)
    assert np.all(np.isneginf(jaxmc_logp(lambda pm: pm.Dirichlet.dist(np.ones(3)), np.array([-0.1, 0.6, 0.5]))))
    assert np.isneginf(jaxmc_logp(lambda pm: pm.DirichletMultinomial.dist(5, np.ones(3)), np.array([1, 1, 1])))
    assert np.isneginf(jaxmc_logp(lambda pm: pm.MvNormal.dist(np.zeros(2), cov=-np.eye(2)), np.zeros(2)))
    zs_bad = np.array([0.5, 0.1, 0.0])
    assert np.isneginf(jaxmc_logp(lambda pm: pm.ZeroSumNormal.dist(1.0, support_shape=(3,)), zs_bad))


# ---------------------------------------------------------------------------------------------- 3. models
def correlated_effects(pm):
    """The classic hierarchical model with correlated varying intercepts and slopes."""
    rng = np.random.default_rng(11)
    n_obs, n_groups = 40, 4
    g = rng.integers(0, n_groups, size=n_obs)
    x = rng.normal(size=n_obs)
    y = 1.0 + 0.5 * x + rng.normal(size=n_obs)
    counts = rng.multinomial(20, [0.1, 0.2, 0.3, 0.15, 0.25], size=3)
    coords = {"group": [f"g{i}" for i in range(n_groups)], "coef": ["intercept", "slope"],
              "obs": np.arange(n_obs), "k": list("abcde"), "rep": [0, 1, 2]}
    with pm.Model(coords=coords) as model:
        sd_dist = pm.Exponential.dist(1.0, shape=2) if hasattr(pm, "Exponential") else pm.HalfNormal.dist(1.0, shape=2)
        chol, corr, stds = pm.LKJCholeskyCov("chol_cov", n=2, eta=2.0, sd_dist=sd_dist, compute_corr=True)
        mu_ab = pm.Normal("mu_ab", 0.0, 2.0, dims="coef")
        ab = pm.MvNormal("ab", mu=mu_ab, chol=chol, dims=("group", "coef"))
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Normal("y", ab[g, 0] + ab[g, 1] * x, sigma, observed=y, dims="obs")
        w = pm.Dirichlet("w", a=np.full(5, 2.0), dims="k")
        pm.Multinomial("counts", n=20, p=w, observed=counts, dims=("rep", "k"))
        pm.ZeroSumNormal("z", sigma=1.5, dims=("group", "k"))
        s = pm.HalfNormal("s_z2", 1.0)
        pm.ZeroSumNormal("z2", sigma=s, dims=("group", "k"), n_zerosum_axes=2)
    return model


def vector_families(pm, lkjcorr=True):
    """Continuous multivariate families as free variables, with parameters that are model variables."""
    K = np.array([[1.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 0.8]])
    with pm.Model(coords={"three": ["a", "b", "c"], "two": ["u", "v"]}) as model:
        s = pm.HalfNormal("s", 1.0)
        loc = pm.Normal("loc", 0.0, 1.0, dims="three")
        pm.MvStudentT("t", nu=5.0, mu=loc, scale=K * s**2, dims="three")
        pm.MvNormal("prec", mu=np.zeros(3), tau=np.linalg.inv(K) / s, shape=(2, 3))
        pm.MvNormal("cov", mu=loc, cov=K * s, dims=("two", "three"))
        pm.Dirichlet("theta", a=np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 4.0]]), dims=("two", "three"))
        pm.MatrixNormal("M", mu=np.zeros((2, 3)), rowcov=np.array([[1.0, 0.4], [0.4, 2.0]]), colchol=np.linalg.cholesky(K))
        pm.KroneckerNormal("kron", mu=np.zeros(6), covs=[np.array([[1.0, 0.4], [0.4, 2.0]]), K], sigma=s)
        pm.CAR("car", mu=np.zeros(5), W=W_GRID, alpha=0.5, tau=1.0 / s)
        pm.ICAR("icar", W=W_GRID, sigma=1.2)
        if lkjcorr:
            pm.LKJCorr("corr", n=3, eta=2.0)
        pm.StickBreakingWeights("sbw", alpha=1.0 + s, K=4)
    return model


def counts_and_matrices(pm):
    """Observed multivariate data: counts, matrices and vectors under LKJ priors."""
    rng = np.random.default_rng(5)
    n_trials = np.array([10, 20, 15])
    y_mn = np.stack([rng.multinomial(n, [0.2, 0.5, 0.3]) for n in n_trials])
    y_dm = np.stack([rng.multinomial(n, [0.4, 0.4, 0.2]) for n in n_trials])
    y_ord = np.stack([rng.multinomial(n, [0.1, 0.3, 0.4, 0.2]) for n in n_trials])
    V0 = np.array([[1.0, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 1.0]])
    X_w = st.wishart(df=6, scale=V0).rvs(random_state=rng)
    X_w = (X_w + X_w.T) / 2
    Y = rng.normal(size=(8, 3))
    M_obs = rng.normal(size=(2, 3))
    with pm.Model(coords={"trial": [0, 1, 2], "cat": ["x", "y", "z"], "level": [0, 1, 2, 3]}) as model:
        p = pm.Dirichlet("p", a=np.ones(3), dims="cat")
        pm.Multinomial("y_mn", n=n_trials, p=p, observed=y_mn, dims=("trial", "cat"))
        log_a = pm.Normal("log_a", 0.0, 1.0, dims="cat")
        pm.DirichletMultinomial("y_dm", n=n_trials, a=pm.math.exp(log_a), observed=y_dm, dims=("trial", "cat"))
        cut = pm.Normal("cut", mu=np.array([-1.0, 0.0, 1.0]), sigma=2.0, transform=pm.distributions.transforms.ordered,
                        initval=np.array([-1.0, 0.0, 1.0]))
        eta = pm.Normal("eta", 0.0, 1.0)
        pm.OrderedMultinomial("y_ord", eta=eta, cutpoints=cut, n=n_trials, observed=y_ord, dims=("trial", "level"))
        s = pm.HalfNormal("s", 2.0)
        pm.Wishart("X_w", nu=6, V=V0 * s, observed=X_w)
        packed = pm.LKJCholeskyCov("packed", n=3, eta=1.5, sd_dist=pm.HalfNormal.dist(2.0), compute_corr=False)
        L = pm.math.expand_packed_triangular(3, packed, lower=True)
        pm.MvNormal("Y", mu=np.zeros(3), chol=L, observed=Y)
        pm.MatrixNormal("M_obs", mu=np.zeros((2, 3)), rowcov=np.eye(2) * s, colchol=L, observed=M_obs)
        pm.MvStudentT("t_obs", nu=4.0, mu=np.zeros(3), chol=L, observed=Y[:3])
    return model


def _parity(build, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pymc_parity(build, **kw)


def test_model_parity_correlated_effects():
    # PyMC 5.28's LKJ normalizing constant has the opposite sign
    jm, pmm = _parity(correlated_effects, logp_offset=0.0 if PYMC6 else 2 * lkj_log_norm(2.0, 2))
    names = {v.name for v in jm.value_vars}
    assert {"chol_cov_cholesky-cov-packed__", "w_simplex__", "z_zerosum__", "z2_zerosum__", "ab"} <= names
    for name in ("chol_cov_corr", "chol_cov_stds"):
        assert name in jm.named_vars and name in pmm.named_vars
    assert jm.initial_point()["z2_zerosum__"].shape == (3, 4)
    # the deterministics (correlations, standard deviations) agree at a random point
    rng = np.random.default_rng(2)
    point = {k: v + rng.normal(size=np.shape(v)) for k, v in pmm.initial_point().items()}
    cm = jm.compiled()
    got = cm.expand(cm.point_to_flat(point), jm.data_values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outs = pmm.replace_rvs_by_values([pmm["chol_cov_corr"], pmm["chol_cov_stds"], pmm["w"], pmm["z2"]])
        fn = pmm.compile_fn(outs, inputs=pmm.value_vars, on_unused_input="ignore")
    ref = fn(point)
    for name, r in zip(("chol_cov_corr", "chol_cov_stds", "w", "z2"), ref):
        np.testing.assert_allclose(np.asarray(got[name]), r, rtol=1e-6, atol=1e-10, err_msg=name)
    np.testing.assert_allclose(np.asarray(got["z2"]).sum(0), 0, atol=1e-10)
    np.testing.assert_allclose(np.asarray(got["z2"]).sum(1), 0, atol=1e-10)


def test_model_parity_vector_families():
    # PyMC 5.28's LKJCorr is a different variable (packed correlations): see test_lkjcorr_model
    jm, _ = _parity(functools.partial(vector_families, lkjcorr=PYMC6), initial_point=True)
    names = {v.name for v in jm.value_vars}
    assert {"sbw_simplex__", "theta_simplex__", "t", "M", "kron", "car", "icar"} <= names
    assert ("corr_cholesky_corr__" in names) == PYMC6


def _lkj_model(pm):
    with pm.Model() as model:
        pm.LKJCorr("corr", n=3, eta=2.0)
        pm.LKJCorr("corr_b", n=3, eta=pm.HalfNormal("e", 1.0) + 0.5, shape=(2, 3, 3))
    return model


#: PyMC 6's compile_logp() (with, without the Jacobian) of `pm.LKJCorr("corr", n=3, eta=2.0)` at two points
LKJCORR_PYMC6 = {(0.3, -1.2, 0.7): (-4.596469606217519, -2.1418668208026093),
                 (1.5, 0.2, -0.4): (-4.633406047813791, -2.0290009105818196)}


def test_lkjcorr_model():
    """LKJCorr in a model, as PyMC 6: value variable `<name>_cholesky_corr__` (n(n-1)/2 entries filled into
    the Cholesky factor in PyMC's spiral order), the identity as initial value, PyMC 6's log density."""
    with jaxmc.Model() as m:
        c = jaxmc.LKJCorr("corr", n=3, eta=2.0)
    assert c.shape == (3, 3)
    assert {v.name: v.shape for v in m.value_vars} == {"corr_cholesky_corr__": (3,)}
    np.testing.assert_array_equal(m.initial_point()["corr_cholesky_corr__"], np.zeros(3))
    f, fj = m.compile_logp(), m.compile_logp(jacobian=False)
    for y, (ref, ref_nojac) in LKJCORR_PYMC6.items():
        point = {"corr_cholesky_corr__": np.array(y)}
        np.testing.assert_allclose(float(f(point)), ref, rtol=1e-10)
        np.testing.assert_allclose(float(fj(point)), ref_nojac, rtol=1e-10)
        # PyMC's spiral order for n = 3: y[2] -> L[1, 0], y[1] -> L[2, 0], y[0] -> L[2, 1]
        U = np.eye(3)
        U[1, 0], U[2, 0], U[2, 1] = y[2], y[1], y[0]
        L = U / np.linalg.norm(U, axis=1, keepdims=True)
        np.testing.assert_allclose(float(fj(point)), lkj_chol_logp(L, 2.0), rtol=1e-10)
        jac = np.sum(np.arange(2, 5) * np.log(np.diag(L)))
        np.testing.assert_allclose(float(f(point)), lkj_chol_logp(L, 2.0) + jac, rtol=1e-10)
        cm = m.compiled()
        np.testing.assert_allclose(np.asarray(cm.expand(cm.point_to_flat(point), m.data_values())["corr"]), L,
                                   atol=1e-12)
    if PYMC6:
        _parity(_lkj_model, initial_point=True)


def test_model_parity_counts_and_matrices():
    jm, pmm = _parity(counts_and_matrices, logp_offset=0.0 if PYMC6 else 2 * lkj_log_norm(1.5, 3))
    assert "y_ord_probs" in jm.named_vars and "y_ord_probs" in pmm.named_vars
    assert {v.name for v in jm.value_vars} >= {"packed_cholesky-cov-packed__", "cut_ordered__", "p_simplex__"}


# ---------------------------------------------------------------------------------------------- 4. draws
def test_draw_moments():
    """Means (and covariances where simple) of 20000 seeded draws within 5 standard errors."""
    N = 20000
    rng = np.random.default_rng(3)
    mu2 = rng.normal(size=(2, 3))
    cov = COV
    a = np.array([0.8, 2.0, 3.0])
    rc = ROWCOV
    Wm = W_GRID
    D = np.diag(Wm.sum(0))
    car_cov = np.linalg.inv(1.5 * (D - 0.4 * Wm))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        dists = {
            "mvn": jaxmc.MvNormal.dist(mu2, cov),
            "mvn_tau": jaxmc.MvNormal.dist(mu2[0], tau=np.linalg.inv(cov)),
            "mvt": jaxmc.MvStudentT.dist(nu=6.0, mu=mu2[0], scale=cov),
            "dir": jaxmc.Dirichlet.dist(a),
            "mn": jaxmc.Multinomial.dist(np.array([10, 30]), a / a.sum()),
            "dm": jaxmc.DirichletMultinomial.dist(10, a),
            "lkjcc": jaxmc.LKJCholeskyCov.dist(eta=2.0, n=3, sd_dist=jaxmc.HalfNormal.dist(1.5), compute_corr=False),
            "lkjcorr": jaxmc.LKJCorr.dist(n=3, eta=2.0),
            "wishart": jaxmc.Wishart.dist(5, cov),
            "zsn": jaxmc.ZeroSumNormal.dist(2.0, support_shape=(4,)),
            "matn": jaxmc.MatrixNormal.dist(mu2, rowcov=rc, colcov=cov),
            "kron": jaxmc.KroneckerNormal.dist(np.zeros(6), covs=[rc, cov], sigma=0.3),
            "car": jaxmc.CAR.dist(np.ones(5), Wm, 0.4, 1.5),
            "sbw": jaxmc.StickBreakingWeights.dist(2.0, 4),
            "ord": jaxmc.OrderedMultinomial.dist(0.3, ORD_CUT, 12),
        }
    draws = dict(zip(dists, jaxmc.draw(list(dists.values()), draws=N, random_seed=17)))
    for name, d in dists.items():
        assert draws[name].shape == (N, *d.shape), name

    def check_mean(name, x, mean, var):
        x = x.reshape(N, -1)
        se = np.sqrt(np.reshape(var, -1) / N)
        z = (x.mean(0) - np.reshape(mean, -1)) / se
        assert np.all(np.abs(z) < 5), (name, z)

    def check_cov(name, x, cov):
        x = x.reshape(N, -1)
        se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / N)
        z = (np.cov(x.T) - cov) / se
        assert np.all(np.abs(z) < 5), (name, z)

    check_mean("mvn", draws["mvn"], mu2, np.broadcast_to(np.diag(cov), (2, 3)))
    check_cov("mvn", draws["mvn"][:, 1], cov)
    check_cov("mvn_tau", draws["mvn_tau"], cov)
    check_mean("mvn_tau", draws["mvn_tau"], mu2[0], np.diag(cov))
    check_mean("mvt", draws["mvt"], mu2[0], np.diag(cov) * 6 / 4)
    a0 = a.sum()
    check_mean("dir", draws["dir"], a / a0, a * (a0 - a) / (a0**2 * (a0 + 1)))
    np.testing.assert_allclose(draws["dir"].sum(-1), 1, atol=1e-10)
    p = a / a0
    n = np.array([10, 30])[:, None]
    check_mean("mn", draws["mn"], n * p, n * p * (1 - p))
    assert np.all(draws["mn"].sum(-1) == np.array([10, 30])) and draws["mn"].dtype.kind == "i"
    check_mean("dm", draws["dm"], 10 * p, 10 * p * (1 - p) * (10 + a0) / (1 + a0))
    assert np.all(draws["dm"].sum(-1) == 10)
    # LKJCholeskyCov: standard deviations are HalfNormal(1.5); correlations have mean 0, var 1 / (2 eta + n - 1)
    L = np.zeros((N, 3, 3))
    L[:, np.tril_indices(3)[0], np.tril_indices(3)[1]] = draws["lkjcc"]
    C = L @ L.swapaxes(-1, -2)
    sds = np.sqrt(np.einsum("nii->ni", C))
    check_mean("lkjcc sds", sds, np.full(3, 1.5 * np.sqrt(2 / np.pi)), np.full(3, 1.5**2 * (1 - 2 / np.pi)))
    corr = C / sds[:, :, None] / sds[:, None, :]
    check_mean("lkjcc corr", corr[:, np.tril_indices(3, -1)[0], np.tril_indices(3, -1)[1]], np.zeros(3),
               np.full(3, 1 / 6))
    # LKJCorr draws Cholesky factors L; the correlations of L L^T are 2 Beta(eta - 1 + n/2, same) - 1
    Lc = draws["lkjcorr"]
    np.testing.assert_array_equal(Lc, np.tril(Lc))
    assert np.all(np.einsum("nii->ni", Lc) > 0)
    np.testing.assert_allclose(np.sum(Lc**2, -1), 1.0, atol=1e-12)
    r = (Lc @ Lc.swapaxes(-1, -2))[:, np.triu_indices(3, 1)[0], np.triu_indices(3, 1)[1]]
    check_mean("lkjcorr", r, np.zeros(3), np.full(3, 1 / 6))
    check_mean("lkjcorr var", r**2, np.full(3, 1 / 6), np.full(3, 1 / 16 - 1 / 36))
    check_mean("wishart", draws["wishart"], 5 * cov, 5 * (cov**2 + np.outer(np.diag(cov), np.diag(cov))))
    np.testing.assert_allclose(draws["wishart"], draws["wishart"].swapaxes(-1, -2), atol=1e-8)
    zs_cov = 4.0 * (np.eye(4) - 1 / 4)
    check_mean("zsn", draws["zsn"], np.zeros(4), np.diag(zs_cov))
    check_cov("zsn", draws["zsn"], zs_cov)
    np.testing.assert_allclose(draws["zsn"].sum(-1), 0, atol=1e-10)
    kron = np.kron(rc, cov)
    check_mean("matn", draws["matn"], mu2, np.diag(kron))
    check_cov("matn", draws["matn"], kron)
    check_cov("kron", draws["kron"], kron + 0.09 * np.eye(6))
    check_mean("car", draws["car"], np.ones(5), np.diag(car_cov))
    check_cov("car", draws["car"], car_cov)
    al = 2.0
    m_sbw = np.r_[(1 / (1 + al)) * (al / (1 + al)) ** np.arange(4), (al / (1 + al)) ** 4]
    check_mean("sbw", draws["sbw"], m_sbw, m_sbw * (1 - m_sbw))
    np.testing.assert_allclose(draws["sbw"].sum(-1), 1, atol=1e-10)
    sig = 1 / (1 + np.exp(-(ORD_CUT - 0.3)))
    p_ord = np.diff(np.r_[0.0, sig, 1.0])
    check_mean("ord", draws["ord"], 12 * p_ord, 12 * p_ord * (1 - p_ord))


def test_sample_lkj_and_wishart_priors():
    """NUTS through the PyMC 6 transforms: LKJCorr(eta=2, n=3) correlations are 2 Beta(2.5, 2.5) - 1 (mean 0,
    variance 1/6, E r^4 = 1/16); LKJCholeskyCov's the same, with HalfNormal(1.5) standard deviations;
    Wishart(5, S) has mean 5 S. Tolerances are 4.5 Monte Carlo standard errors (from the effective sample
    size)."""
    import arviz as az

    S = np.array([[1.0, 0.3], [0.3, 2.0]])
    with jaxmc.Model() as m:
        jaxmc.LKJCorr("corr", n=3, eta=2.0)
        jaxmc.LKJCholeskyCov("cc", n=3, eta=2.0, sd_dist=jaxmc.HalfNormal.dist(1.5))
        jaxmc.Wishart("W", nu=5, V=S)
    idata = jaxmc.sample(draws=1000, tune=1000, chains=4, random_seed=3, quiet=True, model=m)
    post = {k: np.asarray(v) for k, v in idata.posterior.items()}
    assert post["corr"].shape == (4, 1000, 3, 3)

    def check(name, x, mean, var):  # x: (chain, draw)
        se = np.sqrt(var / float(az.ess(x)))
        assert abs(x.mean() - mean) < 4.5 * se, (name, x.mean(), mean, se)

    L = post["corr"]
    iu = np.triu_indices(3, 1)
    for label, R in (("LKJCorr", L @ L.swapaxes(-1, -2)), ("LKJCholeskyCov", post["cc_corr"])):
        for r in np.moveaxis(R[..., iu[0], iu[1]], -1, 0):
            check(label, r, 0.0, 1 / 6)
            check(label + " r^2", r**2, 1 / 6, 1 / 16 - 1 / 36)
    for s in np.moveaxis(post["cc_stds"], -1, 0):
        check("stds", s, 1.5 * np.sqrt(2 / np.pi), 1.5**2 * (1 - 2 / np.pi))
    W_var = 5 * (S**2 + np.outer(np.diag(S), np.diag(S)))
    for i, j in [(0, 0), (0, 1), (1, 1)]:
        check("Wishart", post["W"][..., i, j], 5 * S[i, j], W_var[i, j])
    assert int(np.asarray(idata.sample_stats["diverging"]).sum()) <= 10


def test_icar_has_no_draws():
    with pytest.raises(NotImplementedError, match="Cannot sample from ICAR prior"):
        jaxmc.draw(jaxmc.ICAR.dist(W=W_GRID), draws=2, random_seed=1)


# ---------------------------------------------------------------------------------------------- 5. transforms
def test_default_transforms():
    with jaxmc.Model(coords={"a": range(3), "b": range(4)}) as m:
        jaxmc.LKJCholeskyCov("L", n=3, eta=1.0, sd_dist=jaxmc.HalfNormal.dist(1.0), compute_corr=False)
        jaxmc.ZeroSumNormal("z", dims=("a", "b"), n_zerosum_axes=2)
        jaxmc.StickBreakingWeights("w", alpha=1.0, K=3)
        jaxmc.LKJCorr("C", n=4, eta=2.0, shape=(3, 4, 4))
        jaxmc.Wishart("W", nu=5, V=COV)
    shapes = {v.name: v.shape for v in m.value_vars}
    assert shapes == {"L_cholesky-cov-packed__": (6,), "z_zerosum__": (2, 3), "w_simplex__": (3,),
                      "C_cholesky_corr__": (3, 6), "W_cholesky-cov__": (6,)}
    t = m.rvs_to_transforms[m["L"]]
    ldj, expected = check_transform(t, X_LKJCC[0])
    np.testing.assert_allclose(ldj, expected, rtol=1e-8)
    assert type(m.rvs_to_transforms[m["C"]]).__name__ == "CholeskyCorrTransform"
    assert type(m.rvs_to_transforms[m["W"]]).__name__ == "CholeskyCovTransform"
    t = m.rvs_to_transforms[m["C"]]
    np.testing.assert_allclose(np.asarray(t.backward(t.forward(X_LKJCORR))), X_LKJCORR, atol=1e-12)


# ---------------------------------------------------------------------------------------------- shapes, checks
def test_shapes_and_dims():
    with jaxmc.Model(coords={"obs": range(5), "dim": ["a", "b", "c"]}) as m:
        x = jaxmc.MvNormal("x", mu=np.zeros(3), cov=COV, dims=("obs", "dim"))
        d = jaxmc.Dirichlet("d", a=np.ones(3), dims="dim")
        z = jaxmc.ZeroSumNormal("z", dims=("obs", "dim"))
        chol, corr, stds = jaxmc.LKJCholeskyCov("c", n=3, eta=2.0, sd_dist=jaxmc.HalfNormal.dist(1.0))
    assert x.shape == (5, 3) and d.shape == (3,) and z.shape == (5, 3)
    assert chol.shape == (3, 3) and corr.shape == (3, 3) and stds.shape == (3,)
    assert m.named_vars_to_dims["x"] == ("obs", "dim")
    assert jaxmc.MvNormal.dist(np.zeros(3), COV, size=(4, 2)).shape == (4, 2, 3)
    assert jaxmc.MvNormal.dist(0.0, COV).shape == (3,)
    assert jaxmc.Dirichlet.dist(np.ones((2, 4)), shape=(6, 2, 4)).shape == (6, 2, 4)
    assert jaxmc.LKJCholeskyCov.dist(eta=1.0, n=4, sd_dist=jaxmc.HalfNormal.dist(1.0), compute_corr=False,
                                     size=2).shape == (2, 10)
    assert jaxmc.LKJCorr.dist(n=4, eta=1.0).shape == (4, 4)
    assert jaxmc.LKJCorr.dist(n=4, eta=np.ones(2)).shape == (2, 4, 4)
    assert jaxmc.LKJCorr.dist(n=4, eta=1.0, size=(3, 2)).shape == (3, 2, 4, 4)
    with pytest.raises(TypeError, match="return_matrix"):  # PyMC 6 removed it: LKJCorr is the Cholesky factor
        jaxmc.LKJCorr.dist(n=4, eta=1.0, return_matrix=True)
    assert jaxmc.StickBreakingWeights.dist(1.0, K=5).shape == (6,)
    assert jaxmc.KroneckerNormal.dist(0.0, covs=[np.eye(2), np.eye(3)]).shape == (6,)
    assert jaxmc.ZeroSumNormal.dist(support_shape=(3, 4), n_zerosum_axes=2, size=5).shape == (5, 3, 4)
    assert jaxmc.Wishart.dist(5, np.eye(3)).shape == (3, 3)
    assert jaxmc.Wishart.dist(5, np.stack([np.eye(3)] * 2)).shape == (2, 3, 3)
    assert jaxmc.Wishart.dist(np.array([5, 6]), scale_chol=np.eye(3), size=(4, 2)).shape == (4, 2, 3, 3)
    # initial points: PyMC's support points
    ip = m.initial_point()
    np.testing.assert_allclose(ip["c_cholesky-cov-packed__"], np.zeros(6))
    np.testing.assert_allclose(ip["d_simplex__"], np.zeros(2), atol=1e-12)


def test_pymc_parameter_checks():
    with pytest.raises(ValueError, match="exactly one"):
        jaxmc.MvNormal.dist(np.zeros(2), cov=np.eye(2), tau=np.eye(2))
    with pytest.raises(ValueError, match="two dimensional"):
        jaxmc.MvNormal.dist(np.zeros(2), cov=np.ones(2))
    with pytest.raises(ValueError, match="dims, shape or support_shape"):
        jaxmc.ZeroSumNormal.dist(sigma=1.0)
    with pytest.raises(ValueError, match="length one across the zero-sum axes"):
        jaxmc.ZeroSumNormal.dist(sigma=np.ones(3), shape=(3,))
    with pytest.raises(ValueError, match="Negative"):
        jaxmc.Multinomial.dist(5, [-0.1, 1.1])
    with pytest.warns(UserWarning, match="rescaled"):
        rv = jaxmc.Multinomial.dist(5, [1.0, 1.0, 2.0])
    np.testing.assert_allclose(rv.owner.params[1], [0.25, 0.25, 0.5])
    with pytest.raises(ValueError, match="exactly one of `V` or `scale_chol`"):
        jaxmc.Wishart.dist(4, np.eye(2), scale_chol=np.eye(2))
    with pytest.raises(ValueError, match="exactly one of `V` or `scale_chol`"):
        jaxmc.Wishart.dist(4)
    with pytest.warns(FutureWarning):
        jaxmc.MvStudentT.dist(nu=3, mu=np.zeros(2), cov=np.eye(2))
    with pytest.raises(ValueError, match="symmetric"):
        jaxmc.ICAR.dist(W=np.array([[0, 1], [0, 0]]))
    with jaxmc.Model():
        sd = jaxmc.HalfNormal("sd", 1.0)
        with pytest.raises(ValueError, match="already registered"):
            jaxmc.LKJCholeskyCov("L", n=2, eta=1.0, sd_dist=sd)
        with pytest.raises(TypeError, match="sd_dist"):
            jaxmc.LKJCholeskyCov("L2", n=2, eta=1.0, sd_dist=1.0)
    # invalid parameters give -inf
    assert np.isneginf(jaxmc_logp(lambda pm: pm.Dirichlet.dist(np.array([1.0, -1.0])), np.array([0.5, 0.5])))
    assert np.isneginf(jaxmc_logp(lambda pm: pm.CAR.dist(np.zeros(5), W_GRID, 1.5, 1.0), np.zeros(5)))
    assert np.isneginf(jaxmc_logp(lambda pm: pm.Wishart.dist(1, np.eye(3)), np.eye(3)))


S_W = np.array([[1.0, 0.3, 0.0], [0.3, 2.0, 0.2], [0.0, 0.2, 1.0]])
#: PyMC 6: `pm.Wishart("W", nu=7, V=S_W)`'s initial point, and compile_logp() at Y_W (PyMC's Jacobian term
#: n log 2 uses a float32 log 2: 1.4e-8 off)
IP_W_PYMC6 = np.array([0.9729550745276567, 0.7937253933193772, 1.2965066955569258, 0.0, 0.3828796921210937,
                       0.9623726689316349])
Y_W = np.array([0.3, -1.2, 0.7, 2.0, -0.4, 0.1])
LOGP_W_PYMC6 = -10.347077492939782


def _wishart_reference(y, nu, S):
    """Wishart(nu, S) log density at X = L L^T (L: y packed by rows, log diagonal) plus the log Jacobian of
    y -> lower triangle of X (PyMC 6's CholeskyCovTransform)."""
    n = S.shape[0]
    L = np.zeros((n, n))
    L[np.tril_indices(n)] = y
    L[np.diag_indices(n)] = np.exp(np.diag(L))
    jac = n * np.log(2) + np.sum(np.arange(n + 1, 1, -1) * np.log(np.diag(L)))
    return st.wishart(df=nu, scale=S).logpdf(L @ L.T) + jac, L @ L.T


@pytest.mark.parametrize("how", ["Wishart", "Wishart-scale_chol", "WishartBartlett", "WishartBartlett-chol"])
def test_wishart_model(how):
    """A free Wishart, as PyMC 6: value variable `<name>_cholesky-cov__`, initial point nu V; WishartBartlett
    is a deprecated shim over it (`return_cholesky` names the Wishart `_<name>_wishart`)."""
    def build(pm):
        with pm.Model() as model:
            if how == "Wishart":
                pm.Wishart("W", nu=7, V=S_W)
            elif how == "Wishart-scale_chol":
                pm.Wishart("W", nu=7, scale_chol=np.linalg.cholesky(S_W))
            elif how == "WishartBartlett":
                pm.WishartBartlett("W", S_W, 7)
            else:
                pm.WishartBartlett("Wc", np.linalg.cholesky(S_W), 7, is_cholesky=True, return_cholesky=True)
        return model

    if how.startswith("WishartBartlett"):
        with pytest.warns(FutureWarning, match="WishartBartlett is deprecated"):
            m = build(jaxmc)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # PyMC 6's Wishart no longer warns
            m = build(jaxmc)
    name = "_Wc_wishart" if how == "WishartBartlett-chol" else "W"
    assert {v.name: v.shape for v in m.value_vars} == {f"{name}_cholesky-cov__": (6,)}
    np.testing.assert_allclose(m.initial_point()[f"{name}_cholesky-cov__"], IP_W_PYMC6, rtol=1e-10)
    point = {f"{name}_cholesky-cov__": Y_W}
    np.testing.assert_allclose(float(m.compile_logp()(point)), LOGP_W_PYMC6, rtol=2e-9)
    for y in (Y_W, Y_W * 0.3 - 0.1):
        ref, X = _wishart_reference(y, 7, S_W)
        point = {f"{name}_cholesky-cov__": y}
        np.testing.assert_allclose(float(m.compile_logp()(point)), ref, rtol=1e-10)
        cm = m.compiled()
        got = cm.expand(cm.point_to_flat(point), m.data_values())
        np.testing.assert_allclose(np.asarray(got[name]), X, rtol=1e-10)
        if how == "WishartBartlett-chol":
            np.testing.assert_allclose(np.asarray(got["Wc"]), np.linalg.cholesky(X), rtol=1e-10)
    if PYMC6:
        _parity(build, initial_point=True)
    if how == "WishartBartlett":
        with jaxmc.Model(), pytest.raises(NotImplementedError, match="initval"), pytest.warns(FutureWarning):
            jaxmc.WishartBartlett("W", S_W, 7, initval=S_W)

"""Discrete families: scipy and PyMC parity of logp/logcdf, model-level parity, draws, bad data, gradients."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special as sps
import scipy.stats as st

import jaxmc
from tests.helpers import PYMC6, pymc_parity

pymc = pytest.importorskip("pymc")

RTOL = 1e-6
M = 40  # random points per family


def _close(actual, expected, rtol=RTOL, atol=1e-10, what=""):
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def _lp(rv, v):
    """jaxmc.logp(rv, v) through jax.jit (one compile instead of one per operation)."""
    return np.asarray(jax.jit(lambda x: jaxmc.logp(rv, x))(jnp.asarray(v)))


def _lc(rv, v):
    return np.asarray(jax.jit(lambda x: jaxmc.logcdf(rv, x))(jnp.asarray(v)))


_CACHE = {}


def _jaxmc_logp_logcdf(label):
    """(logp, logcdf) of case `label` at its values, one jit compile per case, shared by the tests."""
    if label not in _CACHE:
        _, fam, kw, v, _ = next(c for c in CASES if c[0] == label)
        rv = getattr(jaxmc, fam).dist(**kw)
        out = jax.jit(lambda x: (jaxmc.logp(rv, x), jaxmc.logcdf(rv, x)))(jnp.asarray(v))
        _CACHE[label] = tuple(np.asarray(o) for o in out)
    return _CACHE[label]


def _cases():
    """(label, family, jaxmc kwargs, pymc kwargs, values, scipy logpmf, scipy logcdf); fixed seed."""
    rng = np.random.default_rng(20240601)
    out = []
    v = rng.integers(-2, 25, M)
    n = rng.integers(0, 25, M)
    p = rng.uniform(0.02, 0.98, M)
    lp = sps.logit(p)
    mu = rng.uniform(0.2, 20.0, M)
    alpha = rng.uniform(0.3, 30.0, M)
    beta = rng.uniform(0.3, 10.0, M)

    vb = rng.integers(-1, 3, M)
    out.append(("Bernoulli p", "Bernoulli", dict(p=p), vb, st.bernoulli(p)))
    out.append(("Bernoulli logit_p", "Bernoulli", dict(logit_p=lp), vb, st.bernoulli(p)))
    out.append(("Binomial p", "Binomial", dict(n=n, p=p), v, st.binom(n, p)))
    out.append(("Binomial logit_p", "Binomial", dict(n=n, logit_p=lp), v, st.binom(n, p)))
    out.append(("Poisson", "Poisson", dict(mu=mu), v, st.poisson(mu)))
    pn = alpha / (mu + alpha)
    out.append(("NegativeBinomial mu/alpha", "NegativeBinomial", dict(mu=mu, alpha=alpha), v,
                st.nbinom(alpha, pn)))
    out.append(("NegativeBinomial n/p", "NegativeBinomial", dict(n=alpha, p=p), v, st.nbinom(alpha, p)))
    out.append(("NegativeBinomial mu/n", "NegativeBinomial", dict(mu=mu, n=alpha), v, st.nbinom(alpha, pn)))
    out.append(("NegativeBinomial p/alpha", "NegativeBinomial", dict(p=p, alpha=alpha), v, st.nbinom(alpha, p)))
    out.append(("Geometric", "Geometric", dict(p=p), v, st.geom(p)))
    out.append(("BetaBinomial", "BetaBinomial", dict(alpha=alpha, beta=beta, n=n), v, st.betabinom(n, alpha, beta)))
    N = rng.integers(1, 30, M)
    k = (rng.uniform(size=M) * (N + 1)).astype(int)
    nd = (rng.uniform(size=M) * (N + 1)).astype(int)
    vh = rng.integers(-1, 20, M)
    out.append(("HyperGeometric", "HyperGeometric", dict(N=N, k=k, n=nd), vh, st.hypergeom(N, k, nd)))
    lo = rng.integers(-5, 5, M)
    hi = lo + rng.integers(0, 10, M)
    vu = rng.integers(-6, 15, M)
    out.append(("DiscreteUniform", "DiscreteUniform", dict(lower=lo, upper=hi), vu, st.randint(lo, hi + 1)))
    q = rng.uniform(0.05, 0.95, M)
    out.append(("DiscreteWeibull", "DiscreteWeibull", dict(q=q, beta=rng.uniform(0.3, 3.0, M)), v, None))
    P = rng.dirichlet(np.ones(5), size=M)
    vc = rng.integers(-1, 6, M)
    out.append(("Categorical p", "Categorical", dict(p=P), vc, None))
    out.append(("Categorical logit_p", "Categorical", dict(logit_p=np.log(P) + rng.normal(size=(M, 1))), vc, None))
    eta = rng.normal(size=M)
    cut = np.sort(rng.normal(scale=2.0, size=(M, 4)), axis=-1)
    out.append(("OrderedLogistic", "OrderedLogistic", dict(eta=eta, cutpoints=cut), vc, None))
    out.append(("OrderedProbit", "OrderedProbit", dict(eta=eta, cutpoints=cut, sigma=rng.uniform(0.5, 2, M)), vc,
                None))
    out.append(("OrderedProbit sigma=1", "OrderedProbit", dict(eta=eta, cutpoints=cut[0]), vc, None))
    c = rng.integers(-2, 3, M)
    out.append(("DiracDelta", "DiracDelta", dict(c=c), rng.integers(-2, 3, M), None))
    return out


CASES = _cases()


# ------------------------------------------------------------------------------------------ 1. scipy
@pytest.mark.parametrize("case", [c for c in CASES if c[4] is not None], ids=lambda c: c[0])
def test_scipy_logp_logcdf(case):
    label, fam, kw, v, frozen = case
    lp, lc = _jaxmc_logp_logcdf(label)
    _close(lp, frozen.logpmf(v), what=f"{label} logp")
    _close(lc, frozen.logcdf(v), what=f"{label} logcdf")


def test_analytic_no_scipy():
    """Families scipy lacks: pmf sums to one, logcdf equals the cumulated pmf, closed forms."""
    ks = np.arange(0, 400)
    for label in ["DiscreteWeibull", "Categorical p", "Categorical logit_p", "OrderedLogistic", "OrderedProbit"]:
        lab, fam, kw, _, _ = next(c for c in CASES if c[0] == label)
        kw1 = {k: np.asarray(v)[3] for k, v in kw.items()}
        rv = getattr(jaxmc, fam).dist(**kw1)
        lp = _lp(rv, ks)
        lc = _lc(rv, ks)
        np.testing.assert_allclose(np.exp(lp).sum(), 1.0, rtol=1e-9, err_msg=label)
        top = int(np.max(np.flatnonzero(np.exp(lp) > 1e-300))) + 1
        _close(np.exp(lc[:top]), np.cumsum(np.exp(lp))[:top], rtol=1e-9, atol=1e-14, what=label)
    # DiscreteWeibull closed form
    q, b = 0.7, 1.4
    x = np.arange(0, 10)
    _close(_lp(jaxmc.DiscreteWeibull.dist(q, b), x), np.log(q ** (x ** b) - q ** ((x + 1) ** b)))
    # Ordered logistic: sigmoid differences; probit: normal CDF differences
    eta, cut = 0.3, np.array([-1.0, 0.5, 2.0])
    cum = np.r_[0.0, sps.expit(cut - eta), 1.0]
    _close(_lp(jaxmc.OrderedLogistic.dist(eta, cut), np.arange(4)), np.log(np.diff(cum)))
    cum = np.r_[0.0, st.norm.cdf((cut - eta) / 1.5), 1.0]
    _close(_lp(jaxmc.OrderedProbit.dist(eta, cut, 1.5), np.arange(4)), np.log(np.diff(cum)))
    # tails stay finite where naive differences underflow
    assert np.isfinite(_lp(jaxmc.OrderedLogistic.dist(0.0, np.array([60.0, 61.0])), 1))
    assert np.isfinite(_lp(jaxmc.OrderedProbit.dist(0.0, np.array([40.0, 41.0])), 1))
    # NegativeBinomial: Poisson limit for alpha > 1e10 (as PyMC)
    _close(_lp(jaxmc.NegativeBinomial.dist(mu=3.0, alpha=1e12), np.arange(8)), st.poisson(3.0).logpmf(np.arange(8)))
    # NegativeBinomial's valid parameters are PyMC 6's 0 <= p <= 1, n > 0: mu = 0 (p = 1) is a point mass at 0
    _close(_lp(jaxmc.NegativeBinomial.dist(mu=0.0, alpha=3.0), np.arange(3)), st.nbinom(3.0, 1.0).logpmf(np.arange(3)))
    _close(_lp(jaxmc.NegativeBinomial.dist(n=3.0, p=1.0), np.arange(3)), [0.0, -np.inf, -np.inf])
    _close(_lp(jaxmc.NegativeBinomial.dist(n=3.0, p=0.0), np.arange(3)), np.full(3, -np.inf))
    assert np.isneginf(_lp(jaxmc.NegativeBinomial.dist(mu=-1.0, alpha=3.0), 0))
    assert np.isneginf(_lp(jaxmc.NegativeBinomial.dist(n=3.0, p=1.2), 0))
    # DiracDelta
    _close(_lp(jaxmc.DiracDelta.dist(2), np.array([1, 2, 3])), [-np.inf, 0.0, -np.inf])
    _close(_lc(jaxmc.DiracDelta.dist(2), np.array([1, 2, 3])), [-np.inf, 0.0, 0.0])


def test_non_integer_and_outside_values():
    # non-integer values are outside the support of a discrete family
    assert np.all(np.isneginf(_lp(jaxmc.Poisson.dist(3.0), np.array([2.5, -1.0]))))
    assert np.isneginf(_lp(jaxmc.Binomial.dist(5, 0.3), 6))
    assert np.isneginf(_lp(jaxmc.Categorical.dist([0.2, 0.8]), 2))
    assert np.isneginf(_lp(jaxmc.Geometric.dist(0.3), 0))
    # invalid parameters give -inf
    assert np.isneginf(_lp(jaxmc.Poisson.dist(-1.0), 1))
    assert np.isneginf(_lp(jaxmc.Bernoulli.dist(1.5), 1))
    assert np.isneginf(_lp(jaxmc.OrderedLogistic.dist(0.0, np.array([1.0, -1.0])), 1))
    assert np.isneginf(_lp(jaxmc.DiscreteWeibull.dist(1.2, 1.0), 1))
    # logcdf of non-integer values is the step function
    _close(_lc(jaxmc.Poisson.dist(3.0), 2.5), st.poisson(3.0).logcdf(2))
    _close(_lc(jaxmc.Geometric.dist(0.3), 2.5), st.geom(0.3).logcdf(2))


# ------------------------------------------------------------------------------------------ 2. PyMC
def _pymc_dist(fam, kw):
    return getattr(pymc, fam).dist(**kw)


def test_pymc_parity_logp_logcdf():
    """Every family and parameterization against pymc.logp / pymc.logcdf, one PyTensor compile."""
    import pytensor

    outs, expected_keys = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, fam, kw, v, _ in CASES:
            prv = _pymc_dist(fam, kw)
            outs.append(pymc.logp(prv, v))
            expected_keys.append((label, "logp", None))
            if fam in ("BetaBinomial", "HyperGeometric"):  # PyMC's logcdf takes one scalar point at a time
                for i in range(6):
                    kwi = {k: np.asarray(a)[i] for k, a in kw.items()}
                    outs.append(pymc.logcdf(_pymc_dist(fam, kwi), int(v[i])))
                    expected_keys.append((label, "logcdf", i))
            else:
                outs.append(pymc.logcdf(prv, v))
                expected_keys.append((label, "logcdf", None))
        vals = pytensor.function([], outs)()
    for (label, what, i), got in zip(expected_keys, vals):
        _, fam, kw, v, _ = next(c for c in CASES if c[0] == label)
        if i is None:
            mine = _jaxmc_logp_logcdf(label)[0 if what == "logp" else 1]
            if fam == "DiscreteUniform" and what == "logcdf":
                # P(X <= lower) is 1 / (upper - lower + 1), as PyMC 6 (PyMC 5.28 returns -inf there)
                at_lower = v == kw["lower"]
                assert at_lower.any()
                _close(mine[at_lower], -np.log(kw["upper"] - kw["lower"] + 1)[at_lower])
                if not PYMC6:
                    assert np.all(np.isneginf(got[at_lower]))
                    mine, got = mine[~at_lower], got[~at_lower]
            if fam == "DiscreteWeibull" and what == "logp":
                # PyMC computes log(q**(x**b) - q**((x+1)**b)), which underflows to -inf far in the tail
                under = np.isneginf(got) & (v >= 0)
                assert np.all(np.isfinite(mine[under])) and np.all(mine[under] < -700)
                mine, got = mine[~under], got[~under]
        else:
            kwi = {k: np.asarray(a)[i] for k, a in kw.items()}
            mine = _lc(getattr(jaxmc, fam).dist(**kwi), int(v[i]))
        # PyMC's Categorical logcdf (used by its ordered families) is log(cumsum(p)): ~1e-9 absolute noise
        _close(mine, got, atol=1e-8 if fam.startswith("Ordered") else 1e-10, what=f"{label} {what} {i}")


def test_negative_binomial_boundary_parameters_pymc():
    """mu = 0 (p = 1) and p = 0 are valid parameters in PyMC 6 (PyMC 5.28 checks mu > 0, alpha > 0)."""
    from pymc.logprob.utils import ParameterValueError

    v = np.arange(3)
    for kw in (dict(mu=0.0, alpha=3.0), dict(n=3.0, p=1.0), dict(n=3.0, p=0.0)):
        mine = _lp(jaxmc.NegativeBinomial.dist(**kw), v)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expr = pymc.logp(pymc.NegativeBinomial.dist(**kw), v)
            if PYMC6:
                _close(mine, expr.eval(), what=str(kw))
            elif kw.get("p") == 0.0:
                assert np.all(np.isnan(expr.eval()))  # PyMC 5.28: mu = inf
            else:
                with pytest.raises(ParameterValueError, match="mu > 0, alpha > 0"):
                    expr.eval()


def test_dist_api():
    with pytest.raises(ValueError, match="Can't specify both p and logit_p"):
        jaxmc.Bernoulli.dist(p=0.5, logit_p=0.0)
    with pytest.raises(ValueError, match="Must specify either p or logit_p"):
        jaxmc.Binomial.dist(n=3)
    with pytest.raises(ValueError, match="Can't specify both alpha and n"):
        jaxmc.NegativeBinomial.dist(mu=1.0, alpha=1.0, n=2.0)
    with pytest.raises(ValueError, match="Must specify either mu or p"):
        jaxmc.NegativeBinomial.dist(alpha=1.0)
    with pytest.raises(ValueError, match="Negative"):
        jaxmc.Categorical.dist(p=[-0.1, 1.1])
    with pytest.warns(UserWarning, match="rescaled"):
        rv = jaxmc.Categorical.dist(p=[1.0, 3.0])
    _close(_lp(rv, np.array([0, 1])), np.log([0.25, 0.75]))
    # canonical parameters, integer parameters, dtypes, shapes
    rv = jaxmc.HyperGeometric.dist(N=10.0, k=4, n=3)
    assert all(jnp.issubdtype(p.dtype, jnp.integer) for p in rv.owner.params)
    rv = jaxmc.DiscreteUniform.dist(-2.7, 3.5)
    assert [int(p) for p in rv.owner.params] == [-3, 3]
    assert rv.dtype == np.int64 and jaxmc.Poisson.dist(1.0).owner.discrete
    assert jaxmc.Categorical.dist(p=np.full((4, 3), 1 / 3)).shape == (4,)
    assert jaxmc.OrderedProbit.dist(np.zeros(7), [-1.0, 1.0], sigma=2.0).shape == (7,)
    assert jaxmc.Binomial.dist(10, 0.5, size=(2, 3)).shape == (2, 3)
    assert jaxmc.DiracDelta.dist(2.5).dtype == np.float64 and jaxmc.DiracDelta.dist(2).dtype == np.int64
    for name in pymc.distributions.discrete.__all__ + ["DiracDelta"]:
        assert name in jaxmc.distributions.discrete.__all__ and hasattr(jaxmc, name), name


# ------------------------------------------------------------------------------------------ 3. models
def _model_observed(pm):
    """Every family observed, with continuous free parents (links, Beta/Gamma/HalfNormal/Uniform), coords."""
    rng = np.random.default_rng(5)
    n_obs = 10
    x = rng.normal(size=n_obs)
    trials = rng.integers(1, 15, n_obs)
    coords = {"obs": np.arange(n_obs), "cat": ["a", "b", "c", "d"], "cut": np.arange(3)}
    with pm.Model(coords=coords) as model:
        xd = pm.Data("x", x, dims="obs")
        a = pm.Normal("a", 0, 1)
        b = pm.Normal("b", 0, 1)
        pm.Bernoulli("y_bern", logit_p=a + b * xd, observed=rng.integers(0, 2, n_obs), dims="obs")
        pm.Bernoulli("y_bern_p", p=pm.math.invlogit(a - b * xd), observed=rng.integers(0, 2, n_obs), dims="obs")
        theta = pm.Beta("theta", 2.0, 3.0)
        pm.Binomial("y_binom", n=trials, p=theta, observed=rng.binomial(trials, 0.4), dims="obs")
        pm.Binomial("y_binom_l", n=trials, logit_p=a + xd, observed=rng.binomial(trials, 0.6), dims="obs")
        lam = pm.math.exp(a + 0.5 * xd)
        pm.Poisson("y_pois", mu=lam, observed=rng.poisson(2.0, n_obs), dims="obs")
        alpha = pm.HalfNormal("alpha", 2.0)
        pm.NegativeBinomial("y_nb", mu=lam, alpha=alpha, observed=rng.poisson(3.0, n_obs), dims="obs")
        pm.NegativeBinomial("y_nb_np", n=alpha, p=theta, observed=rng.poisson(3.0, n_obs), dims="obs")
        g = pm.Uniform("g", 0, 1)
        pm.Geometric("y_geom", p=g, observed=rng.geometric(0.3, n_obs), dims="obs")
        w = pm.Normal("w", 0, 1, dims="cat")
        pm.Categorical("y_cat", logit_p=w, observed=rng.integers(0, 4, n_obs), dims="obs")
        pm.Categorical("y_cat_p", p=pm.math.softmax(w), observed=rng.integers(0, 4, n_obs), dims="obs")
        ab = pm.HalfNormal("ab", 3.0, shape=2)
        pm.BetaBinomial("y_bb", alpha=ab[0], beta=ab[1], n=8, observed=rng.integers(0, 9, n_obs), dims="obs")
        bw = pm.Gamma("bw", 2.0, 8.0)  # small shapes: PyMC's naive DiscreteWeibull logp underflows to -inf
        pm.DiscreteWeibull("y_dw", q=theta, beta=bw, observed=rng.integers(0, 6, n_obs), dims="obs")
        cut = pm.Normal("cutpoints", mu=[-1.0, 0.0, 1.0], sigma=2.0, dims="cut",
                        transform=pm.distributions.transforms.ordered)
        pm.OrderedLogistic("y_ol", eta=b * xd, cutpoints=cut, observed=rng.integers(0, 4, n_obs), dims="obs")
        pm.OrderedProbit("y_op", eta=b * xd, cutpoints=cut, sigma=alpha, observed=rng.integers(0, 4, n_obs),
                         dims="obs", compute_p=False)
        pm.HyperGeometric("y_hg", N=20, k=8, n=6, observed=rng.hypergeometric(8, 12, 6, n_obs), dims="obs")
        pm.DiscreteUniform("y_du", lower=-2, upper=5, observed=rng.integers(-2, 6, n_obs), dims="obs")
        pm.Poisson("y_pois_c", mu=3.0, observed=rng.poisson(3.0, n_obs), dims="obs")
    return model


def test_model_observed_parity():
    jm, pmm = pymc_parity(_model_observed, n_points=6)
    assert list(jm.named_vars) == list(pmm.named_vars)  # y_ol_probs before y_ol, none for y_op
    assert "y_ol_probs" in jm.named_vars and "y_op_probs" not in jm.named_vars


def _model_free(pm):
    with pm.Model(coords={"g": ["a", "b", "c"]}) as model:
        mu = pm.HalfNormal("mu", 3.0)
        pm.Poisson("k_pois", mu=3.7, dims="g")
        pm.Poisson("k_pois2", mu=mu)
        pm.Bernoulli("k_bern", p=[0.2, 0.7, 0.5], dims="g")
        pm.Binomial("k_binom", n=10, p=0.37)
        pm.Binomial("k_binom_l", n=7, logit_p=1.0)
        pm.NegativeBinomial("k_nb", mu=4.5, alpha=2.0)
        pm.NegativeBinomial("k_nb2", n=3.0, p=0.3)
        pm.Geometric("k_geom", p=0.3)
        pm.BetaBinomial("k_bb", alpha=2.0, beta=3.0, n=9)
        pm.HyperGeometric("k_hg", N=20, k=7, n=5)
        pm.DiscreteUniform("k_du", lower=-3.5, upper=2.7)
        pm.DiscreteWeibull("k_dw", q=0.5, beta=1.3)
        pm.DiscreteWeibull("k_dw2", q=0.01, beta=1.3)
        pm.Categorical("k_cat", p=[0.1, 0.6, 0.3])
        pm.OrderedLogistic("k_ol", eta=0.3, cutpoints=[-1.0, 0.5, 2.0])
        pm.OrderedProbit("k_op", eta=mu, cutpoints=[-1.0, 0.5, 2.0])
        pm.DiracDelta("k_dd", 2)
        pm.DiracDelta("k_ddf", 2.5)
    return model


def test_model_free_discrete():
    jm, pmm = _model_free(jaxmc), _model_free(pymc)
    jp, pp = jm.initial_point(), pmm.initial_point()
    assert list(jp) == list(pp)
    assert list(jm.named_vars) == list(pmm.named_vars)
    for k in pp:
        np.testing.assert_array_equal(np.asarray(jp[k]), np.asarray(pp[k]), err_msg=k)
        assert np.shape(jp[k]) == np.shape(pp[k])
    jf, pf = jm.compile_logp(), pmm.compile_logp()
    support = {"k_bern": (0, 1), "k_cat": (0, 2), "k_ol": (0, 3), "k_op": (0, 3), "k_hg": (0, 5),
               "k_du": (-4, 2), "k_geom": (1, 99), "k_binom": (0, 10), "k_binom_l": (0, 7), "k_bb": (0, 9)}
    rng = np.random.default_rng(3)
    for _ in range(6):
        point = {}
        for k, v in pp.items():
            v = np.asarray(v)
            if k.startswith("k_dd"):
                point[k] = v
            elif v.dtype.kind == "f":
                point[k] = v + rng.normal(size=v.shape)
            else:
                lo, hi = support.get(k, (0, 99))
                point[k] = np.clip(v + rng.integers(-2, 3, size=v.shape), lo, hi).astype(v.dtype)
        a, b = jf(point), pf(point)
        assert np.isfinite(b)
        _close(a, b, what=str(point))
    _close(jm["k_ol_probs"].eval(), np.diff(np.r_[0.0, sps.expit(np.array([-1.0, 0.5, 2.0]) - 0.3), 1.0]))


# ------------------------------------------------------------------------------------------ 4. draws
def _moments(fam, kw):
    """Analytic (mean, variance, 4th central moment) for one parameter set (families scipy has)."""
    if fam == "DiracDelta":
        return float(kw["c"]), 0.0, 0.0
    frozen = {
        "Bernoulli": lambda: st.bernoulli(sps.expit(kw["logit_p"]) if "logit_p" in kw else kw["p"]),
        "Binomial": lambda: st.binom(kw["n"], kw["p"]),
        "Poisson": lambda: st.poisson(kw["mu"]),
        "NegativeBinomial": lambda: st.nbinom(kw["alpha"], kw["alpha"] / (kw["mu"] + kw["alpha"])) if "mu" in kw
        else st.nbinom(kw["n"], kw["p"]),
        "Geometric": lambda: st.geom(kw["p"]),
        "BetaBinomial": lambda: st.betabinom(kw["n"], kw["alpha"], kw["beta"]),
        "HyperGeometric": lambda: st.hypergeom(kw["N"], kw["k"], kw["n"]),
        "DiscreteUniform": lambda: st.randint(kw["lower"], kw["upper"] + 1),
    }[fam]()
    m, var, _, kurt = (float(x) for x in frozen.stats(moments="mvsk"))
    return m, var, ((kurt + 3.0) * var**2 if var > 0 else 0.0)


DRAW_CASES = [
    ("Bernoulli", dict(p=np.array([0.1, 0.5, 0.93]))),
    ("Bernoulli", dict(logit_p=np.array([-2.0, 0.3]))),
    ("Binomial", dict(n=np.array([1, 10, 40]), p=np.array([0.3, 0.5, 0.9]))),
    ("Poisson", dict(mu=np.array([0.3, 4.0, 60.0]))),
    ("NegativeBinomial", dict(mu=np.array([0.5, 5.0, 30.0]), alpha=np.array([0.5, 3.0, 20.0]))),
    ("NegativeBinomial", dict(n=np.array([2.0, 7.5]), p=np.array([0.3, 0.8]))),
    ("Geometric", dict(p=np.array([0.05, 0.4, 0.9]))),
    ("BetaBinomial", dict(alpha=np.array([0.5, 2.0, 10.0]), beta=np.array([0.7, 5.0, 1.0]), n=np.array([5, 20, 30]))),
    ("HyperGeometric", dict(N=np.array([20, 50, 10]), k=np.array([7, 10, 10]), n=np.array([5, 30, 4]))),
    ("DiscreteUniform", dict(lower=np.array([-3, 0, 10]), upper=np.array([2, 0, 30]))),
    ("DiscreteWeibull", dict(q=np.array([0.3, 0.8, 0.95]), beta=np.array([0.8, 1.5, 2.0]))),
    ("Categorical", dict(p=np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]))),
    ("Categorical", dict(logit_p=np.array([0.3, -1.0, 2.0, 0.0]))),
    ("OrderedLogistic", dict(eta=np.array([-1.0, 0.5]), cutpoints=np.array([-1.0, 0.0, 1.5]))),
    ("OrderedProbit", dict(eta=np.array([-1.0, 0.5]), cutpoints=np.array([-1.0, 0.0, 1.5]), sigma=0.7)),
    ("DiracDelta", dict(c=np.array([3, -1]))),
]


def test_draw_moments():
    """Mean and variance of 20000 seeded draws of every family within 5 standard errors (one joint draw: one
    compile)."""
    n_draws = 20000
    rvs = [getattr(jaxmc, fam).dist(**kw) for fam, kw in DRAW_CASES]
    all_draws = jaxmc.draw(rvs, draws=n_draws, random_seed=100)
    for (fam, kw), rv, draws in zip(DRAW_CASES, rvs, all_draws):
        draws = np.asarray(draws)
        assert draws.shape == (n_draws, *rv.shape) and draws.dtype.kind == "i", fam
        core = {k: int(fam == "Categorical" or k == "cutpoints") for k in kw}
        flat = {k: np.broadcast_to(v, (*rv.shape, *np.shape(v)[np.ndim(v) - core[k]:])) for k, v in kw.items()}
        if fam in ("Categorical", "OrderedLogistic", "OrderedProbit", "DiscreteWeibull"):
            # moments from the pmf over 0..1999 (sums to one: checked in test_analytic_no_scipy)
            ks = np.arange(2000).reshape(-1, *[1] * len(rv.shape))
            pmf = np.exp(_lp(rv, ks))
            m = np.sum(ks * pmf, axis=0)
            var = np.sum((ks - m) ** 2 * pmf, axis=0)
            mu4 = np.sum((ks - m) ** 4 * pmf, axis=0)
            table = {j: (m[j], var[j], mu4[j]) for j in np.ndindex(rv.shape)}
        else:
            table = {j: _moments(fam, {k: v[j] for k, v in flat.items()}) for j in np.ndindex(rv.shape)}
        for j, (m, var, mu4) in table.items():
            d = draws[(slice(None), *j)]
            se_m = np.sqrt(var / n_draws)
            se_v = np.sqrt(max(mu4 - var**2, 0.0) / n_draws)
            assert abs(d.mean() - m) <= 5 * se_m + 1e-12, (fam, kw, j, d.mean(), m)
            assert abs(d.var() - var) <= 5 * se_v + (5 * se_m) ** 2 + 1e-12, (fam, kw, j, d.var(), var)
        assert np.all(np.isfinite(_lp(rv, draws[:500]))), fam  # draws are in the support


def test_draw_same_seed_reproducible_and_size():
    rv = jaxmc.Bernoulli.dist(0.3, size=(2, 3))
    a = jaxmc.draw(rv, draws=5, random_seed=1)
    b = jaxmc.draw(rv, draws=5, random_seed=1)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (5, 2, 3)
    assert jaxmc.draw(jaxmc.Categorical.dist(p=[0.2, 0.8], shape=(4,)), draws=3, random_seed=2).shape == (3, 4)


# ------------------------------------------------------------------------------------------ 5. bad data
@pytest.mark.parametrize("build,match", [
    (lambda pm: pm.Poisson("y", mu=pm.HalfNormal("m", 1.0), observed=np.array([1, -1, 2])), "outside the support"),
    (lambda pm: pm.Poisson("y", mu=3.0, observed=np.array([1.0, 0.5])), "integers"),
    (lambda pm: pm.Bernoulli("y", p=pm.Uniform("p", 0, 1), observed=np.array([0, 1, 2])), "outside the support"),
    (lambda pm: pm.Binomial("y", n=5, p=0.3, observed=np.array([0, 6])), "outside the support"),
    (lambda pm: pm.Binomial("y", n=5, p=pm.Uniform("p", 0, 1), observed=np.array([-1, 3])), "outside the support"),
    (lambda pm: pm.Categorical("y", p=[0.2, 0.3, 0.5], observed=np.array([0, 3])), "outside the support"),
    (lambda pm: pm.Geometric("y", p=0.4, observed=np.array([0, 3])), "outside the support"),
    (lambda pm: pm.DiscreteUniform("y", -1, 1, observed=np.array([2])), "outside the support"),
    (lambda pm: pm.HyperGeometric("y", 10, 3, 4, observed=np.array([4])), "outside the support"),
    (lambda pm: pm.OrderedLogistic("y", 0.0, [-1.0, 1.0], observed=np.array([3])), "outside the support"),
    (lambda pm: pm.NegativeBinomial("y", mu=pm.HalfNormal("m", 1.0), alpha=2.0, observed=np.array([-2])),
     "outside the support"),
])
def test_bad_observed_raises(build, match):
    with jaxmc.Model():
        with pytest.raises(ValueError, match=match) as err:
            build(jaxmc)
    assert "'y'" in str(err.value)


def test_bound_from_model_variable_checked_at_run_time():
    with jaxmc.Model() as m:
        n = jaxmc.Data("n", np.array([3, 4]))
        jaxmc.Binomial("y", n=n, p=jaxmc.Uniform("p", 0, 1), observed=np.array([2, 5]))
    assert np.isneginf(m.compile_logp()(m.initial_point()))


# ------------------------------------------------------------------------------------------ gradients / jit
# (the family methods are what compiled models call, with traced parameters)
def test_gradients_of_logcdf_in_shape_parameters():
    """d logcdf / d parameter against central differences, for every continuous parameter that enters a CDF
    through the incomplete Beta/Gamma functions or a log-space sum (one compile for all)."""
    v = jnp.array([0.0, 3.0, 7.0, 15.0])
    nb = jaxmc.NegativeBinomial.dist(mu=1.0, alpha=1.0).owner  # stores (mu, alpha)
    nbp = jaxmc.NegativeBinomial.dist(n=1.0, p=0.5).owner
    bb = jaxmc.BetaBinomial.dist(1.0, 1.0, 20).owner
    binom = jaxmc.Binomial.dist(20, 0.5).owner
    binl = jaxmc.Binomial.dist(20, logit_p=0.0).owner
    pois = jaxmc.Poisson.dist(1.0).owner
    dw = jaxmc.DiscreteWeibull.dist(0.5, 1.0).owner

    def total(x):  # one call per family, parameters vectorized (one loop instance each)
        lc = [
            nb.checked_logcdf(v[:, None], jnp.array([4.0, 4.0, 4.0, x[3]]), jnp.r_[x[:3], 2.5]),
            nbp.checked_logcdf(v, x[4], 0.3),
            bb.checked_logcdf(v[:, None], 20, jnp.r_[x[5], 1.7], jnp.r_[3.2, x[6]]),
            binom.checked_logcdf(v, 20, x[7]),
            binl.checked_logcdf(v, 20, x[8]),
            pois.checked_logcdf(v, x[9]),
            dw.checked_logcdf(v[:, None], jnp.r_[x[10], 0.6], jnp.r_[1.3, x[11]]),
        ]
        return sum(jnp.sum(t) for t in lc)

    x0 = np.array([0.7, 2.0, 15.0, 3.0, 2.2, 1.7, 3.2, 0.3, -0.4, 5.0, 0.6, 1.3])
    vg = jax.jit(jax.value_and_grad(total))
    grad = np.asarray(vg(jnp.asarray(x0))[1])
    h = 1e-6
    fd = [(float(vg(x0 + h * e)[0]) - float(vg(x0 - h * e)[0])) / (2 * h) for e in np.eye(len(x0))]
    _close(grad, fd, rtol=1e-5)


def test_betainc_derivatives():
    from jaxmc.distributions.discrete.cdf import betainc

    rng = np.random.default_rng(11)
    a, b, x = rng.uniform(0.3, 25, 30), rng.uniform(0.3, 25, 30), rng.uniform(0.02, 0.98, 30)
    val, (ga, gb, gx) = jax.jit(jax.value_and_grad(lambda a, b, x: jnp.sum(betainc(a, b, x)),
                                                   argnums=(0, 1, 2)))(a, b, x)
    _close(val, np.sum(sps.betainc(a, b, x)), rtol=1e-10)
    h = 1e-5
    _close(ga, (sps.betainc(a + h, b, x) - sps.betainc(a - h, b, x)) / (2 * h), rtol=1e-4, atol=1e-8)
    _close(gb, (sps.betainc(a, b + h, x) - sps.betainc(a, b - h, x)) / (2 * h), rtol=1e-4, atol=1e-8)
    _close(gx, np.exp((a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - sps.betaln(a, b)), rtol=1e-9)


def test_logp_jit_vmap_grad():
    v = jnp.array([0, 2, 5])
    d = {name: getattr(jaxmc, name) for name in ("Binomial", "Poisson", "NegativeBinomial", "BetaBinomial",
                                                  "OrderedLogistic", "OrderedProbit", "Categorical")}
    binom = d["Binomial"].dist(10, 0.5).owner
    pois = d["Poisson"].dist(1.0).owner
    nb = d["NegativeBinomial"].dist(mu=1.0, alpha=1.0).owner
    bb = d["BetaBinomial"].dist(1.0, 1.0, 6).owner
    ol = d["OrderedLogistic"].dist(0.0, [-1.0, 1.0]).owner
    op = d["OrderedProbit"].dist(0.0, [-1.0, 1.0]).owner
    cat = d["Categorical"].dist(logit_p=[0.0, 0.0]).owner
    cut = jnp.array([-1.0, 1.0])

    def total(theta):
        p = jax.nn.sigmoid(theta[0])
        mu = jnp.exp(theta[1])
        return (jnp.sum(binom.checked_logp(v, 10, p)) + jnp.sum(pois.checked_logp(v, mu))
                + jnp.sum(nb.checked_logp(v, mu, p + 1.0)) + jnp.sum(bb.checked_logp(v, 6, mu, p + 0.5))
                + jnp.sum(ol.checked_logp(jnp.array([0, 2]), theta[0], cut))
                + jnp.sum(op.checked_logp(jnp.array([0, 2]), theta[1], cut, 1.0))
                + jnp.sum(cat.checked_logp(jnp.array([0, 1]), theta)))

    thetas = jnp.array([[0.1, 0.5], [-1.0, 1.2], [2.0, -0.3]])
    vg = jax.jit(jax.vmap(jax.value_and_grad(total)))
    vals, grads = vg(thetas)
    assert np.all(np.isfinite(vals)) and np.all(np.isfinite(grads))
    h = 1e-6
    for i in range(2):
        fd = (np.asarray(vg(thetas.at[:, i].add(h))[0]) - np.asarray(vg(thetas.at[:, i].add(-h))[0])) / (2 * h)
        _close(grads[:, i], fd, rtol=1e-5)

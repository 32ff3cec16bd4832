"""Numerically stable rewrites (graph/rewrites.py): every pattern at extreme arguments against mpmath with finite
gradients, the p= forms of Bernoulli/Binomial/Categorical against PyMC, and a logistic regression with p=invlogit."""

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np
import pytest

import jaxmc as pm
from jaxmc.graph import apply, evaluate, rewrites
from tests.helpers import PYMC6

mp = pytest.importorskip("mpmath")
DPS = 500  # log(1 - exp(-1000)) needs 435 digits


@pytest.fixture(autouse=True)
def _precision():
    """mpmath's precision is global, and other test modules set their own: set it for each test here."""
    with mp.workdps(DPS):
        yield

EXTREME = np.array([-1000.0, -300.0, -40.0, -5.0, -1e-8, 0.0, 1e-8, 5.0, 40.0, 300.0, 1000.0])
NEGATIVE = np.array([-1000.0, -300.0, -40.0, -5.0, -0.5, -1e-8, -1e-20])


def _log_sigmoid(v):
    return -mp.log1p(mp.exp(-v))


def _log1m_sigmoid(v):
    return -mp.log1p(mp.exp(v))


def _softplus(v):
    return mp.log1p(mp.exp(v))


def _log1mexp(v):
    return mp.log(-mp.expm1(v))


m = pm.math
# (naive spelling, exact log density as a function of one mpmath number, arguments)
CASES = {
    "log(invlogit(x))": (lambda x: m.log(m.invlogit(x)), _log_sigmoid, EXTREME),
    "np.log(sigmoid(x))": (lambda x: np.log(m.sigmoid(x)), _log_sigmoid, EXTREME),
    "log(expit(x))": (lambda x: m.log(m.expit(x)), _log_sigmoid, EXTREME),
    "log(jax.nn.sigmoid(x))": (lambda x: m.log(apply(jax.nn.sigmoid, x)), _log_sigmoid, EXTREME),
    "log(jsp.expit(x))": (lambda x: m.log(apply(jsp.expit, x)), _log_sigmoid, EXTREME),
    "log(1 - invlogit(x))": (lambda x: m.log(1 - m.invlogit(x)), _log1m_sigmoid, EXTREME),
    "np.log(1.0 - sigmoid(x))": (lambda x: np.log(1.0 - m.sigmoid(x)), _log1m_sigmoid, EXTREME),
    "log1p(-invlogit(x))": (lambda x: m.log1p(-m.invlogit(x)), _log1m_sigmoid, EXTREME),
    "log1p(-(1 - invlogit(x)))": (lambda x: m.log1p(-(1 - m.invlogit(x))), _log_sigmoid, EXTREME),
    "log1p(exp(x))": (lambda x: m.log1p(m.exp(x)), _softplus, EXTREME),
    "log(1 + exp(x))": (lambda x: m.log(1 + m.exp(x)), _softplus, EXTREME),
    "np.log(np.exp(x) + 1)": (lambda x: np.log(np.exp(x) + 1), _softplus, EXTREME),
    "log(exp(x))": (lambda x: m.log(m.exp(x)), lambda v: v, EXTREME),
    "log(1 - exp(x))": (lambda x: m.log(1 - m.exp(x)), _log1mexp, NEGATIVE),
    "log1p(-exp(x))": (lambda x: m.log1p(-m.exp(x)), _log1mexp, NEGATIVE),
    "log(-expm1(x))": (lambda x: m.log(-m.expm1(x)), _log1mexp, NEGATIVE),
    "log(exp(x) + exp(-x / 2))": (lambda x: m.log(m.exp(x) + m.exp(-x / 2)),
                                  lambda v: mp.log(mp.exp(v) + mp.exp(-v / 2)), EXTREME),
    "log(exp(x) - exp(x - 3))": (lambda x: m.log(m.exp(x) - m.exp(x - 3)),
                                 lambda v: mp.log(mp.exp(v) - mp.exp(v - 3)), EXTREME),
    "log(erfc(x))": (lambda x: m.log(m.erfc(x)), lambda v: mp.log(mp.erfc(v)), EXTREME),
    "log(1 + x)": (lambda x: m.log(1 + x), mp.log1p, np.array([-0.5, 1e-30, 1e-10, 0.5, 1e3])),
    "log(1 - x)": (lambda x: m.log(1 - x), lambda v: mp.log1p(-v), np.array([-1e3, -0.5, 1e-30, 1e-10, 0.5])),
}


def _values_and_grads(build, vals):
    x = pm.Normal.dist(0.0, 1.0, shape=vals.shape)
    out = build(x)

    def f(v):
        return evaluate([out], {x: v})[0]

    return np.asarray(f(jnp.asarray(vals))), np.asarray(jax.grad(lambda v: jnp.sum(f(v)))(jnp.asarray(vals)))


def _exact(ref, vals):
    value = np.array([float(ref(mp.mpf(v))) for v in vals])
    grad = np.array([float(mp.diff(ref, mp.mpf(v), h=mp.mpf(abs(v) or 1) * mp.mpf("1e-25"))) for v in vals])
    return value, grad


@pytest.mark.parametrize("case", list(CASES))
def test_rewrite_exact_at_extreme_arguments(case):
    build, ref, vals = CASES[case]
    value, grad = _values_and_grads(build, vals)
    exact_value, exact_grad = _exact(ref, vals)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad)), (value, grad)
    np.testing.assert_allclose(value, exact_value, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(grad, exact_grad, rtol=1e-9, atol=1e-300)


X2 = np.array([[-1000.0, 0.0, 5.0, 1000.0], [-3.0, 2.0, 700.0, -700.0], [1.0, 1.0, 1.0, 1.0]])


def _exact_lse(row):
    return mp.log(sum(mp.exp(mp.mpf(v)) for v in row))


def _exact_log_softmax(rows):
    return np.array([[float(mp.mpf(v) - _exact_lse(row)) for v in row] for row in rows])


@pytest.mark.parametrize("build", [
    lambda x: m.log(m.softmax(x, axis=-1)),
    lambda x: np.log(apply(jax.nn.softmax, x)),  # jax's default axis=-1
    lambda x: m.log(m.exp(x) / m.exp(x).sum(axis=1, keepdims=True)),
    lambda x: np.log(np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)),
], ids=["log(softmax(x, axis=-1))", "np.log(jax.nn.softmax(x))", "log(exp(x) / sum(exp(x), keepdims))",
        "np.log(np.exp(x) / np.sum(np.exp(x), keepdims))"])
def test_log_softmax_rows(build):
    value, grad = _values_and_grads(build, X2)
    np.testing.assert_allclose(value, _exact_log_softmax(X2), rtol=1e-12, atol=1e-14)
    # d/dx_j sum_i log_softmax_i = 1 - k softmax_j
    sm = np.exp(_exact_log_softmax(X2))
    np.testing.assert_allclose(grad, 1 - X2.shape[1] * sm, rtol=1e-9, atol=1e-12)


def test_log_softmax_and_logsumexp_over_all_axes():
    value, grad = _values_and_grads(lambda x: m.log(m.softmax(x)), X2)  # PyMC's default: all axes
    flat = _exact_log_softmax(X2.reshape(1, -1)).reshape(X2.shape)
    np.testing.assert_allclose(value, flat, rtol=1e-12, atol=1e-14)
    assert np.all(np.isfinite(grad))
    value, grad = _values_and_grads(lambda x: m.log(m.sum(m.exp(x))), X2)
    np.testing.assert_allclose(value, float(_exact_lse(X2.ravel())), rtol=1e-14)
    np.testing.assert_allclose(grad, np.exp(flat), rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("build", [
    lambda x: m.log(m.sum(m.exp(x), axis=1)),
    lambda x: np.log(np.sum(np.exp(x), axis=-1)),
    lambda x: m.log(m.exp(x).sum(axis=1, keepdims=True))[:, 0],
    lambda x: m.log(np.add.reduce(m.exp(x), axis=1)),
], ids=["log(sum(exp(x), axis=1))", "np.log(np.sum(np.exp(x), axis=-1))", "keepdims", "np.add.reduce"])
def test_logsumexp_rows(build):
    value, grad = _values_and_grads(build, X2)
    np.testing.assert_allclose(value, [float(_exact_lse(r)) for r in X2], rtol=1e-14)
    np.testing.assert_allclose(grad, np.exp(_exact_log_softmax(X2)), rtol=1e-9, atol=1e-300)


def test_patterns_that_are_not_rewritten():
    x = pm.Normal.dist(0.0, 1.0, shape=(3, 3))
    # a row sum without keepdims broadcasts along columns: not a softmax, left as written
    e = m.exp(x) / m.sum(m.exp(x), axis=1)
    assert e.apply_parts[0] is jnp.true_divide
    assert m.log(m.softmax(x, axis=0)).apply_parts[0] is jax.nn.log_softmax
    assert m.log(2 - m.invlogit(x)).apply_parts[0] is jnp.log
    assert m.log(np.ones(3) - m.invlogit(pm.Normal.dist(0.0, 1.0))).apply_parts[0] is jnp.log  # shape changes
    assert m.log(m.exp(pm.Poisson.dist(3.0))).apply_parts[0] is jnp.log  # integer x: exp(x) is a float
    assert m.log(x).apply_parts[0] is jnp.log


def test_rewrite_through_deterministic_keeps_it_an_input():
    with pm.Model() as model:
        x = pm.Normal("x", shape=3)
        p = pm.Deterministic("p", m.invlogit(x))
        lp = m.log(p)
        pm.Potential("pot", lp.sum())
    assert p in lp.inputs  # still depends on p in the model graph (its value is not used)
    value = lp.eval({"x": np.array([-1000.0, 0.0, 1000.0])})
    np.testing.assert_allclose(value, [-1000.0, -np.log(2.0), 0.0], atol=1e-300)
    logp = model.compile_logp()
    assert np.isfinite(logp({"x": np.array([-1000.0, 40.0, 1000.0])}))


def test_register_another_spelling():
    def my_sigmoid(x):
        return 1 / (1 + jnp.exp(-x))

    x = pm.Normal.dist(0.0, 1.0)
    assert m.log(apply(my_sigmoid, x)).apply_parts[0] is jnp.log
    rewrites.register(my_sigmoid, "sigmoid")
    try:
        assert m.log(apply(my_sigmoid, x)).apply_parts[0] is jax.nn.log_sigmoid
    finally:
        rewrites._SPELLINGS.pop(my_sigmoid)
    assert rewrites.spelling(np.log) is None and rewrites.spelling(jnp.log) == "log"


# ------------------------------------------------------------------ distributions with p = sigmoid / softmax
def _pymc_logp(build_dist, x_shape, value, xs):
    pymc = pytest.importorskip("pymc")
    pytensor = pytest.importorskip("pytensor")
    pt = pytest.importorskip("pytensor.tensor")
    x = pt.tensor("x", shape=x_shape, dtype="float64")
    f = pytensor.function([x], pymc.logp(build_dist(pymc, x), value))
    return f(xs)


def _jaxmc_logp(build_dist, value, xs):
    x = pm.Normal.dist(0.0, 1.0, shape=xs.shape)
    dist = build_dist(pm, x)
    return np.asarray(evaluate([pm.logp(dist, value)], {x: xs})[0]), dist


SIG = {  # (build, n, sign of the logit)
    "Bernoulli(p=invlogit(x))": (lambda pm_, x: pm_.Bernoulli.dist(p=pm_.math.invlogit(x)), 1, 1.0),
    "Bernoulli(p=1 - sigmoid(x))": (lambda pm_, x: pm_.Bernoulli.dist(p=1 - pm_.math.sigmoid(x)), 1, -1.0),
    "Binomial(n=7, p=invlogit(x))": (lambda pm_, x: pm_.Binomial.dist(n=7, p=pm_.math.invlogit(x)), 7, 1.0),
    "Binomial(n=7, p=1 - invlogit(x))": (lambda pm_, x: pm_.Binomial.dist(n=7, p=1 - pm_.math.invlogit(x)), 7,
                                         -1.0),
}


@pytest.mark.parametrize("case", list(SIG))
def test_sigmoid_p_matches_pymc_and_logit_p(case):
    build, n, sign = SIG[case]
    for k in sorted({0, 1, 3, n} & set(range(n + 1))):
        value = np.full(EXTREME.shape, k)
        got, dist = _jaxmc_logp(build, value, EXTREME)
        assert dist.owner.logit  # the logit_p path
        exact = [float(mp.log(mp.binomial(n, k)) + k * _log_sigmoid(sign * mp.mpf(v))
                       + (n - k) * _log1m_sigmoid(sign * mp.mpf(v))) for v in EXTREME]
        np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-15)
        same = pm.logp(type(dist.owner).dist(logit_p=sign * EXTREME, **({"n": n} if n > 1 else {})), value).eval()
        np.testing.assert_allclose(got, same, rtol=1e-14, atol=1e-300)
        ref = _pymc_logp(build, EXTREME.shape, value, EXTREME)
        # PyMC 5's Binomial (logpow) is -inf where 1 - p rounds to 0; PyMC 6 is finite everywhere
        where = np.isfinite(ref) if not PYMC6 and n > 1 else slice(None)
        np.testing.assert_allclose(got[where], ref[where], rtol=1e-10, atol=1e-12)


def test_categorical_softmax_p_matches_pymc():
    def build(pm_, x):
        return pm_.Categorical.dist(p=pm_.math.softmax(x, axis=-1))

    value = np.array([0, 1, 2])
    got, dist = _jaxmc_logp(build, value, X2)
    assert dist.owner.logit
    assert np.all(np.isfinite(got))
    ref = _pymc_logp(build, X2.shape, value, X2)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got, _exact_log_softmax(X2)[np.arange(3), value], rtol=1e-12, atol=1e-14)
    # softmax over another axis is a different distribution: not turned into logit_p
    assert not pm.Categorical.dist(p=m.softmax(pm.Normal.dist(0.0, 1.0, shape=(3, 4)), axis=0)).owner.logit


def test_bernoulli_with_deterministic_p_in_a_model():
    with pm.Model() as model:
        x = pm.Normal("x", shape=3)
        p = pm.Deterministic("p", m.invlogit(x))
        y = pm.Bernoulli("y", p=p, observed=[0, 1, 0])
    assert y.owner.logit and p in y.owner.params[0].inputs  # the model graph still has p -> y
    point = {"x": np.array([1000.0, -1000.0, 40.0])}
    prior = -3 * np.log(2 * np.pi) / 2 - (point["x"] ** 2).sum() / 2
    np.testing.assert_allclose(model.compile_logp()(point), prior - 2040.0, rtol=1e-14)
    assert np.all(np.isfinite(model.compile_dlogp()(point)))


def _logistic_data(n=200, seed=1):
    """Two predictors with large coefficients: |mu| > 40 for some rows at most posterior draws."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    mu = 1.0 + X @ np.array([14.0, -8.0])
    return X, rng.binomial(1, 1 / (1 + np.exp(-mu)))


def _logistic_model(pm_, X, y):
    with pm_.Model() as model:
        a = pm_.Normal("a", 0, 10)
        b = pm_.Normal("b", 0, 10, shape=2)
        pm_.Bernoulli("y", p=pm_.math.invlogit(a + pm_.math.dot(X, b)), observed=y)
    return model


def test_logistic_regression_gradient_finite_at_large_mu():
    X, y = _logistic_data()
    model = _logistic_model(pm, X, y)
    point = {"a": np.array(1.0), "b": np.array([14.0, -8.0])}
    assert np.max(np.abs(1.0 + X @ point["b"])) > 40
    assert np.all(np.isfinite(model.compile_dlogp()(point)))
    mu = [mp.mpf(v) for v in 1.0 + X @ point["b"]]
    exact = sum(_log_sigmoid(v) if k else _log1m_sigmoid(v) for v, k in zip(mu, y))
    exact += sum(-mp.log(10) - mp.log(2 * mp.pi) / 2 - (mp.mpf(v) / 10) ** 2 / 2 for v in (1.0, 14.0, -8.0))
    np.testing.assert_allclose(model.compile_logp()(point), float(exact), rtol=1e-14)
    pymc = pytest.importorskip("pymc")
    ref = _logistic_model(pymc, X, y).compile_logp()(point)
    np.testing.assert_allclose(model.compile_logp()(point), ref, rtol=1e-8)  # PyMC's softplus is approximate


def test_logistic_regression_with_invlogit_samples_without_divergences():
    X, y = _logistic_data()
    model = _logistic_model(pm, X, y)
    with model:
        idata = pm.sample(500, tune=500, chains=2, random_seed=3, progressbar=False)
    assert int(idata.sample_stats["diverging"].sum()) == 0
    a = idata.posterior["a"].values.reshape(-1)
    b = idata.posterior["b"].values.reshape(-1, 2)
    assert np.mean(np.abs(a[:, None] + b @ X.T).max(axis=1) > 40) > 0.5  # the regime where invlogit rounds to 1


@pytest.mark.slow
def test_logistic_regression_divergences_with_pymc_and_without_rewrites(monkeypatch):
    """PyMC: 0 divergences; jaxmc with the rewrites switched off: many (the defect this module fixes)."""
    pymc = pytest.importorskip("pymc")
    X, y = _logistic_data()
    with _logistic_model(pymc, X, y):
        ref = pymc.sample(1000, tune=1000, chains=2, random_seed=3, progressbar=False, cores=1)
    assert int(ref.sample_stats["diverging"].sum()) == 0
    import jaxmc.distributions.discrete.binomial as binomial

    monkeypatch.setattr(binomial, "logit_of_sigmoid", lambda p, build: None)
    monkeypatch.setattr(rewrites, "_RULES", {})
    with _logistic_model(pm, X, y):
        idata = pm.sample(1000, tune=1000, chains=2, random_seed=3, progressbar=False)
    assert int(idata.sample_stats["diverging"].sum()) > 50

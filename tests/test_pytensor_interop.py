"""PyTensor expressions on jaxmc variables (jaxmc/pytensor_interop.py): the same model written with
`pytensor.tensor` has the same log density and gradient in jaxmc as in PyMC."""

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import jaxmc

pytensor = pytest.importorskip("pytensor")
pymc = pytest.importorskip("pymc")
import pytensor.tensor as pt  # noqa: E402
from pytensor.gradient import disconnected_grad  # noqa: E402


def compare(build, n_points=3, rtol=1e-6, seed=0):
    """Build the model with jaxmc and PyMC; compare value variables, log density and its gradient at random
    unconstrained points (by value-variable name)."""
    jm, pm_model = build(jaxmc), build(pymc)
    jpoint, ppoint = jm.initial_point(), pm_model.initial_point()
    assert list(jpoint) == list(ppoint)
    jf, pf = jm.compile_logp(), pm_model.compile_logp()
    jd, pd = jm.compile_dlogp(), pm_model.compile_dlogp()
    rng = np.random.default_rng(seed)
    for _ in range(n_points):
        point = {k: np.asarray(v) + 0.3 * rng.normal(size=np.shape(v)) for k, v in ppoint.items()}
        np.testing.assert_allclose(float(jf(point)), float(pf(point)), rtol=rtol, err_msg=str(point))
        np.testing.assert_allclose(np.asarray(jd(point)), np.asarray(pd(point)), rtol=1e-5, atol=1e-8,
                                   err_msg=str(point))
    return jm


def scan(fn, **kwargs):
    """pytensor.scan's outputs (PyTensor 2 also returns updates unless told not to)."""
    return pytensor.scan(fn, return_updates=False, **kwargs)


RNG = np.random.default_rng(42)
N_TRIALS = np.array([20, 25, 18, 30, 22])
Y_RATS = np.array([2, 4, 1, 7, 3])


def rat_tumor(pm):
    with pm.Model() as model:
        ab = pm.HalfNormal("ab", 10.0, shape=2)
        pm.Potential("p(a, b)", pt.log(pt.pow(pt.sum(ab), -5 / 2)))
        pm.Deterministic("X", pt.log(ab[0] / ab[1]))
        theta = pm.Beta("theta", alpha=ab[0], beta=ab[1], shape=5)
        pm.Binomial("y", n=N_TRIALS, p=theta, observed=Y_RATS)
    return model


def test_potential_with_log_pow_sum():
    m = compare(rat_tumor)
    assert m["X"].shape == ()


def test_stack_as_ar_coefficients():
    data = np.cumsum(RNG.normal(size=30)) * 0.1

    def build(pm):
        with pm.Model() as model:
            rho0, rho1, rho2 = (pm.Normal(f"rho{i}", 0.0, 0.5) for i in range(3))
            sigma = pm.HalfNormal("sigma", 1.0)
            pm.AR("ar", rho=pt.stack([rho0, rho1, rho2]), sigma=sigma, init_dist=pm.Normal.dist(0.0, 10.0),
                  observed=data)
        return model

    compare(build)


def test_dot_with_transpose():
    X = RNG.normal(size=(12, 3))
    y = X @ np.array([1.0, -0.5, 2.0]) + RNG.normal(size=12) * 0.3

    def build(pm):
        with pm.Model() as model:
            beta = pm.Normal("beta", 0.0, 1.0, shape=(1, 3))
            sigma = pm.HalfNormal("sigma", 1.0)
            mu = pt.dot(X, beta.T)
            pm.Normal("y", mu=mu.flatten(), sigma=sigma, observed=y)
        return model

    compare(build)


def test_indexing_by_shared_variable():
    idx = np.array([0, 1, 2, 1, 0, 2, 2, 1])
    y = RNG.normal(size=8)

    def build(pm):
        with pm.Model() as model:
            alpha = pm.Normal("alpha", 0.0, 1.0, shape=3)
            sigma = pm.Exponential("sigma", 1.0)
            pm.Normal("y", mu=alpha[pytensor.shared(idx)], sigma=sigma, observed=y)
        return model

    compare(build)


def gaussian_random_walk(pm):
    data = np.cumsum(np.random.default_rng(1).normal(size=15)) * 0.5
    with pm.Model() as model:
        sigma = pm.HalfNormal("sigma", 1.0)
        x0 = pm.Normal("x0", 0.0, 1.0)
        eps = pm.Normal("eps", 0.0, 1.0, shape=15)
        walk = scan(lambda e, prev, s: prev + s * e, sequences=[eps], outputs_info=[x0], non_sequences=[sigma])
        pm.Normal("y", mu=walk, sigma=0.5, observed=data)
    return model


def test_scan_random_walk():
    compare(gaussian_random_walk)


def test_disconnected_grad_gives_pymc_gradient():
    def build(pm):
        with pm.Model() as model:
            mu = pm.Normal("mu", 0.0, 1.0)
            sigma = pm.HalfNormal("sigma", 1.0)
            pm.Potential("pen", -0.5 * disconnected_grad(sigma) * mu**2 + pt.log(disconnected_grad(mu) ** 2 + 1))
        return model

    compare(build)


def test_linalg_cholesky_and_solve():
    xs = np.linspace(0.0, 1.0, 6)
    dist2 = (xs[:, None] - xs[None, :]) ** 2
    y = np.sin(6 * xs)

    def build(pm):
        with pm.Model() as model:
            ls = pm.Gamma("ls", 2.0, 4.0)
            eta = pm.HalfNormal("eta", 1.0)
            K = eta**2 * pt.exp(-0.5 * dist2 / ls**2) + 1e-4 * pt.eye(6)
            pm.MvNormal("y", mu=np.zeros(6), chol=pt.linalg.cholesky(K), observed=y)
            pm.Potential("quad", -0.01 * pt.dot(y, pt.linalg.solve(K, y)))
        return model

    compare(build)


def test_special_functions():
    y = np.array([0, 2, 1, 2, 2, 0])

    def build(pm):
        with pm.Model() as model:
            eta = pm.Normal("eta", 0.0, 1.0, shape=3)
            a = pm.Gamma("a", 2.0, 1.0)
            pm.Categorical("y", p=pt.special.softmax(eta, axis=-1), observed=y)
            pm.Potential("lse", -pt.logsumexp(eta) + pt.gammaln(a) + pt.special.log_softmax(eta, axis=-1)[0])
        return model

    compare(build)


def test_mixed_jaxmc_and_pytensor_objects():
    y = RNG.normal(size=5)

    def build(pm):
        with pm.Model() as model:
            a = pm.Normal("a", 0.0, 1.0)
            b = pm.Normal("b", 0.0, 1.0)
            c = pm.HalfNormal("c", 1.0)
            e = pt.exp(b)
            mu = a + e  # model variable + PyTensor expression
            s = pm.math.exp(pt.log(c)) * 0.5 + pt.log1p(c) * a**2  # pm.math of an expression; expression * var
            pm.Deterministic("mu", mu)
            pm.Deterministic("ab", pt.as_tensor_variable([a, b]) * 2)  # a list of model variables
            pm.Normal("y", mu=mu, sigma=s + 0.1, observed=y)
        return model

    compare(build)


def test_sigmoid_and_softmax_become_jaxmc_math():
    to_node = jaxmc.pytensor_interop.to_node
    with jaxmc.Model():
        x = jaxmc.Normal("x", 0.0, 1.0, shape=3)
    sig, sm = to_node(pt.sigmoid(x)), to_node(pt.special.softmax(x, axis=-1))
    assert sig.inputs == (x,) and sig.apply_parts[0] is jaxmc.math.invlogit(x).apply_parts[0]
    assert sm.inputs == (x,) and sm.apply_parts[0] is jaxmc.math.softmax(x).apply_parts[0]
    v = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(sm.eval({"x": v}), np.exp(v) / np.exp(v).sum())
    # stable at extreme arguments: jaxmc's rewrites (pm.math.log) or PyTensor's (pt.log) see the sigmoid
    far = np.array([-800.0, 0.0, 800.0])
    expected = np.array([-800.0, np.log(0.5), 0.0])
    np.testing.assert_allclose(jaxmc.math.log(pt.sigmoid(x)).eval({"x": far}), expected, atol=1e-12)
    np.testing.assert_allclose(to_node(pt.log(pt.sigmoid(x))).eval({"x": far}), expected, atol=1e-12)


def test_conversion_is_memoised_and_constant_graphs_are_arrays():
    with jaxmc.Model():
        x = jaxmc.Normal("x")
    e = pt.exp(x)
    assert jaxmc.pytensor_interop.to_node(e) is jaxmc.pytensor_interop.to_node(e)
    assert pt.as_tensor_variable(x) is pt.as_tensor_variable(x)
    assert jaxmc.pytensor_interop.to_node(pt.as_tensor_variable(x)) is x
    shared = pytensor.shared(np.arange(3.0))
    value = jaxmc.pytensor_interop.to_node(pt.sum(shared) + 1)
    assert isinstance(value, np.ndarray) and float(value) == 4.0


def test_draw_and_eval_of_a_converted_expression():
    with jaxmc.Model():
        a = jaxmc.Normal("a", 0.0, 1.0, shape=2)
    x = jaxmc.math.as_tensor(pt.exp(a))
    np.testing.assert_allclose(x.eval({"a": [0.0, 1.0]}), [1.0, np.e])
    draws = jaxmc.draw(x, draws=200, random_seed=1)
    assert draws.shape == (200, 2) and np.all(draws > 0)
    np.testing.assert_allclose(np.median(np.log(draws)), 0.0, atol=0.2)
    direct = jaxmc.draw(pt.exp(a), draws=200, random_seed=1)  # pm.draw takes the PyTensor expression itself
    np.testing.assert_allclose(direct, draws)


def test_bernoulli_and_categorical_with_pytensor_p_are_stable():
    """p=pt.sigmoid(mu) / pt.special.softmax(z) reach the logit forms: finite where p rounds to 0 or 1."""
    with jaxmc.Model() as model:
        mu = jaxmc.Normal("mu", 0.0, 100.0, shape=2)
        jaxmc.Bernoulli("y", p=pt.sigmoid(mu), observed=[0, 1])
        z = jaxmc.Normal("z", 0.0, 100.0, shape=3)
        jaxmc.Categorical("c", p=pt.special.softmax(z, axis=-1), observed=2)
    terms = model.compile_fn(model.logp(sum=False))({"mu": np.array([800.0, -800.0]),
                                                     "z": np.array([900.0, 0.0, -100.0])})
    y_term, c_term = (np.asarray(t) for t in terms[2:])  # order: mu, z, then the observed y, c
    np.testing.assert_allclose(y_term, [-800.0, -800.0])
    np.testing.assert_allclose(c_term, -1000.0)


def test_observed_pytensor_expression_of_data():
    y = RNG.normal(size=5)
    with jaxmc.Model() as model:
        yd = jaxmc.Data("y", y)
        mu = jaxmc.Normal("mu")
        jaxmc.Normal("obs", mu, 1.0, observed=pt.exp(yd))
    np.testing.assert_allclose(float(model.compile_logp()({"mu": np.array(0.0)})),
                               -0.5 * np.sum(np.exp(y) ** 2) - 5 * 0.5 * np.log(2 * np.pi) - 0.5 * np.log(2 * np.pi),
                               rtol=1e-10)


def test_data_container_follows_set_data():
    X = RNG.normal(size=(10, 2))
    with jaxmc.Model() as model:
        Xd = jaxmc.Data("X", X)
        beta = jaxmc.Normal("beta", 0.0, 1.0, shape=2)
        mu = jaxmc.Deterministic("mu", pt.mean(pt.dot(Xd, beta)) + pt.dot(Xd, beta) * 0)
    b = np.array([0.5, -1.0])
    np.testing.assert_allclose(mu.eval({"beta": b}), np.full(10, (X @ b).mean()))
    jaxmc.set_data({"X": X[:4]}, model=model)
    np.testing.assert_allclose(mu.eval({"beta": b}), np.full(4, (X[:4] @ b).mean()))


def test_free_pytensor_input_is_refused_clearly():
    m = pt.scalar("m")
    with jaxmc.Model():
        with pytest.raises(TypeError, match=r"free input m .*not a jaxmc variable"):
            jaxmc.Normal("x", mu=m + 1, sigma=1.0)


def test_pytensor_random_variable_is_refused_clearly():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        draw = pt.random.normal(0.0, 1.0)
    with jaxmc.Model():
        with pytest.raises(TypeError, match="random"):
            jaxmc.Normal("x", mu=draw, sigma=1.0)


def test_sample_a_model_with_pytensor_expressions():
    model = gaussian_random_walk(jaxmc)
    with model:
        idata = jaxmc.sample(draws=100, tune=100, chains=1, random_seed=1, progressbar=False,
                             compute_convergence_checks=False)
    sigma = np.asarray(idata.posterior["sigma"])
    assert sigma.shape == (1, 100) and np.all(np.isfinite(sigma)) and np.all(sigma > 0)


def _run(code):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=300)


LOGP_CODE = """
    with pm.Model() as m:
        x = pm.HalfNormal("x", 1.0)
        pm.Potential("p", pt.log(x))
    print(round(float(m.compile_logp()({"x_log__": 0.0})), 6))
"""
# HalfNormal(1) at x = 1 (log x = 0): its log density, + log-Jacobian 0 + log(x) 0
HALFNORMAL_AT_ONE = str(round(float(np.log(np.sqrt(2 / np.pi)) - 0.5), 6))


def test_pytensor_imported_before_jaxmc():
    out = _run("import pytensor.tensor as pt\nimport jaxmc as pm\n" + textwrap.dedent(LOGP_CODE))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == HALFNORMAL_AT_ONE


def test_jaxmc_runs_without_pytensor_and_does_not_import_it():
    """With PyTensor unimportable, jaxmc imports and samples; once PyTensor can be imported (after jaxmc),
    pt.* functions accept jaxmc variables."""
    code = """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "pytensor" or name.startswith("pytensor."):
                    raise ImportError("pytensor blocked for this test")
        blocker = Block()
        sys.meta_path.insert(0, blocker)
        import jaxmc as pm
        assert "pytensor" not in sys.modules
        with pm.Model():
            mu = pm.Normal("mu", 0.0, 1.0)
            pm.Normal("y", mu, 1.0, observed=[0.1, -0.3])
            idata = pm.sample(draws=20, tune=20, chains=1, progressbar=False, compute_convergence_checks=False)
        print("pytensor" in sys.modules, idata.posterior["mu"].shape)
        sys.meta_path.remove(blocker)
        import pytensor.tensor as pt
    """
    out = _run(textwrap.dedent(code) + textwrap.dedent(LOGP_CODE))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["False (1, 20)", HALFNORMAL_AT_ONE]

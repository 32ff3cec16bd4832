"""scan (PyTensor-style loops compiled to jax.lax.scan), wrap_jax, and ODEs solved by diffrax."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmc as pm
import jaxmc.ode
from jaxmc.scan import scan
from jaxmc.wrap import wrap_jax


def _flat_logp_and_grad(model):
    cm = model.compiled()
    data = {k: jnp.asarray(v) for k, v in model.data_values().items()}
    return cm, data, jax.jit(jax.value_and_grad(lambda x: cm.logp(x, data)))


# ---------------------------------------------------------------------------------------------- scan
def _ar_loop(y, rho, c):
    out, prev = [], 0.0
    for v in y:
        prev = c + rho * prev + v
        out.append(prev)
    return np.array(out)


def test_scan_matches_python_loop_values_and_gradients():
    rng = np.random.default_rng(0)
    y = rng.normal(size=30)
    with pm.Model() as model:
        rho = pm.Normal("rho", 0, 1)
        c = pm.Normal("c", 0, 1)
        path, updates = scan(lambda y_t, prev, rho: c + rho * prev + y_t, sequences=[y],
                             outputs_info=[np.float64(0.0)], non_sequences=[rho])
        assert updates == {}
        assert path.shape == (30,)
        pm.Potential("p", (path**2).sum())
    np.testing.assert_allclose(path.eval({"rho": 0.7, "c": 0.3}), _ar_loop(y, 0.7, 0.3), rtol=1e-12)

    cm, data, vg = _flat_logp_and_grad(model)
    x = jnp.array([0.6, -0.2])  # (rho, c) in creation order
    _, g = vg(x)

    def loop_logp(x):
        rho, c = x
        prev, total = 0.0, 0.0
        for v in y:
            prev = c + rho * prev + v
            total = total + prev**2
        return total - 0.5 * rho**2 - 0.5 * c**2 - jnp.log(2 * jnp.pi)

    np.testing.assert_allclose(vg(x)[0], loop_logp(x), rtol=1e-10)
    np.testing.assert_allclose(g, jax.grad(loop_logp)(x), rtol=1e-8)


def test_scan_sequences_taps_non_sequences_multiple_outputs():
    x = np.arange(10.0)
    with pm.Model():
        a = pm.Normal("a")
        # two sequences (one with taps -1 and 0), two outputs: one fed back, one not
        def step(x_tm1, x_t, w_t, acc, a):
            new_acc = acc + a * x_t - x_tm1
            return new_acc, new_acc * w_t

        w = np.linspace(0, 1, 9)
        (acc, scaled), _ = scan(step, sequences=[dict(input=x, taps=[-1, 0]), w],
                                outputs_info=[np.float64(1.0), None], non_sequences=[a])
        assert acc.shape == (9,) and scaled.shape == (9,)
        av, sv = acc.eval({"a": 2.0}), scaled.eval({"a": 2.0})
    ref, s = [], 1.0
    for t in range(1, 10):
        s = s + 2.0 * x[t] - x[t - 1]
        ref.append(s)
    np.testing.assert_allclose(av, ref)
    np.testing.assert_allclose(sv, np.array(ref) * w)


def test_scan_output_taps_n_steps_and_return_list():
    fib = scan(lambda f2, f1: f2 + f1, outputs_info=[dict(initial=np.array([0.0, 1.0]), taps=[-2, -1])],
               n_steps=8, return_updates=False)
    np.testing.assert_allclose(fib, [1, 2, 3, 5, 8, 13, 21, 34])
    with pm.Model():
        s = pm.HalfNormal("s")
        out, _ = scan(lambda prev: prev * s, outputs_info=[pm.math.ones(2)], n_steps=4, return_list=True)
        assert isinstance(out, list) and out[0].shape == (4, 2)
        np.testing.assert_allclose(out[0].eval({"s": 2.0}), [[2, 2], [4, 4], [8, 8], [16, 16]])
        single, _ = scan(lambda prev: [prev * s], outputs_info=[pm.math.ones(2)], n_steps=2)
        assert single.shape == (2, 2)  # a one-element list from fn still gives one variable, as in PyTensor
        back, _ = scan(lambda v: v * s, sequences=[np.arange(3.0)], go_backwards=True)
        np.testing.assert_allclose(back.eval({"s": 10.0}), [20.0, 10.0, 0.0])


def test_scan_errors_are_readable():
    with pm.Model():
        a = pm.Normal("a", shape=2)
        with pytest.raises(ValueError, match="shape"):
            scan(lambda prev: prev.sum() * a, outputs_info=[pm.math.zeros(())], n_steps=3)
        with pytest.raises(ValueError, match="n_steps"):
            scan(lambda prev: prev + 1, outputs_info=[a])
        with pytest.raises(ValueError, match="outputs_info"):
            scan(lambda v, prev: (prev, prev), sequences=[np.ones(3)], outputs_info=[a])


def test_scan_hmm_forward_matches_sum_over_paths():
    """An HMM forward filter (scan + logsumexp) against a direct sum over all state paths."""
    import itertools

    rng = np.random.default_rng(1)
    y = rng.normal(size=6) + np.array([0, 3, 3, 0, 3, 0])
    with pm.Model() as model:
        p = pm.Dirichlet("p", a=np.ones(2), shape=(2, 2))
        mu = pm.Normal("mu", [0.0, 3.0], 1.0, shape=2)
        log_emit = -0.5 * (y[:, None] - mu[None, :]) ** 2
        lg = pm.math.log(p)

        def fwd(le_t, a_prev, lg):
            return pm.math.logsumexp(a_prev[:, None] + lg, axis=0) + le_t

        alpha, _ = scan(fwd, sequences=[log_emit[1:]], outputs_info=[log_emit[0]], non_sequences=[lg])
        ll = pm.Deterministic("ll", pm.math.logsumexp(alpha[-1]))
    pv = np.array([[0.8, 0.2], [0.3, 0.7]])
    muv = np.array([0.2, 2.9])
    got = ll.eval({"p": pv, "mu": muv})
    le = -0.5 * (y[:, None] - muv[None, :]) ** 2
    total = 0.0
    for path in itertools.product([0, 1], repeat=len(y)):
        lp = le[0, path[0]] + sum(np.log(pv[path[t - 1], path[t]]) + le[t, path[t]] for t in range(1, len(y)))
        total += np.exp(lp)
    np.testing.assert_allclose(got, np.log(total), rtol=1e-10)
    # gradient is finite through scan + logsumexp
    pm.Potential("lik", ll, model=model)
    cm, data, vg = _flat_logp_and_grad(model)
    v, g = vg(cm.initial_flat())
    assert np.isfinite(v) and np.all(np.isfinite(g))


def test_scan_garch_volatility_with_logp_inside_step():
    """GARCH(1,1): sigma2_t = omega + alpha r_{t-1}^2 + beta sigma2_{t-1}, with pm.logp of a .dist inside."""
    from scipy import stats

    rng = np.random.default_rng(3)
    r = rng.normal(size=50) * 0.5
    with pm.Model():
        omega = pm.HalfNormal("omega", 1.0)
        alpha = pm.Beta("alpha", 2, 5)
        beta = pm.Beta("beta", 5, 2)

        def step(r_t, r_tm1, sigma2_prev):
            sigma2 = omega + alpha * r_tm1**2 + beta * sigma2_prev
            return sigma2, pm.logp(pm.Normal.dist(0.0, pm.math.sqrt(sigma2)), r_t)

        (sigma2, lp), _ = scan(step, sequences=[r[1:], r[:-1]], outputs_info=[np.float64(0.25), None])
        total = pm.Deterministic("total", lp.sum())
    vals = {"omega": 0.1, "alpha": 0.2, "beta": 0.6}
    s2, ref = 0.25, 0.0
    for t in range(1, 50):
        s2 = 0.1 + 0.2 * r[t - 1] ** 2 + 0.6 * s2
        ref += stats.norm.logpdf(r[t], 0, np.sqrt(s2))
    np.testing.assert_allclose(total.eval(vals), ref, rtol=1e-10)
    assert sigma2.shape == (49,)


def test_scan_pymc_parity_arma():
    """The same ARMA(1,1) model code with pytensor.scan (PyMC) and jaxmc.scan: identical log densities."""
    pytest.importorskip("pymc")
    from tests.helpers import pymc_parity

    rng = np.random.default_rng(2)
    y = np.cumsum(rng.normal(size=40)) * 0.1

    def build(lib):
        if lib.__name__ == "pymc":
            import pytensor

            scan_ = pytensor.scan
        else:
            scan_ = scan
        with lib.Model() as m:
            y_obs = lib.Data("y_obs", y)
            mu = lib.Normal("mu", 0, 10)
            phi = lib.Normal("phi", 0, 2)
            theta = lib.Normal("theta", 0, 2)
            sigma = lib.HalfCauchy("sigma", 2.5)

            def step(y_t, y_tm1, err_tm1, mu, phi, theta):
                nu = mu + phi * y_tm1 + theta * err_tm1
                return y_t - nu

            err = scan_(step, sequences=[y_obs[1:], y_obs[:-1]], outputs_info=[y_obs[0] - mu * (1 + phi)],
                        non_sequences=[mu, phi, theta], return_updates=False)
            lib.Potential("lik", lib.logp(lib.Normal.dist(0, sigma), err).sum())
        return m

    pymc_parity(build, n_points=5, rtol=1e-8)


# ---------------------------------------------------------------------------------------------- wrap_jax
def test_wrap_jax_values_gradients_and_pytrees():
    @wrap_jax
    def se_kernel(x, ls, amp):
        return amp**2 * jnp.exp(-0.5 * (x[:, None] - x[None, :]) ** 2 / ls**2)

    @wrap_jax()
    def two(d):
        return {"sum": d["a"] + d["b"], "prod": d["a"] * d["b"]}

    x = np.linspace(0, 1, 5)
    assert isinstance(se_kernel(x, 0.5, 1.0), jax.Array)  # no model variable: just calls the function
    with pm.Model() as model:
        ls = pm.HalfNormal("ls")
        K = se_kernel(x, ls, 2.0)
        assert K.shape == (5, 5)
        out = two({"a": ls, "b": 3.0})
        assert set(out) == {"sum", "prod"}
        np.testing.assert_allclose(out["prod"].eval({"ls": 2.0}), 6.0)
        L = pm.math.cholesky(K + 1e-9 * np.eye(5))
        f = pm.Normal("f", shape=5)
        pm.Potential("p", -0.5 * (pm.math.dot(L, f) ** 2).sum())
    np.testing.assert_allclose(K.eval({"ls": 0.5}), np.asarray(se_kernel(x, 0.5, 2.0)))
    cm, data, vg = _flat_logp_and_grad(model)
    x0 = cm.initial_flat() + 0.1
    v, g = vg(x0)
    eps = 1e-6
    e0 = np.zeros(cm.size)
    e0[0] = eps
    fd = (vg(x0 + e0)[0] - vg(x0 - e0)[0]) / (2 * eps)
    np.testing.assert_allclose(g[0], fd, rtol=1e-5)


# ---------------------------------------------------------------------------------------------- ODE
def test_ode_exponential_decay_matches_analytic_and_gradient():
    times = np.linspace(0.25, 4, 16)
    ode = jaxmc.ode.DifferentialEquation(lambda y, t, p: -p[0] * y[0], times=times, n_states=1, n_theta=1)
    with pm.Model() as model:
        k = pm.HalfNormal("k", 1.0)
        y0 = pm.HalfNormal("y0", 1.0)
        sol = ode(y0=[y0], theta=[k])
        assert sol.shape == (16, 1)
        pm.Potential("p", -((sol[:, 0] - 1.0) ** 2).sum())
    np.testing.assert_allclose(sol.eval({"k": 0.7, "y0": 2.0})[:, 0], 2 * np.exp(-0.7 * times), rtol=1e-5)

    def analytic(x):  # x = (log k, log y0), value variables in creation order
        kk, yy = jnp.exp(x[0]), jnp.exp(x[1])
        s = yy * jnp.exp(-kk * times)
        prior = -0.5 * kk**2 - 0.5 * yy**2 + x[0] + x[1]
        return -jnp.sum((s - 1.0) ** 2) + prior

    cm, data, vg = _flat_logp_and_grad(model)
    x = jnp.array([np.log(0.7), np.log(2.0)])
    v, g = vg(x)
    const = float(v - analytic(x))  # half-normal normalising constants
    np.testing.assert_allclose(vg(x + 0.3)[0] - const, analytic(x + 0.3), rtol=1e-6)
    np.testing.assert_allclose(g, jax.grad(analytic)(x), rtol=1e-4)


def test_ode_linear_system_and_finite_differences():
    """y' = A y with a 2x2 A built from theta: compare with the matrix exponential; gradients vs FD."""
    from scipy.linalg import expm

    times = np.array([0.5, 1.0, 2.0, 3.0])

    def rhs(y, t, p):
        return [-p[0] * y[0] + p[1] * y[1], p[0] * y[0] - (p[1] + p[2]) * y[1]]

    ode = jaxmc.ode.DifferentialEquation(rhs, times=times, n_states=2, n_theta=3, t0=0.0)
    th = np.array([0.8, 0.3, 0.5])
    A = np.array([[-th[0], th[1]], [th[0], -(th[1] + th[2])]])
    y0 = np.array([1.0, 0.5])
    exact = np.stack([expm(A * t) @ y0 for t in times])
    with pm.Model():
        theta = pm.HalfNormal("theta", 1.0, shape=3)
        sol = ode(y0=y0, theta=theta)
        assert sol.shape == (4, 2)
        np.testing.assert_allclose(sol.eval({"theta": th}), exact, rtol=1e-5, atol=1e-8)

    # gradients of a scalar functional through the solver against central finite differences
    @jax.jit
    def functional(p):
        ys = jnp.asarray(ode(y0=y0, theta=p))  # constants in: solves directly
        return jnp.sum(ys[:, 1] * jnp.arange(1, 5))

    g = jax.grad(functional)(jnp.asarray(th))
    eps = 1e-5
    fd = [(functional(th + eps * e) - functional(th - eps * e)) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(g, fd, rtol=1e-4, atol=1e-7)
    # PyMC's return_sens: d y(t) / d (y0, theta)
    ys, sens = ode(y0=y0, theta=th, return_sens=True)
    assert sens.shape == (4, 2, 5)
    fd0 = (np.asarray(ode(y0=y0, theta=th + [eps, 0, 0])) - np.asarray(ode(y0=y0, theta=th - [eps, 0, 0]))) / (2 * eps)
    np.testing.assert_allclose(sens[:, :, 2], fd0, rtol=1e-4, atol=1e-7)  # (the solves reuse one compilation)
    np.testing.assert_allclose(sens[:, :, :2], np.stack([expm(A * t) for t in times]), rtol=1e-4, atol=1e-7)


def test_ode_failure_gives_nan_not_an_error():
    # blow-up in finite time: y' = y^2, y(0) = 1 explodes at t = 1, so the solve cannot reach t = 2
    ode = jaxmc.ode.DifferentialEquation(lambda y, t, p: [p[0] * y[0] ** 2], times=[0.5, 2.0], n_states=1,
                                         n_theta=1, max_steps=200)
    sol = np.asarray(ode(y0=[1.0], theta=[1.0]))
    assert np.isnan(sol).any()


def test_ode_gradients_in_a_loop_compiled_with_jaxmc_options():
    """The sampler compiles its loops with jaxmc.config.compiler_options() (jaxmc.xla): an ODE model's log density and
    gradient inside a loop must equal those of a plain jit (XLA's region-analysis copy insertion, which
    jaxmc does not use for this reason, changed them: the Michaelis-Menten posterior of posteriordb)."""
    from jaxmc.config import compiler_options

    def rhs(C, t, p):
        return 0.3 * p[0] * pm.math.exp(-p[0] * t) - p[2] * C / (p[1] + C)

    times = np.linspace(0.5, 10.0, 8)
    with pm.Model() as model:
        k_a = pm.HalfNormal("k_a", 1.0)
        K_m = pm.HalfNormal("K_m", 1.0)
        V_m = pm.HalfNormal("V_m", 1.0)
        ode = jaxmc.ode.DifferentialEquation(lambda y, t, p: [rhs(y[0], t, p)], times=times, n_states=1,
                                             n_theta=3, t0=0.0)
        C = ode(y0=[0.0], theta=[k_a, K_m, V_m])[:, 0]
        pm.LogNormal("C_hat", mu=pm.math.log(C), sigma=0.2, observed=0.1 + 0.05 * times)
    cm = model.compiled()
    data = {k: jnp.asarray(v) for k, v in model.data_values().items()}
    x0 = cm.initial_flat()

    def loop(x):
        def body(i, c):
            x, total = c
            v, g = jax.value_and_grad(lambda u: cm.logp(u, data))(x)
            return x + 1e-3 * g, total + v
        return jax.lax.fori_loop(0, 5, body, (x, 0.0))

    plain = jax.jit(loop)(x0)
    ours = jax.jit(loop).lower(x0).compile(compiler_options())(x0)
    np.testing.assert_allclose(ours[0], plain[0], rtol=1e-9)
    np.testing.assert_allclose(ours[1], plain[1], rtol=1e-9)

"""Transforms: round trips, log|det J| against jax.jacobian (`check_transform`), and equality with PyMC's
transforms (forward, backward and log_jac_det at the same points, compiled in one PyTensor function)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxmc import transforms as tr
from tests.helpers import PYMC6, check_transform

pymc = pytest.importorskip("pymc")
ptr = pymc.distributions.transforms

rng = np.random.default_rng(42)


def _simplex(*shape):
    x = rng.gamma(2.0, size=shape)
    return x / x.sum(-1, keepdims=True)


def _zerosum(shape, axes):
    x = rng.normal(size=shape)
    for a in axes:
        x = x - x.mean(axis=a, keepdims=True)
    return x


def _packed_chol(n):
    vals = rng.normal(size=n * (n + 1) // 2)
    diag = np.cumsum(np.arange(1, n + 1)) - 1
    vals[diag] = np.exp(rng.normal(size=n) * 0.5)
    return vals


def _bounds_mu_sigma(rng_, size, mu, sigma):  # PyMC's bounds_fn signature (rng, size, *params)
    return mu - 2.0, mu + sigma


def _lower_from_param(mu, sigma):  # jaxmc's signature (*params)
    return mu, None


MU, SIGMA = np.array([0.3, -1.0, 2.0]), np.array([0.5, 1.5, 3.0])

# id, jaxmc transform, PyMC transform, constrained value, distribution inputs, manifold
CASES = [
    ("log", tr.log, ptr.log, np.exp(rng.normal(size=(3, 2))), (), "first"),
    ("log_exp_m1", tr.log_exp_m1, ptr.log_exp_m1, np.exp(rng.normal(size=4)), (), "first"),
    ("logodds", tr.logodds, ptr.logodds, rng.uniform(0.01, 0.99, size=5), (), "first"),
    # (PyMC turns Python floats into float32 constants when exact: pass float64 bounds for a 1e-10 check)
    ("interval", tr.Interval(-1.0, 3.0), ptr.Interval(np.float64(-1.0), np.float64(3.0)), rng.uniform(-0.99, 2.99, size=4), (),
     "first"),
    ("interval-lower", tr.Interval(lower=2.0), ptr.Interval(lower=2.0), 2.0 + np.exp(rng.normal(size=4)), (),
     "first"),
    ("interval-upper", tr.Interval(upper=-1.0), ptr.Interval(upper=-1.0), -1.0 - np.exp(rng.normal(size=4)),
     (), "first"),
    ("interval-inf-constant", tr.Interval(lower=-np.inf, upper=1.0), ptr.Interval(lower=-np.inf, upper=1.0),
     1.0 - np.exp(rng.normal(size=3)), (), "first"),
    ("interval-params", tr.Interval(bounds_fn=_bounds_mu_sigma), ptr.Interval(bounds_fn=_bounds_mu_sigma),
     MU - 2.0 + rng.uniform(0.05, 0.95, 3) * (SIGMA + 2.0), (MU, SIGMA), "first"),
    ("interval-params-lower", tr.Interval(bounds_fn=_lower_from_param),
     ptr.Interval(bounds_fn=lambda r, s, mu, sigma: (mu, None)), MU + np.exp(rng.normal(size=3)), (MU, SIGMA),
     "first"),
    ("simplex", tr.simplex, ptr.simplex, _simplex(4), (), "first"),
    ("simplex-batched", tr.simplex, ptr.simplex, _simplex(2, 3), (), "first"),
    ("sum_to_1", tr.SumTo1(), ptr.SumTo1(), _simplex(5), (), "first"),
    ("ordered", tr.ordered, ptr.ordered, np.sort(rng.normal(size=5)), (), "first"),
    ("ordered-batched", tr.ordered, ptr.ordered, np.sort(rng.normal(size=(2, 4)), -1), (), "first"),
    ("ordered-positive", tr.Ordered(positive=True), ptr.Ordered(positive=True),
     np.sort(np.exp(rng.normal(size=4))), (), "first"),
    ("ordered-descending", tr.Ordered(ascending=False), ptr.Ordered(ascending=False),
     np.sort(rng.normal(size=4))[::-1].copy(), (), "first"),
    ("ordered-positive-descending", tr.Ordered(positive=True, ascending=False),
     ptr.Ordered(positive=True, ascending=False), np.sort(np.exp(rng.normal(size=4)))[::-1].copy(), (), "first"),
    ("circular", tr.circular, ptr.circular, rng.uniform(-3.1, 3.1, size=4), (), "first"),
    ("zerosum-1axis", tr.ZeroSumTransform([-1]), ptr.ZeroSumTransform([-1]), _zerosum((2, 4), [-1]), (),
     "isometric"),
    ("zerosum-2axes", tr.ZeroSumTransform([-2, -1]), ptr.ZeroSumTransform([-2, -1]), _zerosum((3, 4), [0, 1]),
     (), "isometric"),
    ("cholesky-cov-packed", tr.CholeskyCovPacked(3), ptr.CholeskyCovPacked(3), _packed_chol(3), (), "first"),
    ("chain-log-ordered", tr.Chain([tr.log, tr.ordered]), ptr.Chain([ptr.log, ptr.ordered]),
     np.sort(np.exp(rng.normal(size=4))), (), "first"),
    ("chain-logodds-ordered", tr.Chain([tr.logodds, tr.ordered]), ptr.Chain([ptr.logodds, ptr.ordered]),
     np.sort(rng.uniform(0.02, 0.98, size=(2, 3)), -1), (), "first"),
    ("chain-interval-zerosum", tr.Chain([tr.ZeroSumTransform([-1]), tr.Interval(-5.0, 5.0)]),
     ptr.Chain([ptr.ZeroSumTransform([-1]), ptr.Interval(np.float64(-5.0), np.float64(5.0))]), _zerosum((4,), [-1]) * 0.1, (), "first"),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_round_trip_and_jacobian(case):
    name, t, _, value, inputs, manifold = case
    if name == "chain-interval-zerosum":
        pytest.skip("a chain onto a lower-dimensional set: covered against PyMC below")
    rows = [value] if name != "simplex-batched" else list(value)  # the helper flattens batches
    for row in rows:
        ldj, expected = check_transform(t, row, *inputs, manifold=manifold)
        np.testing.assert_allclose(ldj, expected, rtol=1e-8, atol=1e-10)
    y = t.forward(jnp.asarray(value), *inputs)
    assert tuple(y.shape) == tuple(t.unconstrained_shape(np.shape(value)))


@pytest.fixture(scope="module")
def pymc_results():
    """PyMC's forward, backward and log_jac_det for every case, from one compiled function."""
    import pytensor
    import pytensor.tensor as pt

    outs = []
    for _, t, pt_t, value, inputs, _ in CASES:
        ins = (None, None, *[pt.as_tensor(np.asarray(i)) for i in inputs]) if inputs else ()
        y = pt_t.forward(pt.as_tensor(value), *ins)
        yv = np.asarray(t.forward(jnp.asarray(value), *inputs), dtype=float)
        outs += [y, pt_t.backward(pt.as_tensor(yv), *ins), pt_t.log_jac_det(pt.as_tensor(yv), *ins)]
    with pytensor.config.change_flags(linker="py"):
        res = pytensor.function([], outs)()
    return {c[0]: res[3 * i: 3 * i + 3] for i, c in enumerate(CASES)}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_pymc(case, pymc_results):
    name, t, _, value, inputs, _ = case
    fwd, bwd, ldj = pymc_results[name]
    y = t.forward(jnp.asarray(value), *inputs)
    np.testing.assert_allclose(np.asarray(y), fwd, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(t.backward(y, *inputs)), bwd, rtol=1e-10, atol=1e-12)
    ours = np.asarray(t.log_jac_det(y, *inputs))
    assert ours.shape == np.shape(ldj), (ours.shape, np.shape(ldj))
    np.testing.assert_allclose(ours, ldj, rtol=1e-10, atol=1e-12)


def test_interval_runtime_bounds_match_pymc():
    """Bounds that are only known at run time (traced), including infinite ones: PyMC's where-based
    handling, with finite gradients."""
    import pytensor
    import pytensor.tensor as pt

    t = tr.Interval(bounds_fn=lambda lo, up: (lo, up))
    pt_t = ptr.Interval(bounds_fn=lambda r, s, lo, up: (lo, up))
    y = np.array([-1.3, 0.2, 2.0])
    settings = [(-1.0, 2.0), (-np.inf, 2.0), (-1.0, np.inf), (-np.inf, np.inf)]
    lo_s, up_s, y_s = pt.dscalar("lo"), pt.dscalar("up"), pt.dvector("y")
    with pytensor.config.change_flags(linker="py"):
        f = pytensor.function([y_s, lo_s, up_s], [pt_t.backward(y_s, None, None, lo_s, up_s),
                                                  pt_t.log_jac_det(y_s, None, None, lo_s, up_s)])
    jf = jax.jit(lambda y, lo, up: (t.backward(y, lo, up), t.log_jac_det(y, lo, up)))
    jg = jax.jit(jax.grad(lambda y, lo, up: jnp.sum(t.backward(y, lo, up)) + jnp.sum(t.log_jac_det(y, lo, up)),
                          argnums=(0, 1, 2)))
    for lo, up in settings:
        bwd, ldj = f(y, lo, up)
        jb, jl = jf(jnp.asarray(y), lo, up)
        np.testing.assert_allclose(np.asarray(jb), bwd, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(jl), ldj, rtol=1e-12)
        back = jax.jit(t.forward)(jb, lo, up)
        np.testing.assert_allclose(np.asarray(back), y, rtol=1e-10)
        for g in jg(jnp.asarray(y), lo, up):
            assert np.all(np.isfinite(np.asarray(g))), (lo, up)


def test_interval_both_none_from_params_is_identity():
    t = tr.Interval(bounds_fn=lambda mu, sigma: (None, None))
    y = jnp.array([0.5, -2.0])
    np.testing.assert_array_equal(t.backward(y, 0.0, 1.0), y)
    np.testing.assert_array_equal(t.forward(y, 0.0, 1.0), y)
    np.testing.assert_array_equal(t.log_jac_det(y, 0.0, 1.0), jnp.zeros(2))
    with pytest.raises(ValueError):
        tr.Interval(None, None)


def test_transforms_grad_and_jit():
    for name, t, _, value, inputs, _ in CASES:
        y = t.forward(jnp.asarray(value), *inputs)
        g = jax.grad(lambda y: jnp.sum(t.backward(y, *inputs)) + jnp.sum(t.log_jac_det(y, *inputs)))(y)
        assert np.all(np.isfinite(np.asarray(g))), name
    t = tr.Chain([tr.log, tr.ordered])
    y = jnp.array([0.1, -0.5, 0.3])
    np.testing.assert_allclose(jax.jit(t.log_jac_det)(y), t.log_jac_det(y), rtol=1e-12)


def test_sum_to_1_is_deprecated():
    """PyMC 6 deprecates the `sum_to_1` instance (FutureWarning on access); the SumTo1 class stays."""
    with pytest.warns(FutureWarning, match="sum_to_1 transform is deprecated"):
        t = tr.sum_to_1
    assert isinstance(t, tr.SumTo1)
    if PYMC6:
        with pytest.warns(FutureWarning, match="sum_to_1 transform is deprecated"):
            ptr.sum_to_1


def test_zerosum_ndim_supp():
    assert tr.ZeroSumTransform([-1]).ndim_supp == 1 and tr.ZeroSumTransform([-2, -1]).ndim_supp == 2
    if PYMC6:
        assert ptr.ZeroSumTransform([-2, -1]).ndim_supp == 2


def _corr_chol(n, batch=()):
    A = rng.normal(size=(*batch, n, n + 2))
    C = A @ np.swapaxes(A, -1, -2)
    d = 1 / np.sqrt(np.einsum("...ii->...i", C))
    return np.linalg.cholesky(d[..., :, None] * C * d[..., None, :])


def _spd(n, batch=()):
    A = rng.normal(size=(*batch, n, n))
    return A @ np.swapaxes(A, -1, -2) + np.eye(n)


#: PyMC 6's CholeskyCorrTransform(4) and CholeskyCovTransform(3): backward and log_jac_det at Y6
Y6 = np.array([0.3, -1.2, 0.7, 2.0, -0.4, 0.1])
CORR_BACKWARD_PYMC6 = np.array([
    [1.0, 0.0, 0.0, 0.0],
    [0.8944271909999159, 0.4472135954999579, 0.0, 0.0],
    [0.09245003270420488, -0.3698001308168195, 0.9245003270420487, 0.0],
    [0.4028047363539052, -0.6905224051781231, 0.17263060129453078, 0.575435337648436]])
CORR_LDJ_PYMC6 = -5.491306444737425
COV_BACKWARD_PYMC6 = np.array([
    [1.822118800390509, -1.6198305690912038, 2.6997176151520064],
    [-1.6198305690912038, 5.495199966844675, -3.2055010829881905],
    [2.6997176151520064, -3.2055010829881905, 5.38140275816017]])
COV_LDJ_PYMC6 = 5.579441547393799  # PyMC's n log 2 term uses a float32 log 2 (off by n * 4.8e-9)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_cholesky_corr_transform(n):
    """PyMC 6's LKJCorr transform: R^(n(n-1)/2) -> Cholesky factors of correlation matrices; log|det J| is over
    the entries below the diagonal (jax.jacobian), and forward/backward/log_jac_det equal PyMC 6's."""
    t = tr.CholeskyCorrTransform(n)
    m = n * (n - 1) // 2
    L = _corr_chol(n, (3,))
    y = t.forward(jnp.asarray(L))
    assert y.shape == (3, m) and t.unconstrained_shape((3, n, n)) == (3, m)
    np.testing.assert_allclose(np.asarray(t.backward(y)), L, atol=1e-12)
    below = np.tril_indices(n, -1)
    for row in np.asarray(y):
        jac = jax.jacobian(lambda v: t.backward(v)[below])(jnp.asarray(row))
        np.testing.assert_allclose(float(t.log_jac_det(jnp.asarray(row))), float(jnp.linalg.slogdet(jac)[1]),
                                   rtol=1e-10, atol=1e-12)
    assert t.log_jac_det(y).shape == (3,)
    g = jax.grad(lambda v: jnp.sum(t.backward(v)) + jnp.sum(t.log_jac_det(v)))(y)
    assert np.all(np.isfinite(np.asarray(g)))
    if PYMC6:
        import pytensor.tensor as pt

        p = ptr.CholeskyCorrTransform(n)
        yv = np.asarray(y)
        np.testing.assert_allclose(p.forward(pt.as_tensor(L)).eval(), yv, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(p.backward(pt.as_tensor(yv)).eval(), L, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(p.log_jac_det(pt.as_tensor(yv)).eval(), np.asarray(t.log_jac_det(y)),
                                   rtol=1e-10)
    if n == 4:
        np.testing.assert_allclose(np.asarray(t.backward(jnp.asarray(Y6))), CORR_BACKWARD_PYMC6, rtol=1e-12,
                                   atol=1e-15)
        np.testing.assert_allclose(float(t.log_jac_det(jnp.asarray(Y6))), CORR_LDJ_PYMC6, rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_cholesky_cov_transform(n):
    """PyMC 6's Wishart transform: R^(n(n+1)/2) (Cholesky factor by rows, log diagonal) -> SPD matrices;
    log|det J| is over the lower triangle (jax.jacobian), and the maps equal PyMC 6's."""
    t = tr.CholeskyCovTransform(n)
    m = n * (n + 1) // 2
    X = _spd(n, (2,))
    y = t.forward(jnp.asarray(X))
    assert y.shape == (2, m) and t.unconstrained_shape((2, n, n)) == (2, m)
    np.testing.assert_allclose(np.asarray(t.backward(y)), X, rtol=1e-10)
    lower = np.tril_indices(n)
    for row in np.asarray(y):
        jac = jax.jacobian(lambda v: t.backward(v)[lower])(jnp.asarray(row))
        np.testing.assert_allclose(float(t.log_jac_det(jnp.asarray(row))), float(jnp.linalg.slogdet(jac)[1]),
                                   rtol=1e-10)
    # forward reads the lower triangle only
    np.testing.assert_allclose(np.asarray(t.forward(jnp.asarray(np.tril(X[0])))), np.asarray(y[0]), rtol=1e-10)
    if PYMC6:
        import pytensor.tensor as pt

        p = ptr.CholeskyCovTransform(n)
        yv = np.asarray(y)
        np.testing.assert_allclose(p.forward(pt.as_tensor(X)).eval(), yv, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(p.backward(pt.as_tensor(yv)).eval(), X, rtol=1e-10)
        np.testing.assert_allclose(p.log_jac_det(pt.as_tensor(yv)).eval(), np.asarray(t.log_jac_det(y)),
                                   rtol=1e-8)
    if n == 3:
        np.testing.assert_allclose(np.asarray(t.backward(jnp.asarray(Y6))), COV_BACKWARD_PYMC6, rtol=1e-12)
        np.testing.assert_allclose(float(t.log_jac_det(jnp.asarray(Y6))), COV_LDJ_PYMC6, rtol=1e-8)

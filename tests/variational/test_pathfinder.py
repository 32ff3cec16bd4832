"""Pathfinder (jaxmc.variational.pathfinder): the local normal approximation against exact answers, multi-path
fits against known posteriors and posteriordb references, seeds, output layout, NUTS starting points, bad input.

Tolerance for posteriordb (the pack README gives none for approximate methods): every reference parameter's
mean within 0.2 reference sd (the README's check 4, 0.15, widened: 1000 importance-resampled draws carry fewer
than 1000 effective draws) and its sd within 0.8-1.25 of the reference sd (its check 3's coarse bound); see
docs/pathfinder.md.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmc as pm
from jaxmc.variational.pathfinder import INIT_DRAWS_PER_PATH as INIT
from jaxmc.variational.pathfinder import (Approx, fit_pathfinder, importance_resample, normal_draws, pathfinder_start,
                                          update_alpha)

SEED = 20240601
MEAN = np.array([1.0, 50.0])
COV = np.array([[1.0, -0.99 * 100], [-0.99 * 100, 100.0**2]])


@pytest.fixture(scope="module")
def gauss():
    """A correlated, badly scaled bivariate normal: Pathfinder is exact on a Gaussian once L-BFGS has two
    accepted steps."""
    with pm.Model(coords={"axis": ["a", "b"]}) as model:
        x = pm.MvNormal("x", mu=MEAN, cov=COV, dims="axis")
        pm.Deterministic("total", x.sum())
    return model


@pytest.fixture(scope="module")
def normal_model():
    """Normal mean and sd with a conjugate-like posterior: mu ~ N(ybar, s/sqrt(n)) approximately."""
    y = np.random.default_rng(1).normal(2.0, 3.0, size=200)
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 10)
        sigma = pm.HalfNormal("sigma", 10)
        pm.Normal("y", mu, sigma, observed=y)
    return model, y


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------------------------- the numerics
def test_normal_draws_match_dense_bfgs_inverse_hessian():
    """The thin-QR draws have the covariance of the dense L-BFGS inverse Hessian (two-loop recursion form) and
    the mean x - H g; log q is the normal log density of the draws."""
    rng = np.random.default_rng(0)
    n, J = 5, 3
    A = rng.normal(size=(n, n))
    hess = A @ A.T + n * np.eye(n)
    S = rng.normal(size=(J, n))
    Z = S @ hess  # exact gradient changes of a quadratic
    alpha = rng.uniform(0.5, 2.0, size=n)
    x, g = rng.normal(size=n), rng.normal(size=n)
    H = np.diag(alpha)  # BFGS updates of diag(alpha) by the pairs, oldest first
    for s, z in zip(S, Z):
        rho = 1.0 / (s @ z)
        V = np.eye(n) - rho * np.outer(z, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    approx = Approx(jnp.asarray(x), jnp.asarray(g), jnp.asarray(alpha), jnp.asarray(S), jnp.asarray(Z),
                    jnp.ones(J, bool))
    u = rng.normal(size=(4000, n))
    phi, logq, h_diag = jax.jit(normal_draws)(approx, jnp.asarray(u))
    phi = np.asarray(phi)
    mu = x - H @ g
    C = phi - mu  # linear in u: recover the factor exactly from the draws
    factor = np.linalg.lstsq(u, C, rcond=None)[0].T
    np.testing.assert_allclose(factor @ factor.T, H, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(phi.mean(0), mu, atol=5 * np.sqrt(np.diag(H).max() / 4000))
    np.testing.assert_allclose(np.asarray(h_diag), np.diag(H), rtol=1e-8)
    from scipy.stats import multivariate_normal

    np.testing.assert_allclose(np.asarray(logq), multivariate_normal(mu, H).logpdf(phi), rtol=1e-8)


def test_unused_history_rows_drop_out():
    rng = np.random.default_rng(1)
    n = 4
    s, z = rng.normal(size=n), None
    z = s * rng.uniform(1, 2, size=n)
    alpha = np.ones(n)
    full = Approx(jnp.zeros(n), jnp.ones(n), jnp.asarray(alpha), jnp.asarray(s[None]), jnp.asarray(z[None]),
                  jnp.ones(1, bool))
    padded = Approx(jnp.zeros(n), jnp.ones(n), jnp.asarray(alpha), jnp.asarray(np.stack([0 * s, 0 * s, s])),
                    jnp.asarray(np.stack([0 * z, 0 * z, z])), jnp.asarray([False, False, True]))
    u = rng.normal(size=(20, n))
    draw = jax.jit(normal_draws)
    (phi_a, logq_a, diag_a), (phi_b, logq_b, diag_b) = (draw(a, jnp.asarray(u)) for a in (full, padded))
    np.testing.assert_allclose(np.asarray(logq_a), np.asarray(logq_b), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(diag_a), np.asarray(diag_b), rtol=1e-10)
    design = np.column_stack([np.ones(len(u)), u])  # phi = mu + C u exactly: regress on [1, u]
    fits = [np.linalg.lstsq(design, np.asarray(p), rcond=None)[0] for p in (phi_a, phi_b)]
    np.testing.assert_allclose(fits[0][0], fits[1][0], rtol=1e-8, atol=1e-12)  # the means
    np.testing.assert_allclose(fits[0][1:].T @ fits[0][1:], fits[1][1:].T @ fits[1][1:], rtol=1e-8, atol=1e-12)


def test_alpha_update_keeps_alpha_when_not_positive():
    alpha = jnp.ones(3)
    np.testing.assert_array_equal(update_alpha(alpha, jnp.array([1.0, 0, 0]), jnp.array([-1.0, 0, 0])), alpha)
    new = update_alpha(alpha, jnp.array([1.0, 1.0, 0.5]), jnp.array([2.0, 1.0, 1.0]))
    assert np.all(np.asarray(new) > 0) and not np.allclose(new, alpha)


# ---------------------------------------------------------------------------------------------- fits
def test_gaussian_target_is_recovered(gauss):
    idata = quiet(fit_pathfinder, model=gauss, random_seed=SEED, progressbar=False)
    d = idata.posterior["x"].values[0]
    assert d.shape == (1000, 2)
    se = np.sqrt(np.diag(COV) / 1000)
    assert np.all(np.abs(d.mean(0) - MEAN) < 4 * se)
    np.testing.assert_allclose(d.std(0), np.sqrt(np.diag(COV)), rtol=0.1)
    assert abs(np.corrcoef(d.T)[0, 1] + 0.99) < 0.005
    assert list(idata.posterior["x"].dims) == ["chain", "draw", "axis"]
    assert list(idata.posterior["axis"].values) == ["a", "b"]
    np.testing.assert_allclose(idata.posterior["total"].values, d.sum(-1)[None])
    ss = idata.sample_stats
    assert ss["paths_elbo"].dims == ("path",) and ss["paths_elbo"].shape == (4,)
    assert np.all(np.abs(ss["paths_elbo"].values) < 0.05)  # log normaliser of the MvNormal density is 0
    assert np.isfinite(float(ss["pareto_k"])) and int(ss["num_successful_paths"]) == 4


def test_seeds_reproduce_and_differ(gauss):
    a = quiet(fit_pathfinder, model=gauss, random_seed=3, progressbar=False).posterior["x"].values
    b = quiet(fit_pathfinder, model=gauss, random_seed=3, progressbar=False).posterior["x"].values
    c = quiet(fit_pathfinder, model=gauss, random_seed=4, progressbar=False).posterior["x"].values
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_single_path_and_raw_draws(normal_model):
    """One path alone recovers the posterior of mu; importance_sampling=None returns each path's raw draws as
    a chain. (Settings shared with test_pathfinder_start, so the programs compile once.)"""
    model, y = normal_model
    one = quiet(fit_pathfinder, model=model, num_paths=1, num_draws_per_path=INIT, num_draws=200, random_seed=SEED,
                progressbar=False)
    assert one.posterior["mu"].shape == (1, 200) and one.sample_stats["paths_elbo"].shape == (1,)
    se = y.std() / np.sqrt(len(y))
    mu = one.posterior["mu"].values
    assert abs(mu.mean() - y.mean()) < 0.2 * se + 4 * se / np.sqrt(200)
    assert 0.8 < mu.std() / se < 1.25
    raw = quiet(fit_pathfinder, model=model, num_draws_per_path=INIT, importance_sampling=None, random_seed=SEED,
                progressbar=False)
    assert raw.posterior["mu"].shape == (4, INIT)
    assert str(raw.sample_stats["importance_sampling_method"].values) == "none"
    assert np.isnan(float(raw.sample_stats["pareto_k"]))


def test_resampling_without_replacement_falls_back(normal_model):
    model, _ = normal_model
    with pytest.warns(UserWarning, match="Not enough valid samples"):
        idata = fit_pathfinder(model=model, num_draws_per_path=INIT, num_draws=5 * INIT, random_seed=1,
                               progressbar=False, importance_sampling="identity")
    assert idata.posterior["mu"].shape == (1, 5 * INIT)


def test_importance_resample_drops_failed_paths():
    from jaxmc.variational.pathfinder import PathfinderResult

    draws = np.stack([np.zeros((50, 1)), np.ones((50, 1))])
    res = PathfinderResult(draws, np.zeros((2, 50)), np.zeros((2, 50)), np.array([-np.inf, 1.0]),
                           np.zeros(2, int), np.zeros(2, int), np.zeros(2, int), False)
    out, k, notes = importance_resample(res, 40, "identity", np.array([0, 1], np.uint32))
    assert np.all(out == 1.0) and k is None and not notes


def test_pathfinder_start(normal_model):
    model, y = normal_model
    cm = model.compiled()
    points, inv_mass = pathfinder_start(model, cm, model.data_values(), 4, jax.random.key(0))
    assert points.shape == (4, cm.size) and inv_mass.shape == (cm.size,)
    assert np.all(np.isfinite(points)) and np.all(np.asarray(inv_mass) > 0)
    mu = cm.slots[0].start
    se = y.std() / np.sqrt(len(y))
    assert np.all(np.abs(np.asarray(points)[:, mu] - y.mean()) < 5 * se)
    assert 0.7 < np.sqrt(float(inv_mass[mu])) / se < 1.4
    again, _ = pathfinder_start(model, cm, model.data_values(), 4, jnp.array([0, 0], jnp.uint32))
    assert again.shape == (4, cm.size)


# ---------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    ({"num_paths": 0}, "num_paths"),
    ({"num_draws": 2.5}, "num_draws"),
    ({"maxcor": -1}, "maxcor"),
    ({"jitter": -1.0}, "jitter"),
    ({"ftol": float("nan")}, "ftol"),
    ({"importance_sampling": "bogus"}, "importance_sampling"),
    ({"concurrent": "thread"}, "concurrent"),
    ({"inference_backend": "stan"}, "inference_backend"),
    ({"pathfinder_kwargs": {"bogus": 1}}, "pathfinder_kwargs"),
    ({"random_seed": -1}, "random_seed"),
    ({"initvals": {"nope": 1.0}}, "initvals"),
])
def test_bad_arguments_are_named(normal_model, kwargs, match):
    model, _ = normal_model
    with pytest.raises((ValueError, TypeError, KeyError), match=match):
        fit_pathfinder(model=model, progressbar=False, **kwargs)


def test_models_it_cannot_fit():
    with pm.Model() as empty:
        pm.Normal("y", 0, 1, observed=np.zeros(3))
    with pytest.raises(ValueError, match="no free variables"):
        fit_pathfinder(model=empty, progressbar=False)
    with pm.Model() as discrete:
        pm.Poisson("k", 3.0)
    with pytest.raises(ValueError, match="discrete"):
        fit_pathfinder(model=discrete, progressbar=False)
    with pytest.raises(TypeError, match="model"):
        fit_pathfinder(progressbar=False)


# ---------------------------------------------------------------------------------------------- posteriordb
POSTERIORDB = [("earnings-logearn_interaction_z", {}), ("sblrc-blr", {}),
               ("kidiq-kidscore_momiq", {"ftol": 1e-9})]  # kidiq's ridge: default ftol stops L-BFGS early


@pytest.mark.slow
@pytest.mark.parametrize("posterior, kwargs", POSTERIORDB, ids=[p.split("-")[0] for p, _ in POSTERIORDB])
def test_posteriordb_within_approximate_tolerance(posterior, kwargs):
    from benchmarks.posteriordb.common import check_posterior, load_data, model_module

    model = model_module(posterior).build(pm, load_data(posterior))
    idata = quiet(fit_pathfinder, model=model, random_seed=SEED, progressbar=False, **kwargs)
    checks = check_posterior(posterior, idata.posterior, rhat_max=np.inf, ess_min=0)
    bad = [f"{c.name}: mean {c.mean:.4g} vs {c.ref_mean:.4g} (sd_ref {c.ref_sd:.3g}), sd ratio {c.sd_ratio:.3f}"
           for c in checks if not (abs(c.mean - c.ref_mean) < 0.2 * c.ref_sd and 0.8 < c.sd_ratio < 1.25)]
    assert not bad, "\n".join(bad)


def test_psis_smooths_the_tail_only():
    """Pareto smoothing (ArviZ 0.x's psislw or arviz_stats', whose input is the negated log weights) keeps the
    order of the weights, changes only the upper tail, and gives the Pareto k of the weights (not of their
    reciprocals: gamma-distributed log weights are heavy-tailed, k about 0.9)."""
    from jaxmc.variational.pathfinder import psis_log_weights

    pytest.importorskip("arviz")
    lw = np.random.default_rng(0).gamma(2.0, size=4000)
    smoothed, k = psis_log_weights(lw)
    assert 0.8 < k < 0.95
    order = np.argsort(lw)
    assert np.all(np.diff(smoothed[order]) >= -1e-12)
    bulk = order[: len(lw) // 2]
    offset = smoothed[bulk] - lw[bulk]
    np.testing.assert_allclose(offset, offset[0], atol=1e-10)
    assert not np.allclose(smoothed[order[-10:]] - lw[order[-10:]], offset[0])

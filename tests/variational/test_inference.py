"""pm.fit and the inference classes: known posteriors, PyMC's results, callbacks, Ctrl-C, non-finite losses and
bad input."""

import os
import signal
import warnings

import numpy as np
import pytest

import jaxmc as pm
from tests.variational.helpers import POST_MEAN, POST_VAR, conjugate, regression

# PyMC 6.4's pm.fit(n=20000, method=..., random_seed=seed) on `regression()` (seeds 1, 2, 3; measured with
# `python -m benchmarks.variational`): the mean over seeds of approx.mean.eval() / approx.std.eval() and their
# seed-to-seed sd (order a, b[0..2], s_log__)
PYMC = {
    "advi": {"mean": [0.9643, 0.4584, -1.0459, 1.9677, -0.3032], "mean_sd": [0.002, 0.0041, 0.0007, 0.005, 0.002],
             "std": [0.0705, 0.0709, 0.0736, 0.0805, 0.0689], "std_sd": [0.0002, 0.0007, 0.0004, 0.0006, 0.0006]},
    "fullrank_advi": {"mean": [0.965, 0.4583, -1.0461, 1.9656, -0.2609],
                      "mean_sd": [0.0041, 0.005, 0.001, 0.0077, 0.0027],
                      "std": [0.1137, 0.1092, 0.1191, 0.1534, 0.105],
                      "std_sd": [0.0005, 0.0006, 0.0017, 0.0017, 0.0013]},
}


def test_advi_recovers_the_conjugate_posterior():
    with conjugate():
        approx = pm.fit(6000, random_seed=1, progressbar=False, obj_optimizer=pm.adam(learning_rate=0.005),
                        obj_n_mc=20)
    assert approx.mean.eval() == pytest.approx([POST_MEAN], abs=0.04)  # (posterior sd 0.28)
    assert approx.std.eval() == pytest.approx([POST_VAR**0.5], rel=0.05)
    assert len(approx.hist) == 6000 and np.isfinite(approx.hist).all()
    idata = approx.sample(4000, random_seed=2)
    draws = idata.posterior["mu"].values
    assert draws.shape == (1, 4000)
    assert draws.mean() == pytest.approx(POST_MEAN, abs=0.03)


@pytest.mark.parametrize("method", ["advi", "fullrank_advi"])
def test_advi_and_fullrank_agree_with_pymc_on_a_regression(method):
    """Within 4 seed-to-seed sds of PyMC's mean over 3 seeds (the sd floored at 0.003: 3 seeds estimate it
    roughly), for the means and the sds of the approximation."""
    with regression():
        approx = pm.fit(20000, method=method, random_seed=1, progressbar=False)
    ref = PYMC[method]
    for ours, key in ((approx.mean.eval(), "mean"), (approx.std.eval(), "std")):
        spread = np.maximum(np.array(ref[key + "_sd"]), 0.003)
        assert np.all(np.abs(ours - ref[key]) < 4 * spread), (key, ours, ref[key])
    if method == "fullrank_advi":
        cov = approx.cov.eval()
        assert cov.shape == (5, 5) and np.allclose(cov, cov.T)


def test_pathfinder_goes_to_its_module(monkeypatch):
    from jaxmc.variational import pathfinder

    seen = {}
    monkeypatch.setattr(pathfinder, "fit_pathfinder", lambda **kw: seen.update(kw) or "draws")
    with conjugate() as model:
        assert pm.fit(method="pathfinder", random_seed=3, num_paths=2) == "draws"
    assert seen == {"model": model, "random_seed": 3, "num_paths": 2}


def test_fit_is_reproducible_and_refine_continues():
    with conjugate():
        a = pm.fit(500, random_seed=7, progressbar=False)
        b = pm.fit(500, random_seed=7, progressbar=False)
        np.testing.assert_array_equal(a.hist, b.hist)
        inference = pm.ADVI(random_seed=7)
        approx = inference.fit(200, progressbar=False)
        approx.refine(300, progressbar=False)
    assert len(approx.hist) == 500
    np.testing.assert_allclose(approx.hist, a.hist, rtol=1e-10)  # 200 + 300 iterations = 500 in one go


def test_svgd_on_a_normal():
    with conjugate():
        approx = pm.fit(1000, method="svgd", random_seed=1, progressbar=False,
                        obj_optimizer=pm.sgd(learning_rate=0.1), inf_kwargs={"n_particles": 60})
    assert len(approx.hist) == 0  # SVGD has no loss (PyMC)
    assert approx.mean.eval() == pytest.approx([POST_MEAN], abs=0.02)
    assert approx.std.eval() == pytest.approx([POST_VAR**0.5], rel=0.15)
    assert approx.vparams["histogram"].shape == (60, 1)


def test_asvgd_moves_a_fullrank_approximation_to_the_posterior():
    with conjugate(), pytest.warns(UserWarning, match="experimental"):
        approx = pm.fit(400, method="asvgd", random_seed=1, progressbar=False,
                        obj_optimizer=pm.adam(learning_rate=0.05), obj_n_mc=50)
    assert approx.mean.eval() == pytest.approx([POST_MEAN], abs=0.05)
    assert 0.5 * POST_VAR**0.5 < approx.std.eval()[0] < 1.5 * POST_VAR**0.5


@pytest.mark.usefixtures("python_sigint_handler")
def test_ctrl_c_returns_the_approximation_so_far():
    def interrupt(approx, losses, i):
        if i == 30:
            os.kill(os.getpid(), signal.SIGINT)

    with conjugate():
        with pytest.warns(UserWarning, match="interrupted after"):
            approx = pm.fit(5000, callbacks=[interrupt], random_seed=1, progressbar=False)
    assert 30 <= len(approx.hist) < 5000
    assert np.isfinite(approx.mean.eval()).all()


def test_non_finite_loss_stops_and_keeps_the_last_finite_step():
    with pm.Model():
        x = pm.Normal("x", 0, 1)
        pm.Potential("blow", pm.math.switch(x > 3.0, np.nan, 0.0))
        with pytest.warns(RuntimeWarning, match=r"non-finite .* at iteration (\d+)") as rec:
            approx = pm.fit(100000, random_seed=1, progressbar=False, obj_optimizer=pm.sgd(learning_rate=0.5),
                            start={"x": 2.9})
    k = len(approx.hist)
    assert k < 100000 and f"iteration {k + 1}" in str(rec[0].message)
    assert np.isfinite(approx.hist).all() and np.isfinite(approx.mean.eval()).all()


def test_bad_input():
    with conjugate():
        with pytest.raises(KeyError, match="method should be one of"):
            pm.fit(10, method="nuts")
        with pytest.raises(TypeError, match="Inference instance"):
            pm.fit(10, method=3)
        with pytest.raises(ValueError, match="learning rate must be positive"):
            pm.adam(learning_rate=-0.1)
        with pytest.raises(TypeError, match="obj_optimizer"):
            pm.fit(10, obj_optimizer="adam")
        with pytest.raises(ValueError, match="n=-1"):
            pm.fit(-1)
        with pytest.raises(NotImplementedError, match="start_sigma"):
            pm.fit(10, method="fullrank_advi", start_sigma={"mu": 1.0})
        with pytest.raises(TypeError, match="PyTensor"):
            pm.fit(10, more_replacements={})
        with pytest.raises(KeyError, match="not a free variable"):
            pm.fit(10, start={"nope": 1.0})
        with pytest.raises(ValueError, match="obj_n_mc"):
            pm.fit(10, obj_n_mc=0)
        with pytest.raises(TypeError, match="PyTensor"):
            pm.adam(1.0, [])
    with pm.Model():
        pm.Normal("y", 0, 1, observed=1.0)
        with pytest.raises(ValueError, match="no free random variables"):
            pm.fit(10)
    with pm.Model():
        pm.Poisson("k", 3.0)
        with pytest.raises(ValueError, match="discrete variables"):
            pm.fit(10)


def test_a_chosen_optimizer_with_a_gradient_norm_constraint():
    with conjugate(), warnings.catch_warnings():
        warnings.simplefilter("error")
        approx = pm.fit(3000, random_seed=1, progressbar=False, obj_optimizer=pm.rmsprop(learning_rate=0.01),
                        total_grad_norm_constraint=10.0, obj_n_mc=3)
    assert approx.mean.eval()[0] == pytest.approx(POST_MEAN, abs=0.1)


@pytest.mark.slow
def test_advi_and_fullrank_within_pymc_seed_spread_live():
    """The same fits with PyMC, 3 seeds each: jaxmc's means and sds within the spread of PyMC's (plus MC slack)."""
    pymc = pytest.importorskip("pymc")
    rng = np.random.default_rng(42)
    X = rng.standard_normal((150, 3))
    y = 1.0 + X @ np.array([0.5, -1.0, 2.0]) + rng.normal(0, 0.7, 150)
    for method in ("advi", "fullrank_advi"):
        res = {}
        for lib in (pm, pymc):
            with lib.Model():
                a = lib.Normal("a", 0, 10)
                b = lib.Normal("b", 0, 10, shape=3)
                s = lib.HalfNormal("s", 5)
                lib.Normal("y", a + lib.math.dot(X, b), s, observed=y)
                fits = [lib.fit(20000, method=method, random_seed=seed, progressbar=False) for seed in (1, 2, 3)]
            res[lib.__name__] = (np.array([f.mean.eval() for f in fits]), np.array([f.std.eval() for f in fits]))
        (jm, js), (pm_, ps) = res["jaxmc"], res["pymc"]
        for ours, theirs in ((jm, pm_), (js, ps)):
            spread = np.maximum(theirs.std(0), ours.std(0)) + 0.05 * np.abs(theirs.mean(0)) + 0.002
            assert np.all(np.abs(ours.mean(0) - theirs.mean(0)) < 4 * spread), (method, ours, theirs)

"""pm.Minibatch: random rows shared by the tensors of one call, redrawn each pm.fit iteration; total_size required."""

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.model.minibatch import minibatch_indices

RNG = np.random.default_rng(0)
N = 1000
X = RNG.normal(size=(N, 2))
Y = X @ np.array([1.0, -2.0]) + 0.5 + RNG.normal(0, 1.0, N)


def model(Xv, yv, total_size=None):
    with pm.Model() as m:
        b = pm.Normal("b", 0, 10, shape=2)
        a = pm.Normal("a", 0, 10)
        s = pm.HalfNormal("s", 5)
        pm.Normal("y", pm.math.dot(Xv, b) + a, s, observed=yv, total_size=total_size)
    return m


def test_minibatch_regression_recovers_the_full_batch_answer():
    opt = pm.adam(learning_rate=0.005)
    with model(X, Y):
        full = pm.fit(6000, random_seed=1, progressbar=False, obj_optimizer=opt)
    Xm, ym = pm.Minibatch(X, Y, batch_size=100)  # made outside the model, as in PyMC's examples
    with model(Xm, ym, total_size=N) as m:
        mb = pm.fit(6000, random_seed=1, progressbar=False, obj_optimizer=opt)
    assert len(minibatch_indices(m)) == 1
    # within two posterior sds (the minibatch gradient is noisier, so its optimum wanders more)
    assert np.all(np.abs(mb.mean.eval() - full.mean.eval()) < 2 * full.std.eval())
    np.testing.assert_allclose(mb.std.eval(), full.std.eval(), rtol=0.35)
    idata = mb.sample(50, random_seed=1)
    assert idata.posterior["b"].shape == (1, 50, 2)


def test_rows_are_shared_and_redrawn():
    with pm.Model():
        Xd = pm.Data("X", X)
        Xm, ym = pm.Minibatch(Xd, Y, batch_size=7)
        assert Xm.shape == (7, 2) and ym.shape == (7,)
        rows = Xm.eval()
        idx = [int(np.flatnonzero((X == r).all(1))[0]) for r in rows]
        np.testing.assert_array_equal(ym.eval(), Y[idx])


def test_the_loss_sees_fresh_batches():
    """Against one fixed batch of the same size (same scaling), with 50 draws per step so that the
    approximation's own Monte Carlo noise is small: fresh rows each iteration make the loss jump ~300x more."""
    opt = pm.adam(learning_rate=0.05)
    Xm, ym = pm.Minibatch(X, Y, batch_size=10)
    with model(Xm, ym, total_size=N):
        fresh = pm.fit(300, random_seed=1, progressbar=False, obj_optimizer=opt, obj_n_mc=50)
    with model(X[:10], Y[:10], total_size=N):
        fixed = pm.fit(300, random_seed=1, progressbar=False, obj_optimizer=opt, obj_n_mc=50)
    assert np.std(np.diff(fresh.hist[100:])) > 30 * np.std(np.diff(fixed.hist[100:]))


def test_bad_input():
    with pytest.raises(TypeError, match="batch_size"):
        pm.Minibatch(X, batch_size=1.5)
    with pytest.raises(ValueError, match="same number of rows"):
        pm.Minibatch(X, Y[:10], batch_size=5)
    with pm.Model():
        x = pm.Normal("x", 0, 1, shape=10)
        with pytest.raises(ValueError, match="random variables"):
            pm.Minibatch(x, batch_size=5)
    Xm, ym = pm.Minibatch(X, Y, batch_size=10)
    with model(Xm, ym), pytest.raises(ValueError, match="total_size"):
        pm.fit(10, progressbar=False)

"""Graph nodes: operators, indexing, numpy protocol and pm.math build nodes that evaluate like numpy."""

import numpy as np
import pytest

import jaxmc as pm


@pytest.fixture
def xy():
    with pm.Model(coords={"N": range(4)}) as model:
        x = pm.Normal("x", dims="N")
        w = pm.Data("w", np.arange(12.0).reshape(4, 3))
        idx = pm.Data("idx", np.array([0, 2, 2, 3]))
    return model, x, w, idx


XV = np.array([0.5, -1.0, 2.0, 3.0])


def ev(node):
    return node.eval({"x": XV})


def test_arithmetic_and_comparisons(xy):
    _, x, w, _ = xy
    np.testing.assert_allclose(ev(x + 1), XV + 1)
    np.testing.assert_allclose(ev(2 - x), 2 - XV)
    np.testing.assert_allclose(ev(x * x / 2), XV * XV / 2)
    np.testing.assert_allclose(ev(x**2 + 1 / (1 + abs(x))), XV**2 + 1 / (1 + abs(XV)))
    np.testing.assert_allclose(ev(-x // 1), -XV // 1)
    np.testing.assert_array_equal(ev(x > 0), XV > 0)
    np.testing.assert_array_equal(ev((x > 0) & (x < 2.5)), (XV > 0) & (XV < 2.5))
    np.testing.assert_allclose(ev(x @ w), XV @ np.arange(12.0).reshape(4, 3))


def test_indexing(xy):
    _, x, w, idx = xy
    np.testing.assert_allclose(ev(x[1:3]), XV[1:3])
    np.testing.assert_allclose(ev(x[-1]), XV[-1])
    np.testing.assert_allclose(ev(x[idx]), XV[[0, 2, 2, 3]])
    np.testing.assert_allclose(ev(x[np.array([True, False, True, False])]), XV[[0, 2]])
    np.testing.assert_allclose(ev(w[:, 1] * x), np.arange(12.0).reshape(4, 3)[:, 1] * XV)
    np.testing.assert_allclose(ev(w.T[0]), np.arange(12.0).reshape(4, 3).T[0])
    with pytest.raises(IndexError, match="Boolean masks"):
        x[x > 0]


def test_methods_and_numpy_protocol(xy):
    _, x, w, _ = xy
    assert x.shape == (4,) and w.shape == (4, 3) and (x[None, :] + w.T).shape == (3, 4)
    np.testing.assert_allclose(ev(x.sum()), XV.sum())
    np.testing.assert_allclose(ev(x.reshape(2, 2).mean(axis=0)), XV.reshape(2, 2).mean(axis=0))
    np.testing.assert_allclose(ev(np.exp(x)), np.exp(XV))
    np.testing.assert_allclose(ev(np.dot(x, w)), XV @ np.arange(12.0).reshape(4, 3))
    np.testing.assert_allclose(ev(np.sum(x**2)), np.sum(XV**2))
    np.testing.assert_allclose(ev(np.stack([x, 2 * x])), np.stack([XV, 2 * XV]))
    np.testing.assert_allclose(ev(np.concatenate([x, x])), np.concatenate([XV, XV]))
    np.testing.assert_allclose(ev(x.cumsum()), XV.cumsum())
    with pytest.raises(TypeError, match="truth value"):
        if x > 0:
            pass


def test_pm_math(xy):
    _, x, _, _ = xy
    m = pm.math
    np.testing.assert_allclose(ev(m.invlogit(x)), 1 / (1 + np.exp(-XV)))
    np.testing.assert_allclose(ev(m.logit(m.sigmoid(x))), XV)
    np.testing.assert_allclose(ev(m.switch(x > 0, x, 0.0)), np.where(XV > 0, XV, 0))
    np.testing.assert_allclose(ev(m.logsumexp(x)), np.log(np.exp(XV).sum()))
    np.testing.assert_allclose(ev(m.log1pexp(x)), np.log1p(np.exp(XV)))
    np.testing.assert_allclose(ev(m.log1mexp(-abs(x) - 0.1)), np.log1p(-np.exp(-abs(XV) - 0.1)))
    np.testing.assert_allclose(ev(m.softmax(x)), np.exp(XV) / np.exp(XV).sum())
    np.testing.assert_allclose(ev(m.clip(x, 0, 1)), np.clip(XV, 0, 1))
    np.testing.assert_allclose(ev(m.sqr(x) + m.sqrt(abs(x))), XV**2 + np.sqrt(abs(XV)))
    np.testing.assert_array_equal(ev(m.eq(x, 2.0)), XV == 2.0)
    np.testing.assert_allclose(ev(m.det(m.stack([x[:2], x[2:]]))), np.linalg.det(XV.reshape(2, 2)))
    np.testing.assert_allclose(ev(m.matrix_inverse(m.stack([x[:2], x[2:]]))), np.linalg.inv(XV.reshape(2, 2)))
    np.testing.assert_allclose(ev(m.erf(x)), __import__("scipy.special").special.erf(XV))
    np.testing.assert_allclose(ev(m.set_subtensor(x[1:3], 0.0)), np.array([XV[0], 0, 0, XV[3]]))
    np.testing.assert_allclose(ev(m.inc_subtensor(x[0], 1.0)), XV + np.array([1, 0, 0, 0]))


def test_shape_error_names_operands(xy):
    _, x, w, _ = xy
    with pytest.raises(ValueError, match=r"dot to .w. with shape \(4, 3\), .x. with shape \(4,\)"):
        np.dot(w, x)


def test_pandas_series_and_frames_in_expressions():
    """An RV times a pandas Series (GLM notebooks write `beta[0] * df.salary`) uses the Series' values."""
    import pandas as pd

    salary = pd.Series([1.0, 2.0, 3.0], index=[10, 20, 30])
    with pm.Model():
        b = pm.Normal("b", shape=2)
        e = b[0] * salary
        f = pm.math.exp(b[1]) + pd.DataFrame({"x": [1.0, 2.0]})
    np.testing.assert_allclose(e.eval({"b": np.array([2.0, 0.0])}), [2.0, 4.0, 6.0])
    assert f.shape == (2, 1)

"""Silent wrong answers of the model layer, now refused or followed: out-of-range indices held in pm.Data,
shape=X.shape of a pm.Data, set_data coords of unused dims, integers float32 cannot hold, model.debug()'s
parameter conditions, asymmetric MvNormal covariances."""

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.debug import debug_report
from tests.bad_input.expect import expect_error


# ---------------------------------------------------------------------- integer indices held in pm.Data
def _indexed_model(g=(0, 1, 2, 1)):
    with pm.Model() as m:
        g = pm.Data("g", list(g))
        a = pm.Normal("a", 0, 1, shape=3)
        pm.Normal("y", a[g], 1, observed=np.arange(len(g), dtype=float))
    return m


def test_data_index_out_of_range_refused_at_build():
    """JAX clamps gathers: a[5] on a length-3 `a` read a[2] (a posterior for a[2] of 6.5)."""
    with pm.Model():
        g = pm.Data("g", [0, 1, 2, 5])
        a = pm.Normal("a", 0, 1, shape=3)
        err = expect_error(IndexError, r"'g'.*\[5\].*'a'.*length 3", lambda: a[g])
    assert "-3 to 2" in str(err)


def test_data_index_expression_out_of_range_refused_at_build():
    with pm.Model():
        g = pm.Data("g", [0, 1, 2])
        a = pm.Normal("a", 0, 1, shape=3)
        expect_error(IndexError, r"computed from pm.Data 'g'.*\[3\].*'a'", lambda: a[g + 1])


def test_data_index_on_second_axis_refused():
    with pm.Model():
        h = pm.Data("h", [0, 4])
        b = pm.Normal("b", 0, 1, shape=(2, 3))
        expect_error(IndexError, r"'h'.*\[4\].*axis 1 of 'b'.*length 3", lambda: b[:, h])


def test_set_data_index_out_of_range_refused_and_data_kept():
    """set_data({"g": [7, -5]}) predicted with groups 2 and 0."""
    m = _indexed_model()
    with m:
        expect_error(IndexError, r"set_data: pm.Data 'g'.*\[-5, 7\].*'a'.*length 3",
                     lambda: pm.set_data({"g": [7, -5]}))
    assert m.data_values()["g"].tolist() == [0, 1, 2, 1]


def test_negative_indices_follow_numpy():
    m = _indexed_model((-1, -3, 0, 2))
    with m:
        pm.set_data({"g": [-3, -1]})
        expect_error(IndexError, r"'g'.*\[-4\]", lambda: pm.set_data({"g": [-4, 0]}))


def test_index_into_data_that_grows_in_the_same_call():
    """The indexed data's new length counts, not the one it had at build time."""
    with pm.Model() as m:
        x = pm.Data("x", np.arange(3.0))
        idx = pm.Data("idx", [0, 2])
        b = pm.Normal("b", 0, 1)
        pm.Deterministic("mu", b * x[idx])
        pm.set_data({"x": np.arange(5.0), "idx": [4, 0]})
        expect_error(IndexError, r"'idx'.*\[5\].*'x'.*length 5", lambda: pm.set_data({"idx": [5]}))
    assert m.data_values()["idx"].tolist() == [4, 0]


def test_indexed_variable_shrinking_with_its_dim_refused():
    with pm.Model(coords={"group": ["a", "b", "c"]}) as m:
        pm.Data("w", np.ones(3), dims="group")
        g = pm.Data("g", [0, 2])
        a = pm.Normal("a", 0, 1, dims="group")
        pm.Normal("y", a[g], 1, observed=[0.0, 1.0])
        expect_error(IndexError, r"'g'.*\[2\].*'a'.*length 2",
                     lambda: pm.set_data({"w": np.ones(2)}, coords={"group": ["p", "q"]}))
        pm.set_data({"w": np.ones(2), "g": [1, -2]}, coords={"group": ["p", "q"]})
    assert m.dim_lengths["group"] == 2 and m.coords["group"] == ("p", "q")


def test_unused_index_expression_does_not_block_set_data():
    with pm.Model():
        g = pm.Data("g", [0, 1])
        a = pm.Normal("a", 0, 1, shape=3)
        _ = a[g]  # built, never used by the model
        pm.Normal("z", g * 1.0, 1)
        pm.set_data({"g": [5, 6]})


# ---------------------------------------------------------------------- shape=X.shape follows the data
def test_shape_from_data_follows_set_data():
    """shape=X.shape froze the build-time length: prior draws after set_data failed to broadcast."""
    with pm.Model() as m:
        x = pm.Data("x", np.arange(20.0))
        z = pm.Normal("z", 0, 1, shape=x.shape)
        w = pm.Normal("w", 0, 1, shape=(x.shape[0], 2))
        pm.Deterministic("s", z + x)
    pm.set_data({"x": np.arange(3.0)}, model=m)
    assert z.shape == (3,) and w.shape == (3, 2)
    assert m.initial_point()["z"].shape == (3,)
    prior = pm.sample_prior_predictive(draws=4, model=m, random_seed=1, return_inferencedata=False)
    assert prior["z"].shape == (1, 4, 3) and prior["s"].shape == (1, 4, 3) and prior["w"].shape == (1, 4, 3, 2)


def test_data_shape_entries_are_plain_ints_elsewhere():
    import pickle

    with pm.Model():
        x = pm.Data("x", np.zeros((4, 2)))
        assert x.shape == (4, 2) and np.zeros(x.shape).shape == (4, 2)
        assert type(pickle.loads(pickle.dumps(x.shape[0]))) is int
        assert type(x.shape[0] + 1) is int


def test_observed_shape_from_data_follows_set_data():
    """With observed values of fixed length, 1 new row silently gave the 20 old predictions."""
    rng = np.random.default_rng(0)
    with pm.Model() as m:
        x = pm.Data("x", rng.normal(size=20))
        b = pm.Normal("b", 0, 1)
        pm.Normal("y", b * x, 1, observed=rng.normal(size=20), shape=x.shape[0])
    pm.set_data({"x": np.array([0.5])}, model=m)
    prior = pm.sample_prior_predictive(draws=4, model=m, random_seed=1, return_inferencedata=False)
    assert prior["y"].shape == (1, 4, 1)


# ---------------------------------------------------------------------- set_data coords
def test_set_data_coords_of_an_unused_dim_refused():
    """Labels of a dim that no new value has were accepted, then replaced by 0..n-1."""
    with pm.Model(coords={"group": ["a", "b", "c"], "obs": range(4)}) as m:
        x = pm.Data("x", np.arange(4.0), dims="obs")
        a = pm.Normal("a", 0, 1, dims="group")
        pm.Normal("y", a[np.array([0, 1, 2, 0])] + x, 1, observed=np.zeros(4), dims="obs")
        expect_error(ValueError, r"set_data: coords for dim\(s\) \['group'\].*\['x'\]",
                     lambda: pm.set_data({"x": np.arange(4.0)}, coords={"group": ["p", "q"]}))
        expect_error(ValueError, r"\['nope'\]", lambda: pm.set_data({"x": np.arange(4.0)}, coords={"nope": [1]}))
        pm.set_data({"x": np.arange(2.0)}, coords={"obs": ["u", "v"]})  # a dim of the new values: fine
        pm.set_data({"x": np.arange(2.0)}, coords={"group": ["a", "b", "c"]})  # the labels it has: fine
    assert m.coords["group"] == ("a", "b", "c") and m.dim_lengths["group"] == 3
    assert m.coords["obs"] == ("u", "v")


# ---------------------------------------------------------------------- float32 mode and large integers
@pytest.fixture
def float32():
    pm.set_floatX("float32")
    yield
    pm.set_floatX("float64")


def test_float32_refuses_integers_above_int32(float32):
    """float32 mode wrapped 2**31 + 5 to a negative number (2**32 to 0)."""
    with pm.Model():
        expect_error(ValueError, r"Data 'ids'.*int32.*\[4294967296\]", lambda: pm.Data("ids", [1, 2**32]))
        pm.Data("small", [1, 2])
        expect_error(ValueError, r"set_data: 'small'.*int32.*\[2147483648\]",
                     lambda: pm.set_data({"small": np.array([2.0**31, 1.0])}))
        expect_error(ValueError, r"Data 'small'.*int32", lambda: pm.set_data({"small": [2**31, 1]}))


def test_float32_refuses_large_integer_parameters_and_observed_counts(float32):
    with pm.Model():
        expect_error(ValueError, r"parameter 'n'.*int32", lambda: pm.Binomial("k", n=2**33, p=0.5))
        expect_error(ValueError, r"Variable 'c': observed values.*int32",
                     lambda: pm.Poisson("c", 3.0, observed=np.array([1, 2**32])))


def test_float64_keeps_large_integers():
    with pm.Model() as m:
        pm.Data("ids", [1, 2**40])
    assert m.data_values()["ids"].tolist() == [1, 2**40]


# ---------------------------------------------------------------------- model.debug()'s conditions
def test_debug_reports_every_parameter_condition():
    """Conditions were zipped with parameter names: the last one of HyperGeometric and Multinomial was lost."""
    with pm.Model() as m:
        n = pm.Data("n", 12)
        pm.HyperGeometric("h", N=10, k=3, n=n, observed=2)
        pm.Multinomial("mn", n=pm.Data("count", -1), p=np.array([0.5, 0.5]))
    report = debug_report(m)
    assert "0 <= n <= N" in report
    assert "n >= 0" in report.split("variable 'mn'")[1]


# ---------------------------------------------------------------------- MvNormal covariance
def test_mvnormal_asymmetric_constant_covariance_refused():
    cov = np.array([[1.0, 0.5], [0.2, 1.0]])
    with pm.Model():
        expect_error(ValueError, r"cov is not symmetric.*cov\[0, 1\] = 0.5.*cov\[1, 0\] = 0.2",
                     lambda: pm.MvNormal("x", mu=np.zeros(2), cov=cov))
        expect_error(ValueError, r"tau is not symmetric", lambda: pm.MvNormal("t", mu=np.zeros(2), tau=cov))
        expect_error(ValueError, r"scale is not symmetric",
                     lambda: pm.MvStudentT("s", nu=3, mu=np.zeros(2), scale=cov))
        pm.MvNormal("ok", mu=np.zeros(2), cov=np.array([[1.0, 0.2], [0.2 + 1e-12, 1.0]]))  # rounding: fine


def test_mvnormal_reads_the_lower_triangle_as_pymc():
    """A symbolic covariance was used whole (JAX's Cholesky averages the triangles); PyMC reads the lower one."""
    scipy_stats = pytest.importorskip("scipy.stats")
    value = np.array([0.3, -0.4])
    with pm.Model() as m:
        c = pm.Data("c", np.array([[1.0, 0.5], [0.2, 1.0]]))
        pm.MvNormal("x", mu=np.zeros(2), cov=c, observed=value)
    expected = scipy_stats.multivariate_normal(np.zeros(2), [[1.0, 0.2], [0.2, 1.0]]).logpdf(value)
    assert np.isclose(float(m.compile_logp()({})), expected, rtol=1e-10)


def test_observed_support_checked_at_the_current_data_values():
    """A parameter held in pm.Data was tried as unknown (NaN): a Multinomial with n=pm.Data was refused."""
    with pm.Model() as m:
        pm.Multinomial("mn", n=pm.Data("count", 2), p=[0.5, 0.5], observed=[1, 1])
    assert np.isfinite(m.point_logps()["mn"])
    with pm.Model():
        expect_error(ValueError, r"Variable 'mn'.*outside the support of Multinomial",
                     lambda: pm.Multinomial("mn", n=pm.Data("count", 3), p=[0.5, 0.5], observed=[1, 1]))


def test_boolean_mask_of_the_wrong_length_refused():
    """numpy refuses a boolean index whose shape does not match; its indices were taken silently."""
    with pm.Model():
        x = pm.Normal("x", shape=3)
        expect_error(IndexError, r"boolean index of shape \(2,\) does not match 'x' along axis 0",
                     lambda: x[np.array([True, False])])
        assert x[np.array([True, False, True])].shape == (2,)

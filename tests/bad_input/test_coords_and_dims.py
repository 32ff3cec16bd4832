"""Bad coords, dims, shapes, supports, types and set_data calls: refused at build time, naming the variable, dim
or argument; coordinate labels keep their dtype (datetime64, strings, ints, pandas objects) in the ArviZ data."""

import numpy as np
import pytest

import jaxmc as pm
from jaxmc import convert
from tests.bad_input.expect import expect_error

COORDS = {"A": ["a", "b", "c"], "B": [1, 2]}

BUILD_CASES = [
    # dims
    ("dims twice", lambda m: pm.Normal("x", 0, 1, dims=("A", "A")), ValueError, r"'x'.*\['A'\] more than once"),
    ("dims twice in Data", lambda m: pm.Data("d", np.zeros((3, 3)), dims=("A", "A")), ValueError,
     r"'d'.*more than once"),
    ("dims twice in Deterministic", lambda m: pm.Deterministic("d", pm.Normal("x", 0, 1, dims="A")[:, None]
                                                               * np.ones(3), dims=("A", "A")),
     ValueError, r"'d'.*more than once"),
    ("dim chain", lambda m: pm.Normal("x", 0, 1, dims="chain", shape=2), ValueError, r"'x'.*'chain' is reserved"),
    ("dim draw in Data", lambda m: pm.Data("d", [1.0, 2.0], dims="draw"), ValueError, r"'draw' is reserved"),
    ("coord chain", lambda m: m.add_coord("chain", [0, 1]), ValueError, r"'chain' is reserved"),
    ("dims an int", lambda m: pm.Normal("x", 0, 1, dims=3), TypeError, r"'x': dims must be"),
    ("dims of ints", lambda m: pm.Normal("x", 0, 1, dims=(3,)), TypeError, r"'x'.*dims"),
    ("dim unknown", lambda m: pm.Normal("x", 0, 1, dims="Z"), ValueError, r"'x'.*\['Z'\] are unknown"),
    ("dims vs shape", lambda m: pm.Normal("x", 0, 1, dims=("A", "B"), shape=3), ValueError,
     r"'x'.*2 entries"),
    ("dims vs observed", lambda m: pm.Normal("x", 0, 1, dims="A", observed=[1.0, 2.0]), ValueError,
     r"'x'.*observed data has shape \(2,\)"),
    ("dims vs parameters", lambda m: pm.Normal("x", [0, 1], 1, dims="A"), ValueError, r"'x'.*dims \{'A': 3\}"),
    ("Deterministic dims", lambda m: pm.Deterministic("d", pm.Normal("x", 0, 1, dims="A") * 2, dims="B"),
     ValueError, r"'d': dim 'B' has length 2"),
    ("Potential dims", lambda m: pm.Potential("p", pm.Normal("x", 0, 1) * 1.0, dims="A"), ValueError,
     r"'p': dims \('A',\)"),
    ("Data dims length", lambda m: pm.Data("g", [1, 2], dims="A"), ValueError, r"'g': dim 'A'"),
    # coords
    ("coords 2-D", lambda m: m.add_coord("Z", np.zeros((2, 2))), ValueError, r"'Z' must be one-dimensional"),
    ("coords a number", lambda m: m.add_coord("Z", 3), TypeError, r"'Z' must be a sequence"),
    ("coords a string", lambda m: m.add_coord("Z", "abc"), TypeError, r"'Z' must be a sequence"),
    ("coords nested", lambda m: m.add_coord("Z", [[1, 2], [3, 4]]), ValueError, r"'Z' must be one-dimensional"),
    ("coords changed", lambda m: m.add_coord("A", ["x", "y"]), ValueError, r"incompatible coordinate 'A'"),
    ("dim name a number", lambda m: m.add_coord(3, [1, 2]), TypeError, r"dim names must be strings"),
    ("dim named like a variable", lambda m: (pm.Normal("x", 0, 1), pm.Normal("y", 0, 1, dims="x", shape=2)),
     ValueError, r"'y': dim 'x' conflicts with the variable 'x'"),
    ("coord named like a variable", lambda m: (pm.Normal("x", 0, 1), m.add_coord("x", [1, 2])), ValueError,
     r"add_coord\('x'\).*conflicts with the variable 'x'"),
    # shapes
    ("shape 2.5", lambda m: pm.Normal("x", 0, 1, shape=2.5), TypeError, r"'x': shape must be an int.*2\.5"),
    ("shape (2, 1.5)", lambda m: pm.Normal("x", 0, 1, shape=(2, 1.5)), TypeError, r"'x': shape"),
    ("shape '3'", lambda m: pm.Normal("x", 0, 1, shape="3"), TypeError, r"'x': shape"),
    ("shape -1", lambda m: pm.Normal("x", 0, 1, shape=-1), ValueError, r"'x'.*negative"),
    ("shape (None, 3)", lambda m: pm.Normal("x", 0, 1, shape=(None, 3)), TypeError, r"'x': shape"),
    ("size 2.5", lambda m: pm.Normal("x", 0, 1, size=2.5), TypeError, r"'x': size must be an int"),
    ("shape vs observed", lambda m: pm.Normal("x", 0, 1, shape=3, observed=[1.0, 2.0]), ValueError,
     r"'x': observed data has shape"),
    ("parameters broadcast", lambda m: pm.Normal("x", [0, 1, 2], [1, 1]), ValueError, r"'x'.*do not broadcast"),
    ("MvNormal cov shape", lambda m: pm.MvNormal("x", np.zeros(3), np.eye(2)), ValueError, r"'x'"),
    ("initval shape", lambda m: pm.Normal("x", 0, 1, shape=3, initval=[1.0, 2.0]), ValueError,
     r"'x': initval of shape \(2,\)"),
    # types and keywords
    ("transform a string", lambda m: pm.Normal("x", 0, 1, transform="log"), TypeError, r"'x': transform must be"),
    ("total_size a string", lambda m: pm.Normal("x", 0, 1, observed=[1.0], total_size="a"), TypeError,
     r"'x': total_size"),
    ("parameter a string", lambda m: pm.Normal("x", "a", 1), TypeError, r"'x'.*'mu' must be numeric"),
    ("parameter None", lambda m: pm.Normal("x", None, 1), TypeError, r"'x'.*'mu' must be numeric"),
    ("misspelled keyword", lambda m: pm.Normal("x", mu=0, sigm=1), TypeError, r"'x'.*Did you mean 'sigma'"),
    ("PyMC 3 sd=", lambda m: pm.Normal("x", 0, sd=1), TypeError, r"'x'.*\['sd'\]"),
    ("observed strings", lambda m: pm.Normal("x", 0, 1, observed=["a", "b"]), TypeError, r"'x'.*numeric"),
    ("observed a dict", lambda m: pm.Normal("x", 0, 1, observed={"a": 1}), TypeError, r"'x'.*numeric"),
    ("Data strings", lambda m: pm.Data("g", ["a", "b"]), TypeError, r"'g' must be numeric"),
    # supports
    ("Poisson observed -1", lambda m: pm.Poisson("x", 1, observed=[-1, 2]), ValueError,
     r"'x'.*outside the support of Poisson"),
    ("Poisson observed 1.5", lambda m: pm.Poisson("x", 1, observed=[1.5, 2]), ValueError, r"'x'.*integers"),
    ("Beta observed 2", lambda m: pm.Beta("x", 1, 1, observed=[0.5, 2.0]), ValueError, r"'x'.*Beta"),
    ("Bernoulli observed 2", lambda m: pm.Bernoulli("x", 0.5, observed=[0, 2]), ValueError, r"'x'.*Bernoulli"),
    ("Categorical observed 3", lambda m: pm.Categorical("x", p=[0.5, 0.5], observed=[0, 3]), ValueError,
     r"'x'.*Categorical"),
    # indices
    ("index out of bounds", lambda m: pm.Normal("x", 0, 1, dims="A")[5], IndexError, r"index 5.*'x'"),
    ("pm.Data index out of bounds", lambda m: pm.Normal("y", pm.Normal("x", 0, 1, dims="A")[pm.Data("g", [0, 5])],
                                                         1), IndexError, r"'g'.*\[5\].*'x'"),
]


#: cases whose check runs JAX code on the parameters (compiled on first use): no time limit
COMPILING = {"MvNormal cov shape"}


@pytest.mark.parametrize("case, build, exc, match", BUILD_CASES, ids=[c[0] for c in BUILD_CASES])
def test_bad_model_input(case, build, exc, match):
    with pm.Model(coords=COORDS) as m:
        expect_error(exc, match, lambda: build(m), seconds=None if case in COMPILING else 1.0)


def _data_model():
    with pm.Model(coords=COORDS) as m:
        x = pm.Data("x", [1.0, 2.0, 3.0], dims="A")
        g = pm.Data("g", [0, 1, 2])
        a = pm.Normal("a", 0, 1, shape=3)
        pm.Normal("y", a[g] * x, 1, observed=[1.0, 2.0, 3.0], dims="A")
    return m


SET_DATA_CASES = [
    ("unknown name", {"zz": [1.0]}, {}, KeyError, r"'zz' is not a pm.Data"),
    ("a random variable", {"a": [1.0, 2.0, 3.0]}, {}, KeyError, r"'a' is not a pm.Data"),
    ("length change without coords", {"x": [1.0, 2.0]}, {}, ValueError, r"dim 'A'.*coords=\{'A'"),
    ("more dimensions", {"x": [[1.0, 2.0, 3.0]]}, {}, ValueError, r"'x' has 1 dimensions"),
    ("strings", {"x": ["a", "b", "c"]}, {}, TypeError, r"'x' must be numeric"),
    ("floats for integers", {"g": [0.5, 1, 1]}, {}, TypeError, r"'g' holds integers"),
    ("index out of bounds", {"g": [0, 7, 1]}, {}, IndexError, r"'g'.*\[7\]"),
    ("coords of the wrong length", {"x": [1.0, 2.0]}, {"A": ["a"]}, ValueError, r"coords for dim 'A'"),
]


@pytest.mark.parametrize("new, coords, exc, match", [c[1:] for c in SET_DATA_CASES],
                         ids=[c[0] for c in SET_DATA_CASES])
def test_bad_set_data(new, coords, exc, match):
    with _data_model():
        expect_error(exc, match, lambda: pm.set_data(new, coords=coords or None))


# ---------------------------------------------------------------------- coords keep their dtype
def _labels():
    pd = pytest.importorskip("pandas")
    return {
        "ns": (np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[ns]"), "M"),
        "day": (np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"), "M"),
        "index": (pd.date_range("2021-03-01", periods=2), "M"),
        "str": (["u", "v"], "U"),
        "int": (np.array([10, 20]), "i"),
        "pd_str": (pd.Index(["p", "q"]), "U"),
        "cat": (pd.Categorical(["c1", "c2"]), "U"),
    }


def test_coords_keep_their_dtype_in_arviz_data():
    """datetime64 labels came back as int64 nanoseconds (datetime64[ns]) or Python dates (datetime64[D])."""
    labels = _labels()
    with pm.Model(coords={k: v for k, (v, _) in labels.items()}) as m:
        for dim in labels:
            pm.Normal(f"x_{dim}", 0, 1, dims=dim)
        idata = pm.sample_prior_predictive(draws=3, random_seed=1)
    prior = convert.group_dataset(idata, "prior")
    for dim, (values, kind) in labels.items():
        got = prior[dim].values
        assert got.dtype.kind in (kind, "O" if kind == "U" else kind), (dim, got.dtype)
        expected = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
        assert np.array_equal(got.astype(expected.dtype), expected), dim
    assert m.coords["ns"][0] == np.datetime64("2020-01-01", "ns")


def test_set_data_coords_keep_their_dtype():
    days = np.array(["2020-01-01", "2020-01-02", "2020-01-03"], dtype="datetime64[ns]")
    with pm.Model(coords={"t": days[:2]}) as m:
        x = pm.Data("x", [1.0, 2.0], dims="t")
        pm.Normal("y", x, 1, dims="t")
        pm.set_data({"x": [1.0, 2.0, 3.0]}, coords={"t": days})
        idata = pm.sample_prior_predictive(draws=2, random_seed=1)
    assert np.asarray(m.coords["t"]).dtype.kind == "M"
    assert np.array_equal(convert.group_dataset(idata, "prior")["t"].values, days)


def test_valid_shapes_and_dims_stay_accepted():
    with pm.Model(coords=COORDS) as m:
        X = pm.Data("X", np.zeros((4, 2)))
        pm.Normal("s", 0, 1, shape=())
        pm.Normal("l", 0, 1, shape=[2, 3])
        pm.Normal("n", 0, 1, shape=np.int64(3))
        pm.Normal("t", 0, 1, shape=(np.int32(2),))
        pm.Normal("d", 0, 1, shape=X.shape)
        pm.Normal("z", 0, 1, size=2)
        pm.Normal("o", 0, 1, dims=("A", None), shape=(3, 4))
    assert [m[n].shape for n in "slntdzo"] == [(), (2, 3), (3,), (2,), (4, 2), (2,), (3, 4)]

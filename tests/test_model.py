"""Model building: coords, data, registries, compiled functions, and clear errors for bad input."""

import numpy as np
import pandas as pd
import pytest

import jaxmc as pm


def regression(n=20):
    rng = np.random.default_rng(0)
    with pm.Model(coords={"obs": np.arange(n)}) as model:
        x = pm.Data("x", rng.normal(size=n), dims="obs")
        y = pm.Data("y", rng.normal(size=n), dims="obs")
        a = pm.Normal("a", 0, 1)
        s = pm.HalfNormal("s", 1)
        mu = pm.Deterministic("mu", a * x, dims="obs")
        pm.Normal("lik", mu, s, observed=y, dims="obs")
    return model


def test_registries_and_names():
    model = regression()
    assert [v.name for v in model.free_RVs] == ["a", "s"]
    assert [v.name for v in model.observed_RVs] == ["lik"]
    assert [v.name for v in model.deterministics] == ["mu"]
    assert [v.name for v in model.value_vars] == ["a", "s_log__"]
    assert set(model.named_vars) == {"x", "y", "a", "s", "mu", "lik"}
    assert model.named_vars_to_dims["lik"] == ("obs",)
    assert model.coords["obs"] == tuple(range(20))
    assert model["a"] is model.free_RVs[0]
    assert "s ~ HalfNormal" in str(model)


def test_context_reentry_and_modelcontext():
    with pm.Model() as model:
        pm.Normal("a")
    with model:
        pm.Normal("b")
        assert pm.modelcontext(None) is model
    assert [v.name for v in model.free_RVs] == ["a", "b"]
    with pytest.raises(TypeError, match="No model on context stack"):
        pm.modelcontext(None)


def test_coords_from_pandas_and_add_coords():
    df = pd.DataFrame({"u": [1.0, 2.0, 3.0], "v": [4.0, 5.0, 6.0]}, index=["r1", "r2", "r3"])
    with pm.Model() as model:
        model.add_coords({"k": pd.Index(["p", "q"])})
        X = pm.Data("X", df, dims=("row", "col"), infer_dims_and_coords=True)
        s = pm.Data("s", df["u"], dims="row")
        pm.Normal("z", dims="k")
    assert model.coords["row"] == ("r1", "r2", "r3")
    assert model.coords["col"] == ("u", "v")
    assert model.coords["k"] == ("p", "q")
    assert X.shape == (3, 2) and s.shape == (3,)
    assert model.initial_point()["z"].shape == (2,)
    # as PyMC, a pandas index gives coords only when asked: otherwise the dim has a length and no labels, so
    # set_data may change the length without new coords
    with pm.Model() as plain:
        pm.Data("s", df["u"], dims="row")
    assert plain.coords["row"] is None and plain.dim_lengths["row"] == 3
    plain.set_data("s", np.arange(5.0))
    assert plain.dim_lengths["row"] == 5


def test_initial_point_initval_and_transform_override():
    with pm.Model() as model:
        pm.HalfNormal("s", 1, initval=2.0)
        pm.Normal("o", shape=3, transform=pm.distributions.transforms.ordered, initval=[-1.0, 0.0, 2.0])
        pm.Normal("r", default_transform=None)
        pm.HalfNormal("h", transform=None)
    ip = model.initial_point()
    assert set(ip) == {"s_log__", "o_ordered__", "r", "h"}
    np.testing.assert_allclose(ip["s_log__"], np.log(2.0))
    np.testing.assert_allclose(ip["o_ordered__"], [-1.0, 0.0, np.log(2.0)])


def test_logp_dlogp_point_logps_match_hand_computation():
    model = regression()
    point = {"a": np.array(0.3), "s_log__": np.array(-0.2)}
    x, y = model.data_values()["x"], model.data_values()["y"]
    from scipy import stats

    s = np.exp(-0.2)
    expected = (stats.norm.logpdf(0.3) + stats.halfnorm.logpdf(s) - 0.2
                + stats.norm.logpdf(y, 0.3 * x, s).sum())
    np.testing.assert_allclose(model.compile_logp()(point), expected, rtol=1e-10)
    np.testing.assert_allclose(model.compile_logp(jacobian=False)(point), expected + 0.2, rtol=1e-10)
    grad = model.compile_dlogp()(point)
    eps = 1e-6
    num = (model.compile_logp()({"a": 0.3 + eps, "s_log__": -0.2})
           - model.compile_logp()({"a": 0.3 - eps, "s_log__": -0.2})) / (2 * eps)
    np.testing.assert_allclose(grad[0], num, rtol=1e-6)
    logps = model.point_logps(point)
    assert set(logps) == {"a", "s", "lik"}


def test_potential_and_deterministic():
    with pm.Model() as model:
        a = pm.Normal("a")
        pm.Potential("pen", -(a**2))
        d = pm.Deterministic("d", 2 * a)
    np.testing.assert_allclose(model.compile_logp()({"a": 1.0}), -0.5 - np.log(np.sqrt(2 * np.pi)) - 1)
    assert d.eval({"a": 1.5}) == 3.0


def test_data_is_an_argument_no_retrace(traces):
    model = regression()
    f = model.compile_logp()
    point = model.initial_point()
    f(point)
    before = traces["logp"]
    rng = np.random.default_rng(5)
    values = []
    for _ in range(10):
        pm.set_data({"x": rng.normal(size=20), "y": rng.normal(size=20)}, model=model)
        values.append(float(f(point)))
    assert traces["logp"] == before
    assert len(set(values)) == 10  # the new data were used


def test_float32_selectable():
    pm.set_floatX("float32")
    try:
        model = regression()
        point = {"a": np.float32(0.3), "s_log__": np.float32(-0.2)}
        v32 = model.compile_logp()(point)
        assert v32.dtype == np.float32
        assert model.data_values()["x"].dtype == np.float32
    finally:
        pm.set_floatX("float64")
    v64 = regression().compile_logp()(point)
    np.testing.assert_allclose(v32, v64, rtol=1e-5)


def test_debug_reports_bad_term(capsys):
    with pm.Model() as model:
        a = pm.Normal("a")
        pm.Normal("y", mu=a, sigma=a - 10.0, observed=np.zeros(3))
    model.debug()
    out = capsys.readouterr().out
    assert "'y'" in out and "sigma > 0" in out
    with pm.Model() as ok:
        pm.Normal("a")
    ok.debug()
    assert "No problems found" in capsys.readouterr().out


# ---------------------------------------------------------------------- bad input
@pytest.fixture
def coords_model():
    return pm.Model(coords={"N": range(3), "M": ["a", "b"]})


@pytest.mark.parametrize("build, err, pattern", [
    (lambda: pm.Normal("x", dims="K"), ValueError, r"'x'.*dim\(s\) \['K'\] are unknown.*add_coord"),
    (lambda: pm.Normal("x", mu=np.zeros(4), dims="N"), ValueError,
     r"'x'.*mu\(4,\).*requested shape \(3,\).*dims \{'N': 3\}"),
    (lambda: pm.Normal("x", observed=np.zeros(4), dims="N"), ValueError,
     r"'x': observed data has shape \(4,\) but dims \('N',\) have lengths \(3,\)"),
    (lambda: pm.Normal("x", shape=(3,), dims=("N", "M")), ValueError, r"'x': dims \('N', 'M'\) have 2 entries"),
    (lambda: pm.Normal("x", observed=np.zeros((3, 2)), dims="N"), ValueError, r"'x': dims \('N',\) have 1 entries"),
    (lambda: pm.HalfNormal("x", observed=np.array([1.0, -1.0, 2.0])), ValueError,
     r"'x': 1 observed value\(s\) outside the support of HalfNormal, at index \[\(1,\)\] \(values \[-1.0\]\)"),
    (lambda: pm.Normal("x", mu="a"), TypeError, r"'x'.*parameter 'mu' must be numeric"),
    (lambda: (pm.Normal("x"), pm.Normal("x")), ValueError, r"Variable name 'x' already exists"),
    (lambda: pm.Normal("x", mu=0, sgima=1), TypeError, r"'x'.*unknown keyword.*sgima.*Did you mean 'sigma'"),
    (lambda: pm.Data("d", np.zeros(4), dims="N"), ValueError, r"Data 'd': dim 'N' has length 3.*length 4"),
    (lambda: pm.Normal("x", observed=["a", "b", "c"]), TypeError, r"'x': observed values must be numeric"),
])
def test_bad_input_messages(coords_model, build, err, pattern):
    with coords_model:
        with pytest.raises(err, match=pattern):
            build()


def test_variable_outside_model():
    with pytest.raises(TypeError, match=r"'x' \(Normal\) was created outside a model"):
        pm.Normal("x")


def test_set_data_checks():
    with pm.Model(coords={"obs": ["a", "b", "c"]}) as model:
        x = pm.Data("x", np.zeros(3), dims="obs")
        y = pm.Data("y", np.zeros(3), dims="obs")
        pm.Normal("lik", x, 1, observed=y, dims="obs")
    with pytest.raises(ValueError, match=r"dim 'obs' changes length from 3 to 2.*coords=\{'obs'"):
        pm.set_data({"x": np.zeros(2), "y": np.zeros(2)}, model=model)
    # as PyMC: observed data may keep their length while the predictors change (predictions for new rows);
    # other data on the dim may not (tests/test_predictive_pymc_semantics.py)
    pm.set_data({"x": np.zeros(2)}, model=model, coords={"obs": ["p", "q"]})
    assert model.dim_lengths["obs"] == 2 and model.data.value("y").shape == (3,)
    with pytest.raises(KeyError, match="not a pm.Data variable"):
        pm.set_data({"lik": np.zeros(3)}, model=model)
    pm.set_data({"x": np.ones(2), "y": np.ones(2)}, model=model, coords={"obs": ["p", "q"]})
    assert model.coords["obs"] == ("p", "q") and model.dim_lengths["obs"] == 2


def test_missing_data_imputed_like_pymc():
    from tests.helpers import pymc_parity

    def build(pm_):
        with pm_.Model(coords={"i": range(5)}) as m:
            mu = pm_.Normal("mu")
            s = pm_.HalfNormal("s")
            pm_.Normal("y", mu, s, observed=np.array([1.0, np.nan, 2.0, np.nan, 3.0]), dims="i")
            pm_.HalfNormal("z", s, observed=np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0]))
        return m

    with pytest.warns(pm.model.ImputationWarning, match="Data in y contains missing values"):
        jm, _ = pymc_parity(build)
    assert [v.name for v in jm.value_vars] == ["mu", "s_log__", "y_unobserved", "z_unobserved_log__"]
    assert [v.name for v in jm.observed_RVs] == ["y_observed", "z_observed"]
    assert jm.named_vars_to_dims["y"] == ("i",)


def test_imputed_values_have_the_right_posterior():
    """y_i ~ N(mu, 1), mu ~ N(0, 10): an imputed y has posterior mean E[mu | data] and variance 1 + var."""
    import warnings

    data = np.array([1.0, 2.5, np.nan, 0.5, 1.5, np.nan])
    with pm.Model() as model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mu = pm.Normal("mu", 0, 10)
        pm.Normal("y", mu, 1.0, observed=data)
        idata = pm.sample(draws=1500, tune=500, chains=2, progressbar=False, random_seed=4)
    obs = data[~np.isnan(data)]
    prec = 1 / 100 + len(obs)
    post_mean, post_var = obs.sum() / prec, 1 / prec
    imputed = idata.posterior["y_unobserved"].values.reshape(-1, 2)
    full = idata.posterior["y"].values.reshape(-1, 6)
    np.testing.assert_allclose(full[:, [0, 1, 3, 4]], np.broadcast_to(obs, (len(full), 4)))
    se = np.sqrt((1 + post_var) / 400)  # conservative MCSE (ESS >= 400)
    assert np.all(np.abs(imputed.mean(0) - post_mean) < 4 * se)
    np.testing.assert_allclose(imputed.var(0), 1 + post_var, rtol=0.15)


def test_logp_without_jacobian_keeps_the_compiled_sampler():
    """One cache for every compiled program: compiling another log density does not evict the sampler's."""
    with pm.Model() as model:
        pm.HalfNormal("s", 1.0)
        pm.sample(draws=10, tune=10, chains=1, progressbar=False, compute_convergence_checks=False)
    sampler = model.programs("sample executables")
    assert len(sampler) == 1
    model.compile_logp(jacobian=False)(model.initial_point())
    assert model.programs("sample executables") == sampler
    assert len(model.programs("logp")) == 2  # with and without the Jacobian
    with model:
        pm.Normal("x", 0.0, 1.0)  # a new variable: the old programs no longer apply
    assert model.programs("sample executables") == []

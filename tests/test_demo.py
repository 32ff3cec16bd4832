"""The bundled phones data set, the demo (`python -m jaxmc.demo`), and the flagship workflow against PyMC.

PyMC comparison (test_flagship_*): the talk's snippet, run unchanged with jaxmc and with PyMC (its own NUTS,
cores=1) on the bundled data. Each compared quantity q (posterior means of m, b, sigma; per new phone the
posterior predictive mean and the 2.5% and 97.5% quantiles) is estimated by both, each with its Monte Carlo
standard error from ArviZ (`az.mcse`, method "mean" or "quantile", which accounts for autocorrelation via
the effective sample size). The test statistic is z = (q_jaxmc - q_pymc) / sqrt(mcse_jaxmc^2 + mcse_pymc^2)
and every |z| must be below 4: under correct sampling each z is ~N(0, 1), so a false alarm among the 36
comparisons has probability ~36 * 6e-5 ~ 0.2% (and the seeds are fixed).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest

from jaxmc.convert import from_dict, group_dataset
from jaxmc.datasets import COLUMNS, FEATURES, load_phones, phones_arrays
from jaxmc.datasets import generate as gen
from tests.helpers import pytensor_compiled

DRAWS, TUNE, CHAINS = 1000, 500, 2
Z_MAX = 4.0


# ---------------------------------------------------------------------- (a) the data set
def test_load_phones_columns_and_dtypes():
    df = load_phones()
    assert tuple(df.columns) == COLUMNS
    assert len(df) == gen.N_TRAIN + gen.N_NEW == 1510
    assert pd.api.types.is_string_dtype(df["phone_id"]) and df["phone_id"].is_unique
    for col in (*FEATURES, "share_on_topic", "share_on_topic_err"):
        assert df[col].dtype == np.float64, col
    assert df["n_messages"].dtype == np.int64
    assert df["is_new"].dtype == bool
    assert int(df["is_new"].sum()) == 10 and df["is_new"].iloc[-10:].all()

    train, new = df[~df["is_new"]], df[df["is_new"]]
    assert new["share_on_topic"].isna().all() and train["share_on_topic"].notna().all()
    assert df["share_on_topic_err"].notna().all() and (df["share_on_topic_err"] > 0).all()
    # realistic ranges: centralities/reciprocity in (0, 1), burstiness in (-1, 1), hundreds..thousands msgs
    for col in ("degree_centrality", "betweenness_centrality", "reciprocity"):
        assert df[col].between(0, 1, inclusive="neither").all(), col
    assert df["burstiness"].between(-1, 1, inclusive="neither").all()
    assert df["n_messages"].min() >= 100 and 1000 <= df["n_messages"].median() <= 5000
    assert df["betweenness_centrality"].skew() > 2  # lognormal: heavy right tail
    # binomial standard errors (10 significant digits in the CSV)
    p, n = train["share_on_topic"], train["n_messages"]
    np.testing.assert_allclose(train["share_on_topic_err"], np.sqrt(p * (1 - p) / n), rtol=1e-8)
    pbar = p.mean()
    np.testing.assert_allclose(new["share_on_topic_err"], np.sqrt(pbar * (1 - pbar) / new["n_messages"]),
                               rtol=1e-8)
    # shares are counts over n_messages
    k = p * n
    np.testing.assert_allclose(k, np.round(k), atol=1e-5)


def test_phones_csv_regenerates_bit_for_bit():
    text = gen.to_csv_text(gen.simulate())
    with open(gen.CSV_PATH) as f:
        assert f.read() == text
    pd.testing.assert_frame_equal(gen.generate(), load_phones(), check_exact=True)
    pd.testing.assert_frame_equal(gen.read_csv_text(io.StringIO(text)), load_phones(), check_exact=True)
    assert gen.main(["--check"]) == 0
    assert gen.to_csv_text(gen.simulate(seed=gen.SEED + 1)) != text


def test_phones_arrays():
    a = phones_arrays()
    assert a.X.shape == (1500, 4) and a.X_new.shape == (10, 4)
    assert a.y.shape == a.y_err.shape == a.ids.shape == (1500,)
    assert a.err_new.shape == a.new_ids.shape == (10,)
    assert a.features == list(FEATURES)
    np.testing.assert_allclose(a.X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(a.X.std(axis=0), 1, rtol=1e-12)
    df = load_phones()
    new = df[df["is_new"]]
    np.testing.assert_allclose(a.X_new * a.sd + a.mean, new[list(FEATURES)].to_numpy(), rtol=1e-12)
    assert list(a.new_ids) == list(new["phone_id"]) and np.all(np.isfinite(a.y))


def test_data_fit_has_tiny_posterior_variances_and_overdispersion():
    """Weighted least squares: coefficient variances ~1e-7 and a residual multiplier ~1.5."""
    a = phones_arrays()
    A = np.column_stack([a.X, np.ones(len(a.y))]) / a.y_err[:, None]
    beta, *_ = np.linalg.lstsq(A, a.y / a.y_err, rcond=None)
    s = np.sqrt(np.mean((a.y / a.y_err - A @ beta) ** 2))
    var = np.diag(np.linalg.inv(A.T @ A)) * s**2
    assert 1.3 < s < 1.7
    assert np.all((1e-8 < var) & (var < 5e-7))
    np.testing.assert_allclose(beta[:4], [gen.COEFS[f] for f in FEATURES], atol=0.003)


# ---------------------------------------------------------------------- (b) the demo
def test_demo_main_writes_plots_and_tables(tmp_path, capsys):
    from jaxmc import demo

    out = tmp_path / "demo"
    assert demo.main(["--draws", "300", "--tune", "300", "--chains", "2", "--seed", "3", "--out", str(out),
                      "--no-progress"]) == 0
    text = capsys.readouterr().out
    for name in ("coefficients.png", "predictions.png"):
        png = (out / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000, name
        assert str((out / name).resolve()) in text
    assert "max r_hat" in text and "min ESS bulk" in text and "divergences" in text
    for f in FEATURES:
        assert f"m[{f}]" in text
    assert "sigma" in text and "hdi_2.5%" in text
    pred_lines = [line for line in text.splitlines() if line.startswith("P15")]
    assert len(pred_lines) == 10
    for line in pred_lines:  # phone, n_messages, mean, 2.5%, 97.5%
        _, _, mean, lo, hi = line.split()
        assert 0 < float(lo) < float(mean) < float(hi) < 1
    assert "2.5%" in text and "97.5%" in text


def test_demo_tables():
    """The printed tables' builders, on a tiny fake posterior."""
    from jaxmc import demo

    rng = np.random.default_rng(0)
    post = {"m": rng.normal(size=(2, 50, 4)), "b": rng.normal(size=(2, 50)), "sigma": rng.gamma(5, size=(2, 50))}
    idata = from_dict({"posterior": post, "sample_stats": {"diverging": np.zeros((2, 50), bool),
                                                            "tree_depth": np.ones((2, 50))}},
                      coords={"M": list(FEATURES)}, dims={"m": ["M"]})
    table = demo.coefficient_table(idata)
    assert list(table.index) == [f"m[{f}]" for f in FEATURES] + ["b", "sigma"]
    np.testing.assert_allclose(table["var"], table["sd"] ** 2)
    conv = demo.convergence(idata)
    assert conv["divergences"] == 0 and conv["max_r_hat"] > 0.9
    pred = from_dict({"predictions": {"y_pred": rng.normal(size=(2, 50, 3))}}, coords={"N": ["a", "b", "c"]},
                     dims={"y_pred": ["N"]})
    pt = demo.prediction_table(pred, [1, 2, 3])
    draws = pred.predictions["y_pred"].values.reshape(100, 3)
    np.testing.assert_allclose(pt["97.5%"], np.quantile(draws, 0.975, axis=0))
    assert list(pt.index) == ["a", "b", "c"] and list(pt["n_messages"]) == [1, 2, 3]


# ---------------------------------------------------------------------- (c) the flagship vs PyMC
def _flagship(pm, **sample_kwargs):
    """The talk's code, unchanged apart from the number of draws and a seed."""
    a = phones_arrays()
    data_features, target, target_err = a.X, a.y, a.y_err
    X_new, err_new, new_ids = a.X_new, a.err_new, a.new_ids
    with pm.Model(coords={"N": a.ids, "M": a.features}) as model:
        X = pm.Data("X", data_features, dims=("N", "M"))
        y = pm.Data("y", target, dims="N")
        y_err = pm.Data("y_err", target_err, dims="N")
        m = pm.Normal("m", mu=0, sigma=1, dims="M")
        b = pm.Normal("b", mu=0, sigma=1)
        sigma = pm.HalfNormal("sigma", sigma=1) * y_err
        y_pred = pm.math.dot(X, m) + b
        pm.Normal("y_pred", mu=y_pred, sigma=sigma, observed=y, dims="N")
        idata = pm.sample(draws=DRAWS, tune=TUNE, chains=CHAINS, **sample_kwargs)
    # new rows (new phones): predictions with 95% credible intervals
    with model:
        pm.set_data({"X": X_new, "y": np.zeros(len(X_new)), "y_err": err_new}, coords={"N": new_ids})
        pred = pm.sample_posterior_predictive(idata, predictions=True, random_seed=7, progressbar=False)
    return idata, pred


@pytest.fixture(scope="module")
def jaxmc_run():
    import jaxmc

    return _flagship(jaxmc, random_seed=11, progressbar=False)


@pytest.fixture(scope="module")
def pymc_run():
    pymc = pytest.importorskip("pymc")
    with warnings.catch_warnings(), pytensor_compiled():
        warnings.simplefilter("ignore")
        return _flagship(pymc, random_seed=12, progressbar=False, cores=1, compute_convergence_checks=False)


def _estimates(ds, var):
    """(mean, mcse of mean, q2.5, mcse, q97.5, mcse) of ds[var] over (chain, draw), per remaining element."""
    import arviz as az

    x = ds[[var]]
    out = [x[var].mean(("chain", "draw")).values, az.mcse(x, method="mean")[var].values]
    for prob in (0.025, 0.975):
        out += [x[var].quantile(prob, dim=("chain", "draw")).values,
                az.mcse(x, method="quantile", prob=prob)[var].values]
    return [np.atleast_1d(np.asarray(v, float)) for v in out]


def _z(a, sa, b, sb):
    return (a - b) / np.sqrt(sa**2 + sb**2)


def test_flagship_posterior_matches_pymc(jaxmc_run, pymc_run):
    jpost, ppost = group_dataset(jaxmc_run[0], "posterior"), group_dataset(pymc_run[0], "posterior")
    assert list(jpost["m"]["M"].values) == list(ppost["m"]["M"].values) == list(FEATURES)
    zs = {}
    for var in ("m", "b", "sigma"):
        jm, js, *_ = _estimates(jpost, var)
        pmean, ps, *_ = _estimates(ppost, var)
        zs[var] = _z(jm, js, pmean, ps)
        # the posterior sds agree too (coefficient variances are ~1e-7: the sampler must resolve them)
        jsd = np.atleast_1d(jpost[var].std(("chain", "draw")).values)
        psd = np.atleast_1d(ppost[var].std(("chain", "draw")).values)
        np.testing.assert_allclose(jsd, psd, rtol=0.15, err_msg=var)
    assert all(np.all(np.abs(z) < Z_MAX) for z in zs.values()), zs
    assert np.all(np.atleast_1d(jpost["m"].var(("chain", "draw")).values) < 1e-6)


def test_flagship_predictions_match_pymc(jaxmc_run, pymc_run):
    jp, pp = group_dataset(jaxmc_run[1], "predictions"), group_dataset(pymc_run[1], "predictions")
    new_ids = phones_arrays().new_ids
    assert list(np.asarray(jp["N"].values).astype(str)) == list(new_ids)
    assert list(np.asarray(pp["N"].values).astype(str)) == list(new_ids)
    assert jp["y_pred"].shape == pp["y_pred"].shape == (CHAINS, DRAWS, 10)
    je, pe = _estimates(jp, "y_pred"), _estimates(pp, "y_pred")
    for i, what in enumerate(("mean", "2.5% quantile", "97.5% quantile")):
        z = _z(je[2 * i], je[2 * i + 1], pe[2 * i], pe[2 * i + 1])
        assert np.all(np.abs(z) < Z_MAX), (what, z, je[2 * i], pe[2 * i])
    # sanity: the intervals are sigma * err wide around the linear predictor (about +-1.96 * 1.5 * err)
    width = je[4] - je[2]
    np.testing.assert_allclose(width, 2 * 1.96 * 1.52 * phones_arrays().err_new, rtol=0.15)

"""pm.sample_smc: the log marginal likelihood of a conjugate model, draws against known posteriors (eight
schools' posteriordb reference, a two-mode mixture NUTS cannot cross), PyMC's output layout, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import jaxmc as pm
from jaxmc import convert
from jaxmc.multitrace import MultiTrace
from jaxmc.sampling import SamplingError
from jaxmc.smc import IMH, MH, sample_smc

Y = np.array([0.3, 1.2, 0.8, 2.1, 1.4])
PRIOR_SD = 2.0


N, C = 500, 2  # one program shape for the tests on the conjugate model: compiled once per kernel


def _build():
    with pm.Model(coords={"obs": np.arange(len(Y))}) as m:
        mu = pm.Normal("mu", 0.0, PRIOR_SD)
        pm.Normal("y", mu, 1.0, observed=Y, dims="obs")
    return m


_MODEL = []


def _conjugate():
    """The conjugate model, built once (its compiled SMC programs are cached on it)."""
    if not _MODEL:
        _MODEL.append(_build())
    return _MODEL[0]


def _analytic():
    """log p(y) = log N(y | 0, I + s^2 11^T); posterior of mu: N(s^2 sum y / (1 + n s^2), s^2 / (1 + n s^2))."""
    from scipy.stats import multivariate_normal

    n, s2 = len(Y), PRIOR_SD**2
    lml = multivariate_normal(np.zeros(n), np.eye(n) + s2).logpdf(Y)
    return lml, s2 * Y.sum() / (1 + n * s2), np.sqrt(s2 / (1 + n * s2))


@pytest.mark.parametrize("kernel", [IMH, MH])
def test_log_marginal_likelihood_of_conjugate_model(kernel):
    lml, mean, sd = _analytic()
    idata = sample_smc(N, kernel=kernel, chains=C, random_seed=11, progressbar=False, model=_conjugate())
    got = idata.sample_stats["log_marginal_likelihood"].values
    last = got[:, -1]
    assert np.all(np.isnan(got[:, :-1])) and np.all(np.abs(last - lml) < 0.12), (last, lml)
    mu = idata.posterior["mu"].values
    assert mu.shape == (C, N)
    assert abs(mu.mean() - mean) < 4 * sd / np.sqrt(C * N / 2) and abs(mu.std() / sd - 1) < 0.08
    beta = idata.sample_stats["beta"].values
    assert np.all(beta[:, -1] == 1.0) and np.all(np.diff(beta, axis=1) > 0)


def test_output_layout_as_pymc():
    """sample_stats: dims (chain, <stat>_dim_0) over stages, the settings as attributes; posterior with the
    model's coords and deterministics; a model variable named like a statistic keeps its own dims."""
    with pm.Model(coords={"coef": ["a", "b"]}) as m:
        beta = pm.Normal("beta", 0.0, 1.0, dims="coef")
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Deterministic("total", beta.sum())
        pm.Normal("y", beta[0] + beta[1], sigma, observed=np.array([0.5, 1.0, 0.7]))
        idata = sample_smc(200, kernel=MH, chains=2, random_seed=1, progressbar=False)
        trace = sample_smc(200, chains=2, random_seed=1, progressbar=False, return_inferencedata=False)
    post, stats = idata.posterior, idata.sample_stats
    assert post["beta"].dims == ("chain", "draw", "coef") and list(post["coef"].values) == ["a", "b"]
    assert post["sigma"].values.min() > 0
    np.testing.assert_allclose(post["total"].values, post["beta"].values.sum(-1), rtol=1e-12)
    assert set(stats.data_vars) == {"log_marginal_likelihood", "beta", "mean_accept_rate", "mean_proposal_scale"}
    assert stats["beta"].dims == ("chain", "beta_dim_0")
    for key in ("_n_draws", "threshold", "_n_tune", "correlation_threshold", "_t_sampling"):
        assert key in stats.attrs
    assert stats.attrs["_n_draws"] == 200 and stats.attrs["threshold"] == 0.5
    assert "observed_data" in convert.group_names(idata)
    assert isinstance(trace, MultiTrace) and trace.nchains == 2 and len(trace) == 200
    assert trace["beta"].shape == (400, 2)
    assert trace.report.beta.shape[0] == 2 and np.all(trace.report.beta[:, -1] == 1.0)
    assert set(trace.report.accept_rate.shape) and trace.report._n_draws == 200


def test_seeds_reproduce_and_chains_differ():
    m = _conjugate()
    a = sample_smc(N, chains=C, random_seed=5, progressbar=False, model=m, compute_convergence_checks=False)
    b = sample_smc(N, chains=C, random_seed=5, progressbar=False, model=m, compute_convergence_checks=False)
    c = sample_smc(N, chains=C, random_seed=6, progressbar=False, model=m, compute_convergence_checks=False)
    np.testing.assert_array_equal(a.posterior["mu"].values, b.posterior["mu"].values)
    assert not np.array_equal(a.posterior["mu"].values, c.posterior["mu"].values)
    assert not np.array_equal(a.posterior["mu"].values[0], a.posterior["mu"].values[1])


def test_two_mode_mixture_weights():
    """Modes at -5 and 5 (weights 0.3, 0.7) with a flat likelihood between them: SMC's particles keep both
    modes with the prior's weights, where a NUTS chain stays in the mode it starts in."""
    with pm.Model() as m:
        x = pm.NormalMixture("x", w=np.array([0.3, 0.7]), mu=np.array([-5.0, 5.0]), sigma=np.array([0.5, 0.5]))
        pm.Normal("y", x, 10.0, observed=0.0)
    idata = sample_smc(1000, chains=2, random_seed=3, progressbar=False, model=m)
    xs = idata.posterior["x"].values
    frac = (xs < 0).mean()
    # the particles are correlated through resampling: 4 standard errors of an ESS of half of them
    assert abs(frac - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 1000), frac
    assert np.all(np.abs((xs < 0).mean(axis=1) - 0.3) < 0.08)
    assert abs(xs[xs < 0].mean() + 5) < 0.05 and abs(xs[xs > 0].mean() - 5) < 0.05
    assert abs(xs[xs > 0].std() - 0.5) < 0.03


@pytest.mark.parametrize("kernel", ["IMH", pytest.param("MH", marks=pytest.mark.slow)])
def test_eight_schools_z_test(kernel):
    pytest.importorskip("arviz")
    from benchmarks.posteriordb.common import check_posterior, load_data, model_module

    posterior = "eight_schools-eight_schools_noncentered"
    model = model_module(posterior).build(pm, load_data(posterior))
    idata = sample_smc(1000, kernel=kernel, chains=2, random_seed=20240601, progressbar=False, model=model)
    checks = check_posterior(posterior, idata.posterior, rhat_max=1.02, ess_min=400)
    failed = [c for c in checks if not (c.converged and abs(c.z_mean) < 4 and abs(c.z_sd) < 4)]
    assert not failed, "\n".join(f"{c.name}: {c.why}" for c in failed)


def test_interrupted_run_warns_and_returns_the_last_stage(monkeypatch):
    """Ctrl-C between stages: the particles of the last finished stage, with a warning naming beta."""
    from jaxmc.iterate import LoopResult
    from jaxmc.smc import sampling

    real = sampling.run_loop

    def one_stage(run_chunk, state, total, **kw):
        res = real(run_chunk, state, 1, **kw)
        return LoopResult(res.state, res.done, False, True)

    monkeypatch.setattr(sampling, "run_loop", one_stage)
    with pytest.warns(UserWarning, match="interrupted with beta"):
        idata = sample_smc(N, chains=C, random_seed=1, progressbar=False, model=_conjugate())
    beta = idata.sample_stats["beta"].values
    assert beta.shape == (C, 1) and np.all(beta < 1)
    assert np.all(np.isnan(idata.sample_stats["log_marginal_likelihood"].values))


def test_bad_input():
    m = _conjugate()
    with pm.Model() as empty:
        pm.Normal("y", 0.0, 1.0, observed=np.zeros(3))
    with pytest.raises(SamplingError, match="no free variables.*IMH"):
        sample_smc(100, model=empty, progressbar=False)
    with pytest.raises(TypeError, match="kernel=.*IMH or pm.smc.MH"):
        sample_smc(100, kernel="NUTS", model=m)
    with pytest.raises(TypeError, match="kernel="):
        sample_smc(100, kernel=object, model=m)
    with pytest.raises(ValueError, match="threshold"):
        sample_smc(100, threshold=1.0, model=m)
    with pytest.raises(ValueError, match="threshold"):
        sample_smc(100, threshold=-0.1, model=m)
    with pytest.raises(ValueError, match="correlation_threshold"):
        sample_smc(100, kernel=MH, correlation_threshold=0.0, model=m)
    with pytest.raises(ValueError, match=r"draws=\.\.\.\) must be >= 2"):
        sample_smc(1, model=m)
    with pytest.raises(TypeError, match="draws"):
        sample_smc(10.5, model=m)
    with pytest.raises(ValueError, match="chains"):
        sample_smc(100, chains=0, model=m)
    with pytest.raises(TypeError, match="unknown keyword.*tune_steps"):
        sample_smc(100, model=m, tune_steps=3)
    with pytest.raises(ValueError, match="shape"):
        sample_smc(10, start={"mu": np.zeros(3)}, chains=1, model=m)


def test_start_particles():
    m = _conjugate()
    start = [{"mu": np.linspace(-1, 1, N)}, {"mu": np.linspace(0, 3, N)}]
    idata = sample_smc(N, start=start, chains=C, random_seed=2, progressbar=False, model=m)
    assert idata.posterior["mu"].shape == (C, N)
    _, mean, sd = _analytic()
    assert abs(idata.posterior["mu"].values.mean() - mean) < 4 * sd / np.sqrt(C * N / 2)
    with pytest.raises(KeyError, match="lacks 'mu'"):
        sample_smc(N, start={"x": np.zeros(N)}, chains=C, model=m)


@pytest.mark.slow
def test_log_marginal_likelihood_like_pymc():
    """jaxmc's and PyMC's SMC estimate the same log marginal likelihood (each within the other's spread)."""
    pymc = pytest.importorskip("pymc")
    lml, _, _ = _analytic()
    with pymc.Model():
        mu = pymc.Normal("mu", 0.0, PRIOR_SD)
        pymc.Normal("y", mu, 1.0, observed=Y)
        ref = pymc.sample_smc(1000, chains=4, cores=1, random_seed=1, progressbar=False)
    ours = sample_smc(1000, chains=4, random_seed=1, progressbar=False, model=_conjugate())
    a = np.asarray(ref.sample_stats["log_marginal_likelihood"].values[:, -1], float)
    b = ours.sample_stats["log_marginal_likelihood"].values[:, -1]
    assert abs(a.mean() - lml) < 0.1 and abs(b.mean() - lml) < 0.1
    spread = max(a.std(), b.std(), 0.01)
    assert abs(a.mean() - b.mean()) < 5 * spread

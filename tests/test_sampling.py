"""pm.sample: API, reproducibility, ArviZ output groups and stats, errors and warnings."""

import warnings

import arviz as az
import numpy as np
import pytest

import jaxmc as pm
from jaxmc.convert import group_dataset, group_names
from jaxmc import sampling
import jaxmc.sampling.checks
import jaxmc.sampling.programs
import jaxmc.progress

STAT_NAMES = {"lp", "acceptance_rate", "step_size", "step_size_bar", "tree_depth", "n_steps", "diverging",
              "energy", "max_energy_error", "reached_max_treedepth"}


def small_model():
    rng = np.random.default_rng(3)
    with pm.Model(coords={"k": ["a", "b"], "obs": range(30)}) as model:
        x = pm.Data("x", rng.normal(size=30), dims="obs")
        mu = pm.Normal("mu", 0, 1, dims="k")
        s = pm.HalfNormal("s", 1)
        pm.Deterministic("mu_sum", mu.sum())
        pm.Normal("y", mu[0] + mu[1] * x, s, observed=1.0 + 2.0 * rng.normal(size=30) * 0 + rng.normal(size=30),
                  dims="obs")
    return model


@pytest.fixture(scope="module")
def model():
    return small_model()


def run(model, **kw):
    kw.setdefault("draws", 200)
    kw.setdefault("tune", 200)
    kw.setdefault("chains", 2)
    kw.setdefault("progressbar", False)
    kw.setdefault("random_seed", 11)
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm.sample(**kw)


def test_groups_dims_and_stats(model):
    idata = run(model, idata_kwargs={"log_likelihood": True})
    assert set(group_names(idata)) >= {"posterior", "sample_stats", "observed_data", "constant_data", "log_likelihood"}
    post = idata.posterior
    assert post["mu"].dims == ("chain", "draw", "k") and list(post["mu"].k.values) == ["a", "b"]
    assert post["s"].shape == (2, 200) and "mu_sum" in post
    assert set(idata.sample_stats.data_vars) == STAT_NAMES
    assert idata.sample_stats["diverging"].dtype == bool
    assert idata.log_likelihood["y"].dims == ("chain", "draw", "obs")
    assert idata.observed_data["y"].shape == (30,) and "x" in idata.constant_data
    assert idata.posterior.attrs["inference_library"] == "jaxmc" and idata.posterior.attrs["tuning_steps"] == 200
    summary = az.summary(idata, var_names=["mu", "s"])
    assert list(summary.index) == ["mu[a]", "mu[b]", "s"]
    # pointwise log likelihood equals the model's log density of the observations
    from scipy import stats

    d = idata.posterior.isel(chain=0, draw=5)
    x = model.data_values()["x"]
    y = idata.observed_data["y"].values
    np.testing.assert_allclose(idata.log_likelihood["y"].isel(chain=0, draw=5).values,
                               stats.norm.logpdf(y, d["mu"].values[0] + d["mu"].values[1] * x, d["s"].values))


def test_warmup_groups_and_var_names(model):
    idata = run(model, draws=50, tune=60, discard_tuned_samples=False, var_names=["mu"])
    assert idata.warmup_posterior["mu"].shape == (2, 60, 2)
    assert idata.warmup_sample_stats["step_size"].shape == (2, 60)
    assert list(idata.posterior.data_vars) == ["mu"]


def test_reproducible_and_chain_methods_agree(model):
    a = run(model, chain_method="vectorized", discard_tuned_samples=False)
    b = run(model, chain_method="vectorized", discard_tuned_samples=False)
    c = run(model, chain_method="sequential", discard_tuned_samples=False)
    d = run(model, chain_method="parallel", discard_tuned_samples=False)
    np.testing.assert_array_equal(a.posterior["mu"].values, b.posterior["mu"].values)
    np.testing.assert_array_equal(c.posterior["mu"].values, d.posterior["mu"].values)
    # vmapped arithmetic (SIMD log, cos, exp) may differ from the single-chain program in the last bits;
    # the chains follow the same path until such differences grow (Hamiltonian paths are chaotic)
    np.testing.assert_allclose(a.warmup_posterior["mu"].values[:, :20], c.warmup_posterior["mu"].values[:, :20],
                               rtol=0, atol=1e-8)
    np.testing.assert_array_equal(a.warmup_sample_stats["n_steps"].values[:, :20],
                                  c.warmup_sample_stats["n_steps"].values[:, :20])
    e = run(model, random_seed=12)
    assert not np.array_equal(a.posterior["mu"].values, e.posterior["mu"].values)


def test_draws_do_not_depend_on_how_the_run_is_cut(model, monkeypatch):
    a = run(model, chain_method="sequential", draws=60, tune=40)
    monkeypatch.setattr(sampling.programs, "MAX_CHUNK", 7)  # calls of 7 steps or fewer, another compiled program
    b = run(model, chain_method="sequential", draws=60, tune=40)
    np.testing.assert_array_equal(a.posterior["mu"].values, b.posterior["mu"].values)
    np.testing.assert_array_equal(a.sample_stats["n_steps"].values, b.sample_stats["n_steps"].values)


def test_compute_log_likelihood_function(model):
    idata = run(model, draws=20, tune=20)
    with model:
        pm.compute_log_likelihood(idata)
    assert idata.log_likelihood["y"].shape == (2, 20, 30)


def test_step_and_nuts_options(model):
    idata = run(model, draws=30, tune=50, step=pm.NUTS(target_accept=0.9, max_treedepth=6))
    assert int(idata.sample_stats["tree_depth"].max()) <= 6
    idata = run(model, draws=30, tune=50, nuts={"adaptation": "stan", "target_accept": 0.95})
    assert idata.posterior.attrs["adaptation"] == "stan"


def test_nuts_defaults_come_from_one_record():
    import inspect

    from jaxmc.nuts import DEFAULTS

    for fn in (pm.sample, pm.NUTS):
        params = inspect.signature(fn).parameters
        assert params["target_accept"].default == DEFAULTS.target_accept
        assert params["max_treedepth"].default == DEFAULTS.max_treedepth
    assert inspect.signature(pm.NUTS).parameters["adaptation"].default == DEFAULTS.adaptation
    step = pm.NUTS()
    settings = sampling.SampleSettings(10, 10, 1, step.target_accept, step.max_treedepth, step.adaptation,
                                       "vectorized", 1)
    assert settings.nuts_options == DEFAULTS


@pytest.mark.parametrize("kwargs, pattern", [
    ({"draw": 10}, r"unknown keyword argument\(s\) \['draw'\]; accepted: \['draws'"),
    ({"nuts": {"adapt": "stan"}}, r"unknown key\(s\) \['adapt'\]"),
    ({"nuts": {"adaptation": "foo"}}, r"adaptation must be one of"),
    ({"chain_method": "threads"}, r"chain_method must be one of"),
    ({"target_accept": 1.5}, r"target_accept must be in"),
])
def test_bad_arguments(model, kwargs, pattern):
    with model, pytest.raises((TypeError, ValueError), match=pattern):
        pm.sample(**kwargs)


def test_no_finite_start_names_variable():
    with pm.Model() as model:
        a = pm.Normal("a")
        pm.Potential("bad", pm.math.log(-(a**2) - 1.0))
    with model, pytest.raises(pm.SamplingError, match=r"not finite for \['bad'\]"):
        pm.sample(draws=10, tune=10, chains=1, progressbar=False)


def test_switchpoint_model_recovers_switch_point():
    """A DiscreteUniform switch point (Metropolis) and two Poisson rates (NUTS) in one compound step."""
    rng = np.random.default_rng(42)
    years = np.arange(60)
    true_switch = 37
    counts = np.where(years < true_switch, rng.poisson(4.0, 60), rng.poisson(1.0, 60))
    with pm.Model() as model:
        switch = pm.DiscreteUniform("switchpoint", lower=0, upper=59)
        early = pm.Exponential("early_rate", 1.0)
        late = pm.Exponential("late_rate", 1.0)
        rate = pm.math.switch(switch >= years, early, late)
        pm.Poisson("disasters", rate, observed=counts)
    idata = run(model, draws=500, tune=500, chains=2)
    sp = idata.posterior["switchpoint"].values
    assert sp.dtype.kind == "i"
    lo, hi = np.percentile(sp, [2.5, 97.5])
    assert lo - 1 <= true_switch <= hi + 1
    assert abs(float(idata.posterior["early_rate"].mean()) - 4.0) < 0.8
    assert abs(float(idata.posterior["late_rate"].mean()) - 1.0) < 0.5


def test_binary_latent_variables_gibbs():
    """Bernoulli free variables get Gibbs updates: the posterior of z given y matches the exact answer."""
    with pm.Model() as model:
        z = pm.Bernoulli("z", p=0.3, shape=2)
        pm.Normal("y", mu=2.0 * z, sigma=1.0, observed=np.array([2.1, -0.2]))
    idata = run(model, draws=2000, tune=200, chains=2)
    from scipy import stats

    def post(y):
        a = 0.3 * stats.norm.pdf(y, 2, 1)
        return a / (a + 0.7 * stats.norm.pdf(y, 0, 1))

    est = idata.posterior["z"].values.reshape(-1, 2).mean(0)
    np.testing.assert_allclose(est, [post(2.1), post(-0.2)], atol=0.05)


def test_interrupt_returns_partial_draws(model, monkeypatch):
    calls = {"n": 0}
    original = jaxmc.progress.SamplingProgress.update

    def interrupt(self, *args, **kwargs):
        calls["n"] += 1
        original(self, *args, **kwargs)
        if calls["n"] == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(jaxmc.progress.SamplingProgress, "update", interrupt)
    monkeypatch.setattr(sampling.programs, "MAX_CHUNK", 10)  # many calls, so that the run is stopped midway
    with model, pytest.warns(UserWarning, match="interrupted"):
        idata = pm.sample(draws=400, tune=10, chains=2, progressbar=False, random_seed=1,
                          chain_method="vectorized")  # chains in step: the 3rd call is past tuning
    n = idata.posterior.sizes["draw"]
    assert 0 < n < 400


def test_convergence_warnings(model):
    idata = run(model, draws=100, tune=100)
    stats = {k: idata.sample_stats[k].values for k in idata.sample_stats.data_vars}
    stats["diverging"][0, :3] = True
    # chains stuck in different places -> r_hat warning
    idata.posterior["mu"].values[1] += 5.0
    settings = sampling.SampleSettings(100, 100, 2, 0.8, 10, "nutpie", "vectorized", 2)
    with pytest.warns(UserWarning) as record:
        posterior = {k: idata.posterior[k].values for k in idata.posterior.data_vars}
        sampling.checks.warn_convergence(model, posterior, stats, settings)
    messages = " ".join(str(r.message) for r in record)
    assert "There were 3 divergences" in messages and "rhat statistic is larger than 1.01" in messages


def test_progress_bar_shows_phases_like_pymc6(model, capsys):
    """One bar over warm-up and draws; the count is per chain and restarts at 0 for the draws."""
    run(model, draws=30, tune=20, progressbar=True)
    out = capsys.readouterr().out
    assert "draw" in out and "30/30" in out and "divergences" in out


def test_quiet_shows_nothing(model, capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with model:
            pm.sample(draws=30, tune=20, chains=1, random_seed=1, quiet=True)  # one chain: would warn
    assert capsys.readouterr().out == "" and not caught


def test_tune_none_means_1000(model):
    with model:
        idata = pm.sample(draws=10, tune=None, chains=1, random_seed=1, progressbar=False,
                          compute_convergence_checks=False)
    assert group_dataset(idata, "posterior").attrs["tuning_steps"] == 1000

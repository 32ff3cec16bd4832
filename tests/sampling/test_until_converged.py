"""pm.sample(target_ess=..., max_rhat=..., max_draws=...): draws on past `draws` in rounds until every free
variable's bulk and tail ESS and R-hat meet the targets (checked here with ArviZ), or warns at max_draws."""

import os
import signal
import warnings

import numpy as np
import pytest

import jaxmc as pm
import jaxmc.xla
from jaxmc import progress
from jaxmc.sampling import converge
from jaxmc.sampling.converge import ATTR

pytestmark = pytest.mark.usefixtures("python_sigint_handler")

# a 2-d standard normal and a half-normal: the smallest ESS (tail, or the bulk of s) is about a third of the
# draws, so 1000 takes several times 200 draws per chain over 4 chains
RUN = dict(draws=200, tune=200, chains=4, random_seed=3, progressbar=False)
TARGET = 1000


@pytest.fixture(scope="module")
def model():
    with pm.Model() as m:
        pm.Normal("x", 0, 1, shape=2)
        pm.HalfNormal("s", 1)
    return m


def sample(model, **kw):
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm.sample(**dict(RUN, **kw))


def arviz_met(idata, n, target_ess, max_rhat=1.01):
    """Whether ArviZ finds every free variable's bulk and tail ESS >= target and R-hat <= max over draws :n."""
    import arviz as az

    post = idata.posterior.isel(draw=slice(0, n))
    for name in ("x", "s"):
        bulk = np.asarray(az.ess(post, method="bulk", var_names=[name])[name])
        tail = np.asarray(az.ess(post, method="tail", var_names=[name], prob=(0.05, 0.95))[name])  # ArviZ 1's
        # default is its ci_prob (0.94); jaxmc's tail ESS is ArviZ 0's and Stan's (5% and 95% quantiles)
        rhat = np.asarray(az.rhat(post, var_names=[name])[name])
        if (bulk < target_ess).any() or (tail < target_ess).any() or (rhat > max_rhat).any():
            return False
    return True


def assert_identical(a, b, groups=("posterior", "sample_stats")):
    for group in groups:
        for name in a[group].data_vars:
            x, y = np.asarray(a[group][name]), np.asarray(b[group][name])
            assert x.shape == y.shape and np.array_equal(x, y), (group, name)


def rounds(model, idata, target_ess):
    """The draws per chain at each check, replayed with jaxmc's own check on prefixes of the result (a run's
    first n draws do not depend on how long it goes on)."""
    targets = converge.Targets(target_ess, 1.01, 10 * RUN["draws"])
    post = {k: np.asarray(v) for k, v in idata.posterior.data_vars.items()}
    n, seen = RUN["draws"], []
    while n is not None:
        seen.append(n)
        n = converge.next_draws(targets, n, converge.check(model, post, n, targets))
    return seen


def test_draws_on_until_the_targets_are_met(model):
    idata = sample(model, target_ess=TARGET, max_rhat=1.01)
    n = idata.posterior.sizes["draw"]
    assert idata.posterior.attrs[ATTR] == n > RUN["draws"]
    assert idata.sample_stats.attrs[ATTR] == n
    assert arviz_met(idata, n, TARGET)  # ArviZ agrees: met at the end ...
    checks = rounds(model, idata, TARGET)
    assert checks[-1] == n and len(checks) >= 2
    assert not arviz_met(idata, checks[-2], TARGET)  # ... and not at the check before: it stopped once met
    # the first `draws` draws are those of a run without targets (the default path, bit for bit)
    plain = sample(model)
    assert ATTR not in plain.posterior.attrs
    assert_identical(plain, idata.isel(draw=slice(0, RUN["draws"])))


def test_targets_met_at_once_take_no_more_draws(model):
    idata = sample(model, target_ess=50, max_rhat=1.1)  # the run's smallest ESS (the tail of s) is 95
    assert idata.posterior.sizes["draw"] == RUN["draws"] == idata.posterior.attrs[ATTR]


def test_max_draws_stops_with_a_warning_naming_the_parameters(model):
    with model, pytest.warns(UserWarning, match=r"max_draws=300 .*x\[0\]: ess_bulk \d+, ess_tail \d+, r_hat"):
        idata = pm.sample(**dict(RUN, target_ess=1e6, max_draws=300))
    assert idata.posterior.sizes["draw"] == 300 and idata.posterior.attrs[ATTR] == -1


def test_no_recompilation_per_round(monkeypatch):
    with pm.Model() as m:  # a model of its own: its programs are compiled in this test
        pm.Normal("y", 0, 1, shape=2)
    calls = []
    original = jaxmc.xla.compile_program
    monkeypatch.setattr(jaxmc.xla, "compile_program", lambda *a, **k: calls.append(1) or original(*a, **k))
    idata = sample(m, target_ess=TARGET)
    assert idata.posterior.sizes["draw"] > RUN["draws"] and len(calls) == 2  # the init and the chunk program


@pytest.mark.parametrize("chain_method", ["sequential", "vectorized"])
def test_every_chain_method(model, chain_method):
    idata = sample(model, target_ess=TARGET, chain_method=chain_method)
    n = idata.posterior.sizes["draw"]
    assert idata.posterior.attrs[ATTR] == n > RUN["draws"] and arviz_met(idata, n, TARGET)
    if chain_method == "sequential":  # the same draws as parallel chains
        assert_identical(sample(model, target_ess=TARGET), idata)


def test_compound_step():
    with pm.Model() as m:
        pm.Normal("x", 0, 1)
        pm.Bernoulli("b", 0.3)
    idata = sample(m, target_ess=2000, max_rhat=1.02)
    n = idata.posterior.sizes["draw"]
    assert idata.posterior.attrs[ATTR] == n > RUN["draws"]


def ctrl_c_in_the_second_round(patcher):
    """Ctrl-C at the first progress update after the run decided to draw on."""
    armed = {"on": False}
    extend, update = progress.SamplingProgress.extend, progress.SamplingProgress.update

    def extend_(self, draws):
        extend(self, draws)
        armed["on"] = True

    def update_(self, *args, **kwargs):
        update(self, *args, **kwargs)
        if armed["on"]:
            armed["on"] = False
            os.kill(os.getpid(), signal.SIGINT)

    patcher.setattr(progress.SamplingProgress, "extend", extend_)
    patcher.setattr(progress.SamplingProgress, "update", update_)


def test_ctrl_c_returns_the_draws_and_a_checkpoint_resumes(model, monkeypatch, tmp_path):
    monkeypatch.setattr(pm.sampling.programs, "MAX_CHUNK", 10)  # many calls per round
    reference = sample(model, target_ess=TARGET, chain_method="vectorized")
    path = tmp_path / "run.npz"
    with monkeypatch.context() as m, model, warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ctrl_c_in_the_second_round(m)
        partial = pm.sample(**dict(RUN, target_ess=TARGET, chain_method="vectorized", checkpoint=path))
    assert any("interrupted" in str(w.message) for w in record)
    n = partial.posterior.sizes["draw"]
    assert RUN["draws"] < n < reference.posterior.sizes["draw"] and ATTR not in partial.posterior.attrs
    assert_identical(partial, reference.isel(draw=slice(0, n)))
    resumed = sample(model, target_ess=TARGET, chain_method="vectorized", checkpoint=path, resume=True)
    assert_identical(reference, resumed)
    assert resumed.posterior.attrs[ATTR] == reference.posterior.attrs[ATTR]


@pytest.mark.parametrize("kw, match", [
    (dict(target_ess=0), r"target_ess=\.\.\.\) must be > 0"),
    (dict(target_ess=-5), r"target_ess=\.\.\.\) must be > 0"),
    (dict(max_rhat=0.99), r"max_rhat=\.\.\.\) must be >= 1"),
    (dict(target_ess=400, max_draws=100), r"max_draws=\.\.\.\) must be >= draws \(200\)"),
    (dict(max_draws=5000), r"max_draws=\.\.\.\) limits sampling until converged"),
    (dict(target_ess=400, draws=10), r"draws=\.\.\.\) must be >= 20"),
])
def test_bad_targets_are_refused(model, kw, match):
    with model, pytest.raises(ValueError, match=match):
        pm.sample(**dict(RUN, **kw))


def test_bad_target_types_are_refused(model):
    with model, pytest.raises(TypeError, match=r"target_ess=\.\.\.\) must be a number"):
        pm.sample(**dict(RUN, target_ess="400"))
    with model, pytest.raises(TypeError, match=r"max_draws=\.\.\.\) must be a whole number"):
        pm.sample(**dict(RUN, target_ess=400, max_draws=1000.5))


def test_demetropolisz_is_refused(model):
    with model, pytest.raises(ValueError, match="DEMetropolisZ"):
        pm.sample(**dict(RUN, target_ess=400, step=pm.DEMetropolisZ()))

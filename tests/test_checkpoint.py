"""pm.sample(checkpoint=PATH, resume=True): a run stopped by Ctrl-C or kill -9 continues from its last
checkpoint and gives the draws of an uninterrupted run, bit for bit; a checkpoint of another run is refused."""

import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import jaxmc as pm
import jaxmc.progress
from jaxmc import sampling
import jaxmc.sampling.programs

RUN = dict(draws=120, tune=60, chains=3, cores=2, progressbar=False, random_seed=5)


def build(y=None):
    with pm.Model() as m:
        x = pm.Data("x", np.linspace(0, 1, 8) if y is None else y)
        a = pm.Normal("a", 0, 1, shape=2)
        s = pm.HalfNormal("s", 1)
        pm.Deterministic("line", a[0] + a[1] * x)
        pm.Normal("y", a[0] + a[1] * x, s, observed=np.sin(np.arange(8.0)))
    return m

pytestmark = pytest.mark.usefixtures("python_sigint_handler")


@pytest.fixture(scope="module")
def model():
    return build()


def sample(model, **kw):
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm.sample(**dict(RUN, **kw))


def assert_identical(a, b, groups=("posterior", "sample_stats")):
    for group in groups:
        for name in a[group].data_vars:
            x, y = np.asarray(a[group][name]), np.asarray(b[group][name])
            assert x.dtype == y.dtype and x.shape == y.shape, (group, name)
            assert np.array_equal(x, y), (group, name)


@pytest.mark.parametrize("chain_method", ["parallel", "vectorized", "sequential"])
def test_resume_after_ctrl_c_is_bit_identical(model, monkeypatch, ctrl_c_at, tmp_path, chain_method):
    monkeypatch.setattr(sampling.programs, "MAX_CHUNK", 10)  # many calls: the run stops midway
    path = tmp_path / "run.npz"
    reference = sample(model, chain_method=chain_method, discard_tuned_samples=False)
    with monkeypatch.context() as m:
        ctrl_c_at(m, 4)
        partial = sample(model, chain_method=chain_method, discard_tuned_samples=False, checkpoint=path)
    assert os.path.exists(path) and partial.posterior.sizes["draw"] < 120
    resumed = sample(model, chain_method=chain_method, discard_tuned_samples=False, checkpoint=path, resume=True)
    assert_identical(reference, resumed, ("posterior", "sample_stats", "warmup_posterior", "warmup_sample_stats"))
    assert not [f for f in os.listdir(tmp_path) if f != "run.npz"]  # no temporary files left
    # a finished run's checkpoint gives the result again, without sampling
    again = sample(model, chain_method=chain_method, discard_tuned_samples=False, checkpoint=path, resume=True)
    assert_identical(reference, again)


def test_resume_without_a_file_starts_afresh(model, tmp_path):
    path = tmp_path / "new.npz"
    fresh = sample(model, chain_method="vectorized", checkpoint=path, resume=True)
    assert_identical(fresh, sample(model, chain_method="vectorized"))
    assert path.exists()


@pytest.mark.parametrize("change, expected", [
    (dict(draws=6), "draws: 5 in the checkpoint, 6 now"),
    (dict(tune=6), "tune: 5 in the checkpoint, 6 now"),
    (dict(chains=2), "chains: 3 in the checkpoint, 2 now"),
    (dict(target_accept=0.9), "target_accept: 0.8 in the checkpoint, 0.9 now"),
    (dict(max_treedepth=5), "max_treedepth: 10 in the checkpoint, 5 now"),
    (dict(random_seed=6), "random_seed differs"),
    (dict(initvals={"a": [0.5, 0.5]}), "initvals differs"),
    (dict(chain_method="sequential"), "chain_method: vectorized in the checkpoint, sequential now"),
    (dict(var_names=["a"]), "var_names: ['a', 's', 'line'] in the checkpoint, ['a'] now"),
    (dict(discard_tuned_samples=False), "discard_tuned_samples: True in the checkpoint, False now"),
])
def test_a_checkpoint_of_other_settings_is_refused(model, tmp_path, change, expected):
    path = tmp_path / "run.npz"
    sample(model, chain_method="vectorized", draws=5, tune=5, checkpoint=path)
    settings = dict(dict(chain_method="vectorized", draws=5, tune=5), **change)
    with pytest.raises(ValueError, match="was written by another run") as err:
        sample(model, checkpoint=path, resume=True, **settings)
    assert expected in str(err.value)


def test_a_checkpoint_of_other_data_or_model_is_refused(tmp_path):
    path = tmp_path / "run.npz"
    m = build()
    sample(m, chain_method="vectorized", draws=5, tune=5, checkpoint=path)
    with m:
        pm.set_data({"x": np.linspace(0, 2, 8)})
    with pytest.raises(ValueError, match="data 'x' differs"):
        sample(m, chain_method="vectorized", draws=5, tune=5, checkpoint=path, resume=True)
    with pm.Model() as other:
        pm.Data("x", np.linspace(0, 1, 8))
        a = pm.Normal("a", 0, 2, shape=2)  # another prior
        s = pm.HalfNormal("s", 1)
        pm.Deterministic("line", a[0] + a[1] * np.linspace(0, 1, 8))
        pm.Normal("y", a[0], s, observed=np.sin(np.arange(8.0)))
    with pytest.raises(ValueError, match="model differs"):
        sample(other, chain_method="vectorized", draws=5, tune=5, checkpoint=path, resume=True)


def test_bad_checkpoint_arguments(model, tmp_path):
    with pytest.raises(ValueError, match=r"resume=True\) needs checkpoint=PATH"):
        sample(model, resume=True)
    path = tmp_path / "broken.npz"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="could not be read"):
        sample(model, checkpoint=path, resume=True)


def test_writes_take_at_most_5_percent_of_the_time(tmp_path):
    from jaxmc.sampling.checkpoint import COST_SHARE, Checkpoint

    assert COST_SHARE == 0.05
    c = Checkpoint(tmp_path / "c.npz", {})
    assert c.due()  # the first call's output is saved at once
    c._cost, c._last = 0.5, time.perf_counter()  # a write took 0.5 s: the next waits 10 s
    assert not c.due()
    c._last -= 10.1
    assert c.due()


CHILD = r"""
import sys, warnings
import numpy as np
sys.path.insert(0, sys.argv[2])
from test_checkpoint import build, RUN
import time
import jaxmc as pm
import jaxmc.progress
_update = jaxmc.progress.SamplingProgress.update
def update(self, *args, **kwargs):  # slower calls, so that the run is killed midway
    _update(self, *args, **kwargs)
    time.sleep(0.05)
jaxmc.progress.SamplingProgress.update = update
with build(), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    pm.sample(**dict(RUN, draws=20000, chain_method="parallel", checkpoint=sys.argv[1]))
print("FINISHED", flush=True)
"""


def test_resume_after_kill_9_is_bit_identical(model, tmp_path):
    path = str(tmp_path / "killed.npz")
    proc = subprocess.Popen([sys.executable, "-c", CHILD, path, os.path.dirname(__file__)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not os.path.exists(path) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read()[-3000:]
    finally:
        proc.kill()
    with np.load(path) as f:
        done = f["done"]
    assert 0 < done.max() and done.sum() < 3 * 20060  # killed midway
    resumed = sample(model, draws=20000, chain_method="parallel", checkpoint=path, resume=True)
    reference = sample(model, draws=20000, chain_method="parallel")
    assert_identical(reference, resumed)

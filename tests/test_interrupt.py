"""Ctrl-C during pm.sample: every completed draw of every chain comes back, with a warning giving the true
counts, at any moment and with any chain method; the process stays usable."""

import json
import os
import re
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

pytestmark = pytest.mark.usefixtures("python_sigint_handler")


@pytest.fixture(scope="module")
def model():
    with pm.Model() as m:
        a = pm.Normal("a", 0, 1, shape=3)
        pm.Poisson("k", 2.0)  # an integer variable: padded chains turn it into float with NaN
        pm.Deterministic("d", a.sum())
    return m


@pytest.fixture
def press_ctrl_c(monkeypatch, ctrl_c_at):
    """`press_ctrl_c(call)`: Ctrl-C at the `call`-th progress update, with calls of 10 steps."""
    monkeypatch.setattr(sampling.programs, "MAX_CHUNK", 10)
    return lambda call: ctrl_c_at(monkeypatch, call)


def interrupted_sample(model, **kw):
    kw = dict(dict(draws=300, tune=20, chains=4, cores=2, progressbar=False, random_seed=1), **kw)
    with model, warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        idata = pm.sample(**kw)
    messages = [str(w.message) for w in record if "interrupted" in str(w.message)]
    assert len(messages) == 1, [str(w.message) for w in record]
    return idata, messages[0]


def finite_counts(idata, group):
    values = np.asarray(idata[group]["d"])
    return [int(np.isfinite(v).sum()) for v in values]


def reported(message, what):
    """The per-chain counts the warning reports for `what` ("draws" or "warm-up steps")."""
    m = re.search(r"(\[[\d, ]+\]|\d+) of \d+ (?:\(per chain\) )?" + what, message)
    found = json.loads(m.group(1))
    return found if isinstance(found, list) else [found] * 4


@pytest.mark.parametrize("chain_method", ["parallel", "sequential"])
def test_chains_run_separately_keep_every_draw(model, press_ctrl_c, chain_method):
    """4 chains on 2 cores (or one after the other): the chains not started have no draws, the others keep
    theirs; before, every draw was lost ("interrupted before the first chunk of draws finished")."""
    press_ctrl_c(6)
    # many draws: the Ctrl-C sent at the 6th call reaches the main thread while the first chain still samples,
    # even on a loaded machine where that takes a few hundred more calls of 10 steps
    draws = 3000
    idata, message = interrupted_sample(model, chain_method=chain_method, discard_tuned_samples=False, draws=draws)
    drawn, tuned = finite_counts(idata, "posterior"), finite_counts(idata, "warmup_posterior")
    assert drawn == reported(message, "draws") and tuned == reported(message, "warm-up steps")
    assert sum(drawn) > 0 and drawn[3] == 0 and max(drawn) < draws
    assert idata.posterior.sizes["draw"] == max(drawn) and "padded with NaN" in message
    k = np.asarray(idata.posterior["k"])
    assert np.isnan(k[3]).all() and np.all(k[0, :drawn[0]] == np.round(k[0, :drawn[0]]))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with model:  # the process is still usable
        again = pm.sample(draws=20, tune=20, chains=2, progressbar=False, random_seed=2, quiet=True)
    assert again.posterior.sizes["draw"] == 20


def test_ctrl_c_during_warmup_keeps_warmup_draws(model, press_ctrl_c):
    press_ctrl_c(2)
    idata, message = interrupted_sample(model, chain_method="vectorized", tune=300, discard_tuned_samples=False)
    tuned = finite_counts(idata, "warmup_posterior")
    assert idata.posterior.sizes["draw"] == 0 and 0 < tuned[0] < 300
    assert tuned == reported(message, "warm-up steps") and reported(message, "draws") == [0] * 4


def test_ctrl_c_during_warmup_with_warmup_discarded_says_so(model, press_ctrl_c):
    press_ctrl_c(2)
    idata, message = interrupted_sample(model, chain_method="vectorized", tune=300)
    assert idata.posterior.sizes["draw"] == 0 and "discard_tuned_samples=False" in message


def test_ctrl_c_before_the_sampler_starts_returns_at_once(model, monkeypatch):
    """Ctrl-C while the model is being prepared: pm.sample returns no draws at once instead of raising
    KeyboardInterrupt in the middle of JAX (or of a garbage-collector callback, where it was lost)."""
    original = sampling.api.starting_points

    def starting_points(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)
        return original(*args, **kwargs)

    monkeypatch.setattr(sampling.api, "starting_points", starting_points)
    t0 = time.perf_counter()
    idata, message = interrupted_sample(model, chain_method="parallel", draws=100000)
    assert time.perf_counter() - t0 < 10 and idata.posterior.sizes["draw"] == 0
    assert reported(message, "draws") == [0] * 4


def test_ctrl_c_after_a_refused_call_raises_as_usual(model):
    """A pm.sample that stops on an error leaves Ctrl-C to Python: KeyboardInterrupt, then the default handler."""
    with model, pytest.raises(ValueError):
        pm.sample(draws=-1)
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(100):
            time.sleep(0.01)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


CHILD = r"""
import json, signal, sys, time, warnings
signal.signal(signal.SIGINT, signal.default_int_handler)  # as from a terminal, also if the tests ignore Ctrl-C
import arviz  # imported before, as in a notebook: the latency measured is pm.sample's, not arviz's import
import numpy as np
import jaxmc as pm
import jaxmc.progress

method, keep = sys.argv[1], sys.argv[2] == "keep"
_update = jaxmc.progress.SamplingProgress.update
def update(self, start, n, stats, chains=None):
    _update(self, start, n, stats, chains)
    sys.stdout.write(f"STEP {start + n}\n")  # one write: threads print at once
    sys.stdout.flush()
jaxmc.progress.SamplingProgress.update = update
with pm.Model() as model:
    a = pm.Normal("a", 0, 1, shape=20)
    pm.Deterministic("d", a.sum())
print("START", flush=True)
with model, warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    idata = pm.sample(draws=100000, tune=100000, chains=4, cores=2, chain_method=method, random_seed=1,
                      progressbar=False, discard_tuned_samples=not keep)
    end = time.time()
def counts(group):
    v = np.asarray(idata[group]["d"]) if keep or group == "posterior" else np.zeros((4, 0))
    return [int(np.isfinite(x).sum()) for x in v]
print("RESULT", json.dumps({"end": end, "posterior": counts("posterior"), "warmup": counts("warmup_posterior"),
      "messages": [str(x.message) for x in w if "interrupted" in str(x.message)]}), flush=True)
with model:
    again = pm.sample(draws=10, tune=10, chains=2, progressbar=False, random_seed=2, quiet=True)
print("AGAIN", again.posterior.sizes["draw"], flush=True)
"""


def run_child(chain_method, moment, keep=True):
    """Start the child script, press Ctrl-C at `moment` ("compile": 0.3 s after pm.sample is called,
    "tune": after the first warm-up steps, "draw": after the first draws); its report."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, chain_method, "keep" if keep else "drop"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sent, report, again = None, None, None
    deadline = time.time() + 120
    try:
        for line in proc.stdout:
            assert time.time() < deadline
            step = int(line.split()[1]) if re.fullmatch(r"STEP \d+\n", line) else None
            if sent is None and ((moment == "compile" and line.startswith("START")) or
                                 (moment == "tune" and step and step < 100000) or
                                 (moment == "draw" and step and step > 100000)):
                if moment == "compile":
                    time.sleep(0.3)
                sent = time.time()
                proc.send_signal(signal.SIGINT)
            if line.startswith("RESULT"):
                report = json.loads(line[len("RESULT"):])
            if line.startswith("AGAIN"):
                again = int(line.split()[1])
        rc = proc.wait(timeout=60)
    finally:
        proc.kill()
    assert rc == 0, proc.stderr.read()[-3000:]
    assert report is not None and again == 10
    return report, report["end"] - sent


def check_report(report, latency, bound=3.0):
    (message,) = report["messages"]
    assert report["posterior"] == reported(message, "draws")
    if report["warmup"] != [0] * 4:
        assert report["warmup"] == reported(message, "warm-up steps")
    assert latency < bound, f"pm.sample returned {latency:.2f} s after Ctrl-C"


@pytest.mark.parametrize("chain_method, moment", [("parallel", "draw"), ("vectorized", "compile")])
def test_ctrl_c_in_a_child_process(chain_method, moment):
    report, latency = run_child(chain_method, moment)
    check_report(report, latency)
    if moment == "draw":  # the chain that printed a draw step (chains run two at a time: any of them)
        assert any(p > 0 and w == 100000 for p, w in zip(report["posterior"], report["warmup"])), report
    if moment == "tune":
        assert report["warmup"][0] > 0 and report["posterior"] == [0] * 4


@pytest.mark.slow
@pytest.mark.parametrize("chain_method", ["parallel", "sequential", "vectorized"])
@pytest.mark.parametrize("moment", ["compile", "tune", "draw"])
def test_ctrl_c_in_a_child_process_every_moment(chain_method, moment):
    report, latency = run_child(chain_method, moment, keep=moment != "compile")
    check_report(report, latency)


def test_a_process_that_ignores_ctrl_c_keeps_ignoring_it(model):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with model:
        idata = pm.sample(draws=20, tune=20, chains=2, progressbar=False, random_seed=2, quiet=True)
    assert idata.posterior.sizes["draw"] == 20 and signal.getsignal(signal.SIGINT) is signal.SIG_IGN

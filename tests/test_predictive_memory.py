"""Memory of the predictive functions: the result held once, each chunk freed before the next, peak and retained
resident memory close to the result (measured in a fresh process)."""

import json
import os
import subprocess
import sys
import textwrap
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest

import jaxmc as pm
from jaxmc import chunks
from jaxmc.convert import from_dict, group_dataset

MiB = 2**20


def test_map_rows_frees_each_chunk_before_the_next_call():
    alive = []

    def call(start, part):
        assert all(ref() is None for ref in alive), "the previous chunk's output is still alive"
        res = {"y": np.repeat(part["x"][:, None], 3, axis=1) + start}
        alive.append(weakref.ref(res["y"]))
        return res

    x = np.arange(10.0)
    out = chunks.map_rows(call, {"x": x}, 10, 4, {"y": np.empty((10, 3))})
    expected = x[:, None] + np.repeat([0, 4, 8], [4, 4, 2])[:, None]
    np.testing.assert_array_equal(out["y"], np.repeat(expected, 3, axis=1))
    assert len(alive) == 3


def _regression(rows):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(rows)
    with pm.Model(coords={"obs": np.arange(rows)}) as model:
        xd = pm.Data("x", x, dims="obs")
        a = pm.Normal("a", 0.0, 10.0)
        b = pm.Normal("b", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Normal("y", mu=a + b * xd, sigma=sigma, observed=1.0 + 2.0 * x, dims="obs")
    return model


@pytest.mark.parametrize("kind", ["posterior", "extend", "prior"])
def test_host_memory_holds_the_result_once(kind):
    """Python-side allocations (numpy arrays, ArviZ conversion) during the call: the result plus at most one chunk."""
    rows, chains, draws = 2000, 2, 500
    model = _regression(rows)
    post = {k: np.full((chains, draws), v) for k, v in (("a", 1.0), ("b", 2.0), ("sigma", 0.5))}
    idata = from_dict({"posterior": post})
    calls = {"posterior": lambda: pm.sample_posterior_predictive(post, random_seed=1, progressbar=False),
             "extend": lambda: pm.sample_posterior_predictive(idata, extend_inferencedata=True, random_seed=1,
                                                              progressbar=False),
             "prior": lambda: pm.sample_prior_predictive(draws=chains * draws, random_seed=1)}
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call = calls[kind]
        call()  # compiled before measuring
        tracemalloc.start()
        try:
            out = call()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    group = group_dataset(out, "prior_predictive" if kind == "prior" else "posterior_predictive")
    result = group["y"].values.nbytes
    assert result == chains * draws * rows * 8
    assert peak <= result + chunks.MAX_CHUNK_BYTES + 2 * MiB, (peak / MiB, result / MiB)


_SCRIPT = textwrap.dedent("""
    import gc, json, sys, warnings
    import numpy as np
    import jaxmc as pm

    def status(key):  # VmRSS: resident now; VmHWM: the most resident since start or reset_peak()
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))

    def reset_peak():  # VmHWM back to VmRSS (Linux 4.0+)
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    rows, chains, draws = int(sys.argv[1]), 4, 1000
    rng = np.random.default_rng(0)
    x = rng.standard_normal(rows)
    post = {"a": 1.0 + 0.01 * rng.standard_normal((chains, draws)), "b": 2.0 + 0.01 * rng.standard_normal((chains, draws)),
            "sigma": 0.5 + 0.01 * np.abs(rng.standard_normal((chains, draws)))}
    with pm.Model(coords={"obs": np.arange(rows)}) as model:
        xd = pm.Data("x", x, dims="obs")
        a = pm.Normal("a", 0.0, 10.0)
        b = pm.Normal("b", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Normal("y", mu=a + b * xd, sigma=sigma, observed=1.0 + 2.0 * x, dims="obs")
    calls = {"posterior": lambda: pm.sample_posterior_predictive(post, random_seed=1, progressbar=False).posterior_predictive,
             "prior": lambda: pm.sample_prior_predictive(draws=chains * draws, random_seed=1).prior_predictive}
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm.sample_posterior_predictive({k: v[:1, :10] for k, v in post.items()}, progressbar=False)  # imports
        pm.sample_prior_predictive(draws=10)  # ArviZ and starts JAX's runtime before measuring
        found = {}
        for kind, call in calls.items():
            out = None
            gc.collect()
            reset = reset_peak()
            base, before = status("VmRSS"), status("VmHWM")
            out = call()
            peak = status("VmHWM")
            gc.collect()
            found[kind] = {"reset": reset, "base": base, "before": before, "peak": peak, "retained": status("VmRSS"),
                           "result": int(out["y"].values.nbytes)}
    print(json.dumps(found))
""")


@pytest.fixture(scope="module")
def resident():
    """Resident memory around a 320 MB posterior and prior predictive, measured in a fresh process."""
    env = dict(os.environ, JAXMC_COMPILATION_CACHE="0")
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, "10000"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.parametrize("kind", ["posterior", "prior"])
def test_peak_and_retained_resident_memory(resident, kind):
    """The process's peak grows by at most 1.25 x the result + 96 MiB (chunks of 256 MB break this: the peak is
    then about the result + 2.5 chunks), and what stays resident afterwards is the result."""
    m = resident[kind]
    assert m["result"] == 4 * 1000 * 10000 * 8
    if not m["reset"] and m["before"] > m["base"] + 64 * MiB:
        pytest.skip("the process's peak resident size cannot be reset here, and was higher before the call")
    grown, kept = m["peak"] - m["base"], m["retained"] - m["base"]
    report = f"result {m['result'] / MiB:.0f} MiB, peak +{grown / MiB:.0f} MiB, retained +{kept / MiB:.0f} MiB"
    assert grown <= 1.25 * m["result"] + 96 * MiB, report
    assert kept <= 1.1 * m["result"] + 96 * MiB, report

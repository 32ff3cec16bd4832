"""Observed values checked while the model is built: with numpy, so that building a model compiles no JAX program
(each eager JAX operation compiles one in a fresh process, 10-40 ms each, before sampling can start)."""
import subprocess
import sys

import numpy as np
import pytest

import jaxmc as pm

BUILD = """
import jax, numpy as np
import jaxmc as pm
compiled = []
jax.monitoring.register_event_duration_secs_listener(
    lambda event, duration, **kw: compiled.append(str(kw.get("fun_name"))) if event.endswith("backend_compile_duration")
    else None)
y, s = np.array([28., 8, -3, 7, -1, 1, 18, 12]), np.array([15., 10, 16, 11, 9, 11, 10, 18])
with pm.Model() as model:
    mu = pm.Normal("mu", 0, 5)
    tau = pm.HalfCauchy("tau", 5)
    theta = pm.Normal("theta", mu=mu, sigma=tau, shape=8)
    pm.Normal("obs", mu=theta, sigma=s, observed=y)
    pm.Gamma("g", mu=2.0, sigma=0.5)
    pm.Poisson("counts", mu=pm.math.exp(mu), observed=np.array([1, 0, 3]))
    pm.HalfNormal("h", sigma=np.array([1.0, 2.0]), observed=np.array([0.5, 1.5]))
print("COMPILED", compiled)
"""


def test_building_a_model_compiles_no_jax_program():
    out = subprocess.run([sys.executable, "-c", BUILD], capture_output=True, text=True, timeout=120)
    line = [l for l in out.stdout.splitlines() if l.startswith("COMPILED")]
    assert line, out.stderr[-2000:]
    # jax.numpy.asarray of a parameter array may stage one transfer program per shape; no computation
    assert all(name == "jit(stage)" for name in eval(line[0][len("COMPILED "):])), line[0]


def test_observed_outside_the_support_is_refused_by_the_numpy_check():
    with pm.Model():
        with pytest.raises(ValueError, match="obs"):
            pm.HalfNormal("obs", sigma=1.0, observed=np.array([0.5, -1.0]))
        with pytest.raises(ValueError, match="counts"):
            pm.Poisson("counts", mu=2.0, observed=np.array([1.0, 2.5]))

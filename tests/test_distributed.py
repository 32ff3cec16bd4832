"""jaxmc.distributed: two processes on 127.0.0.1 (jax.distributed, gloo on CPU) sample one model together and
agree with one process over as many simulated devices; bad calls of initialize. Run as a script, it is a worker."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve()
N = 64  # rows in all (each of 2 processes holds 32 in the "rows" mode)


def build(pm, rows: slice):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 2))
    y = X @ np.array([1.0, -2.0]) + 0.5 + rng.normal(size=N) * 0.3
    with pm.Model() as model:
        Xd = pm.Data("X", X[rows], dims=("N", "M"))
        b = pm.Normal("b", 0, 1, dims="M")
        a = pm.Normal("a", 0, 1)
        s = pm.HalfNormal("s", 1)
        pm.Normal("y", Xd @ b + a, s, observed=y[rows], dims="N")
    return model


def worker(out: str, coordinator: str | None, process_id: int, processes: int, modes: list) -> None:
    """Sample once per mode: "chains" split over the devices, "rows" of dim N split (each process its own)."""
    import jaxmc as pm

    if coordinator is not None:
        pm.distributed.initialize(coordinator_address=coordinator, num_processes=processes, process_id=process_id,
                                  initialization_timeout=60)
    import jax

    result = {"devices": len(jax.devices())}
    for mode in modes:
        rows, kw = slice(None), {}
        if mode == "rows" and coordinator is not None:
            per = N // processes
            rows, kw["shard_dim"] = slice(process_id * per, (process_id + 1) * per), {"N": N}
        elif mode == "rows":
            kw["shard_dim"] = "N"
        idata = pm.sample(draws=30, tune=30, chains=2, random_seed=3, progressbar=False,
                          compute_convergence_checks=False, model=build(pm, rows), **kw)
        result[mode] = None if idata is None else idata.posterior["b"].values.tolist()
    with open(out, "w") as f:
        json.dump(result, f)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(devices: int) -> dict:
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}".strip()
    env["JAX_PLATFORMS"] = "cpu"
    return env


def _agree(tmp_path, modes: str):
    """One process over 2 simulated devices beside 2 processes of 1 device each (all bounded in time): the same
    draws within rounding; process 0 returns the run, the other None."""
    coordinator = f"127.0.0.1:{_free_port()}"
    outs = [tmp_path / f"{name}.json" for name in ("one", "process_0", "process_1")]
    args = [(outs[0], "-", 0, 1, 2), (outs[1], coordinator, 0, 2, 1), (outs[2], coordinator, 1, 2, 1)]
    procs = [subprocess.Popen([sys.executable, str(HERE), str(out), c, str(i), str(n), modes], env=_env(devices),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for out, c, i, n, devices in args]
    try:
        logs = [p.communicate(timeout=150)[0].decode() for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, log in zip(procs, logs):
        assert p.returncode == 0, log[-3000:]
    one, p0, p1 = (json.loads(f.read_text()) for f in outs)
    assert one["devices"] == p0["devices"] == p1["devices"] == 2
    for mode in modes.split(","):
        assert p1[mode] is None  # process 1 returns None
        b1, b2 = np.asarray(one[mode]), np.asarray(p0[mode])
        assert b1.shape == b2.shape == (2, 30, 2)
        np.testing.assert_allclose(b2, b1, rtol=0, atol=1e-6, err_msg=mode)
        assert np.std(b1[:, :, 0]) > 1e-3  # the chains moved


def test_two_processes_rows_agree_with_one(tmp_path):
    """Each process holds half the rows (shard_dim={"N": 64}); the chains run on both processes' devices."""
    _agree(tmp_path, "rows")


@pytest.mark.slow
def test_two_processes_chains_agree_with_one(tmp_path):
    """Chains split over the two processes' devices, every process holding every row."""
    _agree(tmp_path, "chains,rows")


def test_initialize_after_jax_started_or_twice():
    code = ("import jaxmc, jax\njax.numpy.zeros(1)\n"
            "try:\n    jaxmc.distributed.initialize('127.0.0.1:1', 1, 0)\nexcept RuntimeError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=_env(1))
    assert "after JAX had started" in out.stdout, out.stdout + out.stderr
    code = (f"import jaxmc\njaxmc.distributed.initialize('127.0.0.1:{_free_port()}', 1, 0)\n"
            "try:\n    jaxmc.distributed.initialize()\nexcept RuntimeError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=_env(1))
    assert "already called" in out.stdout, out.stdout + out.stderr


def test_initialize_checks_its_arguments():
    import jaxmc

    with pytest.raises(ValueError, match="process_id=2"):
        jaxmc.distributed.initialize("127.0.0.1:1", num_processes=2, process_id=2)
    with pytest.raises(TypeError, match="num_processes"):
        jaxmc.distributed.initialize("127.0.0.1:1", num_processes="2", process_id=0)


if __name__ == "__main__":
    out, coordinator, pid, count, modes = sys.argv[1:6]
    worker(out, None if coordinator == "-" else coordinator, int(pid), int(count), modes.split(","))

"""Chains and data across 4 simulated CPU devices (XLA_FLAGS=--xla_force_host_platform_device_count=4, in a
subprocess): the same results as one device for the same seed within rounding, and the bad-input errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve()
N = 400


def build(pm, n=N):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    y = X @ np.array([1.0, -2.0]) + 0.5 + rng.normal(size=n) * 0.3
    with pm.Model(coords={"N": np.arange(n), "M": ["a", "b"]}) as model:
        Xd = pm.Data("X", X, dims=("N", "M"))
        b = pm.Normal("b", 0, 1, dims="M")
        a = pm.Normal("a", 0, 1)
        s = pm.HalfNormal("s", 1)
        pm.Normal("y", Xd @ b + a, s, observed=y, dims="N")
    return model


def _error(fn) -> str:
    try:
        fn()
    except (TypeError, ValueError) as err:
        return f"{type(err).__name__}: {err}"
    return "no error"


def worker(out: str, part: str) -> None:
    """The checks on 4 devices, their numbers written to `out` (one process: one start-up, one set of compiles);
    `part` "extra": pm.fit and a run on one device that is not the default (slow)."""
    import jax

    import jaxmc as pm
    from jaxmc import sharding

    model = build(pm)
    if part == "extra":
        return extra(pm, jax, model, out)
    one = jax.devices()[:1]
    kw = dict(draws=40, tune=40, chains=4, random_seed=1, progressbar=False, compute_convergence_checks=False,
              model=model)
    res = {"devices": len(jax.devices())}
    res["plan_chains"] = sharding.plan(model, model.data_values(), None, None, 4).chains_split
    res["plan_rows"] = sharding.plan(model, model.data_values(), None, "N", 4).data_axes
    import time
    t = [time.perf_counter()]
    ref = pm.sample(devices=one, chain_method="vectorized", discard_tuned_samples=False, **kw)
    spread = pm.sample(discard_tuned_samples=False, **kw)  # chains over the 4 devices
    rows = pm.sample(shard_dim="N", discard_tuned_samples=False, **kw)
    t.append(time.perf_counter())
    b = ref.posterior["b"].values
    res["sd"] = float(b.std(axis=(0, 1)).min())
    res["mean_ref"] = b.mean(axis=(0, 1)).tolist()
    for name, run in (("chains", spread), ("rows", rows)):
        res[f"shape_{name}"] = list(run.posterior["b"].shape)
        res[f"first_{name}"] = float(np.abs(run.warmup_posterior["b"].values[:, :3] -
                                            ref.warmup_posterior["b"].values[:, :3]).max())
        res[f"max_{name}"] = float(np.abs(run.posterior["b"].values - b).max())
        res[f"mean_{name}"] = run.posterior["b"].values.mean(axis=(0, 1)).tolist()
    # the other entries take shard_dim= too: the same numbers up to summation order
    pp = [pm.sample_posterior_predictive(ref, model=model, random_seed=2, progressbar=False, **k)
          .posterior_predictive["y"].values for k in ({}, {"shard_dim": "N"})]
    res["pp"] = float(np.abs(pp[0] - pp[1]).max())
    ll = [pm.compute_log_likelihood(ref, model=model, extend_inferencedata=False, progressbar=False, **k)["y"].values
          for k in ({}, {"shard_dim": "N"})]
    res["ll"] = float(np.abs(ll[0] - ll[1]).max())
    t.append(time.perf_counter())
    res["seconds"] = np.diff(t).tolist()
    small = dict(draws=5, tune=5, progressbar=False, model=model)
    res["errors"] = {
        "unknown_dim": _error(lambda: pm.sample(shard_dim="K", **small)),
        "indivisible": _error(lambda: pm.sample(shard_dim="N", **dict(small, model=build(pm, 402)))),
        "empty": _error(lambda: pm.sample(devices=[], **small)),
        "not_devices": _error(lambda: pm.sample(devices=["cpu:0"], **small)),
        "twice": _error(lambda: pm.sample(devices=[one[0], one[0]], **small)),
        "chain_method": _error(lambda: pm.sample(chain_method="parallel", **small)),
        "dim_type": _error(lambda: pm.sample(shard_dim=1, **small)),
        "rows_in_all": _error(lambda: pm.sample(shard_dim={"N": 800}, **small)),
        "predictive": _error(lambda: pm.sample_posterior_predictive(ref, model=model, shard_dim="K")),
    }
    with open(out, "w") as f:
        json.dump(res, f)


def extra(pm, jax, model, out: str) -> None:
    fits = [pm.fit(150, method="advi", model=model, random_seed=3, progressbar=False, **k)
            for k in ({}, {"shard_dim": "N"})]
    res = {"fit": float(np.abs(fits[0].mean.get_value() - fits[1].mean.get_value()).max())}
    res["other_device"] = list(pm.sample(devices=jax.devices()[2:3], draws=5, tune=5, chains=4, random_seed=1,
                                         progressbar=False, compute_convergence_checks=False, model=model)
                               .posterior["b"].shape)
    with open(out, "w") as f:
        json.dump(res, f)


def _on_four(folder, part: str) -> dict:
    out = folder / f"{part}.json"
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=4".strip()
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run([sys.executable, str(HERE), str(out), part], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    return _on_four(tmp_path_factory.mktemp("sharding"), "core")


def test_placement_on_four_devices(four):
    assert four["devices"] == 4
    assert four["plan_chains"] is True
    assert four["plan_rows"] == {"X": 0, "y__observed_values": 0}
    assert four["shape_chains"] == four["shape_rows"] == [4, 40, 2]


@pytest.mark.parametrize("how", ["chains", "rows"])
def test_same_draws_as_one_device(four, how):
    """The first steps agree to rounding; later ones drift by rounding amplified through the step-size
    adaptation, far below the posterior's spread, and so do the means."""
    assert four[f"first_{how}"] < 1e-8
    assert four[f"max_{how}"] < 0.01 * four["sd"]
    np.testing.assert_allclose(four[f"mean_{how}"], four["mean_ref"], atol=0.001 * four["sd"])


def test_predictive_and_log_likelihood_with_shard_dim(four):
    assert four["pp"] < 1e-10
    assert four["ll"] < 1e-10


@pytest.mark.slow
def test_fit_with_shard_dim_and_one_other_device(tmp_path):
    res = _on_four(tmp_path, "extra")
    assert res["fit"] < 1e-8
    assert res["other_device"] == [4, 5, 2]


@pytest.mark.parametrize("case, words", [
    ("unknown_dim", ["ValueError", "shard_dim='K'", "'N'"]),
    ("indivisible", ["ValueError", "402", "4 devices", "devices=jax.devices()[:3]"]),
    ("empty", ["ValueError", "devices=[]"]),
    ("not_devices", ["TypeError", "devices="]),
    ("twice", ["ValueError", "twice"]),
    ("chain_method", ["ValueError", "chain_method='parallel'", "devices=jax.devices()[:1]"]),
    ("dim_type", ["TypeError", "shard_dim"]),
    ("rows_in_all", ["ValueError", "800", "400 rows"]),
    ("predictive", ["ValueError", "sample_posterior_predictive(shard_dim='K')"]),
])
def test_bad_input(four, case, words):
    for w in words:
        assert w in four["errors"][case], four["errors"][case]


def test_errors_on_one_device():
    import jax

    import jaxmc as pm

    model = build(pm, 40)
    with pytest.raises(ValueError, match=r"devices=\[\]"):
        pm.sample(devices=[], model=model, draws=5, tune=5)
    with pytest.raises(ValueError, match="no pm.Data or observed array of the model has dim 'K'"):
        pm.sample(shard_dim="K", model=model, draws=5, tune=5)
    with pytest.raises(ValueError, match="disagree"):
        from jaxmc.sharding import data_axes

        data = dict(model.data_values())
        data["X"] = data["X"][:20]
        data_axes(model, data, "N", len(jax.devices()), "pm.sample")


if __name__ == "__main__":
    worker(sys.argv[1], sys.argv[2])

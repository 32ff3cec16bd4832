"""Scaling over (simulated) devices: ESS per second of the flagship model vs the number of devices its chains
are split over, the gradient time vs rows per device with `shard_dim="N"` (up to 10M rows), and the 10M-row
flagship sampled over 4 devices against one device. Each device count runs in a fresh process
(XLA_FLAGS=--xla_force_host_platform_device_count=n); prints markdown tables.

    python -m benchmarks.scale [--quick] [--no-big] [--rows 10000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

MARK = "@@SCALE@@"


def flagship(n: int, seed: int = 0):
    """The flagship model (jaxmc.demo.build_model) on n synthetic rows like the phones data: 4 standardized
    features, y = X m + b + noise of known scale y_err."""
    from types import SimpleNamespace

    import numpy as np

    from jaxmc.demo import build_model

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y_err = rng.uniform(0.02, 0.06, size=n)
    y = X @ np.array([0.05, -0.02, 0.01, 0.0]) + 0.3 + rng.normal(size=n) * y_err * 1.5
    a = SimpleNamespace(X=X, y=y, y_err=y_err, ids=np.arange(n), features=["f0", "f1", "f2", "f3"])
    return build_model(a)


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def chains_child(devices: int, chains: int, draws: int) -> dict:
    """Chains split over `devices` (vectorized within each), and on one device as the default run does."""
    import jax
    import numpy as np

    import jaxmc as pm
    from benchmarks.models import build_pymc

    model = build_pymc(pm, "flagship")
    kw = dict(draws=draws, tune=draws, chains=chains, random_seed=1, progressbar=False,
              compute_convergence_checks=False, model=model)
    if devices == 1:
        runs = {"1 device, parallel threads (the CPU default)": dict(chain_method="parallel"),
                "1 device, vectorized": dict(chain_method="vectorized")}
    else:
        runs = {f"{devices} devices, vectorized": {}}
    out = []
    import arviz as az

    for label, extra in runs.items():
        t0 = time.perf_counter()
        pm.sample(devices=jax.devices()[:devices], **kw, **extra)  # compiles (or loads jaxmc's disk cache)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        idata = pm.sample(devices=jax.devices()[:devices], **kw, **extra)  # the programs in memory
        wall = time.perf_counter() - t0
        ess = float(min(np.min(az.ess(idata, var_names=[v])[v].values) for v in ("m", "b")))
        out.append(dict(label=label, first=first, wall=wall, ess=ess, ess_s=ess / wall, load=_load()))
    return {"chains": out}


def grad_child(devices: int, rows: list, repeats: int) -> dict:
    """Seconds per gradient of the flagship's log density with rows split along N over `devices`."""
    import jax
    import numpy as np

    from jaxmc import sharding

    out = []
    for n in rows:
        if n % devices:
            continue
        model = flagship(n)
        cm = model.compiled()
        data = sharding.placed_data(model, "N" if devices > 1 else None, jax.devices()[:devices])
        grad = jax.jit(jax.value_and_grad(cm.logp))
        x = cm.initial_flat()
        t0 = time.perf_counter()
        jax.block_until_ready(grad(x, data))
        first = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(grad(x, data))
            times.append(time.perf_counter() - t0)
        out.append(dict(rows=n, devices=devices, per_device=n // devices, first=first,
                        seconds=float(np.median(times)), load=_load()))
        del data, model, cm
    return {"grad": out}


def big_child(rows: int, draws: int, chains: int) -> dict:
    """The flagship on `rows` rows: shard_dim="N" over every device vs one device (same seed)."""
    import jax
    import numpy as np

    import jaxmc as pm

    model = flagship(rows)
    kw = dict(draws=draws, tune=draws, chains=chains, random_seed=1, progressbar=False, compute_convergence_checks=False,
              model=model, chain_method="vectorized")
    res = {}
    for label, extra in (("1 device", dict(devices=jax.devices()[:1])),
                         (f"shard_dim='N' over {len(jax.devices())} devices", dict(shard_dim="N"))):
        t0 = time.perf_counter()
        idata = pm.sample(**kw, **extra)
        post = idata.posterior
        res[label] = dict(wall=time.perf_counter() - t0, load=_load(),
                          mean={v: np.asarray(post[v].mean(("chain", "draw"))).ravel().tolist() for v in ("m", "b")},
                          sd={v: np.asarray(post[v].std(("chain", "draw"))).ravel().tolist() for v in ("m", "b")},
                          draws={v: np.asarray(post[v]).tolist() for v in ("b",)})
    return {"big": res}


def _child(args: list, devices: int, timeout: int = 3000) -> dict:
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}".strip()
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.scale", "--child", *args], env=env, text=True,
                          capture_output=True, timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"child {args} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer draws and rows (a smoke run)")
    p.add_argument("--no-big", action="store_true", help="skip sampling the 10M-row model")
    p.add_argument("--rows", type=int, default=10_000_000, help="rows of the big run (default 10M)")
    p.add_argument("--big-draws", type=int, default=25, help="warm-up steps and draws of the big run (default 25)")
    p.add_argument("--only", choices=["chains", "grad", "big"], help="run one part")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        kind, *rest = a.child
        if kind == "chains":
            out = chains_child(int(rest[0]), int(rest[1]), int(rest[2]))
        elif kind == "grad":
            out = grad_child(int(rest[0]), [int(r) for r in rest[2].split(",")], int(rest[1]))
        else:
            out = big_child(int(rest[0]), int(rest[1]), int(rest[2]))
        print(MARK + json.dumps(out), flush=True)
        return
    cores = os.cpu_count()
    print(f"{cores} CPU cores; simulated devices share them (XLA:CPU runs each device's program on the same "
          f"thread pool), so more devices than cores cannot run faster than {cores} devices.\n")
    draws = 200 if a.quick else 1000
    if a.only in (None, "chains"):
        _chains_table(draws)
    if a.only in (None, "grad"):
        _grad_table(a.quick)
    if a.no_big or a.only not in (None, "big"):
        return
    _big_table(a)


def _chains_table(draws: int) -> None:
    print(f"## Chains across devices: flagship (1500 rows), 4 chains, {draws} warm-up + {draws} draws; first call "
          "(compilation or jaxmc's disk cache included), then a second call (sampling alone) for ESS/s\n")
    print("| run | first call s | second call s | min ESS (m, b) | ESS/s | load |")
    print("|---|---|---|---|---|---|")
    for n in (1, 2, 4):
        for r in _child(["chains", str(n), "4", str(draws)], n)["chains"]:
            print(f"| {r['label']} | {r['first']:.1f} | {r['wall']:.1f} | {r['ess']:.0f} | {r['ess_s']:.0f} | "
                  f"{r['load']} |")


def _grad_table(quick: bool) -> None:
    rows = [10_000, 100_000, 1_000_000] + ([] if quick else [10_000_000])
    print("\n## Gradient time vs rows per device: flagship log density and gradient, rows split along N\n")
    print("| rows | devices | rows/device | ms per gradient | first call s (compile) | load |")
    print("|---|---|---|---|---|---|")
    for n in (1, 2, 4):
        for r in _child(["grad", str(n), "5" if quick else "10", ",".join(map(str, rows))], n)["grad"]:
            print(f"| {r['rows']:,} | {r['devices']} | {r['per_device']:,} | {1e3 * r['seconds']:.1f} | "
                  f"{r['first']:.1f} | {r['load']} |")


def _big_table(a) -> None:
    big_rows = 100_000 if a.quick else a.rows
    big_draws, big_chains = (30, 2) if a.quick else (a.big_draws, 1)
    res = _child(["big", str(big_rows), str(big_draws), str(big_chains)], 4)["big"]
    print(f"\n## The flagship on {big_rows:,} rows: {big_chains} chain(s), {big_draws} warm-up + {big_draws} draws, "
          "same seed\n")
    print("| run | wall s | m (mean) | b (mean) | b (sd) | load |")
    print("|---|---|---|---|---|---|")
    for label, r in res.items():
        m = ", ".join(f"{v:.5f}" for v in r["mean"]["m"])
        print(f"| {label} | {r['wall']:.0f} | {m} | {r['mean']['b'][0]:.6f} | {r['sd']['b'][0]:.2e} | {r['load']} |")
    import numpy as np

    one, many = res.values()
    diff = np.abs(np.asarray(one["draws"]["b"]) - np.asarray(many["draws"]["b"])).max()
    print(f"\nlargest difference of a draw of b between the two runs: {diff:.2e} (posterior sd of b "
          f"{one['sd']['b'][0]:.2e})")


if __name__ == "__main__":
    main()

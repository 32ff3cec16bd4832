"""ESS per second of jaxmc's NUTS metrics side by side: `python -m benchmarks.mass_matrix [--models a,b]
[--metrics auto,diag] [--seeds 3]`; prints a markdown table.

For each benchmark model (benchmarks.models: flagship, eight schools, radon) and each `nuts={"mass_matrix": ...}`
value, the first `pm.sample` call (4 chains x 1000 + 1000) includes compilation ("cold"; jaxmc's compilation cache is
off unless --cache); later calls with other
seeds reuse the compiled programs ("warm"). Metrics alternate within each seed, so that both see the same machine
load. Reported: min bulk ESS over the free variables, seconds, ESS/s and gradients per ESS (medians over seeds).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings


def _run(model, names, metric, seed):
    import jaxmc as pm
    from benchmarks.run import min_bulk_ess

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = pm.sample(1000, tune=1000, chains=4, random_seed=seed, progressbar=False, model=model,
                          nuts={"mass_matrix": metric}, compute_convergence_checks=False,
                          discard_tuned_samples=False)
    wall = time.perf_counter() - t0
    min_ess = min_bulk_ess({n: idata.posterior[n].values for n in names})
    grads = int(idata.sample_stats["n_steps"].sum() + idata.warmup_sample_stats["n_steps"].sum())
    return wall, min_ess, grads


def main(argv=None):
    from benchmarks.models import FREE_VARS, MODELS

    ap = argparse.ArgumentParser(prog="python -m benchmarks.mass_matrix", description=__doc__)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--metrics", default="auto,diag")
    ap.add_argument("--seeds", type=int, default=3, help="warm runs per metric (after one cold run)")
    ap.add_argument("--cache", action="store_true", help="use jaxmc's compilation cache (default: off, so that the "
                    "first call compiles)")
    args = ap.parse_args(argv)
    if not args.cache:
        os.environ["JAXMC_COMPILATION_CACHE"] = "0"
    import jaxmc as pm
    from benchmarks.models import build_pymc

    metrics = args.metrics.split(",")
    with pm.Model() as tiny:  # the process's one-time costs (imports, first traces) before any timing
        pm.Normal("x", 0.0, 1.0)
    for m in metrics:
        _run(tiny, ["x"], m, seed=0)
    rows = []
    for k, name in enumerate(args.models.split(",")):
        models = {m: build_pymc(pm, name) for m in metrics}  # each metric's first call compiles the model too
        cold, warm = {}, {m: [] for m in metrics}
        for i in range(args.seeds + 1):
            for m in (metrics if (i + k) % 2 == 0 else metrics[::-1]):
                out = _run(models[m], FREE_VARS[name], m, seed=100 + i)
                (warm[m].append(out) if i else cold.__setitem__(m, out))
        for m in metrics:
            w = warm[m]
            med = lambda k: statistics.median(r[k] for r in w)  # noqa: E731
            rows.append((name, m, cold[m][1] / cold[m][0], cold[m][0], statistics.median(r[1] / r[0] for r in w),
                         med(0), med(1), statistics.median(r[2] / r[1] for r in w)))
    load = os.getloadavg()
    print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
    print("| model | mass_matrix | cold ESS/s | cold s | warm ESS/s | warm s | min ESS | grads/ESS |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.0f} | {r[3]:.2f} | {r[4]:.0f} | {r[5]:.2f} | {r[6]:.0f} | {r[7]:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

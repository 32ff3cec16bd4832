"""Peak memory of a large posterior predictive: 4 chains x 1000 draws x 50,000 rows (1.6 GB of float64).

    python -m benchmarks.memory [--peers jaxmc,pymc,numpyro]

A simple regression `y ~ Normal(a + b x, sigma)` on 50,000 rows; the posterior is synthetic (an
InferenceData with `a`, `b`, `sigma` of shape (4, 1000) drawn around the true values), so nothing is
sampled. In a fresh process: build the model and the posterior, then measure the resident set size (RSS)
just before `sample_posterior_predictive` and the peak RSS of the process after it (`ru_maxrss`). The
check: peak - baseline <= 1.5 x result size + 1 GB (1 GB = 2**30 bytes).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
import warnings

import numpy as np

ROWS, CHAINS, DRAWS = 50_000, 4, 1000
RESULT_BYTES = CHAINS * DRAWS * ROWS * 8
LIBS = ("jaxmc", "pymc", "numpyro")
MODULE = "benchmarks.memory"
GB = 2**30


def _rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def data():
    rng = np.random.default_rng(50_000)
    x = rng.standard_normal(ROWS)
    y = 1.0 + 2.0 * x + 0.5 * rng.standard_normal(ROWS)
    post = {"a": 1.0 + 0.002 * rng.standard_normal((CHAINS, DRAWS)),
            "b": 2.0 + 0.002 * rng.standard_normal((CHAINS, DRAWS)),
            "sigma": 0.5 + 0.001 * np.abs(rng.standard_normal((CHAINS, DRAWS)))}
    return x, y, post


def worker(spec: dict) -> dict:
    lib = spec["lib"]
    x, y, post = data()
    from jaxmc.convert import from_dict

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = from_dict({"posterior": post, "observed_data": {"y": y}, "constant_data": {"x": x}},
                          dims={"y": ["obs"], "x": ["obs"]})
    if lib in ("jaxmc", "pymc"):
        if lib == "jaxmc":
            import jaxmc as pm
        else:
            import pymc as pm
        with pm.Model(coords={"obs": np.arange(ROWS)}) as model:
            xd = pm.Data("x", x, dims="obs")
            a = pm.Normal("a", 0.0, 10.0)
            b = pm.Normal("b", 0.0, 10.0)
            sigma = pm.HalfNormal("sigma", 1.0)
            pm.Normal("y", mu=a + b * xd, sigma=sigma, observed=y, dims="obs")

        def call():
            with model, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = pm.sample_posterior_predictive(idata, random_seed=1, progressbar=False)
            return out["posterior_predictive"]["y"].shape
    else:
        import jax
        import numpyro
        import numpyro.distributions as dist

        numpyro.enable_x64()
        from numpyro.infer import Predictive

        def model(x, y=None):
            a = numpyro.sample("a", dist.Normal(0.0, 10.0))
            b = numpyro.sample("b", dist.Normal(0.0, 10.0))
            sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
            numpyro.sample("y", dist.Normal(a + b * x, sigma).to_event(1), obs=y)

        samples = {k: v.reshape(-1) for k, v in post.items()}

        def call():
            out = Predictive(model, posterior_samples=samples)(jax.random.PRNGKey(1), x=x)
            out = np.asarray(out["y"]).reshape(CHAINS, DRAWS, ROWS)  # to host, (chain, draw, obs)
            return out.shape

    gc.collect()
    base_rss, base_max = _rss(), _maxrss()
    t = time.perf_counter()
    shape = call()
    elapsed = time.perf_counter() - t
    peak = _maxrss()
    return {"spec": spec, "baseline_rss": base_rss, "maxrss_before": base_max, "peak_rss": peak,
            "peak_minus_baseline": peak - base_rss, "result_bytes": RESULT_BYTES, "shape": list(shape),
            "time": elapsed, "load": [os.getloadavg()[0]]}


def limit_bytes() -> float:
    return 1.5 * RESULT_BYTES + GB


def run_all(results: list, peers=("jaxmc",), log=print, save=lambda: None):
    from benchmarks.harness import run_worker

    for lib in peers:
        log(f"memory: {lib}")
        res = run_worker({"lib": lib}, module=MODULE)
        results.append(res)
        log("   " + (res["error"].strip().splitlines()[-1][:300] if "error" in res else
                     f"peak - baseline {res['peak_minus_baseline'] / GB:.2f} GiB in {res['time']:.1f}s"))
        save()
    return results


def render(results: list) -> list[str]:
    if not results:
        return []
    out = ["## Memory: a 1.6 GB posterior predictive", "",
           f"Simple regression on {ROWS:,} rows, posterior predictive of {CHAINS} chains x {DRAWS} draws: the "
           f"result is {RESULT_BYTES / 1e9:.2f} GB ({RESULT_BYTES / GB:.2f} GiB) of float64. Synthetic "
           "posterior (no sampling). Fresh process per library; *peak - baseline* is the process's peak RSS "
           "(`ru_maxrss`) after the call minus its RSS just before it. Limit: 1.5 x result + 1 GiB = "
           f"{limit_bytes() / GB:.2f} GiB.", "",
           "| library | baseline RSS GiB | peak RSS GiB | peak - baseline GiB | peak - baseline / result | "
           "time s | within limit |", "|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        lib = r["spec"]["lib"]
        if "error" in r:
            err = r["error"].strip().splitlines()[-1][:150] if r["error"].strip() else "?"
            out.append(f"| {lib} | failed: {err} |||||||")
            continue
        d = r["peak_minus_baseline"]
        note = "" if r["maxrss_before"] <= r["baseline_rss"] + 0.1 * GB else \
            " (peak before the call was higher: lower bound)"
        out.append(f"| {lib} | {r['baseline_rss'] / GB:.2f} | {r['peak_rss'] / GB:.2f} | {d / GB:.2f} | "
                   f"{d / RESULT_BYTES:.2f} | {r['time']:.1f} | "
                   f"{'yes' if d <= limit_bytes() else '**no**'}{note} |")
    j = [r for r in results if r["spec"]["lib"] == "jaxmc" and "error" not in r]
    if j:
        ok = j[0]["peak_minus_baseline"] <= limit_bytes()
        out += ["", f"**jaxmc: peak - baseline {j[0]['peak_minus_baseline'] / GB:.2f} GiB against a limit of "
                    f"{limit_bytes() / GB:.2f} GiB: {'within the limit' if ok else 'OVER the limit'}.**"]
    out.append("")
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "worker":
        from benchmarks.harness import MARK

        print(MARK + json.dumps(worker(json.loads(argv[1]))), flush=True)
        return
    p = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--peers", default="jaxmc")
    p.add_argument("--snapshot", action=argparse.BooleanOptionalAction, default=True,
                   help="measure a snapshot of the committed jaxmc (git archive HEAD), not the working tree")
    a = p.parse_args(argv)
    from benchmarks.harness import log, standalone

    standalone(a.snapshot, lambda results: run_all(results, a.peers.split(","), log=log), render)


if __name__ == "__main__":
    main()

"""Peak and retained memory of jaxmc against PyMC for the same results, each case in a fresh process:

    python -m benchmarks.memory [--peers jaxmc,pymc] [--cases sample,predictive] [--quick] [--no-snapshot]

- ``sample``: `pm.sample(draws=1000, tune=1000, chains=4)` of a regression on 20,000 rows with
  `mu = pm.Deterministic("mu", a + b * x, dims="obs")`: the posterior is 0.64 GB of float64, almost all `mu`.
- ``predictive``: the flagship model (`jaxmc.demo.build_model`), `pm.set_data` to 20,000 new rows, then
  `sample_posterior_predictive(idata, predictions=True)` on a synthetic 4 x 1000 posterior (memory does not
  depend on its values): the predictions are 0.64 GB of float64. NumPyro's `Predictive` can be added as a peer.

`--quick` divides the rows by 10. Each worker imports ArviZ, builds the model and resets the process's peak
resident set size (VmHWM, through /proc/self/clear_refs) just before the call; *peak* is VmHWM after the call and
*retained* the resident set size after it with the result kept and `gc.collect()`, both minus the resident size
just before the call (compilation is part of the call, for every library). Child processes (PyMC's chain
processes, its C compiler) are not counted (PyMC stores the draws in the main process); the largest one's peak
is reported beside it.
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

ROWS = 20_000
CHAINS, DRAWS, TUNE = 4, 1000, 1000
CASES = ("sample", "predictive")
LIBS = ("jaxmc", "pymc", "numpyro")
MODULE = "benchmarks.memory"
TARGET = 1.2  # jaxmc's peak and retained growth at most this many times PyMC's
GB, MiB = 1e9, 2**20
CASE_LABELS = {"sample": "`pm.sample` with a 4 x 1000 x {rows:,} Deterministic",
               "predictive": "flagship posterior predictive, 4 x 1000 draws x {rows:,} new rows"}


def _status(key: str) -> int:
    """A /proc/self/status size in bytes: VmRSS (resident now), VmHWM (most resident since start or reset)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current resident size (Linux 4.0+)
        return True
    except OSError:
        return False


def _nbytes(group) -> int:
    return int(sum(v.values.nbytes for v in group.data_vars.values()))


def _sample_case(lib: str, rows: int):
    """The model and the call of the `sample` case."""
    import importlib

    pm = importlib.import_module("jaxmc" if lib == "jaxmc" else "pymc")
    rng = np.random.default_rng(rows)
    x = rng.standard_normal(rows)
    y = 1.0 + 2.0 * x + 0.5 * rng.standard_normal(rows)
    with pm.Model(coords={"obs": np.arange(rows)}) as model:
        xd = pm.Data("x", x, dims="obs")
        a = pm.Normal("a", 0.0, 10.0)
        b = pm.Normal("b", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        mu = pm.Deterministic("mu", a + b * xd, dims="obs")
        pm.Normal("y", mu=mu, sigma=sigma, observed=y, dims="obs")

    def call():
        with model:
            idata = pm.sample(draws=DRAWS, tune=TUNE, chains=CHAINS, random_seed=1, progressbar=False)
        return idata, _nbytes(idata.posterior)
    return call


def _posterior(m: int) -> dict:
    rng = np.random.default_rng(1)
    return {"m": 0.1 * rng.standard_normal((CHAINS, DRAWS, m)), "b": 0.1 * rng.standard_normal((CHAINS, DRAWS)),
            "sigma": 0.5 + 0.01 * np.abs(rng.standard_normal((CHAINS, DRAWS)))}


def _new_rows(rows: int):
    from benchmarks.models import flagship_data

    d = flagship_data()
    rng = np.random.default_rng(rows)
    return rng.standard_normal((rows, d.X.shape[1])), rng.choice(d.y_err, rows), d


def _predictive_case(lib: str, rows: int):
    X, err, d = _new_rows(rows)
    post = _posterior(X.shape[1])
    if lib == "numpyro":
        import jax
        import numpyro
        from numpyro.infer import Predictive

        from benchmarks.models import numpyro_model

        numpyro.enable_x64()
        model, _ = numpyro_model("flagship")
        samples = {k: v.reshape(CHAINS * DRAWS, *v.shape[2:]) for k, v in post.items()}

        def call():
            out = Predictive(model, posterior_samples=samples)(jax.random.PRNGKey(1), X=X, y_err=err)
            out = np.asarray(out["y_pred"]).reshape(CHAINS, DRAWS, rows)  # to host, (chain, draw, row)
            return out, out.nbytes
        return call
    import importlib

    from jaxmc.convert import from_dict

    from benchmarks.models import build_pymc

    pm = importlib.import_module("jaxmc" if lib == "jaxmc" else "pymc")
    idata = from_dict({"posterior": post}, coords={"M": list(d.features)}, dims={"m": ["M"]})
    model = build_pymc(pm, "flagship")
    with model:
        pm.set_data({"X": X, "y": np.zeros(rows), "y_err": err}, coords={"N": np.arange(rows)})

    def call():
        with model:
            out = pm.sample_posterior_predictive(idata, predictions=True, random_seed=1, progressbar=False)
        return out, _nbytes(out.predictions)
    return call


def worker(spec: dict) -> dict:
    lib, case, rows = spec["lib"], spec["case"], spec["rows"]
    from jaxmc.convert import import_arviz

    import_arviz()  # both libraries' results are ArviZ data: its import is not part of the call
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call = _sample_case(lib, rows) if case == "sample" else _predictive_case(lib, rows)
        gc.collect()
        reset = _reset_peak()
        base, before = _status("VmRSS"), _status("VmHWM")
        t = time.perf_counter()
        result, nbytes = call()
        elapsed = time.perf_counter() - t
        peak = _status("VmHWM")
    gc.collect()
    retained = _status("VmRSS")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    del result
    from benchmarks.harness import machine_info

    return {"spec": spec, "base": base, "peak_before": before, "peak_reset": reset, "peak": peak,
            "retained": retained, "result_bytes": nbytes, "children_peak": children, "time": elapsed,
            "load": [os.getloadavg()[0]], "machine": machine_info()}


def run_all(results: list, peers=("jaxmc", "pymc"), log=print, save=lambda: None, cases=CASES, quick=False):
    from benchmarks.harness import run_worker

    rows = ROWS // 10 if quick else ROWS
    for case in cases:
        for lib in peers:
            if lib == "numpyro" and case != "predictive":
                continue
            log(f"memory: {case} {lib}")
            res = run_worker({"lib": lib, "case": case, "rows": rows}, module=MODULE)
            results.append(res)
            log("   " + (res["error"].strip().splitlines()[-1][:300] if "error" in res else
                         f"peak +{(res['peak'] - res['base']) / MiB:.0f} MiB, retained "
                         f"+{(res['retained'] - res['base']) / MiB:.0f} MiB, result "
                         f"{res['result_bytes'] / MiB:.0f} MiB, {res['time']:.1f}s"))
            save()
    return results


def _growth(r: dict) -> tuple[int, int]:
    return r["peak"] - r["base"], r["retained"] - r["base"]


def render(results: list) -> list[str]:
    results = [r for r in results if "case" in r.get("spec", {})]  # older raw files measured something else
    if not results:
        return []
    out = ["## Memory: peak and retained, against PyMC", "",
           "Each (case, library) in a fresh process (`python -m benchmarks.memory`; the module docstring has the "
           "details). *Peak* is the growth of the process's peak resident set size (VmHWM, reset just before the "
           "call) during the call; *retained* the growth of the resident set size after it, with the result "
           "kept and garbage collected. Compilation is part of the call for every library. Target: jaxmc's peak "
           f"and retained growth at most {TARGET}x PyMC's.", "",
           "| case | library | result MiB | RSS before MiB | peak MiB | retained MiB | peak / result | "
           "retained / result | child processes' peak MiB | time s |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    by = {(r["spec"]["case"], r["spec"]["lib"]): r for r in results}
    summary = []
    for case in CASES:
        for lib in LIBS:
            r = by.get((case, lib))
            if r is None:
                continue
            label = CASE_LABELS[case].format(rows=r["spec"]["rows"])
            if "error" in r:
                err = r["error"].strip().splitlines()[-1][:150] if r["error"].strip() else "?"
                out.append(f"| {label} | {lib} | failed: {err} |||||||||")
                continue
            peak, kept = _growth(r)
            note = "" if r["peak_reset"] or r["peak_before"] <= r["base"] + 64 * MiB else " (lower bound)"
            child = f"{r['children_peak'] / MiB:,.0f}" if r["children_peak"] else "–"
            out.append(f"| {label} | {lib} | {r['result_bytes'] / MiB:,.0f} | {r['base'] / MiB:,.0f} | "
                       f"+{peak / MiB:,.0f}{note} | +{kept / MiB:,.0f} | {peak / r['result_bytes']:.2f} | "
                       f"{kept / r['result_bytes']:.2f} | {child} | {r['time']:.1f} |")
        j, p = by.get((case, "jaxmc")), by.get((case, "pymc"))
        if j and p and "error" not in j and "error" not in p:
            (jp, jr), (pp, pr) = _growth(j), _growth(p)
            ok = jp <= TARGET * pp and jr <= TARGET * pr
            summary.append(f"- {CASE_LABELS[case].format(rows=j['spec']['rows'])}: jaxmc / PyMC = "
                           f"**{jp / pp:.2f}x peak, {jr / pr:.2f}x retained** "
                           f"({'within' if ok else 'OVER'} the {TARGET}x target)")
    if summary:
        out += ["", *summary]
    m = next((r["machine"] for r in results if "machine" in r), None)
    if m:
        v = m["versions"]
        out += ["", f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM, {m['platform']}; Python "
                    f"{m['python']}; " + ", ".join(f"{k} {v[k]}" for k in ("jax", "jaxlib", "numpy", "pymc",
                                                                           "pytensor", "arviz", "numpyro")) +
                f"; load average {min(r['load'][0] for r in results if 'load' in r):.1f} to "
                f"{max(r['load'][0] for r in results if 'load' in r):.1f} during the run."]
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
    p.add_argument("--peers", default="jaxmc,pymc", help="libraries: jaxmc,pymc[,numpyro]")
    p.add_argument("--cases", default=",".join(CASES), help="cases: sample,predictive")
    p.add_argument("--quick", action="store_true", help="a tenth of the rows (results of 64 MB)")
    p.add_argument("--snapshot", action=argparse.BooleanOptionalAction, default=True,
                   help="measure a snapshot of the committed jaxmc (git archive HEAD), not the working tree")
    a = p.parse_args(argv)
    from benchmarks.harness import log, standalone

    standalone(a.snapshot, lambda results: run_all(results, a.peers.split(","), log=log,
                                                   cases=a.cases.split(","), quick=a.quick), render)


if __name__ == "__main__":
    main()

"""Posterior predictive timing on the flagship model: jaxmc vs PyMC vs NumPyro's `Predictive`.

    python -m benchmarks.predictive [--repeats 3]   # prints a markdown table (run.py puts it in BENCHMARKS.md)

One posterior (4 chains x 1000 draws of the flagship model, sampled once with jaxmc and saved to netCDF)
is used by every library. Cases:

- ``in_sample``: `sample_posterior_predictive(idata)` on the 1500 training rows;
- ``new_10``: `pm.set_data` to the 10 new phones, then `sample_posterior_predictive(idata, predictions=True)`;
- ``new_5000``: the same with 5,000 synthetic rows (fixed seed).

NumPyro: `Predictive(model, posterior_samples)(key, X, y_err)` with the 4000 draws, both with its default
`parallel=False` (a `lax.map` over draws) and `parallel=True` (`vmap`). Each (library, case, repeat) runs in a
fresh process that times a first call (compilation included) and a second call (another seed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

LIBS = ("jaxmc", "pymc", "numpyro", "numpyro_parallel")
LABELS = {"jaxmc": "jaxmc `sample_posterior_predictive`", "pymc": "PyMC `sample_posterior_predictive`",
          "numpyro": "NumPyro `Predictive` (parallel=False, default)",
          "numpyro_parallel": "NumPyro `Predictive` (parallel=True)"}
CASES = ("in_sample", "new_10", "new_5000")
CASE_LABELS = {"in_sample": "in-sample, 1500 rows", "new_10": "predictions, 10 new rows",
               "new_5000": "predictions, 5,000 rows"}
MODULE = "benchmarks.predictive"


def new_rows(case: str):
    """(X, y_err, ids) of the prediction rows of a case."""
    from benchmarks.models import flagship_data

    d = flagship_data()
    if case == "new_10":
        return d.X_new, d.err_new, np.asarray(d.new_ids)
    rng = np.random.default_rng(5000)
    n = 5000
    X = rng.standard_normal((n, d.X.shape[1]))
    err = rng.choice(d.y_err, n)
    return X, err, np.array([f"synthetic_{i}" for i in range(n)])


def make_posterior(path: str, seed: int = 0):
    """Sample the flagship posterior once (jaxmc, 4 x 1000) and save it to netCDF."""
    import jaxmc as pm
    from benchmarks.models import build_pymc

    with build_pymc(pm, "flagship"):
        idata = pm.sample(draws=1000, tune=1000, chains=4, random_seed=seed, progressbar=False)
    idata.to_netcdf(path)
    return path


def _block(x):
    import jax

    return jax.block_until_ready(x)


def worker(spec: dict) -> dict:
    import os

    load0 = os.getloadavg()[0]
    lib, case = spec["lib"], spec["case"]
    t = time.perf_counter()
    import arviz as az

    from benchmarks.models import flagship_data

    idata = az.from_netcdf(spec["posterior"])
    d = flagship_data()
    times = []
    if lib in ("jaxmc", "pymc"):
        if lib == "jaxmc":
            import jaxmc as pm
        else:
            import pymc as pm
        from benchmarks.models import build_pymc

        model = build_pymc(pm, "flagship")
        t_import = time.perf_counter() - t
        with model:
            if case != "in_sample":
                X, err, ids = new_rows(case)
                pm.set_data({"X": X, "y": np.zeros(len(X)), "y_err": err}, coords={"N": ids})
            for i in range(2):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t = time.perf_counter()
                    out = pm.sample_posterior_predictive(idata, predictions=case != "in_sample",
                                                         random_seed=spec["seed"] + i, progressbar=False)
                    times.append(time.perf_counter() - t)
            group = out["predictions" if case != "in_sample" else "posterior_predictive"]
            shape = tuple(group["y_pred"].shape)
    else:
        import jax
        import numpyro

        numpyro.enable_x64()
        from numpyro.infer import Predictive

        from benchmarks.models import numpyro_model

        model, kwargs = numpyro_model("flagship")
        t_import = time.perf_counter() - t
        post = idata.posterior
        samples = {k: np.asarray(post[k].values).reshape(-1, *post[k].shape[2:]) for k in ("m", "b", "sigma")}
        if case == "in_sample":
            X, err = d.X, d.y_err
        else:
            X, err, _ = new_rows(case)
        pred = Predictive(model, posterior_samples=samples, parallel=lib == "numpyro_parallel")
        for i in range(2):
            t = time.perf_counter()
            out = _block(pred(jax.random.PRNGKey(spec["seed"] + i), X=X, y_err=err))
            out = {k: np.asarray(v) for k, v in out.items()}  # to host, like the others' results
            times.append(time.perf_counter() - t)
        shape = tuple(out["y_pred"].shape)
    return {"spec": spec, "t_import": t_import, "times": times, "shape": list(shape),
            "load": [load0, os.getloadavg()[0]]}


def run_all(results: list, repeats: int = 3, libs=LIBS, cases=CASES, log=print, save=lambda: None,
            posterior: str | None = None):
    from benchmarks.harness import run_worker

    if posterior is None:
        posterior = str(Path(tempfile.gettempdir()) / "jaxmc-bench-flagship-posterior.nc")
        if not Path(posterior).exists():
            log(f"predictive: sampling the flagship posterior once -> {posterior}")
            res = run_worker({"make_posterior": posterior}, module=MODULE)
            if "error" in res:
                raise RuntimeError(res["error"])
    for r in range(repeats):
        for case in cases:
            for lib in libs:
                spec = {"lib": lib, "case": case, "seed": 10 * r + 1, "repeat": r, "posterior": posterior}
                log(f"predictive: {lib} {case} repeat {r}")
                res = run_worker(spec, module=MODULE)
                results.append(res)
                log("   " + (res["error"].strip().splitlines()[-1][:300] if "error" in res else
                             f"first {res['times'][0]:.2f}s second {res['times'][1]:.2f}s shape {res['shape']}"))
                save()
    return results


def render(results: list, args: dict | None = None) -> list[str]:
    if not results:
        return []
    groups: dict = {}
    for r in results:
        groups.setdefault((r["spec"]["case"], r["spec"]["lib"]), []).append(r)
    n_rep = max(len(v) for v in groups.values())
    out = ["## Posterior predictive (flagship model)", "",
           "4 chains x 1000 posterior draws (one jaxmc posterior, saved to netCDF and loaded by each "
           "library). Each (library, case, repeat) is a fresh process; *first call* includes compilation "
           "(jaxmc jit, PyMC's function compilation, NumPyro's tracing/jit), *second call* is the same call "
           "again with another seed. NumPyro's time includes moving the result to host memory but not "
           f"building an InferenceData. Medians over {n_rep} repeat(s); seconds.", "",
           "| case | library | first call s | second call s | result shape |", "|---|---|---:|---:|---|"]
    for case in CASES:
        for lib in LIBS:
            v = groups.get((case, lib))
            if not v:
                continue
            ok = [r for r in v if "error" not in r]
            if not ok:
                err = v[0]["error"].strip().splitlines()[-1][:120] if v[0]["error"].strip() else "?"
                out.append(f"| {CASE_LABELS[case]} | {LABELS[lib]} | failed: {err} | | |")
                continue
            first = statistics.median(r["times"][0] for r in ok)
            second = statistics.median(r["times"][1] for r in ok)
            out.append(f"| {CASE_LABELS[case]} | {LABELS[lib]} | {first:.2f} | {second:.2f} | "
                       f"{' x '.join(map(str, ok[0]['shape']))} |")
    ratios = []
    for case in CASES:
        j = [r for r in groups.get((case, "jaxmc"), []) if "error" not in r]
        if not j:
            continue
        jf = statistics.median(r["times"][0] for r in j)
        js = statistics.median(r["times"][1] for r in j)
        cells = []
        for lib in LIBS[1:]:
            p = [r for r in groups.get((case, lib), []) if "error" not in r]
            if p:
                cells.append(f"{LABELS[lib].split(' `')[0]}{' parallel' if lib.endswith('parallel') else ''} "
                             f"{statistics.median(r['times'][0] for r in p) / jf:.1f}x / "
                             f"{statistics.median(r['times'][1] for r in p) / js:.1f}x")
        ratios.append(f"- {CASE_LABELS[case]}: " + "; ".join(cells))
    if ratios:
        out += ["", "Peer time divided by jaxmc's time (first call / second call; above 1: jaxmc faster):", ""]
        out += ratios
    out.append("")
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "worker":
        from benchmarks.harness import MARK

        spec = json.loads(argv[1])
        if "make_posterior" in spec:
            res = {"spec": spec, "path": make_posterior(spec["make_posterior"])}
        else:
            res = worker(spec)
        print(MARK + json.dumps(res), flush=True)
        return
    p = argparse.ArgumentParser(prog="python -m benchmarks.predictive", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--libs", default=",".join(LIBS))
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--posterior", default=None, help="netCDF posterior to reuse (default: sampled once)")
    p.add_argument("--snapshot", action=argparse.BooleanOptionalAction, default=True,
                   help="measure a snapshot of the committed jaxmc (git archive HEAD), not the working tree")
    a = p.parse_args(argv)
    from benchmarks.harness import log, standalone

    standalone(a.snapshot, lambda results: run_all(results, a.repeats, a.libs.split(","), a.cases.split(","),
                                                   log=log, posterior=a.posterior), render)


if __name__ == "__main__":
    main()

"""find_MAP timing: jaxmc vs PyMC on a 150-row linear regression and the 89-parameter radon model.

    python -m benchmarks.find_map [--repeats 3]   # prints a markdown table

Each (library, model, repeat) runs in a fresh process that builds the model, then times a first
`find_MAP(progressbar=False)` (compilation included) and a second one on the same model (PyMC compiles its
functions again on each call, jaxmc reuses its program). jaxmc runs twice: with an empty on-disk program cache
(everything compiled) and with the cache a previous process filled (as a user's second session), PyMC likewise
with an empty PyTensor compiledir and with its usual one (filled by earlier runs). The table also
gives the negative log density (no Jacobian terms) at each library's optimum: lower is closer to the MAP.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings

import numpy as np

LIBS = ("jaxmc", "pymc_empty", "jaxmc_disk", "pymc")
LIB_LABELS = {"jaxmc": "jaxmc, empty program cache", "jaxmc_disk": "jaxmc, program cache on disk",
              "pymc": "PyMC, compile cache on disk", "pymc_empty": "PyMC, empty compile cache"}
PEER = {"jaxmc": "pymc_empty", "jaxmc_disk": "pymc"}  # the PyMC row each jaxmc row is compared with
MODELS = ("regression", "radon")
LABELS = {"regression": "linear regression, 150 rows, 5 parameters", "radon": "radon, 919 rows, 89 parameters"}
MODULE = "benchmarks.find_map"


def build(pm, name: str):
    if name == "regression":
        rng = np.random.default_rng(150)
        X = rng.normal(size=(150, 3))
        y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 + rng.normal(size=150) * 0.7
        with pm.Model() as model:
            a = pm.Normal("a", 0, 10)
            b = pm.Normal("b", 0, 10, shape=3)
            sigma = pm.HalfNormal("sigma", 5)
            pm.Normal("y", a + pm.math.dot(X, b), sigma, observed=y)
        return model
    from benchmarks.models import build_pymc

    return build_pymc(pm, name)


def worker(spec: dict) -> dict:
    import resource

    warnings.simplefilter("ignore")
    if spec["lib"] == "pymc_empty":  # PyTensor's C modules compiled afresh, as in a user's first session
        import os
        import tempfile

        os.environ["PYTENSOR_FLAGS"] = f"compiledir={tempfile.mkdtemp(prefix='find-map-pytensor-')}"
    if spec["lib"].startswith("pymc"):
        import pymc as pm
    else:
        import jaxmc as pm

    def cpu():
        return sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                   for f in ("ru_utime", "ru_stime"))

    t0 = time.perf_counter()
    model = build(pm, spec["model"])
    built = time.perf_counter() - t0
    times, cpus = [], []
    for _ in range(2):
        t0, c0 = time.perf_counter(), cpu()
        point, raw = pm.find_MAP(model=model, progressbar=False, return_raw=True)
        times.append(time.perf_counter() - t0)
        cpus.append(cpu() - c0)
    if spec["lib"] == "pymc_empty":
        import shutil

        shutil.rmtree(os.environ["PYTENSOR_FLAGS"].split("=", 1)[1], ignore_errors=True)
    return {"spec": spec, "build": built, "cold": times[0], "warm": times[1], "cold_cpu": cpus[0],
            "warm_cpu": cpus[1], "fun": float(raw["fun"]),
            "point": {k: np.asarray(v, dtype=float).tolist() for k, v in point.items()}}


def run_all(results: list, repeats: int, log=print) -> None:
    import tempfile

    from benchmarks.harness import run_worker

    disk = tempfile.mkdtemp(prefix="jaxmc-bench-find-map-")
    for model in MODELS:  # fills the on-disk program cache that the "jaxmc_disk" runs then read
        run_worker({"lib": "jaxmc", "model": model, "repeat": -1, "xla_cache_dir": disk}, module=MODULE)
    for rep in range(repeats):
        for model in MODELS:
            for lib in LIBS:
                spec = {"lib": lib, "model": model, "repeat": rep}
                if lib == "jaxmc_disk":
                    spec["xla_cache_dir"] = disk
                res = run_worker(spec, module=MODULE)
                if "error" in res:
                    log(f"{lib} {model}: {res['error']}")
                else:
                    log(f"{lib} {model} #{rep}: first call {res['cold']:.2f} s (cpu {res['cold_cpu']:.2f} s), "
                        f"second {res['warm']:.3f} s")
                results.append(res)


def render(results: list) -> list[str]:
    ok = [r for r in results if "error" not in r]

    def med(lib, model, key):
        vals = [r[key] for r in ok if r["spec"]["lib"] == lib and r["spec"]["model"] == model]
        return statistics.median(vals) if vals else float("nan")

    lines = ["| model | library | first call (wall) | first call (CPU) | second call | jaxmc's speed-up over the "
             "PyMC row below it, first call (wall / CPU) | -logp at the optimum |", "|---|---|---|---|---|---|---|"]
    for model in MODELS:
        for lib in LIBS:
            wall, cpu, warm = med(lib, model, "cold"), med(lib, model, "cold_cpu"), med(lib, model, "warm")
            peer = PEER.get(lib)
            speed = "" if peer is None else \
                f"{med(peer, model, 'cold') / wall:.1f}x / {med(peer, model, 'cold_cpu') / cpu:.1f}x"
            lines.append(f"| {LABELS[model]} | {LIB_LABELS[lib]} | {wall:.2f} s | {cpu:.2f} s | "
                         f"{_fmt(warm)} | {speed} | {med(lib, model, 'fun'):.7f} |")
    n = len({r["spec"]["repeat"] for r in ok})
    lines.append(f"\nMedians of {n} fresh processes per row. First call: `find_MAP` on a model just built, "
                 "compilation included, with an empty cache (jaxmc's program cache, PyTensor's compiledir) or "
                 "with the cache an earlier process filled (a user's later sessions); second call: again on the "
                 "same model. CPU: user + system time of the process and its children (PyTensor's C compiler) "
                 "during the call.")
    return lines


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main(argv=None) -> None:
    if argv and argv[0] == "worker":
        from benchmarks.harness import MARK

        print(MARK + json.dumps(worker(json.loads(argv[1]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from benchmarks.harness import log, machine_info, standalone

    info = machine_info()
    log(f"{info['cpu']}, {info['cores']} cores, python {info['python']}, jax {info['versions']['jax']}, "
        f"pymc {info['versions']['pymc']}")
    standalone(False, lambda results: run_all(results, args.repeats, log=log), render)


if __name__ == "__main__":
    main(sys.argv[1:])

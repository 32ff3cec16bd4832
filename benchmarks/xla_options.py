"""What each of jaxmc's XLA compile options is worth on the installed jax: the first `pm.sample` call
(compilation included, no disk cache) and the second (sampling alone) of the benchmark models, with all
options and with each one left out, in fresh processes.

    python -m benchmarks.xla_options [--models flagship,radon] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

MARK = "@@XLA@@"


def worker(model_name: str, leave_out: str) -> dict:
    import warnings

    from jaxmc import xla

    wanted = xla.wanted_compiler_options
    xla.wanted_compiler_options = lambda f64: {k: v for k, v in wanted(f64).items() if k != leave_out}
    import jaxmc as pm
    from benchmarks.models import build_pymc

    model = build_pymc(pm, model_name)
    times = []
    for seed in (1, 2):
        with model, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            pm.sample(draws=1000, tune=1000, chains=4, random_seed=seed, progressbar=False)
            times.append(time.perf_counter() - t)
    return {"first": times[0], "second": times[1], "options": sorted(xla.compiler_options("float64"))}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "worker":
        print(MARK + json.dumps(worker(argv[1], argv[2])), flush=True)
        return
    p = argparse.ArgumentParser(prog="python -m benchmarks.xla_options", description=__doc__.splitlines()[0])
    p.add_argument("--models", default="flagship,radon")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    from jaxmc import xla

    import jax

    cases = ["(none)"] + list(xla.compiler_options("float64"))
    env = dict(os.environ, JAXMC_COMPILATION_CACHE="0")
    print(f"jax {jax.__version__}; options in effect: {', '.join(cases[1:])}; dropped as unsupported: "
          f"{', '.join(xla.dropped_compiler_options('float64')) or 'none'}")
    print("| model | left out | first call s (compile included) | second call s |")
    print("|---|---|---:|---:|")
    for model in args.models.split(","):
        for case in cases:
            runs = []
            for _ in range(args.repeats):
                out = subprocess.run([sys.executable, "-m", "benchmarks.xla_options", "worker", model, case],
                                     env=env, capture_output=True, text=True).stdout
                runs += [json.loads(ln[len(MARK):]) for ln in out.splitlines() if ln.startswith(MARK)]
            first = statistics.median(r["first"] for r in runs) if runs else float("nan")
            second = statistics.median(r["second"] for r in runs) if runs else float("nan")
            print(f"| {model} | {case} | {first:.2f} | {second:.3f} |", flush=True)


if __name__ == "__main__":
    main()

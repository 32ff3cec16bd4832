"""Step methods' timing: jaxmc's `pm.sample(step=...)` vs PyMC's, same models, steps, draws and chains.

    python -m benchmarks.step_methods [--draws 2000] [--tune 1000] [--chains 2] [--python-pymc PATH]

Setups: Metropolis and Slice on a 10-dimensional normal (sd 1..10), and PyMC's default compound step on the
coal-mining disasters switch-point model (NUTS for the two rates, Metropolis for the DiscreteUniform switch
point). Each (library, setup) runs in a fresh process that times a first call (compilation included) and a
second call with another seed; the table shows both wall times and a posterior summary to compare. PyMC runs
its chains with its defaults (cores = CPU count).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np

from benchmarks.harness import report, run_in_fresh_process

SETUPS = ("metropolis", "slice", "compound")
LIBS = ("jaxmc", "pymc")
MODULE = "benchmarks.step_methods"


def build(pm, setup: str):
    if setup in ("metropolis", "slice"):
        with pm.Model() as model:
            pm.Normal("x", 0.0, np.arange(1.0, 11.0))
        step = (lambda: pm.Metropolis()) if setup == "metropolis" else (lambda: pm.Slice())
        return model, step, "x", lambda v: float(np.std(v[..., -1]))  # sd of the last coordinate: 10
    rng = np.random.default_rng(42)
    years = np.arange(60)
    counts = np.where(years < 37, rng.poisson(4.0, 60), rng.poisson(1.0, 60))
    with pm.Model() as model:
        switch = pm.DiscreteUniform("switchpoint", lower=0, upper=59)
        early = pm.Exponential("early_rate", 1.0)
        late = pm.Exponential("late_rate", 1.0)
        pm.Poisson("disasters", pm.math.switch(switch >= years, early, late), observed=counts)
    return model, (lambda: None), "switchpoint", lambda v: float(np.mean(v))


def run_one(lib: str, setup: str, draws: int, tune: int, chains: int) -> dict:
    """Two timed calls in this process: the first compiles."""
    import importlib

    pm = importlib.import_module(lib)
    model, step, name, summary = build(pm, setup)
    out = {"times": [], "summary": []}
    for seed in (1, 2):
        with warnings.catch_warnings(), model:
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            idata = pm.sample(draws=draws, tune=tune, chains=chains, step=step(), random_seed=seed,
                              progressbar=False, compute_convergence_checks=False)
            out["times"].append(time.perf_counter() - t0)
        out["summary"].append(summary(idata.posterior[name].values))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--python-pymc", default=sys.executable, help="the Python that has PyMC")
    parser.add_argument("--one", nargs=2, metavar=("LIB", "SETUP"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        report(run_one(*args.one, args.draws, args.tune, args.chains))
        return
    rows = []
    for setup in SETUPS:
        for lib in LIBS:
            python = args.python_pymc if lib == "pymc" else sys.executable
            r = run_in_fresh_process(MODULE, ["--one", lib, setup, "--draws", args.draws, "--tune", args.tune,
                                              "--chains", args.chains], python=python)
            if "error" in r:
                rows.append(f"| {setup} | {lib} | failed: {r['error']} | | |")
                continue
            rows.append(f"| {setup} | {lib} | {r['times'][0]:.2f} | {r['times'][1]:.2f} | {r['summary'][0]:.3f} |")
    print(f"Step methods, {args.tune} warm-up + {args.draws} draws x {args.chains} chains\n")
    print("| setup | library | first call, s (compile included) | second call, s | summary (sd of x[9]: 10; "
          "mean switch point) |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()

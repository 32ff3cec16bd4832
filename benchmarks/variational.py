"""`pm.fit(n=20000)` timing, ADVI and full-rank ADVI on a 150-row linear regression: jaxmc vs PyMC.

    python -m benchmarks.variational [--repeats 3] [--n 20000]   # prints a markdown table

Each (library, method, repeat) runs in a fresh process that builds the model and times `pm.fit` (compilation
included; imports not), then prints the fitted means and standard deviations (unconstrained space) as JSON.
"jaxmc" uses jaxmc's on-disk program cache as users get it (the first repeat compiles, later ones load);
"jaxmc-cold" runs with JAXMC_COMPILATION_CACHE=0, so every repeat compiles from scratch.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from benchmarks.harness import report, run_in_fresh_process

LIBS = ("jaxmc", "jaxmc-cold", "pymc")
METHODS = ("advi", "fullrank_advi")
MODULE = "benchmarks.variational"


def regression_data(n: int = 150, seed: int = 42):
    """X (n, 3), y of a linear regression with intercept 1, slopes (0.5, -1, 2) and noise sd 0.7."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = 1.0 + X @ np.array([0.5, -1.0, 2.0]) + rng.normal(0, 0.7, n)
    return X, y


def build(pm, X, y):
    with pm.Model() as model:
        a = pm.Normal("a", 0, 10)
        b = pm.Normal("b", 0, 10, shape=3)
        s = pm.HalfNormal("s", 5)
        pm.Normal("y", a + pm.math.dot(X, b), s, observed=y)
    return model


def one(lib: str, method: str, n: int, seed: int) -> dict:
    if lib.startswith("jaxmc"):
        import jaxmc as pm
    else:
        import pymc as pm
    X, y = regression_data()
    model = build(pm, X, y)
    with model:
        t0 = time.perf_counter()
        approx = pm.fit(n=n, method=method, random_seed=seed, progressbar=False)
        seconds = time.perf_counter() - t0
    return {"lib": lib, "method": method, "seconds": seconds, "mean": np.asarray(approx.mean.eval()).tolist(),
            "std": np.asarray(approx.std.eval()).tolist(), "final_loss": float(np.mean(approx.hist[-1000:]))}


def run(lib: str, method: str, n: int, seed: int) -> dict:
    import os

    env = dict(os.environ, **({"JAXMC_COMPILATION_CACHE": "0"} if lib == "jaxmc-cold" else {}))
    result = run_in_fresh_process(MODULE, ["--one", lib, method, n, seed], env=env)
    if "error" in result:
        raise RuntimeError(f"{lib} {method}: {result['error']}")
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--one", nargs=4, metavar=("LIB", "METHOD", "N", "SEED"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        lib, method, n, seed = args.one
        import warnings

        warnings.filterwarnings("ignore")
        report(one(lib, method, int(n), int(seed)))
        return
    rows = {}
    for method in METHODS:
        for lib in LIBS:
            rows[lib, method] = [run(lib, method, args.n, seed) for seed in range(1, args.repeats + 1)]
    print(f"| method (`pm.fit(n={args.n})`, 150-row regression, compile included) | jaxmc (s) | jaxmc, no disk "
          "cache (s) | PyMC (s) | speed-up (cache / no cache) |")
    print("|---|---|---|---|---|")
    for method in METHODS:
        j, c, q = (statistics.median(r["seconds"] for r in rows[lib, method]) for lib in LIBS)
        print(f"| {method} | {j:.2f} | {c:.2f} | {q:.2f} | {q / j:.1f}x / {q / c:.1f}x |")
    print()
    for (lib, method), rs in rows.items():
        means = np.array([r["mean"] for r in rs])
        stds = np.array([r["std"] for r in rs])
        print(f"{lib} {method}: mean {np.round(means.mean(0), 3).tolist()} (seed sd "
              f"{np.round(means.std(0), 3).tolist()}), std {np.round(stds.mean(0), 3).tolist()} (seed sd "
              f"{np.round(stds.std(0), 3).tolist()})")


if __name__ == "__main__":
    main()

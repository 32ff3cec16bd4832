"""SMC timing and log marginal likelihood: jaxmc's `pm.sample_smc` vs PyMC's, same draws and chains.

    python -m benchmarks.smc [--draws 2000] [--chains 4] [--python-pymc PATH]   # prints a markdown table

Models: a conjugate normal (mu ~ N(0, 2), 50 observations ~ N(mu, 1); its log marginal likelihood is known) and
eight schools (non-centred, posteriordb's data). Each (library, model) runs in a fresh process that times a
first call (compilation included) and a second call with another seed; the table shows both wall times and the
log marginal likelihood of the last stage (mean and sd over chains). PyMC runs its chains with its defaults
(cores = CPU count: parallel processes).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np

from benchmarks.harness import report, run_in_fresh_process

MODELS = ("conjugate", "eight_schools")
LIBS = ("jaxmc", "pymc")
MODULE = "benchmarks.smc"


def conjugate_data():
    return np.random.default_rng(0).normal(1.0, 1.0, 50)


def analytic_lml() -> float:
    from scipy.stats import multivariate_normal

    y = conjugate_data()
    return float(multivariate_normal(np.zeros(len(y)), np.eye(len(y)) + 4.0).logpdf(y))


def build(pm, name: str):
    if name == "conjugate":
        with pm.Model() as model:
            mu = pm.Normal("mu", 0.0, 2.0)
            pm.Normal("y", mu, 1.0, observed=conjugate_data())
        return model
    from benchmarks.posteriordb.common import load_data, model_module

    posterior = "eight_schools-eight_schools_noncentered"
    return model_module(posterior).build(pm, load_data(posterior))


def run_one(lib: str, model_name: str, draws: int, chains: int) -> dict:
    """Two timed calls in this process: the first compiles."""
    import importlib

    pm = importlib.import_module(lib)
    model = build(pm, model_name)
    out = {"lib": lib, "model": model_name, "times": [], "lml": []}
    for seed in (1, 2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            idata = pm.sample_smc(draws, chains=chains, random_seed=seed, progressbar=False, model=model)
            out["times"].append(time.perf_counter() - t0)
        lml = idata.sample_stats["log_marginal_likelihood"].values
        out["lml"].append([float(np.nanmax(np.asarray(row, float))) for row in lml])  # each chain's one finite value
        out["stages"] = int(np.asarray(idata.sample_stats["beta"].values[0], float).size)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--python-pymc", default=sys.executable, help="the Python that has PyMC")
    parser.add_argument("--one", nargs=2, metavar=("LIB", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        report(run_one(*args.one, args.draws, args.chains))
        return
    rows = []
    for model_name in MODELS:
        for lib in LIBS:
            python = args.python_pymc if lib == "pymc" else sys.executable
            r = run_in_fresh_process(MODULE, ["--one", lib, model_name, "--draws", args.draws, "--chains", args.chains],
                                     python=python)
            if "error" in r:
                rows.append(f"| {model_name} | {lib} | failed: {r['error']} | | | |")
                continue
            lml = np.asarray(r["lml"][0])
            rows.append(f"| {model_name} | {lib} | {r['times'][0]:.2f} | {r['times'][1]:.2f} | {r['stages']} | "
                        f"{lml.mean():.3f} ± {lml.std():.3f} |")
    print(f"SMC, {args.draws} draws x {args.chains} chains (IMH kernel); conjugate model's analytic log marginal "
          f"likelihood {analytic_lml():.3f}\n")
    print("| model | library | first call, s (compile included) | second call, s | stages | "
          "log marginal likelihood (mean ± sd over chains) |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()

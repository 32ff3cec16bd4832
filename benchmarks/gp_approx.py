"""Scalable GPs: an HSGP on a few thousand points and a sparse (FITC) MarginalApprox, sampled by jaxmc, PyMC,
PyMC+nutpie and PyMC+NumPyro: ESS per second of total wall time (compilation included), side by side.

    python -m benchmarks.gp_approx [--libs jaxmc,pymc,nutpie,numpyro] [--draws 1000] [--tune 1000] [--chains 4]
                                   [--timeout 1800]

Each (library, model) runs in a fresh process; the time is that of the first `pm.sample` call (compilation
included; imports and model building excluded). ESS: ArviZ bulk ESS, the minimum over the hyperparameters
(ls, eta, sigma). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.gp import print_table, run_all
from benchmarks.harness import report

LIBS = ("jaxmc", "pymc", "nutpie", "numpyro")
MODULE = "benchmarks.gp_approx"
HYPER = ["ls", "eta", "sigma"]


def data(model: str):
    rng = np.random.default_rng(0)
    n = 3000 if model == "hsgp" else 1000
    x = np.sort(rng.uniform(0, 20, n))[:, None]
    y = np.sin(x[:, 0]) + 0.5 * np.cos(0.3 * x[:, 0]) + 0.5 * rng.normal(size=n)
    return x, y


def build(lib, model: str):
    x, y = data(model)
    with lib.Model() as m:
        ls = lib.Gamma("ls", 4.0, 2.0)
        eta = lib.HalfNormal("eta", 1.0)
        sigma = lib.HalfNormal("sigma", 1.0)
        cov = eta**2 * lib.gp.cov.Matern52(1, ls=ls)
        if model == "hsgp":  # 3000 points, 40 basis functions
            f = lib.gp.HSGP(m=[40], c=1.5, cov_func=cov).prior("f", x)
            lib.Normal("y", f, sigma, observed=y)
        else:  # 1000 points, 20 inducing points, FITC
            xu = np.linspace(0, 20, 20)[:, None]
            lib.gp.MarginalApprox("FITC", cov_func=cov).marginal_likelihood("y", x, xu, y, sigma=sigma)
    return m


def one(lib: str, model: str, draws: int, tune: int, chains: int) -> dict:
    import arviz as az

    if lib == "jaxmc":
        import jaxmc as pm
        kwargs = {}
    else:
        import pymc as pm
        kwargs = {} if lib == "pymc" else {"nuts_sampler": lib}
    m = build(pm, model)
    with m:
        t0 = time.perf_counter()
        idata = pm.sample(draws, tune=tune, chains=chains, random_seed=1, progressbar=False,
                          compute_convergence_checks=False, **kwargs)
        wall = time.perf_counter() - t0
    ess = az.ess(idata, var_names=HYPER, method="bulk")
    min_ess = min(float(np.min(ess[v].values)) for v in HYPER)
    div = int(np.asarray(idata.sample_stats["diverging"]).sum()) if "diverging" in idata.sample_stats else -1
    return {"wall_s": wall, "min_ess": min_ess, "ess_per_s": min_ess / wall, "divergences": div,
            "means": {v: float(idata.posterior[v].mean()) for v in HYPER}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--libs", default=",".join(LIBS))
    parser.add_argument("--models", default="hsgp,marginal_approx")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per (library, model) process")
    parser.add_argument("--one", nargs=2, metavar=("LIB", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        report(one(*args.one, args.draws, args.tune, args.chains))
        return
    rows = run_all(MODULE, args, timeout=args.timeout)
    print_table(rows, args, "min bulk ESS over ls, eta, sigma")


if __name__ == "__main__":
    main()

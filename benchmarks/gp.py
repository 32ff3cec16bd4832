"""Exact GPs: a Marginal regression, a Latent classification and a Student-t process, sampled by jaxmc, PyMC,
PyMC+nutpie and PyMC+NumPyro: ESS per second of total wall time (compilation included), side by side.

    python -m benchmarks.gp [--libs jaxmc,pymc,nutpie,numpyro] [--models marginal,latent,tp] [--draws 1000]
                            [--tune 1000] [--chains 4]

Each (library, model) runs in a fresh process; the time is that of the first `pm.sample` call (compilation
included; imports and model building excluded). ESS: ArviZ bulk ESS, the minimum over every free variable's
scalars. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from benchmarks.harness import report, run_in_fresh_process

LIBS = ("jaxmc", "pymc", "nutpie", "numpyro")
MODULE = "benchmarks.gp"
MODELS = ("marginal", "latent", "tp")


def build(lib, model: str):
    rng = np.random.default_rng(0)
    if model == "marginal":  # PyMC's GP-Marginal notebook: n = 100, Matern52, noisy observations
        x = np.sort(10 * rng.uniform(size=100))[:, None]
        f = 3.0 * np.sin(x[:, 0]) * np.exp(-0.1 * x[:, 0])
        y = f + 0.5 * rng.normal(size=100)
        with lib.Model() as m:
            ell = lib.Gamma("ell", alpha=2, beta=1)
            eta = lib.HalfCauchy("eta", beta=5)
            gp = lib.gp.Marginal(cov_func=eta**2 * lib.gp.cov.Matern52(1, ell))
            sigma = lib.HalfCauchy("sigma", beta=5)
            gp.marginal_likelihood("y", X=x, y=y, sigma=sigma)
        return m
    if model == "latent":  # classification with a Latent GP (non-centred), n = 60
        x = np.sort(rng.uniform(0, 5, 60))[:, None]
        y = rng.binomial(1, 1 / (1 + np.exp(-2.0 * np.sin(2 * x[:, 0]))))
        with lib.Model() as m:
            ell = lib.InverseGamma("ell", mu=1.0, sigma=0.5)
            eta = lib.Exponential("eta", lam=1.0)
            gp = lib.gp.Latent(cov_func=eta**2 * lib.gp.cov.ExpQuad(1, ell))
            f = gp.prior("f", X=x)
            lib.Bernoulli("y", p=lib.math.invlogit(f), observed=y)
        return m
    # Student-t process prior (rotated StudentT), Gaussian observations, n = 50
    x = np.sort(rng.uniform(0, 10, 50))[:, None]
    y = np.sin(x[:, 0]) + 0.3 * rng.standard_t(3, size=50)
    with lib.Model() as m:
        ell = lib.Gamma("ell", alpha=2, beta=1)
        tp = lib.gp.TP(scale_func=lib.gp.cov.ExpQuad(1, ell), nu=5)
        f = tp.prior("f", X=x)
        sigma = lib.HalfNormal("sigma", 1.0)
        lib.Normal("y", mu=f, sigma=sigma, observed=y)
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
    free = [v.name for v in m.free_RVs]
    with m:
        t0 = time.perf_counter()
        idata = pm.sample(draws, tune=tune, chains=chains, random_seed=1, progressbar=False,
                          compute_convergence_checks=False, **kwargs)
        wall = time.perf_counter() - t0
    ess = az.ess(idata, var_names=free, method="bulk")
    min_ess = min(float(np.min(ess[v].values)) for v in free)
    div = int(np.asarray(idata.sample_stats["diverging"]).sum()) if "diverging" in idata.sample_stats else -1
    return {"wall_s": wall, "min_ess": min_ess, "ess_per_s": min_ess / wall, "divergences": div}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--libs", default=",".join(LIBS))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--one", nargs=2, metavar=("LIB", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        report(one(*args.one, args.draws, args.tune, args.chains))
        return
    rows = run_all(MODULE, args)
    print_table(rows, args, "min bulk ESS over all free variables")


def run_all(module: str, args, timeout: float | None = None) -> list:
    """(model, library, result) for every model and library of `args`, each run in a fresh process."""
    rows = []
    for model in args.models.split(","):
        for lib in args.libs.split(","):
            res = run_in_fresh_process(module, ["--one", lib, model, "--draws", args.draws, "--tune", args.tune,
                                                "--chains", args.chains], timeout=timeout)
            rows.append((model, lib, res))
            print(f"{model} {lib}: {res}", file=sys.stderr, flush=True)
    return rows


def print_table(rows: list, args, ess_of: str) -> None:
    """The markdown table of `run_all`'s rows: wall time, minimum ESS, ESS/s and its ratio to the best peer."""
    print(f"\n{args.chains} chains x ({args.tune} tune + {args.draws} draws); wall time of the first pm.sample "
          f"(compilation included); {ess_of}\n")
    print("| model | library | wall s | min ESS | ESS/s | divergences | ESS/s vs PyMC's best |")
    print("|---|---|---|---|---|---|---|")
    for model in args.models.split(","):
        peers = [r.get("ess_per_s", 0) for mm, lib, r in rows if mm == model and lib != "jaxmc"]
        best = max(peers) if peers else 0
        for mm, lib, res in rows:
            if mm != model:
                continue
            if "error" in res:
                print(f"| {model} | {lib} | error: {res['error'].splitlines()[-1][:80]} | | | | |")
                continue
            ratio = f"{res['ess_per_s'] / best:.1f}x" if best else ""
            print(f"| {model} | {lib} | {res['wall_s']:.1f} | {res['min_ess']:.0f} | {res['ess_per_s']:.1f} | "
                  f"{res['divergences']} | {ratio} |")


if __name__ == "__main__":
    main()

"""Pathfinder: jaxmc's `fit_pathfinder` vs pymc-extras' `pmx.fit(method="pathfinder")` vs BlackJAX's
`blackjax.vi.pathfinder` on posteriordb posteriors, wall time (compilation included) and quality.

    python -m benchmarks.pathfinder [--repeats 1] [--seed 1]   # prints a markdown table

Each (library, posterior, repeat) runs in a fresh process that times a first call (compilation and the fit;
for BlackJAX model building too; ArviZ imported before, as importing pymc_extras does) and a second call with
another seed (compiled code reused where the library caches it). Settings
are pymc-extras' defaults for all (4 paths, 1000 draws per path, 1000 draws, L-BFGS maxiter 1000,
ftol 1e-5), except kidiq, whose correlation ridge needs ftol 1e-9 (with 1e-5 L-BFGS stops early in every
library). BlackJAX's pathfinder is single-path without importance resampling: one path from the support point,
1000 draws from its best approximation, on jaxmc's compiled log density.

Quality: over the posterior's reference parameters, the largest |mean - reference mean| / reference sd and
the range of sd / reference sd (the pack README's checks 4 and 3; an exact sampler gives about 0.05 and
0.93-1.07 with 1000 independent draws).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from benchmarks.harness import report, run_in_fresh_process

LIBS = ("jaxmc", "pymc_extras", "blackjax")
LABELS = {"jaxmc": "jaxmc `fit_pathfinder` (4 paths, PSIS)",
          "pymc_extras": "pymc-extras `fit(method='pathfinder')` (4 paths, PSIS)",
          "blackjax": "BlackJAX `vi.pathfinder` (1 path, no resampling)"}
POSTERIORS = {"earnings-logearn_interaction_z": {}, "sblrc-blr": {}, "kidiq-kidscore_momiq": {"ftol": 1e-9}}
MODULE = "benchmarks.pathfinder"


class _Posterior(dict):
    """{name: array (chain, draw, ...)} read like an xarray Dataset by the posteriordb checks."""

    def __getitem__(self, name):
        value = dict.__getitem__(self, name)
        return type("Var", (), {"values": value})()


def quality(posterior: str, values: dict) -> dict:
    from benchmarks.posteriordb.common import check_posterior

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checks = check_posterior(posterior, _Posterior(values), rhat_max=np.inf, ess_min=0)
    return {"max_dmean": max(abs(c.mean - c.ref_mean) / c.ref_sd for c in checks),
            "sd_ratio": (min(c.sd_ratio for c in checks), max(c.sd_ratio for c in checks))}


def run_jaxmc(posterior: str, seed: int, kwargs: dict):
    import jaxmc
    from benchmarks.posteriordb.common import load_data, model_module
    from jaxmc.variational.pathfinder import fit_pathfinder

    import arviz  # noqa: F401  (imported before timing, as importing pymc_extras does)

    model = model_module(posterior).build(jaxmc, load_data(posterior))
    out = []
    for s in (seed, seed + 1000):
        t0 = time.perf_counter()
        idata = fit_pathfinder(model=model, random_seed=s, progressbar=False, **kwargs)
        out.append((time.perf_counter() - t0, {k: np.asarray(v.values) for k, v in idata.posterior.items()}))
    return out


def run_pymc_extras(posterior: str, seed: int, kwargs: dict):
    import pymc
    import pymc_extras as pmx

    from benchmarks.posteriordb.common import load_data, model_module

    model = model_module(posterior).build(pymc, load_data(posterior))
    out = []
    for s in (seed, seed + 1000):
        t0 = time.perf_counter()
        idata = pmx.fit(method="pathfinder", model=model, random_seed=s, progressbar=False, display_summary=False,
                        **kwargs)
        out.append((time.perf_counter() - t0, {k: np.asarray(v.values) for k, v in idata.posterior.items()}))
    return out


def run_blackjax(posterior: str, seed: int, kwargs: dict):
    import jaxmc  # first: it sets XLA's flags before JAX starts

    import blackjax
    import jax
    from benchmarks.posteriordb.common import load_data, model_module
    from jaxmc.variational.pathfinder import default_maxcor

    t0 = time.perf_counter()
    model = model_module(posterior).build(jaxmc, load_data(posterior))
    cm, data = model.compiled(), model.data_values()
    x0 = cm.initial_flat()

    @jax.jit
    def fit(key, x0, data):
        k1, k2 = jax.random.split(key)
        state, _ = blackjax.vi.pathfinder.approximate(
            k1, lambda x: cm.logp(x, data), x0, num_samples=10, maxiter=1000, maxcor=default_maxcor(cm.size),
            maxls=1000, ftol=kwargs.get("ftol", 1e-5), gtol=1e-8)
        draws, _ = blackjax.vi.pathfinder.sample(k2, state, 1000)
        return jax.vmap(cm.expand, in_axes=(0, None))(draws, data)

    out = []
    for s in (seed, seed + 1000):
        values = jax.block_until_ready(fit(jax.random.key(s), x0, data))
        out.append((time.perf_counter() - t0, {k: np.asarray(v)[None] for k, v in values.items()}))
        t0 = time.perf_counter()
    return out


RUNNERS = {"jaxmc": run_jaxmc, "pymc_extras": run_pymc_extras, "blackjax": run_blackjax}


def one(lib: str, posterior: str, seed: int) -> dict:
    try:
        runs = RUNNERS[lib](posterior, seed, POSTERIORS[posterior])
    except ImportError as e:
        return {"error": f"not installed ({e.name})"}
    (first, values), (second, _) = runs
    return {"first_s": first, "second_s": second, **quality(posterior, values)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--one", nargs=3, metavar=("LIB", "POSTERIOR", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        lib, posterior, seed = args.one
        report(one(lib, posterior, int(seed)))
        return
    rows = []
    for posterior in POSTERIORS:
        for lib in LIBS:
            results = []
            for r in range(args.repeats):
                results.append(run_in_fresh_process(MODULE, ["--one", lib, posterior, args.seed + r]))
            rows.append((posterior, lib, results))
    print("| posterior | library | first call, s (compile incl.) | second call, s | max abs(d mean)/sd_ref "
          "| sd / sd_ref |")
    print("|---|---|---|---|---|---|")
    for posterior, lib, results in rows:
        ok = [r for r in results if "error" not in r]
        name = posterior.split("-")[0] + (" (ftol 1e-9)" if POSTERIORS[posterior] else "")
        if not ok:
            print(f"| {name} | {LABELS[lib]} | {results[0]['error']} | | | |")
            continue
        first = np.median([r["first_s"] for r in ok])
        second = np.median([r["second_s"] for r in ok])
        dmean = max(r["max_dmean"] for r in ok)
        lo, hi = min(r["sd_ratio"][0] for r in ok), max(r["sd_ratio"][1] for r in ok)
        print(f"| {name} | {LABELS[lib]} | {first:.1f} | {second:.2f} | {dmean:.3f} | {lo:.2f}-{hi:.2f} |")


if __name__ == "__main__":
    main()

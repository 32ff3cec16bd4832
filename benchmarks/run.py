"""Benchmark harness: jaxmc against PyMC, PyMC+nutpie and NumPyro; writes BENCHMARKS.md.

    python -m benchmarks.run                      # everything (about 20 min on 2 cores), -> BENCHMARKS.md
    python -m benchmarks.run --models flagship --peers jaxmc,nutpie --repeats 1 --sections main
    python -m benchmarks.run --from-raw RAW.json  # re-render the markdown from a saved run

Every (library, model, repeat) runs in a fresh subprocess (`python -m benchmarks.run worker SPEC`) that
times two sampling calls: the first includes compilation (jaxmc `pm.sample`; PyMC `pm.sample`, which
compiles the model each call; NumPyro `mcmc.run`, which jit-compiles), the second, with another seed in
the same process, is the post-compile time. It reports min bulk ESS over the free parameters (ArviZ),
gradient evaluations (leapfrog steps over warm-up and draws, all chains) per ESS and divergences.
Tables report medians over repeats.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from benchmarks import report
from benchmarks.harness import MARK, ROOT, cleanup_snapshot, log, machine_info, run_worker, snapshot
from benchmarks.models import FREE_VARS, MODELS
from benchmarks.report import (CHAIN_METHODS, IMPORT_LIBS, NUMPYRO_CHAIN_METHODS, PEERS, median, number,
                               render)

SECTIONS = ("imports", "main", "chain_methods", "adaptation", "predictive", "memory")


# ====================================================================== measurements (in the worker)
def _group(idata, name):
    try:
        return idata[name]
    except (KeyError, AttributeError):
        return getattr(idata, name, None)


def _ds(group):
    return group.to_dataset() if hasattr(group, "to_dataset") and not hasattr(group, "data_vars") else group


def min_bulk_ess(posterior: dict) -> float:
    """Min over all elements of all variables of ArviZ's bulk ESS; posterior: {name: (chain, draw, ...)}."""
    import arviz as az
    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = az.convert_to_dataset({k: np.asarray(v) for k, v in posterior.items()})
        ess = az.ess(ds, method="bulk")
    return float(min(np.nanmin(ess[v].values) for v in ess.data_vars))


def _idata_metrics(idata, model_name: str, step_field: str = "n_steps") -> dict:
    import numpy as np

    post = _ds(_group(idata, "posterior"))
    stats = _ds(_group(idata, "sample_stats"))
    warm = _group(idata, "warmup_sample_stats")
    steps = float(np.asarray(stats[step_field]).sum())
    warm_steps = float(np.asarray(_ds(warm)[step_field]).sum()) if warm is not None else float("nan")
    ess = min_bulk_ess({k: post[k].values for k in FREE_VARS[model_name]})
    return {"ess": ess, "grads": steps + warm_steps, "grads_draws": steps, "grads_warmup": warm_steps,
            "divergences": int(np.asarray(stats["diverging"]).sum()),
            "sampling_time_attr": float(post.attrs.get("sampling_time", float("nan")))}


def _cpu() -> float:
    """CPU seconds of this process (all threads) and of its reaped children (PyMC's chain processes)."""
    import resource

    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + c.ru_utime + c.ru_stime


def _import_arviz():
    """ArviZ is imported with the library, for every library: a user's script imports it anyway, and the first
    sampling call then measures sampling, not which library happens to import ArviZ at `import` time. (Not
    through jaxmc: importing jaxmc would change JAX's settings for the other libraries' workers.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz  # noqa: F401


def _worker_pymc_like(spec: dict) -> dict:
    """jaxmc, PyMC and PyMC+nutpie: the same model code and the same `pm.sample` call."""
    lib, name = spec["lib"], spec["model"]
    t = time.perf_counter()
    if lib == "jaxmc":
        import jaxmc as pm
    else:
        import pymc as pm
    from benchmarks.models import build_pymc

    _import_arviz()
    t_import = time.perf_counter() - t
    t = time.perf_counter()
    model = build_pymc(pm, name)
    t_build = time.perf_counter() - t
    kw = dict(draws=spec["draws"], tune=spec["tune"], chains=spec["chains"], progressbar=False,
              discard_tuned_samples=False)
    if lib == "jaxmc":
        kw["chain_method"] = spec.get("chain_method") or None
        if spec.get("adaptation"):
            kw["nuts"] = {"adaptation": spec["adaptation"]}
    elif lib == "pymc":
        kw["cores"] = 2
        kw["nuts_sampler"] = "pymc"  # PyMC 6 picks nutpie by default when it is installed
    elif lib == "nutpie":
        kw["nuts_sampler"] = "nutpie"
        if spec["peer"] == "nutpie-lowrank":
            kw["nuts_sampler_kwargs"] = {"low_rank_modified_mass_matrix": True}
    runs = []
    for i in range(2):
        with model, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, c = time.perf_counter(), _cpu()
            idata = pm.sample(random_seed=spec["seed"] + 1000 * i, **kw)
            elapsed, cpu = time.perf_counter() - t, _cpu() - c
        runs.append({"time": elapsed, "cpu": cpu, **_idata_metrics(idata, name)})
        if lib == "jaxmc":
            runs[-1]["chain_method"] = _ds(_group(idata, "posterior")).attrs.get("chain_method")
        del idata
    return {"t_import": t_import, "t_build": t_build, "runs": runs}


def _worker_numpyro(spec: dict) -> dict:
    import numpy as np

    chains = spec["chains"]
    method = spec.get("chain_method") or "parallel"
    t = time.perf_counter()
    import numpyro

    if method == "parallel":
        numpyro.set_host_device_count(chains)  # before JAX starts: one CPU "device" per chain
    numpyro.enable_x64()  # the same float64 arithmetic as jaxmc and PyMC
    import jax
    from numpyro.infer import MCMC, NUTS

    from benchmarks.models import numpyro_model

    _import_arviz()
    t_import = time.perf_counter() - t
    model, kwargs = numpyro_model(spec["model"])
    devices = jax.local_device_count()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mcmc = MCMC(NUTS(model), num_warmup=spec["tune"], num_samples=spec["draws"], num_chains=chains,
                    chain_method=method, progress_bar=False)
    runs = []
    for i in range(2):
        key = jax.random.PRNGKey(spec["seed"] + 1000 * i)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, c = time.perf_counter(), _cpu()
            mcmc.run(key, extra_fields=("num_steps", "diverging"), **kwargs)
            samples = jax.block_until_ready(mcmc.get_samples(group_by_chain=True))
            elapsed, cpu = time.perf_counter() - t, _cpu() - c
        extra = mcmc.get_extra_fields(group_by_chain=True)
        runs.append({"time": elapsed, "cpu": cpu, "ess": min_bulk_ess({k: samples[k] for k in FREE_VARS[spec["model"]]}),
                     "grads_draws": float(np.asarray(extra["num_steps"]).sum()),
                     "divergences": int(np.asarray(extra["diverging"]).sum()),
                     "sampling_time_attr": float("nan"), "chain_method": mcmc.chain_method})
    # `mcmc.run` does not return warm-up statistics: count warm-up steps with an untimed warm-up of the
    # same settings (another realization of the same adaptation; it is added to both runs' draw steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warm = MCMC(NUTS(model), num_warmup=spec["tune"], num_samples=spec["draws"], num_chains=chains,
                    chain_method=method, progress_bar=False)
        warm.warmup(jax.random.PRNGKey(spec["seed"] + 7), collect_warmup=True, extra_fields=("num_steps",),
                    **kwargs)
        warm_steps = float(np.asarray(warm.get_extra_fields()["num_steps"]).sum())
    for r in runs:
        r["grads_warmup"] = warm_steps
        r["grads"] = r["grads_draws"] + warm_steps
    return {"t_import": t_import, "t_build": 0.0, "runs": runs, "devices": devices}


def worker(spec: dict) -> dict:
    load0 = os.getloadavg()[0]
    if spec["lib"] == "numpyro":
        out = _worker_numpyro(spec)
    else:
        out = _worker_pymc_like(spec)
    out.update(spec=spec, load=[load0, os.getloadavg()[0]])
    return out


# ====================================================================== orchestration








def _brief(res: dict) -> str:
    if "error" in res:
        return "ERROR " + res["error"].strip().splitlines()[-1][:300] if res["error"].strip() else "ERROR"
    r1, r2 = res["runs"]
    return (f"total {r1['time']:.1f}s post {r2['time']:.1f}s ESS {r1['ess']:.0f}/{r2['ess']:.0f} "
            f"grads/ESS {r1['grads'] / r1['ess']:.1f} div {r1['divergences']}")


def run_specs(specs: list[dict], raw: dict, key: str, save) -> None:
    for spec in specs:
        log(f"{key}: {spec.get('peer', spec['lib'])} {spec['model']} {spec.get('chain_method') or ''} "
             f"{spec.get('adaptation') or ''} repeat {spec['repeat']}")
        res = run_worker(spec)
        res["load_before"] = os.getloadavg()
        raw.setdefault(key, []).append(res)
        log("   " + _brief(res))
        save()




# ====================================================================== summaries










# ====================================================================== import time


def run_imports(repeats: int = 5) -> dict:
    """Wall time of `python -c "import LIB"` in fresh processes, the libraries interleaved, after one
    untimed import of each (so that every timed one finds the files in the page cache)."""
    times: dict[str, list[float]] = {lib: [] for lib in IMPORT_LIBS}
    for i in range(repeats + 1):
        for lib in IMPORT_LIBS:
            t = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", f"import {lib}"], capture_output=True)
            if done.returncode == 0 and i > 0:
                times[lib].append(time.perf_counter() - t)
    log("imports: " + ", ".join(f"{lib} {number(median(v), 2)} s" for lib, v in times.items()))
    return times




# ====================================================================== two stacks side by side


# ====================================================================== markdown
























# ====================================================================== main
def build_specs(args) -> dict[str, list[dict]]:
    models = [m for m in args.models.split(",") if m]
    peers = [p for p in args.peers.split(",") if p]
    base = {"draws": args.draws, "tune": args.tune, "chains": args.chains}
    specs: dict[str, list[dict]] = {}
    sections = args.sections.split(",")
    if "main" in sections and "jaxmc-warm" in peers:
        specs["prime"] = []  # placeholder: keeps "prime" ahead of "main"
    if "main" in sections:
        specs["main"] = [
            {**base, "peer": p, "lib": p.split("-")[0], "model": m, "seed": 100 * r + 1, "repeat": r,
             "chain_method": args.numpyro_chain_method if p == "numpyro" else None,
             **({"xla_cache_dir": args.warm_cache} if p == "jaxmc-warm" else {})}
            for r in range(args.repeats) for m in models for p in peers]
        if "jaxmc-warm" in peers:  # fill the warm cache: the same run once per model, untimed
            specs["prime"] = [{**base, "peer": "prime", "lib": "jaxmc", "model": m, "seed": 99, "repeat": 0,
                               "xla_cache_dir": args.warm_cache} for m in models]
    if "chain_methods" in sections:
        specs["chain_methods"] = [
            {**base, "peer": lib, "lib": lib, "model": m, "seed": 100 * r + 2, "repeat": r, "chain_method": c}
            for r in range(args.chain_method_repeats) for m in models
            for lib, methods in (("jaxmc", CHAIN_METHODS), ("numpyro", NUMPYRO_CHAIN_METHODS))
            if lib == "jaxmc" or args.numpyro_chain_methods
            for c in methods]
    if "adaptation" in sections:
        specs["adaptation"] = [
            {**base, "peer": "jaxmc", "lib": "jaxmc", "model": "flagship", "seed": 100 * r + 3, "repeat": r,
             "adaptation": a}
            for r in range(args.adaptation_repeats) for a in ("stan",)]
    return specs


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--peers", default=",".join(PEERS))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated subset of {SECTIONS}")
    p.add_argument("--chain-method-repeats", type=int, default=1)
    p.add_argument("--numpyro-chain-methods", action=argparse.BooleanOptionalAction, default=False,
                   help="also time NumPyro's three chain methods in the chain_methods section (+10 min)")
    p.add_argument("--numpyro-chain-method", default="parallel", choices=NUMPYRO_CHAIN_METHODS,
                   help="NumPyro's chain method in the main comparison")
    p.add_argument("--adaptation-repeats", type=int, default=1)
    p.add_argument("--predictive-repeats", type=int, default=3)
    p.add_argument("--predictive-libs", default="jaxmc,pymc,numpyro",
                   help="libraries for the predictive section (jaxmc,pymc,numpyro,numpyro_parallel)")
    p.add_argument("--memory-peers", default="jaxmc,pymc,numpyro",
                   help="libraries for the memory section (jaxmc,pymc,numpyro)")
    p.add_argument("--warm-cache", default=None,
                   help="jaxmc compilation-cache folder for the jaxmc-warm peer (default: a new temporary one)")
    p.add_argument("--snapshot", action=argparse.BooleanOptionalAction, default=True,
                   help="measure a snapshot of the committed jaxmc (git archive HEAD), not the working tree")
    p.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    p.add_argument("--raw", default=None, help="JSON file for the raw results (default: a new file in the "
                                              "temporary directory); an existing file is extended")
    p.add_argument("--from-raw", default=None, help="only re-render --out from this raw JSON file")
    p.add_argument("--beside", default=None, help="raw JSON file of a run on another Python stack, shown "
                                                 "side by side with this one")
    return p.parse_args(argv)


def _beside(args):
    if not args.beside:
        return None
    other = json.loads(Path(args.beside).read_text())
    other["raw_path"] = args.beside
    return other


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "worker":
        res = worker(json.loads(argv[1]))
        print(MARK + json.dumps(res), flush=True)
        return
    args = parse_args(argv)
    report.DEFAULT_OPTIONS.update(vars(parse_args([])))
    if args.from_raw:
        raw = json.loads(Path(args.from_raw).read_text())
        raw["raw_path"] = args.from_raw  # where the numbers are now
        Path(args.out).write_text(render(raw, _beside(args)))
        print(f"wrote {args.out}")
        return
    raw_path = Path(args.raw) if args.raw else Path(tempfile.gettempdir()) / \
        f"jaxmc-benchmarks-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    raw = json.loads(raw_path.read_text()) if raw_path.exists() else {}
    if "machine" in raw:  # extending an earlier run: keep where its other sections came from
        earlier = {k: raw.get(k) for k in ("machine", "source", "args", "total_minutes")}
        earlier["sections"] = [k for k in SECTIONS if raw.get(k)]
        raw.setdefault("earlier_runs", []).append(earlier)
    raw["machine"] = machine_info()
    raw["source"] = snapshot(args.snapshot)
    own_cache = args.warm_cache is None
    if own_cache:
        args.warm_cache = tempfile.mkdtemp(prefix="jaxmc-bench-xla-warm-")
    raw["args"] = vars(args)
    raw["raw_path"] = str(raw_path)

    beside = _beside(args)

    def save():
        raw_path.write_text(json.dumps(raw, indent=1))
        Path(args.out).write_text(render(raw, beside))

    t0 = time.perf_counter()
    log(f"raw results -> {raw_path}; report -> {args.out}")
    if "imports" in args.sections.split(","):
        raw["imports"] = run_imports()
        save()
    for key, specs in build_specs(args).items():
        raw[key] = []
        run_specs(specs, raw, key, save)
    sections = args.sections.split(",")
    if "predictive" in sections:
        from benchmarks import predictive

        raw["predictive"] = []
        predictive.run_all(raw["predictive"], repeats=args.predictive_repeats,
                           libs=args.predictive_libs.split(","), log=log, save=save)
    if "memory" in sections:
        from benchmarks import memory

        raw["memory"] = []
        memory.run_all(raw["memory"], peers=args.memory_peers.split(","), log=log, save=save)
    raw["total_minutes"] = (time.perf_counter() - t0) / 60
    raw["total_cpu_minutes"] = sum(r.get("process_cpu", 0.0) for v in raw.values() if isinstance(v, list)
                                   for r in v if isinstance(r, dict)) / 60
    save()
    if own_cache:
        import shutil

        shutil.rmtree(args.warm_cache, ignore_errors=True)
    cleanup_snapshot()
    log(f"done in {raw['total_minutes']:.1f} min: {args.out}")


if __name__ == "__main__":
    main()

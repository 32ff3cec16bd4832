"""Where the first `pm.sample` call's time goes, cold (a fresh process, an empty jaxmc disk cache): import,
model building, tracing, lowering and XLA compilation of the sampler's programs, sampling, conversion to
ArviZ data and the convergence checks; with the peers' first calls (nutpie, NumPyro) in the same run.

    python -m benchmarks.first_call [--models radon,flagship] [--peers nutpie,numpyro] [--repeats 1]
                                    [--jaxmc-trees before=/path/a,after=/path/b]

Each jaxmc row is one fresh process; trace / lower / compile are the sums of JAX's own event durations
(`jax.monitoring`) for the sampler's init and chunk programs ("sampler") and for all other jitted functions
("other jit"); they overlap each other (compiled concurrently, in the background), so "programs ready" is
the wall time until both sampler programs are compiled. "rest" is the call's time not in the columns
before it; "CPU" is the process's CPU seconds in the call (all threads), steadier than wall time on a
loaded machine. `--jaxmc-trees` times other copies of the jaxmc package (folders holding `jaxmc/`) side by
side, e.g. before and after a change. Peers: `benchmarks.run`'s workers (their first call, compilation
included).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import defaultdict

MARK = "@@FIRST@@"
SAMPLER_PROGRAMS = ("init_one", "chunk_one")
EVENTS = {"/jax/core/compile/jaxpr_trace_duration": "trace",
          "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
          "/jax/core/compile/backend_compile_duration": "compile"}


def worker(model_name: str, draws: int, tune: int, chains: int, seed: int) -> dict:
    t0 = time.perf_counter()
    import jaxmc as pm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz  # noqa: F401  (a user's script imports it anyway; as benchmarks.run does)
    t_import = time.perf_counter() - t0
    import jax

    from benchmarks.models import FREE_VARS, build_pymc
    from benchmarks.run import min_bulk_ess
    from jaxmc import convert
    from jaxmc.sampling import api, driver

    events: dict = defaultdict(float)

    def listen(event, duration, **kw):
        if event in EVENTS:
            name = str(kw.get("fun_name", ""))
            events[(EVENTS[event], "sampler" if any(p in name for p in SAMPLER_PROGRAMS) else "other")] += duration

    jax.monitoring.register_event_duration_secs_listener(listen)
    walls: dict = defaultdict(float)

    def timed(owner, attr, label):
        original = getattr(owner, attr)

        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                walls[label] += time.perf_counter() - t

        setattr(owner, attr, wrapper)

    timed(driver, "executables", "programs ready")
    timed(driver, "_run", "sample")
    timed(convert, "to_inference_data", "convert")
    timed(api, "warn_convergence", "diagnostics")

    t0 = time.perf_counter()
    model = build_pymc(pm, model_name)
    t_build = time.perf_counter() - t0
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0, c0 = time.perf_counter(), time.process_time()
        idata = pm.sample(draws=draws, tune=tune, chains=chains, random_seed=seed, progressbar=False)
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
    post = idata.posterior
    ess = min_bulk_ess({k: post[k].values for k in FREE_VARS[model_name]})
    phases = {f"{kind} {what}": v for (kind, what), v in events.items()}
    return {"python": sys.version.split()[0], "jax": jax.__version__, "jaxmc": os.path.dirname(pm.__file__),
            "import": t_import, "build": t_build,
            "first call": total, "CPU": cpu, "ess": ess, **phases, **walls}


def run_jaxmc(model: str, args, tree: str | None = None) -> dict:
    """One cold worker process: an empty jaxmc disk cache of its own; `tree`: a folder holding the jaxmc
    package to time instead of the installed one."""
    with tempfile.TemporaryDirectory(prefix="jaxmc-first-call-") as cache:
        env = dict(os.environ, JAXMC_COMPILATION_CACHE=cache, PYTHONWARNINGS="ignore")
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [tree, root, env.get("PYTHONPATH")]))
        env.pop("XLA_FLAGS", None)
        cmd = [sys.executable, "-m", "benchmarks.first_call", "worker", model, str(args.draws), str(args.tune),
               str(args.chains), str(args.seed)]
        t = time.perf_counter()
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tempfile.gettempdir() if tree else root)
        wall = time.perf_counter() - t
    for line in reversed(out.stdout.splitlines()):
        if line.startswith(MARK):
            res = json.loads(line[len(MARK):])
            res["process"] = wall
            return res
    return {"error": (out.stderr or out.stdout)[-2000:]}


def run_peer(peer: str, model: str, args) -> dict:
    from benchmarks.harness import run_worker

    spec = {"lib": peer, "peer": peer, "model": model, "draws": args.draws, "tune": args.tune,
            "chains": args.chains, "seed": args.seed, "repeat": 0}
    res = run_worker(spec)
    if "error" in res:
        return {"error": res["error"][-300:]}
    first = res["runs"][0]
    return {"import": res.get("t_import", float("nan")), "first call": first["time"], "ess": first["ess"]}


COLUMNS = ("import", "build", "trace sampler", "lower sampler", "compile sampler", "programs ready",
           "trace other", "lower other", "compile other", "sample", "convert", "diagnostics")


def median_of(runs: list[dict], key: str) -> float:
    values = [r[key] for r in runs if key in r]
    return statistics.median(values) if values else 0.0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "worker":
        res = worker(argv[1], *map(int, argv[2:6]))
        print(MARK + json.dumps(res), flush=True)
        return
    p = argparse.ArgumentParser(prog="python -m benchmarks.first_call", description=__doc__.splitlines()[0])
    p.add_argument("--models", default="radon,flagship")
    p.add_argument("--peers", default="nutpie,numpyro", help="comma-separated; '' for none")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jaxmc-trees", default="", help="label=folder,... : copies of jaxmc to time side by side")
    args = p.parse_args(argv)
    trees = [tuple(t.split("=", 1)) for t in args.jaxmc_trees.split(",") if t] or [("jaxmc", None)]
    load = os.getloadavg()
    rows, peers = [], []
    for model in args.models.split(","):
        runs = {label: [] for label, _ in trees}
        for _ in range(args.repeats):  # the trees interleaved: the machine's load hits them alike
            for label, tree in trees:
                runs[label].append(run_jaxmc(model, args, tree))
        for label, res in runs.items():
            errors = [r["error"] for r in res if "error" in r]
            if errors:
                print(f"{label} {model}: {errors[0]}", file=sys.stderr)
            if len(errors) < len(res):
                rows.append((f"{model} ({label})" if len(trees) > 1 else model, [r for r in res if "error" not in r]))
        for peer in filter(None, args.peers.split(",")):
            res = [run_peer(peer, model, args) for _ in range(args.repeats)]
            ok = [r for r in res if "error" not in r]
            if len(ok) < len(res):
                print(f"{peer} {model}: {[r['error'] for r in res if 'error' in r][0]}", file=sys.stderr)
            if ok:
                peers.append((model, peer, ok))
    py = rows[0][1][0]["python"] if rows else sys.version.split()[0]
    print(f"\nFirst pm.sample call, cold (fresh process, empty jaxmc disk cache), {args.chains} chains x "
          f"{args.tune} + {args.draws}; python {py}; seconds (median of {args.repeats}); load average "
          f"{load[0]:.2f} before, {os.getloadavg()[0]:.2f} after\n")
    print("| model | " + " | ".join(COLUMNS) + " | rest | first call | CPU | ESS/s (first call) |")
    print("|---|" + "---:|" * (len(COLUMNS) + 4))
    for model, runs in rows:
        vals = [median_of(runs, c) for c in COLUMNS]
        total = median_of(runs, "first call")
        rest = total - sum(median_of(runs, c) for c in ("programs ready", "sample", "convert", "diagnostics"))
        ess = median_of(runs, "ess")
        print(f"| {model} | " + " | ".join(f"{v:.2f}" for v in vals) + f" | {rest:.2f} | {total:.2f} | "
              f"{median_of(runs, 'CPU'):.2f} | {ess / total:,.0f} |")
    if peers:
        print("\n| model | peer | import | first call (compile included) | ESS/s (first call) |")
        print("|---|---|---:|---:|---:|")
        for model, peer, res in peers:
            total = median_of(res, "first call")
            print(f"| {model} | {peer} | {median_of(res, 'import'):.2f} | {total:.2f} | "
                  f"{median_of(res, 'ess') / total:,.0f} |")


if __name__ == "__main__":
    main()

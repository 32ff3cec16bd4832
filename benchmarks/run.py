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
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from benchmarks.models import FREE_VARS, MODELS

ROOT = Path(__file__).resolve().parent.parent
PEERS = ("jaxmc", "jaxmc-warm", "pymc", "nutpie", "numpyro")
SECTIONS = ("imports", "main", "chain_methods", "adaptation", "predictive", "memory")
CHAIN_METHODS = ("vectorized", "parallel", "sequential")
NUMPYRO_CHAIN_METHODS = ("parallel", "vectorized", "sequential")
MARK = "@@RESULT@@ "
LABELS = {"jaxmc": "jaxmc (cold: empty compilation cache)",
          "jaxmc-warm": "jaxmc (warm on-disk compilation cache)", "pymc": "PyMC (its own NUTS, cores=2)", "nutpie": "PyMC + nutpie (numba)",
          "numpyro": "NumPyro NUTS"}


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


def _worker_pymc_like(spec: dict) -> dict:
    """jaxmc, PyMC and PyMC+nutpie: the same model code and the same `pm.sample` call."""
    lib, name = spec["lib"], spec["model"]
    t = time.perf_counter()
    if lib == "jaxmc":
        import jaxmc as pm
    else:
        import pymc as pm
    from benchmarks.models import build_pymc

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
    # ArviZ first: the flagship data come from jaxmc.datasets, and `import jaxmc` starts a thread importing
    # ArviZ, which can deadlock with imports on the main thread (see the report); with ArviZ loaded it
    # has nothing to do
    import arviz  # noqa: F401
    import numpyro

    if method == "parallel":
        numpyro.set_host_device_count(chains)  # before JAX starts: one CPU "device" per chain
    numpyro.enable_x64()  # the same float64 arithmetic as jaxmc and PyMC
    import jax
    from numpyro.infer import MCMC, NUTS

    from benchmarks.models import numpyro_model

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
def snapshot(enabled: bool = True) -> dict:
    """Workers import jaxmc from a snapshot of the committed tree (`git archive HEAD jaxmc`) plus these
    benchmark files, so that edits made to the working tree while a long run goes on do not change the code
    being measured. Sets JAXMC_BENCH_WORKDIR (the workers' directory); returns what was measured."""
    import shutil

    def git(*a):
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    info = {"commit": git("rev-parse", "--short", "HEAD"),
            "uncommitted_jaxmc": [ln.split(maxsplit=1)[-1] for ln in git("status", "--porcelain", "jaxmc").splitlines()]}
    if not enabled:
        os.environ["JAXMC_BENCH_WORKDIR"] = str(ROOT)
        info["source"] = f"working tree {ROOT} (no snapshot)"
        return info
    dest = Path(tempfile.mkdtemp(prefix="jaxmc-bench-src-"))
    archive = subprocess.run(["git", "archive", "HEAD", "jaxmc"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    (dest / "benchmarks").mkdir()
    for f in ("__init__.py", "models.py", "run.py", "predictive.py", "memory.py"):
        shutil.copy(Path(__file__).resolve().parent / f, dest / "benchmarks" / f)
    os.environ["JAXMC_BENCH_WORKDIR"] = str(dest)
    info["source"] = f"snapshot of commit {info['commit']} in {dest}"
    return info


def cleanup_snapshot():
    """Remove the snapshot that snapshot() made, if any."""
    import shutil

    work = os.environ.get("JAXMC_BENCH_WORKDIR")
    if work and Path(work).name.startswith("jaxmc-bench-src-"):
        shutil.rmtree(work, ignore_errors=True)
        os.environ.pop("JAXMC_BENCH_WORKDIR")


def run_worker(spec: dict, timeout: float = 600.0, module: str = "benchmarks.run") -> dict:
    """Run one spec in a fresh Python process; returns its result dict (or {"error": ...}).

    jaxmc keeps compiled programs on disk (JAXMC_COMPILATION_CACHE): each worker gets a new, empty cache
    folder ("cold": compilation really happens) unless the spec names one in `xla_cache_dir` ("warm").
    """
    import resource
    import shutil

    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)  # NumPyro's set_host_device_count must not leak between workers
    env.setdefault("PYTHONWARNINGS", "ignore")
    cold = None if spec.get("xla_cache_dir") else tempfile.mkdtemp(prefix="jaxmc-bench-xla-cold-")
    env["JAXMC_COMPILATION_CACHE"] = spec.get("xla_cache_dir") or cold
    cmd = [sys.executable, "-m", module, "worker", json.dumps(spec)]
    t = time.perf_counter()
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        proc = subprocess.run(cmd, cwd=os.environ.get("JAXMC_BENCH_WORKDIR", str(ROOT)), env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"spec": spec, "error": f"timed out after {timeout:.0f} s"}
    finally:
        if cold:
            shutil.rmtree(cold, ignore_errors=True)
    wall = time.perf_counter() - t
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            res = json.loads(line[len(MARK):])
            res["process_wall"] = wall
            res["process_cpu"] = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
            return res
    return {"spec": spec, "error": f"exit {proc.returncode}: {proc.stderr[-3000:]}"}


def _log(msg: str):
    print(f"[{datetime.datetime.now():%H:%M:%S} load {os.getloadavg()[0]:.1f}] {msg}", file=sys.stderr,
          flush=True)


def _brief(res: dict) -> str:
    if "error" in res:
        return "ERROR " + res["error"].strip().splitlines()[-1][:300] if res["error"].strip() else "ERROR"
    r1, r2 = res["runs"]
    return (f"total {r1['time']:.1f}s post {r2['time']:.1f}s ESS {r1['ess']:.0f}/{r2['ess']:.0f} "
            f"grads/ESS {r1['grads'] / r1['ess']:.1f} div {r1['divergences']}")


def run_specs(specs: list[dict], raw: dict, key: str, save) -> None:
    for spec in specs:
        _log(f"{key}: {spec.get('peer', spec['lib'])} {spec['model']} {spec.get('chain_method') or ''} "
             f"{spec.get('adaptation') or ''} repeat {spec['repeat']}")
        res = run_worker(spec)
        res["load_before"] = os.getloadavg()
        raw.setdefault(key, []).append(res)
        _log("   " + _brief(res))
        save()


def machine_info() -> dict:
    import importlib.metadata as md

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    versions = {}
    for pkg in ("jaxmc", "jax", "jaxlib", "numpy", "pymc", "pytensor", "nutpie", "numba", "numpyro", "arviz"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "not installed"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = "?"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "platform": platform.platform(),
            "python": platform.python_version(), "versions": versions, "commit": commit,
            "date": datetime.datetime.now().isoformat(timespec="seconds")}


# ====================================================================== summaries
def _median(xs):
    xs = [x for x in xs if x == x]  # drop NaN
    return statistics.median(xs) if xs else float("nan")


def summarize(results: list[dict]) -> dict:
    """Medians over repeats of one (library, model, settings) group."""
    ok = [r for r in results if "error" not in r]
    if not ok:
        return {"n": 0, "errors": [r.get("error", "") for r in results]}
    r1 = [r["runs"][0] for r in ok]
    r2 = [r["runs"][1] for r in ok]
    return {
        "n": len(ok), "errors": [r["error"] for r in results if "error" in r],
        "total_s": _median([r["time"] for r in r1]),
        "post_s": _median([r["time"] for r in r2]),
        "cpu_total_s": _median([r.get("cpu", float("nan")) for r in r1]),
        "cpu_post_s": _median([r.get("cpu", float("nan")) for r in r2]),
        "import_s": _median([r.get("t_import", float("nan")) for r in ok]),
        "sampling_only_s": _median([r["sampling_time_attr"] for r in r2]),
        "ess": _median([r["ess"] for r in r1 + r2]),
        "ess_s_total": _median([r["ess"] / r["time"] for r in r1]),
        "ess_s_post": _median([r["ess"] / r["time"] for r in r2]),
        "ess_s_sampling_only": _median([r["ess"] / r["sampling_time_attr"] for r in r2]),
        "grads_per_ess": _median([r["grads"] / r["ess"] for r in r1 + r2]),
        "grads_per_ess_draws": _median([r["grads_draws"] / r["ess"] for r in r1 + r2]),
        "divergences": _median([r["divergences"] for r in r1 + r2]),
        "chain_method": r1[0].get("chain_method"),
        "load": _median([x for r in ok for x in r.get("load", [])]),
    }


def _group_by(results, keys):
    groups: dict = {}
    for r in results:
        sp = r["spec"]
        groups.setdefault(tuple(sp.get(k, sp.get("lib")) if k == "peer" else sp.get(k) for k in keys),
                          []).append(r)
    return groups


def _last_line(text: str) -> str:
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else "?")[:150].replace("|", "/")


def _f(x, nd=1):
    if x is None or x != x:
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{nd}f}"


# ====================================================================== import time
IMPORT_LIBS = ("jaxmc", "pymc")


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
    _log("imports: " + ", ".join(f"{lib} {_f(_median(v), 2)} s" for lib, v in times.items()))
    return times


def _render_imports(raw: dict) -> list[str]:
    imp = raw.get("imports")
    if not imp:
        return []
    return ["## Import time", "",
            "`python -c \"import LIB\"` in a fresh process, wall time, median of "
            f"{max(len(v) for v in imp.values())} (after one untimed import of each):", "",
            "| library | median s | min s | max s |", "|---|---:|---:|---:|"] + [
        f"| {lib} | {_f(_median(v), 2)} | {_f(min(v), 2)} | {_f(max(v), 2)} |" for lib, v in imp.items() if v
    ] + [""]


# ====================================================================== two stacks side by side
def _render_beside(raw: dict, other: dict) -> list[str]:
    """Key numbers of this run and of another (the other Python stack), model by model."""
    def label(r):
        m = r.get("machine", {})
        v = m.get("versions", {})
        return f"Python {m.get('python')}, jax {v.get('jax')}, ArviZ {v.get('arviz')}, PyMC {v.get('pymc')}"

    runs = [raw, other]
    sums = [{k: summarize(v) for k, v in _group_by(r.get("main", []), ("model", "peer")).items()} for r in runs]
    out = ["## The two stacks side by side", "",
           f"A: {label(raw)} (this report's full tables below). B: {label(other)} "
           f"(run {other.get('machine', {}).get('date')}, raw results `{other.get('raw_path')}`, full tables in "
           "the section after this report's). Same machine, same settings; ESS/s are medians over fresh "
           "processes.", "",
           "| model | library | ESS/s total A / B | ESS/s post-compile A / B | sampling only ESS/s A / B | "
           "total s A / B |", "|---|---|---:|---:|---:|---:|"]
    for mm in MODELS:
        for p in PEERS:
            a, b = (s.get((mm, p)) for s in sums)
            if not a or not b or not a["n"] or not b["n"]:
                continue
            out.append(f"| {mm} | {LABELS[p]} | {_f(a['ess_s_total'])} / {_f(b['ess_s_total'])} | "
                       f"{_f(a['ess_s_post'])} / {_f(b['ess_s_post'])} | {_f(a['ess_s_sampling_only'])} / "
                       f"{_f(b['ess_s_sampling_only'])} | {_f(a['total_s'])} / {_f(b['total_s'])} |")
    imps = [r.get("imports") or {} for r in runs]
    if all(imps):
        out += ["", "Import time (median of 5 fresh processes), A / B: " + "; ".join(
            f"{lib} {_f(_median(imps[0].get(lib, [])), 2)} / {_f(_median(imps[1].get(lib, [])), 2)} s"
            for lib in IMPORT_LIBS) + "."]
    return out + [""]


# ====================================================================== markdown
def render(raw: dict, beside: dict | None = None) -> str:
    m = raw.get("machine", {})
    args = raw.get("args", {})
    loads = [x for key in ("main", "chain_methods", "adaptation", "predictive", "memory")
             for r in raw.get(key, []) for x in (r.get("load") or [])]
    out = ["# Benchmarks", ""]
    out += [
        "Produced by `python -m benchmarks.run` (see `benchmarks/README.md`); the raw per-run numbers of this "
        "report are in the JSON file named at the end.", "",
        "## Machine", "",
        f"- CPU: {m.get('cpu')}, {m.get('cores')} cores visible to the process, {m.get('memory_gib')} GiB RAM; "
        f"{m.get('platform')}; Python {m.get('python')}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items()),
        f"- jaxmc measured: {raw.get('source', {}).get('source', 'commit ' + str(m.get('commit')))}"
        + (f" (uncommitted changes to {', '.join(raw['source']['uncommitted_jaxmc'])} excluded)"
           if raw.get("source", {}).get("uncommitted_jaxmc") and raw["source"].get("source", "").startswith("snapshot")
           else ""),
        f"- Run started {m.get('date')}"
        + (f", took {raw['total_minutes']:.0f} min" if raw.get("total_minutes") else "")
        + (f"; the workers used {raw['total_cpu_minutes']:.0f} CPU-minutes" if raw.get("total_cpu_minutes")
           else "") + f"; settings: draws={args.get('draws')}, "
        f"tune={args.get('tune')}, chains={args.get('chains')}, repeats={args.get('repeats')} (fresh process "
        "each), medians reported",
        f"- Command: `python -m benchmarks.run{_options(args)}`",
    ]
    redone = set(args.get("sections", "").split(",")) if args else set()
    for e in reversed(raw.get("earlier_runs", [])):
        kept = [k for k in e.get("sections", []) if k not in redone]
        if kept:
            out.append(f"- Sections {', '.join(kept)}: from an earlier run into the same raw file, "
                       f"{e.get('source', {}).get('source', '?')}, started {e.get('machine', {}).get('date')}, "
                       f"command `python -m benchmarks.run{_options(e.get('args') or {})}`")
            redone |= set(kept)
    if loads:
        out.append(f"- **Load average (1 min) during the run: min {min(loads):.1f}, median "
                   f"{statistics.median(loads):.1f}, max {max(loads):.1f}** on {m.get('cores')} cores. "
                   + ("The machine was shared with other jobs while this ran, so the timings are noisy "
                      "(everything ran slower than on an idle machine, by an amount that varied from run to "
                      "run); these numbers will be re-measured on a quiet machine."
                      if statistics.median(loads) > 1.25 * (m.get("cores") or 1) else
                      "No other jobs ran: the load is the benchmark's own worker (jaxmc and the peers keep up "
                      "to 2 threads busy)."))
    out.append("")
    if beside:
        out += _render_beside(raw, beside)
    out += _render_imports(raw)
    out += _render_main(raw)
    out += _render_chain_methods(raw)
    out += _render_adaptation(raw)
    out += _render_predictive(raw)
    out += _render_memory(raw)
    out += _render_posteriordb()
    if raw.get("raw_path"):
        out += ["", f"Raw results: `{raw['raw_path']}`."]
    if beside:
        other = re.sub(r"^(#+) ", r"#\1 ", render(beside).split("\n", 1)[1], flags=re.M)  # one level down
        out += ["", f"## The other stack: Python {beside.get('machine', {}).get('python')}", other]
    return "\n".join(out) + "\n"


COLS = ("| library | total s | post-compile s | CPU s total / post | min bulk ESS | ESS/s total | "
        "ESS/s post-compile | grads/ESS | divergences |")
ALIGN = "|---|---:|---:|---:|---:|---:|---:|---:|---:|"


def _row(label, s):
    if s["n"] == 0:
        return f"| {label} | failed: {_last_line((s['errors'] or ['?'])[0])} ||||||||"
    return (f"| {label} | {_f(s['total_s'])} | {_f(s['post_s'])} | {_f(s['cpu_total_s'])} / "
            f"{_f(s['cpu_post_s'])} | {_f(s['ess'], 0)} | {_f(s['ess_s_total'])} | "
            f"{_f(s['ess_s_post'])} | {_f(s['grads_per_ess'])} | {_f(s['divergences'], 0)} |")


def _options(args: dict) -> str:
    """The command-line options of a run that differ from the defaults (paths left out)."""
    if not args:
        return ""
    defaults = vars(parse_args([]))
    out = []
    for k, v in args.items():
        if k in ("out", "raw", "from_raw", "warm_cache") or k not in defaults or defaults[k] == v:
            continue
        flag = "--" + k.replace("_", "-")
        out.append(flag if v is True else f"--no-{k.replace('_', '-')}" if v is False else f"{flag} {v}")
    return "".join(" " + o for o in out)


def _render_main(raw: dict) -> list[str]:
    res = raw.get("main")
    if not res:
        return []
    groups = _group_by(res, ("model", "peer"))
    models = [mm for mm in MODELS if any(k[0] == mm for k in groups)]
    peers = [p for p in PEERS if any(k[1] == p for k in groups)]
    np_method = next((r["runs"][0].get("chain_method") for r in res
                      if r["spec"]["lib"] == "numpyro" and "error" not in r), None)
    out = ["## Sampling: jaxmc and its peers", "",
           "Each row: medians over repeats, each repeat a fresh process. *total* is the wall time of the "
           "first sampling call, compilation included (jaxmc `pm.sample`; PyMC `pm.sample`, which compiles "
           "the model on every call; NumPyro `mcmc.run`, which jit-compiles); *post-compile* is a second, "
           "identical call with another seed in the same process. ESS is ArviZ's bulk ESS, the minimum over "
           "all free parameters. grads/ESS: leapfrog steps (gradient evaluations) over warm-up and draws, all "
           "chains, per min ESS. Divergences: after warm-up, summed over chains.", "",
           f"Peers: PyMC's own NUTS (`nuts_sampler=\"pymc\"`, which PyMC 5 uses by default and PyMC 6 when "
           f"nutpie is not installed) with `cores=2`; PyMC with `nuts_sampler=\"nutpie\"` (numba "
           f"backend; both of its calls include nutpie's compilation, which `pm.sample` redoes on every "
           f"call: the *sampling only* column below gives the time nutpie reports for sampling alone); "
           f"NumPyro NUTS with `num_chains={raw.get('args', {}).get('chains')}`, "
           f"`chain_method=\"{np_method}\"`"
           + (" (`numpyro.set_host_device_count(chains)`: one XLA CPU device per chain)"
              if np_method == "parallel" else "")
           + ", float64 (`numpyro.enable_x64()`), the same as jaxmc and PyMC. NumPyro's warm-up steps are "
           "counted in a separate untimed `mcmc.warmup(collect_warmup=True)` call, since `mcmc.run` "
           "returns statistics of the draws only.", ""]
    summaries = {k: summarize(v) for k, v in groups.items()}
    for mm in models:
        out += [f"### {mm}", "", COLS, ALIGN]
        for p in peers:
            if (mm, p) in summaries:
                out.append(_row(LABELS[p], summaries[(mm, p)]))
        extra = [(p, summaries[(mm, p)]) for p in ("jaxmc", "pymc", "nutpie") if (mm, p) in summaries
                 and summaries[(mm, p)]["n"]]
        if extra:
            out += ["", "Sampling only (the `sampling_time` attribute of the posterior, second call: the "
                    "sampling loop without compilation, conversion to ArviZ and convergence checks): " + "; ".join(
                f"{LABELS[p]} {_f(s['sampling_only_s'])} s, {_f(s['ess_s_sampling_only'])} ESS/s"
                for p, s in extra) + "."]
        imp = [(p, summaries[(mm, p)]) for p in peers if (mm, p) in summaries and summaries[(mm, p)]["n"]]
        out += ["", "Import time, not included above (modules a library imports lazily inside its first "
                "sampling call, e.g. ArviZ, count in *total*): " + "; ".join(
                    f"{p} {_f(s['import_s'])} s" for p, s in imp) + "."]
        out.append("")
    # ratios
    mine = [p for p in ("jaxmc", "jaxmc-warm") if p in peers]
    others = [p for p in peers if not p.startswith("jaxmc")]
    if mine and others:
        out += ["### jaxmc's ESS/s divided by each peer's", "",
                "| model | jaxmc | " + " | ".join(f"vs {LABELS[p]}: total / post-compile" for p in others) + " |",
                "|---|---|" + "---:|" * len(others)]
        for mm in models:
            for jp in mine:
                j = summaries.get((mm, jp))
                cells = []
                for p in others:
                    s = summaries.get((mm, p))
                    if not j or not s or not j["n"] or not s["n"]:
                        cells.append("–")
                    else:
                        cells.append(f"{_f(j['ess_s_total'] / s['ess_s_total'], 2)} / "
                                     f"{_f(j['ess_s_post'] / s['ess_s_post'], 2)}")
                out.append(f"| {mm} | {'cold' if jp == 'jaxmc' else 'warm cache'} | " + " | ".join(cells) + " |")
        out.append("")
        out += _targets(summaries, models, mine, others)
    return out


def _targets(summaries, models, mine, others) -> list[str]:
    out = ["### Targets", "",
           "Target 1: *ESS per second of total wall time at least the best peer's on all three models*. "
           "Target 2: *post-compile ESS per second at least nutpie's* (on all three models). Target 1 is "
           "judged for jaxmc compiling from scratch (cold) and with its on-disk compilation cache warm (a "
           "script run again); PyMC's PyTensor cache of compiled C code is warm in every run, as it is after "
           "a first use on a machine.", ""]
    verdicts = []
    for jp in mine:
        t1_all, t2_all, t2b_all, t2c_all = True, True, True, True
        lines = []
        for mm in models:
            j = summaries.get((mm, jp))
            peers = {p: summaries[(mm, p)] for p in others if (mm, p) in summaries and summaries[(mm, p)]["n"]}
            if not j or not j["n"] or not peers:
                t1_all = t2_all = t2b_all = t2c_all = False
                lines.append(f"- {mm}: not measured")
                continue
            best = max(peers, key=lambda p: peers[p]["ess_s_total"])
            ok1 = j["ess_s_total"] >= peers[best]["ess_s_total"]
            t1_all &= ok1
            line = (f"- {mm}: total ESS/s {LABELS[jp]} {_f(j['ess_s_total'])} vs best peer ({LABELS[best]}) "
                    f"{_f(peers[best]['ess_s_total'])}: **{'met' if ok1 else 'not met'}**")
            if "nutpie" in peers:
                n = peers["nutpie"]
                ok2 = j["ess_s_post"] >= n["ess_s_post"]
                ok2b = j["ess_s_post"] >= n["ess_s_sampling_only"]
                ok2c = j["ess_s_sampling_only"] >= n["ess_s_sampling_only"]
                t2_all &= ok2
                t2b_all &= ok2b
                t2c_all &= ok2c
                line += (f"; post-compile ESS/s {_f(j['ess_s_post'])} vs nutpie {_f(n['ess_s_post'])} "
                         f"(second `pm.sample` call): **{'met' if ok2 else 'not met'}**; vs nutpie's sampling "
                         f"alone {_f(n['ess_s_sampling_only'])}: {'met' if ok2b else 'not met'}; sampling alone, "
                         f"both: {_f(j['ess_s_sampling_only'])} vs {_f(n['ess_s_sampling_only'])}: "
                         f"{'met' if ok2c else 'not met'}")
            else:
                t2_all = t2b_all = t2c_all = False
            lines.append(line)
        out += lines + [""]
        verdicts.append((jp, t1_all, t2_all, t2b_all, t2c_all))
    scope = "all three" if len(models) == 3 else "the measured"
    for jp, t1, t2, t2b, t2c in verdicts:
        out.append(f"**{LABELS[jp]}: Target 1 (total ESS/s >= best peer on {scope} models): "
                   f"{'MET' if t1 else 'NOT MET'}. Target 2 (post-compile ESS/s >= nutpie's): "
                   f"{'MET' if t2 else 'NOT MET'}** (jaxmc's whole second call against nutpie's sampling time "
                   f"alone, without its per-call compilation: {'met' if t2b else 'not met'}; sampling alone "
                   f"against sampling alone: {'met' if t2c else 'not met'}).")
        out.append("")
    return out


def _render_chain_methods(raw: dict) -> list[str]:
    res = raw.get("chain_methods")
    if not res:
        return []
    groups = _group_by(res, ("lib", "model", "chain_method"))
    summaries = {k: summarize(v) for k, v in groups.items()}
    out = ["## Chain methods", "",
           "jaxmc's `chain_method` (vectorized: one program vmapped over the chains; parallel: one chain per "
           "call of a single-chain program, `cores` threads; sequential: the same, one thread), and NumPyro's "
           "for reference (parallel: `set_host_device_count(chains)` and pmap). Same columns as above, "
           f"medians over {raw.get('args', {}).get('chain_method_repeats')} repeat(s).", ""]
    for mm in MODELS:
        rows = [(k, s) for k, s in summaries.items() if k[1] == mm]
        if not rows:
            continue
        out += [f"### {mm}", "", COLS.replace("library", "library, chain_method"),
                ALIGN]
        order = {("jaxmc", c): i for i, c in enumerate(CHAIN_METHODS)}
        order.update({("numpyro", c): 10 + i for i, c in enumerate(NUMPYRO_CHAIN_METHODS)})
        for k, s in sorted(rows, key=lambda kv: order.get((kv[0][0], kv[0][2]), 99)):
            out.append(_row(f"{k[0]}, {k[2]}", s))
        out.append("")
    best = {}
    for lib in ("jaxmc", "numpyro"):
        for mm in MODELS:
            cands = {k[2]: s for k, s in summaries.items() if k[0] == lib and k[1] == mm and s["n"]}
            if cands:
                best.setdefault(lib, []).append(
                    f"{mm}: {max(cands, key=lambda c: cands[c]['ess_s_total'])} (total) / "
                    f"{max(cands, key=lambda c: cands[c]['ess_s_post'])} (post-compile)")
    for lib, items in best.items():
        out.append(f"Fastest {lib} chain method by ESS/s: " + "; ".join(items) + ".")
    for lib in ("jaxmc", "numpyro"):
        items = []
        for mm in MODELS:
            cands = {k[2]: s for k, s in summaries.items() if k[0] == lib and k[1] == mm and s["n"]}
            if cands:
                items.append(f"{mm}: {min(cands, key=lambda c: cands[c]['cpu_total_s'] / cands[c]['ess'])} "
                             f"(total) / {min(cands, key=lambda c: cands[c]['cpu_post_s'] / cands[c]['ess'])} "
                             "(post-compile)")
        if items:
            out.append(f"Least CPU time per ESS ({lib}; less sensitive to other jobs on the machine): "
                       + "; ".join(items) + ".")
    out.append("")
    return out


def _render_adaptation(raw: dict) -> list[str]:
    res = list(raw.get("adaptation") or [])
    if not res:
        return []
    # the default-adaptation rows come from the main comparison (the same runs), when it covered them
    res += [r for r in raw.get("main") or [] if r["spec"]["model"] == "flagship"
            and r["spec"].get("peer") != "jaxmc-warm"]
    groups = _group_by(res, ("peer", "model", "adaptation"))
    out = ["## Warm-up adaptation: gradients per ESS (flagship)", "",
           "jaxmc's default warm-up (the nutpie authors' mass-matrix adaptation from draws and gradients) "
           "against Stan's windowed adaptation (`nuts={\"adaptation\": \"stan\"}`), with the peers' rows of "
           "the main comparison. Reference points: nutpie about 2.4 gradient evaluations per ESS on the "
           "flagship; Stan-style adaptation about 120-175. *grads/ESS* counts warm-up and draws; the last "
           "column counts the draws only.", "",
           COLS.replace("library", "sampler, adaptation") + " grads/ESS (draws only) |", ALIGN + "---:|"]
    labels = {("jaxmc", None): "jaxmc, default (nutpie-style)", ("jaxmc", "nutpie"): "jaxmc, default (nutpie-style)",
              ("jaxmc", "stan"): "jaxmc, Stan-style", ("nutpie", None): "PyMC + nutpie",
              ("pymc", None): "PyMC default (adapt_diag)", ("numpyro", None): "NumPyro (Stan-style)"}
    order = [("jaxmc", None), ("jaxmc", "nutpie"), ("jaxmc", "stan"), ("nutpie", None), ("pymc", None),
             ("numpyro", None)]
    for k, v in sorted(groups.items(), key=lambda kv: order.index((kv[0][0], kv[0][2]))
                       if (kv[0][0], kv[0][2]) in order else 99):
        s = summarize(v)
        label = labels.get((k[0], k[2]), f"{k[0]}, {k[2]}") + f", {s['n']} run(s)"
        out.append(_row(label, s) + (f" {_f(s['grads_per_ess_draws'])} |" if s["n"] else ""))
    out.append("")
    return out


def _render_predictive(raw: dict) -> list[str]:
    from benchmarks import predictive

    return predictive.render(raw.get("predictive") or [], raw.get("args", {}))


def standalone(use_snapshot: bool, run, render) -> None:
    """A section run on its own (`python -m benchmarks.predictive` / `.memory`): measure the snapshot,
    `run(results)`, print `render(results)`."""
    src = snapshot(use_snapshot)
    _log(f"measuring {src['source']}")
    results: list = []
    run(results)
    cleanup_snapshot()
    print("\n".join(render(results)))


def _render_posteriordb() -> list[str]:
    """Pointer to the posteriordb results, which `python -m benchmarks.posteriordb` writes separately."""
    return ["", "## posteriordb: 12 posteriors against Stan's reference draws", "",
            "The runner (`python -m benchmarks.posteriordb --subset all --peers`) applies the z-test of the "
            "pack's README to every parameter; the full table with jaxmc's and nutpie's ESS/s and gradients per "
            "ESS, and the simulation-based calibration results, are in "
            "[`benchmarks/posteriordb/RESULTS.md`](benchmarks/posteriordb/RESULTS.md)."]


def _render_memory(raw: dict) -> list[str]:
    from benchmarks import memory

    return memory.render(raw.get("memory") or [])


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
    _log(f"raw results -> {raw_path}; report -> {args.out}")
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
                           libs=args.predictive_libs.split(","), log=_log, save=save)
    if "memory" in sections:
        from benchmarks import memory

        raw["memory"] = []
        memory.run_all(raw["memory"], peers=args.memory_peers.split(","), log=_log, save=save)
    raw["total_minutes"] = (time.perf_counter() - t0) / 60
    raw["total_cpu_minutes"] = sum(r.get("process_cpu", 0.0) for v in raw.values() if isinstance(v, list)
                                   for r in v if isinstance(r, dict)) / 60
    save()
    if own_cache:
        import shutil

        shutil.rmtree(args.warm_cache, ignore_errors=True)
    cleanup_snapshot()
    _log(f"done in {raw['total_minutes']:.1f} min: {args.out}")


if __name__ == "__main__":
    main()

"""Running benchmark workers: each measurement in a fresh process on a snapshot of the committed jaxmc, the
machine's description, and the log line format."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MARK = "@@RESULT@@ "

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
    for f in ("__init__.py", "models.py", "harness.py", "report.py", "run.py", "predictive.py", "memory.py"):
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

def report(result: dict) -> None:
    """Print a worker's result for `run_in_fresh_process` (the last MARK line of stdout is read)."""
    print(MARK + json.dumps(result), flush=True)


def run_in_fresh_process(module: str, args, timeout: float | None = None, python: str | None = None,
                         env: dict | None = None) -> dict:
    """`python -m module *args` in a fresh process: the dict it `report`ed, else {"error": the last line of its
    stderr that is not a warning (or why it stopped)}."""
    cmd = [python or sys.executable, "-m", module, *map(str, args)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"not finished in {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    lines = [x for x in proc.stderr.strip().splitlines() if x.strip() and "warn" not in x.lower()]
    return {"error": lines[-1][-200:] if lines else f"exit {proc.returncode}, no output"}


def log(msg: str):
    print(f"[{datetime.datetime.now():%H:%M:%S} load {os.getloadavg()[0]:.1f}] {msg}", file=sys.stderr,
          flush=True)

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

def standalone(use_snapshot: bool, run, render) -> None:
    """A section run on its own (`python -m benchmarks.predictive` / `.memory`): measure the snapshot,
    `run(results)`, print `render(results)`."""
    src = snapshot(use_snapshot)
    log(f"measuring {src['source']}")
    results: list = []
    run(results)
    cleanup_snapshot()
    print("\n".join(render(results)))

"""Runner: `python -m benchmarks.posteriordb [--subset fast|all] [--posteriors a,b] [--peers] [--diag]
[--draws N --tune N --chains N] [--seed S] [--seeds N] [--no-write]`.

Samples every posterior with jaxmc (with --diag also with `nuts={"mass_matrix": "diag"}`; with --peers also the
PyMC version with nutpie, diagonal and `low_rank_modified_mass_matrix=True`), applies the pack's
z-test to every reference parameter, prints the table, stores per-run results in
`benchmarks/posteriordb/results.json` (merged with earlier runs, keyed by posterior and sampler) and writes
the tables of all stored results into `benchmarks/posteriordb/RESULTS.md`. With `--seeds N` every sampler runs with
seeds S .. S + N - 1 and the runner prints the median gradients per effective sample over them (nothing is stored).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import statistics
import sys
import time

from benchmarks.posteriordb.common import FAST, HERE, POSTERIORS, RunResult, run_jaxmc, run_nutpie, short_name

RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "RESULTS.md"
#: the samplers the runner knows, in table order
SAMPLERS = ("jaxmc", "jaxmc diag", "nutpie", "nutpie low-rank")


def _fmt(x, spec=".2f"):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return format(x, spec)


def _settings_text(s: dict) -> str:
    base = f"{s['chains']}x({s['tune']}+{s['draws']})"
    extra = [f"target_accept={s['target_accept']}"] if s.get("target_accept", 0.8) != 0.8 else []
    extra += [f"max_treedepth={s['max_treedepth']}"] if "max_treedepth" in s else []
    return base + (", " + ", ".join(extra) if extra else "")


def table(rows: list[dict]) -> str:
    head = ("| posterior | sampler | settings | result | max \\|z\\| mean / sd | sd ratio range | divergences "
            "| min ESS | time s (compile + sample) | ESS/s | grads/ESS |")
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        if r.get("error"):
            lines.append(f"| {short_name(r['posterior'])} | {r['sampler']} | {_settings_text(r['settings'])} | "
                         f"{r['error']} | | | | | | | |")
            continue
        res = "pass" if r["passed"] else "FAIL: " + "; ".join(f"{k} ({v})" for k, v in r["failures"].items())
        lines.append(
            f"| {short_name(r['posterior'])} | {r['sampler']} | {_settings_text(r['settings'])} | {res} | "
            f"{_fmt(r['max_abs_z_mean'])} / {_fmt(r['max_abs_z_sd'])} | "
            f"{_fmt(r['sd_ratio_min'])} - {_fmt(r['sd_ratio_max'])} | {r['divergences']} | "
            f"{_fmt(r['min_ess_bulk'], '.0f')} | {_fmt(r['wall_s'], '.1f')} ({_fmt(r['compile_s'], '.1f')} + "
            f"{_fmt(r['sample_s'], '.1f')}) | {_fmt(r['ess_per_s'], '.1f')} | {_fmt(r['grads_per_ess'], '.1f')} |")
    return "\n".join(lines)


def grads_table(rows: list[dict]) -> str:
    """Gradients per effective sample (leapfrog steps over warm-up and draws per min bulk ESS), one column per
    sampler of the run."""
    names = list(dict.fromkeys(r["sampler"] for r in rows))
    cells = {(r["posterior"], r["sampler"]): r for r in rows}
    lines = ["| posterior | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for p in dict.fromkeys(r["posterior"] for r in rows):
        vals = []
        for n in names:
            r = cells.get((p, n))
            vals.append("-" if r is None or r.get("error") else _fmt(r["grads_per_ess"], ".1f")
                        + ("" if r["passed"] else " (fail)"))
        lines.append(f"| {short_name(p)} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


def seeds_table(rows: list[dict]) -> str:
    """Median, lowest and highest gradients per effective sample over the run's seeds, and the passes, one row per
    posterior and one column per sampler."""
    names = list(dict.fromkeys(r["sampler"] for r in rows))
    lines = ["| posterior | " + " | ".join(f"{n}: median (range), passed" for n in names) + " |",
             "|---|" + "---:|" * len(names)]
    for p in dict.fromkeys(r["posterior"] for r in rows):
        cells = []
        for n in names:
            rs = [r for r in rows if r["posterior"] == p and r["sampler"] == n and not r.get("error")]
            g = [r["grads_per_ess"] for r in rs]
            cells.append("-" if not g else f"{statistics.median(g):.2f} ({min(g):.1f}-{max(g):.1f}), "
                         f"{sum(r['passed'] for r in rs)}/{len(rs)}")
        lines.append(f"| {short_name(p)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def load_results() -> dict:
    if RESULTS_JSON.exists():
        return json.loads(RESULTS_JSON.read_text())
    return {}


def save_results(all_results: dict):
    RESULTS_JSON.write_text(json.dumps(all_results, indent=1, sort_keys=True, default=float) + "\n")


def write_markdown(all_results: dict):
    order = {p: i for i, (p, _) in enumerate(POSTERIORS)}
    rows = {}
    for s in SAMPLERS:
        keys = sorted((k for k in all_results if k.split("|")[1] == s and k.split("|")[0] in order),
                      key=lambda k: (order[k.split("|")[0]], len(k.split("|")) > 2, k))
        rows[s] = [all_results[k] for k in keys]
    parts = [RESULTS_MD.read_text().split("<!-- runner tables -->")[0] if RESULTS_MD.exists() else
             "# posteriordb results\n\n", "<!-- runner tables -->\n"]
    for sampler, rs in rows.items():
        if rs:
            meta = rs[0].get("machine", "")
            parts.append(f"\n### {sampler}\n\n{table(rs)}\n\n_{meta}_\n")
    parts.append("<!-- end runner tables -->\n")
    tail = ""
    if RESULTS_MD.exists() and "<!-- end runner tables -->" in RESULTS_MD.read_text():
        tail = RESULTS_MD.read_text().split("<!-- end runner tables -->\n", 1)[1]
    RESULTS_MD.write_text("".join(parts) + tail)


def machine() -> str:
    import jax

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, jax {jax.__version__} "
            f"({jax.default_backend()}), run {time.strftime('%Y-%m-%d')}")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.posteriordb", description=__doc__)
    ap.add_argument("--subset", choices=["fast", "all"], default="all")
    ap.add_argument("--posteriors", default=None, help="comma-separated posterior or module names")
    ap.add_argument("--peers", action="store_true",
                    help="also run the PyMC version with nutpie (diagonal and low-rank mass matrix)")
    ap.add_argument("--diag", action="store_true", help="also run jaxmc with the diagonal mass matrix")
    ap.add_argument("--only-peers", action="store_true", help="run nutpie only")
    ap.add_argument("--draws", type=int, default=None)
    ap.add_argument("--tune", type=int, default=None)
    ap.add_argument("--chains", type=int, default=None)
    ap.add_argument("--target-accept", type=float, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=1, help="run seeds --seed .. --seed + N - 1 and print the median "
                    "gradients per ESS (stores nothing)")
    ap.add_argument("--no-write", action="store_true", help="print only; do not update results.json/RESULTS.md")
    args = ap.parse_args(argv)
    # jaxmc's first call compiles, as in a fresh script on a new machine (its time column includes compilation)
    os.environ.setdefault("JAXMC_COMPILATION_CACHE", "0")

    names = [p for p, _ in POSTERIORS] if args.subset == "all" else list(FAST)
    if args.posteriors:
        wanted = args.posteriors.split(",")
        names = [p for p, m in POSTERIORS if p in wanted or m in wanted]
    samplers = [] if args.only_peers else [("jaxmc", run_jaxmc)]
    if args.diag and not args.only_peers:
        samplers.append(("jaxmc diag", functools.partial(run_jaxmc, mass_matrix="diag")))
    if args.peers or args.only_peers:
        samplers += [("nutpie", run_nutpie), ("nutpie low-rank", functools.partial(run_nutpie, low_rank=True))]
    override = {"draws": args.draws, "tune": args.tune, "chains": args.chains, "target_accept": args.target_accept}
    all_results = load_results()
    rows = []
    runs = [(p, sname, fn, seed) for p in names for sname, fn in samplers
            for seed in range(args.seed, args.seed + args.seeds)]
    for p, sname, fn, seed in runs:
        print(f"[{time.strftime('%H:%M:%S')}] {short_name(p)} with {sname}, seed {seed} ...", flush=True)
        res: RunResult = fn(p, seed=seed, **override)
        row = res.summary()
        row["machine"] = machine()
        rows.append(row)
        print(table([row]).splitlines()[-1], flush=True)
        if res.checks and not res.passed:
            for c in res.checks:
                if not c.passed:
                    print(f"    {c.name}: mean {c.mean:.4g} (ref {c.ref_mean:.4g}), sd {c.sd:.4g} (ref "
                          f"{c.ref_sd:.4g}), ess {c.ess_bulk:.0f}, rhat {c.rhat:.3f}: {c.why}", flush=True)
        if not args.no_write and args.seeds == 1:
            # runs at the model file's settings replace each other; runs with other settings are kept
            # beside them (e.g. a model that declares target_accept=0.95, run again at the default 0.8)
            key = f"{p}|{sname}" + (f"|{_settings_text(res.settings)}" if any(
                v is not None for v in override.values()) else "")
            all_results[key] = row
            save_results(all_results)
            write_markdown(all_results)
    print()
    print(table(rows))
    print()
    print(grads_table(rows) if args.seeds == 1 else seeds_table(rows))
    return 0 if all(r["passed"] for r in rows if r["sampler"] == "jaxmc") else 1


if __name__ == "__main__":
    sys.exit(main())

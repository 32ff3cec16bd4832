"""BENCHMARKS.md from the raw results: medians over repeats, the tables of each section, the targets, and two
Python stacks side by side."""

from __future__ import annotations

import re
import statistics

from benchmarks.models import MODELS

#: the options `python -m benchmarks.run` takes by default (set by run.py; a report names only the others)
DEFAULT_OPTIONS: dict = {}

PEERS = ("jaxmc", "jaxmc-warm", "pymc", "nutpie", "nutpie-lowrank", "numpyro")
NUTPIES = ("nutpie", "nutpie-lowrank")

CHAIN_METHODS = ("vectorized", "parallel", "sequential")

NUMPYRO_CHAIN_METHODS = ("parallel", "vectorized", "sequential")

LABELS = {"jaxmc": "jaxmc (cold: empty compilation cache)",
          "jaxmc-warm": "jaxmc (warm on-disk compilation cache)", "pymc": "PyMC (its own NUTS, cores=2)", "nutpie": "PyMC + nutpie (numba)",
          "nutpie-lowrank": "PyMC + nutpie, low-rank mass matrix",
          "numpyro": "NumPyro NUTS"}

def median(xs):
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
        "total_s": median([r["time"] for r in r1]),
        "post_s": median([r["time"] for r in r2]),
        "cpu_total_s": median([r.get("cpu", float("nan")) for r in r1]),
        "cpu_post_s": median([r.get("cpu", float("nan")) for r in r2]),
        "import_s": median([r.get("t_import", float("nan")) for r in ok]),
        "sampling_only_s": median([r["sampling_time_attr"] for r in r2]),
        "ess": median([r["ess"] for r in r1 + r2]),
        "ess_s_total": median([r["ess"] / r["time"] for r in r1]),
        "ess_s_post": median([r["ess"] / r["time"] for r in r2]),
        "ess_s_sampling_only": median([r["ess"] / r["sampling_time_attr"] for r in r2]),
        "grads_per_ess": median([r["grads"] / r["ess"] for r in r1 + r2]),
        "grads_per_ess_draws": median([r["grads_draws"] / r["ess"] for r in r1 + r2]),
        "divergences": median([r["divergences"] for r in r1 + r2]),
        "chain_method": r1[0].get("chain_method"),
        "load": median([x for r in ok for x in r.get("load", [])]),
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

def number(x, nd=1):
    if x is None or x != x:
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{nd}f}"

IMPORT_LIBS = ("jaxmc", "pymc")

def _render_imports(raw: dict) -> list[str]:
    imp = raw.get("imports")
    if not imp:
        return []
    return ["## Import time", "",
            "`python -c \"import LIB\"` in a fresh process, wall time, median of "
            f"{max(len(v) for v in imp.values())} (after one untimed import of each):", "",
            "| library | median s | min s | max s |", "|---|---:|---:|---:|"] + [
        f"| {lib} | {number(median(v), 2)} | {number(min(v), 2)} | {number(max(v), 2)} |" for lib, v in imp.items() if v
    ] + [""]

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
            out.append(f"| {mm} | {LABELS[p]} | {number(a['ess_s_total'])} / {number(b['ess_s_total'])} | "
                       f"{number(a['ess_s_post'])} / {number(b['ess_s_post'])} | {number(a['ess_s_sampling_only'])} / "
                       f"{number(b['ess_s_sampling_only'])} | {number(a['total_s'])} / {number(b['total_s'])} |")
    imps = [r.get("imports") or {} for r in runs]
    if all(imps):
        out += ["", "Import time (median of 5 fresh processes), A / B: " + "; ".join(
            f"{lib} {number(median(imps[0].get(lib, [])), 2)} / {number(median(imps[1].get(lib, [])), 2)} s"
            for lib in IMPORT_LIBS) + "."]
    return out + [""]

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
    return (f"| {label} | {number(s['total_s'])} | {number(s['post_s'])} | {number(s['cpu_total_s'])} / "
            f"{number(s['cpu_post_s'])} | {number(s['ess'], 0)} | {number(s['ess_s_total'])} | "
            f"{number(s['ess_s_post'])} | {number(s['grads_per_ess'])} | {number(s['divergences'], 0)} |")

def _options(args: dict) -> str:
    """The command-line options of a run that differ from the defaults (paths left out)."""
    if not args:
        return ""
    defaults = DEFAULT_OPTIONS
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
           f"call: the *sampling only* column below gives the time nutpie reports for sampling alone), with "
           f"its default diagonal mass matrix and with `nuts_sampler_kwargs={{\"low_rank_modified_mass_matrix\": "
           f"True}}`; jaxmc with its defaults (`mass_matrix=\"auto\"`); "
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
        extra = [(p, summaries[(mm, p)]) for p in ("jaxmc", "pymc", *NUTPIES) if (mm, p) in summaries
                 and summaries[(mm, p)]["n"]]
        if extra:
            out += ["", "Sampling only (the `sampling_time` attribute of the posterior, second call: the "
                    "sampling loop without compilation, conversion to ArviZ and convergence checks): " + "; ".join(
                f"{LABELS[p]} {number(s['sampling_only_s'])} s, {number(s['ess_s_sampling_only'])} ESS/s"
                for p, s in extra) + "."]
        imp = [(p, summaries[(mm, p)]) for p in peers if (mm, p) in summaries and summaries[(mm, p)]["n"]]
        out += ["", "Import time (the library and ArviZ, for every library), not included above: " + "; ".join(
                    f"{p} {number(s['import_s'])} s" for p, s in imp) + "."]
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
                        cells.append(f"{number(j['ess_s_total'] / s['ess_s_total'], 2)} / "
                                     f"{number(j['ess_s_post'] / s['ess_s_post'], 2)}")
                out.append(f"| {mm} | {'cold' if jp == 'jaxmc' else 'warm cache'} | " + " | ".join(cells) + " |")
        out.append("")
        out += _targets(summaries, models, mine, others)
    return out

def _targets(summaries, models, mine, others) -> list[str]:
    out = ["### Targets", "",
           "Target 1: *ESS per second of total wall time at least the best peer's on all three models*. "
           "Target 2: *post-compile ESS per second at least nutpie's* (on all three models; with both of "
           "nutpie's metrics measured, against the one that samples faster on the model). Target 1 is "
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
            line = (f"- {mm}: total ESS/s {LABELS[jp]} {number(j['ess_s_total'])} vs best peer ({LABELS[best]}) "
                    f"{number(peers[best]['ess_s_total'])} ({number(j['ess_s_total'] / peers[best]['ess_s_total'], 2)}x): "
                    f"**{'met' if ok1 else 'not met'}**")
            nutpies = [p for p in NUTPIES if p in peers]
            if nutpies:  # against the better of nutpie's metrics
                n = peers[max(nutpies, key=lambda p: peers[p]["ess_s_sampling_only"])]
                ok2 = j["ess_s_post"] >= n["ess_s_post"]
                ok2b = j["ess_s_post"] >= n["ess_s_sampling_only"]
                ok2c = j["ess_s_sampling_only"] >= n["ess_s_sampling_only"]
                t2_all &= ok2
                t2b_all &= ok2b
                t2c_all &= ok2c
                line += (f"; post-compile ESS/s {number(j['ess_s_post'])} vs nutpie {number(n['ess_s_post'])} "
                         f"(second `pm.sample` call): **{'met' if ok2 else 'not met'}**; vs nutpie's sampling "
                         f"alone {number(n['ess_s_sampling_only'])}: {'met' if ok2b else 'not met'}; sampling alone, "
                         f"both: {number(j['ess_s_sampling_only'])} vs {number(n['ess_s_sampling_only'])}: "
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
        out.append(_row(label, s) + (f" {number(s['grads_per_ess_draws'])} |" if s["n"] else ""))
    out.append("")
    return out

def _render_predictive(raw: dict) -> list[str]:
    from benchmarks import predictive

    return predictive.render(raw.get("predictive") or [], raw.get("args", {}))

def _render_posteriordb() -> list[str]:
    """Pointer to the posteriordb results, which `python -m benchmarks.posteriordb` writes separately."""
    return ["", "## posteriordb: 13 posteriors against Stan's reference draws", "",
            "The runner (`python -m benchmarks.posteriordb --subset all --peers`) applies the z-test of the "
            "pack's README to every parameter; the full table with jaxmc's and nutpie's ESS/s and gradients per "
            "ESS, and the simulation-based calibration results, are in "
            "[`benchmarks/posteriordb/RESULTS.md`](benchmarks/posteriordb/RESULTS.md)."]

def _render_memory(raw: dict) -> list[str]:
    from benchmarks import memory

    return memory.render(raw.get("memory") or [])

"""Simulation-based calibration (Talts et al. 2018) of jaxmc on three posteriordb models.

    python -m benchmarks.posteriordb.sbc [--models eight_schools,sblrc,hmm_example] [--replications N]
                                         [--seed S] [--write]

For each replication: draw the parameters from the prior and a data set from the model given them (the
posteriordb data supply the covariates and sizes), sample the posterior of the simulated data with jaxmc,
keep L = 99 draws evenly spaced over all chains and record the rank of the true value among them
(0..99) for every scalar parameter. If the sampler and the model's log density are right, the ranks are
uniform. Test: chi-square over 10 equal bins (9 degrees of freedom) per parameter; a model passes when the
smallest p-value exceeds 0.01 / (number of parameters) (Bonferroni at the 1% level).

Prior and data draws: eight_schools and sblrc with `pm.sample_prior_predictive` (jaxmc's forward sampler,
so the forward code is checked against the log density too); hmm_example with a NumPy simulator (its
likelihood is a Potential, which has no generative form), sampling mu from N(3,1) x N(10,1) restricted to
0 < mu[0] < mu[1] by rejection, the transition rows from Dirichlet(1,1), the first state uniformly.
Every replication's data are set with `pm.set_data`, so the compiled sampler is reused.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

import numpy as np

from benchmarks.posteriordb.common import HERE, load_data, model_module, parse_name

SEED = 20240611
L = 99  # posterior draws per replication used for the rank: ranks 0..L
BINS = 10
SAMPLE = dict(chains=2, tune=500, draws=500)
DEFAULT_REPLICATIONS = {"eight_schools": 200, "sblrc": 200, "hmm_example": 200}
MODULES = {"eight_schools": "eight_schools-eight_schools_noncentered", "sblrc": "sblrc-blr",
           "hmm_example": "hmm_example-hmm_example"}
#: (data container, observed variable) per model
DATA_NAMES = {"eight_schools": ("y_obs", "y"), "sblrc": ("y_obs", "y"), "hmm_example": ("y_obs", None)}


def _scalar_params(posterior):
    from benchmarks.posteriordb.common import load_reference

    return load_reference(posterior)["param_names"]


def _simulate_hmm(rng, n, k=2):
    while True:
        mu = rng.normal([3.0, 10.0], 1.0)
        if 0 < mu[0] < mu[1]:
            break
    gamma = rng.dirichlet(np.ones(k), size=k)
    z = np.empty(n, int)
    z[0] = rng.integers(k)
    for t in range(1, n):
        z[t] = rng.choice(k, p=gamma[z[t - 1]])
    y = rng.normal(mu[z], 1.0)
    return {"theta1": gamma[0], "theta2": gamma[1], "mu": mu}, y


def _draws_for(name, model, replications, seed):
    """[(true parameter values {var: array}, simulated data array)] for every replication."""
    import jaxmc

    data_name, obs_name = DATA_NAMES[name]
    if name == "hmm_example":
        rng = np.random.default_rng(seed)
        n = len(model.data_values()[data_name])
        return [_simulate_hmm(rng, n) for _ in range(replications)]
    prior = jaxmc.sample_prior_predictive(draws=replications, model=model, random_seed=seed)
    free = [rv.name for rv in model.free_RVs] + [d.name for d in model.deterministics]
    out = []
    for r in range(replications):
        truth = {v: np.asarray(prior.prior[v].values[0, r]) for v in free}
        out.append((truth, np.asarray(prior.prior_predictive[obs_name].values[0, r])))
    return out


def run_sbc(name: str, replications: int | None = None, seed: int = SEED, progress: bool = False) -> dict:
    import jaxmc

    posterior = MODULES[name]
    replications = replications or DEFAULT_REPLICATIONS[name]
    model = model_module(posterior).build(jaxmc, load_data(posterior))
    params = _scalar_params(posterior)
    data_name, _ = DATA_NAMES[name]
    sims = _draws_for(name, model, replications, seed)
    ranks = {p: [] for p in params}
    divergences = 0
    t0 = time.perf_counter()
    for r, (truth, y) in enumerate(sims):
        jaxmc.set_data({data_name: y}, model=model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = jaxmc.sample(**SAMPLE, random_seed=seed + 1 + r, progressbar=False, model=model,
                                 compute_convergence_checks=False)
        divergences += int(idata.sample_stats["diverging"].sum())
        n_total = SAMPLE["chains"] * SAMPLE["draws"]
        keep = np.linspace(0, n_total - 1, L).round().astype(int)
        for p in params:
            var, idx = parse_name(p)
            draws = np.asarray(idata.posterior[var].values)[(slice(None), slice(None), *idx)].reshape(-1)[keep]
            ranks[p].append(int(np.sum(draws < np.asarray(truth[var])[idx])))
        if progress and (r + 1) % 10 == 0:
            print(f"  {name}: {r + 1}/{replications} replications, {time.perf_counter() - t0:.0f} s", flush=True)
    return summarize(name, ranks, replications, seed, divergences, time.perf_counter() - t0)


def chi_square_uniform(ranks, n_ranks: int = L + 1, bins: int = BINS) -> tuple[float, float]:
    from scipy import stats

    counts = np.bincount(np.asarray(ranks) * bins // n_ranks, minlength=bins)
    expected = len(ranks) / bins
    stat = float(((counts - expected) ** 2 / expected).sum())
    return stat, float(stats.chi2.sf(stat, bins - 1))


def summarize(name, ranks, replications, seed, divergences, seconds) -> dict:
    params = {}
    for p, rs in ranks.items():
        stat, pval = chi_square_uniform(rs)
        params[p] = {"chi2": stat, "p_value": pval,
                     "counts": np.bincount(np.asarray(rs) * BINS // (L + 1), minlength=BINS).tolist()}
    pmin = min(v["p_value"] for v in params.values())
    return {"model": name, "replications": replications, "seed": seed, "sample": SAMPLE, "L": L, "bins": BINS,
            "divergences": divergences, "seconds": seconds, "min_p_value": pmin,
            "passed": pmin > 0.01 / len(params), "params": params}


def markdown(results: list[dict]) -> str:
    lines = ["| model | replications | seed | per-replication run | parameters | min p-value | "
             "Bonferroni 1% threshold | result | divergences (all replications) | time s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        s = r["sample"]
        n = len(r["params"])
        lines.append(f"| {r['model']} | {r['replications']} | {r['seed']} | {s['chains']}x({s['tune']}+{s['draws']}), "
                     f"L={r['L']} | {n} | {r['min_p_value']:.3f} | {0.01 / n:.4f} | "
                     f"{'pass' if r['passed'] else 'FAIL'} | {r['divergences']} | {r['seconds']:.0f} |")
    lines.append("")
    for r in results:
        lines.append(f"{r['model']} p-values: " + ", ".join(f"{p} {v['p_value']:.2f}" for p, v in r["params"].items()))
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.posteriordb.sbc", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(DEFAULT_REPLICATIONS))
    ap.add_argument("--replications", type=int, default=None)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--write", action="store_true", help="store results in sbc_results.json and RESULTS.md")
    args = ap.parse_args(argv)
    results = []
    for name in args.models.split(","):
        print(f"[{time.strftime('%H:%M:%S')}] SBC {name} ...", flush=True)
        res = run_sbc(name, args.replications, args.seed, progress=True)
        results.append(res)
        print(markdown([res]), flush=True)
        if args.write:
            path = HERE / "sbc_results.json"
            stored = json.loads(path.read_text()) if path.exists() else {}
            stored[name] = res
            path.write_text(json.dumps(stored, indent=1) + "\n")
            write_markdown(list(stored.values()))
    print(markdown(results))
    return 0 if all(r["passed"] for r in results) else 1


def write_markdown(results):
    md = HERE / "RESULTS.md"
    text = md.read_text() if md.exists() else "# posteriordb results\n\n"
    start, end = "<!-- sbc table -->\n", "<!-- end sbc table -->\n"
    block = start + markdown(results) + "\n" + end
    if start in text and end in text:
        text = text.split(start)[0] + block + text.split(end, 1)[1]
    else:
        text = text + "\n## Simulation-based calibration\n\n" + block
    md.write_text(text)


if __name__ == "__main__":
    sys.exit(main())

"""posteriordb reference posteriors: jaxmc's draws against Stan's reference draws with the pack's z-test.

Default suite: the four quickest posteriors at reduced length (4 chains x (500 tune + 500 draws)); the
z-test uses the run's own Monte Carlo standard error, so shorter runs only widen its tolerance. With the
shorter runs the convergence gate is R-hat < 1.02 and bulk ESS >= 100 (the full-length gate, used by the
slow tests and the runner, is R-hat < 1.01 and ESS >= 400) and the fixed 0.8-1.25 sd-ratio bound is not
applied (the README reserves it for full-length runs; the sd z-test still is).

Slow (`pytest -m slow`): the other eight posteriors at pm.sample defaults (with the per-model settings the
model files declare), PyMC log-density parity of every model file, and simulation-based calibration.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from benchmarks.posteriordb.common import FAST, POSTERIORS, check_posterior, load_data, model_module, run_jaxmc

SLOW = [p for p, _ in POSTERIORS if p not in FAST]
SEED = 20240601


def _report(res):
    lines = [f"{res.posterior}: {res.error}"] if res.error else []
    for c in res.checks:
        lines.append(f"{c.name}: mean {c.mean:.4g} (ref {c.ref_mean:.4g}, z {c.z_mean:.2f}), sd {c.sd:.4g} "
                     f"(ref {c.ref_sd:.4g}, z {c.z_sd:.2f}), ess {c.ess_bulk:.0f}, rhat {c.rhat:.3f} {c.why}")
    return "\n".join(lines)


@pytest.mark.parametrize("posterior", FAST, ids=[p.split("-")[0] for p in FAST])
def test_fast_posterior_z_test(posterior):
    import jaxmc

    model = model_module(posterior).build(jaxmc, load_data(posterior))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = jaxmc.sample(draws=500, tune=500, chains=4, random_seed=SEED, progressbar=False, model=model)
    checks = check_posterior(posterior, idata.posterior, rhat_max=1.02, ess_min=100)
    failed = [c for c in checks if not (c.converged and abs(c.z_mean) < 4 and abs(c.z_sd) < 4)]
    assert not failed, "\n".join(f"{c.name}: {c.why}" for c in failed)
    assert int(idata.sample_stats["diverging"].sum()) <= 10


@pytest.mark.slow
@pytest.mark.parametrize("posterior", SLOW, ids=[p.split("-")[0] for p in SLOW])
def test_posterior_z_test_full_length(posterior):
    """The pack's full check at the model file's settings. A correct sampler misses its gates by chance
    for some seeds: R-hat < 1.01 on the strongly correlated regressions (kidiq: 2 of 12 seeds, RESULTS.md),
    or one chain held in low_dim_gauss_mix's one-wide-component local mode (1 of 24 seeds, SEED among
    them). So a second, independent seed is run when the first misses; a biased sampler misses both."""
    res = run_jaxmc(posterior, seed=SEED)
    if not res.passed:
        first = _report(res)
        res = run_jaxmc(posterior, seed=SEED + 1)
        assert res.passed, f"seed {SEED}:\n{first}\nseed {SEED + 1}:\n{_report(res)}"


@pytest.mark.slow
@pytest.mark.parametrize("posterior", [p for p, _ in POSTERIORS], ids=[p.split("-")[0] for p, _ in POSTERIORS])
def test_model_file_pymc_logp_parity(posterior):
    """Every model file builds with jaxmc and with PyMC, with the same value variables and log density
    (the ODE model integrates with diffrax in jaxmc and a fixed-step RK4 in PyMC: tolerance 1e-6)."""
    pytest.importorskip("pymc")
    from tests.helpers import pymc_parity

    mod = model_module(posterior)
    data = load_data(posterior)
    pymc_parity(lambda pm: mod.build(pm, data), n_points=3, rtol=1e-6, scale=0.3)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["eight_schools", "sblrc", "hmm_example"])
def test_simulation_based_calibration(name):
    from benchmarks.posteriordb import sbc

    out = sbc.run_sbc(name, replications=sbc.DEFAULT_REPLICATIONS[name], seed=sbc.SEED)
    pvals = {k: v["p_value"] for k, v in out["params"].items()}
    # Bonferroni over the parameters of the model at the 1% level
    assert min(pvals.values()) > 0.01 / len(pvals), pvals


def test_fast_subset_is_declared():
    assert len(FAST) == 4 and set(FAST) < {p for p, _ in POSTERIORS}
    for p, _ in POSTERIORS:
        mod = model_module(p)
        assert callable(mod.build) and mod.POSTERIOR == p
        assert np.all([isinstance(h, str) for h in getattr(mod, "HEAVY_TAILED", ())])


def test_runner_summarises_several_seeds():
    from benchmarks.posteriordb.__main__ import seeds_table

    def row(sampler, grads, passed=True):
        return {"posterior": "kidiq-kidscore_momiq", "sampler": sampler, "grads_per_ess": grads, "passed": passed}

    rows = [row("jaxmc", g) for g in (4.0, 3.0, 5.0)]
    rows += [row("nutpie low-rank", 4.5, False), row("nutpie low-rank", 3.5)]
    lines = seeds_table(rows).splitlines()
    assert lines[0] == "| posterior | jaxmc: median (range), passed | nutpie low-rank: median (range), passed |"
    assert lines[2] == "| kidiq | 4.00 (3.0-5.0), 3/3 | 4.00 (3.5-4.5), 1/2 |"

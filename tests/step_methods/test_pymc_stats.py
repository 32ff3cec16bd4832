"""sample_stats names, dims and shapes equal PyMC 6's for the same step setup (PyMC's own NUTS-only stats such
as timings and eigenvalues, which jaxmc does not report, aside)."""

import pytest

import jaxmc

#: PyMC NUTS stats jaxmc's NUTS does not report
PYMC_ONLY = {"perf_counter_diff", "perf_counter_start", "process_time_diff", "largest_eigval", "smallest_eigval",
             "index_in_trajectory", "divergences", "energy_error", "warning"}


def build(pm, discrete=True):
    with pm.Model() as m:
        a = pm.Normal("a", 0, 1)
        b = pm.Normal("b", 0, 1, shape=2)
        c = pm.Normal("c", 0, 1)
        pm.Normal("d", 0, 1)
        if not discrete:  # PyMC 6 refuses DEMetropolisZ's boolean `accepted` beside Metropolis's float one
            return m, dict(a=a, b=b, c=c)
        k = pm.Bernoulli("k", 0.3, shape=2)
        j = pm.Categorical("j", [0.2, 0.3, 0.5])
        pm.Poisson("n", 3.0)
    return m, dict(a=a, b=b, c=c, k=k, j=j)


SETUPS = {
    "metropolis+slice+defaults": lambda pm, v: [pm.Metropolis([v["a"]]), pm.Metropolis([v["b"]]), pm.Slice([v["c"]])],
    "binary_metropolis+categorical": lambda pm, v: [pm.BinaryMetropolis([v["k"]]),
                                                    pm.CategoricalGibbsMetropolis([v["j"]])],
    "unblocked_slice": lambda pm, v: [pm.Slice([v["a"], v["b"]])],
    "demetropolisz": lambda pm, v: [pm.DEMetropolisZ()],
}


def stats_of(pm, setup, **kwargs):
    model, v = build(pm, discrete=setup != "demetropolisz")
    with model:
        idata = pm.sample(draws=10, tune=10, chains=1, step=SETUPS[setup](pm, v), progressbar=False,
                          compute_convergence_checks=False, random_seed=1, **kwargs)
    return {k: (x.dims, x.shape) for k, x in idata.sample_stats.data_vars.items()}


@pytest.mark.slow
@pytest.mark.parametrize("setup", sorted(SETUPS))
def test_sample_stats_match_pymc(setup):
    pymc = pytest.importorskip("pymc")
    if int(pymc.__version__.split(".")[0]) < 6:
        pytest.skip("PyMC 6 is the reference")
    theirs = {k: s for k, s in stats_of(pymc, setup, cores=1).items() if k not in PYMC_ONLY}
    ours = stats_of(jaxmc, setup)
    assert ours == theirs

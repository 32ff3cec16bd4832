"""NUTS + warm-up end to end on known Gaussian targets, for both adaptation schemes (``nuts_testing.result``:
4 vmapped chains x 1000 tuning x 1000 draws; moments within 4 Monte Carlo standard errors)."""
import numpy as np
import pytest

from jaxmc.nuts import ADAPTATIONS
from tests.nuts.nuts_testing import NUMPY_LOGP, SCALES, TARGETS, result

# Stan's adaptation on the 1e-4..1e4 scales target spends about 500k gradient evaluations per chain in
# warm-up: that case is marked slow (pytest -m slow)
slow = pytest.mark.slow
CASES = [
    pytest.param(t, a, id=f"{t}-{a}", marks=[slow] if (t, a) == ("scales20", "stan") else [])
    for t in TARGETS
    for a in ADAPTATIONS
]


@pytest.mark.parametrize("target, adaptation", CASES)
def test_moments_within_mcse(target, adaptation):
    r = result(target, adaptation)
    d = r.draws.reshape(-1, r.draws.shape[-1])
    mcse_mean = d.std(axis=0) / np.sqrt(r.ess_mean)
    assert np.all(np.abs(d.mean(axis=0)) < 4 * mcse_mean)
    sq = d**2
    mcse_var = sq.std(axis=0) / np.sqrt(r.ess_square)
    assert np.all(np.abs(sq.mean(axis=0) - r.variances) < 4 * mcse_var)
    assert r.ess_mean.min() > 300


@pytest.mark.parametrize("target, adaptation", CASES)
def test_no_divergences_and_sane_stats(target, adaptation):
    r = result(target, adaptation)
    s = r.stats
    assert s["diverging"].sum() == 0
    if (target, adaptation) == ("scales20", "stan"):
        # Stan's windows over a 1e8 range of scales in 1000 warm-up steps can leave one chain's mass
        # matrix 100x off in a coordinate, and that chain then reaches the maximum depth now and then;
        # the moments still pass (test above) and the default adaptation does not have this problem.
        # Seeds 2024-2031, share of draws at the maximum depth: 1.4% for 2024 and at most 0.1% for the others
        per_chain = s["reached_max_treedepth"].mean(axis=1)
        assert (per_chain > 0.001).sum() <= 1 and per_chain.mean() < 0.02
    else:
        assert not s["reached_max_treedepth"].any()
    assert 0.65 < s["acceptance_rate"].mean() < 0.97
    # sampling uses the final dual-averaging step size, fixed per chain
    assert np.all(s["step_size"] == s["step_size"][:, :1])
    np.testing.assert_allclose(s["step_size"][:, 0], r.tune_stats["step_size_bar"][:, -1], rtol=1e-12)
    np.testing.assert_allclose(s["step_size_bar"], s["step_size"], rtol=1e-12)
    depth, n_steps = s["tree_depth"], s["n_steps"]
    assert np.all((n_steps >= np.maximum(2**depth - 1, 1)) & (n_steps <= 2 ** (depth + 1) - 1))
    assert np.all(np.abs(s["max_energy_error"]) < 1000)
    np.testing.assert_allclose(s["lp"], NUMPY_LOGP[target](r.draws), rtol=1e-10, atol=1e-10)
    assert np.all(s["energy"] >= -s["lp"])  # energy = -lp + kinetic energy


def test_nutpie_inv_mass_recovers_scales():
    r = result("scales20", "nutpie")
    ratio = np.asarray(r.state.inv_mass) / SCALES**2
    assert np.all((ratio > 0.5) & (ratio < 2.0))


def test_stan_inv_mass_recovers_unit_variances():
    ratio = np.asarray(result("normal100", "stan").state.inv_mass)
    assert np.all((ratio > 0.5) & (ratio < 2.0))


def test_nutpie_inv_mass_on_correlated_target():
    """The gradient-based estimate is sqrt(var(x) / var(grad)) = sqrt(1 / P_ii) = sqrt(1 - 0.99**2)."""
    ratio = np.asarray(result("corr2", "nutpie").state.inv_mass) / np.sqrt(1 - 0.99**2)
    assert np.all((ratio > 0.5) & (ratio < 2.0))


def test_gradients_per_effective_sample_nutpie():
    for target, bound in (("scales20", 15), ("normal100", 15)):
        r = result(target, "nutpie")
        print(f"\n{target} nutpie: grads / min ESS = {r.grads_per_ess:.2f}")
        assert r.grads_per_ess < bound


@slow
def test_stan_inv_mass_on_scales_target():
    """Stan's regularisation ``1e-3 * 5/(n+5)`` swamps tiny variances; the moderate ones are found."""
    ratio = np.asarray(result("scales20", "stan").state.inv_mass) / SCALES**2
    moderate = (SCALES >= 1e-1) & (SCALES <= 1e2)
    assert np.all((ratio[:, moderate] > 0.5) & (ratio[:, moderate] < 2.0))
    assert np.all(ratio[:, SCALES < 1e-3] > 2.0)


@slow
def test_gradients_per_effective_sample_nutpie_vs_stan():
    nutpie = result("scales20", "nutpie").grads_per_ess
    stan = result("scales20", "stan").grads_per_ess
    print(f"\ngrads / min ESS on scales 1e-4..1e4: nutpie {nutpie:.2f}, stan {stan:.2f}")
    assert nutpie < 15
    assert nutpie < stan

"""jaxmc.diagnostics: the same R-hat and bulk ESS as ArviZ."""
import arviz as az
import numpy as np
import pytest

from jaxmc import diagnostics


def _ar1(rng, chains, draws, phis):
    x = np.zeros((chains, draws, len(phis)))
    e = rng.normal(size=x.shape)
    for t in range(1, draws):
        x[:, t] = phis * x[:, t - 1] + e[:, t]
    return x


@pytest.mark.parametrize("draws", [1000, 201, 57, 8])
def test_matches_arviz(draws):
    rng = np.random.default_rng(draws)
    x = _ar1(rng, 4, draws, np.array([0.0, 0.5, 0.9, 0.995, -0.3]))
    x[1, :, 4] += 0.7  # one chain offset: R-hat well above 1
    x[:, :, 0] = np.round(x[:, :, 0])  # ties in the ranks
    for j in range(x.shape[2]):
        np.testing.assert_allclose(diagnostics.rhat(x)[j], float(az.rhat(x[:, :, j])), rtol=1e-10)
        np.testing.assert_allclose(diagnostics.ess_bulk(x)[j], float(az.ess(x[:, :, j], method="bulk")),
                                   rtol=1e-10)
        np.testing.assert_allclose(diagnostics.ess_mean(x)[j], float(az.ess(x[:, :, j], method="mean")),
                                   rtol=1e-10)


def test_shapes_and_constant_parameter():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 100, 3, 2))
    x[..., 0, 0] = 1.5  # constant: ESS is the number of draws, as in ArviZ
    assert diagnostics.rhat(x).shape == (3, 2)
    ess = diagnostics.ess_bulk(x)
    assert ess.shape == (3, 2)
    assert ess[0, 0] == 200.0
    assert diagnostics.rhat(x)[1, 1] < 1.05

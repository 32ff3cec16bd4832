"""PyMC's external NUTS samplers (`nuts_sampler=`, `pymc.sampling.jax.sample_numpyro_nuts`): jaxmc runs its own NUTS
with a warning saying so, never an error; PyMC 6's other `pm.sample` arguments are accepted."""

import numpy as np
import pytest

import jaxmc as pm
from jaxmc import convert
from jaxmc.sampling import jax as sampling_jax

FAST = dict(draws=20, tune=20, chains=2, random_seed=1, progressbar=False, compute_convergence_checks=False)


@pytest.fixture(scope="module")
def model():
    with pm.Model() as m:
        mu = pm.Normal("mu", 0, 1)
        pm.Normal("y", mu, 1, observed=np.array([0.1, -0.3, 0.5]))
    return m


@pytest.mark.parametrize("sampler", ["numpyro", "blackjax", "nutpie"])
def test_external_sampler_is_a_warning(model, sampler):
    with model, pytest.warns(UserWarning, match=f"nuts_sampler='{sampler}' is ignored: jaxmc always samples"):
        idata = pm.sample(nuts_sampler=sampler, **FAST)
    assert convert.group_dataset(idata, "posterior")["mu"].shape == (2, 20)


def test_nuts_sampler_kwargs(model):
    with model, pytest.warns(UserWarning, match=r"\['postprocessing_backend'\] are options"):
        idata = pm.sample(nuts_sampler="numpyro", nuts_sampler_kwargs={"chain_method": "vectorized",
                                                                      "postprocessing_backend": "cpu"}, **FAST)
    assert convert.group_dataset(idata, "posterior").attrs["chain_method"] == "vectorized"


def test_pymc6_arguments_without_effect(model):
    with model:
        idata = pm.sample(jitter_max_retries=3, n_init=100, blas_cores=1, backend="jax", compile_kwargs={},
                          mp_ctx=None, **FAST)
    assert convert.group_dataset(idata, "posterior")["mu"].shape == (2, 20)
    with model, pytest.raises(TypeError, match="unknown keyword"):
        pm.sample(not_an_argument=1, **FAST)


@pytest.mark.parametrize("fn", ["sample_numpyro_nuts", "sample_blackjax_nuts"])
def test_sample_jax_functions(model, fn):
    with model, pytest.warns(UserWarning, match="jaxmc samples with its own NUTS") as caught:
        idata = getattr(sampling_jax, fn)(draws=20, tune=20, chains=2, random_seed=1, progressbar=False,
                                          nuts_kwargs={"max_tree_depth": 5, "dense_mass": True},
                                          postprocessing_backend="cpu", compute_convergence_checks=False)
    assert any("dense_mass" in str(w.message) for w in caught)
    assert convert.group_dataset(idata, "sample_stats")["tree_depth"].values.max() <= 5

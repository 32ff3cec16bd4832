"""Bad seeds, names and model contexts: refused at once, naming the seed argument or the variable; the seeds
PyMC 6 accepts (every entry of a sequence counts, Generators) accepted."""

import numpy as np
import pytest

import jaxmc as pm
from jaxmc.sampling.start import chain_keys
from tests.bad_input.expect import expect_error


@pytest.fixture(scope="module")
def model():
    with pm.Model() as m:
        pm.Normal("a", 0, 1)
    return m


BAD_SEEDS = [
    ("abc", TypeError, r"random_seed.*string 'abc'"),
    (-1, ValueError, r"random_seed.*-1 is not allowed"),
    (-5, ValueError, r"random_seed.*non-negative"),
    (1.5, TypeError, r"random_seed.*float 1\.5"),
    (np.random.RandomState(1), TypeError, r"random_seed.*RandomState"),
    ([1, -2], ValueError, r"random_seed.*entry \[1\].*non-negative"),
    ([1, 2.5], TypeError, r"random_seed.*entry \[1\].*float"),
    ([], ValueError, r"random_seed.*empty"),
    ({"seed": 1}, TypeError, r"random_seed.*dict"),
]


@pytest.mark.parametrize("seed, exc, match", BAD_SEEDS, ids=[repr(s[0])[:20] for s in BAD_SEEDS])
def test_bad_seeds_in_sample(model, seed, exc, match):
    with model:
        expect_error(exc, match, lambda: pm.sample(draws=5, tune=5, chains=2, random_seed=seed, progressbar=False))


@pytest.mark.parametrize("seed, exc, match", BAD_SEEDS[:5], ids=[repr(s[0])[:20] for s in BAD_SEEDS[:5]])
def test_bad_seeds_in_prior_predictive(model, seed, exc, match):
    with model:
        expect_error(exc, r"sample_prior_predictive.*" + match.split(".*", 1)[1],
                     lambda: pm.sample_prior_predictive(draws=5, random_seed=seed))


def test_every_entry_of_a_seed_sequence_counts():
    # PyMC 6 seeds one Generator with the whole sequence (`default_rng([1, 2]).spawn(chains)`): [1, 2] and [1, 3]
    # give different chains (only the first entry was used before)
    assert not np.array_equal(chain_keys([1, 2], 2), chain_keys([1, 3], 2))
    assert np.array_equal(chain_keys([1, 2], 2), chain_keys(np.array([1, 2]), 2))
    # an int seed gives the keys it always gave
    assert np.array_equal(chain_keys(5, 2), np.random.SeedSequence(5).generate_state(4, np.uint32).reshape(2, 2))


def test_generators_and_seed_sequences_are_accepted():
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    assert np.array_equal(chain_keys(g1, 2), chain_keys(g2, 2))
    assert chain_keys(np.random.SeedSequence(4), 3).shape == (3, 2)
    assert chain_keys(np.random.PCG64(4), 3).shape == (3, 2)
    assert chain_keys(np.int64(7), 1).shape == (1, 2)


NAME_CASES = [
    (lambda: pm.Normal("draw", 0, 1), ValueError, r"'draw' is reserved"),
    (lambda: pm.Normal("chain", 0, 1), ValueError, r"'chain' is reserved"),
    (lambda: pm.Normal("__sample__", 0, 1), ValueError, r"'__sample__' is reserved"),
    (lambda: pm.Deterministic("chain", pm.Normal("x", 0, 1) * 2), ValueError, r"'chain' is reserved"),
    (lambda: pm.Data("draw", [1.0, 2.0]), ValueError, r"'draw' is reserved"),
    (lambda: pm.Potential("draw", pm.Normal("x", 0, 1) * 0), ValueError, r"'draw' is reserved"),
    (lambda: (pm.Normal("x", 0, 1), pm.Normal("x", 0, 1)), ValueError, r"'x' already exists"),
    (lambda: (pm.Normal("x", 0, 1), pm.Deterministic("x", 1.0)), ValueError, r"'x' already exists"),
    (lambda: pm.Normal("g", 0, 1), ValueError, r"'g' is already used by a dim"),
    (lambda: pm.Normal(3, 0, 1), TypeError, r"name \(a string\), found int"),
    (lambda: pm.Normal("a/b", 0, 1), ValueError, r"'a/b' cannot contain '/'"),
    (lambda: pm.Deterministic("d", "abc"), TypeError, r"'d'.*numeric.*'abc'"),
    (lambda: pm.Deterministic(3, 1.0), TypeError, r"variable name must be a string, found int 3"),
]


@pytest.mark.parametrize("build, exc, match", NAME_CASES, ids=[c[2][:25] for c in NAME_CASES])
def test_bad_names(build, exc, match):
    with pm.Model(coords={"g": [1, 2]}):
        expect_error(exc, match, build)


def _other():
    with pm.Model() as other:
        pm.Normal("a", 0, 1)
    return other


FOREIGN_CASES = [
    lambda o: pm.Normal("b", o["a"], 1),
    lambda o: pm.Normal("b", 0, pm.math.exp(o["a"]) + 1),
    lambda o: pm.Deterministic("b", o["a"] * 2),
    lambda o: pm.Potential("b", -o["a"] ** 2),
    lambda o: pm.Mixture("b", w=[0.5, 0.5], comp_dists=[pm.Normal.dist(o["a"], 1), pm.Normal.dist(0, 1)]),
]


@pytest.mark.parametrize("build", FOREIGN_CASES, ids=["parameter", "expression", "deterministic", "potential",
                                                      "mixture component"])
def test_a_variable_of_another_model_is_refused(build):
    other = _other()
    with pm.Model():
        expect_error(ValueError, r"uses 'a', a variable of another model", lambda: build(other))


def test_variables_of_sibling_sub_models_are_the_same_model():
    with pm.Model() as root:
        with pm.Model("one"):
            a = pm.Normal("a", 0, 1)
        with pm.Model("two"):
            b = pm.Normal("b", a, 1)
        pm.Deterministic("c", a + b)
    assert set(root.named_vars) == {"one::a", "two::b", "c"}


CONTEXT_CASES = [
    (lambda: pm.Normal("x", 0, 1), TypeError, r"'x' \(Normal\) was created outside a model"),
    (lambda: pm.Deterministic("d", 1.0), TypeError, r"No model on context stack"),
    (lambda: pm.Data("d", [1.0]), TypeError, r"model"),
    (lambda: pm.Model(name=3), TypeError, r"name must be a string"),
    (lambda: pm.sample(model="m"), TypeError, r"model= must be a pm.Model, found str"),
    (lambda: pm.sample_prior_predictive(model=3), TypeError, r"model= must be a pm.Model, found int"),
    (lambda: pm.set_data({"x": [1.0]}, model="m"), TypeError, r"model= must be a pm.Model"),
    (lambda: pm.Deterministic("d", 1.0, model="m"), TypeError, r"model= must be a pm.Model"),
    (lambda: pm.Normal("x", model="m"), TypeError, r"Variable .x. \(Normal\): model= must be a pm.Model, found str"),
]


@pytest.mark.parametrize("build, exc, match", CONTEXT_CASES,
                         ids=["rv", "deterministic", "data", "model name", "sample model=str", "prior model=int",
                              "set_data model=str", "deterministic model=str", "rv model=str"])
def test_outside_a_model(build, exc, match):
    expect_error(exc, match, build)

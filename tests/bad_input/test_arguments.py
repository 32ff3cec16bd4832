"""Bad arguments of pm.sample and the predictive functions: refused before anything compiles, naming the argument;
PyMC's `init`, `idata_kwargs` and `keep_warning_stat` values mapped or refused, never silently ignored."""

import warnings

import numpy as np
import pytest

import jaxmc as pm
from jaxmc import convert
from jaxmc.sampling.settings import init_jitter
from tests.bad_input.expect import expect_error


@pytest.fixture(scope="module")
def model():
    with pm.Model(coords={"g": ["a", "b", "c"]}) as m:
        a = pm.Normal("a", 0, 1)
        pm.Normal("b", a, 1, dims="g")
        s = pm.HalfNormal("s", 1)
        pm.Normal("y", a, s, observed=[0.1, -0.3])
    return m


SAMPLE_CASES = [
    (dict(draws=50.7), TypeError, r"draws=50\.7.*whole number"),
    (dict(draws=-1), ValueError, r"draws"),
    (dict(draws="100"), TypeError, r"draws"),
    (dict(draws=True), TypeError, r"draws"),
    (dict(tune=10.5), TypeError, r"tune"),
    (dict(chains=0), ValueError, r"chains.*>= 1"),
    (dict(cores=0), ValueError, r"cores.*>= 1"),
    (dict(cores=1.5), TypeError, r"cores"),
    (dict(max_treedepth=0), ValueError, r"max_treedepth"),
    (dict(target_accept=1.5), ValueError, r"target_accept"),
    (dict(target_accept="0.9"), TypeError, r"target_accept"),
    (dict(nuts=0.9), TypeError, r"nuts=.*must be a dict"),
    (dict(return_inferencedata="no"), TypeError, r"return_inferencedata"),
    (dict(discard_tuned_samples=None), TypeError, r"discard_tuned_samples"),
    (dict(quiet="yes"), TypeError, r"quiet"),
    (dict(chain_method="threads"), ValueError, r"chain_method"),
    (dict(drawz=10), TypeError, r"drawz"),
    (dict(nuts={"target_acept": 0.9}), TypeError, r"target_acept"),
    (dict(nuts={"adaptation": "pymc"}), ValueError, r"adaptation"),
    (dict(step="NUTS"), TypeError, r"step"),
    (dict(init="advi"), ValueError, r"init='advi'.*ADVI"),
    (dict(init="adapt_full"), ValueError, r"init='adapt_full'.*diagonal"),
    (dict(init="jitter+map"), ValueError, r"init='jitter\+map'.*MAP"),
    (dict(init="jitter"), ValueError, r"init='jitter'.*accepted"),
    (dict(init=1), TypeError, r"init"),
    (dict(keep_warning_stat="yes"), TypeError, r"keep_warning_stat"),
    (dict(idata_kwargs={"log_likelihod": True}), TypeError, r"'log_likelihod'.*Did you mean 'log_likelihood'"),
    (dict(idata_kwargs={"include_transformed": True}), ValueError, r"include_transformed"),
    (dict(idata_kwargs={"log_prior": True}), ValueError, r"log_prior"),
    (dict(idata_kwargs=["log_likelihood"]), TypeError, r"idata_kwargs"),
    (dict(idata_kwargs={"coords": ["a"]}), TypeError, r"coords"),
    (dict(var_names=["nope"]), KeyError, r"nope"),
    (dict(initvals={"nope": 1.0}), KeyError, r"nope.*free variables.*'a'"),
    (dict(initvals={"a": [1.0, 2.0]}), ValueError, r"initvals\['a'\].*shape \(2,\).*shape \(\)"),
    (dict(initvals={"b": np.zeros(2)}), ValueError, r"initvals\['b'\].*\(3,\)"),
    (dict(initvals={"a": "x"}), TypeError, r"initvals\['a'\].*numeric"),
    (dict(initvals={"s": -1.0}), ValueError, r"initvals\['s'\].*outside the support of 's' \(HalfNormal\)"),
    (dict(initvals={"a": np.nan}), ValueError, r"initvals\['a'\].*not finite"),
    (dict(initvals={"s_log__": 0.0}), KeyError, r"'s_log__' is not a free variable.*\['a', 'b', 's'\]"),
    (dict(initvals="a"), TypeError, r"initvals must be a dict"),
    (dict(initvals=[{}, {}, {}], chains=2), ValueError, r"initvals: 3 dicts for 2 chains"),
]


@pytest.mark.parametrize("kwargs, exc, match", SAMPLE_CASES, ids=[repr(c[0])[:40] for c in SAMPLE_CASES])
def test_sample_arguments(model, kwargs, exc, match):
    kwargs = {"draws": 5, "tune": 5, "chains": 1, "progressbar": False, **kwargs}
    with model:
        expect_error(exc, match, lambda: pm.sample(**kwargs))


def test_sample_outside_a_model():
    expect_error(TypeError, r"model", lambda: pm.sample(draws=5, progressbar=False))


def _trace(model):
    """A posterior with the model's free variables (no sampling)."""
    rng = np.random.default_rng(0)
    return convert.to_inference_data(model, {"posterior": {"a": rng.normal(size=(1, 4)),
                                                           "b": rng.normal(size=(1, 4, 3)),
                                                           "s": rng.uniform(0.5, 1, size=(1, 4))}})


PREDICTIVE_CASES = [
    ("prior", dict(draws=2.5), TypeError, r"sample_prior_predictive\(draws=2\.5\)"),
    ("prior", dict(draws=-3), ValueError, r"draws"),
    ("prior", dict(idata_kwargs={"cords": {}}), TypeError, r"'cords'.*Did you mean 'coords'"),
    ("prior", dict(var_names=["nope"]), KeyError, r"nope"),
    ("prior", dict(foo=1), TypeError, r"foo"),
    ("prior", dict(var_names="nope"), KeyError, r"\['nope'\]"),
    ("posterior", dict(idata_kwargs={"log_likelihood": True}), TypeError, r"log_likelihood"),
    ("posterior", dict(sample_dims=["sample"]), (KeyError, ValueError), r"sample"),
    ("posterior", dict(var_names=["nope"]), KeyError, r"nope"),
    ("posterior", dict(sample_vars=["nope"]), KeyError, r"nope"),
    ("posterior", dict(extend_inferencedata=True, foo=2), TypeError, r"foo"),
]


@pytest.mark.parametrize("which, kwargs, exc, match", PREDICTIVE_CASES,
                         ids=[f"{c[0]}-{repr(c[1])[:30]}" for c in PREDICTIVE_CASES])
def test_predictive_arguments(model, which, kwargs, exc, match):
    with model:
        if which == "prior":
            expect_error(exc, match, lambda: pm.sample_prior_predictive(**kwargs))
        else:
            trace = _trace(model)
            expect_error(exc, match, lambda: pm.sample_posterior_predictive(trace, progressbar=False, **kwargs))


@pytest.mark.parametrize("check_bounds, exc", [("no", TypeError), (None, TypeError), (0.5, TypeError)])
def test_check_bounds_must_be_a_bool(check_bounds, exc):
    expect_error(exc, r"check_bounds", lambda: pm.Model(check_bounds=check_bounds))


def test_check_bounds_false_says_the_checks_stay():
    with pytest.warns(UserWarning, match=r"check_bounds=False.*keeps the parameter checks"):
        pm.Model(check_bounds=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pm.Model(check_bounds=True)


def test_keep_warning_stat_true_says_it_has_no_effect(model):
    # the warning comes before the run: a bad initvals stops it there, with nothing compiled
    with model, pytest.warns(UserWarning, match=r"keep_warning_stat=True.*no effect"):
        with pytest.raises(KeyError):
            pm.sample(draws=5, chains=1, keep_warning_stat=True, initvals={"nope": 1.0}, progressbar=False)


@pytest.mark.parametrize("init, jitter", [("auto", 1.0), ("jitter+adapt_diag", 1.0), ("JITTER+ADAPT_DIAG", 1.0),
                                          ("jitter+adapt_diag_grad", 1.0), ("adapt_diag", 0.0)])
def test_pymc_init_values_map_to_a_start(init, jitter):
    assert init_jitter(init) == jitter


def test_idata_kwargs_are_applied(model):
    """coords and dims, log_likelihood and save_warmup of idata_kwargs reach the result (they were dropped)."""
    with model:
        idata = pm.sample(draws=4, tune=3, chains=1, random_seed=1, progressbar=False, init="adapt_diag",
                          compute_convergence_checks=False,
                          idata_kwargs={"log_likelihood": True, "save_warmup": True, "include_transformed": False,
                                        "coords": {"obs": ["first", "second"]}, "dims": {"y": ["obs"]}})
    groups = convert.group_names(idata)
    assert "log_likelihood" in groups and "warmup_posterior" in groups
    assert list(convert.group_dataset(idata, "observed_data")["obs"].values) == ["first", "second"]
    assert convert.group_dataset(idata, "warmup_posterior")["a"].shape == (1, 3)


def test_prior_predictive_applies_idata_kwargs(model):
    """sample_prior_predictive ignored idata_kwargs; its coords and dims now label the result."""
    with model:
        idata = pm.sample_prior_predictive(draws=3, random_seed=2, var_names="y",  # one name as a string
                                           idata_kwargs={"coords": {"obs": ["u", "v"]}, "dims": {"y": ["obs"]}})
    assert list(convert.group_dataset(idata, "prior_predictive")["obs"].values) == ["u", "v"]

"""find_MAP: PyMC's optimum on five models, its result keys, vars=, start=, the gradient-free path, bad input,
Ctrl-C and the progress bar."""

import warnings

import numpy as np
import pytest

import jaxmc as pm
from jaxmc import progress
from jaxmc.sampling import SamplingError
from jaxmc.tuning import find_MAP, lbfgs
from tests.tuning.map_models import MODELS, build, data

# pymc.find_MAP(progressbar=False) on map_models (PyMC 6.4; PyMC 5.28 gives the same to 1e-10)
PYMC_OPTIMA = {
    'linear': {'a': 0.2100937718, 'b': [0.99815363, -1.8929795174, 0.5698017394], 'sigma_log__': -0.4961395493,
               'sigma': 0.6088766669},
    'logistic': {'a': -0.4880345236, 'b': [1.3756496906, -1.4883418581, 0.3826489491], 'p_mean': 0.4405205642},
    'hierarchical': {'mu': 2.8751575857, 'tau_log__': 1.0106930007,
                     'z': [1.0299845672, -0.2639570726, -0.5077944122, 0.0688858498, -0.5025336049, 0.4914091792],
                     'sigma_log__': -0.1964562677, 'tau': 2.747504378, 'sigma': 0.8216372626,
                     'theta': [5.7050446933, 2.1499343731, 1.4799902149, 3.0644217595, 1.4944443061,
                               4.2253064568]},
    'simplex': {'p_simplex__': [-0.469486415, 0.3995515048, -0.8372111697], 'q_logodds__': -0.1690763642,
                'p': [0.1244019082, 0.2966507257, 0.0861244002, 0.492822966], 'q': 0.4578313168},
    'poisson': {'rate_log__': 1.038102894, 'b': 0.7553676566, 'rate': 2.8238547776},
}


@pytest.fixture(scope="module")
def models():
    return {name: build(pm, name) for name in MODELS}


def assert_point_close(found, expected, rtol=1e-4, atol=1e-6):
    assert list(found) == list(expected), (list(found), list(expected))
    for name, value in expected.items():
        np.testing.assert_allclose(found[name], value, rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("name", MODELS)
def test_optimum_equals_pymc(models, name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converges without a warning
        point = find_MAP(model=models[name], progressbar=False)
    assert_point_close(point, PYMC_OPTIMA[name])
    assert all(isinstance(v, np.ndarray) for v in point.values())


def test_known_answers(models):
    """The simplex model's MAP (no Jacobian terms) is the mode of the conjugate posterior."""
    point = find_MAP(model=models["simplex"], progressbar=False, include_transformed=False)
    d = data()
    alpha = np.array([2.0, 2.0, 3.0, 1.5]) + d["counts"] - 1
    np.testing.assert_allclose(point["p"], alpha / alpha.sum(), rtol=1e-6)
    np.testing.assert_allclose(point["q"], (2 - 1 + d["heads"]) / (2 + 3 - 2 + 80), rtol=1e-6)
    assert list(point) == ["p", "q"]


def test_include_transformed_false_drops_value_variables(models):
    point = find_MAP(model=models["hierarchical"], progressbar=False, include_transformed=False)
    assert list(point) == [k for k in PYMC_OPTIMA["hierarchical"] if not k.endswith("__")]
    # PyMC 6's spelling
    again = find_MAP(model=models["hierarchical"], progressbar=False, idata_kwargs={"include_transformed": False})
    assert list(again) == list(point)


def test_vars_subset_moves_only_those(models):
    """With a and sigma held, b's optimum is the ridge solution of the linear model."""
    model = models["linear"]
    start = {"a": 0.5, "sigma": 0.8}
    point = find_MAP(start=start, vars=[model["b"]], model=model, progressbar=False)
    assert point["a"] == 0.5 and np.isclose(point["sigma"], 0.8)
    d = data()
    X, y = d["X"], d["y_lin"]
    b = np.linalg.solve(X.T @ X / 0.8**2 + np.eye(3) / 100, X.T @ (y - 0.5) / 0.8**2)
    np.testing.assert_allclose(point["b"], b, rtol=1e-6)


def test_vars_deterministic_optimises_its_inputs(models):
    model = models["hierarchical"]
    with pytest.warns(UserWarning, match="Intermediate variables"):
        point = find_MAP(vars=[model["theta"]], model=model, progressbar=False)
    start = model.initial_point()
    assert point["sigma_log__"] == start["sigma_log__"]  # sigma is not an input of theta
    assert point["mu"] != start["mu"]


def test_start_partial_by_constrained_and_value_names(models):
    """A previous result is a valid start (deterministic entries ignored); it is at the optimum already."""
    model = models["hierarchical"]
    point, raw = find_MAP(start=PYMC_OPTIMA["hierarchical"], model=model, progressbar=False, return_raw=True)
    assert_point_close(point, PYMC_OPTIMA["hierarchical"])
    assert raw.nit <= 3
    # constrained by the variable's name, unconstrained by the value variable's: the same start
    x1 = find_MAP(start={"tau": 2.0}, vars=[model["mu"]], model=model, progressbar=False)
    x2 = find_MAP(start={"tau_log__": np.log(2.0)}, vars=["mu"], model=model, progressbar=False)
    np.testing.assert_allclose(x1["tau"], 2.0)
    np.testing.assert_allclose(x1["mu"], x2["mu"], rtol=1e-10)


def test_return_raw_and_pymc6_spelling(models):
    model = models["logistic"]
    point, raw = find_MAP("BFGS", model=model, progressbar=False, return_raw=True)  # PyMC 6: method first
    assert raw.success and raw.method == "BFGS" and raw.nit > 0 and raw.nfev >= raw.nit
    assert raw.x.shape == (4,) and np.max(np.abs(raw.jac)) <= lbfgs.GTOL * 10
    np.testing.assert_allclose(-raw.fun, model.compile_logp(jacobian=False)(point), rtol=1e-10)
    again = find_MAP(initvals={"a": 0.1}, random_seed=3, jitter=True, model=model, progressbar=False,
                     return_inferencedata=False, compute_hessian=False)
    assert_point_close(again, PYMC_OPTIMA["logistic"])


def test_not_converged_warns(models):
    with pytest.warns(UserWarning, match="did not converge"):
        point, raw = find_MAP(model=models["hierarchical"], maxeval=3, progressbar=False, return_raw=True)
    assert not raw.success and raw.nfev >= 3 and raw.nit <= 3 and "EVALUATIONS" in raw.message
    assert np.isfinite(raw.fun)


def test_gradient_free_method_uses_scipy(models):
    model = models["linear"]
    point, raw = find_MAP(method="powell", model=model, progressbar=False, return_raw=True)
    assert raw.method == "Powell" and raw.success
    assert_point_close(point, PYMC_OPTIMA["linear"], rtol=1e-3, atol=1e-4)


def discrete_model():
    with pm.Model() as model:
        k = pm.Poisson("k", 4.0)
        mu = pm.Normal("mu", 0, 10)
        pm.Normal("y", mu + k, 1.0, observed=[7.0, 8.0, 9.0])
    return model


def test_discrete_variables_stay_at_start_or_use_powell():
    model = discrete_model()
    point = find_MAP(model=model, progressbar=False)
    assert point["k"] == 4 and point["k"].dtype.kind == "i"  # the Poisson's support point, kept
    np.testing.assert_allclose(point["mu"], (24 - 12) / (3 + 1 / 100), rtol=1e-6)
    with pytest.warns(UserWarning, match="Powell"):
        point = find_MAP(vars=[model["k"], model["mu"]], model=model, progressbar=False)
    assert point["k"].dtype.kind == "i"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"method": "Newton-Raphson"}, ValueError, "unknown method 'Newton-Raphson'.*L-BFGS-B"),
    ({"method": len}, TypeError, "not a callable"),
    ({"vars": ["nope"]}, ValueError, "'nope' is not a variable of this model.*'a'"),
    ({"vars": [3]}, TypeError, "variables of the model or their names"),
    ({"start": {"b": np.zeros(5)}}, ValueError, r"start\['b'\] has shape \(5,\) but 'b' has shape \(3,\)"),
    ({"start": {"sigma_log__": np.zeros(2)}}, ValueError, r"start\['sigma_log__'\] has shape \(2,\)"),
    ({"start": {"nope": 1.0}}, KeyError, "'nope' is not a free variable"),
    ({"start": [1.0]}, TypeError, "expected a dict"),
    ({"start": {"sigma": -1.0}}, ValueError, "outside the support of 'sigma'"),
    ({"maxeval": 0}, ValueError, "maxeval must be a positive integer, found 0"),
    ({"options": {"gtol": -1}}, ValueError, "gtol must be a finite number >= 0"),
    ({"learning_rate": 0.1}, TypeError, r"unexpected keyword arguments \['learning_rate'\]"),
    ({"start": {"a": 1.0}, "initvals": {"a": 1.0}}, ValueError, "not both"),
    ({"return_inferencedata": True}, ValueError, "return_inferencedata=True.*not supported"),
    ({"compute_hessian": True}, ValueError, "pm.find_hessian"),
])
def test_bad_input(models, kwargs, error, match):
    with pytest.raises(error, match=match):
        find_MAP(model=models["linear"], progressbar=False, **kwargs)


def test_non_finite_start_names_the_variable():
    with pm.Model() as model:
        pm.Normal("x", 0, 1)
        pm.Potential("wall", pm.math.switch(model["x"] > -1, -np.inf, 0.0))
    with pytest.raises(SamplingError, match="not finite at the starting point.*wall"):
        find_MAP(model=model, progressbar=False)


@pytest.mark.usefixtures("python_sigint_handler")
def test_ctrl_c_returns_the_point_so_far(models, monkeypatch, ctrl_c_at):
    monkeypatch.setattr(lbfgs, "CHUNK", 1)  # one iteration per compiled call
    ctrl_c_at(monkeypatch, 3, progress.LoopProgress)
    model = models["hierarchical"]
    with pytest.warns(UserWarning, match="find_MAP interrupted after 3 of"):
        point, raw = find_MAP(model=model, progressbar=False, return_raw=True)
    assert raw.nit == 3 and not raw.success and "Ctrl-C" in raw.message
    logp = model.compile_logp(jacobian=False)
    assert logp(model.initial_point()) < logp(point) < logp(PYMC_OPTIMA["hierarchical"])


@pytest.mark.usefixtures("python_sigint_handler")
def test_ctrl_c_gradient_free(models, monkeypatch, ctrl_c_at):
    ctrl_c_at(monkeypatch, 1, progress.LoopProgress)
    with pytest.warns(UserWarning, match="interrupted after 1 of 50000 evaluations"):
        point, raw = find_MAP(method="Nelder-Mead", model=models["linear"], progressbar=False, return_raw=True)
    assert not raw.success and raw.nfev == 1


def test_progressbar_false_is_silent(models, capsys):
    find_MAP(model=models["poisson"], progressbar=False)
    assert capsys.readouterr() == ("", "")
    find_MAP(model=models["poisson"], progressbar=True)
    shown = capsys.readouterr()
    assert "MAP" in shown.out + shown.err and "logp" in shown.out + shown.err


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_optimum_equals_pymc_live(models, name):
    """The recorded PYMC_OPTIMA against the installed PyMC, and find_MAP against both."""
    pymc = pytest.importorskip("pymc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        expected = pymc.find_MAP(model=build(pymc, name), progressbar=False)
    assert_point_close({k: np.asarray(v) for k, v in expected.items()}, PYMC_OPTIMA[name], rtol=1e-7)
    assert_point_close(find_MAP(model=models[name], progressbar=False), expected)

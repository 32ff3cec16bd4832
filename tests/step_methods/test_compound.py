"""The assignment of steps to variables (PyMC's defaults, user steps, bad input) and the combined stats."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxmc as pm
from jaxmc.step_methods import (NUTS, BinaryGibbsMetropolis, CategoricalGibbsMetropolis, CompoundStep,
                                DEMetropolisZ, HamiltonianMC, Metropolis, Slice, assign, merge_stats)

from .helpers import run


def mixed():
    with pm.Model() as m:
        pm.Normal("a", 0, 1)
        pm.Bernoulli("k", 0.3, shape=2)
        pm.HalfNormal("s", 1.0, shape=3)
        pm.Categorical("j", [0.2, 0.3, 0.5])
        pm.Categorical("j2", [0.4, 0.6])
        pm.Poisson("n", 3.0)
    return m


def summary(steps):
    return [(type(a.step).__name__, a.names) for a in steps]


def test_default_assignment_is_pymcs():
    cm = mixed().compiled()
    assert summary(assign(cm, [], NUTS())) == [
        ("NUTS", ("a", "s")), ("BinaryGibbsMetropolis", ("k", "j2")), ("CategoricalGibbsMetropolis", ("j",)),
        ("Metropolis", ("n",))]


def test_user_steps_first_then_defaults_and_unblocked_split():
    cm = mixed().compiled()
    steps = assign(cm, [CompoundStep([Metropolis(["a", "s"], S=np.arange(1.0, 5.0))])], NUTS())
    assert summary(steps)[:2] == [("Metropolis", ("a",)), ("Metropolis", ("s",))]  # blocked=False: one per variable
    np.testing.assert_array_equal(steps[1].step.S, [2.0, 3.0, 4.0])
    assert steps[1].index == (3, 4, 5)
    blocked = assign(cm, [Metropolis(["a", "s"], blocked=True)], NUTS())
    assert summary(blocked)[0] == ("Metropolis", ("a", "s"))
    assert "NUTS" not in [n for n, _ in summary(steps)]


@pytest.mark.parametrize("step, match", [
    (NUTS(["k"]), "NUTS cannot update the discrete variable 'k'"),
    (Slice(["n"]), "Slice cannot update the discrete variable 'n'"),
    (HamiltonianMC(["j"]), "HamiltonianMC cannot update the discrete variable 'j'"),
    (DEMetropolisZ(["n"]), "DEMetropolisZ cannot update the discrete variable"),
    (BinaryGibbsMetropolis(["a"]), "BinaryGibbsMetropolis cannot update the continuous variable 'a'"),
    (BinaryGibbsMetropolis(["n"]), "cannot update the discrete variable 'n'.*pm.Metropolis"),
    (CategoricalGibbsMetropolis(["s"]), "cannot update the continuous variable 's'"),
    (Metropolis(["nope"]), "'nope' is not a free variable"),
    ([Metropolis(["a"]), Slice(["a"])], "'a' is assigned to two steps"),
    ("NUTS", "takes a step method"),
    (Metropolis, "was not instantiated"),
])
def test_bad_steps(step, match):
    with pytest.raises((ValueError, TypeError), match=match):
        run(mixed(), step, draws=5, tune=5)


def test_unknown_keyword():
    with pytest.raises(TypeError, match=r"unknown keyword argument\(s\) \['scale'\]"):
        Metropolis(scale=2.0)


def test_merge_stats_stacks_shared_names():
    out = merge_stats([{"accept": jnp.float64(0.5), "accepted": jnp.bool_(True)},
                       {"accept": jnp.float64(0.25), "accepted": jnp.float64(0.5), "lambda": jnp.float64(1.0)}])
    assert list(out) == ["accept", "accepted", "lambda"]
    np.testing.assert_allclose(out["accept"], [0.5, 0.25])
    assert out["accepted"].dtype == jnp.result_type(jnp.bool_, jnp.float64) and out["lambda"].shape == ()


def test_compound_nuts_metropolis_moments_and_stats():
    with pm.Model() as model:
        pm.Normal("a", 1.0, 2.0)
        pm.Normal("b", -1.0, 0.5, shape=2)
        pm.Poisson("n", 2.0)
    idata = run(model, [Metropolis(["b"])], draws=2000)  # a: NUTS, n: Metropolis (PyMC's defaults)
    post = idata.posterior
    assert abs(float(post["a"].mean()) - 1.0) < 0.2 and abs(float(post["a"].std()) - 2.0) < 0.2
    np.testing.assert_allclose(post["b"].values.reshape(-1, 2).mean(0), -1.0, atol=0.1)
    assert abs(float(post["n"].mean()) - 2.0) < 0.25
    stats = idata.sample_stats
    assert stats["accept"].dims == ("chain", "draw", "accept_dim_0") and stats["accept"].shape[-1] == 2
    assert stats["tree_depth"].dims == ("chain", "draw") and stats["diverging"].dtype == bool

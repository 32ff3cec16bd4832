"""The sampler's chunk program (jaxmc.sampling.programs): warm-up refits run between steps, outside the loop of
steps, with the same draws as refits inside each step, and that loop stays one XLA:CPU kernel."""
import warnings

import jax
import numpy as np

import jaxmc as pm
from jaxmc.step_methods.base import Kernel
from tests.helpers import chunk_program

COV = np.array([[1.0, -0.99, 0.0], [-0.99, 1.0, 0.1], [0.0, 0.1, 4.0]])


class InlineRefitNUTS(pm.NUTS):
    """NUTS whose warm-up refits run inside each step (a branch per step): the reference semantics."""

    def kernel(self, cm, setup):
        k = super().kernel(cm, setup)

        def step(key, state, x, logp, i):
            x, state, stats = k.step(key, state, x, logp, i)
            return x, k.refit(state, i), stats

        return Kernel(k.init, step, k.empty_stats)


def _sample(step_cls, mass_matrix="low_rank"):
    with pm.Model() as model:
        pm.MvNormal("x", mu=np.zeros(3), cov=COV)
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = pm.sample(draws=40, tune=150, chains=2, random_seed=3, progressbar=False,
                          compute_convergence_checks=False, discard_tuned_samples=False,
                          step=step_cls(mass_matrix=mass_matrix))
    return model, idata


def test_refits_between_steps_give_the_draws_of_refits_inside_steps():
    model, split = _sample(pm.NUTS)
    _, inline = _sample(InlineRefitNUTS)
    np.testing.assert_array_equal(split.warmup_posterior["x"].values, inline.warmup_posterior["x"].values)
    np.testing.assert_array_equal(split.posterior["x"].values, inline.posterior["x"].values)
    _, diag = _sample(pm.NUTS, "diag")  # the refits took effect: other draws than the diagonal metric's
    assert not np.array_equal(split.posterior["x"].values, diag.posterior["x"].values)
    if jax.default_backend() != "cpu":
        return
    text, entry = chunk_program(model)
    # the outer loop (steps, then a refit) is XLA's; the loop of steps inside it is one kernel
    assert entry.count(" while(") == 1 and "xla_cpu_small_call" in text

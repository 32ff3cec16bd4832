"""Callbacks: Tracker, user functions, StopIteration at an exact iteration, CheckParametersConvergence."""

import numpy as np

import jaxmc as pm
from tests.variational.helpers import conjugate


def test_tracker_and_user_callbacks():
    with conjugate():
        inference = pm.ADVI(random_seed=3)
        tracker = pm.callbacks.Tracker(mean=inference.approx.mean.eval, loss=lambda ap, hist, i: hist[-1])
        seen = []
        approx = inference.fit(60, callbacks=[tracker, lambda ap, losses, i: seen.append(i)], progressbar=False)
    assert seen == list(range(1, 61))
    assert len(tracker["mean"]) == 60
    np.testing.assert_allclose(tracker["mean"][-1], approx.mean.eval())
    assert tracker["loss"] == list(approx.hist)
    assert not np.allclose(tracker["mean"][0], tracker["mean"][-1])


def test_stop_iteration_stops_at_that_iteration():
    class Stop(pm.callbacks.Callback):
        every = 50

        def __call__(self, approx, losses, i):
            self.params = approx.mean.eval().copy()
            if i == 150:
                raise StopIteration("enough")

    stop = Stop()
    with conjugate():
        approx = pm.fit(10000, callbacks=[stop], random_seed=1, progressbar=False)
    assert len(approx.hist) == 150
    np.testing.assert_array_equal(approx.mean.eval(), stop.params)


def test_check_parameters_convergence_stops_svgd():
    with conjugate():
        conv = pm.callbacks.CheckParametersConvergence(every=100, tolerance=1e-3, diff="absolute")
        approx = pm.fit(20000, method="svgd", callbacks=[conv], random_seed=1, progressbar=False,
                        inf_kwargs={"n_particles": 20}, obj_optimizer=pm.sgd(learning_rate=0.05))
        n_done = approx.inference.state[0]
    assert 100 <= n_done < 20000 and n_done % 100 == 0

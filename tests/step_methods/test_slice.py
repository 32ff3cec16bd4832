"""Slice: known moments of a normal and a correlated 2-D normal, and its stats."""

import pytest

from jaxmc.step_methods import Slice

from .helpers import COV, MEAN, assert_moments, correlated_normal, run


def test_slice_correlated_normal_moments_and_stats():
    idata = run(correlated_normal(), Slice(), draws=3000)
    assert_moments(idata.posterior["x"].values, MEAN, COV, ess=500)
    stats = idata.sample_stats
    assert set(stats.data_vars) == {"nstep_out", "nstep_in"}
    assert stats["nstep_out"].dtype.kind == "i" and float(stats["nstep_in"].mean()) > 0


def test_max_steps_checked():
    with pytest.raises(ValueError, match="max_steps must be a positive integer"):
        Slice(max_steps=0)

"""The sampler's options in one record, :class:`NUTSOptions`, whose field defaults are the only defaults."""
from __future__ import annotations

from typing import NamedTuple


class NUTSOptions(NamedTuple):
    """What a chain is built with (``build_chain``); ``NUTSOptions()`` (:data:`DEFAULTS`) holds the defaults."""

    target_accept: float = 0.8  # the acceptance statistic the step size is adapted to
    max_treedepth: int = 10  # a trajectory doubles at most this many times
    adaptation: str = "nutpie"  # warm-up scheme: a key of adaptation.ADAPTATIONS
    divergence_threshold: float = 1000.0  # a leapfrog step whose energy error exceeds this is divergent
    init_step_size: float | None = None  # where the first step-size search starts; None: the scheme's own
    mass_matrix: str = "auto"  # "diag", "low_rank", "dense" or "auto": an entry of adaptation_low_rank.MASS_MATRICES


DEFAULTS = NUTSOptions()

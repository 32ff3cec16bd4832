"""NUTS sampler kernels for jaxmc: pure functional, jit/vmap-compatible, NamedTuple states.

``build_chain`` is the entry point used by the sampling driver.
"""
from . import adaptation, dual_averaging, integrator, nuts, step_size, termination, welford
from .adaptation import (
    Adaptation,
    NutpieAdaptState,
    StanAdaptState,
    build_adaptation,
    nutpie_adaptation,
    stan_adaptation,
)
from .chain import STAT_NAMES, ChainState, build_chain
from .dual_averaging import DualAveragingState
from .integrator import IntegratorState, leapfrog
from .nuts import HMCState, NUTSInfo, build_kernel, init
from .welford import WelfordState

__all__ = [
    "Adaptation",
    "ChainState",
    "DualAveragingState",
    "HMCState",
    "IntegratorState",
    "NUTSInfo",
    "NutpieAdaptState",
    "STAT_NAMES",
    "StanAdaptState",
    "WelfordState",
    "adaptation",
    "build_adaptation",
    "build_chain",
    "build_kernel",
    "dual_averaging",
    "init",
    "integrator",
    "leapfrog",
    "nuts",
    "nutpie_adaptation",
    "stan_adaptation",
    "step_size",
    "termination",
    "welford",
]

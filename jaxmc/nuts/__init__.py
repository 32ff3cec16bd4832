"""NUTS sampler kernels for jaxmc: pure functional, jit/vmap-compatible, NamedTuple states; ``build_chain``
with a :class:`NUTSOptions` record is the entry point used by the sampling driver."""
from . import adaptation, dual_averaging, integrator, nuts, options, step_size, termination, welford
from .adaptation import (
    ADAPTATIONS,
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
from .options import DEFAULTS, NUTSOptions
from .welford import WelfordState

__all__ = [
    "ADAPTATIONS",
    "Adaptation",
    "ChainState",
    "DEFAULTS",
    "DualAveragingState",
    "HMCState",
    "IntegratorState",
    "NUTSInfo",
    "NUTSOptions",
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
    "options",
    "stan_adaptation",
    "step_size",
    "termination",
    "welford",
]

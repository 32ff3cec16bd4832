"""NUTS sampler kernels for jaxmc: pure functional, jit/vmap-compatible, NamedTuple states; ``build_chain``
with a :class:`NUTSOptions` record is the entry point used by the sampling driver."""
from . import (adaptation, adaptation_low_rank, dual_averaging, integrator, metric, nuts, options, step_size,
               termination, welford)
from .adaptation import (
    ADAPTATIONS,
    Adaptation,
    NutpieAdaptState,
    StanAdaptState,
    build_adaptation,
    nutpie_adaptation,
    stan_adaptation,
)
from .adaptation_low_rank import (MASS_MATRICES, LowRankAdaptState, check_mass_matrix, low_rank_adaptation,
                                  select_adaptation)
from .chain import STAT_NAMES, ChainState, build_chain
from .dual_averaging import DualAveragingState
from .integrator import IntegratorState, leapfrog
from .metric import Metric
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
    "LowRankAdaptState",
    "MASS_MATRICES",
    "Metric",
    "IntegratorState",
    "NUTSInfo",
    "NUTSOptions",
    "NutpieAdaptState",
    "STAT_NAMES",
    "StanAdaptState",
    "WelfordState",
    "adaptation",
    "adaptation_low_rank",
    "build_adaptation",
    "build_chain",
    "build_kernel",
    "check_mass_matrix",
    "dual_averaging",
    "init",
    "integrator",
    "leapfrog",
    "low_rank_adaptation",
    "metric",
    "nuts",
    "nutpie_adaptation",
    "options",
    "select_adaptation",
    "stan_adaptation",
    "step_size",
    "termination",
    "welford",
]

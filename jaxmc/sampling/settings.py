"""What a `pm.sample` run is asked for: its settings record, the chain methods and the sampling error."""

from __future__ import annotations

import numbers
from typing import NamedTuple

import jax
import numpy as np

from jaxmc.nuts import DEFAULTS, NUTSOptions
from jaxmc.step_methods import NUTS  # noqa: F401  (pm.NUTS, here for jaxmc.sampling's users)


CHAIN_METHODS = ("vectorized", "parallel", "sequential")


class SamplingError(RuntimeError):
    """Sampling could not start or run (e.g. no finite initial point)."""


class SampleSettings(NamedTuple):
    draws: int
    tune: int
    chains: int
    target_accept: float
    max_treedepth: int
    adaptation: str
    chain_method: str
    cores: int
    steps: tuple = ()  # the run's step methods (jaxmc.step_methods.assign); () = NUTS and PyMC's defaults
    seeded_mass: bool = False  # the init program gets (jitter, initial inverse mass) stacked (init="pathfinder")
    targets: object = None  # jaxmc.sampling.converge.Targets: draw on until they are met (target_ess, max_rhat)
    mass_matrix: str = DEFAULTS.mass_matrix  # the NUTS metric: "auto", "diag", "low_rank" or "dense"

    @property
    def nuts_options(self) -> NUTSOptions:
        """The chain's options: these settings, the defaults for the others."""
        return DEFAULTS._replace(target_accept=self.target_accept, max_treedepth=self.max_treedepth,
                                 adaptation=self.adaptation, mass_matrix=self.mass_matrix)


#: warm-up steps when `tune=None` (PyMC 6's default asks the step method; its NUTS asks for 1000)
DEFAULT_TUNE = 1000


#: PyMC's `init` values: how jaxmc starts its chains for each ("jitter": the support point plus uniform(-1, 1)
#: noise on the unconstrained scale, else the support point itself; the mass matrix is always diagonal)
INIT_JITTER = {"auto": 1.0, "jitter+adapt_diag": 1.0, "jitter+adapt_diag_grad": 1.0, "adapt_diag": 0.0}
#: jaxmc's Pathfinder initialisation: chains start at importance-resampled Pathfinder draws and the
#: variance of those draws seeds the NUTS mass-matrix adaptation
INIT_PATHFINDER = ("pathfinder", "pathfinder+adapt_diag")
#: PyMC's other `init` values, refused with what to do instead
INIT_REFUSED = {
    "adapt_full": "jaxmc's init schemes seed a diagonal mass matrix; for a full one pass "
                  "nuts={'mass_matrix': 'dense'}",
    "jitter+adapt_full": "jaxmc's init schemes seed a diagonal mass matrix; for a full one pass "
                         "nuts={'mass_matrix': 'dense'}",
    "advi": "jaxmc has no ADVI initialisation", "advi+adapt_diag": "jaxmc has no ADVI initialisation",
    "advi_map": "jaxmc has no ADVI initialisation",
    "map": "jaxmc does not start from the MAP", "jitter+map": "jaxmc does not start from the MAP",
}


def init_jitter(init) -> float:
    """The scale of the starting jitter for PyMC's `init=` value (case-insensitive, as PyMC); refused values
    raise ValueError saying what jaxmc does."""
    if not isinstance(init, str):
        raise TypeError(f"pm.sample(init=...) must be a string such as 'auto', found {type(init).__name__} "
                        f"{init!r}")
    key = init.lower()
    if key in INIT_JITTER:
        return INIT_JITTER[key]
    if key in INIT_PATHFINDER:
        return 0.0
    accepted = sorted(INIT_JITTER) + list(INIT_PATHFINDER)
    if key in INIT_REFUSED:
        raise ValueError(f"pm.sample(init={init!r}): {INIT_REFUSED[key]}. Accepted: {accepted} ('adapt_diag' starts "
                         "at the support point without jitter); to start elsewhere pass initvals={name: value}")
    raise ValueError(f"pm.sample(init={init!r}) is not a known initialisation; accepted: {accepted}")


def count(name: str, value, minimum: int, where: str = "pm.sample") -> int:
    """A count argument (draws, tune, chains, cores, max_treedepth) as an int >= `minimum`; a float is taken
    only when it is a whole number (1e3), anything else raises an error naming the argument."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise TypeError(f"{where}({name}=...) must be an integer, found {type(value).__name__} {value!r}")
    if not float(value).is_integer():
        raise TypeError(f"{where}({name}={value!r}) must be a whole number")
    if value < minimum:
        raise ValueError(f"{where}({name}=...) must be >= {minimum}, found {value!r}")
    return int(value)


def default_chain_method(chains: int) -> str:
    """On CPU, one single-chain program run by `cores` threads ("parallel"): it compiles faster and runs
    faster than vectorized chains, whose batched while-loops wait for the longest tree (BENCHMARKS.md). On
    accelerators, vectorized chains."""
    return "parallel" if jax.default_backend() == "cpu" else "vectorized"


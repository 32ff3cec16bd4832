"""What a `pm.sample` run is asked for: its settings record, the `pm.NUTS` step, the chain methods and the
sampling error."""

from __future__ import annotations

from typing import NamedTuple

import jax

from jaxmc.nuts import DEFAULTS, NUTSOptions


CHAIN_METHODS = ("vectorized", "parallel", "sequential")


class SamplingError(RuntimeError):
    """Sampling could not start or run (e.g. no finite initial point)."""


class NUTS:
    """The No-U-Turn Sampler's settings, for `pm.sample(step=pm.NUTS(...))` as in PyMC."""

    def __init__(self, vars=None, target_accept: float = DEFAULTS.target_accept,
                 max_treedepth: int = DEFAULTS.max_treedepth, adaptation: str = DEFAULTS.adaptation, model=None,
                 **kwargs):
        unknown = set(kwargs) - {"step_scale", "early_max_treedepth", "adapt_step_size", "scaling",
                                 "is_cov", "potential"}
        if unknown:
            raise TypeError(f"pm.NUTS got unknown keyword argument(s) {sorted(unknown)}; accepted: "
                            "vars, target_accept, max_treedepth, adaptation, model")
        if vars is not None:
            raise TypeError("pm.NUTS(vars=...): jaxmc samples all continuous variables with one NUTS "
                            "step; leave vars unset")
        self.target_accept = target_accept
        self.max_treedepth = max_treedepth
        self.adaptation = adaptation


class SampleSettings(NamedTuple):
    draws: int
    tune: int
    chains: int
    target_accept: float
    max_treedepth: int
    adaptation: str
    chain_method: str
    cores: int

    @property
    def nuts_options(self) -> NUTSOptions:
        """The chain's options: these settings, the defaults for the others."""
        return DEFAULTS._replace(target_accept=self.target_accept, max_treedepth=self.max_treedepth,
                                 adaptation=self.adaptation)


#: warm-up steps when `tune=None` (PyMC 6's default asks the step method; its NUTS asks for 1000)
DEFAULT_TUNE = 1000


def default_chain_method(chains: int) -> str:
    """On CPU, one single-chain program run by `cores` threads ("parallel"): it compiles faster and runs
    faster than vectorized chains, whose batched while-loops wait for the longest tree (BENCHMARKS.md). On
    accelerators, vectorized chains."""
    return "parallel" if jax.default_backend() == "cpu" else "vectorized"


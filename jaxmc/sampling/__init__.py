"""`pm.sample` and what it is made of (settings, start points, compiled programs, the driver, convergence checks),
and what is computed from its draws: log likelihood, log prior, deterministics."""

from jaxmc.sampling.api import sample
from jaxmc.sampling.deterministic import compute_deterministics
from jaxmc.sampling.log_density import compute_log_prior
from jaxmc.sampling.log_likelihood import compute_log_likelihood
from jaxmc.sampling.settings import CHAIN_METHODS, NUTS, SampleSettings, SamplingError, default_chain_method

__all__ = ["CHAIN_METHODS", "NUTS", "SampleSettings", "SamplingError", "compute_deterministics",
           "compute_log_likelihood", "compute_log_prior", "default_chain_method", "sample"]

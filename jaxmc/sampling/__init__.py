"""`pm.sample` and what it is made of: settings, start points, compiled programs, the driver that runs them,
the progress bar, convergence checks and the log likelihood of the draws."""

from jaxmc.sampling.api import sample
from jaxmc.sampling.log_likelihood import compute_log_likelihood
from jaxmc.sampling.settings import CHAIN_METHODS, NUTS, SampleSettings, SamplingError, default_chain_method

__all__ = ["CHAIN_METHODS", "NUTS", "SampleSettings", "SamplingError", "compute_log_likelihood",
           "default_chain_method", "sample"]

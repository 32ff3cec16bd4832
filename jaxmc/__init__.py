"""jaxmc: PyMC-syntax Bayesian models and their NUTS sampler, compiled into one JAX program."""

from jaxmc import xla  # noqa: F401  (XLA_FLAGS and float64, before anything else touches JAX)
from jaxmc import config  # noqa: F401
from jaxmc import exceptions  # noqa: F401
from jaxmc import math
from jaxmc.config import floatX, set_floatX
from jaxmc.distributions import *  # noqa: F401,F403
from jaxmc.distributions import transforms
from jaxmc.graph import draw
from jaxmc.predictive import sample_posterior_predictive, sample_prior_predictive
from jaxmc.logprob import logcdf, logp
from jaxmc.math import expand_packed_triangular
from jaxmc.model import Data, Deterministic, Model, Potential, modelcontext, set_data
from jaxmc.sampling import NUTS, SamplingError, compute_log_likelihood, sample
from jaxmc import ode
from jaxmc.scan import scan
from jaxmc.wrap import wrap_jax

from jaxmc.version import __version__  # noqa: E402,F401


"""jaxmc: PyMC-syntax Bayesian models and their NUTS sampler, compiled into one JAX program."""

from jaxmc import xla  # noqa: F401  (XLA_FLAGS and float64, before anything else touches JAX)
from jaxmc import config  # noqa: F401
from jaxmc import exceptions  # noqa: F401
from jaxmc import math
from jaxmc.config import set_floatX
from jaxmc.distributions import *  # noqa: F401,F403
from jaxmc.distributions import transforms
from jaxmc.graph import draw
from jaxmc.predictive import sample_posterior_predictive, sample_prior_predictive
from jaxmc.logprob import icdf, logcdf, logp
from jaxmc.math import expand_packed_triangular
from jaxmc.model import Data, Deterministic, Model, Potential, modelcontext, set_data
from jaxmc.model import compile_fn, do, observe
from jaxmc.model_graph import model_to_graphviz, model_to_mermaid, model_to_networkx
from jaxmc.sampling import NUTS, SamplingError, compute_log_likelihood, sample
from jaxmc.sampling import compute_deterministics, compute_log_prior
from jaxmc import step_methods
from jaxmc import distributed  # noqa: F401  (jaxmc.distributed.initialize: several processes)
from jaxmc.step_methods import (BinaryGibbsMetropolis, BinaryMetropolis, CategoricalGibbsMetropolis,  # noqa: F401
                                CauchyProposal, CompoundStep, DEMetropolisZ, HamiltonianMC, LaplaceProposal,
                                Metropolis, MultivariateNormalProposal, NormalProposal, PoissonProposal, Slice,
                                UniformProposal)
from jaxmc.multitrace import predictions_to_inference_data, to_inference_data
from jaxmc.constrained_prior import find_constrained_prior
from jaxmc.tuning import find_hessian, find_MAP
from jaxmc import smc
from jaxmc.smc import sample_smc
from jaxmc import variational
from jaxmc.variational import (ADVI, ASVGD, SVGD, Empirical, FullRank, FullRankADVI, MeanField,  # noqa: F401
                               adadelta, adagrad, adagrad_window, adam, adamax, callbacks, fit, momentum,
                               nesterov_momentum, norm_constraint, rmsprop, sample_approx, sgd,
                               total_norm_constraint)
from jaxmc.model.minibatch import Minibatch
from jaxmc import ode
from jaxmc import gp
from jaxmc.scan import scan
from jaxmc.wrap import wrap_jax
from jaxmc import pytensor_interop  # noqa: F401  (pt.* on jaxmc variables; imports no PyTensor)

from jaxmc.version import __version__  # noqa: E402,F401

from jaxmc.pytensorf import floatX, intX  # noqa: E402  (PyMC's floatX(X) cast; floatX() is still the dtype)


def __getattr__(name):
    """PyMC 6 names jaxmc/__init__ does not define (jaxmc/pymc_names.py): ArviZ re-exports and relocated names
    resolve lazily; the rest raise NotImplementedError naming the alternative; non-PyMC names AttributeError."""
    from jaxmc import pymc_names

    return pymc_names.resolve(name)


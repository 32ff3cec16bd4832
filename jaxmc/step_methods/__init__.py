"""PyMC's step methods as pure kernels that the compiled sampler composes: NUTS, HamiltonianMC, Metropolis,
DEMetropolisZ, Slice, the binary and categorical Gibbs steps, CompoundStep and the default assignment."""

from jaxmc.step_methods.base import BlockedStep, Kernel, Setup
from jaxmc.step_methods.compound import STEP_METHODS, Assigned, CompoundStep, assign, flatten, merge_stats
from jaxmc.step_methods.gibbs import BinaryGibbsMetropolis, BinaryMetropolis, CategoricalGibbsMetropolis
from jaxmc.step_methods.hmc import NUTS, HamiltonianMC
from jaxmc.step_methods.metropolis import (CauchyProposal, DEMetropolisZ, LaplaceProposal, Metropolis,
                                           MultivariateNormalProposal, NormalProposal, PoissonProposal, Proposal,
                                           UniformProposal)
from jaxmc.step_methods.slice import Slice

__all__ = ["Assigned", "BinaryGibbsMetropolis", "BinaryMetropolis", "BlockedStep", "CategoricalGibbsMetropolis",
           "CauchyProposal", "CompoundStep", "DEMetropolisZ", "HamiltonianMC", "Kernel", "LaplaceProposal",
           "Metropolis", "MultivariateNormalProposal", "NUTS", "NormalProposal", "PoissonProposal", "Proposal",
           "STEP_METHODS", "Setup", "Slice", "UniformProposal", "assign", "flatten", "merge_stats"]

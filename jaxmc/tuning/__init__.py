"""PyMC's pymc.tuning: find_MAP (compiled L-BFGS) and the Hessian helpers find_hessian, guess_scaling, trace_cov."""

from jaxmc.tuning.scaling import find_hessian, guess_scaling, trace_cov
from jaxmc.tuning.starting import find_MAP

__all__ = ["find_MAP", "find_hessian", "guess_scaling", "trace_cov"]

"""`pm.gp`: Gaussian processes with PyMC's API (covariances, means, Latent, Marginal, TP and the scalable
approximations), built on model expressions so that each GP compiles into the model's one JAX program."""

from jaxmc.gp import cov, mean, util
from jaxmc.gp.gp import TP, Latent, Marginal

__all__ = ["HSGP", "HSGPPeriodic", "Latent", "LatentKron", "Marginal", "MarginalApprox", "MarginalKron",
           "MarginalSparse", "TP", "cov", "hsgp_approx", "mean", "util"]

_LAZY = {"MarginalApprox": "sparse", "MarginalSparse": "sparse", "LatentKron": "kron", "MarginalKron": "kron",
         "HSGP": "hsgp_approx", "HSGPPeriodic": "hsgp_approx"}


def __getattr__(name):
    """The approximate GPs load on first use (their modules import what the exact ones do not need)."""
    import importlib

    if name == "hsgp_approx":
        return importlib.import_module("jaxmc.gp.hsgp_approx")
    if name in _LAZY:
        return getattr(importlib.import_module(f"jaxmc.gp.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'jaxmc.gp' has no attribute {name!r}")

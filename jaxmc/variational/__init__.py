"""Variational inference as PyMC's `pymc.variational`: `pm.fit`, ADVI, full-rank ADVI, SVGD, ASVGD, approximations,
optimisers and callbacks, each fit one compiled loop."""

from jaxmc.variational import approximations, callbacks, inference, stein, updates
from jaxmc.variational.approximations import Approximation, Empirical, FullRank, MeanField, sample_approx
from jaxmc.variational.inference import ADVI, ASVGD, SVGD, FullRankADVI, ImplicitGradient, Inference, KLqp, fit
from jaxmc.variational.stein import rbf
from jaxmc.variational.updates import (adadelta, adagrad, adagrad_window, adam, adamax, momentum, nesterov_momentum,
                                       norm_constraint, rmsprop, sgd, total_norm_constraint)

__all__ = ["ADVI", "ASVGD", "SVGD", "Approximation", "Empirical", "FullRank", "FullRankADVI", "ImplicitGradient",
           "Inference", "KLqp", "MeanField", "adadelta", "adagrad", "adagrad_window", "adam", "adamax",
           "approximations", "callbacks", "fit", "inference", "momentum", "nesterov_momentum", "norm_constraint",
           "rbf", "rmsprop", "sample_approx", "sgd", "stein", "total_norm_constraint", "updates"]

"""Warnings and errors under the names PyMC gives them in `pymc.exceptions`."""


class ShapeError(ValueError):
    """Shapes, dims or parameters of a variable disagree."""


class ImputationWarning(UserWarning):
    """Observed data had missing values that are imputed as free variables."""


class SamplingError(RuntimeError):
    """Sampling could not start or run (e.g. no finite initial point)."""


class ImplicitFreezeWarning(UserWarning):
    """`sample_posterior_predictive` reused a trace variable's values although something upstream of it (changed
    data or coords, or a re-drawn ancestor) is volatile; pass it in `sample_vars` to re-draw it, or in
    `freeze_vars` to keep its trace values silently."""

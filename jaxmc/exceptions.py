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


# The rest of `pymc.exceptions`, so that PyMC code catching them runs unchanged.
class ShapeWarning(UserWarning):
    """Something about a variable's shape is suspicious."""


class DtypeError(TypeError):
    """A value's dtype does not fit the variable."""


class IncorrectArgumentsError(ValueError):
    """A function got an invalid combination of arguments."""


class TraceDirectoryError(ValueError):
    """A trace directory is missing or invalid."""


class TruncationError(RuntimeError):
    """A truncated distribution could not be built or drawn."""


class NotConstantValueError(ValueError):
    """A value that must be constant depends on model variables."""


class BlockModelAccessError(RuntimeError):
    """A model was accessed where that is not allowed."""


class UndefinedMomentException(Exception):
    """A distribution's moment is not defined."""

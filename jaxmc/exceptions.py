"""Warnings and errors under the names PyMC gives them in `pymc.exceptions`."""


class ImplicitFreezeWarning(UserWarning):
    """`sample_posterior_predictive` reused a trace variable's values although something upstream of it (changed
    data or coords, or a re-drawn ancestor) is volatile; pass it in `sample_vars` to re-draw it, or in
    `freeze_vars` to keep its trace values silently."""

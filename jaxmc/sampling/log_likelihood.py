"""`pm.compute_log_likelihood`: pointwise log likelihood of the observed variables at posterior draws."""

from __future__ import annotations

from jaxmc.sampling.log_density import compute_log_density
from jaxmc.trace_draws import SAMPLE_DIMS


def compute_log_likelihood(idata, var_names=None, extend_inferencedata: bool = True, model=None,
                           progressbar: bool = False, sample_dims=SAMPLE_DIMS, **kwargs):
    """Pointwise log likelihood of the observed variables for every posterior draw (PyMC's API): the
    `log_likelihood` group added to `idata`, or a Dataset when `extend_inferencedata=False`."""
    return compute_log_density(idata, var_names=var_names, extend_inferencedata=extend_inferencedata, model=model,
                               kind="likelihood", sample_dims=sample_dims, progressbar=progressbar, **kwargs)

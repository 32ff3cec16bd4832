"""`pm.compute_log_likelihood`: pointwise log likelihood of the observed variables at posterior draws."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import chunks, convert
from jaxmc.model import modelcontext
from jaxmc.progress import ProgressBar


def compute_log_likelihood(idata, var_names=None, extend_inferencedata: bool = True, model=None,
                           progressbar: bool = False):
    """Pointwise log likelihood of the observed variables for every posterior draw (PyMC's API)."""

    model = modelcontext(model)
    cm = model.compiled()
    names = [rv.name for rv in model.observed_RVs]
    if var_names is not None:
        bad = [n for n in var_names if n not in names]
        if bad:
            raise KeyError(f"compute_log_likelihood: {bad} are not observed variables; observed: {names}")
        names = list(var_names)
    values, (nchain, ndraw) = convert.posterior_values(idata, model)
    data = {k: jnp.asarray(v) for k, v in model.data_values().items()}
    fn = jax.jit(jax.vmap(lambda v, d: cm.loglik_from_values(v, d, tuple(names)), in_axes=(0, None)))
    n = nchain * ndraw
    flat = {k: v.reshape(n, *v.shape[2:]) for k, v in values.items()}
    one = jax.eval_shape(fn, {k: jax.ShapeDtypeStruct((1, *v.shape[1:]), v.dtype) for k, v in flat.items()}, data)
    size = chunks.rows_per_chunk(sum(a.size * a.dtype.itemsize for a in one.values()), n)
    out = {k: np.empty((n, *a.shape[1:]), a.dtype) for k, a in one.items()}
    with ProgressBar("log likelihood", n, progressbar) as bar:
        chunks.map_rows(lambda start, part: fn(part, data), flat, n, size, out, bar.update)
    ll = {k: v.reshape(nchain, ndraw, *v.shape[1:]) for k, v in out.items()}
    if not extend_inferencedata:
        return convert.to_inference_data(model, {"log_likelihood": ll})
    return convert.add_groups(idata, model, {"log_likelihood": ll})

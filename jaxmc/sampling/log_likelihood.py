"""`pm.compute_log_likelihood`: pointwise log likelihood of the observed variables at posterior draws."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.model import modelcontext


def compute_log_likelihood(idata, var_names=None, extend_inferencedata: bool = True, model=None,
                           progressbar: bool = False):
    """Pointwise log likelihood of the observed variables for every posterior draw (PyMC's API)."""
    from jaxmc import convert
    from jaxmc.forward import posterior_values

    model = modelcontext(model)
    cm = model.compiled()
    names = [rv.name for rv in model.observed_RVs]
    if var_names is not None:
        bad = [n for n in var_names if n not in names]
        if bad:
            raise KeyError(f"compute_log_likelihood: {bad} are not observed variables; observed: {names}")
        names = list(var_names)
    values, (nchain, ndraw) = posterior_values(idata, model)
    data = {k: jnp.asarray(v) for k, v in model.data_values().items()}
    fn = jax.jit(jax.vmap(lambda v: cm.loglik_from_values(v, data, tuple(names))))
    flat = {k: v.reshape(nchain * ndraw, *v.shape[2:]) for k, v in values.items()}
    out = _map_in_chunks(fn, flat, nchain * ndraw)
    ll = {k: v.reshape(nchain, ndraw, *v.shape[1:]) for k, v in out.items()}
    if not extend_inferencedata:
        return convert.to_inference_data(model, {"log_likelihood": ll})
    return convert.add_groups(idata, model, {"log_likelihood": ll})


def _map_in_chunks(fn, flat: dict, n: int, max_bytes: int = 256 * 2**20):
    """Apply a vmapped fn over the leading axis in chunks of bounded output size."""
    probe = jax.eval_shape(fn, {k: jax.ShapeDtypeStruct((1, *v.shape[1:]), v.dtype) for k, v in flat.items()})
    per_row = sum(int(np.prod(a.shape)) * a.dtype.itemsize for a in jax.tree_util.tree_leaves(probe))
    size = int(max(1, min(n, max_bytes // max(per_row, 1))))
    pieces = []
    for s in range(0, n, size):
        part = {k: v[s:s + size] for k, v in flat.items()}
        if s + size > n and s > 0:  # pad the last chunk: one compiled shape for all chunks
            pad = s + size - n
            part = {k: np.concatenate([v, np.repeat(v[-1:], pad, 0)]) for k, v in part.items()}
            res = jax.device_get(fn(part))
            res = {k: v[: size - pad] for k, v in res.items()}
        else:
            res = jax.device_get(fn(part))
        pieces.append(res)
    return {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}


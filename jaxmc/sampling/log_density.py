"""Pointwise log densities at posterior draws: `pm.compute_log_prior` (free variables) and the engine it shares
with `pm.compute_log_likelihood` (observed variables), as PyMC's `pymc.stats.log_density`."""

from __future__ import annotations

import jax
import numpy as np

from jaxmc import chunks, convert, sharding
from jaxmc.model import modelcontext
from jaxmc.progress import ProgressBar
from jaxmc.trace_draws import SAMPLE_DIMS, read_trace


def compute_log_density(idata, *, var_names=None, extend_inferencedata: bool = True, model=None,
                        kind: str = "likelihood", sample_dims=SAMPLE_DIMS, progressbar: bool = True,
                        shard_dim=None, devices=None, **kwargs):
    """Elementwise log density of the observed (`kind="likelihood"`) or free (`kind="prior"`) variables at every
    draw of `idata`'s posterior, in the constrained space and without Jacobian terms, as PyMC. Returns `idata`
    with a `log_<kind>` group when `extend_inferencedata` (and `idata` is ArviZ data), else an xarray Dataset.
    `shard_dim`/`devices` split the data over devices as in pm.sample (docs/scale.md)."""
    kwargs.pop("backend", None)
    kwargs.pop("compile_kwargs", None)
    if kwargs:
        raise TypeError(f"compute_log_{kind} got unknown keyword argument(s) {sorted(kwargs)}")
    if kind not in ("likelihood", "prior"):
        raise ValueError(f"kind must be either 'likelihood' or 'prior', found {kind!r}")
    model = modelcontext(model).root  # inside a sub-model's `with`: the whole model
    targets = [rv.name for rv in (model.observed_RVs if kind == "likelihood" else model.free_RVs)]
    if var_names is None:
        names = targets
    else:
        names = [var_names] if isinstance(var_names, str) else list(var_names)
        bad = [n for n in names if n not in targets]
        if bad:
            what = "observed_RVs" if kind == "likelihood" else "free_RVs"
            raise ValueError(f"var_names must refer to {what} in the model: {bad} are not; {what}: {targets}")
    draws = read_trace(idata, sample_dims, what=f"compute_log_{kind}", model=model)
    free = [rv.name for rv in model.free_RVs]
    missing = [n for n in free if n not in draws.values]
    if missing:
        raise KeyError(f"compute_log_{kind}: the posterior lacks free variable(s) {missing} of the model; sample "
                       "them (do not drop them with var_names) to use this trace")
    cm = model.compiled()
    data = sharding.placed_data(model, shard_dim, devices, f"compute_log_{kind}")
    fn = jax.jit(jax.vmap(lambda v, d: cm.loglik_from_values(v, d, tuple(names)), in_axes=(0, None)))
    n = draws.n
    flat = draws.flat(free)
    one = jax.eval_shape(fn, {k: jax.ShapeDtypeStruct((1, *v.shape[1:]), v.dtype) for k, v in flat.items()}, data)
    size = chunks.rows_per_chunk(sum(a.size * a.dtype.itemsize for a in one.values()), n)
    out = {k: np.empty((n, *a.shape[1:]), a.dtype) for k, a in one.items()}
    with ProgressBar(f"log {kind}", n, progressbar) as bar:
        chunks.map_rows(lambda start, part: fn(part, data), flat, n, size, out, bar.update)
    values = {k: out[k].reshape(*draws.sample_shape, *out[k].shape[1:]) for k in names}
    group = f"log_{kind}"
    sample = {"sample_dims_of": {group: draws.sample_dims}, "sample_coords": draws.sample_coords}
    if extend_inferencedata and draws.idata is not None:
        return convert.add_groups(draws.idata, model, {group: values}, **sample)
    return convert.group_dataset(convert.to_inference_data(model, {group: values}, **sample), group)


def compute_log_prior(idata, *, var_names=None, extend_inferencedata: bool = True, model=None,
                      sample_dims=SAMPLE_DIMS, progressbar: bool = True, **kwargs):
    """Elementwise log prior density of the free variables (or `var_names`) at every posterior draw (PyMC's
    API): the `log_prior` group added to `idata`, or a Dataset when `extend_inferencedata=False`."""
    return compute_log_density(idata, var_names=var_names, extend_inferencedata=extend_inferencedata, model=model,
                               kind="prior", sample_dims=sample_dims, progressbar=progressbar, **kwargs)

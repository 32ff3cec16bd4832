"""`pm.compute_deterministics`: the model's deterministics recomputed at every draw of a dataset of free
variables (PyMC's `pymc.sampling.deterministic`)."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import chunks, convert
from jaxmc.graph import evaluate
from jaxmc.model import modelcontext
from jaxmc.progress import ProgressBar
from jaxmc.trace_draws import SAMPLE_DIMS, read_trace


def _select_group(dataset, group):
    """The group to read when whole ArviZ data are passed: `group`, else "posterior", else "prior"."""
    is_idata = type(dataset).__name__ == "InferenceData" or bool(getattr(dataset, "children", None))
    if not is_idata:
        if group is not None:
            raise ValueError("The `group` argument can only be used when passing a whole InferenceData object, "
                             "not a single group.")
        return dataset
    groups = convert.group_names(dataset)
    if group is None:
        group = next((g for g in ("posterior", "prior") if g in groups), None)
        if group is None:
            raise ValueError("InferenceData has neither a `posterior` nor a `prior` group. Pass `group` "
                             f"explicitly, one of: {sorted(groups)}")
    elif group not in groups:
        raise ValueError(f"InferenceData has no group {group!r}. Available groups: {sorted(groups)}")
    return dataset[group] if not type(dataset).__name__ == "InferenceData" else getattr(dataset, group)


def compute_deterministics(dataset, *, group=None, var_names=None, model=None, sample_dims=SAMPLE_DIMS,
                           merge_dataset: bool = False, extend_dataset: bool = False, progressbar: bool = True,
                           **kwargs):
    """Deterministics (all, or `var_names`) at every draw of `dataset` (e.g. `idata.posterior`, or whole ArviZ data
    with `group`), from its free variables and the current data: a new Dataset; with `merge_dataset` the input's
    variables too (deprecated in PyMC 6); with `extend_dataset` added to the input, which is returned."""
    kwargs.pop("backend", None)
    kwargs.pop("compile_kwargs", None)
    if kwargs:
        raise TypeError(f"compute_deterministics got unknown keyword argument(s) {sorted(kwargs)}")
    if merge_dataset and extend_dataset:
        raise ValueError("`merge_dataset` and `extend_dataset` cannot be combined. `extend_dataset` already keeps "
                         "the values of the original dataset.")
    if merge_dataset:
        warnings.warn("`merge_dataset` is deprecated and will be removed in a future release. Use "
                      "`extend_dataset=True` to add the deterministics to the original dataset, passing a "
                      "`.copy()` of it if it should not be mutated.", FutureWarning, stacklevel=2)
    original = dataset
    dataset = _select_group(dataset, group)
    model = modelcontext(model).root  # inside a sub-model's `with`: the whole model
    if var_names is None:
        dets = list(model.deterministics)
    else:
        names = [var_names] if isinstance(var_names, str) else list(var_names)
        bad = [n for n in names if n not in {d.name for d in model.deterministics}]
        if bad:
            raise ValueError(f"Not all var_names corresponded to model deterministics: {bad} are not; the model's "
                             f"deterministics: {[d.name for d in model.deterministics]}")
        dets = [model.named_vars[n] for n in names]
    ds = dataset.to_dataset() if hasattr(dataset, "to_dataset") else dataset
    draws = read_trace(ds, sample_dims, what="compute_deterministics", model=model)
    free = [rv.name for rv in model.free_RVs]
    missing = [n for n in free if n not in draws.values]
    if missing:
        raise KeyError(f"compute_deterministics: the dataset lacks free variable(s) {missing} of the model")
    cm = model.compiled()

    def one(values, data):
        env, _ = cm.walk(None, data, values=values)
        return {d.name: jnp.asarray(v) for d, v in zip(dets, evaluate(dets, env))}

    fn = jax.jit(jax.vmap(one, in_axes=(0, None)))
    data = {k: jnp.asarray(v) for k, v in model.data_values().items()}
    n, flat = draws.n, draws.flat(free)
    shapes = jax.eval_shape(fn, {k: jax.ShapeDtypeStruct((1, *v.shape[1:]), v.dtype) for k, v in flat.items()},
                            data)
    size = chunks.rows_per_chunk(sum(a.size * a.dtype.itemsize for a in shapes.values()), n)
    out = {k: np.empty((n, *a.shape[1:]), a.dtype) for k, a in shapes.items()}
    with ProgressBar("deterministics", n, progressbar) as bar:
        chunks.map_rows(lambda start, part: fn(part, data), flat, n, size, out, bar.update)
    values = {d.name: out[d.name].reshape(*draws.sample_shape, *out[d.name].shape[1:]) for d in dets}
    new = convert.dataset(model, values, draws.sample_dims, sample_coords=draws.sample_coords)
    new = new.assign_coords({d: ds[d] for d in draws.sample_dims if d in ds.coords})
    if extend_dataset:
        dataset.update(new)
        return original
    if merge_dataset:
        return _xarray().merge([ds, new], compat="override")
    return new


def _xarray():
    import xarray

    return xarray

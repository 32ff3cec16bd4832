"""Posterior draws from whatever PyMC accepts as a trace (ArviZ data, an xarray Dataset or DataTree group, a
MultiTrace, a list of points, a dict of arrays), as named arrays with their sample axes and the data stored."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from jaxmc import convert

SAMPLE_DIMS = ("chain", "draw")


class TraceDraws(NamedTuple):
    """Draws by name, each with leading axes `sample_shape` (one per name in `sample_dims`); the data stored with
    them (`constant_data`, `observed_data` by observed variable) and coordinates ({dim: labels}); `idata`: the
    whole ArviZ object when one was given (to extend), else None."""

    values: dict
    sample_dims: tuple
    sample_shape: tuple
    sample_coords: dict
    constant_data: dict
    observed_data: dict
    coords: dict
    idata: object

    @property
    def n(self) -> int:
        return int(np.prod(self.sample_shape, dtype=int))

    def flat(self, names) -> dict:
        """{name: draws with the sample axes flattened into one}."""
        k = len(self.sample_shape)
        return {n: self.values[n].reshape(self.n, *self.values[n].shape[k:]) for n in names}


def _xarray():
    import xarray  # imported when a trace is read, not with jaxmc

    return xarray


def _is_group_node(trace) -> bool:
    """An ArviZ 1.x group (`idata.posterior`): a DataTree node without children."""
    return isinstance(trace, _xarray().DataTree) and not trace.children


def _is_arviz_data(trace) -> bool:
    if type(trace).__name__ == "InferenceData":
        return True
    return isinstance(trace, _xarray().DataTree) and bool(trace.children)


def read_trace(trace, sample_dims=None, what: str = "sample_posterior_predictive", model=None) -> TraceDraws:
    """The draws of `trace` (see the module docstring); `sample_dims` name the sample axes of xarray input
    (default ("chain", "draw")); `model` lets a dict or list of points with a single draw axis be read."""
    if hasattr(trace, "get_values") and hasattr(trace, "chains") and hasattr(trace, "varnames"):  # MultiTrace
        values = {n: np.stack([np.asarray(trace.get_values(n, chains=c)) for c in trace.chains])
                  for n in trace.varnames}
        return _from_arrays(values, SAMPLE_DIMS, None, {}, {}, {})
    if isinstance(trace, dict):
        return _from_dict(trace, model, what)
    if isinstance(trace, (list, tuple)) and trace and all(isinstance(p, dict) for p in trace):
        names = list(trace[0])
        return _from_arrays({n: np.stack([np.asarray(p[n]) for p in trace])[None] for n in names},
                            SAMPLE_DIMS, None, {}, {}, {})
    if _is_arviz_data(trace):
        groups = set(convert.group_names(trace))
        if "posterior" not in groups:
            raise KeyError(f"{what}: the trace has no posterior group (groups: {sorted(groups)}); pass ArviZ data "
                           "from pm.sample, its posterior, a MultiTrace or a dict of arrays")
        const, obs, coords = {}, {}, {}
        for group, into in (("constant_data", const), ("observed_data", obs)):
            if group in groups:
                ds = convert.group_dataset(trace, group)
                into.update({str(k): np.asarray(v.values) for k, v in ds.data_vars.items()})
                if group == "constant_data":
                    coords.update({str(k): np.asarray(v.values) for k, v in ds.coords.items()})
        return _from_dataset(convert.group_dataset(trace, "posterior"), sample_dims, const, obs, coords, trace,
                             what)
    xr = _xarray()
    if _is_group_node(trace):
        return _from_dataset(trace.to_dataset(), sample_dims, {}, {}, {}, None, what)
    if isinstance(trace, xr.Dataset):
        return _from_dataset(trace, sample_dims, {}, {}, {}, None, what)
    raise TypeError(f"{what}: unsupported trace of type {type(trace).__name__}; pass ArviZ data (InferenceData or "
                    "DataTree), its posterior (an xarray Dataset or DataTree group), a MultiTrace "
                    "(pm.sample(return_inferencedata=False)), a list of points or a dict of arrays")


def _from_dataset(ds, sample_dims, const, obs, coords, idata, what) -> TraceDraws:
    sample_dims = tuple(sample_dims) if sample_dims is not None else SAMPLE_DIMS
    missing = [d for d in sample_dims if d not in ds.dims]
    if missing:
        raise ValueError(f"{what}: the trace's posterior has no dim(s) {missing} (its dims: {sorted(map(str, ds.dims))});"
                         f" pass sample_dims=[...] naming its sample dims")
    values = {str(k): np.asarray(v.transpose(*sample_dims, ...).values) for k, v in ds.data_vars.items()}
    coords = dict(coords)
    coords.update({str(k): np.asarray(v.values) for k, v in ds.coords.items() if str(k) not in sample_dims
                   and v.ndim == 1})
    sample_coords = {}
    for d in sample_dims:
        labels = np.asarray(ds[d].values) if d in ds.coords else None
        sample_coords[d] = labels if labels is not None and labels.dtype != object else None
    return _from_arrays(values, sample_dims, sample_coords, const, obs, coords, idata,
                        shape=tuple(int(ds.sizes[d]) for d in sample_dims))


def _from_dict(trace: dict, model, what) -> TraceDraws:
    """{name: array} with leading (chain, draw) axes; a single leading draw axis where the model's variable of
    that name shows it (its own number of dimensions plus one)."""
    values = {}
    for name, arr in trace.items():
        arr = np.asarray(arr)
        node = model.named_vars.get(name) if model is not None else None
        if node is not None and arr.ndim == node.ndim + 1:
            arr = arr[None]
        elif node is not None and arr.ndim != node.ndim + 2:
            raise ValueError(f"{what}: trace[{name!r}] has shape {arr.shape}, but {name!r} has shape "
                             f"{node.shape} in the model; give arrays of shape (chain, draw, *{node.shape})")
        values[name] = arr
    shapes = {k: v.shape[:2] for k, v in values.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"{what}: the trace's arrays have different (chain, draw) shapes {shapes}")
    return _from_arrays(values, SAMPLE_DIMS, None, {}, {}, {})


def _from_arrays(values, sample_dims, sample_coords, const, obs, coords, idata=None, shape=None) -> TraceDraws:
    if shape is None:
        first = next(iter(values.values()), np.zeros((1, 0)))
        shape = tuple(first.shape[:len(sample_dims)])
    sample_coords = sample_coords or {d: None for d in sample_dims}
    return TraceDraws(values, tuple(sample_dims), tuple(shape), sample_coords, const, obs, coords, idata)

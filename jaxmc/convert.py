"""The one converter to ArviZ: `InferenceData` with arviz < 1, `xarray.DataTree` with arviz >= 1, and the few
calls that read or make either kind the same way (`group_names`, `group_dataset`, `from_dict`)."""

from __future__ import annotations

import datetime
import functools
import warnings

import numpy as np

SAMPLE_DIMS = ("chain", "draw")


@functools.lru_cache(maxsize=None)
def arviz_major() -> int:
    """ArviZ's major version: 0 (results are `InferenceData`) or 1 and later (`xarray.DataTree`)."""
    return int(_arviz_version().split(".")[0])


@functools.lru_cache(maxsize=None)
def _arviz_version() -> str:
    from importlib.metadata import version

    return version("arviz")


def import_arviz():
    """`import arviz`, without ArviZ 0.x's once-a-day notice of its coming 1.0 refactor (a FutureWarning a
    user cannot act on: jaxmc works with both)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing a major refactor",
                                category=FutureWarning)
        import arviz
    return arviz


def _xarray():
    import xarray  # imported when results are made or read, not with jaxmc (it brings pandas along)

    return xarray


def group_names(idata) -> list[str]:
    """The groups of an InferenceData or DataTree, by name ("posterior", "sample_stats", ...)."""
    if isinstance(idata, _xarray().DataTree):
        return list(idata.children)
    return list(idata.groups())


def from_dict(groups: dict[str, dict], **kwargs):
    """`az.from_dict` on either ArviZ: groups {name: {var: array}}; `coords`/`dims` for every group (ArviZ 1.x
    takes a predictions group's as `pred_coords`/`pred_dims`, done here)."""
    az = import_arviz()
    if arviz_major() < 1:
        return az.from_dict(**groups, **kwargs)
    if "predictions" in groups:
        kwargs = {(f"pred_{k}" if k in ("coords", "dims") else k): v for k, v in kwargs.items()}
    return az.from_dict(groups, **kwargs)


def group_dataset(idata, group: str):
    """One group of an InferenceData or DataTree as an `xarray.Dataset` (so `ds[["a", "b"]]` works on both)."""
    tree = _xarray().DataTree
    node = idata[group] if isinstance(idata, tree) else getattr(idata, group)
    return node.to_dataset() if isinstance(node, tree) else node


def var_dims(model, name, ndim) -> list[str]:
    """Dim names of a variable's own axes: the model's dims, else `<name>_dim_<i>` (ArviZ's default)."""
    dims = list(model.named_vars_to_dims.get(name) or [])
    if len(dims) != ndim:
        dims = [None] * ndim
    return [d if d is not None else f"{name}_dim_{i}" for i, d in enumerate(dims)]


def dataset(model, values: dict, sample_dims=SAMPLE_DIMS, attrs=None, dims_of=None, sample_coords=None,
            coords_of=None):
    """xarray Dataset of arrays whose leading axes are `sample_dims`, with the model's coords (those in
    `coords_of` {dim: labels} first; the sample dims' labels from `sample_coords` {dim: labels or None}, else 0,
    1, ...)."""
    data_vars, coords = {}, {}
    for name, arr in values.items():
        arr = np.asarray(arr)
        own = arr.ndim - len(sample_dims)
        dims = (dims_of or {}).get(name) or var_dims(model, name, own)
        for d, n in zip(dims, arr.shape[len(sample_dims):]):
            if d in coords:
                continue
            vals = (coords_of or {}).get(d)
            if vals is None:
                vals = model.coords.get(d) if d in model.coords else None
            coords[d] = np.asarray(vals) if vals is not None and len(vals) == n else np.arange(n)
        data_vars[name] = (tuple(sample_dims) + tuple(dims), arr)
    for d, n in zip(sample_dims, next(iter(values.values())).shape if values else ()):
        labels = (sample_coords or {}).get(d)
        coords[d] = np.asarray(labels) if labels is not None and len(labels) == n else np.arange(n)
    ds = _xarray().Dataset(data_vars, coords=coords)
    ds.attrs.update(base_attrs())
    ds.attrs.update(attrs or {})
    return ds


#: `idata_kwargs` keys of PyMC's `to_inference_data` that jaxmc has no use for: accepted at the value that means
#: "off", refused otherwise
IDATA_KWARGS_OFF = {"include_transformed": False, "log_prior": False, "prior": None, "posterior_predictive": None,
                    "model": None}


def check_idata_kwargs(idata_kwargs, where: str, accepted=("coords", "dims")) -> dict:
    """`idata_kwargs` as a dict whose keys are `accepted` (or PyMC's keys of `IDATA_KWARGS_OFF` left off); an
    unknown key raises TypeError naming it (with the nearest accepted one), a PyMC key jaxmc cannot honour
    raises ValueError."""
    import difflib

    if idata_kwargs is None:
        return {}
    if not isinstance(idata_kwargs, dict):
        raise TypeError(f"{where}(idata_kwargs=...) must be a dict, found {type(idata_kwargs).__name__}")
    out = {}
    for key, value in idata_kwargs.items():
        if key in accepted:
            out[key] = value
        elif key in IDATA_KWARGS_OFF:
            if key != "model" and (value is not None if IDATA_KWARGS_OFF[key] is None else bool(value)):
                raise ValueError(f"{where}(idata_kwargs={{{key!r}: {value!r}}}) is not supported by jaxmc; "
                                 f"it accepts {list(accepted)}")
        else:
            near = difflib.get_close_matches(str(key), [*accepted, *IDATA_KWARGS_OFF], n=1)
            hint = f" Did you mean {near[0]!r}?" if near else ""
            raise TypeError(f"{where}(idata_kwargs=...) got unknown key {key!r}; accepted: {list(accepted)}.{hint}")
    for key in ("coords", "dims"):
        if out.get(key) is not None and not isinstance(out[key], dict):
            raise TypeError(f"{where}(idata_kwargs={{{key!r}: ...}}) must be a dict, found "
                            f"{type(out[key]).__name__}")
    return out


def base_attrs() -> dict:
    from jaxmc.version import __version__

    return {
        "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "arviz_version": _arviz_version(),
        "inference_library": "jaxmc",
        "inference_library_version": __version__,
    }


def observed_data(model) -> dict:
    out = {}
    for rv in model.observed_RVs:
        obs = rv.observed
        if obs.kind == "data":
            out[rv.name] = np.asarray(model.data.value(obs.name))
    return out


def constant_data(model) -> dict:
    observed_keys = {rv.observed.name for rv in model.observed_RVs if rv.observed.kind == "data"}
    return {n.name: np.asarray(model.data.value(n.name)) for n in model.data_vars
            if n.name not in observed_keys}


def to_inference_data(model, groups: dict[str, dict], attrs=None, sample_dims_of=None, sample_coords=None,
                      coords=None, dims=None):
    """Assemble groups {group name: {var: array}} into ArviZ data.

    Groups without sample dims (observed_data, constant_data, predictions_constant_data) are stored as
    they are; the rest have leading (chain, draw) axes. `coords` {dim: labels} and `dims` {var: [dim, ...]}
    add to (and take precedence over) the model's.
    """
    datasets = {}
    for group, values in groups.items():
        if values is None or (not values and group not in ("posterior",)):
            continue
        sdims = () if group in ("observed_data", "constant_data", "predictions_constant_data") else SAMPLE_DIMS
        if sample_dims_of and group in sample_dims_of:
            sdims = sample_dims_of[group]
        dims_of = {k: list(v) for k, v in (dims or {}).items()}
        if group == "sample_stats" or group == "warmup_sample_stats":
            dims_of = {k: [] for k in values}
        datasets[group] = dataset(model, values, sdims, attrs=attrs if sdims else None, dims_of=dims_of,
                                  sample_coords=sample_coords, coords_of=coords)
    if arviz_major() >= 1:
        return _xarray().DataTree.from_dict({f"/{k}": v for k, v in datasets.items()})
    return import_arviz().InferenceData(**datasets)


def add_groups(idata, model, groups: dict[str, dict], attrs=None, sample_dims_of=None, sample_coords=None,
               coords=None, dims=None):
    """Add (or replace) groups of an existing InferenceData / DataTree."""
    new = to_inference_data(model, groups, attrs=attrs, sample_dims_of=sample_dims_of, sample_coords=sample_coords,
                            coords=coords, dims=dims)
    if arviz_major() >= 1:
        for name in new.children:
            idata[name] = new[name]
        return idata
    idata.extend(new, join="right")  # new groups replace those of the same name
    return idata


def posterior_values(idata, model, names=None):
    """Free variables' draws from an InferenceData/DataTree posterior: ({name: (chain, draw, ...)}, (C, D))."""
    post = group_dataset(idata, "posterior")
    names = names or [rv.name for rv in model.free_RVs]
    missing = [n for n in names if n not in post]
    if missing:
        raise KeyError(f"The posterior lacks free variable(s) {missing} of the model; sample them (do not "
                       "drop them with var_names) to use this trace")
    values = {n: np.asarray(post[n].values) for n in names}
    first = next(iter(values.values())) if values else np.zeros((1, 1))
    return values, first.shape[:2]

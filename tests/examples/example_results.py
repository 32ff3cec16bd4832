"""The common tail of the example scripts: posterior (or prior) summaries written to a JSON file.

Works with ArviZ 0.x (InferenceData) and 1.x (DataTree) and with PyMC or jaxmc results. Keys are
"<model>/<var>[i,j]" with positional indices, so results of both libraries line up element by element.
"""

import json
import math

import numpy as np

COLUMNS = ("mean", "sd", "mcse_mean", "mcse_sd", "ess_bulk", "r_hat")


def _group(data, name):
    """The named group of an InferenceData or DataTree as an xarray Dataset, or None when absent."""
    try:
        group = data[name]
    except (KeyError, TypeError, AttributeError):
        group = getattr(data, name, None)
    if group is None:
        return None
    import xarray as xr

    if not isinstance(group, xr.Dataset):
        group = group.to_dataset()
    return group


def _positional(dataset, var_names):
    """Numeric variables only, with every coordinate dropped: labels become positional indices."""
    keep = [
        name for name in dataset.data_vars
        if (var_names is None or name in var_names) and np.issubdtype(dataset[name].dtype, np.number)
    ]
    dataset = dataset[keep]
    dataset = dataset.drop_vars(list(dataset.coords))
    return dataset.astype("float64")


def _label(index_label):
    """ArviZ writes `x[0, 1]` (0.x) or `x[0,1]`-like labels; normalise to `x[0,1]`."""
    return str(index_label).replace(" ", "")


def summarize(data, group="posterior", var_names=None):
    """{label: {mean, sd, mcse_mean, mcse_sd, ess_bulk, r_hat}} for every element of every numeric variable."""
    import arviz as az

    dataset = _group(data, group)
    if dataset is None:
        raise KeyError(f"the results have no {group!r} group")
    dataset = _positional(dataset, var_names)
    table = az.summary(dataset, kind="all", round_to="none")
    out = {}
    for label, row in table.iterrows():
        out[_label(label)] = {
            col: (float(row[col]) if col in row and math.isfinite(float(row[col])) else None) for col in COLUMNS
        }
    return out


def divergences(data):
    """Number of divergent transitions in the sample stats (0 when there are none recorded)."""
    stats = _group(data, "sample_stats")
    if stats is None or "diverging" not in stats:
        return 0
    return int(np.asarray(stats["diverging"]).sum())


def write_results(path, results, group="posterior", var_names=None):
    """Write `{"variables": {...}, "divergences": {...}}` for a dict {model name: ArviZ data} to `path`.

    `group` may be "prior" for notebooks that only draw from the prior (independent draws, one chain); a value
    (data, group) in `results` names the group for that entry (e.g. (idata, "predictions")).
    """
    variables, divs = {}, {}
    for model_name, data in results.items():
        names = var_names.get(model_name) if isinstance(var_names, dict) else var_names
        data, data_group = data if isinstance(data, tuple) else (data, group)
        for label, row in summarize(data, group=data_group, var_names=names).items():
            variables[f"{model_name}/{label}"] = row
        if data_group == "posterior":
            divs[model_name] = divergences(data)
    with open(path, "w") as fh:
        json.dump({"group": group, "variables": variables, "divergences": divs}, fh, indent=0, sort_keys=True)
    return variables


def extend(data, other, **kwargs):
    """`data.extend(other)` on ArviZ 0.x InferenceData; the same (groups of `other` added) on a 1.x DataTree."""
    if hasattr(data, "extend"):
        data.extend(other, **kwargs)
        return data
    for name, child in other.children.items():
        if name not in data.children or kwargs.get("join") == "right":
            data[name] = child
    return data

"""The model's data: `DataStore` owns the current values of `pm.Data` containers and observed values (the
arguments of every compiled program); `pm.Data` adds one and `pm.set_data` replaces values, with PyMC's checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.graph import TensorVariable
from jaxmc.graph.index_bounds import check_data_indices
from jaxmc.model.context import modelcontext
from jaxmc.model.coords import coord_values
from jaxmc.model.shapes import follow_data_lengths


class DataStore:
    """Values by key, a `pm.Data` container's name or `observed_key(name)` for an observed variable's values,
    and the graph node of each. `values()` is what compiled programs take as their data argument; `env(data)`
    turns that argument back into values of the nodes, for evaluating the graph inside a program."""

    def __init__(self):
        self._values: dict[str, np.ndarray] = {}
        self.nodes: list[TensorVariable] = []

    def add(self, key: str, value: np.ndarray, node: TensorVariable) -> None:
        if key in self._values:
            raise ValueError(f"data {key!r} is already in the model")
        self._values[key] = value
        self.nodes.append(node)

    def env(self, data: dict) -> dict:
        """{data node: its value in `data` as a JAX array} (`data`: a program's data argument, keyed like
        `values()`)."""
        return {n: jnp.asarray(data[n.name]) for n in self.nodes}

    def value(self, key: str) -> np.ndarray:
        return self._values[key]

    def values(self) -> dict[str, np.ndarray]:
        """Current values of every data argument, by key (a copy of the mapping; the arrays are shared)."""
        return dict(self._values)

    def replace(self, new: dict[str, np.ndarray]) -> None:
        """New values for existing keys (checked by `set_data` before)."""
        unknown = [k for k in new if k not in self._values]
        if unknown:
            raise KeyError(f"no data {unknown} in the model")
        self._values.update(new)


def observed_key(name: str) -> str:
    """The data key of the observed values of variable `name`."""
    return f"{name}__observed_values"


def as_data_array(name, value) -> np.ndarray:
    """A pm.Data value as a numpy array: floats as floatX, integers as intX; anything else is refused."""
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Data {name!r} must be numeric, found dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        arr = arr.astype(config.floatX())
    elif arr.dtype.kind in "iu":
        arr = config.as_intX(arr, f"Data {name!r}")
    return arr


def Data(name: str, value, *, dims=None, coords=None, model=None, **kwargs) -> TensorVariable:
    """A data container whose value can change with `pm.set_data` (it is an argument of compiled code);
    `infer_dims_and_coords=True` takes the coords of its dims from a pandas index and columns, as PyMC."""
    kwargs.pop("mutable", None)
    infer = bool(kwargs.pop("infer_dims_and_coords", False))
    if kwargs:
        raise TypeError(f"pm.Data({name!r}): unknown keyword argument(s) {sorted(kwargs)}; "
                        "accepted: value, dims, coords, model")
    try:
        model = modelcontext(model)
    except TypeError:
        raise TypeError(f"Data {name!r} was created outside a model: create it inside `with pm.Model():`") \
            from None
    if isinstance(dims, str):
        dims = (dims,)
    dims = tuple(dims) if dims is not None else None
    if coords:
        model.add_coords(coords)
    arr = as_data_array(name, value)
    if dims is not None:
        if len(dims) != arr.ndim:
            raise ValueError(f"Data {name!r}: dims {dims} have {len(dims)} entries but the value has "
                             f"{arr.ndim} dimensions (shape {arr.shape}). Give one dim name per axis.")
        # with infer_dims_and_coords=True (as PyMC), pandas index/columns become coords of dims that have none
        labels = []
        if infer and hasattr(value, "index") and hasattr(value, "to_numpy"):  # (a list has .index too)
            labels.append(value.index)
        if infer and hasattr(value, "columns"):
            labels.append(value.columns)
        for d, lab in zip(dims, labels):
            if d is not None and model.coords.get(d) is None and d not in model.dim_lengths:
                model.add_coord(d, lab)
        for d, n in zip(dims, arr.shape):
            if d is not None and d in model.dim_lengths and model.dim_lengths[d] != n:
                raise ValueError(f"Data {name!r}: dim {d!r} has length {model.dim_lengths[d]} in the model's "
                                 f"coords but the value's axis has length {n} (value shape {arr.shape})")
    return model.register_data(name, arr, dims)


def set_data(new_data: dict, model=None, *, coords=None):
    """Replace data values (PyMC's checks: a changed dim length needs new coords when it had coords)."""
    model = modelcontext(model)
    coords = dict(coords or {})
    for k, v in coords.items():
        if hasattr(v, "to_numpy"):
            coords[k] = v.to_numpy()
    new_lengths: dict[str, int] = {}
    prepared = {}
    for name, value in new_data.items():
        node = model.named_vars.get(name)
        if node is None or node.kind != "data":
            known = [n.name for n in model.data_vars]
            raise KeyError(f"set_data: {name!r} is not a pm.Data variable of the model; data: {known}")
        old = model.data.value(name)
        raw = np.asarray(value.to_numpy() if hasattr(value, "to_numpy") else value)
        arr = as_data_array(name, value)
        if old.dtype.kind in "iu" and arr.dtype.kind == "f":
            if not np.all(np.mod(raw, 1) == 0):
                raise TypeError(f"set_data: {name!r} holds integers; new values are not integers")
            arr = config.as_intX(raw, f"set_data: {name!r}").astype(old.dtype)  # (not via floatX: exact)
        elif old.dtype.kind == "f":
            arr = arr.astype(old.dtype)
        if arr.ndim != old.ndim:
            raise ValueError(f"set_data: {name!r} has {old.ndim} dimensions, new value has {arr.ndim} "
                             f"(shape {arr.shape})")
        for axis, d in enumerate(node.dims or ()):
            if d is None:
                continue
            n = arr.shape[axis]
            if d in new_lengths and new_lengths[d] != n:
                raise ValueError(f"set_data: dim {d!r} gets length {new_lengths[d]} from one variable and "
                                 f"{n} from {name!r}")
            new_lengths[d] = n
        prepared[name] = arr
    unused = [d for d in coords if d not in new_lengths  # (the labels it has already: nothing changes)
              and (model.coords.get(d) is None or coord_values(d, coords[d]) != tuple(model.coords[d]))]
    if unused:
        raise ValueError(
            f"set_data: coords for dim(s) {unused} that none of the new values {sorted(new_data)} has (their dims: "
            f"{sorted(new_lengths)}). Coordinates change together with the data along them: set the data on "
            f"those dims in the same call, or use model.set_dim for a dim that no pm.Data defines.")
    for d, n in new_lengths.items():
        old_n = model.dim_lengths.get(d)
        if d in coords:
            if len(coords[d]) != n:
                raise ValueError(f"set_data: coords for dim {d!r} have {len(coords[d])} values but the new "
                                 f"data have length {n} along it")
        elif old_n != n and model.coords.get(d) is not None:
            raise ValueError(
                f"set_data: dim {d!r} changes length from {old_n} to {n}, but it has coordinate values; "
                f"pass new ones: pm.set_data(..., coords={{{d!r}: new_values}})"
            )
    # every other data variable on a resized dim must be resized in the same call, except observed data: as in
    # PyMC, predictions for new rows may leave it as it was (the observed variable's shape follows its dims)
    observed_data = {rv.observed.name for rv in model.observed_RVs if rv.observed.kind == "data"}
    for node in model.data_vars:
        if node.name in prepared or not node.dims or node.name in observed_data:
            continue
        for axis, d in enumerate(node.dims):
            if d in new_lengths and model.data.value(node.name).shape[axis] != new_lengths[d]:
                raise ValueError(
                    f"set_data: dim {d!r} now has length {new_lengths[d]} but data {node.name!r} still has "
                    f"length {model.data.value(node.name).shape[axis]} along it; set it in the same call"
                )
    resized = follow_data_lengths(model, prepared)  # variables given shape=X.shape follow X (PyMC)
    check_indices(model, prepared, {**model.dim_lengths, **new_lengths}, dict(resized))
    model.data.replace(prepared)
    for rv, shape in resized:
        _resize(model, rv, shape)
    for d, n in new_lengths.items():
        if d in coords:
            model.coords[d] = coord_values(d, coords[d])
        elif model.dim_lengths.get(d) != n:
            model.coords[d] = None
        model.dim_lengths[d] = n


def check_indices(model, new_values: dict | None = None, dim_lengths: dict | None = None,
                  rv_shapes: dict | None = None, prefix: str = "set_data: ") -> None:
    """Integer indices held in data must stay in range (JAX would clamp them) with `new_values` ({name: value},
    the others as they are), `dim_lengths` (default: the model's) and `rv_shapes` ({variable: new shape})."""
    new_values = new_values or {}
    values = {n: new_values.get(n.name, model.data.value(n.name)) for n in model.data.nodes}
    roots = [*model.basic_RVs, *model.deterministics, *model.potentials, *model.named_vars.values()]
    check_data_indices(roots, values, dict(model.dim_lengths) if dim_lengths is None else dim_lengths,
                       rv_shapes, prefix=prefix)


def _resize(model, rv, shape: tuple) -> None:
    """Give random variable `rv` (its shape= read from a pm.Data's shape) the data's new length; compiled
    programs are dropped, as the free variables' layout may change."""
    rv.aval = jax.ShapeDtypeStruct(shape, rv.dtype)
    dist = rv.owner
    dist.shape, dist.batch_shape = shape, shape[:len(shape) - dist.ndim_supp]
    rv.shape_follows_data = True  # (read where shapes are decided: its shape, not its observed data's)
    model.rvs_to_initial_values.pop(rv, None)
    model.graph_version += 1

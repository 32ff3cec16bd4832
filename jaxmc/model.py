"""The `Model` context and its registries (variables, data, coords, dims), with PyMC's API and checks."""

from __future__ import annotations

import threading
import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.graph import TensorVariable, ancestors, toposort

_UNSET = object()
_stack = threading.local()


class ImputationWarning(UserWarning):
    """Observed data had missing values that are imputed as free variables."""


def _models() -> list:
    if not hasattr(_stack, "models"):
        _stack.models = []
    return _stack.models


def modelcontext(model=None) -> "Model":
    """The given model, or the innermost one of the `with` stack."""
    if model is not None:
        return model
    models = _models()
    if not models:
        raise TypeError("No model on context stack: use `with pm.Model() as model:` (or pass model=).")
    return models[-1]


class ValueVar(NamedTuple):
    """A value variable: what the sampler sees for a free RV (PyMC's `x_log__` names)."""

    name: str
    rv: TensorVariable
    transform: Any
    shape: tuple  # unconstrained shape

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=int))


class Model:
    """Container of a Bayesian model; use as a context manager (`with pm.Model(coords=...) as model:`)."""

    def __init__(self, name: str = "", coords: dict | None = None, check_bounds: bool = True, *,
                 model=None):
        self.name = name
        self.check_bounds = check_bounds
        self.coords: dict[str, tuple | None] = {}
        self.dim_lengths: dict[str, int] = {}
        self.named_vars: dict[str, TensorVariable] = {}
        self.named_vars_to_dims: dict[str, tuple] = {}
        self.deterministics: list[TensorVariable] = []
        self.potentials: list[TensorVariable] = []
        self.data_vars: list[TensorVariable] = []
        self.rvs_to_transforms: dict[TensorVariable, Any] = {}
        self.rvs_to_initial_values: dict[TensorVariable, Any] = {}
        self.rvs_to_total_sizes: dict[TensorVariable, Any] = {}
        self._rvs: list[TensorVariable] = []
        self._data_values: dict[str, np.ndarray] = {}
        self._version = 0
        self._compiled: dict = {}
        if coords:
            self.add_coords(coords)

    # ------------------------------------------------------------------ context
    def __enter__(self):
        _models().append(self)
        return self

    def __exit__(self, *exc):
        _models().pop()

    # ------------------------------------------------------------------ coords
    def add_coord(self, name: str, values=None, mutable=None, *, length=None):
        """Register dim `name` with coordinate values (list, array, pandas Index) or just a length."""
        if values is None and length is None:
            raise ValueError(f"add_coord({name!r}): give coordinate values or a length")
        if values is not None:
            if hasattr(values, "to_numpy"):
                values = values.to_numpy()
            values = tuple(np.asarray(values).tolist()) if not isinstance(values, tuple) else values
            if length is not None and len(values) != length:
                raise ValueError(f"add_coord({name!r}): {len(values)} values but length={length}")
            length = len(values)
        if name in self.coords and self.coords[name] is not None and values is not None \
                and tuple(self.coords[name]) != tuple(values):
            raise ValueError(f"Duplicate and incompatible coordinate {name!r}: it already has "
                             f"{len(self.coords[name])} values; use set_data(..., coords=) to change it")
        self.coords[name] = values
        self.dim_lengths[name] = int(length)

    def add_coords(self, coords: dict, *, lengths=None):
        for name, values in (coords or {}).items():
            self.add_coord(name, values)
        for name, length in (lengths or {}).items():
            self.add_coord(name, length=length)

    # ------------------------------------------------------------------ registries
    @property
    def free_RVs(self) -> list[TensorVariable]:
        return [rv for rv in self._rvs if rv.observed is None]

    @property
    def observed_RVs(self) -> list[TensorVariable]:
        return [rv for rv in self._rvs if rv.observed is not None]

    @property
    def basic_RVs(self) -> list[TensorVariable]:
        return list(self._rvs)

    @property
    def value_vars(self) -> list[ValueVar]:
        out = []
        for rv in self.free_RVs:
            t = self.rvs_to_transforms.get(rv)
            name = f"{rv.name}_{t.name}__" if t is not None else rv.name
            out.append(ValueVar(name, rv, t, tuple(t.unconstrained_shape(rv.shape)) if t else rv.shape))
        return out

    @property
    def rvs_to_values(self) -> dict:
        return {v.rv: v for v in self.value_vars}

    def __getitem__(self, key):
        try:
            return self.named_vars[key]
        except KeyError:
            raise KeyError(f"Model has no variable named {key!r}; it has {sorted(self.named_vars)}") from None

    def __contains__(self, key):
        return key in self.named_vars

    def _check_new_name(self, name):
        if name in self.named_vars:
            raise ValueError(f"Variable name {name!r} already exists in the model; names must be unique.")
        if name in self.coords:
            raise ValueError(f"Name {name!r} is already used by a dim (coords) of the model.")

    def _add_named(self, node, name, dims):
        self._check_new_name(name)
        node.name = name
        node.model = self
        self.named_vars[name] = node
        if dims is not None:
            self.named_vars_to_dims[name] = dims
        self._version += 1

    # ------------------------------------------------------------------ shapes from dims/shape/observed
    def _normalize_dims(self, name, dims):
        if dims is None:
            return None
        if isinstance(dims, str):
            dims = (dims,)
        dims = tuple(dims)
        for d in dims:
            if d is not None and not isinstance(d, str):
                raise TypeError(f"Variable {name!r}: dims must be names (strings), found {d!r}")
        return dims

    def _observed_value(self, name, observed):
        if observed is None:
            return None
        if isinstance(observed, TensorVariable):
            if any(a.kind == "rv" for a in ancestors([observed])):
                raise ValueError(f"Variable {name!r}: observed= must be data, not an expression of "
                                 "random variables")
            return observed
        if hasattr(observed, "to_numpy"):
            observed = observed.to_numpy()
        if isinstance(observed, np.ma.MaskedArray):
            return observed
        arr = np.asarray(observed)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"Variable {name!r}: observed values must be numeric, found dtype {arr.dtype}")
        return arr

    def _resolve_shape(self, name, cls, dims, shape, observed, size):
        obs_shape = tuple(observed.shape) if observed is not None else None
        if shape is not None:
            shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
        if dims is not None:
            ref = shape if shape is not None else obs_shape
            if ref is not None and len(ref) != len(dims):
                what = "shape" if shape is not None else "observed data"
                raise ValueError(f"Variable {name!r}: dims {dims} have {len(dims)} entries but the {what} "
                                 f"has {len(ref)} dimensions (shape {ref}). Give one dim name per axis.")
            lengths = []
            for i, d in enumerate(dims):
                if d is not None and d in self.dim_lengths:
                    lengths.append(self.dim_lengths[d])
                elif ref is not None:
                    lengths.append(ref[i])
                else:
                    lengths.append(None)
            if None in lengths:
                unknown = [d for d, n in zip(dims, lengths) if n is None]
                # the parameters may still define them: decided after the distribution is built
                self._pending_dims = unknown
                dims_shape = None
            else:
                dims_shape = tuple(lengths)
            if dims_shape is not None:
                if obs_shape is not None and obs_shape != dims_shape:
                    raise ValueError(
                        f"Variable {name!r}: observed data has shape {obs_shape} but dims {dims} have "
                        f"lengths {dims_shape} (from the model's coords). Make the data and coords agree."
                    )
                if shape is not None and shape != dims_shape:
                    raise ValueError(f"Variable {name!r}: shape {shape} disagrees with dims {dims} of "
                                     f"lengths {dims_shape}")
                return dims_shape
        if shape is not None:
            if obs_shape is not None and obs_shape != shape:
                raise ValueError(f"Variable {name!r}: observed data has shape {obs_shape} but shape={shape}")
            return shape
        if obs_shape is not None:
            return obs_shape
        return None

    def _register_dims(self, name, dims, shape):
        if dims is None:
            return
        if len(dims) != len(shape):
            raise ValueError(f"Variable {name!r}: dims {dims} have {len(dims)} entries but the variable "
                             f"has {len(shape)} dimensions (shape {shape}). Give one dim name per axis.")
        for d, n in zip(dims, shape):
            if d is None:
                continue
            if d not in self.dim_lengths:
                self.coords[d] = None
                self.dim_lengths[d] = int(n)
            elif self.dim_lengths[d] != n:
                raise ValueError(f"Variable {name!r}: dim {d!r} has length {self.dim_lengths[d]} in the "
                                 f"model but the variable's axis has length {n}")

    # ------------------------------------------------------------------ registration
    def register_rv(self, rv, name, *, dims=None, observed=None, initval=None, transform=_UNSET,
                    default_transform=_UNSET, total_size=None):
        from jaxmc.distributions.base import _UNSET as DUNSET

        pending = getattr(self, "_pending_dims", None)
        self._pending_dims = None
        if pending and dims is not None:
            lengths = [self.dim_lengths.get(d) for d in dims]
            if len(dims) != len(rv.shape) or any(n is not None and n != s for n, s in zip(lengths, rv.shape)):
                raise ValueError(
                    f"Variable {name!r}: dim(s) {pending} are unknown to the model. Add them with "
                    f"pm.Model(coords={{{pending[0]!r}: [...]}}) or model.add_coord({pending[0]!r}, values), "
                    "or give shape= or observed=."
                )
        self._register_dims(name, dims, rv.shape)
        self._add_named(rv, name, dims)
        rv.dims = dims
        rv.observed = None
        dist = rv.owner
        if observed is not None:
            rv.observed = self._observed_node(name, rv, observed)
            if transform is not DUNSET and transform is not _UNSET and transform is not None:
                warnings.warn(f"Variable {name!r}: transform= is ignored for observed variables")
            self.rvs_to_transforms[rv] = None
        else:
            if default_transform is DUNSET or default_transform is _UNSET:
                default = dist.default_transform()
            else:
                default = default_transform
            if transform is DUNSET or transform is _UNSET:
                t = default
            elif transform is None:
                t = None
            elif default is not None:
                from jaxmc.transforms import Chain

                t = Chain([default, transform])
            else:
                t = transform
            self.rvs_to_transforms[rv] = t
            if initval is not None:
                iv = np.asarray(initval, dtype=rv.dtype)
                try:
                    iv = np.broadcast_to(iv, rv.shape)
                except ValueError:
                    raise ValueError(f"Variable {name!r}: initval of shape {iv.shape} does not fit the "
                                     f"variable's shape {rv.shape}") from None
                self.rvs_to_initial_values[rv] = iv
        if total_size is not None:
            self.rvs_to_total_sizes[rv] = total_size
        self._rvs.append(rv)
        return rv

    def register_imputed(self, rv, name, *, dims, observed, transform=_UNSET, default_transform=_UNSET):
        """Observed data with missing entries (NaN or masked), as PyMC: a free `<name>_unobserved` variable
        for the missing entries, an observed `<name>_observed` one for the rest, and a Deterministic
        `<name>` (with the dims) that puts them back together."""
        from jaxmc.graph import apply

        dist = rv.owner
        if isinstance(observed, np.ma.MaskedArray):
            mask = np.ma.getmaskarray(observed)
            values = np.asarray(observed.data, dtype=float)
        else:
            mask = np.isnan(observed)
            values = observed
        if dist.ndim_supp:
            mask = mask.any(axis=tuple(range(-dist.ndim_supp, 0)))
            if dist.ndim_supp and not np.array_equal(np.isnan(values).any(-1), np.isnan(values).all(-1)):
                raise ValueError(f"Variable {name!r}: a multivariate draw must be missing entirely or not at "
                                 "all (some entries of a row are NaN, others are not)")
        warnings.warn(f"Data in {name} contains missing values and will be automatically imputed from the "
                      "sampling distribution.", ImputationWarning, stacklevel=3)
        full_shape, supp = rv.shape, rv.shape[len(rv.shape) - dist.ndim_supp:]
        k = dist.ndims_params or (0,) * len(dist.params)

        def part(sel):
            d = object.__new__(type(dist))
            d.__dict__.update(dist.__dict__)
            n = int(sel.sum())

            def pick(p, nd):
                shape = (*full_shape[: len(full_shape) - dist.ndim_supp], *jnp.shape(p)[jnp.ndim(p) - nd:])
                return jnp.broadcast_to(p, shape)[sel]

            d.params = [apply(pick, p, nd) if isinstance(p, TensorVariable) else pick(p, nd)
                        for p, nd in zip(dist.params, k)]
            d.shape, d.batch_shape, d.explicit_shape = (n, *supp), (n,), True
            node = TensorVariable(None, [], jax.ShapeDtypeStruct((n, *supp), rv.dtype), kind="rv")
            node.owner, node.model = d, None
            return node

        unobs = self.register_rv(part(mask), f"{name}_unobserved", transform=transform,
                                 default_transform=default_transform)
        obs = self.register_rv(part(~mask), f"{name}_observed", observed=values[~mask])
        dtype = rv.dtype

        def combine(u, o):
            return jnp.zeros(full_shape, dtype).at[mask].set(u).at[~mask].set(o)

        return Deterministic(name, apply(combine, unobs, obs), dims=dims, model=self)

    def _observed_node(self, name, rv, observed):
        dist = rv.owner
        if isinstance(observed, TensorVariable):
            return observed
        value = observed.astype(rv.dtype) if dist.discrete else config.as_floatX(observed.astype(float)
                                                                                    if observed.dtype.kind in "biu" else observed)
        if dist.discrete and observed.dtype.kind == "f" and not np.all(np.mod(observed, 1) == 0):
            bad = np.flatnonzero(np.mod(observed, 1) != 0)[:5]
            raise ValueError(f"Variable {name!r}: observed values must be integers for "
                             f"{type(dist).__name__}; non-integer entries at flat positions {bad.tolist()}")
        params = list(dist.params)
        if all(not isinstance(p, TensorVariable) for p in params):
            ok = np.asarray(dist.in_support(jnp.asarray(value), *params))
        else:
            ok = _support_ok(dist, value, params)
        if not ok.all():
            bad = np.argwhere(~np.broadcast_to(ok, ok.shape))[:5]
            vals = [value[tuple(i)] if value.ndim else value for i in bad] if value.ndim == ok.ndim else []
            raise ValueError(
                f"Variable {name!r}: {int((~ok).sum())} observed value(s) outside the support of "
                f"{type(dist).__name__}, at index {[tuple(int(j) for j in i) for i in bad]}"
                + (f" (values {[float(v) for v in vals]})" if vals else "")
                + ". Check the data or the choice of distribution."
            )
        key = f"__observed__{name}"
        self._data_values[key] = value
        node = TensorVariable(None, [], jax.ShapeDtypeStruct(value.shape, value.dtype), kind="data", name=key)
        node.model = self
        node.dims = rv.dims
        return node

    def register_data(self, name, value, dims=None):
        node = TensorVariable(None, [], jax.ShapeDtypeStruct(value.shape, value.dtype), kind="data")
        self._register_dims(name, dims, value.shape)
        self._add_named(node, name, dims)
        node.dims = dims
        self._data_values[name] = value
        self.data_vars.append(node)
        return node

    def add_deterministic(self, node, name, dims):
        self._register_dims(name, dims, node.shape)
        self._add_named(node, name, dims)
        self.deterministics.append(node)
        return node

    def add_potential(self, node, name, dims):
        self._add_named(node, name, dims)
        self.potentials.append(node)
        return node

    # ------------------------------------------------------------------ data
    def data_values(self) -> dict[str, np.ndarray]:
        """Current values of every data argument (pm.Data and observed values), by key."""
        return dict(self._data_values)

    def set_data(self, name, values, coords=None):
        set_data({name: values}, model=self, coords=coords)

    # ------------------------------------------------------------------ compiled functions
    def compiled(self, jacobian: bool = True):
        from jaxmc.compile import CompiledModel

        key = (self._version, jacobian)
        if key not in self._compiled:
            self._compiled = {k: v for k, v in self._compiled.items() if k[0] == self._version}
            self._compiled[key] = CompiledModel(self, jacobian=jacobian)
        return self._compiled[key]

    def initial_point(self, random_seed=None) -> dict[str, np.ndarray]:
        """Unconstrained starting values by value-variable name (initval or support point, transformed)."""
        return self.compiled().initial_point()

    def compile_logp(self, vars=None, jacobian: bool = True, sum: bool = True):
        """Function of a point {value var name: array} returning the model log density."""
        cm = self.compiled(jacobian)
        return cm.point_function("logp", vars=vars, sum=sum)

    def compile_dlogp(self, vars=None, jacobian: bool = True):
        """Function of a point returning the gradient of the log density (flat, in value_vars order)."""
        cm = self.compiled(jacobian)
        return cm.point_function("dlogp", vars=vars)

    def compile_d2logp(self, vars=None, jacobian: bool = True):
        cm = self.compiled(jacobian)
        return cm.point_function("d2logp", vars=vars)

    def point_logps(self, point=None, round_vals=2) -> dict[str, float]:
        """Log density of each random variable at `point` (the initial point if None)."""
        cm = self.compiled(True)
        point = self.initial_point() if point is None else point
        terms = cm.point_function("terms")(point)
        return {k: float(np.round(v, round_vals)) for k, v in terms.items()}

    def debug(self, point=None, fn: str = "logp", verbose: bool = False):
        """Print which terms of the log density (or its gradient) are not finite at `point`, and why."""
        from jaxmc.compile import debug_report

        report = debug_report(self, point, fn=fn, verbose=verbose)
        print(report)
        return None

    def shape_from_dims(self, dims):
        return tuple(self.dim_lengths[d] for d in dims)

    def __str__(self):
        lines = []
        for name, node in self.named_vars.items():
            if node.kind == "rv":
                what = type(node.owner).__name__ + (" (observed)" if node.observed is not None else "")
            elif node.kind == "data":
                what = "Data"
            elif node in self.potentials:
                what = "Potential"
            else:
                what = "Deterministic"
            dims = self.named_vars_to_dims.get(name)
            lines.append(f"{name:>20} ~ {what}" + (f"  dims={dims}" if dims else f"  shape={node.shape}"))
        return "\n".join(lines)

    _repr_pretty_ = lambda self, p, cycle: p.text(str(self))  # noqa: E731


def _support_ok(dist, value, params) -> np.ndarray:
    """Build-time support check when some parameters are model variables (unknown now).

    Unknown parameters are tried as NaN (families read it as "unknown") and, for bounds, at -inf and +inf in
    every combination: an entry is rejected only if no such choice puts it in the support. The log density
    checks the rest at run time."""
    import itertools

    unknown = [i for i, p in enumerate(params) if isinstance(p, TensorVariable)]
    shapes = {i: params[i].shape for i in unknown}
    trials = [{i: np.nan for i in unknown}]
    if dist.support_depends_on_params and len(unknown) <= 3:
        trials += [dict(zip(unknown, c)) for c in itertools.product((-np.inf, np.inf), repeat=len(unknown))]
    ok = None
    for trial in trials:
        args = [jnp.full(shapes[i], trial[i], config.floatX()) if i in trial else p for i, p in enumerate(params)]
        try:
            res = np.asarray(dist.in_support(jnp.asarray(value), *args))
        except Exception:
            return np.ones((), bool)
        ok = res if ok is None else ok | res
    return ok


# ---------------------------------------------------------------------- module-level PyMC API
def _to_array(name, value):
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Data {name!r} must be numeric, found dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        arr = arr.astype(config.floatX())
    elif arr.dtype.kind in "iu":
        arr = arr.astype(config.intX())
    return arr


def Data(name: str, value, *, dims=None, coords=None, model=None, **kwargs) -> TensorVariable:
    """A data container whose value can change with `pm.set_data` (it is an argument of compiled code)."""
    kwargs.pop("mutable", None)
    kwargs.pop("infer_dims_and_coords", None)
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
    arr = _to_array(name, value)
    if dims is not None:
        if len(dims) != arr.ndim:
            raise ValueError(f"Data {name!r}: dims {dims} have {len(dims)} entries but the value has "
                             f"{arr.ndim} dimensions (shape {arr.shape}). Give one dim name per axis.")
        # pandas index/columns become coords for dims that have none yet
        labels = []
        if hasattr(value, "index"):
            labels.append(value.index)
        if hasattr(value, "columns"):
            labels.append(value.columns)
        for d, lab in zip(dims, labels):
            if d is not None and model.coords.get(d) is None and d not in model.dim_lengths:
                model.add_coord(d, lab)
        for d, n in zip(dims, arr.shape):
            if d is not None and d in model.dim_lengths and model.dim_lengths[d] != n:
                raise ValueError(f"Data {name!r}: dim {d!r} has length {model.dim_lengths[d]} in the model's "
                                 f"coords but the value's axis has length {n} (value shape {arr.shape})")
    return model.register_data(name, arr, dims)


def Deterministic(name: str, var, dims=None, model=None) -> TensorVariable:
    """A named function of other variables, recorded in the posterior."""
    node, dims = _named_node(var, dims)
    return modelcontext(model).add_deterministic(node, name, dims)


def Potential(name: str, var, dims=None, model=None) -> TensorVariable:
    """An extra additive term of the model log density."""
    node, dims = _named_node(var, dims)
    return modelcontext(model).add_potential(node, name, dims)


def _identity(x):
    return x


def _named_node(var, dims):
    """A node of its own for a Deterministic or Potential (identity over an expression, or a constant)."""
    if isinstance(dims, str):
        dims = (dims,)
    if isinstance(var, TensorVariable):
        node = TensorVariable(_identity, [var], var.aval, kind="det")
    else:
        const = jnp.asarray(var)
        node = TensorVariable(lambda: const, [], jax.ShapeDtypeStruct(const.shape, const.dtype), kind="det")
    return node, (tuple(dims) if dims else None)


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
        old = model._data_values[name]
        arr = _to_array(name, value)
        if old.dtype.kind in "iu" and arr.dtype.kind == "f":
            if not np.all(np.mod(arr, 1) == 0):
                raise TypeError(f"set_data: {name!r} holds integers; new values are not integers")
            arr = arr.astype(old.dtype)
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
    # every other data variable on a resized dim must be resized in the same call
    for node in model.data_vars:
        if node.name in prepared or not node.dims:
            continue
        for axis, d in enumerate(node.dims):
            if d in new_lengths and model._data_values[node.name].shape[axis] != new_lengths[d]:
                raise ValueError(
                    f"set_data: dim {d!r} now has length {new_lengths[d]} but data {node.name!r} still has "
                    f"length {model._data_values[node.name].shape[axis]} along it; set it in the same call"
                )
    for name, arr in prepared.items():
        model._data_values[name] = arr
    for d, n in new_lengths.items():
        if d in coords:
            model.coords[d] = tuple(np.asarray(coords[d]).tolist())
        elif model.dim_lengths.get(d) != n:
            model.coords[d] = None
        model.dim_lengths[d] = n
    for d, values in coords.items():
        if d not in new_lengths:
            model.coords[d] = tuple(np.asarray(values).tolist())
            model.dim_lengths[d] = len(values)

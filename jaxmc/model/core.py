"""`Model`: the container of a Bayesian model and its registries (variables, value variables, coords and dims,
data), with PyMC's API and checks; the compiled functions it offers come from `jaxmc.compile`."""

from __future__ import annotations

import itertools
import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.exceptions import ShapeError
from jaxmc.graph import TensorVariable, ancestors
from jaxmc.model.context import UNSET, model_stack
from jaxmc.model.data import DataStore, observed_key, set_data
from jaxmc.model.imputation import add_imputed, has_missing


class ProgramCache:
    """Compiled programs of one version of a model's graph, by key; a new version empties it."""

    def __init__(self):
        self._version = None
        self._entries: dict = {}

    def get(self, version, key, build):
        if version != self._version:
            self._entries.clear()
            self._version = version
        if key not in self._entries:
            self._entries[key] = build()
        return self._entries[key]

    def of_kind(self, version, kind: str) -> list:
        return [v for (k, _), v in self._entries.items() if k == kind] if version == self._version else []


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
        self.data = DataStore()
        self._version = 0
        self._programs = ProgramCache()
        if coords:
            self.add_coords(coords)

    # ------------------------------------------------------------------ context
    def __enter__(self):
        model_stack().append(self)
        return self

    def __exit__(self, *exc):
        model_stack().pop()

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

    def check_new_name(self, name):
        if name in self.named_vars:
            raise ValueError(f"Variable name {name!r} already exists in the model; names must be unique.")
        if name in self.coords:
            raise ValueError(f"Name {name!r} is already used by a dim (coords) of the model.")

    def _add_named(self, node, name, dims):
        self.check_new_name(name)
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

    def _resolve_shape(self, name, dims, shape, observed):
        """The variable's shape from dims, shape= and observed= (None: the parameters decide), and the dims
        whose lengths are still unknown."""
        pending = None
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
                pending = unknown
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
                return dims_shape, pending
        if shape is not None:
            if obs_shape is not None and obs_shape != shape:
                raise ValueError(f"Variable {name!r}: observed data has shape {obs_shape} but shape={shape}")
            return shape, pending
        if obs_shape is not None:
            return obs_shape, pending
        return None, pending

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
    def add_random_variable(self, cls, name, args, kwargs, *, dims=None, shape=None, observed=None,
                            initval=None, transform=UNSET, default_transform=UNSET, total_size=None):
        """Build `cls.dist(*args, **kwargs)` with the shape that dims, shape= or observed= give, and register
        it as `name` (observed data with missing values become an imputed variable, as in PyMC)."""
        self.check_new_name(name)
        dims = self._normalize_dims(name, dims)
        observed = self._observed_value(name, observed)
        shape, pending = self._resolve_shape(name, dims, shape, observed)
        if shape is not None:
            kwargs.pop("size", None)
            kwargs["shape"] = shape
        try:
            rv = cls.dist(*args, **kwargs)
        except (TypeError, ShapeError) as err:
            msg = f"Variable {name!r}: {err}"
            if isinstance(err, ShapeError) and dims is not None and shape is not None:
                msg += f" The requested shape comes from dims {dict(zip(dims, shape))}."
            raise type(err)(msg) from None
        if observed is not None and has_missing(observed):
            return add_imputed(self, rv, name, dims=dims, observed=observed, transform=transform,
                               default_transform=default_transform)
        return self.register_rv(rv, name, dims=dims, observed=observed, initval=initval, transform=transform,
                                default_transform=default_transform, total_size=total_size, pending=pending)

    def register_rv(self, rv, name, *, dims=None, observed=None, initval=None, transform=UNSET,
                    default_transform=UNSET, total_size=None, pending=None):
        """Register a built random variable (`Distribution.dist` output) under `name`; `pending`: dims whose
        lengths were unknown before the parameters gave the shape."""
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
            if transform is not UNSET and transform is not None:
                warnings.warn(f"Variable {name!r}: transform= is ignored for observed variables")
            self.rvs_to_transforms[rv] = None
        else:
            if default_transform is UNSET:
                default = dist.default_transform()
            else:
                default = default_transform
            if transform is UNSET:
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
            ok = observed_in_support(dist, value, params)
        if not ok.all():
            bad = np.argwhere(~np.broadcast_to(ok, ok.shape))[:5]
            vals = [value[tuple(i)] if value.ndim else value for i in bad] if value.ndim == ok.ndim else []
            raise ValueError(
                f"Variable {name!r}: {int((~ok).sum())} observed value(s) outside the support of "
                f"{type(dist).__name__}, at index {[tuple(int(j) for j in i) for i in bad]}"
                + (f" (values {[float(v) for v in vals]})" if vals else "")
                + ". Check the data or the choice of distribution."
            )
        key = observed_key(name)
        node = TensorVariable(None, [], jax.ShapeDtypeStruct(value.shape, value.dtype), kind="data", name=key)
        self.data.add(key, value, node)
        node.model = self
        node.dims = rv.dims
        return node

    def register_data(self, name, value, dims=None):
        node = TensorVariable(None, [], jax.ShapeDtypeStruct(value.shape, value.dtype), kind="data")
        self._register_dims(name, dims, value.shape)
        self._add_named(node, name, dims)
        node.dims = dims
        self.data.add(name, value, node)
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
        return self.data.values()

    def set_data(self, name, values, coords=None):
        set_data({name: values}, model=self, coords=coords)

    # ------------------------------------------------------------------ compiled functions
    def program(self, kind: str, key, build):
        """The compiled program `(kind, key)` of the model as it is now, made by `build()` the first time;
        adding a variable to the model drops every program made before."""
        return self._programs.get(self._version, (kind, key), build)

    def programs(self, kind: str) -> list:
        """The compiled programs of one kind ("logp", "sample", "sample executables", "forward") made so far
        for the model as it is now (for inspection)."""
        return self._programs.of_kind(self._version, kind)

    def compiled(self, jacobian: bool = True):
        """The model's compiled log density and its expansion to named values (`jaxmc.compile`)."""
        from jaxmc.compile import CompiledModel

        return self.program("logp", jacobian, lambda: CompiledModel(self, jacobian=jacobian))

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
        from jaxmc.debug import debug_report

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


def observed_in_support(dist, value, params) -> np.ndarray:
    """Build-time support check when some parameters are model variables (unknown now).

    Unknown parameters are tried as NaN (families read it as "unknown") and, for bounds, at -inf and +inf in
    every combination: an entry is rejected only if no such choice puts it in the support. The log density
    checks the rest at run time."""
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

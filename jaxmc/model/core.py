"""`Model`: the container of a Bayesian model and its registries (variables, value variables, coords and dims,
data), with PyMC's API and checks; the compiled functions it offers come from `jaxmc.compile`."""

from __future__ import annotations

import warnings
from typing import Any

import jax
import numpy as np

from jaxmc.exceptions import ShapeError
from jaxmc.graph import TensorVariable
from jaxmc.model.context import UNSET, model_stack
from jaxmc.model.arguments import check_same_model, check_shape_argument, check_transform_and_size
from jaxmc.model.coords import RESERVED, check_dim_name, check_dims, coord_values
from jaxmc.model.data import DataStore, set_data
from jaxmc.model.imputation import add_imputed, has_missing
from jaxmc.model.observed import observed_node
from jaxmc.model.shapes import normalize_dims, observed_value, resolve_shape
from jaxmc.model.nesting import in_root, model_prefix, name_for, name_of, validate_name
from jaxmc.model import functions, symbolic
from jaxmc.model.values import ValueVariable, is_discrete, value_variable


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


#: a value variable: what the sampler sees for a free RV (PyMC's `x_log__` names), a graph leaf
ValueVar = ValueVariable


class DimLength(int):
    """A dim's length; `.eval()` gives it as an array, as PyMC's symbolic lengths do."""

    def eval(self, *args, **kwargs):
        return np.asarray(int(self))


class DimLengths(dict):
    """Dim lengths by name (`model.dim_lengths["obs"].eval()` works as in PyMC)."""

    def __getitem__(self, key):
        return DimLength(dict.__getitem__(self, key))

    def get(self, key, default=None):
        return self[key] if key in self else default


class Model:
    """Container of a Bayesian model; use as a context manager (`with pm.Model(coords=...) as model:`)."""

    def __init__(self, name: str = "", coords: dict | None = None, check_bounds: bool = True, *,
                 model=UNSET):
        self.name = validate_name(name)
        if not isinstance(check_bounds, (bool, np.bool_)):
            raise TypeError(f"pm.Model(check_bounds=...) must be True or False, found {check_bounds!r}")
        if not check_bounds:
            warnings.warn("pm.Model(check_bounds=False): jaxmc keeps the parameter checks (their cost is small in "
                          "compiled code); invalid parameters give a log density of -inf", stacklevel=2)
        self.check_bounds = bool(check_bounds)
        # a model created inside another one is its sub-model (PyMC): its variables are registered in the
        # root model as `prefix::name`; model=None makes a standalone model
        self.parent = (model_stack()[-1] if model_stack() else None) if model is UNSET else model
        if self.parent is None:
            self.coords: dict[str, tuple | None] = {}
            self.dim_lengths: dict[str, int] = DimLengths()
            self.data = DataStore()
        else:  # one set of dims and data for the whole tree of models
            self.coords, self.dim_lengths, self.data = self.root.coords, self.root.dim_lengths, self.root.data
        self.named_vars: dict[str, TensorVariable] = {}
        self.named_vars_to_dims: dict[str, tuple] = {}
        self.deterministics: list[TensorVariable] = []
        self.potentials: list[TensorVariable] = []
        self.data_vars: list[TensorVariable] = []
        self.rvs_to_transforms: dict[TensorVariable, Any] = {}
        self.rvs_to_initial_values: dict[TensorVariable, Any] = {}
        self.rvs_to_total_sizes: dict[TensorVariable, Any] = {}
        self._rvs: list[TensorVariable] = []
        self.value_var_cache: dict = {}  # {free RV: its ValueVariable} (jaxmc.model.values)
        self.graph_version = 0  # bumped when the graph changes: programs made before are dropped
        self._programs = ProgramCache()
        if coords:
            self.add_coords(coords)

    # ------------------------------------------------------------------ context
    def __enter__(self):
        model_stack().append(self)
        return self

    def __exit__(self, *exc):
        model_stack().pop()

    # ------------------------------------------------------------------ sub-models (jaxmc.model.nesting)
    @property
    def root(self) -> "Model":
        """The outermost model, which holds every variable of its sub-models."""
        return self if self.parent is None else self.parent.root

    @property
    def isroot(self) -> bool:
        return self.parent is None

    @property
    def prefix(self) -> str:
        return model_prefix(self)

    def name_for(self, name: str) -> str:
        """`name` with this model's `prefix::` (the name it has in the root model)."""
        return name_for(self, name)

    def name_of(self, name: str) -> str:
        """`name` without this model's `prefix::`."""
        return name_of(self, name)

    # ------------------------------------------------------------------ coords
    def add_coord(self, name: str, values=None, mutable=None, *, length=None):
        """Register dim `name` with coordinate values (list, array, pandas Index) or just a length."""
        check_dim_name(name, f"add_coord({name!r})")
        if name in self.root.named_vars:
            raise ValueError(f"add_coord({name!r}): dim name {name!r} conflicts with the variable {name!r} of the "
                             "model; ArviZ data cannot hold both. Rename one of them")
        if values is None and length is None:
            raise ValueError(f"add_coord({name!r}): give coordinate values or a length")
        if values is not None:
            values = coord_values(name, values)
            if length is not None and len(values) != length:
                raise ValueError(f"add_coord({name!r}): {len(values)} values but length={length}")
            length = len(values)
        if name in self.coords and self.coords[name] is not None and values is not None \
                and not _same_labels(self.coords[name], values):
            raise ValueError(f"Duplicate and incompatible coordinate {name!r}: it already has "
                             f"{len(self.coords[name])} values; use set_data(..., coords=) to change it")
        self.coords[name] = values
        self.dim_lengths[name] = int(length)

    def add_coords(self, coords: dict, *, lengths=None):
        if coords is not None and not hasattr(coords, "items"):
            raise TypeError(f"coords must be a dict {{dim name: labels}}, found {type(coords).__name__}")
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
    def unobserved_RVs(self) -> list[TensorVariable]:
        return self.free_RVs + list(self.deterministics)

    @property
    def value_vars(self) -> list[ValueVariable]:
        """Value variables of the free RVs (graph leaves; `.name`, `.rv`, `.transform`, `.shape`)."""
        return [value_variable(self, rv) for rv in self.free_RVs]

    @property
    def continuous_value_vars(self) -> list[ValueVariable]:
        return [v for v in self.value_vars if not is_discrete(v)]

    @property
    def discrete_value_vars(self) -> list[ValueVariable]:
        return [v for v in self.value_vars if is_discrete(v)]

    @property
    def rvs_to_values(self) -> dict:
        """{RV: value variable} for free RVs; observed RVs map to their data node."""
        out = {v.rv: v for v in self.value_vars}
        out.update({rv: rv.observed for rv in self.observed_RVs})
        return out

    @property
    def values_to_rvs(self) -> dict:
        return {v: rv for rv, v in self.rvs_to_values.items()}

    @property
    def unobserved_value_vars(self) -> list:
        """Value variables, transformed RVs in their own space and deterministics, over the value variables."""
        return symbolic.unobserved_value_vars(self)

    def __getitem__(self, key):
        if key in self.named_vars:
            return self.named_vars[key]
        if isinstance(key, str) and self.name_for(key) in self.named_vars:
            return self.named_vars[self.name_for(key)]
        raise KeyError(f"Model has no variable named {key!r}; it has {sorted(self.named_vars)}")

    def __contains__(self, key):
        return key in self.named_vars or (isinstance(key, str) and self.name_for(key) in self.named_vars)

    def check_new_name(self, name):
        if self.parent is not None:
            return self.root.check_new_name(self.name_for(name))
        if name in self.named_vars:
            raise ValueError(f"Variable name {name!r} already exists in the model; names must be unique.")
        if name in RESERVED:
            raise ValueError(f"Variable name {name!r} is reserved for ArviZ's sample dims {RESERVED}; rename the "
                             "variable")
        if name in self.coords:
            raise ValueError(f"Name {name!r} is already used by a dim (coords) of the model.")

    def _add_named(self, node, name, dims):
        self.check_new_name(name)
        node.name = name
        node.model = self
        self.named_vars[name] = node
        if dims is not None:
            self.named_vars_to_dims[name] = dims
        if name.isidentifier() and not hasattr(self, name):  # PyMC's `model.x`
            setattr(self, name, node)
        self.graph_version += 1

    # ------------------------------------------------------------------ dims
    def _register_dims(self, name, dims, shape):
        if dims is None:
            return
        check_dims(name, dims)
        if len(dims) != len(shape):
            raise ValueError(f"Variable {name!r}: dims {dims} have {len(dims)} entries but the variable "
                             f"has {len(shape)} dimensions (shape {shape}). Give one dim name per axis.")
        for d, n in zip(dims, shape):
            if d is None:
                continue
            if d not in self.dim_lengths:
                if d in self.named_vars:
                    raise ValueError(f"Variable {name!r}: dim {d!r} conflicts with the variable {d!r} of the model; "
                                     "ArviZ data cannot hold both. Rename the dim or the variable")
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
        name = self.name_for(name)
        if self.parent is not None:
            return in_root(self, lambda root: root.add_random_variable(
                cls, name, args, kwargs, dims=dims, shape=shape, observed=observed,
                initval=initval, transform=transform, default_transform=default_transform, total_size=total_size))
        self.check_new_name(name)
        if dims is not None and not isinstance(dims, (str, tuple, list)):
            raise TypeError(f"Variable {name!r}: dims must be a dim name or a tuple of them, found "
                            f"{type(dims).__name__} {dims!r}")
        dims = normalize_dims(name, dims)
        check_dims(name, dims)
        check_shape_argument(name, shape)
        check_shape_argument(name, kwargs.get("size"), "size")
        check_same_model(self, name, [*args, *kwargs.values()])
        observed = observed_value(name, observed)
        shape, pending = resolve_shape(self.dim_lengths, name, dims, shape, observed)
        if shape is not None:
            kwargs.pop("size", None)
            kwargs["shape"] = shape
        try:
            rv = cls.dist(*args, **kwargs)
        except (TypeError, ValueError) as err:
            msg = f"Variable {name!r}: {err}"
            if isinstance(err, ShapeError) and dims is not None and shape is not None:
                msg += f" The requested shape comes from dims {dict(zip(dims, shape))}."
            try:
                named = type(err)(msg)
            except Exception:  # an error type with another signature
                named = (TypeError if isinstance(err, TypeError) else ValueError)(msg)
            raise named from None
        if observed is not None and has_missing(observed):
            return add_imputed(self, rv, name, dims=dims, observed=observed, transform=transform,
                               default_transform=default_transform)
        return self.register_rv(rv, name, dims=dims, observed=observed, initval=initval, transform=transform,
                                default_transform=default_transform, total_size=total_size, pending=pending)

    def register_rv(self, rv, name, *, dims=None, observed=None, initval=None, transform=UNSET,
                    default_transform=UNSET, total_size=None, pending=None):
        """Register a built random variable (`Distribution.dist` output) under `name`; `pending`: dims whose
        lengths were unknown before the parameters gave the shape."""
        name = self.name_for(name)
        if self.parent is not None:
            return in_root(self, lambda root: root.register_rv(
                rv, name, dims=dims, observed=observed, initval=initval, transform=transform,
                default_transform=default_transform, total_size=total_size, pending=pending))
        if pending and dims is not None:
            lengths = [self.dim_lengths.get(d) for d in dims]
            if len(dims) != len(rv.shape) or any(n is not None and n != s for n, s in zip(lengths, rv.shape)):
                raise ValueError(
                    f"Variable {name!r}: dim(s) {pending} are unknown to the model. Add them with "
                    f"pm.Model(coords={{{pending[0]!r}: [...]}}) or model.add_coord({pending[0]!r}, values), "
                    "or give shape= or observed=."
                )
        check_transform_and_size(name, transform, default_transform, total_size)
        self._register_dims(name, dims, rv.shape)
        self._add_named(rv, name, dims)
        rv.dims = dims
        rv.observed = None
        dist = rv.owner
        if observed is not None:
            rv.observed = observed_node(self, name, rv, observed)
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

    def register_data(self, name, value, dims=None):
        name = self.name_for(name)
        if self.parent is not None:
            return in_root(self, lambda root: root.register_data(name, value, dims))
        node = TensorVariable(None, [], jax.ShapeDtypeStruct(value.shape, value.dtype), kind="data")
        self._register_dims(name, dims, value.shape)
        self._add_named(node, name, dims)
        node.dims = dims
        self.data.add(name, value, node)
        self.data_vars.append(node)
        return node

    def add_deterministic(self, node, name, dims):
        name = self.name_for(name)
        if self.parent is not None:
            return in_root(self, lambda root: root.add_deterministic(node, name, dims))
        self.check_new_name(name)
        check_same_model(self, name, node.inputs)
        self._register_dims(name, dims, node.shape)
        self._add_named(node, name, dims)
        self.deterministics.append(node)
        return node

    def add_named_variable(self, var, dims=None):
        """Register a named node that is neither an RV, data, a Deterministic nor a Potential (PyMC)."""
        var.name = self.name_for(var.name)
        if self.parent is not None:
            return in_root(self, lambda root: root.add_named_variable(var, dims))
        dims = (dims,) if isinstance(dims, str) else dims
        self._register_dims(var.name, dims, var.shape)
        self._add_named(var, var.name, tuple(dims) if dims else None)
        return var

    def add_potential(self, node, name, dims):
        name = self.name_for(name)
        if self.parent is not None:
            return in_root(self, lambda root: root.add_potential(node, name, dims))
        check_same_model(self, name, node.inputs)
        self.check_new_name(name)
        self._register_dims(name, dims, node.shape)
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
        adding a variable to the model drops every program made before (a sub-model's are its root's)."""
        root = self.root
        return root._programs.get(root.graph_version, (kind, key), build)

    def programs(self, kind: str) -> list:
        """The compiled programs of one kind ("logp", "sample", "sample executables", "forward") made so far
        for the model as it is now (for inspection)."""
        return self.root._programs.of_kind(self.root.graph_version, kind)

    def compiled(self, jacobian: bool = True):
        """The model's compiled log density and its expansion to named values (`jaxmc.compile`)."""
        from jaxmc.compile import CompiledModel

        return self.program("logp", jacobian, lambda: CompiledModel(self.root, jacobian=jacobian))

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
        """Log density of each random variable (free, then observed) and potential at `point` (the initial
        point if None)."""
        cm = self.compiled(True)
        point = self.initial_point() if point is None else point
        terms = cm.point_function("terms")(point)
        names = [v.name for v in self.free_RVs + self.observed_RVs + self.potentials]
        return {k: float(np.round(terms[k], round_vals)) for k in names}

    # ------------------------------------------------------------------ symbolic (jaxmc.model.symbolic)
    def logp(self, vars=None, jacobian: bool = True, sum: bool = True):
        """The log density as a node over the value variables (a list of elementwise terms if not `sum`):
        evaluate it with `.eval({value var name: value})` or `model.compile_fn(model.logp())(point)`."""
        return symbolic.model_logp(self, vars, jacobian, sum)

    def dlogp(self, vars=None, jacobian: bool = True):
        """Gradient of the log density over the (continuous) value variables, flat, as a node."""
        return symbolic.model_dlogp(self, vars, jacobian)

    def d2logp(self, vars=None, jacobian: bool = True, negate_output: bool = True):
        """Hessian (negated, as PyMC) of the log density over the value variables, as a node."""
        return symbolic.model_dlogp(self, vars, jacobian, order=2, negate=negate_output)

    varlogp = property(lambda self: self.logp(vars=self.free_RVs), doc="log density of the free RVs")
    varlogp_nojac = property(lambda self: self.logp(vars=self.free_RVs, jacobian=False))
    observedlogp = property(lambda self: self.logp(vars=self.observed_RVs), doc="log likelihood")
    potentiallogp = property(lambda self: self.logp(vars=self.potentials), doc="sum of the potentials")
    datalogp = property(lambda self: self.logp(vars=self.observed_RVs + self.potentials))

    def replace_rvs_by_values(self, graphs, **kwargs):
        """Copies of `graphs` with the random variables replaced by their values (value variables)."""
        return symbolic.replace_rvs_by_values(self, graphs)

    def compile_fn(self, outs, *, inputs=None, mode=None, point_fn: bool = True, **kwargs):
        """A function of a point ({name: value}) computing `outs` (see jaxmc.model.functions)."""
        return functions.compile_fn(self, outs, inputs=inputs, point_fn=point_fn, **kwargs)

    # ------------------------------------------------------------------ copies and dims
    def copy(self) -> "Model":
        """An independent copy of the (root) model; its variables are `copy["name"]`."""
        from jaxmc.model.clone import rebuild_model

        return rebuild_model(self)[0]

    __copy__ = copy
    __deepcopy__ = lambda self, memo: self.copy()  # noqa: E731

    def set_dim(self, name: str, new_length: int, coord_values=None):
        """Change the length of dim `name` (with new coordinate values where it has them), as PyMC."""
        from jaxmc.model.clone import set_dim

        set_dim(self.root, name, new_length, coord_values)

    def debug(self, point=None, fn: str = "logp", verbose: bool = False):
        """Print which terms of the log density (or its gradient) are not finite at `point`, and why."""
        from jaxmc.debug import debug_report

        report = debug_report(self, point, fn=fn, verbose=verbose)
        print(report)
        return None

    def to_graphviz(self, **kwargs):
        """The model's graph as a `graphviz.Digraph` (`pm.model_to_graphviz(model, **kwargs)`)."""
        from jaxmc.model_graph import model_to_graphviz

        return model_to_graphviz(self, **kwargs)

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


def _same_labels(old, new) -> bool:
    return len(old) == len(new) and bool(np.all(np.asarray(old) == np.asarray(new)))

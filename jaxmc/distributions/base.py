"""The distribution base class: parameters, shape from dims/shape/observed, and the checks and default
transform derived from a family's declared support and parameter constraints."""

from __future__ import annotations

import difflib
import inspect

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.distributions import constraints
from jaxmc.distributions.params import as_param, to_shape
from jaxmc.exceptions import ShapeError  # noqa: F401  (families import it from here)
from jaxmc.graph import TensorVariable, aval_of
from jaxmc.model.context import UNSET, modelcontext


class Distribution:
    """Base class of all distributions.

    `pm.Normal("x", mu, sigma, dims=...)` registers a random variable in the current model and returns its
    graph node; `pm.Normal.dist(mu, sigma)` returns an unnamed one (for wrappers, `pm.logp`, `pm.draw`).
    A family states its `support` and `arg_constraints` (`constraints.py`), from which `in_support`,
    `check_params` and `default_transform` are derived, and defines, as functions of arrays,
    `logp(value, *params)`, optionally `logcdf`, `random(key, *params, size)` and `support_point(*params,
    size)`; `dist()` maps PyMC's parameterizations onto the canonical parameters
    (docs/CONTRIBUTING-distributions.md)."""

    #: number of trailing axes of one draw (0: univariate, 1: vector, 2: matrix)
    ndim_supp = 0
    #: core number of dimensions of each parameter (default 0 for all)
    ndims_params: tuple[int, ...] | None = None
    #: names of parameters in canonical order (filled by families)
    param_names: tuple[str, ...] = ()
    #: parameters kept as integers (e.g. Binomial's n)
    integer_params: tuple[str, ...] = ()
    discrete = False
    #: the set of values (a `constraints` object): `in_support` and `default_transform` derive from it
    support: constraints.Constraint = constraints.real
    #: constraints of the parameters by name, in the order of their checks (a tuple for several); names
    #: absent from `param_names` (e.g. `p` of a family built with `logit_p`) are skipped
    arg_constraints: dict = {}
    #: descriptions of parameter checks where PyMC words them otherwise than the constraint (by name)
    check_messages: dict = {}
    #: True when in_support uses the parameters (bounds): observed values are then checked at build time
    #: only when the parameters are constants. Derived from `support` unless a family sets it
    support_depends_on_params = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "support" in cls.__dict__ and "support_depends_on_params" not in cls.__dict__:
            cls.support_depends_on_params = bool(cls.support.refs)

    # ------------------------------------------------------------------ construction
    def __new__(cls, name, *args, dims=None, shape=None, observed=None, initval=None, transform=UNSET,
                default_transform=UNSET, total_size=None, model=None, **kwargs):
        if not isinstance(name, str):
            raise TypeError(
                f"{cls.__name__}: the first argument must be the variable's name (a string), found "
                f"{type(name).__name__}. To make an unnamed distribution use pm.{cls.__name__}.dist(...)."
            )
        try:
            model = modelcontext(model)
        except TypeError:
            if model is not None:  # model= given, but not a model
                raise TypeError(f"Variable {name!r} ({cls.__name__}): model= must be a pm.Model, found "
                                f"{type(model).__name__} {model!r}") from None
            raise TypeError(
                f"Variable {name!r} ({cls.__name__}) was created outside a model. Create it inside "
                f"`with pm.Model() as model:`, or use pm.{cls.__name__}.dist(...) for an unnamed distribution."
            ) from None
        return model.add_random_variable(cls, name, args, kwargs, dims=dims, shape=shape, observed=observed,
                                         initval=initval, transform=transform,
                                         default_transform=default_transform, total_size=total_size)

    @classmethod
    def dist(cls, dist_params, *, shape=None, size=None, **kwargs):
        """Unnamed random variable with canonical parameters `dist_params` (families wrap this)."""
        if kwargs:
            accepted = [p for p in inspect.signature(cls.dist).parameters if p not in ("kwargs", "args")]
            accepted += ["shape", "size", "dims", "observed", "initval", "transform", "default_transform",
                         "total_size"]
            hints = {k: difflib.get_close_matches(k, accepted, n=1) for k in kwargs}
            hint = "".join(f" Did you mean {h[0]!r} for {k!r}?" for k, h in hints.items() if h)
            raise TypeError(
                f"{cls.__name__} got unknown keyword argument(s) {sorted(kwargs)}; accepted: {accepted}.{hint}"
            )
        params = [as_param(p, n, integer=n in cls.integer_params, owner=cls.__name__)
                  for p, n in zip(dist_params, cls.param_names or [f"param{i}" for i in range(len(dist_params))])]
        self = object.__new__(cls)
        self.params = params
        avals = [aval_of(p) for p in params]
        ndp = cls.ndims_params or (0,) * len(params)
        try:
            batch = jnp.broadcast_shapes(*[a.shape[: len(a.shape) - k] for a, k in zip(avals, ndp)]) \
                if params else ()
        except ValueError:
            raise ShapeError(
                f"{cls.__name__}: parameters do not broadcast together: "
                + ", ".join(f"{n}{tuple(a.shape)}" for n, a in zip(cls.param_names, avals))
            ) from None
        supp = tuple(self.supp_shape(*avals)) if cls.ndim_supp else ()
        if shape is not None:
            shape = to_shape(shape)
            if len(shape) < cls.ndim_supp:
                raise ShapeError(f"{cls.__name__}: shape {shape} has fewer than the {cls.ndim_supp} "
                                 f"support dimension(s) of one draw")
            given_supp = shape[len(shape) - cls.ndim_supp:]
            if cls.ndim_supp and supp and None not in supp and given_supp != supp:
                raise ShapeError(f"{cls.__name__}: shape {shape} ends in {given_supp} but one draw "
                                 f"has shape {supp} (from the parameters)")
            supp = given_supp
            out_batch = shape[: len(shape) - cls.ndim_supp]
        elif size is not None:
            size = to_shape(size)
            out_batch = size
        else:
            out_batch = batch
        try:
            if jnp.broadcast_shapes(batch, out_batch) != tuple(out_batch):
                raise ValueError
        except ValueError:
            raise ShapeError(
                f"{cls.__name__}: the parameters' shapes ("
                + ", ".join(f"{n}{tuple(a.shape)}" for n, a in zip(cls.param_names, avals))
                + f") do not broadcast to the requested shape {(*out_batch, *supp)}. Check dims/shape "
                "against the parameters."
            ) from None
        self.explicit_shape = shape is not None or size is not None
        self.batch_shape = tuple(out_batch)
        self.shape = (*out_batch, *supp)
        dtype = config.intX() if cls.discrete else config.floatX()
        node = TensorVariable(None, [], jax.ShapeDtypeStruct(self.shape, dtype), kind="rv")
        node.owner = self
        node.model = None
        return node

    def supp_shape(self, *avals):
        """Shape of one draw for multivariate families (from parameter shapes)."""
        raise NotImplementedError(f"{type(self).__name__} must define supp_shape")

    # ------------------------------------------------------------------ per-family math (arrays)
    def logp(self, value, *params):
        raise NotImplementedError

    def logcdf(self, value, *params):
        raise TypeError(f"{type(self).__name__} has no logcdf")

    def random(self, key, *params, size):
        raise NotImplementedError

    def support_point(self, *params, size):
        raise NotImplementedError

    # ------------------------------------------------------------------ derived from the constraints
    def _refs(self, refs, params):
        """Values of the parameters named by a constraint's `refs`."""
        return [params[self.param_names.index(r)] for r in refs]

    def in_support(self, value, *params):
        """Boolean array over the batch shape: is `value` in the support?"""
        support = self.support
        ok = support.check(value, *self._refs(support.refs, params))
        extra = self.ndim_supp - support.event_dim
        xp = np if isinstance(ok, np.ndarray) else jnp  # numpy values: checked while the model is built
        return xp.all(ok, axis=tuple(range(-extra, 0))) if extra > 0 else ok

    def check_params(self, *params) -> list[tuple[jax.Array, str]]:
        """[(condition, description)] that valid parameters satisfy (as in PyMC's check_parameters)."""
        names = self.param_names
        ndims = self.ndims_params or (0,) * len(params)
        checks = []
        for name, cons in self.arg_constraints.items():
            if name not in names:
                continue
            i = names.index(name)
            for c in cons if isinstance(cons, tuple) else (cons,):
                cond = c.check(params[i], *self._refs(c.refs, params))
                extra = ndims[i] - c.event_dim
                if extra > 0:
                    cond = jnp.all(cond, axis=tuple(range(-extra, 0)))
                checks.append((cond, self.check_messages.get(name) or c.describe(name)))
        return checks

    def default_transform(self):
        return self.support.transform(self)

    # ------------------------------------------------------------------ checked versions used by compile
    def params_ok(self, *params):
        """All parameter conditions as one boolean (broadcastable to the batch shape)."""
        ok = jnp.array(True)
        for cond, _ in self.check_params(*params):
            ok = ok & cond
        return ok

    def checked_logp(self, value, *params):
        lp = self.logp(value, *params)
        ok = self.in_support(value, *params)
        for cond, _ in self.check_params(*params):
            ok = ok & cond  # conditions come reduced to (a shape broadcasting with) the batch shape
        return jnp.where(ok, lp, -jnp.inf)

    def checked_logcdf(self, value, *params):
        return jnp.where(self.params_ok(*params), self.logcdf(value, *params), -jnp.inf)


class Continuous(Distribution):
    discrete = False


class Discrete(Distribution):
    discrete = True


class SymbolicRandomVariable(Distribution):
    """Families whose logp is written in terms of other distributions (wrappers)."""

"""The one distribution base class: parameters, shape from dims/shape/observed, logp, logcdf, random.

`pm.Normal("x", mu, sigma, dims=...)` registers a random variable in the current model and returns its
graph node; `pm.Normal.dist(mu, sigma)` returns an unnamed one (for wrappers, `pm.logp`, `pm.draw`).
Families subclass `Distribution` and define, as functions of arrays: `logp(value, *params)`, optionally
`logcdf`, `random(key, *params, size)`, `support_point(*params, size)`, `in_support(value, *params)` and
`check_params(*params)`; `dist()` maps PyMC's parameterizations onto the canonical parameters.
"""

from __future__ import annotations

import difflib
import inspect

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.exceptions import ShapeError  # noqa: F401  (families import it from here)
from jaxmc.graph import TensorVariable, aval_of
from jaxmc.model.context import UNSET, modelcontext



def _as_param(x, cls, pname):
    if isinstance(x, TensorVariable):
        return x
    if isinstance(x, jax.core.Tracer):  # inside jit/grad/vmap: keep it traced
        return x.astype(config.floatX()) if jnp.issubdtype(x.dtype, jnp.floating) else x
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    try:
        arr = np.asarray(x)
    except Exception:
        arr = np.asarray(x, dtype=object)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{cls.__name__}: parameter {pname!r} must be numeric (a number, array, model variable or "
            f"pm.Data), found {type(x).__name__} {x!r:.80}"
        )
    if arr.dtype.kind == "f" or (arr.dtype.kind in "biu" and pname not in cls.integer_params):
        arr = arr.astype(config.floatX())
    elif arr.dtype.kind in "biu":
        arr = arr.astype(config.intX())
    return jnp.asarray(arr)


class Distribution:
    """Base class of all distributions (see the module docstring for what a family defines)."""

    #: number of trailing axes of one draw (0: univariate, 1: vector, 2: matrix)
    ndim_supp = 0
    #: core number of dimensions of each parameter (default 0 for all)
    ndims_params: tuple[int, ...] | None = None
    #: names of parameters in canonical order (filled by families)
    param_names: tuple[str, ...] = ()
    #: parameters kept as integers (e.g. Binomial's n)
    integer_params: tuple[str, ...] = ()
    discrete = False
    #: True when in_support uses the parameters (bounds): observed values are then checked at build time
    #: only when the parameters are constants
    support_depends_on_params = False

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
        params = [_as_param(p, cls, n) for p, n in zip(dist_params, cls.param_names or
                                                      [f"param{i}" for i in range(len(dist_params))])]
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
        supp = tuple(self._supp_shape(*avals)) if cls.ndim_supp else ()
        if shape is not None:
            shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
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
            size = (size,) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)
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

    def _supp_shape(self, *avals):
        """Shape of one draw for multivariate families (from parameter shapes)."""
        raise NotImplementedError(f"{type(self).__name__} must define _supp_shape")

    # ------------------------------------------------------------------ per-family math (arrays)
    def logp(self, value, *params):
        raise NotImplementedError

    def logcdf(self, value, *params):
        raise TypeError(f"{type(self).__name__} has no logcdf")

    def random(self, key, *params, size):
        raise NotImplementedError

    def support_point(self, *params, size):
        raise NotImplementedError

    def in_support(self, value, *params):
        """Boolean array over the batch shape: is `value` in the support?"""
        return jnp.ones(jnp.shape(value)[: jnp.ndim(value) - self.ndim_supp], bool)

    def check_params(self, *params) -> list[tuple[jax.Array, str]]:
        """[(condition, description)] that valid parameters satisfy (as in PyMC's check_parameters)."""
        return []

    def default_transform(self):
        return None

    # ------------------------------------------------------------------ checked versions used by compile
    def checked_logp(self, value, *params):
        lp = self.logp(value, *params)
        ok = self.in_support(value, *params)
        for cond, _ in self.check_params(*params):
            ok = ok & cond  # conditions come reduced to (a shape broadcasting with) the batch shape
        return jnp.where(ok, lp, -jnp.inf)

    def checked_logcdf(self, value, *params):
        lc = self.logcdf(value, *params)
        ok = jnp.array(True)
        for cond, _ in self.check_params(*params):
            ok = ok & cond
        return jnp.where(ok, lc, -jnp.inf)


class Continuous(Distribution):
    discrete = False


class Discrete(Distribution):
    discrete = True


class SymbolicRandomVariable(Distribution):
    """Families whose logp is written in terms of other distributions (wrappers)."""

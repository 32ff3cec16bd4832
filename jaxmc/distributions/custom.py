"""`pm.CustomDist` (and its deprecated alias `DensityDist`): distributions from user functions (logp, logcdf,
random, support_point) or from a `dist` function building a graph of other distributions."""

from __future__ import annotations

import re
import warnings
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.distributions.base import Distribution, ShapeError, SymbolicRandomVariable
from jaxmc.distributions.derived import derived_logp
from jaxmc.distributions.params import as_param, shape_of, to_shape
from jaxmc.distributions.wrappers import broadcast, check_kwargs, make_rv
from jaxmc.graph import TensorVariable, ancestral_sample, aval_of, evaluate, rv_ancestors, rv_shape
from jaxmc.model.context import model_stack

# `SymbolicRandomVariable` (PyMC: the base class of distributions defined by PyTensor graphs) is exported here
# so that `pm.SymbolicRandomVariable` exists; jaxmc's wrappers subclass `Distribution` directly.
__all__ = ["CustomDist", "DensityDist", "SymbolicRandomVariable"]


def _not_implemented(rv_name, method_name):
    message = (
        f"Attempted to run {method_name} on the CustomDist '{rv_name}', but this method had not been provided "
        f"when the distribution was constructed. Please re-build your model and provide a callable to "
        f"'{rv_name}'s {method_name} keyword argument.\n"
    )

    def func(*args, **kwargs):
        raise NotImplementedError(message)

    func._not_implemented = True
    return func


_SIG_ARG = re.compile(r"\(([^()]*)\)")


def _parse_signature(signature: str):
    """numpy-vectorize signature '(n),()->(n)' -> ([core dims of each input], [core dims of output])."""
    sig = signature.replace(" ", "")
    if "->" not in sig:
        raise ValueError(f"Invalid signature {signature!r}: expected '(...),(...)->(...)'")
    ins, outs = sig.split("->")
    in_dims = [tuple(d for d in g.split(",") if d) for g in _SIG_ARG.findall(ins)]
    out_dims = [tuple(d for d in g.split(",") if d) for g in _SIG_ARG.findall(outs)]
    if len(out_dims) != 1:
        raise NotImplementedError("CustomDist signatures with more than one output are not supported")
    return in_dims, out_dims[0]


def core_info(n_params, ndim_supp, ndims_params, signature):
    """(ndim_supp, ndims_params, input core dim names or None, output core dim names or None)."""
    if signature is not None:
        in_dims, out_dims = _parse_signature(signature)
        # PyMC's extended signatures may carry [size] / [rng] entries: keep only the parameters
        if len(in_dims) != n_params:
            raise ValueError(f"signature {signature!r} has {len(in_dims)} inputs but {n_params} parameters "
                             "were given")
        return len(out_dims), tuple(len(d) for d in in_dims), in_dims, out_dims
    ndim_supp = 0 if ndim_supp is None else int(ndim_supp)
    ndims_params = tuple(ndims_params) if ndims_params is not None else (0,) * n_params
    return ndim_supp, ndims_params, None, None


def dtype_of(dtype):
    if dtype in (None, "floatX"):
        return np.dtype(config.floatX())
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        return np.dtype(config.intX())
    if dt.kind == "b":
        return np.dtype(config.intX())
    return np.dtype(config.floatX()) if dt.kind == "f" else dt


def _batch_of(params, ndims_params, what):
    shapes = []
    for p, k in zip(params, ndims_params):
        s = shape_of(p)
        if len(s) < k:
            raise ShapeError(f"{what}: parameter of shape {s} has fewer than its {k} core dimension(s)")
        shapes.append(s[: len(s) - k])
    return broadcast(*shapes, what=what) if shapes else ()


class _ModelAccessBlocked:
    """While the `dist` function of a CustomDist runs, no model is on the context stack (PyMC blocks model
    access there too): named variables cannot be created by mistake."""

    def __enter__(self):
        self.models = model_stack()
        self.saved = list(self.models)
        self.models.clear()

    def __exit__(self, *exc):
        self.models.extend(self.saved)


class UserDistribution(Distribution):
    """Base of the distributions defined by user functions (CustomDist, Simulator): the log density is used as
    the functions return it (no support or parameter checks); each variable gets a subclass named
    `class_name`, with parameters `param0`, `param1`, ..."""

    param_names = ()
    _logcdf = None

    @classmethod
    def _start(cls, class_name, dist_params):
        """(instance of a subclass of `cls` named `class_name`, the parameters as arrays or graph nodes)."""
        params = [as_param(p, f"param{i}", integer=True, keep_bool=True) for i, p in enumerate(dist_params)]
        sub = type(class_name, (cls,), {"__module__": cls.__module__, "__doc__": cls.__doc__})
        self = object.__new__(sub)
        self.class_name = class_name
        return self, params

    def _node(self, params, shape, *, discrete, ndim_supp, ndims_params):
        return make_rv(self, params, shape, discrete=discrete, ndim_supp=ndim_supp,
                       param_names=[f"param{i}" for i in range(len(params))], ndims_params=ndims_params)

    def checked_logp(self, value, *params):
        return self.logp(value, *params)

    def logcdf(self, value, *params):
        if self._logcdf is None:
            return super().logcdf(value, *params)
        return _as_result(self._logcdf(value, *params), "logcdf", self.class_name)

    def checked_logcdf(self, value, *params):
        return self.logcdf(value, *params)


class _CustomDist(UserDistribution):
    """CustomDist with black-box `logp` / `logcdf` / `random` functions (PyMC's `_CustomDist`)."""

    @classmethod
    def dist(cls, *dist_params, logp: Callable | None = None, logcdf: Callable | None = None,
             random: Callable | None = None, support_point: Callable | None = None, ndim_supp=None,
             ndims_params=None, signature=None, dtype="floatX", class_name="CustomDist", shape=None, size=None,
             **kwargs):
        check_kwargs(class_name, kwargs)
        self, params = cls._start(class_name, dist_params)
        if ndim_supp is None and signature is None:
            signature = ",".join("()" for _ in params) + "->()"
        ndim_supp, ndims_params, in_dims, out_dims = core_info(len(params), ndim_supp, ndims_params, signature)
        self._logp = logp if logp is not None else _not_implemented(class_name, "logp")
        self._logcdf = logcdf if logcdf is not None else _not_implemented(class_name, "logcdf")
        self._random = random if random is not None else _not_implemented(class_name, "random")
        self._support_point = support_point
        self._dtype = dtype_of(dtype)
        shape = custom_shape(class_name, params, ndims_params, ndim_supp, in_dims, out_dims, shape, size)
        return self._node(params, shape, discrete=self._dtype.kind in "iu", ndim_supp=ndim_supp,
                          ndims_params=ndims_params)

    def logp(self, value, *params):
        return _as_result(self._logp(value, *params), "logp", self.class_name)

    def random(self, key, *params, size):
        if getattr(self._random, "_not_implemented", False):
            self._random()
        size = tuple(size)
        batch = size[: len(size) - self.ndim_supp]
        user_size = batch if batch else None
        dtype = self._dtype
        fn = self._random

        def cb(seed, *ps):
            rng = np.random.default_rng(int(np.asarray(seed)))
            out = np.asarray(fn(*[np.asarray(p) for p in ps], rng=rng, size=user_size))
            try:
                return np.broadcast_to(out, size).astype(dtype)
            except ValueError:
                raise ValueError(f"{self.class_name}: random returned shape {out.shape}, expected {size}") \
                    from None

        seed = jax.random.randint(key, (), 0, 2**31 - 1)
        return jax.pure_callback(cb, jax.ShapeDtypeStruct(size, dtype), seed, *params, vmap_method="sequential")

    def support_point(self, *params, size):
        size = tuple(size)
        if self._support_point is None:
            return jnp.zeros(size, self._dtype)
        batch = size[: len(size) - self.ndim_supp]
        out = self._support_point(jnp.zeros(size, self._dtype), batch, *params)
        return jnp.broadcast_to(_as_result(out, "support_point", self.class_name), size)


def _as_result(x, what, name):
    if isinstance(x, TensorVariable):
        raise TypeError(
            f"{name}: the {what} function returned a model expression. It is called with the parameter values "
            "as arrays; pass model variables it needs as distribution parameters (CustomDist(name, *params, "
            "...)) instead of using them from the enclosing scope."
        )
    return jnp.asarray(x)


def custom_shape(what, params, ndims_params, ndim_supp, in_dims, out_dims, shape, size):
    shape, size = to_shape(shape), to_shape(size)
    batch = _batch_of(params, ndims_params, what)
    if shape is not None:
        if len(shape) < ndim_supp:
            raise ShapeError(f"{what}: shape {shape} has fewer than the {ndim_supp} support dimension(s)")
        out_batch = shape[: len(shape) - ndim_supp]
        broadcast(batch, out_batch, what=what)
        return shape
    supp = []
    if ndim_supp:
        for name in out_dims or ():
            found = None
            for p, dims in zip(params, in_dims or ()):
                if name in dims:
                    found = shape_of(p)[len(shape_of(p)) - len(dims) + dims.index(name)]
                    break
            if found is None:
                raise ShapeError(
                    f"{what}: the support shape of a multivariate CustomDist cannot be inferred; give shape= "
                    "(or a signature whose output core dimensions appear among the inputs')"
                )
            supp.append(found)
    out_batch = size if size is not None else batch
    if size is not None and broadcast(batch, size, what=what) != tuple(size):
        raise ShapeError(f"{what}: parameters of batch shape {batch} do not broadcast to size {size}")
    return (*out_batch, *supp)


class _CustomSymbolicDist(UserDistribution):
    """CustomDist whose `dist` function builds a graph of other distributions (PyMC's `_CustomSymbolicDist`)."""

    @classmethod
    def dist(cls, *dist_params, dist: Callable, logp: Callable | None = None, logcdf: Callable | None = None,
             support_point: Callable | None = None, ndim_supp=None, ndims_params=None, signature=None,
             dtype="floatX", class_name="CustomDist", shape=None, size=None, **kwargs):
        check_kwargs(class_name, kwargs)
        self, params = cls._start(class_name, dist_params)
        ndim_supp, ndims_params, _, _ = core_info(len(params), ndim_supp, ndims_params, signature)
        self._dist_fn = dist
        self._logp = logp
        self._logcdf = logcdf if logcdf is not None else _not_implemented(class_name, "logcdf")
        self._support_point = support_point
        self._graphs = {}
        self.ndim_supp = ndim_supp
        self._params_avals = [aval_of(p) for p in params]
        shape, size = to_shape(shape), to_shape(size)
        if shape is not None:
            batch = shape[: len(shape) - ndim_supp]
        else:
            batch = size
        out, _ = self._graph(batch)
        if shape is not None and tuple(out.shape) != shape:
            raise ShapeError(f"{class_name}: the dist function returned shape {tuple(out.shape)}, expected {shape}")
        discrete = jnp.issubdtype(out.dtype, jnp.integer) or out.dtype == jnp.bool_
        self._built_batch = batch
        self._built_shape = tuple(out.shape)
        return self._node(params, out.shape, discrete=discrete, ndim_supp=ndim_supp, ndims_params=ndims_params)

    # ---------------------------------------------------------------- the generative graph
    def _graph(self, batch):
        key = None if batch is None else tuple(batch)
        if key not in self._graphs:
            holders = [TensorVariable(None, [], a, kind="data", name=f"{self.class_name}_param{i}")
                       for i, a in enumerate(self._params_avals)]
            with _ModelAccessBlocked():
                try:
                    out = self._dist_fn(*holders, key)
                except TypeError as err:
                    if "outside a model" in str(err):
                        raise ValueError("Model variables cannot be created in the dist function. Use the "
                                         "`.dist` API") from None
                    raise
            if not isinstance(out, TensorVariable):
                raise TypeError(f"{self.class_name}: the dist function must return a graph built from `.dist()` "
                                f"variables, found {type(out).__name__}")
            self._graphs[key] = (out, holders)
        return self._graphs[key]

    def _graph_for_size(self, size):
        size = tuple(size)
        if size == self._built_shape:
            return self._graph(self._built_batch)
        return self._graph(size[: len(size) - self.ndim_supp])

    def _env(self, holders, params):
        return {h: p for h, p in zip(holders, params)}

    # ---------------------------------------------------------------- methods
    def random(self, key, *params, size):
        out, holders = self._graph_for_size(size)
        return ancestral_sample([out], key, self._env(holders, params))[0]

    def support_point(self, *params, size):
        size = tuple(size)
        if self._support_point is not None:
            res = self._support_point(jnp.zeros(size, self.dtype_()), size[: len(size) - self.ndim_supp], *params)
            return jnp.broadcast_to(_as_result(res, "support_point", self.class_name), size)
        out, holders = self._graph_for_size(size)
        env = self._env(holders, params)
        for rv in rv_ancestors([out]):
            ps = evaluate(rv.owner.params, env)
            env[rv] = rv.owner.support_point(*ps, size=rv_shape(rv, ps, env)).astype(rv.dtype)
        return jnp.broadcast_to(evaluate([out], env)[0], size)

    def dtype_(self):
        return config.intX() if self.discrete else config.floatX()

    def logp(self, value, *params):
        if self._logp is not None:
            return _as_result(self._logp(value, *params), "logp", self.class_name)
        out, holders = self._graph_for_size(jnp.shape(value))
        return derived_logp(out, value, self._env(holders, params), self.class_name)


class CustomDist:
    """A distribution from user functions (PyMC's API): `logp`, `logcdf`, `random`, `support_point`, or a
    `dist` function that builds it from other distributions; jaxmc passes:

    * `logp=`, `logcdf=`: called as `logp(value, *dist_params)` with JAX arrays (use `pm.math`, `jax.numpy` or
      operators, not `numpy` functions). The result is used as returned (a summed scalar stays a scalar).
    * `random=`: a NumPy function `random(*dist_params, rng=np.random.Generator, size=batch shape or None)`, run
      through `jax.pure_callback` (one call per draw inside `pm.draw` / predictive sampling).
    * `support_point=`: `support_point(rv, size, *dist_params)`, with `rv` an array of zeros of the variable's
      shape; default zeros.
    * `dist=`: `dist(*dist_params, size)` builds a graph from `.dist()` variables; draws evaluate the graph
      (`ancestral_sample`). Without `logp=`, the log density is derived when the graph is one random variable, or
      an elementwise invertible function of exactly one random variable (`+ - * /` by quantities that do not
      depend on it, `exp`, `log`, `log1p`, `expm1`, `sigmoid`/`invlogit`, `logit`, `sinh`, `arcsinh`, `tanh`,
      `arctanh`, `sqrt`, `c ** x`) — change of variables with the Jacobian from JAX; or `clip(x, lower, upper)`
      of one random variable (the censored density). Other graphs need `logp=`.
    """

    def __new__(cls, name, *dist_params, dist: Callable | None = None, random: Callable | None = None,
                logp: Callable | None = None, logcdf: Callable | None = None,
                support_point: Callable | None = None, ndim_supp: int | None = None,
                ndims_params: Sequence[int] | None = None, signature: str | None = None, dtype: str = "floatX",
                **kwargs):
        if isinstance(kwargs.get("observed", None), dict):
            raise TypeError(
                "Since ``v4.0.0`` the ``observed`` parameter should be of type ``pd.Series``, ``np.array``, or "
                "``pm.Data``. Previous versions allowed passing distribution parameters as a dictionary in "
                "``observed``, in the current version these parameters are positional arguments."
            )
        dist_params = cls.parse_dist_params(dist_params)
        cls.check_valid_dist_random(dist, random, dist_params)
        kwargs.setdefault("class_name", f"CustomDist_{name}")
        if dist is not None:
            return _CustomSymbolicDist(name, *dist_params, dist=dist, logp=logp, logcdf=logcdf,
                                       support_point=support_point, ndim_supp=ndim_supp,
                                       ndims_params=ndims_params, signature=signature, dtype=dtype, **kwargs)
        return _CustomDist(name, *dist_params, random=random, logp=logp, logcdf=logcdf,
                           support_point=support_point, ndim_supp=ndim_supp, ndims_params=ndims_params,
                           signature=signature, dtype=dtype, **kwargs)

    @classmethod
    def dist(cls, *dist_params, dist: Callable | None = None, random: Callable | None = None,
             logp: Callable | None = None, logcdf: Callable | None = None, support_point: Callable | None = None,
             ndim_supp: int | None = None, ndims_params: Sequence[int] | None = None, signature: str | None = None,
             dtype: str = "floatX", **kwargs):
        dist_params = cls.parse_dist_params(dist_params)
        cls.check_valid_dist_random(dist, random, dist_params)
        if dist is not None:
            return _CustomSymbolicDist.dist(*dist_params, dist=dist, logp=logp, logcdf=logcdf,
                                            support_point=support_point, ndim_supp=ndim_supp,
                                            ndims_params=ndims_params, signature=signature, dtype=dtype, **kwargs)
        return _CustomDist.dist(*dist_params, random=random, logp=logp, logcdf=logcdf, support_point=support_point,
                                ndim_supp=ndim_supp, ndims_params=ndims_params, signature=signature, dtype=dtype,
                                **kwargs)

    @classmethod
    def parse_dist_params(cls, dist_params):
        if len(dist_params) > 0 and callable(dist_params[0]) and not isinstance(dist_params[0], TensorVariable):
            raise TypeError(
                "The DensityDist API has changed, you are using the old API where logp was the first positional "
                "argument. In the current API, the logp is a keyword argument, amongst other changes. Please "
                "refer to the API documentation for more information on how to use the new DensityDist API."
            )
        return list(dist_params)

    @classmethod
    def check_valid_dist_random(cls, dist, random, dist_params):
        if dist is not None and random is not None:
            raise ValueError("Cannot provide both dist and random functions")
        if random is not None and cls.is_symbolic_random(random, dist_params):
            raise TypeError(
                "API change: function passed to `random` argument should no longer return a PyTensor graph. "
                "Pass such function to the `dist` argument instead."
            )

    @classmethod
    def is_symbolic_random(cls, random, dist_params):
        """Does `random` build a graph (a `dist` function passed as `random`)? Called once with graph
        placeholders, as PyMC does."""
        holders = [TensorVariable(None, [], aval_of(as_param(p, integer=True, keep_bool=True)), kind="data")
                   for p in dist_params]
        try:
            with _ModelAccessBlocked(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = random(*holders, None)
        except Exception:
            return False
        return isinstance(out, TensorVariable)


class DensityDist(CustomDist):
    """Deprecated alias of `CustomDist` (as in PyMC 6: a FutureWarning on use)."""

    def __new__(cls, *args, **kwargs):
        warnings.warn("DensityDist has been deprecated, use CustomDist instead.", FutureWarning, stacklevel=2)
        return super().__new__(cls, *args, **kwargs)

    @classmethod
    def dist(cls, *args, **kwargs):
        warnings.warn("DensityDist has been deprecated, use CustomDist instead.", FutureWarning, stacklevel=2)
        return super().dist(*args, **kwargs)

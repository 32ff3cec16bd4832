"""Building blocks of the distributions made from other distributions (mixtures, Censored, Truncated, time
series): checks of the wrapped `.dist()` variables, their parameters inside the wrapper's, the wrapper's node."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.distributions.base import Distribution, ShapeError
from jaxmc.distributions.dist_math import is_static_inf, log1mexp
from jaxmc.distributions.params import as_param, shape_of
from jaxmc.graph import TensorVariable


def is_dist_var(d) -> bool:
    """Is `d` an unnamed or named distribution variable (a graph node owned by a distribution)?"""
    return isinstance(d, TensorVariable) and d.kind == "rv" and isinstance(d.owner, Distribution)


def check_dist_not_registered(d):
    """PyMC's check: a distribution passed to another one must come from `.dist()`, not from the model."""
    if getattr(d, "model", None) is not None:
        raise ValueError(
            f"The dist {d} was already registered in the current model.\nYou should use an unregistered "
            "(unnamed) distribution created via the `.dist()` API instead, such as:\n"
            "`dist=pm.Normal.dist(0, 1)`"
        )


def check_dist(d, what, multivariate=None):
    """PyMC's checks of a distribution given to a wrapper (`what`: how the error names it), in PyMC's order;
    `multivariate`: the NotImplementedError message when `d` must be univariate."""
    if not is_dist_var(d):
        raise ValueError(f"{what} dist must be a distribution created via the `.dist()` API, got {type(d)}")
    if multivariate is not None and d.owner.ndim_supp > 0:
        raise NotImplementedError(multivariate)
    check_dist_not_registered(d)


def broadcast(*shapes, what="") -> tuple:
    try:
        return tuple(jnp.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        raise ShapeError(f"{what}: shapes {', '.join(str(tuple(s)) for s in shapes)} do not broadcast "
                         "together") from None


def check_kwargs(cls_name, kwargs):
    kwargs.pop("rng", None)
    if kwargs:
        raise TypeError(f"{cls_name} got unknown keyword argument(s) {sorted(kwargs)}")


class Part:
    """A `.dist()` variable inside a wrapper: its distribution object and where its parameters sit in the
    wrapper's parameter list.

    A wrapper takes unnamed `.dist()` variables; their distribution objects (`node.owner`) are kept on the
    wrapper instance and their parameters are appended to the wrapper's own parameter list, so that the
    model evaluates (and differentiates through) them like any other parameter. The wrapper's `logp`,
    `random`, ... split the list again and call the components' methods. Wrappers fix their shape when they
    are built (`explicit_shape`); `random` nevertheless follows the `size` it is given (dims changed by
    `pm.set_data`)."""

    def __init__(self, node, start):
        self.node_shape = tuple(node.shape)
        self.dist = node.owner
        self.start = start
        self.stop = start + len(node.owner.params)
        self.ndim_supp = node.owner.ndim_supp
        self.discrete = bool(node.owner.discrete)
        self.supp_shape = self.node_shape[len(self.node_shape) - self.ndim_supp:]
        self.batch_shape = self.node_shape[: len(self.node_shape) - self.ndim_supp]

    def params(self, params):
        return params[self.start:self.stop]

    def ndims_params(self, extra=0):
        d = self.dist
        k = d.ndims_params or (0,) * len(d.params)
        return tuple(int(i) + extra for i in k)


def pack_parts(dists, offset) -> tuple[list, list[Part]]:
    """Parameters of several `.dist()` variables, appended after `offset` own parameters."""
    params, parts = [], []
    for d in dists:
        parts.append(Part(d, offset + len(params)))
        params.extend(d.owner.params)
    return params, parts


def make_rv(obj, params, shape, *, discrete, ndim_supp=0, param_names=None, ndims_params=None):
    """The graph node of wrapper instance `obj` with (already converted) parameters and a fixed shape."""
    shape = tuple(int(s) for s in shape)
    obj.params = list(params)
    obj.ndim_supp = int(ndim_supp)
    obj.discrete = bool(discrete)
    obj.shape = shape
    obj.batch_shape = shape[: len(shape) - obj.ndim_supp]
    obj.explicit_shape = True
    if param_names is not None:
        obj.param_names = tuple(param_names)
    if ndims_params is not None:
        obj.ndims_params = tuple(ndims_params)
    dtype = config.intX() if discrete else config.floatX()
    node = TensorVariable(None, [], jax.ShapeDtypeStruct(shape, dtype), kind="rv")
    node.owner = obj
    node.model = None
    return node


def part_param_names(prefix, part):
    names = part.dist.param_names or [f"param{i}" for i in range(len(part.dist.params))]
    return [f"{prefix}_{n}" for n in names]


def batch_shape(implied, shape, size, ndim_supp=0):
    """The batch shape of a wrapper: from `shape` (less its `ndim_supp` support axes), `size`, or `implied`."""
    if shape is not None:
        return tuple(shape[: len(shape) - ndim_supp])
    return tuple(size) if size is not None else implied


def supported_logp(dist, value, params):
    """Component log density masked to its support, without its parameter checks (checked separately)."""
    lp = dist.logp(value, *params)
    ok = dist.in_support(value, *params)
    return jnp.where(ok, lp, -jnp.inf)


def logccdf(dist, value, params):
    """log(1 - CDF): a family's `logccdf` when it has one, else log1mexp of its logcdf."""
    if hasattr(dist, "logccdf"):
        return dist.logccdf(value, *params)
    return log1mexp(dist.logcdf(value, *params))


class Bounded(Distribution):
    """A univariate `.dist()` variable `dist` with bounds: parameters are dist's, then `lower` and `upper`
    (None or an infinite constant: unbounded on that side). Base of Censored and Truncated."""

    support_depends_on_params = True

    @classmethod
    def _bounded(cls, name, dist, lower, upper, shape, size, **attrs):
        lower = as_param(-np.inf if lower is None else lower, "lower")
        upper = as_param(np.inf if upper is None else upper, "upper")
        base_params, (part,) = pack_parts([dist], 0)
        self = object.__new__(cls)
        self._part = part
        self._lb = not is_static_inf(lower, -1)
        self._ub = not is_static_inf(upper, 1)
        for k, v in attrs.items():
            setattr(self, k, v)
        implied = broadcast(dist.shape, shape_of(lower), shape_of(upper), what=name)
        if shape is None:
            shape = size if size is not None else implied
        if broadcast(implied, shape, what=name) != tuple(shape):
            raise ShapeError(f"{name}: the distribution and bounds (shape {implied}) do not broadcast to the "
                             f"requested shape {tuple(shape)}")
        return make_rv(self, [*base_params, lower, upper], shape, discrete=part.discrete,
                       param_names=[*part_param_names("dist", part), "lower", "upper"],
                       ndims_params=[*part.ndims_params(), 0, 0])

    @property
    def base(self):
        return self._part.dist

    def _split(self, params):
        return params[:-2], params[-2], params[-1]

    def check_params(self, *params):
        if self._lb and self._ub:
            _, lower, upper = self._split(params)
            return [(lower <= upper, "lower_bound <= upper_bound")]
        return []

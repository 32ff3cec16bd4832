"""Time series with PyMC's names, parameters, shapes and densities: random walks, `AR`, `GARCH11` and
`EulerMaruyama` (the time axis is the first support axis; log densities are vectorized over time)."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.distributions import constraints
from jaxmc.distributions.base import Distribution, ShapeError
from jaxmc.distributions.continuous import Normal
from jaxmc.distributions.dist_math import normal_logpdf
from jaxmc.distributions.multivariate import MvNormal, MvStudentT
from jaxmc.distributions.params import as_param, get_tau_sigma, shape_of, static_int, to_shape
from jaxmc.distributions.wrappers import (
    batch_shape, broadcast, check_dist, check_dist_not_registered, check_kwargs, is_dist_var, make_rv,
    pack_parts, part_param_names,
)
from jaxmc.graph import TensorVariable, apply

__all__ = [
    "AR",
    "GARCH11",
    "EulerMaruyama",
    "GaussianRandomWalk",
    "MvGaussianRandomWalk",
    "MvStudentTRandomWalk",
    "RandomWalk",
]


def _steps(steps, shape, offset, ndim_supp=1, what="steps"):
    """PyMC's get_support_shape_1d: steps given, or shape[-ndim_supp] - offset; both must agree."""
    if steps is not None:
        steps = static_int(steps, what)
    if shape is not None:
        if len(shape) < ndim_supp:
            raise ValueError(f"Number of shape dimensions is too small for ndim_supp of {ndim_supp}")
        inferred = shape[len(shape) - ndim_supp] - offset
        if steps is not None and steps != inferred:
            raise ShapeError(f"support_shape does not match respective shape dimension: steps={steps} but "
                             f"shape {tuple(shape)} implies steps={inferred}")
        steps = inferred
    if steps is None:
        raise ValueError("Must specify steps or shape parameter")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, found {steps}")
    return steps


def _init_warning(default, stacklevel=3):
    warnings.warn(
        f"Initial distribution not specified, defaulting to `{default}`. You can specify an init_dist "
        "manually to suppress this warning.",
        UserWarning, stacklevel=stacklevel,
    )


def _init_dist(init_dist, max_ndim_supp, support, default_shape):
    """The `init_dist` of AR / EulerMaruyama, checked, or `Normal.dist(0, 100)` (with a warning)."""
    if init_dist is None:
        _init_warning("Normal.dist(0, 100, shape=...)", stacklevel=4)
        return Normal.dist(0, 100, shape=default_shape)
    check_dist(init_dist, "Init")
    if init_dist.owner.ndim_supp > max_ndim_supp:
        raise ValueError(f"Init distribution must have {support} support dimension, "
                         f"got ndim_supp={init_dist.owner.ndim_supp}.")
    return init_dist


# ====================================================================== random walks
class RandomWalk(Distribution):
    r"""RandomWalk(init_dist, innovation_dist, steps=None): x_0 ~ init_dist, x_t = x_{t-1} + innovation_t.

    `init_dist` and `innovation_dist` are unnamed `.dist()` variables of the same support dimensionality; the
    series has shape (*batch, steps + 1, *support). The innovation parameters broadcast against the batch
    (they do not vary over time).

    The time axis is the first support axis (the last axis for univariate series): a series has shape
    (*batch, T, *innovation support). `steps` is T minus the initial values (1, or `ar_order` for AR); as in
    PyMC it is inferred from `shape` / `dims` / `observed` when not given. Log densities are vectorized over
    time (differences of the value, slices for the AR lags, an associative scan for the GARCH variance
    recursion); draws use `jax.lax.scan` or a cumulative sum."""

    @classmethod
    def dist(cls, init_dist, innovation_dist, steps=None, *, shape=None, size=None, **kwargs):
        check_kwargs("RandomWalk", kwargs)
        if not is_dist_var(init_dist):
            raise TypeError("init_dist must be a distribution variable")
        check_dist_not_registered(init_dist)
        if not is_dist_var(innovation_dist):
            raise TypeError("innovation_dist must be a distribution variable")
        check_dist_not_registered(innovation_dist)
        if init_dist.owner.ndim_supp != innovation_dist.owner.ndim_supp:
            raise TypeError("init_dist and innovation_dist must have the same support dimensionality")
        if init_dist is innovation_dist:
            raise ValueError("init_dist and innovation_dist must be completely independent")
        shape, size = to_shape(shape), to_shape(size)
        k = innovation_dist.owner.ndim_supp
        steps = _steps(steps, shape, 1, k + 1)
        params, (pi, pn) = pack_parts([init_dist, innovation_dist], 0)
        supp = pn.supp_shape
        if pi.supp_shape != supp:
            raise ShapeError(f"RandomWalk: init_dist has support shape {pi.supp_shape} but innovation_dist has "
                             f"{supp}")
        implied = broadcast(pi.batch_shape, pn.batch_shape, what="RandomWalk")
        if shape is not None:
            batch = tuple(shape[: len(shape) - k - 1])
            if tuple(shape[len(shape) - k:]) != tuple(supp):
                raise ShapeError(f"RandomWalk: shape {shape} does not end in the innovations' support shape {supp}")
        else:
            batch = tuple(size) if size is not None else implied
        self = object.__new__(cls)
        self._init, self._innov = pi, pn
        return make_rv(self, params, (*batch, steps + 1, *supp), discrete=pn.discrete, ndim_supp=k + 1,
                       param_names=[*part_param_names("init", pi), *part_param_names("innovation", pn)],
                       ndims_params=[*pi.ndims_params(), *pn.ndims_params()])

    def _time_first(self, x):
        return jnp.moveaxis(x, -self.ndim_supp, 0)

    def logp(self, value, *params):
        v = self._time_first(value)
        init_lp = self._init.dist.checked_logp(v[0], *self._init.params(params))
        innov_lp = self._innov.dist.checked_logp(v[1:] - v[:-1], *self._innov.params(params))
        return init_lp + jnp.sum(innov_lp, axis=0)

    def _sizes(self, size):
        size = tuple(size)
        k = self.ndim_supp - 1
        t_axis = len(size) - k - 1
        return size[:t_axis], size[t_axis], size[t_axis + 1:]

    def random(self, key, *params, size):
        batch, T, supp = self._sizes(size)
        k1, k2 = jax.random.split(key)
        x0 = self._init.dist.random(k1, *self._init.params(params), size=(*batch, *supp))
        inc = self._innov.dist.random(k2, *self._innov.params(params), size=(T - 1, *batch, *supp))
        dtype = jnp.result_type(x0, inc)
        walk = jnp.cumsum(jnp.concatenate([x0[None].astype(dtype), inc.astype(dtype)], axis=0), axis=0)
        return jnp.moveaxis(walk, 0, -self.ndim_supp)

    def support_point(self, *params, size):
        batch, T, supp = self._sizes(size)
        x0 = jnp.broadcast_to(self._init.dist.support_point(*self._init.params(params), size=(*batch, *supp)),
                              (*batch, *supp))
        inc = jnp.broadcast_to(self._innov.dist.support_point(*self._innov.params(params),
                                                              size=(T - 1, *batch, *supp)), (T - 1, *batch, *supp))
        dtype = jnp.result_type(x0, inc)
        walk = jnp.cumsum(jnp.concatenate([x0[None].astype(dtype), inc.astype(dtype)], axis=0), axis=0)
        return jnp.moveaxis(walk, 0, -self.ndim_supp)


class _PredefinedRandomWalk:
    """Random walks with a given innovation family: `cls(name, ...)` and `cls.dist(...)` build a RandomWalk."""

    def __new__(cls, name, *args, **kwargs):
        init_dist, innovation_dist, kwargs = cls.get_dists(*args, **kwargs)
        return RandomWalk(name, init_dist=init_dist, innovation_dist=innovation_dist, **kwargs)

    @classmethod
    def dist(cls, *args, **kwargs):
        init_dist, innovation_dist, kwargs = cls.get_dists(*args, **kwargs)
        return RandomWalk.dist(init_dist=init_dist, innovation_dist=innovation_dist, **kwargs)

    @classmethod
    def get_dists(cls, *args, **kwargs):
        raise NotImplementedError


class GaussianRandomWalk(_PredefinedRandomWalk):
    r"""GaussianRandomWalk(mu=0, sigma=1, *, init_dist=None, steps=None): Normal(mu, sigma) innovations.

    init_dist defaults to `Normal.dist(0, 100)` (with a warning, as in PyMC)."""

    @classmethod
    def get_dists(cls, mu=0.0, sigma=1.0, *, init_dist=None, **kwargs):
        if init_dist is None:
            _init_warning("Normal.dist(0, 100)")
            init_dist = Normal.dist(0, 100)
        return init_dist, Normal.dist(mu=mu, sigma=sigma), kwargs


def _mv_default_init(mu):
    k = shape_of(mu)[-1] if shape_of(mu) else None
    if k is None:
        raise ValueError("mu must have the innovations' dimension on its last axis")
    _init_warning("MvNormal.dist(0, I*100)")
    return MvNormal.dist(np.zeros(k), np.eye(k) * 100)


class MvGaussianRandomWalk(_PredefinedRandomWalk):
    r"""MvGaussianRandomWalk(mu, *, cov | tau | chol, lower=True, init_dist=None, steps=None): MvNormal
    innovations; init_dist defaults to `MvNormal.dist(0, I*100)`."""

    @classmethod
    def get_dists(cls, mu, *, cov=None, tau=None, chol=None, lower=True, init_dist=None, **kwargs):
        mu = as_param(mu, "mu")
        if init_dist is None:
            init_dist = _mv_default_init(mu)
        innovation_dist = MvNormal.dist(mu=mu, cov=cov, tau=tau, chol=chol, lower=lower)
        return init_dist, innovation_dist, kwargs


class MvStudentTRandomWalk(_PredefinedRandomWalk):
    r"""MvStudentTRandomWalk(*, nu, mu, scale | tau | chol, lower=True, init_dist=None, steps=None):
    MvStudentT innovations; init_dist defaults to `MvNormal.dist(0, I*100)`."""

    @classmethod
    def get_dists(cls, *, nu, mu, scale=None, tau=None, chol=None, lower=True, init_dist=None, **kwargs):
        mu = as_param(mu, "mu")
        if init_dist is None:
            init_dist = _mv_default_init(mu)
        cov = kwargs.pop("cov", None)
        innovation_dist = MvStudentT.dist(nu=nu, mu=mu, scale=scale, tau=tau, chol=chol, lower=lower,
                                          **({"cov": cov} if cov is not None else {}))
        return init_dist, innovation_dist, kwargs


# ====================================================================== AR
def _atleast_1d(x):
    if isinstance(x, TensorVariable):
        return x if x.ndim >= 1 else apply(jnp.atleast_1d, x)
    return jnp.atleast_1d(x)


class AR(Distribution):
    r"""AR(rho, sigma=1 | tau, *, constant=False, init_dist=None, ar_order=None, steps=None): autoregressive
    process x_t = [rho_0 +] rho_1 x_{t-1} + ... + rho_p x_{t-p} + eps_t, eps_t ~ N(0, sigma).

    The last axis of rho holds the lag coefficients (after the constant with constant=True); the series has
    shape (*batch, steps + ar_order), the first ar_order values from `init_dist` (default
    `Normal.dist(0, 100)`, with a warning)."""

    arg_constraints = {"sigma": constraints.positive}

    @classmethod
    def dist(cls, rho, sigma=None, tau=None, *, init_dist=None, steps=None, constant=False, ar_order=None,
             shape=None, size=None, **kwargs):
        check_kwargs("AR", kwargs)
        _, sigma = get_tau_sigma(tau=tau, sigma=sigma)
        sigma = as_param(sigma, "sigma")
        rhos = _atleast_1d(as_param(rho, "rho"))
        constant = bool(constant)
        ar_order = cls._get_ar_order(rhos, ar_order, constant)
        shape, size = to_shape(shape), to_shape(size)
        steps = _steps(steps, shape, ar_order)
        init_dist = _init_dist(init_dist, 1, "a scalar or vector", (*shape_of(sigma), ar_order))
        init_params, (pi,) = pack_parts([init_dist], 2)
        init_batch = tuple(init_dist.shape[:-1]) if len(init_dist.shape) else ()
        implied = broadcast(shape_of(sigma), shape_of(rhos)[:-1], init_batch, what="AR")
        batch = batch_shape(implied, shape, size, 1)
        self = object.__new__(cls)
        self.ar_order = ar_order
        self.constant_term = constant
        self._init = pi
        return make_rv(self, [rhos, sigma, *init_params], (*batch, steps + ar_order), discrete=False, ndim_supp=1,
                       param_names=["rho", "sigma", *part_param_names("init", pi)],
                       ndims_params=[1, 0, *pi.ndims_params(extra=1 if pi.ndim_supp == 0 else 0)])

    @classmethod
    def _get_ar_order(cls, rhos, ar_order, constant):
        if ar_order is None:
            s = shape_of(rhos)
            ar_order = int(s[-1]) - int(constant)
            if ar_order < 1:
                raise ValueError("Inferred ar_order is smaller than 1. Increase the last dimension of rho or "
                                 "remove constant_term")
        return static_int(ar_order, "ar_order")

    def _expectation(self, value, rhos):
        p = self.ar_order
        T = value.shape[-1]
        off = 1 if self.constant_term else 0
        mean = rhos[..., 0:1] if self.constant_term else 0.0
        for i in range(p):  # over lags (static, small), each term vectorized over time
            mean = mean + rhos[..., i + off, None] * value[..., p - (i + 1): T - (i + 1)]
        return mean

    def logp(self, value, rhos, sigma, *init_params):
        p = self.ar_order
        innov = value[..., p:] - self._expectation(value, rhos)
        innov_lp = jnp.sum(normal_logpdf(innov, 0.0, sigma[..., None]), axis=-1)
        init_lp = self._init.dist.checked_logp(value[..., :p], *init_params)
        if self._init.ndim_supp == 0:
            init_lp = jnp.sum(init_lp, axis=-1)
        return init_lp + innov_lp

    def random(self, key, rhos, sigma, *init_params, size):
        size = tuple(size)
        batch, T = size[:-1], size[-1]
        p = self.ar_order
        steps = T - p
        k1, k2 = jax.random.split(key)
        x_init = self._init.dist.random(k1, *init_params, size=(*batch, p)).astype(config.floatX())
        n_coef = p + (1 if self.constant_term else 0)
        rh = jnp.broadcast_to(rhos, (*batch, n_coef))
        const = rh[..., 0] if self.constant_term else 0.0
        lags = rh[..., 1:] if self.constant_term else rh
        eps = jax.random.normal(k2, (steps, *batch), dtype=config.floatX()) * jnp.broadcast_to(sigma, batch)

        def step(window, e):  # window: (*batch, p), oldest first
            new = const + jnp.sum(lags * window[..., ::-1], axis=-1) + e
            return jnp.concatenate([window[..., 1:], new[..., None]], axis=-1), new

        _, xs = jax.lax.scan(step, x_init, eps)
        return jnp.concatenate([x_init, jnp.moveaxis(xs, 0, -1)], axis=-1)

    def support_point(self, rhos, sigma, *init_params, size):
        size = tuple(size)
        sp = jnp.broadcast_to(self._init.dist.support_point(*init_params, size=(*size[:-1], self.ar_order)),
                              (*size[:-1], self.ar_order))
        return jnp.broadcast_to(sp[..., -1:], size)


# ====================================================================== GARCH(1, 1)
@jax.jit
def _garch_variances(y, omega, alpha_1, beta_1, initial_vol):
    """sigma_t^2 for t = 0..T-1 (time first): v_0 = initial_vol^2, v_t = omega + alpha y_{t-1}^2 + beta v_{t-1},
    a linear recurrence solved with an associative scan."""
    v0 = jnp.broadcast_to(initial_vol**2, y.shape[1:]).astype(y.dtype)
    c = omega + alpha_1 * y[:-1] ** 2
    a = jnp.broadcast_to(beta_1, c.shape).astype(y.dtype)
    c = jnp.broadcast_to(c, a.shape)

    def combine(left, right):
        a1, c1 = left
        a2, c2 = right
        return a1 * a2, a2 * c1 + c2

    A, C = jax.lax.associative_scan(combine, (a, c), axis=0)
    v = A * v0 + C
    return jnp.concatenate([v0[None], v], axis=0)


class GARCH11(Distribution):
    r"""GARCH11(omega, alpha_1, beta_1, initial_vol, *, steps=None): y_t ~ N(0, sigma_t),
    sigma_t^2 = omega + alpha_1 y_{t-1}^2 + beta_1 sigma_{t-1}^2, sigma_0 = initial_vol."""

    @classmethod
    def dist(cls, omega, alpha_1, beta_1, initial_vol, *, steps=None, shape=None, size=None, **kwargs):
        check_kwargs("GARCH11", kwargs)
        shape, size = to_shape(shape), to_shape(size)
        steps = _steps(steps, shape, 1)
        params = [as_param(x, n) for x, n in zip((omega, alpha_1, beta_1, initial_vol),
                                                 ("omega", "alpha_1", "beta_1", "initial_vol"))]
        implied = broadcast(*[shape_of(p) for p in params], what="GARCH11")
        batch = batch_shape(implied, shape, size, 1)
        self = object.__new__(cls)
        return make_rv(self, params, (*batch, steps + 1), discrete=False, ndim_supp=1,
                       param_names=["omega", "alpha_1", "beta_1", "initial_vol"], ndims_params=[0, 0, 0, 0])

    def logp(self, value, omega, alpha_1, beta_1, initial_vol):
        y = jnp.moveaxis(value, -1, 0)
        var = _garch_variances(y, omega, alpha_1, beta_1, initial_vol)
        sigma = jnp.sqrt(var)
        lp = jnp.sum(normal_logpdf(y, 0.0, sigma), axis=0)
        return jnp.where(jnp.all(sigma > 0, axis=0), lp, -jnp.inf)

    def random(self, key, omega, alpha_1, beta_1, initial_vol, size):
        size = tuple(size)
        batch, T = size[:-1], size[-1]
        k1, k2 = jax.random.split(key)
        vol0 = jnp.broadcast_to(initial_vol, batch).astype(config.floatX())
        y0 = vol0 * jax.random.normal(k1, batch, dtype=config.floatX())
        eps = jax.random.normal(k2, (T - 1, *batch), dtype=config.floatX())

        def step(carry, e):
            y, s = carry
            s_new = jnp.sqrt(omega + alpha_1 * y**2 + beta_1 * s**2)
            y_new = s_new * e
            return (y_new, s_new), y_new

        _, ys = jax.lax.scan(step, (y0, vol0), eps)
        return jnp.concatenate([y0[..., None], jnp.moveaxis(ys, 0, -1)], axis=-1)

    def support_point(self, omega, alpha_1, beta_1, initial_vol, size):
        return jnp.zeros(tuple(size), config.floatX())


# ====================================================================== Euler-Maruyama
class EulerMaruyama(Distribution):
    r"""EulerMaruyama(dt, sde_fn, sde_pars, *, init_dist=None, steps=None): the Euler-Maruyama discretization
    of dX = f(X) dt + g(X) dW, with `f, g = sde_fn(x, *sde_pars)`:
    x_{t+1} ~ N(x_t + dt f(x_t), sqrt(dt) g(x_t)).

    `sde_fn` is called with JAX arrays (x and each parameter with a trailing time axis, as in PyMC); write it
    with `pm.math`, `jax.numpy` or operators. init_dist defaults to `Normal.dist(0, 100)` (with a warning)."""

    @classmethod
    def dist(cls, dt, sde_fn, sde_pars, *, init_dist=None, steps=None, shape=None, size=None, **kwargs):
        check_kwargs("EulerMaruyama", kwargs)
        shape, size = to_shape(shape), to_shape(size)
        steps = _steps(steps, shape, 1)
        dt = as_param(dt, "dt")
        sde_pars = [as_param(p, f"sde_par{i}") for i, p in enumerate(sde_pars)]
        init_dist = _init_dist(init_dist, 0, "a scalar", shape_of(sde_pars[0]) if sde_pars else ())
        n = len(sde_pars)
        init_params, (pi,) = pack_parts([init_dist], 1 + n)
        implied = broadcast(*[shape_of(p) for p in sde_pars], tuple(init_dist.shape), what="EulerMaruyama")
        batch = batch_shape(implied, shape, size, 1)
        self = object.__new__(cls)
        self.sde_fn = sde_fn
        self._n_pars = n
        self._init = pi
        return make_rv(self, [dt, *sde_pars, *init_params], (*batch, steps + 1), discrete=False, ndim_supp=1,
                       param_names=["dt", *[f"sde_par{i}" for i in range(n)], *part_param_names("init", pi)],
                       ndims_params=[0] * (1 + n) + list(pi.ndims_params()))

    @property
    def dt(self):
        return self.params[0]

    def _split(self, params):
        n = self._n_pars
        return params[0], list(params[1:1 + n]), params[1 + n:]

    def _drift_diffusion(self, x, pars):
        f, g = self.sde_fn(x, *pars)
        return jnp.asarray(f), jnp.asarray(g)

    def logp(self, value, *params):
        dt, pars, init_params = self._split(params)
        pars_b = [jnp.asarray(p)[..., None] for p in pars]
        xtm1, xt = value[..., :-1], value[..., 1:]
        f, g = self._drift_diffusion(xtm1, pars_b)
        mu = xtm1 + dt * f
        sigma = jnp.sqrt(dt) * g
        sigma = jnp.broadcast_to(sigma, jnp.broadcast_shapes(jnp.shape(sigma), xt.shape))
        sde_lp = jnp.sum(normal_logpdf(xt, mu, sigma), axis=-1)
        sde_lp = jnp.where(jnp.all(sigma > 0, axis=-1), sde_lp, -jnp.inf)
        init_lp = self._init.dist.checked_logp(value[..., 0], *init_params)
        return init_lp + sde_lp

    def _run(self, x0, eps, dt, pars):
        def step(y, e):
            f, g = self._drift_diffusion(y, pars)
            y_new = y + dt * f + jnp.sqrt(dt) * g * e
            return y_new, y_new

        _, ys = jax.lax.scan(step, x0, eps)
        return jnp.concatenate([x0[..., None], jnp.moveaxis(ys, 0, -1)], axis=-1)

    def random(self, key, *params, size):
        dt, pars, init_params = self._split(params)
        size = tuple(size)
        batch, T = size[:-1], size[-1]
        k1, k2 = jax.random.split(key)
        x0 = jnp.broadcast_to(self._init.dist.random(k1, *init_params, size=batch), batch).astype(config.floatX())
        eps = jax.random.normal(k2, (T - 1, *batch), dtype=config.floatX())
        return jnp.broadcast_to(self._run(x0, eps, dt, pars), size)

    def support_point(self, *params, size):
        dt, pars, init_params = self._split(params)
        size = tuple(size)
        batch, T = size[:-1], size[-1]
        x0 = jnp.broadcast_to(self._init.dist.support_point(*init_params, size=batch), batch).astype(config.floatX())
        return jnp.broadcast_to(self._run(x0, jnp.zeros((T - 1, *batch), config.floatX()), dt, pars), size)

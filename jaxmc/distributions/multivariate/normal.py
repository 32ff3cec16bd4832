"""Multivariate normals: MvNormal, MvStudentT (from a Cholesky factor of the covariance or precision) and
ZeroSumNormal."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import jax.scipy.special as jsp
import numpy as np

from jaxmc import transforms
from jaxmc.distributions import constraints
from jaxmc.distributions.base import Continuous, Distribution
from jaxmc.distributions.dist_math import LOG2PI, LOG_SQRT_2PI
from jaxmc.distributions.multivariate.common import (
    broadcast_last, build, diag, family, is_node, ndim_of, solve_lower, specialize, swap,
)
from jaxmc.distributions.params import as_param, shape_of, to_shape
from jaxmc.graph import apply

__all__ = ["MvNormal", "MvStudentT", "ZeroSumNormal"]


def _lower_cholesky(a):
    """Cholesky factor of the symmetric matrix whose lower triangle is that of `a` (the upper triangle is not
    read, as in PyMC; jnp.linalg.cholesky alone would average the two triangles)."""
    return jnp.linalg.cholesky(jnp.tril(a) + swap(jnp.tril(a, -1)))


def _check_symmetric(x, name):
    """A constant covariance or precision matrix must be symmetric: an asymmetric one is refused (PyMC would
    read its lower triangle only)."""
    if is_node(x) or isinstance(x, jax.core.Tracer):
        return
    a = np.asarray(x)
    at = np.swapaxes(a, -1, -2)
    close = np.isclose(a, at, rtol=1e-6, atol=1e-10 * max(float(np.max(np.abs(a), initial=0.0)), 1e-300))
    if not close.all():
        idx = tuple(int(i) for i in np.argwhere(~close)[0])
        tr = (*idx[:-2], idx[-1], idx[-2])
        raise ValueError(
            f"{name} is not symmetric: {name}[{', '.join(map(str, idx))}] = {a[idx]:.6g} but "
            f"{name}[{', '.join(map(str, tr))}] = {a[tr]:.6g}. A covariance or precision matrix must be "
            f"symmetric; to use its lower triangle as PyMC does, pass np.tril({name}) + np.tril({name}, -1).T")


def _quaddist_matrix(cov, chol, tau, lower, names=("cov", "tau", "chol")):
    """PyMC's quaddist_matrix, returning (lower Cholesky factor, is_precision) instead of a covariance. Only the
    lower triangle of cov (or tau) is read, as in PyMC; a constant asymmetric one is refused."""
    given = [x is not None for x in (cov, tau, chol)]
    if sum(given) != 1:
        raise ValueError(f"Incompatible parameterization. Specify exactly one of {names[1]}, {names[0]}, "
                         f"or {names[2]}.")
    if cov is not None:
        cov = as_param(cov, names[0])
        if ndim_of(cov) < 2:
            raise ValueError(f"{names[0]} must be at least two dimensional.")
        _check_symmetric(cov, names[0])
        return apply(_lower_cholesky, cov), False
    if tau is not None:
        tau = as_param(tau, "tau")
        if ndim_of(tau) < 2:
            raise ValueError(f"{names[1]} must be at least two dimensional.")
        _check_symmetric(tau, names[1])
        return apply(_lower_cholesky, tau), True
    chol = as_param(chol, "chol")
    if ndim_of(chol) < 2:
        raise ValueError(f"{names[2]} must be at least two dimensional.")
    if not lower:
        chol = apply(swap, chol)
    return chol, False


def _mvn_quad(value, mu, L, precision):
    """(squared Mahalanobis distance, half log-determinant of the covariance) from a Cholesky factor."""
    delta = value - mu
    d = jnp.log(jnp.abs(diag(L)))
    if precision:  # L is the Cholesky factor of the precision matrix
        z = jnp.einsum("...ji,...j->...i", L, delta)
        return jnp.sum(z**2, -1), -jnp.sum(d, -1)
    z = solve_lower(L, delta)
    return jnp.sum(z**2, -1), jnp.sum(d, -1)


def _mvn_noise(key, L, precision, size):
    """Draws of N(0, cov) of shape `size` with cov = L L^T (or the inverse of L L^T for a precision)."""
    z = jax.random.normal(key, size, dtype=L.dtype)
    Lb = jnp.broadcast_to(L, (*size[:-1], *L.shape[-2:]))
    if precision:
        return jsl.solve_triangular(swap(Lb), z[..., None], lower=False)[..., 0]
    return jnp.einsum("...ij,...j->...i", Lb, z)


class MvNormal(Continuous):
    r"""Multivariate normal: MvNormal(mu, cov) | MvNormal(mu, tau=precision) | MvNormal(mu, chol=L).

    Stored as (mu, lower Cholesky factor); the log density uses triangular solves (the precision
    parameterization keeps the Cholesky factor of tau).
    """

    param_names = ("mu", "chol")
    arg_constraints = {"chol": constraints.cholesky_factor}
    check_messages = {"chol": "posdef covariance"}
    ndim_supp = 1
    ndims_params = (1, 2)
    _precision = False

    @classmethod
    def dist(cls, mu=0, cov=None, *, tau=None, chol=None, lower=True, **kwargs):
        L, precision = _quaddist_matrix(cov, chol, tau, lower)
        mu = broadcast_last(as_param(mu, "mu"), L)
        sub = specialize(cls, _precision=True) if precision else family(cls)
        return build(sub, [mu, L], **kwargs)

    def supp_shape(self, mu, chol):
        return (chol.shape[-1],)

    def logp(self, value, mu, chol):
        quad, half_logdet = _mvn_quad(value, mu, chol, self._precision)
        k = value.shape[-1]
        return -0.5 * k * LOG2PI - 0.5 * quad - half_logdet

    def random(self, key, mu, chol, size):
        return mu + _mvn_noise(key, chol, self._precision, tuple(size))

    def support_point(self, mu, chol, size):
        return jnp.broadcast_to(mu, size)


class MvStudentT(Continuous):
    r"""Multivariate Student-t: MvStudentT(nu, mu=, scale=|tau=|chol=) (`Sigma` and `cov` are aliases)."""

    param_names = ("nu", "mu", "chol")
    arg_constraints = {"chol": constraints.cholesky_factor, "nu": constraints.positive}
    check_messages = {"chol": "posdef"}
    ndim_supp = 1
    ndims_params = (0, 1, 2)
    _precision = False

    @classmethod
    def dist(cls, nu, *, Sigma=None, mu=0, scale=None, tau=None, chol=None, lower=True, **kwargs):
        cov = kwargs.pop("cov", None)
        if cov is not None:
            warnings.warn("Use the scale argument to specify the scale matrix. cov will be removed in "
                          "future versions.", FutureWarning, stacklevel=2)
            scale = cov
        if Sigma is not None:
            if scale is not None:
                raise ValueError("Specify only one of scale and Sigma")
            scale = Sigma
        L, precision = _quaddist_matrix(scale, chol, tau, lower, names=("scale", "tau", "chol"))
        mu = broadcast_last(as_param(mu, "mu"), L)
        sub = specialize(cls, _precision=True) if precision else family(cls)
        return build(sub, [nu, mu, L], **kwargs)

    def supp_shape(self, nu, mu, chol):
        return (chol.shape[-1],)

    def logp(self, value, nu, mu, chol):
        quad, half_logdet = _mvn_quad(value, mu, chol, self._precision)
        k = value.shape[-1]
        norm = jsp.gammaln((nu + k) / 2.0) - jsp.gammaln(nu / 2.0) - 0.5 * k * jnp.log(nu * np.pi)
        inner = -(nu + k) / 2.0 * jnp.log1p(quad / nu)
        return norm + inner - half_logdet

    def random(self, key, nu, mu, chol, size):
        k1, k2 = jax.random.split(key)
        size = tuple(size)
        noise = _mvn_noise(k1, chol, self._precision, size)
        nu_b = jnp.broadcast_to(nu, size[:-1]).astype(noise.dtype)
        chi2 = 2.0 * jax.random.gamma(k2, nu_b / 2.0, size[:-1], dtype=noise.dtype)
        return mu + noise / jnp.sqrt(chi2 / nu_b)[..., None]

    def support_point(self, nu, mu, chol, size):
        return jnp.broadcast_to(mu, size)


class ZeroSumNormal(Distribution):
    r"""ZeroSumNormal(sigma=1, n_zerosum_axes=1, support_shape=None): normal values summing to zero along the
    last `n_zerosum_axes` axes (PyMC's logp and zerosum transform)."""

    param_names = ("sigma",)
    arg_constraints = {"sigma": constraints.positive}
    ndim_supp = 1
    ndims_params = (1,)
    _support_shape = None

    @classmethod
    def dist(cls, sigma=1.0, n_zerosum_axes=None, support_shape=None, **kwargs):
        k = cls.check_zerosum_axes(n_zerosum_axes)
        sigma = as_param(sigma, "sigma")
        if ndim_of(sigma) < k:
            new_shape = (1,) * (k - ndim_of(sigma)) + shape_of(sigma)
            sigma = apply(jnp.reshape, sigma, new_shape) if is_node(sigma) else jnp.reshape(sigma, new_shape)
        if any(s != 1 for s in shape_of(sigma)[-k:]):
            raise ValueError("sigma must have length one across the zero-sum axes")
        shape = kwargs.get("shape")
        from_shape = None
        if shape is not None:
            shape = to_shape(shape)
            if len(shape) < k:
                raise ValueError(f"ZeroSumNormal: shape {shape} has fewer than n_zerosum_axes={k} dimensions")
            from_shape = shape[len(shape) - k:]
        if support_shape is not None:
            support_shape = (support_shape,) if isinstance(support_shape, (int, np.integer)) else \
                tuple(int(s) for s in np.atleast_1d(np.asarray(support_shape)))
            if len(support_shape) != k:
                raise AssertionError("support_shape has to be as long as n_zerosum_axes")
            if from_shape is not None and from_shape != support_shape:
                raise ValueError(f"support_shape {support_shape} does not match the last {k} entries of "
                                 f"shape {shape}")
        support_shape = from_shape if from_shape is not None else support_shape
        if support_shape is None:
            raise ValueError("You must specify dims, shape or support_shape parameter")
        sub = specialize(cls, ndim_supp=k, ndims_params=(k,), _support_shape=tuple(support_shape))
        return build(sub, [sigma], **kwargs)

    @classmethod
    def check_zerosum_axes(cls, n_zerosum_axes) -> int:
        if n_zerosum_axes is None:
            n_zerosum_axes = 1
        if not isinstance(n_zerosum_axes, (int, np.integer)):
            raise TypeError("n_zerosum_axes has to be an integer")
        if not n_zerosum_axes > 0:
            raise ValueError("n_zerosum_axes has to be > 0")
        return int(n_zerosum_axes)

    def supp_shape(self, sigma):
        return self._support_shape

    def _axes(self):
        return tuple(range(-self.ndim_supp, 0))

    def logp(self, value, sigma):
        supp = value.shape[value.ndim - self.ndim_supp:]
        ratio = float(np.prod([s - 1 for s in supp]) / np.prod(supp))
        out = -0.5 * (value / sigma) ** 2 - (LOG_SQRT_2PI + jnp.log(sigma)) * ratio
        return jnp.sum(out, axis=self._axes())

    def in_support(self, value, *params):
        ok = True
        for i in range(self.ndim_supp):
            m = jnp.mean(value, axis=-i - 1, keepdims=True)
            ok = ok & jnp.all(jnp.abs(m) <= 1e-9, axis=self._axes())
        return ok

    def random(self, key, sigma, size):
        x = sigma * jax.random.normal(key, tuple(size), dtype=sigma.dtype)
        for i in range(self.ndim_supp):
            x = x - jnp.mean(x, axis=-i - 1, keepdims=True)
        return x

    def support_point(self, sigma, size):
        return jnp.zeros(size, sigma.dtype)

    def default_transform(self):
        return transforms.ZeroSumTransform(self._axes())

"""Matrix-valued and Kronecker-structured families: Wishart (and the WishartBartlett shim), MatrixNormal,
KroneckerNormal."""

from __future__ import annotations

import warnings
from functools import reduce

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from jaxmc import transforms
from jaxmc.distributions import constraints
from jaxmc.distributions.base import Continuous
from jaxmc.distributions.dist_math import LOG2PI
from jaxmc.distributions.multivariate.common import (
    broadcast_up, build, diag, ndim_of, solve_lower_mat, specialize, swap,
)
from jaxmc.distributions.params import as_param, shape_of
from jaxmc.graph import apply

__all__ = ["KroneckerNormal", "MatrixNormal", "Wishart", "WishartBartlett"]


def _multigammaln(a, p):
    j = jnp.arange(1, p + 1)
    return p * (p - 1) / 4.0 * np.log(np.pi) + jnp.sum(jsp.gammaln(a[..., None] + (1.0 - j) / 2.0), -1)


def _lower_cholesky(m):
    """(Cholesky factor of the matrix whose lower triangle is that of m, with the identity where that is
    not positive definite; positive-definite flag)."""
    L = jax.lax.linalg.cholesky(m, symmetrize_input=False)
    d = diag(L)
    ok = jnp.all(jnp.isfinite(d) & (d > 0), axis=-1)
    eye = jnp.broadcast_to(jnp.eye(m.shape[-1], dtype=L.dtype), L.shape)
    return jnp.where(ok[..., None, None], L, eye), ok


class Wishart(Continuous):
    r"""Wishart(nu, V) or Wishart(nu, scale_chol=L) on p x p symmetric positive-definite matrices, with
    V = L L^T. Stored parameters are (nu, scale_chol); the default transform is CholeskyCovTransform (value
    variable `<name>_cholesky-cov__`), as in PyMC 6. The density reads the lower triangle of the value."""

    param_names = ("nu", "scale_chol")
    arg_constraints = {"scale_chol": constraints.cholesky_factor}
    check_messages = {"scale_chol": "scale_chol"}
    ndim_supp = 2
    ndims_params = (0, 2)
    integer_params = ("nu",)

    @classmethod
    def dist(cls, nu, V=None, *args, scale_chol=None, **kwargs):
        if (V is None) == (scale_chol is None):
            raise ValueError("Wishart requires exactly one of `V` or `scale_chol`.")
        if scale_chol is None:
            V = as_param(V, "V")
            if ndim_of(V) < 2:
                raise ValueError("Wishart `scale_chol` must have at least 2 dimensions")
            scale_chol = apply(jnp.linalg.cholesky, V)
        else:
            scale_chol = as_param(scale_chol, "scale_chol")
            if ndim_of(scale_chol) < 2:
                raise ValueError("Wishart `scale_chol` must have at least 2 dimensions")
        return super().dist([nu, scale_chol], *args, **kwargs)

    def supp_shape(self, nu, scale_chol):
        return tuple(scale_chol.shape[-2:])

    def logp(self, X, nu, scale_chol):
        p = scale_chol.shape[-1]
        LX, _ = _lower_cholesky(X)
        logdet_x = 2.0 * jnp.sum(jnp.log(diag(LX)), -1)
        logdet_v = 2.0 * jnp.sum(jnp.log(jnp.abs(diag(scale_chol))), -1)
        tr = jnp.sum(solve_lower_mat(scale_chol, LX) ** 2, axis=(-2, -1))  # tr(V^-1 X) = |L_V^-1 L_X|_F^2
        nu = nu.astype(X.dtype)
        return ((nu - p - 1) * logdet_x - tr - nu * p * np.log(2.0) - nu * logdet_v
                - 2 * _multigammaln(nu / 2.0, p)) / 2

    def in_support(self, X, *params):
        return _lower_cholesky(X)[1]

    def check_params(self, nu, scale_chol):
        return [(nu > scale_chol.shape[-1] - 1, "nu > p - 1"), *super().check_params(nu, scale_chol)]

    def random(self, key, nu, scale_chol, size):
        size = tuple(size)
        batch, p = size[:-2], scale_chol.shape[-1]
        k1, k2 = jax.random.split(key)
        LV = jnp.broadcast_to(scale_chol, (*batch, p, p))
        df = jnp.broadcast_to(nu, batch).astype(LV.dtype)[..., None] - jnp.arange(p)
        c = jax.random.chisquare(k1, df, (*batch, p), dtype=LV.dtype)
        z = jnp.tril(jax.random.normal(k2, (*batch, p, p), dtype=LV.dtype), -1)
        A = z + jnp.sqrt(c)[..., None] * jnp.eye(p, dtype=LV.dtype)
        LA = LV @ A
        return LA @ swap(LA)

    def support_point(self, nu, scale_chol, size):
        V = scale_chol @ swap(scale_chol)
        return jnp.broadcast_to(nu.astype(V.dtype)[..., None, None] * V, size)

    def default_transform(self):
        return transforms.CholeskyCovTransform(shape_of(self.params[1])[-1])


def WishartBartlett(name, S, nu, is_cholesky=False, return_cholesky=False, initval=None):
    r"""Deprecated (as in PyMC 6): `Wishart(name, nu, V=S)` (`scale_chol=S` when `is_cholesky`); with
    `return_cholesky` the Wishart variable is `_<name>_wishart` and `name` is the Deterministic of its
    Cholesky factor."""
    from jaxmc.model.named import Deterministic

    warnings.warn(
        "WishartBartlett is deprecated and will be removed in a future release. Use pm.Wishart directly. For "
        "`is_cholesky=True`, pass `scale_chol=S`. For `return_cholesky=True`, wrap pm.Wishart in "
        "pt.linalg.cholesky as a Deterministic.",
        FutureWarning, stacklevel=2,
    )
    if initval is not None:
        raise NotImplementedError("`initval` is no longer supported in the WishartBartlett shim. Pass `initval` "
                                  "(as an SPD matrix) to `pm.Wishart` directly.")
    scale_kwargs = {"scale_chol": S} if is_cholesky else {"V": S}
    if return_cholesky:
        W = Wishart(f"_{name}_wishart", nu=nu, **scale_kwargs)
        return Deterministic(name, apply(jnp.linalg.cholesky, W))
    return Wishart(name, nu=nu, **scale_kwargs)


class MatrixNormal(Continuous):
    r"""MatrixNormal(mu, rowcov=|rowchol=, colcov=|colchol=): m x n matrices with Kronecker covariance."""

    param_names = ("mu", "rowchol", "colchol")
    ndim_supp = 2
    ndims_params = (2, 2, 2)

    @classmethod
    def dist(cls, mu, rowcov=None, rowchol=None, colcov=None, colchol=None, *args, **kwargs):
        rowchol_cov = cls._chol("row", rowcov, rowchol)
        colchol_cov = cls._chol("col", colcov, colchol)
        dist_shape = (shape_of(rowchol_cov)[-1], shape_of(colchol_cov)[-1])
        mu = as_param(mu, "mu")
        mu = broadcast_up(mu, dist_shape)
        return super().dist([mu, rowchol_cov, colchol_cov], **kwargs)

    @staticmethod
    def _chol(which, cov, chol):
        """The Cholesky factor of the row (`which="row"`) or column covariance, given one of cov and chol."""
        if len([i for i in [cov, chol] if i is not None]) != 1:
            raise ValueError(f"Incompatible parameterization. Specify exactly one of {which}cov, or {which}chol.")
        if cov is not None:
            cov = as_param(cov, f"{which}cov")
            if ndim_of(cov) != 2:
                raise ValueError(f"{which}cov must be two dimensional.")
            return apply(jnp.linalg.cholesky, cov)
        chol = as_param(chol, f"{which}chol")
        if ndim_of(chol) != 2:
            raise ValueError(f"{which}chol must be two dimensional.")
        return chol

    def supp_shape(self, mu, rowchol, colchol):
        return (rowchol.shape[-1], colchol.shape[-1])

    def logp(self, value, mu, rowchol, colchol):
        delta = value - mu
        A = solve_lower_mat(rowchol, delta)  # rowchol^{-1} delta
        B = solve_lower_mat(colchol, swap(A))  # colchol^{-1} A^T
        trquad = jnp.sum(B**2, axis=(-2, -1))
        m, n = rowchol.shape[-1], colchol.shape[-1]
        half_collogdet = jnp.sum(jnp.log(diag(colchol)), -1)
        half_rowlogdet = jnp.sum(jnp.log(diag(rowchol)), -1)
        return -0.5 * m * n * LOG2PI - 0.5 * trquad - m * half_collogdet - n * half_rowlogdet

    def random(self, key, mu, rowchol, colchol, size):
        z = jax.random.normal(key, tuple(size), dtype=mu.dtype)
        return mu + rowchol @ z @ swap(colchol)

    def support_point(self, mu, rowchol, colchol, size):
        return jnp.broadcast_to(mu, size)


def _kron_apply(mats, x, transpose):
    """(M_1 (x) M_2 (x) ...) x (or its transpose) along the last axis of x, without forming the product."""
    sizes = [m.shape[-1] for m in mats]
    batch = x.shape[:-1]
    y = x.reshape((*batch, *sizes))
    nb = len(batch)
    for i, m in enumerate(mats):
        y = jnp.moveaxis(y, nb + i, -1)
        y = y @ (m if transpose else m.T)  # transpose: (M^T y)_a = sum_b M[b, a] y_b
        y = jnp.moveaxis(y, -1, nb + i)
    return y.reshape(x.shape)


def _kron_diag(ws):
    return reduce(lambda a, b: (a[:, None] * b[None, :]).reshape(-1), ws)


class KroneckerNormal(Continuous):
    r"""KroneckerNormal(mu, covs=|chols=|evds=, sigma=0): normal with covariance kron(covs) + sigma^2 I,
    evaluated through the eigendecompositions of the factors."""

    ndim_supp = 1
    param_names = ("mu", "sigma")
    ndims_params = (1, 0)
    _n_covs = 0

    @classmethod
    def dist(cls, mu, covs=None, chols=None, evds=None, sigma=0.0, *args, **kwargs):
        if len([i for i in [covs, chols, evds] if i is not None]) != 1:
            raise ValueError("Incompatible parameterization. Specify exactly one of covs, chols, or evds.")
        eig_params = []
        if evds is not None:
            for w, Q in evds:
                eig_params += [as_param(w, "w"), as_param(Q, "Q")]
        else:
            if chols is not None:
                covs = [apply(lambda c: c @ c.T, as_param(c, "c")) for c in chols]
            for cov in covs:
                w, Q = apply(jnp.linalg.eigh, as_param(cov, "cov"))
                eig_params += [w, Q]
        nc = len(eig_params) // 2
        N = int(np.prod([shape_of(eig_params[2 * i])[-1] for i in range(nc)]))
        mu = as_param(mu, "mu")
        mu = broadcast_up(mu, (N,))
        names = ("mu", "sigma") + sum(((f"eigvals{i}", f"eigvecs{i}") for i in range(nc)), ())
        sub = specialize(cls, _n_covs=nc, param_names=names, ndims_params=(1, 0) + (1, 2) * nc)
        return build(sub, [mu, sigma, *eig_params], **kwargs)

    def supp_shape(self, mu, sigma, *eig):
        return (int(np.prod([eig[2 * i].shape[-1] for i in range(self._n_covs)])),)

    def _eigs(self, sigma, eig):
        ws = [eig[2 * i] for i in range(self._n_covs)]
        Qs = [eig[2 * i + 1] for i in range(self._n_covs)]
        return _kron_diag(ws) + jnp.expand_dims(sigma, -1) ** 2, Qs

    def logp(self, value, mu, sigma, *eig):
        w, Qs = self._eigs(sigma, eig)
        delta = value - mu
        delta = jnp.broadcast_to(delta, jnp.broadcast_shapes(delta.shape, w.shape))
        sq = _kron_apply(Qs, delta, transpose=True) / jnp.sqrt(w)
        quad = jnp.sum(sq**2, -1)
        N = w.shape[-1]
        return -(quad + jnp.sum(jnp.log(w), -1) + N * LOG2PI) / 2.0

    def random(self, key, mu, sigma, *eig, size):
        w, Qs = self._eigs(sigma, eig)
        z = jax.random.normal(key, tuple(size), dtype=mu.dtype) * jnp.sqrt(w)
        return mu + _kron_apply(Qs, z, transpose=False)

    def support_point(self, mu, sigma, *eig, size):
        return jnp.broadcast_to(mu, size)

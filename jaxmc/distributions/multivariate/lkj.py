"""LKJ families: LKJCholeskyCov (packed Cholesky factor of a covariance) and LKJCorr (Cholesky factor of a
correlation matrix)."""

from __future__ import annotations


import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from jaxmc import config, transforms
from jaxmc.distributions import constraints
from jaxmc.distributions.base import Continuous, Distribution, ShapeError
from jaxmc.distributions.multivariate.common import build, diag, is_node, ndim_of, specialize, swap
from jaxmc.distributions.params import static_int, to_shape
from jaxmc.distributions.wrappers import check_dist_not_registered
from jaxmc.graph import apply

__all__ = ["LKJCholeskyCov", "LKJCorr"]


def _lkj_normalizing_constant(eta, n):
    """Log normalizing constant of the LKJ(eta) density over n x n correlation matrices (PyMC 6's
    `_lkj_normalizing_constant`)."""
    eta = jnp.asarray(eta)
    k = jnp.arange(1, n)
    out = (n - 1) * jsp.gammaln(eta + 0.5 * (n - 1))
    if n > 1:
        out = out - jnp.sum(0.5 * k * np.log(np.pi) + jsp.gammaln(eta[..., None] + 0.5 * (n - 1 - k)), -1)
    return out


def _random_corr_chol(key, n, eta, batch):
    """Lower Cholesky factors of random LKJ(eta) correlation matrices, shape batch + (n, n) (PyMC's /
    rethinking's onion algorithm)."""
    eta = jnp.broadcast_to(jnp.asarray(eta, dtype=config.floatX()), batch)
    P = jnp.broadcast_to(jnp.eye(n, dtype=eta.dtype), (*batch, n, n))
    if n == 1:
        return P
    beta = eta - 1.0 + n / 2.0
    key, sub = jax.random.split(key)
    r12 = 2.0 * jax.random.beta(sub, beta, beta, batch) - 1.0
    P = P.at[..., 0, 1].set(r12)
    P = P.at[..., 1, 1].set(jnp.sqrt(1.0 - r12**2))
    for mp1 in range(2, n):
        beta = beta - 0.5
        key, k1, k2 = jax.random.split(key, 3)
        y = jax.random.beta(k1, mp1 / 2.0, beta, batch)
        z = jax.random.normal(k2, (*batch, mp1), dtype=eta.dtype)
        z = z / jnp.sqrt(jnp.sum(z * z, -1, keepdims=True))
        P = P.at[..., 0:mp1, mp1].set(jnp.sqrt(y)[..., None] * z)
        P = P.at[..., mp1, mp1].set(jnp.sqrt(1.0 - y))
    return swap(P)  # P^T P is the correlation matrix


def _packed_to_chol(n, packed):
    idx = np.tril_indices(n)
    out = jnp.zeros((*packed.shape[:-1], n, n), packed.dtype)
    return out.at[..., idx[0], idx[1]].set(packed)


def _chol_corr_stds(chol):
    cov = chol @ swap(chol)
    stds = jnp.sqrt(diag(cov))
    inv = 1.0 / stds
    corr = inv[..., None, :] * cov * inv[..., :, None]
    return corr, stds


class LKJCholeskyCov(Continuous):
    r"""Packed Cholesky factor of a covariance matrix whose correlations follow LKJ(eta) and whose standard
    deviations follow `sd_dist` (an unnamed `.dist()` variable).

    `pm.LKJCholeskyCov(name, eta, n, sd_dist, compute_corr=True)` returns (chol, corr, stds) and registers
    the deterministics `<name>_corr` and `<name>_stds` (store_in_trace=True); with compute_corr=False it
    returns the packed factor. The value variable is `<name>_cholesky-cov-packed__`.
    """

    param_names = ("eta",)
    arg_constraints = {"eta": constraints.positive}
    ndim_supp = 1
    ndims_params = (0,)
    _n = None
    _sd = None

    def __new__(cls, name, eta, n, sd_dist, *, compute_corr=True, store_in_trace=True, **kwargs):
        packed = Distribution.__new__(cls, name, eta=eta, n=n, sd_dist=sd_dist, compute_corr=False, **kwargs)
        if not compute_corr:
            return packed
        chol, corr, stds = cls.helper_deterministics(n, packed)
        if store_in_trace:
            from jaxmc.model.named import Deterministic

            corr = Deterministic(f"{name}_corr", corr)
            stds = Deterministic(f"{name}_stds", stds)
        return chol, corr, stds

    @classmethod
    def dist(cls, eta, n, sd_dist, *, compute_corr=True, **kwargs):
        n = static_int(n, "LKJCholeskyCov: n")
        if not (is_node(sd_dist) and sd_dist.kind == "rv" and sd_dist.owner is not None
                and sd_dist.owner.ndim_supp < 2):
            raise TypeError("sd_dist must be a scalar or vector distribution variable")
        check_dist_not_registered(sd_dist)
        sd = sd_dist.owner
        shape, size = kwargs.pop("shape", None), kwargs.pop("size", None)
        if shape is not None:
            shape = to_shape(shape)
            if not shape or shape[-1] != n * (n + 1) // 2:
                raise ShapeError(f"LKJCholeskyCov: shape {shape} must end in n * (n + 1) / 2 = "
                                 f"{n * (n + 1) // 2}")
            batch = shape[:-1]
        elif size is not None:
            batch = to_shape(size)
        else:
            batch = tuple(sd_dist.shape[:-1])
        sd_params = list(sd.params)
        sub = specialize(
            cls, _n=n, _sd=sd, _sd_ndim_supp=sd.ndim_supp,
            param_names=("eta",) + tuple(f"sd_dist_{p}" for p in (sd.param_names or
                                                                  [f"param{i}" for i in range(len(sd_params))])),
            ndims_params=(0,) + tuple(ndim_of(p) for p in sd_params),
            integer_params=tuple(f"sd_dist_{p}" for p in sd.integer_params),
        )
        packed = build(sub, [eta, *sd_params], size=batch, **kwargs)
        if not compute_corr:
            return packed
        return cls.helper_deterministics(n, packed)

    @classmethod
    def helper_deterministics(cls, n, packed_chol):
        n = static_int(n, "n")
        chol = apply(_packed_to_chol, n, packed_chol)
        corr, stds = apply(_chol_corr_stds, chol)
        return chol, corr, stds

    def supp_shape(self, *params):
        return (self._n * (self._n + 1) // 2,)

    def _sd_values(self, value):
        n = self._n
        L = _packed_to_chol(n, value)
        return jnp.sqrt(jnp.sum(L**2, axis=-1))

    def logp(self, value, eta, *sd_params):
        n = self._n
        diag_idxs = np.cumsum(np.arange(1, n + 1)) - 1
        sd_vals = self._sd_values(value)
        corr_diag = value[..., diag_idxs] / sd_vals
        eta_ = jnp.expand_dims(eta, -1)
        ar = jnp.arange(n)
        logp_lkj = jnp.sum((2 * eta_ - 3 + n - ar) * jnp.log(corr_diag), -1)
        det_invjac = jnp.sum(jnp.log(corr_diag) - ar * jnp.log(sd_vals), -1)
        logp_sd = self._sd.checked_logp(sd_vals, *sd_params)
        batch_ndim = value.ndim - 1
        if logp_sd.ndim > batch_ndim:
            logp_sd = jnp.sum(logp_sd, axis=tuple(range(batch_ndim, logp_sd.ndim)))
        return _lkj_normalizing_constant(eta, n) + logp_lkj + logp_sd + det_invjac

    def random(self, key, eta, *sd_params, size):
        n = self._n
        size = tuple(size)
        batch = size[:-1]
        k1, k2 = jax.random.split(key)
        sd = self._sd.random(k1, *sd_params, size=(*batch, n))
        L = sd[..., :, None] * _random_corr_chol(k2, n, eta, batch)
        idx = np.tril_indices(n)
        return L[..., idx[0], idx[1]]

    def support_point(self, eta, *params, size):
        n = self._n
        diag_idxs = np.cumsum(np.arange(1, n + 1)) - 1
        return jnp.zeros(size, config.floatX()).at[..., diag_idxs].set(1.0)

    def default_transform(self):
        return transforms.CholeskyCovPacked(self._n)


class LKJCorr(Continuous):
    r"""LKJCorr(n, eta): the lower Cholesky factor L (n x n) of a correlation matrix R = L L^T that follows
    LKJ(eta), as in PyMC 6. The value variable is `<name>_cholesky_corr__` (n(n-1)/2 entries)."""

    param_names = ("eta",)
    arg_constraints = {"eta": constraints.positive}
    ndim_supp = 2
    ndims_params = (0,)
    _n = None

    def __new__(cls, name, n, eta, **kwargs):
        return Distribution.__new__(cls, name, n=n, eta=eta, **kwargs)

    @classmethod
    def dist(cls, n, eta, **kwargs):
        if "return_matrix" in kwargs:
            raise TypeError("LKJCorr got an unexpected keyword argument 'return_matrix': LKJCorr returns the "
                            "Cholesky factor L of the correlation matrix (the matrix is L @ L.T)")
        n = static_int(n, "LKJCorr: n")
        return build(specialize(cls, _n=n), [eta], **kwargs)

    def supp_shape(self, eta):
        return (self._n, self._n)

    def logp(self, value, eta):
        n = self._n
        log_diag = jnp.log(diag(value))
        # the Jacobian of L -> L L^T contributes n - i (one-based i) to the exponent of L_ii
        exponents = 2.0 * jnp.asarray(eta)[..., None] - 2.0 + n - jnp.arange(1, n + 1)
        return _lkj_normalizing_constant(eta, n) + jnp.sum(exponents * log_diag, -1)

    def in_support(self, value, *params):
        row_norms = jnp.sum(value**2, axis=-1)
        unit = jnp.abs(row_norms - 1.0) <= 1e-8 + 1e-5  # PyMC's isclose(row_norms, 1)
        return jnp.all(unit & (diag(value) > 0), axis=-1)

    def random(self, key, eta, size):
        return _random_corr_chol(key, self._n, eta, tuple(size)[:-2])

    def support_point(self, eta, size):
        return jnp.broadcast_to(jnp.eye(self._n, dtype=config.floatX()), size)

    def default_transform(self):
        return transforms.CholeskyCorrTransform(self._n)

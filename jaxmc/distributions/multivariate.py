"""Multivariate families with PyMC's names, parameterizations, shapes, value variables and transforms.

Support dimensions are the trailing axes of a variable; batch dimensions come from the parameters (or
shape/size/dims). Families whose shape or parameter list depends on static settings (the `n` of the LKJ
families, the number of zero-sum axes, `K` of StickBreakingWeights, the number of Kronecker factors, the
`sd_dist` of LKJCholeskyCov) build the node from a subclass that carries those settings as class
attributes (`_specialize`), so that `_supp_shape` can use them while the base class builds the node.
"""

from __future__ import annotations

import warnings
from functools import reduce

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import jax.scipy.special as jsp
import numpy as np

from jaxmc import config, transforms
from jaxmc.distributions.base import Continuous, Discrete, Distribution, ShapeError
from jaxmc.graph import TensorVariable, apply, aval_of

__all__ = [
    "CAR",
    "ICAR",
    "Dirichlet",
    "DirichletMultinomial",
    "KroneckerNormal",
    "LKJCholeskyCov",
    "LKJCorr",
    "MatrixNormal",
    "Multinomial",
    "MvNormal",
    "MvStudentT",
    "OrderedMultinomial",
    "StickBreakingWeights",
    "Wishart",
    "WishartBartlett",
    "ZeroSumNormal",
]

LOG_2PI = float(np.log(2 * np.pi))
LOG_SQRT_2PI = 0.5 * LOG_2PI


# ---------------------------------------------------------------------------------------------- helpers
_SPECIALIZED: dict = {}


def _family(cls):
    """The public family class behind a specialized subclass."""
    while cls.__dict__.get("_is_specialized", False):
        cls = cls.__bases__[0]
    return cls


def _specialize(cls, **attrs):
    """Subclass of family `cls` carrying static settings `attrs` as class attributes (cached when hashable)."""
    cls = _family(cls)
    key = (cls, tuple(sorted(attrs.items(), key=lambda kv: kv[0])))
    try:
        hash(key)
    except TypeError:
        key = None
    if key is not None and key in _SPECIALIZED:
        return _SPECIALIZED[key]
    sub = type(cls.__name__, (cls,), dict(attrs, _is_specialized=True, __module__=cls.__module__,
                                          __qualname__=cls.__qualname__, __doc__=cls.__doc__))
    if key is not None:
        _SPECIALIZED[key] = sub
    return sub


def _build(cls, params, **kwargs):
    """Make the graph node of family (or specialized subclass) `cls` with canonical `params`."""
    return Distribution.dist.__func__(cls, params, **kwargs)


def _is_node(x):
    return isinstance(x, TensorVariable)


def _arr(x, dtype=None):
    """Model nodes pass through; numbers, lists, pandas and scipy.sparse become jax arrays (floats -> floatX)."""
    if _is_node(x):
        return x
    if hasattr(x, "toarray"):  # scipy.sparse
        x = x.toarray()
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    a = np.asarray(x)
    if dtype is not None:
        a = a.astype(dtype)
    elif a.dtype.kind in "biuf":
        a = a.astype(config.floatX())
    return jnp.asarray(a)


def _shape(x):
    return tuple(aval_of(x).shape)


def _ndim(x):
    return len(_shape(x))


def _static_int(x, what):
    if _is_node(x):
        raise NotImplementedError(f"{what} must be a constant integer (not a model variable)")
    a = np.asarray(x)
    if a.size != 1 or a.dtype.kind not in "biuf" or (a.dtype.kind == "f" and a.item() != int(a.item())):
        raise TypeError(f"{what} must be an integer, found {x!r}")
    return int(a.item())


def _swap(x):
    return jnp.swapaxes(x, -1, -2)


def _diag(x):
    return jnp.diagonal(x, axis1=-2, axis2=-1)


def _bcast_to_shape(x, shape):
    return jnp.broadcast_to(x, shape)


def _broadcast_last(mu, mat):
    """PyMC's `mu, _ = broadcast_arrays(mu, mat[..., -1])`: mu gets the batch and length of a matrix."""
    target = jnp.broadcast_shapes(_shape(mu), _shape(mat)[:-1])
    if target == _shape(mu):
        return mu
    return apply(_bcast_to_shape, mu, target) if _is_node(mu) else jnp.broadcast_to(mu, target)


def _solve_lower(L, b):
    """L^{-1} b for lower-triangular L (..., k, k) and vectors b (..., k), batch dims broadcast."""
    k = b.shape[-1]
    if L.ndim == 2:  # one factor: all vectors as right-hand sides of one solve
        flat = jnp.reshape(b, (-1, k)).T
        return jsl.solve_triangular(L, flat, lower=True).T.reshape(b.shape)
    batch = jnp.broadcast_shapes(L.shape[:-2], b.shape[:-1])
    L = jnp.broadcast_to(L, (*batch, k, k))
    b = jnp.broadcast_to(b, (*batch, k))
    return jsl.solve_triangular(L, b[..., None], lower=True)[..., 0]


def _solve_lower_mat(L, B):
    """L^{-1} B for lower-triangular L (..., k, k) and matrices B (..., k, m), batch dims broadcast."""
    batch = jnp.broadcast_shapes(L.shape[:-2], B.shape[:-2])
    L = jnp.broadcast_to(L, (*batch, *L.shape[-2:]))
    B = jnp.broadcast_to(B, (*batch, *B.shape[-2:]))
    return jsl.solve_triangular(L, B, lower=True)


def _logpow(x, m):
    """log(x**m) with PyMC's convention: 0 when x == 0 and m == 0, -inf when x == 0 otherwise."""
    safe = jnp.where(x == 0, 1.0, x)
    return jnp.where(x == 0, jnp.where(m == 0, 0.0, -jnp.inf), m * jnp.log(safe))


def _chol_check(L):
    d = _diag(L)
    return jnp.all(jnp.isfinite(d) & (d != 0), axis=-1)


def _quaddist_matrix(cov, chol, tau, lower, names=("cov", "tau", "chol")):
    """PyMC's quaddist_matrix, returning (lower Cholesky factor, is_precision) instead of a covariance."""
    given = [x is not None for x in (cov, tau, chol)]
    if sum(given) != 1:
        raise ValueError(f"Incompatible parameterization. Specify exactly one of {names[1]}, {names[0]}, "
                         f"or {names[2]}.")
    if cov is not None:
        cov = _arr(cov)
        if _ndim(cov) < 2:
            raise ValueError(f"{names[0]} must be at least two dimensional.")
        return apply(jnp.linalg.cholesky, cov), False
    if tau is not None:
        tau = _arr(tau)
        if _ndim(tau) < 2:
            raise ValueError(f"{names[1]} must be at least two dimensional.")
        return apply(jnp.linalg.cholesky, tau), True
    chol = _arr(chol)
    if _ndim(chol) < 2:
        raise ValueError(f"{names[2]} must be at least two dimensional.")
    if not lower:
        chol = apply(_swap, chol)
    return chol, False


def _mvn_quad(value, mu, L, precision):
    """(squared Mahalanobis distance, half log-determinant of the covariance) from a Cholesky factor."""
    delta = value - mu
    d = jnp.log(jnp.abs(_diag(L)))
    if precision:  # L is the Cholesky factor of the precision matrix
        z = jnp.einsum("...ji,...j->...i", L, delta)
        return jnp.sum(z**2, -1), -jnp.sum(d, -1)
    z = _solve_lower(L, delta)
    return jnp.sum(z**2, -1), jnp.sum(d, -1)


def _mvn_noise(key, L, precision, size):
    """Draws of N(0, cov) of shape `size` with cov = L L^T (or the inverse of L L^T for a precision)."""
    z = jax.random.normal(key, size, dtype=L.dtype)
    Lb = jnp.broadcast_to(L, (*size[:-1], *L.shape[-2:]))
    if precision:
        return jsl.solve_triangular(_swap(Lb), z[..., None], lower=False)[..., 0]
    return jnp.einsum("...ij,...j->...i", Lb, z)


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
    return _swap(P)  # P^T P is the correlation matrix


def _multigammaln(a, p):
    j = jnp.arange(1, p + 1)
    return p * (p - 1) / 4.0 * np.log(np.pi) + jnp.sum(jsp.gammaln(a[..., None] + (1.0 - j) / 2.0), -1)


# ---------------------------------------------------------------------------------------------- MvNormal
class MvNormal(Continuous):
    r"""Multivariate normal: MvNormal(mu, cov) | MvNormal(mu, tau=precision) | MvNormal(mu, chol=L).

    Stored as (mu, lower Cholesky factor); the log density uses triangular solves (the precision
    parameterization keeps the Cholesky factor of tau).
    """

    param_names = ("mu", "chol")
    ndim_supp = 1
    ndims_params = (1, 2)
    _precision = False

    @classmethod
    def dist(cls, mu=0, cov=None, *, tau=None, chol=None, lower=True, **kwargs):
        L, precision = _quaddist_matrix(cov, chol, tau, lower)
        mu = _broadcast_last(_arr(mu), L)
        sub = _specialize(cls, _precision=True) if precision else _family(cls)
        return _build(sub, [mu, L], **kwargs)

    def _supp_shape(self, mu, chol):
        return (chol.shape[-1],)

    def logp(self, value, mu, chol):
        quad, half_logdet = _mvn_quad(value, mu, chol, self._precision)
        k = value.shape[-1]
        return -0.5 * k * LOG_2PI - 0.5 * quad - half_logdet

    def random(self, key, mu, chol, size):
        return mu + _mvn_noise(key, chol, self._precision, tuple(size))

    def support_point(self, mu, chol, size):
        return jnp.broadcast_to(mu, size)

    def check_params(self, mu, chol):
        return [(_chol_check(chol), "posdef covariance")]


class MvStudentT(Continuous):
    r"""Multivariate Student-t: MvStudentT(nu, mu=, scale=|tau=|chol=) (`Sigma` and `cov` are aliases)."""

    param_names = ("nu", "mu", "chol")
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
        mu = _broadcast_last(_arr(mu), L)
        sub = _specialize(cls, _precision=True) if precision else _family(cls)
        return _build(sub, [nu, mu, L], **kwargs)

    def _supp_shape(self, nu, mu, chol):
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

    def check_params(self, nu, mu, chol):
        return [(_chol_check(chol), "posdef"), (nu > 0, "nu > 0")]


# ---------------------------------------------------------------------------------------------- simplex
class Dirichlet(Continuous):
    r"""Dirichlet(a): probability vectors; the number of categories is a.shape[-1]."""

    param_names = ("a",)
    ndim_supp = 1
    ndims_params = (1,)

    @classmethod
    def dist(cls, a, **kwargs):
        a = _arr(a)
        if _ndim(a) < 1:
            raise ValueError("Dirichlet: a must be at least one dimensional (one entry per category)")
        return super().dist([a], **kwargs)

    def _supp_shape(self, a):
        return (a.shape[-1],)

    def logp(self, value, a):
        return jnp.sum(_logpow(value, a - 1) - jsp.gammaln(a), -1) + jsp.gammaln(jnp.sum(a, -1))

    def in_support(self, value, *params):
        return jnp.all((value >= 0) & (value <= 1), axis=-1)

    def check_params(self, a):
        return [(jnp.all(a > 0, -1), "a > 0")]

    def random(self, key, a, size):
        size = tuple(size)
        return jax.random.dirichlet(key, jnp.broadcast_to(a, size), size[:-1], dtype=a.dtype)

    def support_point(self, a, size):
        return jnp.broadcast_to(a / jnp.sum(a, -1, keepdims=True), size)

    def default_transform(self):
        return transforms.simplex


class StickBreakingWeights(Continuous):
    r"""StickBreakingWeights(alpha, K): K + 1 truncated stick-breaking weights (a simplex)."""

    param_names = ("alpha",)
    ndim_supp = 1
    ndims_params = (0,)
    _K = None

    @classmethod
    def dist(cls, alpha, K, *args, **kwargs):
        K = _static_int(K, "StickBreakingWeights: K")
        return _build(_specialize(cls, _K=K), [alpha], **kwargs)

    def _supp_shape(self, alpha):
        return (self._K + 1,)

    def logp(self, value, alpha):
        K = self._K
        lp = -jnp.sum(jnp.log(jnp.cumsum(value[..., ::-1], axis=-1)), axis=-1)
        lp = lp - K * jsp.betaln(1.0, alpha)
        return lp + alpha * jnp.log(value[..., -1])

    def in_support(self, value, *params):
        return jnp.abs(jnp.sum(value, -1) - 1.0) <= 1e-8 + 1e-5

    def check_params(self, alpha):
        return [(alpha > 0, "alpha > 0"), (jnp.asarray(self._K > 0), "K > 0")]

    def random(self, key, alpha, size):
        size = tuple(size)
        K = self._K
        betas = jax.random.beta(key, 1.0, alpha[..., None], (*size[:-1], K), dtype=alpha.dtype)
        sticks = jnp.concatenate([jnp.ones((*size[:-1], 1), betas.dtype),
                                  jnp.cumprod(1 - betas[..., :-1], axis=-1)], axis=-1)
        weights = sticks * betas
        return jnp.concatenate([weights, 1 - jnp.sum(weights, -1, keepdims=True)], axis=-1)

    def support_point(self, alpha, size):
        K = self._K
        a = alpha[..., None]
        sp = (a / (1 + a)) ** jnp.arange(K) / (1 + a)
        sp = jnp.concatenate([sp, (a / (1 + a)) ** K], axis=-1)
        return jnp.broadcast_to(sp, size)

    def default_transform(self):
        return transforms.simplex


# ---------------------------------------------------------------------------------------------- counts
class Multinomial(Discrete):
    r"""Multinomial(n, p): counts of n trials over p.shape[-1] outcomes."""

    param_names = ("n", "p")
    ndim_supp = 1
    ndims_params = (0, 1)
    integer_params = ("n",)
    support_depends_on_params = True

    @classmethod
    def dist(cls, n, p, *args, **kwargs):
        if not _is_node(p):
            p_ = np.asarray(p.to_numpy() if hasattr(p, "to_numpy") else p, dtype=float)
            if np.any(p_ < 0):
                raise ValueError(f"Negative `p` parameters are not valid, got: {p_}")
            p_sum_ = np.sum([p_], axis=-1)
            if not np.all(np.isclose(p_sum_, 1.0)):
                warnings.warn(f"`p` parameters sum to {p_sum_}, instead of 1.0. They will be automatically "
                              "rescaled. You can rescale them directly to get rid of this warning.",
                              UserWarning, stacklevel=2)
                p_ = p_ / np.sum(p_, axis=-1, keepdims=True)
            p = p_
        return _build(_family(cls), [n, p], **kwargs)

    def _supp_shape(self, n, p):
        return (p.shape[-1],)

    def logp(self, value, n, p):
        return jsp.gammaln(n + 1.0) + jnp.sum(-jsp.gammaln(value + 1.0) + _logpow(p, value), axis=-1)

    def in_support(self, value, n, p):
        return jnp.all(value >= 0, axis=-1) & (jnp.sum(value, axis=-1) == n)

    def check_params(self, n, p):
        return [(jnp.all((p >= 0) & (p <= 1), -1), "0 <= p <= 1"),
                (jnp.abs(jnp.sum(p, -1) - 1.0) <= 1e-8 + 1e-5, "sum(p) = 1"),
                (n >= 0, "n >= 0")]

    def random(self, key, n, p, size):
        size = tuple(size)
        p = jnp.broadcast_to(p, size)
        n = jnp.broadcast_to(n, size[:-1]).astype(p.dtype)
        return jax.random.multinomial(key, n, p)

    def support_point(self, n, p, size):
        return _multinomial_mode(n, p, size)


def _multinomial_mode(n, p, size):
    n = jnp.asarray(n)[..., None].astype(p.dtype)
    mean = n * p
    mode = jnp.round(mean)
    diff = n - jnp.sum(mode, axis=-1, keepdims=True)
    idx = jnp.argmax(mean, axis=-1, keepdims=True)
    mode = mode + diff * (jnp.arange(p.shape[-1]) == idx)
    return jnp.broadcast_to(mode, size)


class DirichletMultinomial(Discrete):
    r"""DirichletMultinomial(n, a): a Dirichlet(a) mixture of Multinomial(n, p)."""

    param_names = ("n", "a")
    ndim_supp = 1
    ndims_params = (0, 1)
    integer_params = ("n",)
    support_depends_on_params = True

    @classmethod
    def dist(cls, n, a, *args, **kwargs):
        return super().dist([n, a], **kwargs)

    def _supp_shape(self, n, a):
        return (a.shape[-1],)

    def logp(self, value, n, a):
        sum_a = jnp.sum(a, -1)
        const = jsp.gammaln(n + 1.0) + jsp.gammaln(sum_a) - jsp.gammaln(n + sum_a)
        series = jsp.gammaln(value + a) - (jsp.gammaln(value + 1.0) + jsp.gammaln(a))
        return const + jnp.sum(series, -1)

    def in_support(self, value, n, a):
        return jnp.all(value >= 0, axis=-1) & (jnp.sum(value, axis=-1) == n)

    def check_params(self, n, a):
        return [(jnp.all(a > 0, -1), "a > 0"), (n >= 0, "n >= 0")]

    def random(self, key, n, a, size):
        size = tuple(size)
        k1, k2 = jax.random.split(key)
        a = jnp.broadcast_to(a, size)
        p = jax.random.dirichlet(k1, a, size[:-1], dtype=a.dtype)
        return jax.random.multinomial(k2, jnp.broadcast_to(n, size[:-1]).astype(a.dtype), p)

    def support_point(self, n, a, size):
        return _multinomial_mode(n, a / jnp.sum(a, -1, keepdims=True), size)


def _ordered_probs(eta, cutpoints):
    pa = jax.nn.sigmoid(cutpoints - jnp.expand_dims(eta, -1))
    zeros = jnp.zeros_like(pa[..., :1])
    p_cum = jnp.concatenate([zeros, pa, jnp.ones_like(zeros)], axis=-1)
    return p_cum[..., 1:] - p_cum[..., :-1]


class OrderedMultinomial(Multinomial):
    r"""OrderedMultinomial(eta, cutpoints, n, compute_p=True): Multinomial with ordered-logistic probabilities.

    Registers the Deterministic `<name>_probs` unless compute_p=False.
    """

    def __new__(cls, name, *args, compute_p=True, **kwargs):
        out = Distribution.__new__(cls, name, *args, **kwargs)
        if compute_p:
            from jaxmc.model.named import Deterministic

            p = out.owner.params[-1]
            dims = kwargs.get("dims")
            if dims is not None and _shape(p) != out.shape:
                p = apply(_bcast_to_shape, p, out.shape) if _is_node(p) else jnp.broadcast_to(p, out.shape)
            Deterministic(f"{name}_probs", p, dims=dims)
        return out

    @classmethod
    def dist(cls, eta, cutpoints, n, *args, **kwargs):
        p = apply(_ordered_probs, _arr(eta), _arr(cutpoints))
        return _build(_family(cls), [n, p], **kwargs)


# ---------------------------------------------------------------------------------------------- zero sum
class ZeroSumNormal(Distribution):
    r"""ZeroSumNormal(sigma=1, n_zerosum_axes=1, support_shape=None): normal values summing to zero along the
    last `n_zerosum_axes` axes (PyMC's logp and zerosum transform)."""

    param_names = ("sigma",)
    ndim_supp = 1
    ndims_params = (1,)
    _support_shape = None

    @classmethod
    def dist(cls, sigma=1.0, n_zerosum_axes=None, support_shape=None, **kwargs):
        k = cls.check_zerosum_axes(n_zerosum_axes)
        sigma = _arr(sigma)
        if _ndim(sigma) < k:
            new_shape = (1,) * (k - _ndim(sigma)) + _shape(sigma)
            sigma = apply(jnp.reshape, sigma, new_shape) if _is_node(sigma) else jnp.reshape(sigma, new_shape)
        if any(s != 1 for s in _shape(sigma)[-k:]):
            raise ValueError("sigma must have length one across the zero-sum axes")
        shape = kwargs.get("shape")
        from_shape = None
        if shape is not None:
            shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
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
        sub = _specialize(cls, ndim_supp=k, ndims_params=(k,), _support_shape=tuple(support_shape))
        return _build(sub, [sigma], **kwargs)

    @classmethod
    def check_zerosum_axes(cls, n_zerosum_axes) -> int:
        if n_zerosum_axes is None:
            n_zerosum_axes = 1
        if not isinstance(n_zerosum_axes, (int, np.integer)):
            raise TypeError("n_zerosum_axes has to be an integer")
        if not n_zerosum_axes > 0:
            raise ValueError("n_zerosum_axes has to be > 0")
        return int(n_zerosum_axes)

    def _supp_shape(self, sigma):
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

    def check_params(self, sigma):
        return [(jnp.all(sigma > 0, axis=self._axes()), "sigma > 0")]

    def random(self, key, sigma, size):
        x = sigma * jax.random.normal(key, tuple(size), dtype=sigma.dtype)
        for i in range(self.ndim_supp):
            x = x - jnp.mean(x, axis=-i - 1, keepdims=True)
        return x

    def support_point(self, sigma, size):
        return jnp.zeros(size, sigma.dtype)

    def default_transform(self):
        return transforms.ZeroSumTransform(self._axes())


# ---------------------------------------------------------------------------------------------- LKJ
def _packed_to_chol(n, packed):
    idx = np.tril_indices(n)
    out = jnp.zeros((*packed.shape[:-1], n, n), packed.dtype)
    return out.at[..., idx[0], idx[1]].set(packed)


def _chol_corr_stds(chol):
    cov = chol @ _swap(chol)
    stds = jnp.sqrt(_diag(cov))
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
        n = _static_int(n, "LKJCholeskyCov: n")
        if not (_is_node(sd_dist) and sd_dist.kind == "rv" and sd_dist.owner is not None
                and sd_dist.owner.ndim_supp < 2):
            raise TypeError("sd_dist must be a scalar or vector distribution variable")
        if getattr(sd_dist, "model", None) is not None:
            raise ValueError(
                f"The dist {sd_dist} was already registered in the current model.\nYou should use an "
                "unregistered (unnamed) distribution created via the `.dist()` API instead, such as:\n"
                "`dist=pm.Normal.dist(0, 1)`"
            )
        sd = sd_dist.owner
        shape, size = kwargs.pop("shape", None), kwargs.pop("size", None)
        if shape is not None:
            shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
            if not shape or shape[-1] != n * (n + 1) // 2:
                raise ShapeError(f"LKJCholeskyCov: shape {shape} must end in n * (n + 1) / 2 = "
                                 f"{n * (n + 1) // 2}")
            batch = shape[:-1]
        elif size is not None:
            batch = (size,) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)
        else:
            batch = tuple(sd_dist.shape[:-1])
        sd_params = list(sd.params)
        sub = _specialize(
            cls, _n=n, _sd=sd, _sd_ndim_supp=sd.ndim_supp,
            param_names=("eta",) + tuple(f"sd_dist_{p}" for p in (sd.param_names or
                                                                  [f"param{i}" for i in range(len(sd_params))])),
            ndims_params=(0,) + tuple(_ndim(p) for p in sd_params),
            integer_params=tuple(f"sd_dist_{p}" for p in sd.integer_params),
        )
        packed = _build(sub, [eta, *sd_params], size=batch, **kwargs)
        if not compute_corr:
            return packed
        return cls.helper_deterministics(n, packed)

    @classmethod
    def helper_deterministics(cls, n, packed_chol):
        n = _static_int(n, "n")
        chol = apply(_packed_to_chol, n, packed_chol)
        corr, stds = apply(_chol_corr_stds, chol)
        return chol, corr, stds

    def _supp_shape(self, *params):
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

    def check_params(self, eta, *sd_params):
        return [(eta > 0, "eta > 0")]

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
        n = _static_int(n, "LKJCorr: n")
        return _build(_specialize(cls, _n=n), [eta], **kwargs)

    def _supp_shape(self, eta):
        return (self._n, self._n)

    def logp(self, value, eta):
        n = self._n
        log_diag = jnp.log(_diag(value))
        # the Jacobian of L -> L L^T contributes n - i (one-based i) to the exponent of L_ii
        exponents = 2.0 * jnp.asarray(eta)[..., None] - 2.0 + n - jnp.arange(1, n + 1)
        return _lkj_normalizing_constant(eta, n) + jnp.sum(exponents * log_diag, -1)

    def in_support(self, value, *params):
        row_norms = jnp.sum(value**2, axis=-1)
        unit = jnp.abs(row_norms - 1.0) <= 1e-8 + 1e-5  # PyMC's isclose(row_norms, 1)
        return jnp.all(unit & (_diag(value) > 0), axis=-1)

    def check_params(self, eta):
        return [(eta > 0, "eta > 0")]

    def random(self, key, eta, size):
        return _random_corr_chol(key, self._n, eta, tuple(size)[:-2])

    def support_point(self, eta, size):
        return jnp.broadcast_to(jnp.eye(self._n, dtype=config.floatX()), size)

    def default_transform(self):
        return transforms.CholeskyCorrTransform(self._n)


# ---------------------------------------------------------------------------------------------- matrices
def _lower_cholesky(m):
    """(Cholesky factor of the matrix whose lower triangle is that of m, with the identity where that is
    not positive definite; positive-definite flag)."""
    L = jax.lax.linalg.cholesky(m, symmetrize_input=False)
    d = _diag(L)
    ok = jnp.all(jnp.isfinite(d) & (d > 0), axis=-1)
    eye = jnp.broadcast_to(jnp.eye(m.shape[-1], dtype=L.dtype), L.shape)
    return jnp.where(ok[..., None, None], L, eye), ok


class Wishart(Continuous):
    r"""Wishart(nu, V) or Wishart(nu, scale_chol=L) on p x p symmetric positive-definite matrices, with
    V = L L^T. Stored parameters are (nu, scale_chol); the default transform is CholeskyCovTransform (value
    variable `<name>_cholesky-cov__`), as in PyMC 6. The density reads the lower triangle of the value."""

    param_names = ("nu", "scale_chol")
    ndim_supp = 2
    ndims_params = (0, 2)
    integer_params = ("nu",)

    @classmethod
    def dist(cls, nu, V=None, *args, scale_chol=None, **kwargs):
        if (V is None) == (scale_chol is None):
            raise ValueError("Wishart requires exactly one of `V` or `scale_chol`.")
        if scale_chol is None:
            V = _arr(V)
            if _ndim(V) < 2:
                raise ValueError("Wishart `scale_chol` must have at least 2 dimensions")
            scale_chol = apply(jnp.linalg.cholesky, V)
        else:
            scale_chol = _arr(scale_chol)
            if _ndim(scale_chol) < 2:
                raise ValueError("Wishart `scale_chol` must have at least 2 dimensions")
        return super().dist([nu, scale_chol], *args, **kwargs)

    def _supp_shape(self, nu, scale_chol):
        return tuple(scale_chol.shape[-2:])

    def logp(self, X, nu, scale_chol):
        p = scale_chol.shape[-1]
        LX, _ = _lower_cholesky(X)
        logdet_x = 2.0 * jnp.sum(jnp.log(_diag(LX)), -1)
        logdet_v = 2.0 * jnp.sum(jnp.log(jnp.abs(_diag(scale_chol))), -1)
        tr = jnp.sum(_solve_lower_mat(scale_chol, LX) ** 2, axis=(-2, -1))  # tr(V^-1 X) = |L_V^-1 L_X|_F^2
        nu = nu.astype(X.dtype)
        return ((nu - p - 1) * logdet_x - tr - nu * p * np.log(2.0) - nu * logdet_v
                - 2 * _multigammaln(nu / 2.0, p)) / 2

    def in_support(self, X, *params):
        return _lower_cholesky(X)[1]

    def check_params(self, nu, scale_chol):
        return [(nu > scale_chol.shape[-1] - 1, "nu > p - 1"), (_chol_check(scale_chol), "scale_chol")]

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
        return LA @ _swap(LA)

    def support_point(self, nu, scale_chol, size):
        V = scale_chol @ _swap(scale_chol)
        return jnp.broadcast_to(nu.astype(V.dtype)[..., None, None] * V, size)

    def default_transform(self):
        return transforms.CholeskyCovTransform(_shape(self.params[1])[-1])


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
        if len([i for i in [rowcov, rowchol] if i is not None]) != 1:
            raise ValueError("Incompatible parameterization. Specify exactly one of rowcov, or rowchol.")
        if rowcov is not None:
            rowcov = _arr(rowcov)
            if _ndim(rowcov) != 2:
                raise ValueError("rowcov must be two dimensional.")
            rowchol_cov = apply(jnp.linalg.cholesky, rowcov)
        else:
            rowchol_cov = _arr(rowchol)
            if _ndim(rowchol_cov) != 2:
                raise ValueError("rowchol must be two dimensional.")
        if len([i for i in [colcov, colchol] if i is not None]) != 1:
            raise ValueError("Incompatible parameterization. Specify exactly one of colcov, or colchol.")
        if colcov is not None:
            colcov = _arr(colcov)
            if _ndim(colcov) != 2:
                raise ValueError("colcov must be two dimensional.")
            colchol_cov = apply(jnp.linalg.cholesky, colcov)
        else:
            colchol_cov = _arr(colchol)
            if _ndim(colchol_cov) != 2:
                raise ValueError("colchol must be two dimensional.")
        dist_shape = (_shape(rowchol_cov)[-1], _shape(colchol_cov)[-1])
        mu = _arr(mu)
        target = jnp.broadcast_shapes(_shape(mu), dist_shape)
        if target != _shape(mu):
            mu = apply(_bcast_to_shape, mu, target) if _is_node(mu) else jnp.broadcast_to(mu, target)
        return super().dist([mu, rowchol_cov, colchol_cov], **kwargs)

    def _supp_shape(self, mu, rowchol, colchol):
        return (rowchol.shape[-1], colchol.shape[-1])

    def logp(self, value, mu, rowchol, colchol):
        delta = value - mu
        A = _solve_lower_mat(rowchol, delta)  # rowchol^{-1} delta
        B = _solve_lower_mat(colchol, _swap(A))  # colchol^{-1} A^T
        trquad = jnp.sum(B**2, axis=(-2, -1))
        m, n = rowchol.shape[-1], colchol.shape[-1]
        half_collogdet = jnp.sum(jnp.log(_diag(colchol)), -1)
        half_rowlogdet = jnp.sum(jnp.log(_diag(rowchol)), -1)
        return -0.5 * m * n * LOG_2PI - 0.5 * trquad - m * half_collogdet - n * half_rowlogdet

    def random(self, key, mu, rowchol, colchol, size):
        z = jax.random.normal(key, tuple(size), dtype=mu.dtype)
        return mu + rowchol @ z @ _swap(colchol)

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
                eig_params += [_arr(w), _arr(Q)]
        else:
            if chols is not None:
                covs = [apply(lambda c: c @ c.T, _arr(c)) for c in chols]
            for cov in covs:
                w, Q = apply(jnp.linalg.eigh, _arr(cov))
                eig_params += [w, Q]
        nc = len(eig_params) // 2
        N = int(np.prod([_shape(eig_params[2 * i])[-1] for i in range(nc)]))
        mu = _arr(mu)
        target = jnp.broadcast_shapes(_shape(mu), (N,))
        if target != _shape(mu):
            mu = apply(_bcast_to_shape, mu, target) if _is_node(mu) else jnp.broadcast_to(mu, target)
        names = ("mu", "sigma") + sum(((f"eigvals{i}", f"eigvecs{i}") for i in range(nc)), ())
        sub = _specialize(cls, _n_covs=nc, param_names=names, ndims_params=(1, 0) + (1, 2) * nc)
        return _build(sub, [mu, sigma, *eig_params], **kwargs)

    def _supp_shape(self, mu, sigma, *eig):
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
        return -(quad + jnp.sum(jnp.log(w), -1) + N * LOG_2PI) / 2.0

    def random(self, key, mu, sigma, *eig, size):
        w, Qs = self._eigs(sigma, eig)
        z = jax.random.normal(key, tuple(size), dtype=mu.dtype) * jnp.sqrt(w)
        return mu + _kron_apply(Qs, z, transpose=False)

    def support_point(self, mu, sigma, *eig, size):
        return jnp.broadcast_to(mu, size)


# ---------------------------------------------------------------------------------------------- spatial
def _car_eigs(W):
    D = jnp.sum(W, axis=-2)
    dinv = 1.0 / jnp.sqrt(D)
    DWD = dinv[..., :, None] * W * dinv[..., None, :]
    return jnp.linalg.eigvalsh(DWD)


class CAR(Continuous):
    r"""CAR(mu, W, alpha, tau): conditional autoregression with adjacency matrix W (PyMC's log density)."""

    param_names = ("mu", "W", "alpha", "tau", "eigvals")
    ndim_supp = 1
    ndims_params = (1, 2, 0, 0, 1)

    @classmethod
    def dist(cls, mu, W, alpha, tau, *args, **kwargs):
        W = _arr(W)
        m = _shape(W)[-1]
        mu = _arr(mu)
        target = jnp.broadcast_shapes(_shape(mu), (m,))
        if target != _shape(mu):
            mu = apply(_bcast_to_shape, mu, target) if _is_node(mu) else jnp.broadcast_to(mu, target)
        lam = apply(_car_eigs, W)
        return super().dist([mu, W, alpha, tau, lam], **kwargs)

    def _supp_shape(self, mu, W, alpha, tau, lam):
        return (W.shape[-1],)

    def logp(self, value, mu, W, alpha, tau, lam):
        D = jnp.sum(W, axis=-2)
        d = W.shape[-1]
        delta = value - mu
        Wdelta = jnp.einsum("...i,...ij->...j", delta, W)
        a = jnp.expand_dims(alpha, -1)
        tdd = D * delta - a * Wdelta
        logquad = tau * jnp.sum(delta * tdd, -1)
        logtau = d * jnp.log(tau)
        logdet = jnp.sum(jnp.log(1 - a * lam), -1)
        return 0.5 * (logtau + logdet - logquad)

    def check_params(self, mu, W, alpha, tau, lam):
        sym = jnp.all(jnp.abs(W - _swap(W)) <= 1e-8 + 1e-5 * jnp.abs(_swap(W)), axis=(-2, -1))
        return [((alpha > -1) & (alpha < 1), "-1 < alpha < 1"), (tau > 0, "tau > 0"),
                (sym, "W is a symmetric adjacency matrix")]

    def random(self, key, mu, W, alpha, tau, lam, size):
        size = tuple(size)
        m = W.shape[-1]
        D = jnp.sum(W, axis=-2)
        a = jnp.asarray(alpha)[..., None, None]
        Q = jnp.asarray(tau)[..., None, None] * (D[..., :, None] * jnp.eye(m, dtype=W.dtype) - a * W)
        L = jnp.broadcast_to(jnp.linalg.cholesky(Q), (*size[:-1], m, m))
        z = jax.random.normal(key, size, dtype=W.dtype)
        return mu + jsl.solve_triangular(_swap(L), z[..., None], lower=False)[..., 0]

    def support_point(self, mu, W, alpha, tau, lam, size):
        return jnp.broadcast_to(mu, size)


class ICAR(Continuous):
    r"""ICAR(W, sigma=1, zero_sum_stdev=0.001): intrinsic CAR prior (PyMC's density with a soft zero-sum
    constraint); W must be a constant symmetric 0/1 matrix. No random draws (as in PyMC)."""

    param_names = ("W", "sigma", "zero_sum_stdev")
    ndim_supp = 1
    ndims_params = (2, 0, 0)
    _edges = ((), ())

    @classmethod
    def dist(cls, W, sigma=1, zero_sum_stdev=0.001, **kwargs):
        if _is_node(W):
            raise TypeError("ICAR: W must be a constant matrix (numpy array), not a model variable")
        W = np.asarray(W.toarray() if hasattr(W, "toarray") else W)
        if not W.ndim == 2:
            raise ValueError("W must be matrix with ndim=2")
        if not W.shape[0] == W.shape[1]:
            raise ValueError("W must be a square matrix")
        if not np.allclose(W.T, W):
            raise ValueError("W must be a symmetric matrix")
        if np.any((W != 0) & (W != 1)):
            raise ValueError("W must be composed of only 1s and 0s")
        node1, node2 = np.nonzero(np.tril(W) == 1)
        sub = _specialize(cls, _edges=(tuple(int(i) for i in node1), tuple(int(i) for i in node2)))
        return _build(sub, [W.astype(config.floatX()), sigma, zero_sum_stdev], **kwargs)

    def _supp_shape(self, W, sigma, zss):
        return (W.shape[-1],)

    def logp(self, value, W, sigma, zero_sum_stdev):
        N = value.shape[-1]
        n1, n2 = np.asarray(self._edges[0], int), np.asarray(self._edges[1], int)
        pairwise = (-1 / (2 * sigma**2)) * jnp.sum((value[..., n1] - value[..., n2]) ** 2, -1)
        zero_sum = (-0.5 * (jnp.sum(value, -1) / (zero_sum_stdev * N)) ** 2 - LOG_SQRT_2PI
                    - jnp.log(zero_sum_stdev * N))
        return pairwise + zero_sum

    def check_params(self, W, sigma, zero_sum_stdev):
        return [(sigma > 0, "sigma > 0")]

    def random(self, key, W, sigma, zero_sum_stdev, size):
        raise NotImplementedError("Cannot sample from ICAR prior")

    def support_point(self, W, sigma, zero_sum_stdev, size):
        return jnp.zeros(size, config.floatX())

"""`pm.gp.cov`: PyMC's covariance functions (kernels); calling one returns a model expression (a graph node)
built from jax.numpy functions of the inputs and hyperparameters. Sums, products and powers: gp/kernel.py."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from jaxmc.gp.kernel import (  # noqa: F401  (the base classes are part of pm.gp.cov)
    Add, BaseCovariance, Combination, Constant, Covariance, Exponentiated, Kron, Prod, WhiteNoise, alloc, as_input,
    as_param, check_positive, expr, ndim_of, shape_of,
)
from jaxmc.graph import is_node

__all__ = ["Circular", "Constant", "Coregion", "Cosine", "ExpQuad", "Exponential", "Gibbs", "Kron", "Linear",
           "Matern12", "Matern32", "Matern52", "Periodic", "Polynomial", "RatQuad", "ScaledCov", "WarpedInput",
           "WhiteNoise", "WrappedPeriodic"]

IVE_TAIL = 512  # terms of the backward continued fraction beyond the highest order in Periodic's coefficients


def _sqdist(X, Xs, ls):
    """PyMC's squared scaled distance: |x/ls|^2 + |x'/ls|^2 - 2 x.x'/ls^2, clipped at 0."""
    X = X * (1.0 / ls)
    X2 = jnp.sum(X**2, 1)
    if Xs is None:
        Xs, Xs2 = X, X2
    else:
        Xs = Xs * (1.0 / ls)
        Xs2 = jnp.sum(Xs**2, 1)
    sqd = -2.0 * X @ Xs.T + (X2[:, None] + Xs2[None, :])
    return jnp.clip(sqd, 0.0, jnp.inf)


def _sqrt(r2):
    return jnp.sqrt(r2 + 1e-12)


def _ive_orders(n_max, x):
    """exp(-x) I_j(x) for j = 0..n_max (x > 0, broadcasting): ratios I_j / I_(j-1) from the backward
    continued fraction, times i0e(x)."""
    x = jnp.asarray(x, dtype=float)
    ks = jnp.arange(n_max + IVE_TAIL, 0, -1, dtype=x.dtype)

    def step(rho, k):
        rho = 1.0 / (2.0 * k / x + rho)
        return rho, rho

    _, rhos = jax.lax.scan(step, jnp.zeros_like(x), ks)  # rho_k for k = n_max + tail .. 1
    ratios = rhos[::-1][:n_max]  # rho_1 .. rho_n_max
    return jsp.i0e(x) * jnp.concatenate([jnp.ones((1, *x.shape), x.dtype), jnp.cumprod(ratios, 0)], 0)


class Circular(Covariance):
    """Circular kernel (Weinland function of the geodesic distance on [0, period))."""

    def __init__(self, input_dim, period, tau=4, active_dims=None):
        super().__init__(input_dim, active_dims)
        self.c = expr(lambda p: jnp.asarray(p, dtype=float) / 2, as_param(period))
        self.tau = tau

    def full(self, X, Xs=None):
        X, Xs = self._slice(X, Xs)

        def f(X, Xs, c, tau):
            Xs = X.T if Xs is None else Xs.T
            t = jnp.abs((X - Xs + c) % (c * 2) - c)
            return (1 + tau * t / c) * jnp.clip(1 - t / c, 0, jnp.inf) ** tau

        return expr(f, X, Xs, self.c, self.tau)

    def diag(self, X):
        return alloc(1.0, X)


class Stationary(Covariance):
    """Base of stationary kernels: a function of |x - x'| / ls; `ls` or `ls_inv` (one of them)."""

    def __init__(self, input_dim, ls=None, ls_inv=None, active_dims=None):
        super().__init__(input_dim, active_dims)
        if (ls is None) == (ls_inv is None):
            raise ValueError("Only one of 'ls' or 'ls_inv' must be provided")
        if ls_inv is not None:
            ls_inv = as_param(ls_inv)
            check_positive(ls_inv, "ls_inv")
            ls = expr(lambda v: 1.0 / jnp.asarray(v, dtype=float), ls_inv) if is_node(ls_inv) else 1.0 / np.asarray(
                ls_inv, dtype=float)
        ls = as_param(ls)
        check_positive(ls, "ls")
        if ndim_of(ls) > 1 or (ndim_of(ls) == 1 and shape_of(ls)[0] not in (1, self.n_dims)):
            raise ValueError(f"ls must be a scalar or have one value per active dimension ({self.n_dims}); "
                             f"found shape {tuple(shape_of(ls))}")
        self.ls = ls

    @property
    def ls_inv(self):
        return expr(lambda v: 1.0 / v, self.ls) if is_node(self.ls) else 1.0 / np.asarray(self.ls)

    def square_dist(self, X, Xs=None):
        return expr(_sqdist, X, Xs, self.ls)

    def euclidean_dist(self, X, Xs=None):
        return expr(lambda X, Xs, ls: _sqrt(_sqdist(X, Xs, ls)), X, Xs, self.ls)

    def diag(self, X):
        return alloc(1.0, X)

    def full(self, X, Xs=None):
        X, Xs = self._slice(X, Xs)
        return expr(lambda X, Xs, ls, p: self._from_r2(_sqdist(X, Xs, ls), p), X, Xs, self.ls, self._params())

    def full_from_distance(self, dist, squared=False):
        return expr(lambda d, p: self._from_r2(d if squared else d**2, p), dist, self._params())

    def _params(self):
        return ()

    def _from_r2(self, r2, params):
        raise NotImplementedError(f"{type(self).__name__} does not define its function of distance")

    def _ls_vector(self):
        return expr(lambda ls: jnp.ones(self.n_dims) * ls, self.ls)


class ExpQuad(Stationary):
    """k(x, x') = exp(-(x - x')^2 / (2 ls^2))."""

    def _from_r2(self, r2, params):
        return jnp.exp(-0.5 * r2)

    def power_spectral_density(self, omega):
        D = self.n_dims

        def f(omega, ls):
            ls = jnp.ones(D) * ls
            return jnp.sqrt(2.0 * np.pi) ** D * jnp.prod(ls) * jnp.exp(-0.5 * jnp.dot(jnp.square(omega),
                                                                                         jnp.square(ls)))

        return expr(f, omega, self.ls)


class RatQuad(Stationary):
    """k(x, x') = (1 + (x - x')^2 / (2 alpha ls^2))^(-alpha)."""

    def __init__(self, input_dim, alpha, ls=None, ls_inv=None, active_dims=None):
        super().__init__(input_dim, ls, ls_inv, active_dims)
        self.alpha = as_param(alpha)

    def _params(self):
        return (self.alpha,)

    def _from_r2(self, r2, params):
        (alpha,) = params
        return jnp.power(1.0 + 0.5 * r2 * (1.0 / alpha), -1.0 * alpha)


def _matern_psd(omega, ls, D, nu):
    """Spectral density of the Matern-nu kernel in D dimensions (product of lengthscales)."""
    ls = jnp.ones(D) * ls
    num = 2.0**D * np.pi ** (D / 2) * jnp.exp(jsp.gammaln(nu + D / 2)) * (2 * nu) ** nu
    den = jnp.exp(jsp.gammaln(nu))
    return num / den * jnp.prod(ls) * jnp.power(2 * nu + jnp.dot(jnp.square(omega), jnp.square(ls)), -(nu + D / 2))


class Matern52(Stationary):
    """Matern kernel with nu = 5/2."""

    def _from_r2(self, r2, params):
        r = _sqrt(r2)
        return (1.0 + np.sqrt(5.0) * r + 5.0 / 3.0 * jnp.square(r)) * jnp.exp(-1.0 * np.sqrt(5.0) * r)

    def power_spectral_density(self, omega):
        return expr(_matern_psd, omega, self.ls, self.n_dims, 2.5)


class Matern32(Stationary):
    """Matern kernel with nu = 3/2."""

    def _from_r2(self, r2, params):
        r = _sqrt(r2)
        return (1.0 + np.sqrt(3.0) * r) * jnp.exp(-np.sqrt(3.0) * r)

    def power_spectral_density(self, omega):
        return expr(_matern_psd, omega, self.ls, self.n_dims, 1.5)


class Matern12(Stationary):
    """Matern kernel with nu = 1/2: k(x, x') = exp(-|x - x'| / ls)."""

    def _from_r2(self, r2, params):
        return jnp.exp(-_sqrt(r2))

    def power_spectral_density(self, omega):
        return expr(_matern_psd, omega, self.ls, self.n_dims, 0.5)


class Exponential(Stationary):
    """k(x, x') = exp(-|x - x'| / (2 ls))."""

    def _from_r2(self, r2, params):
        return jnp.exp(-0.5 * _sqrt(r2))


class Cosine(Stationary):
    """k(x, x') = cos(2 pi |x - x'| / ls)."""

    def _from_r2(self, r2, params):
        return jnp.cos(2.0 * np.pi * _sqrt(r2))


def _periodic_r2(X, Xs, period, ls):
    Xs = X if Xs is None else Xs
    r = np.pi * (X[:, None, :] - Xs[None, :, :]) / period
    return jnp.sum(jnp.square(jnp.sin(r) / ls), 2)


class Periodic(Stationary):
    """k(x, x') = exp(-sin^2(pi |x - x'| / period) / (2 ls^2)) (PyMC's scaling: 0.5 in the exponent)."""

    def __init__(self, input_dim, period, ls=None, ls_inv=None, active_dims=None):
        super().__init__(input_dim, ls, ls_inv, active_dims)
        self.period = as_param(period)

    def full(self, X, Xs=None):
        X, Xs = self._slice(X, Xs)
        return expr(lambda X, Xs, p, ls: jnp.exp(-0.5 * _periodic_r2(X, Xs, p, ls)), X, Xs, self.period, self.ls)

    def _from_r2(self, r2, params):
        return jnp.exp(-0.5 * r2)

    def power_spectral_density_approx(self, J):
        """The coefficients q_j^2 = c_j ive(j, 1/ls^2) (c_0 = 1, c_j = 2) of the low-rank (HSGP) form of the
        periodic kernel, for the integer orders J (e.g. np.arange(m))."""
        J = np.asarray(J, dtype=int)
        n_max = int(J.max()) if J.size else 0

        def f(ls):
            a = 1.0 / jnp.square(jnp.asarray(ls, dtype=float))
            q = _ive_orders(n_max, a)[J]
            return jnp.where(J > 0, 2.0, 1.0).reshape(J.shape + (1,) * a.ndim) * q

        return expr(f, self.ls)


class Linear(Covariance):
    """k(x, x') = (x - c)(x' - c)."""

    def __init__(self, input_dim, c, active_dims=None):
        super().__init__(input_dim, active_dims)
        self.c = as_param(c)

    def full(self, X, Xs=None):
        X, Xs = self._slice(X, Xs)
        return expr(lambda X, Xs, c: (X - c) @ ((X if Xs is None else Xs) - c).T, X, Xs, self.c)

    def diag(self, X):
        X, _ = self._slice(X)
        return expr(lambda X, c: jnp.sum(jnp.square(X - c), 1), X, self.c)


class Polynomial(Linear):
    """k(x, x') = ((x - c)(x' - c) + offset)^d."""

    def __init__(self, input_dim, c, d, offset, active_dims=None):
        super().__init__(input_dim, c, active_dims)
        self.d = as_param(d)
        self.offset = as_param(offset)

    def full(self, X, Xs=None):
        return expr(lambda k, o, d: jnp.power(k + o, d), super().full(X, Xs), self.offset, self.d)

    def diag(self, X):
        return expr(lambda k, o, d: jnp.power(k + o, d), super().diag(X), self.offset, self.d)


def _with_args(func, x, args):
    if args is None:
        return func(x)
    return func(x, *(args if isinstance(args, tuple) else (args,)))


class WarpedInput(Covariance):
    """k(x, x') = k_base(w(x), w(x')) for a function w of X (and `args`) written with pm.math / jnp."""

    def __init__(self, input_dim, cov_func, warp_func, args=None, active_dims=None):
        super().__init__(input_dim, active_dims)
        if not callable(warp_func):
            raise TypeError("warp_func must be callable")
        if not isinstance(cov_func, Covariance):
            raise TypeError("Must be or inherit from the Covariance class")
        self.w = warp_func
        self.args = args
        self.cov_func = cov_func

    def full(self, X, Xs=None):
        X, Xs = self._slice(X, Xs)
        if Xs is None:
            return self.cov_func(_with_args(self.w, X, self.args), None)
        return self.cov_func(_with_args(self.w, X, self.args), _with_args(self.w, Xs, self.args))

    def diag(self, X):
        X, _ = self._slice(X)
        return self.cov_func(_with_args(self.w, X, self.args), diag=True)


class WrappedPeriodic(Covariance):
    """A periodic kernel from any Stationary kernel through the warping u(x) = (sin(2 pi x / T), cos(...))."""

    def __init__(self, cov_func, period):
        if not isinstance(cov_func, Stationary):
            raise TypeError("Must inherit from the Stationary class")
        super().__init__(cov_func.input_dim, cov_func.active_dims)
        self.cov_func = cov_func
        self.period = as_param(period)

    def full(self, X, Xs=None):
        X, Xs = self._slice(X, Xs)
        base = self.cov_func
        return expr(lambda X, Xs, p, ls, prm: base._from_r2(_periodic_r2(X, Xs, p, ls), prm), X, Xs, self.period,
                    base.ls, base._params())

    def diag(self, X):
        return alloc(1.0, X)


class Gibbs(Covariance):
    """Gibbs kernel with an input-dependent lengthscale function of X (and `args`); one input dimension."""

    def __init__(self, input_dim, lengthscale_func, args=None, active_dims=None):
        super().__init__(input_dim, active_dims)
        if (active_dims is not None and len(np.atleast_1d(active_dims)) > 1) or (active_dims is None and
                                                                                input_dim != 1):
            raise ValueError("Gibbs supports one active input dimension (as PyMC's, which is untested in more): "
                             "set input_dim=1 or a single active_dims entry.")
        if not callable(lengthscale_func):
            raise TypeError("lengthscale_func must be callable")
        self.lfunc = lengthscale_func
        self.args = args

    def full(self, X, Xs=None):
        X, Xs = self._slice(X, Xs)
        rx = _with_args(self.lfunc, X, self.args)
        rz = rx if Xs is None else _with_args(self.lfunc, Xs, self.args)

        def f(X, Xs, rx, rz):
            r2 = _sqdist(X, X if Xs is None else Xs, 1.0)
            rx, rz = jnp.ravel(rx), jnp.ravel(rz)
            s = rx[:, None] ** 2 + rz[None, :] ** 2
            return jnp.sqrt(2.0 * jnp.outer(rx, rz) / s) * jnp.exp(-1.0 * r2 / s)

        return expr(f, X, Xs, rx, rz)

    def diag(self, X):
        return alloc(1.0, X)


class ScaledCov(Covariance):
    """k(x, x') = phi(x) k_base(x, x') phi(x') for a scaling function phi of X (and `args`)."""

    def __init__(self, input_dim, cov_func, scaling_func, args=None, active_dims=None):
        super().__init__(input_dim, active_dims)
        if not callable(scaling_func):
            raise TypeError("scaling_func must be callable")
        if not isinstance(cov_func, Covariance):
            raise TypeError("Must be or inherit from the Covariance class")
        self.cov_func = cov_func
        self.scaling_func = scaling_func
        self.args = args

    def diag(self, X):
        X, _ = self._slice(X)
        scf = _with_args(self.scaling_func, X, self.args)
        return expr(lambda k, s: k * jnp.square(jnp.ravel(s)), self.cov_func(X, diag=True), scf)

    def full(self, X, Xs=None):
        X, Xs = self._slice(X, Xs)
        sx = _with_args(self.scaling_func, X, self.args)
        if Xs is None:
            return expr(lambda k, a: jnp.outer(a, a) * k, self.cov_func(X), sx)
        ss = _with_args(self.scaling_func, Xs, self.args)
        return expr(lambda k, a, b: jnp.outer(a, b) * k, self.cov_func(X, Xs), sx, ss)


class Coregion(Covariance):
    """B[x, x'] for integer inputs, with B = W W^T + diag(kappa) or B given; one active dimension."""

    def __init__(self, input_dim, W=None, kappa=None, B=None, active_dims=None):
        super().__init__(input_dim, active_dims)
        if len(self.active_dims) != 1:
            raise ValueError("Coregion requires exactly one dimension to be active")
        make_B = W is not None or kappa is not None
        if make_B and B is not None:
            raise ValueError("Exactly one of (W, kappa) and B must be provided to Coregion")
        if make_B:
            self.W, self.kappa = as_param(W), as_param(kappa)
            self.B = expr(lambda W, k: W @ W.T + jnp.diag(k), self.W, self.kappa)
        elif B is not None:
            self.B = as_param(B)
        else:
            raise ValueError("Exactly one of (W, kappa) and B must be provided to Coregion")

    def full(self, X, Xs=None):
        X, Xs = self._slice(X, Xs)

        def f(B, X, Xs):
            i = X.astype(jnp.int32)
            j = (i if Xs is None else Xs.astype(jnp.int32)).T
            return B[i, j]

        return expr(f, self.B, X, Xs)

    def diag(self, X):
        X, _ = self._slice(X)
        return expr(lambda B, X: jnp.diag(B)[jnp.ravel(X.astype(jnp.int32))], self.B, X)

"""pm.gp.LatentKron and pm.gp.MarginalKron: GPs on a full grid cartesian(*Xs) whose covariance is a Kronecker
product, computed through the factors' Cholesky or eigen decompositions as PyMC."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxmc.distributions import KroneckerNormal, MvNormal, Normal
from jaxmc.graph import apply
from jaxmc.gp.gp import point_values
from jaxmc.gp.inputs import input_matrix
from jaxmc.kronecker import cartesian, kron_diag, kron_dot, kron_solve_lower, kron_solve_upper
from jaxmc.gp.kernel import Constant, Kron
from jaxmc.gp.mean import Zero
from jaxmc.gp.util import JITTER_DEFAULT
from jaxmc.model import Deterministic, modelcontext


def _jittered_cholesky(K, jitter):
    return jnp.linalg.cholesky(K + jitter * jnp.eye(K.shape[-1], dtype=K.dtype))


def latent_kron_conditional(chols, delta, Kxs, Kss, mean_new, jitter):
    """Mean and covariance at new points of a GP whose values `delta` (minus the mean) on the grid are known,
    the grid covariance being kron(chols) kron(chols)^T."""
    alpha = kron_solve_upper([L.T for L in chols], kron_solve_lower(chols, delta))
    mu = Kxs.T @ alpha + mean_new
    A = kron_solve_lower(chols, Kxs)
    cov = Kss - A.T @ A
    return mu, cov + jitter * jnp.eye(cov.shape[-1], dtype=cov.dtype)


def marginal_kron_conditional(covs, delta, sigma, Knm, Km, mean_new, pred_noise, diag):
    """Mean and covariance (variance when diag) at new points of the GP under y = f + noise on the grid, with
    kron(covs) + sigma^2 I inverted through the factors' eigendecompositions."""
    eigs_sep, Qs = zip(*[jnp.linalg.eigh(K) for K in covs])
    QTs = [Q.T for Q in Qs]
    eigs = kron_diag(*eigs_sep) + jnp.square(sigma)
    alpha = kron_dot(Qs, kron_dot(QTs, delta) / eigs)
    mu = Knm.T @ alpha + mean_new
    A = kron_dot(QTs, Knm) / jnp.sqrt(eigs)[:, None]
    noise = jnp.square(sigma) if pred_noise else 0.0
    if diag:
        return mu, Km - jnp.sum(A * A, 0) + noise
    cov = Km - A.T @ A
    return mu, cov + noise * jnp.eye(cov.shape[-1], dtype=cov.dtype)


class _KronBase:
    """Shared by LatentKron and MarginalKron: one covariance function per grid axis, their product `cov_func`."""

    _kind = "LatentKron"
    _conditioned_on = ()

    def __init__(self, *, mean_func=None, cov_funcs=None):
        cov_funcs = Constant(0.0) if cov_funcs is None else cov_funcs
        try:
            self.cov_funcs = list(cov_funcs)
        except TypeError:
            self.cov_funcs = [cov_funcs]
        self.mean_func = Zero() if mean_func is None else mean_func
        self.cov_func = Kron(self.cov_funcs)

    def __add__(self, other):
        raise TypeError("Additive, Kronecker-structured processes not implemented")

    def __getattr__(self, attr):
        if attr in type(self)._conditioned_on:
            raise AttributeError(f"'{attr}' not set. Call '{self._first_call}' first")
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{attr}'")

    def _grid(self, Xs, where):
        if isinstance(Xs, np.ndarray) or not isinstance(Xs, list | tuple):
            raise TypeError(f"{where}: `Xs` must be a list with one 2-D input array per covariance function "
                            f"({len(self.cov_funcs)}), got {type(Xs).__name__}.")
        if len(Xs) != len(self.cov_funcs):
            raise ValueError(f"{where}: `Xs` must have one input array per covariance function "
                             f"({len(self.cov_funcs)}), got {len(Xs)}. Must provide a covariance function for "
                             "each X.")
        return [input_matrix(X, f"Xs[{i}]", where) for i, X in enumerate(Xs)]


class LatentKron(_KronBase):
    """Latent GP on the grid cartesian(*Xs) with covariance kron(cov_funcs[i](Xs[i])) (PyMC's
    `pm.gp.LatentKron`): `prior` draws standard normals `<name>_rotated_` rotated by the factors' Cholesky
    factors; `conditional` gives f at any new points."""

    _conditioned_on = ("Xs", "f")
    _first_call = "prior"

    def prior(self, name, Xs, jitter=JITTER_DEFAULT, **kwargs):
        """The GP's values on the grid cartesian(*Xs): a Deterministic `name` of the rotated normals."""
        Xs = self._grid(Xs, "LatentKron.prior")
        self.N = int(np.prod([X.shape[0] for X in Xs]))
        mu = self.mean_func(apply(cartesian, *Xs))
        chols = [apply(_jittered_cholesky, cov(X), jitter) for cov, X in zip(self.cov_funcs, Xs)]
        v = Normal(name + "_rotated_", mu=0.0, sigma=1.0, size=self.N, **kwargs)
        f = Deterministic(name, mu + apply(kron_dot, chols, v), dims=kwargs.get("dims", None))
        self.Xs, self.f = Xs, f
        return f

    def _moments(self, Xnew, jitter):
        Xnew = input_matrix(Xnew, "Xnew", "LatentKron.conditional")
        X = apply(cartesian, *self.Xs)
        chols = [apply(_jittered_cholesky, cov(Xi), jitter) for cov, Xi in zip(self.cov_funcs, self.Xs)]
        return apply(latent_kron_conditional, chols, self.f - self.mean_func(X), self.cov_func(X, Xnew),
                     self.cov_func(Xnew), self.mean_func(Xnew), jitter)

    def conditional(self, name, Xnew, jitter=JITTER_DEFAULT, **kwargs):
        """The conditional distribution of the GP at `Xnew` (any points, not only a grid): an MvNormal."""
        mu, cov = self._moments(Xnew, jitter)
        return MvNormal(name, mu=mu, cov=cov, **kwargs)


class MarginalKron(_KronBase):
    """GP plus white noise on the grid cartesian(*Xs) (PyMC's `pm.gp.MarginalKron`): `marginal_likelihood`
    observes y through a KroneckerNormal; `conditional` and `predict` give f at new points."""

    _conditioned_on = ("Xs", "y", "sigma")
    _first_call = "marginal_likelihood"

    def marginal_likelihood(self, name, Xs, y, sigma, is_observed=True, **kwargs):
        """y ~ KroneckerNormal(mean_func(grid), [cov_i(Xs[i])], sigma), observed."""
        where = "MarginalKron.marginal_likelihood"
        Xs = self._grid(Xs, where)
        N = int(np.prod([X.shape[0] for X in Xs]))
        y_shape = tuple(y.shape) if hasattr(y, "shape") else np.shape(y)
        if y_shape != (N,):
            raise ValueError(f"{where}: `y` must be a vector as long as the Cartesian product of `Xs` ({N}), got "
                             f"shape {y_shape}.")
        if not is_observed:
            raise ValueError(f"{where}: `is_observed=False` is not supported; for an unobserved GP use "
                             "gp.LatentKron.")
        self.X = apply(cartesian, *Xs)
        mu = self.mean_func(self.X)
        covs = [cov(X) for cov, X in zip(self.cov_funcs, Xs)]
        self.Xs, self.y, self.sigma = Xs, y, sigma
        return KroneckerNormal(name, mu=mu, covs=covs, sigma=sigma, observed=y, **kwargs)

    def _moments(self, Xnew, diag, pred_noise):
        Xnew = input_matrix(Xnew, "Xnew", "MarginalKron.conditional")
        X = apply(cartesian, *self.Xs)
        covs = [cov(Xi) for cov, Xi in zip(self.cov_funcs, self.Xs)]
        Km = self.cov_func(Xnew, diag=True) if diag else self.cov_func(Xnew)
        return apply(marginal_kron_conditional, covs, self.y - self.mean_func(X), self.sigma,
                     self.cov_func(X, Xnew), Km, self.mean_func(Xnew), pred_noise, diag)

    def conditional(self, name, Xnew, pred_noise=False, diag=False, **kwargs):
        """The conditional distribution of the GP at `Xnew` (any points): an MvNormal."""
        mu, cov = self._moments(Xnew, diag, pred_noise)
        return MvNormal(name, mu=mu, cov=cov, **kwargs)

    def predict(self, Xnew, point=None, diag=False, pred_noise=False, model=None):
        """Mean and covariance (variance when diag) of the conditional at `Xnew` given a point {name: value}."""
        modelcontext(model)
        return point_values(list(self._moments(Xnew, diag, pred_noise)), point)

"""pm.gp.MarginalApprox: GP regression with inducing points (FITC, VFE, DTC) as PyMC, its approximate marginal
likelihood and conditional computed through one Cholesky factor of the inducing-point covariance."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from jaxmc.distributions import MvNormal
from jaxmc.graph import apply, is_node
from jaxmc.gp.gp import point_values
from jaxmc.gp.inputs import input_matrix
from jaxmc.kronecker import triangular_inverse
from jaxmc.gp.kernel import BaseCovariance, Constant
from jaxmc.gp.mean import Zero
from jaxmc.gp.util import JITTER_DEFAULT
from jaxmc.model import Potential, modelcontext

APPROXIMATIONS = ("FITC", "VFE", "DTC")


class SparseFactors(NamedTuple):
    """What the marginal likelihood and the conditional share: the inverse of Kuu's Cholesky factor,
    A = Luu^-1 Kuf, the diagonal noise Lambda, the Cholesky factor L_B of I + A Lambda^-1 A^T and its inverse,
    residuals r and c = L_B^-1 A Lambda^-1 r."""

    Luu_inv: jnp.ndarray
    A: jnp.ndarray
    Qffd: jnp.ndarray
    Lamd: jnp.ndarray
    L_B: jnp.ndarray
    LB_inv: jnp.ndarray
    r: jnp.ndarray
    r_l: jnp.ndarray
    c: jnp.ndarray


def sparse_factors(approx, r, Kuu, Kuf, Kffd, sigma, jitter) -> SparseFactors:
    """The factorisation of the FITC/VFE/DTC covariance Qff + Lambda (Qff = Kfu Kuu^-1 Kuf) at residuals r."""
    eye = jnp.eye(Kuu.shape[-1], dtype=Kuu.dtype)
    Luu_inv = triangular_inverse(jnp.linalg.cholesky(Kuu + jitter * eye))
    A = Luu_inv @ Kuf
    Qffd = jnp.sum(A * A, 0)
    sigma2 = jnp.square(sigma)
    if approx == "FITC":
        Lamd = jnp.clip(Kffd - Qffd, 0.0, None) + sigma2
    else:
        Lamd = jnp.ones_like(Qffd) * sigma2
    L_B = jnp.linalg.cholesky(eye + (A / Lamd) @ A.T)
    LB_inv = triangular_inverse(L_B)
    r_l = r / Lamd
    return SparseFactors(Luu_inv, A, Qffd, Lamd, L_B, LB_inv, r, r_l, LB_inv @ (A @ r_l))


def sparse_loglik(approx, y, mu, Kuu, Kuf, Kffd, sigma, jitter):
    """The approximate log marginal likelihood of y (FITC, VFE or DTC), with VFE's trace term."""
    f = sparse_factors(approx, y - mu, Kuu, Kuf, Kffd, sigma, jitter)
    constant = 0.5 * y.shape[-1] * jnp.log(2.0 * jnp.pi)
    logdet = 0.5 * jnp.sum(jnp.log(f.Lamd)) + jnp.sum(jnp.log(jnp.diagonal(f.L_B)))
    quadratic = 0.5 * (jnp.dot(f.r, f.r_l) - jnp.dot(f.c, f.c))
    trace = jnp.sum(Kffd - f.Qffd) / (2.0 * jnp.square(sigma)) if approx == "VFE" else 0.0
    return -(constant + logdet + quadratic + trace)


def sparse_conditional(approx, r, Kuu, Kuf, Kffd, sigma, Kus, Kss, mean_new, jitter, pred_noise, diag):
    """Mean and covariance (or variance when diag) of the approximate conditional at new points."""
    f = sparse_factors(approx, r, Kuu, Kuf, Kffd, sigma, jitter)
    As = f.Luu_inv @ Kus
    mu = mean_new + As.T @ (f.LB_inv.T @ f.c)
    C = f.LB_inv @ As
    sigma2 = jnp.square(sigma)
    if diag:
        var = Kss - jnp.sum(As * As, 0) + jnp.sum(C * C, 0)
        return mu, var + sigma2 if pred_noise else var
    cov = Kss - As.T @ As + C.T @ C
    eye = jnp.eye(cov.shape[-1], dtype=cov.dtype)
    return mu, cov + (sigma2 if pred_noise else jitter) * eye


def _check_approx(approx):
    if approx not in APPROXIMATIONS:
        raise NotImplementedError(f"MarginalApprox: `approx` must be one of {APPROXIMATIONS}, got {approx!r}.")
    return approx


class MarginalApprox:
    """Approximate marginal GP (PyMC's `pm.gp.MarginalApprox`): `marginal_likelihood(name, X, Xu, y, sigma)`
    adds the FITC, VFE or DTC log likelihood as the potential `marginalapprox_loglik_<name>`; `conditional`
    and `predict` give the approximate posterior at new points."""

    def __init__(self, approx="VFE", *, mean_func=None, cov_func=None):
        self.approx = _check_approx(approx)
        self.mean_func = Zero() if mean_func is None else mean_func
        self.cov_func = Constant(0.0) if cov_func is None else cov_func
        self._given = None

    def __add__(self, other):
        if not isinstance(other, MarginalApprox):
            raise TypeError("Cannot add different GP types")
        if other.approx != self.approx:
            raise TypeError("Cannot add GPs with different approximations")
        return MarginalApprox(self.approx, mean_func=self.mean_func + other.mean_func,
                              cov_func=self.cov_func + other.cov_func)

    def _conditioned(self, attr):
        if self._given is None:
            raise AttributeError(f"'{attr}' not set. Provide as argument to condition, or call "
                                 "'marginal_likelihood' first")
        return self._given[attr]

    X = property(lambda self: self._conditioned("X"))
    Xu = property(lambda self: self._conditioned("Xu"))
    y = property(lambda self: self._conditioned("y"))
    sigma = property(lambda self: self._conditioned("sigma"))

    def _inputs(self, X, Xu, y, where):
        X = input_matrix(X, "X", where)
        Xu = input_matrix(Xu, "Xu", where)
        if Xu.shape[1] != X.shape[1]:
            raise ValueError(f"{where}: `Xu` must have the columns of `X` ({X.shape[1]}), got {Xu.shape[1]}.")
        y_shape = tuple(np.shape(y)) if not is_node(y) else tuple(y.shape)
        if y_shape != (X.shape[0],):
            raise ValueError(f"{where}: `y` must have shape ({X.shape[0]},) (one value per row of X), got "
                             f"{y_shape}.")
        return X, Xu

    def _loglik(self, X, Xu, y, sigma, jitter):
        cov = self.cov_func
        Kffd = cov(X, diag=True) if self.approx != "DTC" else None
        return apply(sparse_loglik, self.approx, y, self.mean_func(X), cov(Xu), cov(Xu, X), Kffd, sigma,
                     jitter)

    def marginal_likelihood(self, name, X, Xu, y, sigma, jitter=JITTER_DEFAULT, **kwargs):
        """The approximate marginal likelihood of y at inputs X given inducing points Xu and noise `sigma`,
        added to the model as the potential `marginalapprox_loglik_<name>`."""
        if isinstance(sigma, BaseCovariance):
            raise TypeError("MarginalApprox.marginal_likelihood: `sigma` must be the noise standard deviation "
                            "(a number or variable), not a covariance function.")
        X, Xu = self._inputs(X, Xu, y, "MarginalApprox.marginal_likelihood")
        self._given = {"X": X, "Xu": Xu, "y": y, "sigma": sigma}
        return Potential(f"marginalapprox_loglik_{name}", self._loglik(X, Xu, y, sigma, jitter), **kwargs)

    def _conditional_moments(self, Xnew, pred_noise, diag, given, jitter):
        given = {} if given is None else given
        gp = given.get("gp", self)
        if all(k in given for k in ("X", "Xu", "y", "sigma")):
            X, Xu = self._inputs(given["X"], given["Xu"], given["y"], "MarginalApprox.conditional")
            y, sigma = given["y"], given["sigma"]
        else:
            X, Xu, y, sigma = self.X, self.Xu, self.y, self.sigma
        Xnew = input_matrix(Xnew, "Xnew", "MarginalApprox.conditional")
        cov_total, mean_total = gp.cov_func, gp.mean_func
        Kffd = cov_total(X, diag=True) if self.approx == "FITC" else None
        Kss = self.cov_func(Xnew, diag=True) if diag else self.cov_func(Xnew)
        return apply(sparse_conditional, self.approx, y - mean_total(X), cov_total(Xu), cov_total(Xu, X), Kffd,
                     sigma, self.cov_func(Xu, Xnew), Kss, self.mean_func(Xnew), jitter, pred_noise, diag)

    def conditional(self, name, Xnew, pred_noise=False, given=None, jitter=JITTER_DEFAULT, **kwargs):
        """The approximate conditional distribution of the GP at `Xnew` (an MvNormal named `name`)."""
        mu, cov = self._conditional_moments(Xnew, pred_noise, False, given, jitter)
        return MvNormal(name, mu=mu, cov=cov, **kwargs)

    def predict(self, Xnew, point=None, diag=False, pred_noise=False, given=None, jitter=JITTER_DEFAULT,
                model=None):
        """Mean and covariance (variance when diag) of the conditional at `Xnew` given a point {name: value}."""
        modelcontext(model)
        mu, cov = self._conditional_moments(Xnew, pred_noise, diag, given, jitter)
        return point_values([mu, cov], point)



class MarginalSparse(MarginalApprox):
    """PyMC's former name of MarginalApprox (warns, as PyMC)."""

    def __init__(self, approx="VFE", *, mean_func=None, cov_func=None):
        warnings.warn("gp.MarginalSparse has been renamed to gp.MarginalApprox.", FutureWarning, stacklevel=2)
        super().__init__(approx, mean_func=mean_func, cov_func=cov_func)

"""Exact Gaussian and Student-t processes with PyMC's API: `Latent` (prior, conditional), `TP` and `Marginal`
(marginal_likelihood, conditional, predict); covariances are factorised by Cholesky with jitter."""

from __future__ import annotations

import warnings
import weakref

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from jaxmc.distributions import MvNormal, MvStudentT, Normal, StudentT
from jaxmc.gp.kernel import BaseCovariance, Constant, WhiteNoise, as_input, expr
from jaxmc.gp.mean import Zero
from jaxmc.gp.util import JITTER_DEFAULT, stabilize
from jaxmc.graph import ancestors, current_data_env, evaluate, is_node
from jaxmc.model import Deterministic

__all__ = ["TP", "Base", "Latent", "Marginal", "PointFunction", "point_values"]

_PREDICT_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # gp -> {Xnew and options: PointFunction}


def _chol(K):
    """Lower Cholesky factor; NaN where K is not positive definite (the log density then rejects the step)."""
    return jnp.linalg.cholesky(K)


def _solve_lower(L, b):
    return jsl.solve_triangular(L, b, lower=True)


def _rotate(mu, K, v):
    """mu + L v (v of shape (n,) or (n_outputs, n)): the non-centred GP draw."""
    return mu + (_chol(K) @ v.T).T


def _conditional(Kxx, Kxs, Kss, r, mu_new, diag):
    """Gaussian conditioning on r = y - m(X) with the factor of Kxx: (mean, cov) or (mean, variance)."""
    L = _chol(Kxx)
    A = _solve_lower(L, Kxs)
    v = _solve_lower(L, r.T)
    mu = mu_new + (A.T @ v).T
    if diag:
        return mu, Kss - jnp.sum(jnp.square(A), 0)
    return mu, Kss - A.T @ A


def _tp_conditional(Kxx, Kxs, Kss, r, mu_new, nu):
    L = _chol(Kxx)
    A = _solve_lower(L, Kxs)
    v = _solve_lower(L, r)
    beta = jnp.dot(v, v)
    nu2 = nu + Kxx.shape[0]
    return nu2, mu_new + A.T @ v, (nu + beta - 2) / (nu2 - 2) * (Kss - A.T @ A)


def _check_cov_func(cov_func, name="cov_func"):
    if not isinstance(cov_func, BaseCovariance) and not is_node(cov_func) and len(np.shape(cov_func)) != 2:
        raise TypeError(f"{name} must be a covariance function from pm.gp.cov (e.g. pm.gp.cov.ExpQuad(1, ls=1)); "
                        f"found {type(cov_func).__name__}")


def _check_rows(X, y, what="y"):
    n, m = X.shape[0], y.shape[-1] if len(y.shape) else None
    if m is not None and n != m:
        raise ValueError(f"X has {n} rows but {what} has {m} values: give one row of X per value of {what}.")


class Base:
    """Shared by the GP implementations: a mean and a covariance function; GPs of one type add."""

    def __init__(self, *, mean_func=Zero(), cov_func=Constant(0.0)):
        _check_cov_func(cov_func)
        self.mean_func = mean_func
        self.cov_func = cov_func

    def __add__(self, other):
        same_attrs = set(self.__dict__.keys()) == set(other.__dict__.keys())
        if not isinstance(self, type(other)) or not same_attrs:
            raise TypeError("Cannot add different GP types")
        return self.__class__(mean_func=self.mean_func + other.mean_func, cov_func=self.cov_func + other.cov_func)

    def _conditioned(self, name):
        value = getattr(self, "_" + name, None)
        if value is None:
            raise AttributeError(f"'{name}' not set.  Provide as argument to condition, or call 'prior' first")
        return value


def _conditioned_property(name):
    return property(lambda self: self._conditioned(name), lambda self, v: setattr(self, "_" + name, v))


class Latent(Base):
    """Latent GP: f ~ GP(mean_func, cov_func) as model variables (`prior`), and f at new inputs (`conditional`)."""

    X = _conditioned_property("X")
    f = _conditioned_property("f")

    def _build_prior(self, name, X, n_outputs=1, reparameterize=True, jitter=JITTER_DEFAULT, **kwargs):
        mu = self.mean_func(X)
        cov = stabilize(self.cov_func(X), jitter)
        if reparameterize:
            if "dims" in kwargs:
                v = Normal(name + "_rotated_", mu=0.0, sigma=1.0, **kwargs)
            else:
                size = (n_outputs, X.shape[0]) if n_outputs > 1 else X.shape[0]
                v = Normal(name + "_rotated_", mu=0.0, sigma=1.0, size=size, **kwargs)
            return Deterministic(name, expr(_rotate, mu, cov, v), dims=kwargs.get("dims"))
        mu_stack = expr(lambda m: jnp.stack([m] * n_outputs, 0), mu) if n_outputs > 1 else mu
        return MvNormal(name, mu=mu_stack, cov=cov, **kwargs)

    def prior(self, name, X, n_outputs=1, reparameterize=True, jitter=JITTER_DEFAULT, **kwargs):
        """The GP prior at inputs X: with reparameterize=True the rotated standard normal `{name}_rotated_` and
        the Deterministic `name` = mean + chol(K) @ rotated; else an MvNormal."""
        X = as_input(X)
        f = self._build_prior(name, X, n_outputs, reparameterize, jitter, **kwargs)
        self.X, self.f, self.n_outputs = X, f, n_outputs
        return f

    def _get_given_vals(self, given):
        given = given or {}
        cov_total, mean_total = (given["gp"].cov_func, given["gp"].mean_func) if "gp" in given else (
            self.cov_func, self.mean_func)
        X, f = (given["X"], given["f"]) if all(k in given for k in ("X", "f")) else (self.X, self.f)
        return as_input(X), f, cov_total, mean_total

    def _build_conditional(self, Xnew, X, f, cov_total, mean_total, jitter):
        return expr(_conditional, stabilize(cov_total(X), jitter), self.cov_func(X, Xnew), self.cov_func(Xnew),
                    f - mean_total(X), self.mean_func(Xnew), False)

    def conditional(self, name, Xnew, given=None, jitter=JITTER_DEFAULT, **kwargs):
        """f at new inputs given f at X: an MvNormal variable (jitter is added to its covariance, whose
        Cholesky factor draws it; PyMC draws with an SVD)."""
        kwargs.pop("method", None)
        Xnew = as_input(Xnew, "Xnew")
        mu, cov = self._build_conditional(Xnew, *self._get_given_vals(given), jitter)
        return MvNormal(name, mu=mu, cov=stabilize(cov, jitter), **kwargs)


class TP(Latent):
    """Student's t process: as `Latent` with degrees of freedom `nu`; `scale_func` is its scale (covariance)."""

    nu = _conditioned_property("nu")

    def __init__(self, *, mean_func=Zero(), scale_func=Constant(0.0), cov_func=None, nu=None):
        if nu is None:
            raise ValueError("Student's T process requires a degrees of freedom parameter, 'nu'")
        if cov_func is not None:
            warnings.warn("Use the scale_func argument to specify the scale function.cov_func will be removed in "
                          "future versions.", FutureWarning, stacklevel=2)
            scale_func = cov_func
        self.nu = nu
        super().__init__(mean_func=mean_func, cov_func=scale_func)

    def __add__(self, other):
        raise TypeError("Student's T processes aren't additive")

    def _build_prior(self, name, X, reparameterize=True, jitter=JITTER_DEFAULT, **kwargs):
        mu = self.mean_func(X)
        cov = stabilize(self.cov_func(X), jitter)
        if reparameterize:
            v = StudentT(name + "_rotated_", mu=0.0, sigma=1.0, nu=self.nu, size=X.shape[0], **kwargs)
            return Deterministic(name, expr(_rotate, mu, cov, v), dims=kwargs.get("dims"))
        return MvStudentT(name, nu=self.nu, mu=mu, scale=cov, **kwargs)

    def prior(self, name, X, reparameterize=True, jitter=JITTER_DEFAULT, **kwargs):
        """The TP prior at inputs X (rotated StudentT `{name}_rotated_` and a Deterministic, or an MvStudentT)."""
        X = as_input(X)
        f = self._build_prior(name, X, reparameterize, jitter, **kwargs)
        self.X, self.f = X, f
        return f

    def conditional(self, name, Xnew, jitter=JITTER_DEFAULT, **kwargs):
        """f at new inputs given f at X: an MvStudentT with nu + n degrees of freedom."""
        Xnew = as_input(Xnew, "Xnew")
        X, f = self.X, self.f
        nu2, mu, cov = expr(_tp_conditional, stabilize(self.cov_func(X), jitter), self.cov_func(X, Xnew),
                            self.cov_func(Xnew), f - self.mean_func(X), self.mean_func(Xnew), self.nu)
        return MvStudentT(name, nu=nu2, mu=mu, scale=stabilize(cov, jitter), **kwargs)


class Marginal(Base):
    """GP plus Gaussian noise with f integrated out: `marginal_likelihood` (an observed MvNormal),
    `conditional` (f or y at new inputs) and `predict` (numpy mean and covariance at a point)."""

    X = _conditioned_property("X")
    y = _conditioned_property("y")
    sigma = _conditioned_property("sigma")

    @staticmethod
    def _noise_func(sigma, noise=None, where="marginal_likelihood"):
        if noise is not None:
            if sigma is not None:
                raise ValueError("Give the noise once: `sigma=` (or its old name `noise=`), not both.")
            warnings.warn("The 'noise' parameter has been changed to 'sigma' in order to standardize the GP API "
                          "and will be deprecated in future releases.", FutureWarning, stacklevel=3)
            sigma = noise
        if sigma is None:
            raise ValueError(f"Marginal.{where} needs the noise: sigma= (the standard deviation of the Gaussian "
                             "noise: a number, a model variable, or a pm.gp.cov covariance for non-white noise). "
                             "For a GP without noise use pm.gp.Latent.")
        return sigma if isinstance(sigma, BaseCovariance) else WhiteNoise(sigma)

    def _build_marginal_likelihood(self, X, noise_func, jitter):
        mu = self.mean_func(X)
        return mu, stabilize(self.cov_func(X) + noise_func(X), jitter)

    def marginal_likelihood(self, name, X, y, sigma=None, jitter=JITTER_DEFAULT, is_observed=True, noise=None,
                            **kwargs):
        """y ~ MvNormal(m(X), K(X) + noise): the GP integrated over f, observed at y."""
        noise_func = self._noise_func(sigma, noise)
        X = as_input(X)
        y_arr = y if is_node(y) else np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=float)
        _check_rows(X, y_arr)
        mu, cov = self._build_marginal_likelihood(X, noise_func, jitter)
        self.X, self.y, self.sigma = X, y, noise_func
        if is_observed:
            return MvNormal(name, mu=mu, cov=cov, observed=y, **kwargs)
        warnings.warn("The 'is_observed' argument has been deprecated.  If the GP is unobserved use gp.Latent "
                      "instead.", FutureWarning, stacklevel=2)
        return MvNormal(name, mu=mu, cov=cov, **kwargs)

    def _get_given_vals(self, given):
        given = given or {}
        cov_total, mean_total = (given["gp"].cov_func, given["gp"].mean_func) if "gp" in given else (
            self.cov_func, self.mean_func)
        if all(k in given for k in ("X", "y", "sigma")):
            X, y, noise_func = given["X"], given["y"], self._noise_func(given["sigma"], where="conditional")
        else:
            X, y, noise_func = self.X, self.y, self.sigma
        if not is_node(y):
            y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=float)
        return as_input(X), y, noise_func, cov_total, mean_total

    def _build_conditional(self, Xnew, pred_noise, diag, X, y, noise_func, cov_total, mean_total, jitter):
        Kxx = stabilize(cov_total(X), jitter) + noise_func(X)
        Kss = self.cov_func(Xnew, diag=diag)
        mu, cov = expr(_conditional, Kxx, self.cov_func(X, Xnew), Kss, y - mean_total(X), self.mean_func(Xnew),
                       diag)
        if pred_noise:
            return mu, cov + noise_func(Xnew, diag=diag)
        return mu, (cov if diag else stabilize(cov, jitter))

    def conditional(self, name, Xnew, pred_noise=False, given=None, jitter=JITTER_DEFAULT, **kwargs):
        """f (or y with pred_noise=True) at new inputs given the data: an MvNormal variable."""
        Xnew = as_input(Xnew, "Xnew")
        mu, cov = self._build_conditional(Xnew, pred_noise, False, *self._get_given_vals(given), jitter)
        return MvNormal(name, mu=mu, cov=cov, **kwargs)

    def _predict_at(self, Xnew, diag=False, pred_noise=False, given=None, jitter=JITTER_DEFAULT):
        Xnew = as_input(Xnew, "Xnew")
        return self._build_conditional(Xnew, pred_noise, diag, *self._get_given_vals(given), jitter)

    def predict(self, Xnew, point=None, diag=False, pred_noise=False, given=None, jitter=JITTER_DEFAULT,
                model=None):
        """Mean and covariance (variance with diag=True) of the conditional at `point` ({name: value}, e.g. a
        draw or pm.find_MAP()), as numpy arrays."""
        key = None
        if given is None and not is_node(Xnew):
            Xa = np.asarray(Xnew, dtype=float)
            fixed = [id(getattr(self, "_" + k, None)) for k in ("X", "y", "sigma")]
            key = (Xa.tobytes(), Xa.shape, bool(diag), bool(pred_noise), float(jitter), *fixed, id(self.cov_func),
                   id(self.mean_func))
        cache = _PREDICT_CACHE.setdefault(self, {})
        fn = cache.get(key) if key is not None else None
        if fn is None:
            fn = PointFunction(self._predict_at(Xnew, diag, pred_noise, given, jitter))
            if key is not None:
                cache[key] = fn
        return fn(point)


class PointFunction:
    """Values of expressions given the values of the free variables they depend on (`fn(point)`, point a
    {name: value} dict; data take their current values), compiled once; a missing variable is an error."""

    def __init__(self, outputs):
        self.outputs = list(outputs)
        self.nodes = [o for o in self.outputs if is_node(o)]
        self.needed = ancestors(self.nodes, kinds=("rv",))
        leaves = list(self.needed) + [d for d in current_data_env(self.nodes)]
        nodes = self.nodes
        self.leaves = leaves
        self.fn = jax.jit(lambda *v: evaluate(nodes, dict(zip(leaves, v))))

    def __call__(self, point):
        point = dict(point or {})
        missing = sorted({rv.name for rv in self.needed} - set(point))
        if missing:
            raise ValueError(f"Values for {', '.join(missing)} must be included in `point` (a dict of variable "
                             "name to value, e.g. one posterior draw or the result of pm.find_MAP()).")
        data = current_data_env(self.nodes)
        values = [jnp.asarray(np.asarray(point[rv.name]), dtype=rv.dtype) for rv in self.needed]
        values += [data[d] for d in self.leaves[len(self.needed):]]
        results = iter(self.fn(*values))
        return tuple(np.asarray(next(results)) if is_node(o) else np.asarray(o) for o in self.outputs)


def point_values(outputs, point):
    """Values of expressions at `point` ({name: value} of the free variables they depend on)."""
    return PointFunction(outputs)(point)

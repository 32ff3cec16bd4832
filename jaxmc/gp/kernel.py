"""The covariance-function base classes of `pm.gp.cov` (a kernel's input columns, sums, products, powers,
Kronecker products, Constant and WhiteNoise) and the helpers that turn jnp functions into model expressions."""

from __future__ import annotations

import numbers
import warnings
from functools import reduce
from operator import add, mul

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.graph import apply, constant, is_node

__all__ = ["Add", "BaseCovariance", "Combination", "Constant", "Covariance", "Exponentiated", "Kron", "Prod",
           "WhiteNoise", "alloc", "as_input", "as_param", "check_positive", "expr", "ndim_of", "shape_of"]

def expr(fn, *args, **kwargs):
    """fn applied to nodes and constants: a node (a constant node when no input is a model variable)."""
    out = apply(fn, *args, **kwargs)
    if isinstance(out, tuple):
        return tuple(o if is_node(o) else constant(o) for o in out)
    return out if is_node(out) else constant(out)


def as_input(X, name="X"):
    """X (a model variable, pm.Data, numpy/pandas/list) as a node or numpy array that must be 2-D."""
    if X is None:
        return None
    if not is_node(X) and not isinstance(X, jax.Array):
        X = np.asarray(X.to_numpy() if hasattr(X, "to_numpy") else X, dtype=float)
    if len(X.shape) != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (n_points, n_columns); found shape "
                         f"{tuple(X.shape)}. A single input column is X[:, None] (or X.reshape(-1, 1)).")
    return X


def as_param(x):
    """Lists and tuples become numpy arrays; nodes and numbers pass through."""
    if isinstance(x, (list, tuple)):
        return np.asarray(x, dtype=float) if not any(is_node(v) for v in x) else apply(jnp.stack, list(x))
    return x


def check_positive(x, name):
    if is_node(x) or isinstance(x, jax.core.Tracer):
        return
    a = np.asarray(x, dtype=float)
    if np.any(~(a > 0)):
        raise ValueError(f"{name} must be positive; found {a.tolist()}. Lengthscales (and their inverses) are "
                         "positive numbers or positive model variables (e.g. pm.Gamma, pm.HalfNormal).")


def shape_of(x):
    return tuple(x.shape) if is_node(x) else np.shape(x)


def ndim_of(x):
    return len(shape_of(x))


def alloc(value, X, Xs=None, full=False):
    """value broadcast to (rows of X,) or, with full=True, (rows of X, rows of Xs or X); the lengths follow X
    when it is pm.Data (set_data)."""
    def f(v, X, Xs):
        n = X.shape[0]
        shape = (n, n if Xs is None else Xs.shape[0]) if full else (n,)
        return jnp.broadcast_to(jnp.asarray(v, dtype=float), shape)

    return expr(f, value, as_input(X), as_input(Xs, "Xs"))


class BaseCovariance:
    """A covariance function: `cov(X)`, `cov(X, Xs)`, `cov(X, diag=True)` return model expressions."""

    __array_ufunc__ = None  # numpy arrays and model variables defer to our reflected operators

    def __call__(self, X, Xs=None, diag=False):
        if diag:
            return self.diag(X)
        return self.full(X, Xs)

    def diag(self, X):
        raise NotImplementedError(f"{type(self).__name__} does not define diag")

    def full(self, X, Xs=None):
        raise NotImplementedError(f"{type(self).__name__} does not define full")

    def __add__(self, other):
        if isinstance(other, numbers.Real):
            other = Constant(c=other)
        return Add([self, other])

    def __mul__(self, other):
        return Prod([self, other])

    def __radd__(self, other):
        return self.__add__(other)

    def __rmul__(self, other):
        return self.__mul__(other)

    def __pow__(self, other):
        if ndim_of(other) != 0 and not (is_node(other) and other.size == 1):
            raise ValueError("A covariance function can only be exponentiated by a scalar value")
        if not isinstance(self, Covariance):
            raise TypeError("Can only exponentiate covariance functions which inherit from `Covariance`")
        return Exponentiated(self, other)


class Covariance(BaseCovariance):
    """A covariance function of `input_dim` input columns, of which `active_dims` are used."""

    def __init__(self, input_dim, active_dims=None):
        if isinstance(input_dim, bool) or not isinstance(input_dim, (int, np.integer)) or input_dim < 1:
            raise ValueError(f"input_dim must be a positive integer (the number of columns of X); found "
                             f"{input_dim!r}")
        self.input_dim = int(input_dim)
        if active_dims is None:
            self.active_dims = np.arange(self.input_dim)
        else:
            self.active_dims = np.atleast_1d(np.asarray(active_dims, int))
            bad = self.active_dims[(self.active_dims < 0) | (self.active_dims >= self.input_dim)]
            if bad.size:
                raise ValueError(f"active_dims {self.active_dims.tolist()} out of range: with input_dim="
                                 f"{self.input_dim} the active dimensions are columns 0..{self.input_dim - 1}. "
                                 "Increase input_dim to the number of columns of X.")

    @property
    def n_dims(self) -> int:
        """The number of active input dimensions."""
        return len(self.active_dims)

    def _check_columns(self, X, name):
        cols = X.shape[1]
        if cols < self.input_dim:
            raise ValueError(f"{name} has {cols} column(s) but {type(self).__name__} has input_dim="
                             f"{self.input_dim}: give {name} with {self.input_dim} columns or set input_dim="
                             f"{cols}.")
        if cols != self.input_dim:
            warnings.warn(f"Only {self.input_dim} column(s) out of {cols} are being used to compute the "
                          "covariance function. If this is not intended, increase 'input_dim' parameter to "
                          "the number of columns to use. Ignore otherwise.", UserWarning, stacklevel=4)

    def _slice(self, X, Xs=None):
        X, Xs = as_input(X, "X"), as_input(Xs, "Xs")
        self._check_columns(X, "X")
        if Xs is not None:
            self._check_columns(Xs, "Xs")
        return self._take(X), (None if Xs is None else self._take(Xs))

    def _take(self, X):
        ad = self.active_dims
        if X.shape[1] == len(ad) and np.array_equal(ad, np.arange(len(ad))):
            return X
        return X[:, ad] if not is_node(X) else X[:, ad.tolist()]


class Combination(Covariance):
    def __init__(self, factor_list):
        covs = [f for f in factor_list if isinstance(f, Covariance)]
        input_dims = {f.input_dim for f in covs}
        if len(input_dims) != 1:
            raise ValueError(f"All covariances must have the same `input_dim`; found {sorted(input_dims)}.")
        active = np.sort(np.asarray(list(set().union(*[set(f.active_dims.tolist()) for f in covs])), int))
        super().__init__(input_dim=input_dims.pop(), active_dims=active)
        self._factor_list = []
        for factor in factor_list:
            if isinstance(factor, type(self)):
                self._factor_list.extend(factor._factor_list)
            else:
                self._factor_list.append(factor)

    def _merge_factors_cov(self, X, Xs=None, diag=False):
        out = []
        for factor in self._factor_list:
            if isinstance(factor, BaseCovariance):
                out.append(factor(X, Xs, diag))
            elif diag and ndim_of(factor) == 2:
                out.append(expr(jnp.diag, factor))
            else:
                out.append(as_param(factor))
        return out

    def _merge_factors_psd(self, omega):
        out = []
        for factor in self._factor_list:
            if isinstance(factor, Covariance):
                if set(self.active_dims.tolist()) != set(factor.active_dims.tolist()):
                    raise ValueError("For power spectral density calculations `active_dims` must be the same "
                                     "for all covariances in the sum.")
                psd = getattr(factor, "power_spectral_density", None)
                if psd is None:
                    kind = "Stationary" if hasattr(factor, "full_from_distance") else "non-stationary"
                    raise NotImplementedError(f"No power spectral density is implemented for {factor} "
                                              f"({kind}); ExpQuad, Matern52, Matern32 and Matern12 have one.")
                out.append(psd(omega))
            else:
                out.append(as_param(factor))
        return out


class Add(Combination):
    def __call__(self, X, Xs=None, diag=False):
        return reduce(add, self._merge_factors_cov(X, Xs, diag))

    def power_spectral_density(self, omega):
        return reduce(add, self._merge_factors_psd(omega))


class Prod(Combination):
    def __call__(self, X, Xs=None, diag=False):
        return reduce(mul, self._merge_factors_cov(X, Xs, diag))

    def power_spectral_density(self, omega):
        if sum(isinstance(f, Covariance) for f in self._factor_list) >= 2:
            raise NotImplementedError("The power spectral density of products of covariance functions is not "
                                      "implemented.")
        return reduce(mul, self._merge_factors_psd(omega))


class Exponentiated(Covariance):
    def __init__(self, kernel, power):
        self.kernel = kernel
        self.power = power
        super().__init__(input_dim=kernel.input_dim, active_dims=kernel.active_dims)

    def __call__(self, X, Xs=None, diag=False):
        return self.kernel(X, Xs, diag=diag) ** self.power


class Kron(Covariance):
    """Kronecker product covariance: the inputs' columns are split among the factors by their input_dim."""

    def __init__(self, factor_list):
        self.input_dims = [f.input_dim for f in factor_list]
        super().__init__(input_dim=sum(self.input_dims))
        self._factor_list = list(factor_list)

    def _split(self, X, Xs):
        bounds = np.cumsum([0, *self.input_dims])
        X = as_input(X)
        Xs = as_input(Xs, "Xs")
        X_split = [X[:, a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        Xs_split = [None] * len(X_split) if Xs is None else [Xs[:, a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        return X_split, Xs_split

    def __call__(self, X, Xs=None, diag=False):
        X_split, Xs_split = self._split(X, Xs)
        return reduce(mul, [c(x, xs, diag) for c, x, xs in zip(self._factor_list, X_split, Xs_split)])


class Constant(BaseCovariance):
    """k(x, x') = c."""

    def __init__(self, c):
        self.c = as_param(c)

    def diag(self, X):
        return alloc(self.c, X)

    def full(self, X, Xs=None):
        return alloc(self.c, X, Xs, full=True)


class WhiteNoise(BaseCovariance):
    """k(x, x') = sigma^2 I."""

    def __init__(self, sigma):
        self.sigma = as_param(sigma)

    def diag(self, X):
        return alloc(expr(jnp.square, self.sigma), X)

    def full(self, X, Xs=None):
        X = as_input(X)
        if Xs is None:
            return expr(jnp.diag, self.diag(X))
        return alloc(0.0, X, Xs, full=True)

"""`pm.gp.mean`: PyMC's GP mean functions (Zero, Constant, Linear) and their sums and products."""

from __future__ import annotations

import jax.numpy as jnp

from jaxmc.gp.kernel import as_input, as_param, expr

__all__ = ["Constant", "Linear", "Zero"]


class Mean:
    """Base class of mean functions: `mean(X)` is a vector of length X.shape[0]."""

    __array_ufunc__ = None

    def __call__(self, X):
        raise NotImplementedError(f"{type(self).__name__} does not define __call__")

    def __add__(self, other):
        return Add(self, other)

    def __mul__(self, other):
        return Prod(self, other)


class Zero(Mean):
    """Zero mean."""

    def __call__(self, X):
        return expr(lambda X: jnp.zeros(X.shape[0]), as_input(X))


class Constant(Mean):
    """Constant mean c."""

    def __init__(self, c=0):
        super().__init__()
        self.c = as_param(c)

    def __call__(self, X):
        return expr(lambda X, c: jnp.ones(X.shape[0]) * c, as_input(X), self.c)


class Linear(Mean):
    """Linear mean X @ coeffs + intercept (squeezed, as PyMC)."""

    def __init__(self, coeffs, intercept=0):
        super().__init__()
        self.b = as_param(intercept)
        self.A = as_param(coeffs)

    def __call__(self, X):
        return expr(lambda X, A, b: jnp.squeeze(jnp.dot(X, A) + b), as_input(X), self.A, self.b)


class Add(Mean):
    def __init__(self, first_mean, second_mean):
        super().__init__()
        self.m1, self.m2 = first_mean, second_mean

    def __call__(self, X):
        return self.m1(X) + self.m2(X)


class Prod(Mean):
    def __init__(self, first_mean, second_mean):
        super().__init__()
        self.m1, self.m2 = first_mean, second_mean

    def __call__(self, X):
        return self.m1(X) * self.m2(X)

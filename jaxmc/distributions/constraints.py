"""Declarative supports and parameter constraints: each gives a check, its description and a default
transform, from which `Distribution` derives `in_support`, `check_params` and `default_transform`."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxmc import transforms
from jaxmc.distributions.dist_math import PI

__all__ = [
    "Constraint", "Interval", "boolean", "cholesky_factor", "circular", "counts_summing_to", "greater_than",
    "integer_interval", "interval", "less_equal", "nonnegative", "nonnegative_integer", "open_interval",
    "open_unit_interval", "ordered", "positive", "positive_integer", "probability_vector", "real", "simplex",
    "sums_to_one", "symmetric", "unit_interval",
]

_DERIVED = object()


def _xp(x):
    """numpy for numpy values (a check made while the model is built: no eager JAX operation to compile), else
    jax.numpy."""
    return np if isinstance(x, (np.ndarray, np.generic, bool, int, float)) else jnp


def is_integer(value):
    """Elementwise: is the value integral (integer and boolean arrays always are)?"""
    xp = _xp(value)
    value = xp.asarray(value)
    if xp.issubdtype(value.dtype, xp.integer) or value.dtype == xp.bool_:
        return np.ones(value.shape, bool)
    return value == xp.floor(value)


def everywhere(x):
    """True for every entry of ``x`` (a numpy constant, also for traced values)."""
    return np.ones(np.shape(x), bool)


class Constraint:
    """A set of values. `check(x, *refs)` is elementwise but for the trailing `event_dim` axes it reduces
    itself; `refs` are the names of the parameters whose values follow `x` (bounds); `transform(dist)` is the
    default transform of a variable with this support.

    A family states `support = constraints.positive` and `arg_constraints = {"sigma": constraints.positive}`.
    Bounds may be numbers or parameter names (`interval("lower", "upper")`); a bound read from a parameter
    that is NaN (unknown, as when observed data are checked before the parameters are known) does not
    reject a value."""

    event_dim = 0
    refs: tuple[str, ...] = ()

    def check(self, x, *refs):
        raise NotImplementedError

    def describe(self, name: str) -> str:
        raise NotImplementedError

    def transform(self, dist):
        return None


class _Real(Constraint):
    def check(self, x):
        return everywhere(x)

    def describe(self, name):
        return f"{name} is real"


class Interval(Constraint):
    """lower (<|<=) x (<|<=) upper; a bound is None (absent), a number, or a parameter name. `integer=True`
    also requires integral values. The default transform is `transform` when given, else an interval
    transform over the parameter bounds (none for integer supports)."""

    def __init__(self, lower=None, upper=None, *, lower_open=False, upper_open=False, integer=False,
                 transform=_DERIVED):
        self.lower, self.upper = lower, upper
        self.lower_open, self.upper_open = lower_open, upper_open
        self.integer = integer
        self._transform = transform
        self.refs = tuple(b for b in (lower, upper) if isinstance(b, str))

    def check(self, x, *refs):
        values = dict(zip(self.refs, refs))
        conds = [is_integer(x)] if self.integer else []
        if self.lower is not None:
            if isinstance(self.lower, str):  # written so that a NaN (unknown) bound does not reject
                b = values[self.lower]
                conds.append(~(x <= b) if self.lower_open else ~(x < b))
            else:
                conds.append(x > self.lower if self.lower_open else x >= self.lower)
        if self.upper is not None:
            if isinstance(self.upper, str):
                b = values[self.upper]
                conds.append(~(x >= b) if self.upper_open else ~(x > b))
            else:
                conds.append(x < self.upper if self.upper_open else x <= self.upper)
        if not conds:
            return everywhere(x)
        ok = conds[0]
        for c in conds[1:]:
            ok = ok & c
        return ok

    def describe(self, name):
        lo = "<" if self.lower_open else "<="
        up = "<" if self.upper_open else "<="
        if self.lower is not None and self.upper is not None:
            return f"{self.lower} {lo} {name} {up} {self.upper}"
        if self.lower is not None:
            return f"{name} {'>' if self.lower_open else '>='} {self.lower}"
        return f"{name} {up} {self.upper}"

    def transform(self, dist):
        if self._transform is not _DERIVED:
            return self._transform
        if self.integer or not self.refs:
            return None
        names = dist.param_names
        lower, upper = self.lower, self.upper
        lo_idx = names.index(lower) if isinstance(lower, str) else None
        up_idx = names.index(upper) if isinstance(upper, str) else None

        def bounds(*params):
            lo = params[lo_idx] if lo_idx is not None else lower
            up = params[up_idx] if up_idx is not None else upper
            return lo, up

        return transforms.Interval(bounds_fn=bounds)


class _LessEqual(Constraint):
    """x <= another parameter (a parameter constraint, e.g. `lower <= upper`)."""

    def __init__(self, other):
        self.refs = (other,)

    def check(self, x, other):
        return x <= other

    def describe(self, name):
        return f"{name} <= {self.refs[0]}"


class _Simplex(Constraint):
    """Probability vectors on the last axis; checked as PyMC's Dirichlet does (entries in [0, 1])."""

    event_dim = 1

    def check(self, x):
        return jnp.all((x >= 0) & (x <= 1), axis=-1)

    def describe(self, name):
        return f"{name} is a simplex"

    def transform(self, dist):
        return transforms.simplex


class _ProbabilityVector(Constraint):
    """Entries in [0, 1] that sum to 1 (within isclose) on the last axis."""

    event_dim = 1

    def check(self, x):
        return jnp.all((x >= 0) & (x <= 1), axis=-1) & jnp.isclose(jnp.sum(x, axis=-1), 1.0, rtol=1e-5, atol=1e-8)

    def describe(self, name):
        return f"0 <= {name} <= 1, sum({name}) = 1"


class _SumsToOne(Constraint):
    """The last axis sums to 1 (PyMC's isclose tolerance); as a support, transformed onto the simplex."""

    event_dim = 1

    def check(self, x):
        return jnp.abs(jnp.sum(x, -1) - 1.0) <= 1e-8 + 1e-5

    def describe(self, name):
        return f"sum({name}) = 1"

    def transform(self, dist):
        return transforms.simplex


class _CountsSummingTo(Constraint):
    """Non-negative counts on the last axis summing to the parameter `total` (multinomial outcomes)."""

    event_dim = 1

    def __init__(self, total):
        self.refs = (total,)

    def check(self, x, total):
        return jnp.all(x >= 0, axis=-1) & (jnp.sum(x, axis=-1) == total)

    def describe(self, name):
        return f"{name} are counts summing to {self.refs[0]}"


class _Ordered(Constraint):
    """Non-decreasing along the last axis (a scalar is ordered)."""

    event_dim = 1

    def check(self, x):
        return jnp.all(jnp.diff(x, axis=-1) >= 0, axis=-1) if jnp.ndim(x) else jnp.array(True)

    def describe(self, name):
        return f"{name} increasing"


class _CholeskyFactor(Constraint):
    """A triangular factor with a finite, non-zero diagonal (a positive-definite matrix's Cholesky factor)."""

    event_dim = 2

    def check(self, x):
        d = jnp.diagonal(x, axis1=-2, axis2=-1)
        return jnp.all(jnp.isfinite(d) & (d != 0), axis=-1)

    def describe(self, name):
        return f"{name} is a Cholesky factor"


class _Symmetric(Constraint):
    """A symmetric matrix (PyMC's allclose tolerance)."""

    event_dim = 2

    def check(self, x):
        xt = jnp.swapaxes(x, -1, -2)
        return jnp.all(jnp.abs(x - xt) <= 1e-8 + 1e-5 * jnp.abs(xt), axis=(-2, -1))

    def describe(self, name):
        return f"{name} is symmetric"


def interval(lower, upper, **kwargs) -> Interval:
    """lower <= x <= upper (bounds: numbers or parameter names)."""
    return Interval(lower, upper, **kwargs)


def open_interval(lower, upper) -> Interval:
    return Interval(lower, upper, lower_open=True, upper_open=True)


def greater_than(lower, *, strict=False, **kwargs) -> Interval:
    return Interval(lower, None, lower_open=strict, **kwargs)


def integer_interval(lower, upper) -> Interval:
    return Interval(lower, upper, integer=True)


def less_equal(other: str) -> Constraint:
    return _LessEqual(other)


def counts_summing_to(total: str) -> Constraint:
    return _CountsSummingTo(total)


real = _Real()
positive = Interval(0, None, lower_open=True, transform=transforms.log)
nonnegative = Interval(0, None, transform=transforms.log)
unit_interval = Interval(0, 1, transform=transforms.logodds)
open_unit_interval = Interval(0, 1, lower_open=True, upper_open=True, transform=transforms.logodds)
circular = Interval(-PI, PI, transform=transforms.circular)
boolean = integer_interval(0, 1)
nonnegative_integer = integer_interval(0, None)
positive_integer = integer_interval(1, None)
simplex = _Simplex()
probability_vector = _ProbabilityVector()
sums_to_one = _SumsToOne()
ordered = _Ordered()
cholesky_factor = _CholeskyFactor()
symmetric = _Symmetric()

"""Bijections from constrained to unconstrained space, with PyMC's names and conventions.

`forward` maps a constrained value to the unconstrained space, `backward` maps back, and `log_jac_det`
is log|det d backward / d y| at the unconstrained value y, reduced over the transform's own event axes.
Every method receives the distribution's parameter values after the value (for bounds that depend on them).
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "Transform", "Chain", "CholeskyCorrTransform", "CholeskyCovPacked", "CholeskyCovTransform", "Interval",
    "ZeroSumTransform", "Ordered", "circular", "log", "log_exp_m1", "logodds", "ordered", "simplex",
    "sum_to_1",  # noqa: F822 (module __getattr__: deprecated)
]


class Transform:
    name = "transform"
    #: number of trailing axes the Jacobian term is reduced over
    ndim_supp = 0

    def forward(self, value, *inputs):
        raise NotImplementedError

    def backward(self, value, *inputs):
        raise NotImplementedError

    def log_jac_det(self, value, *inputs):
        raise NotImplementedError

    def unconstrained_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of the unconstrained value for a constrained value of `shape`."""
        return tuple(shape)

    def __repr__(self):
        return f"{type(self).__name__}()"


class LogTransform(Transform):
    name = "log"

    def forward(self, value, *inputs):
        return jnp.log(value)

    def backward(self, value, *inputs):
        return jnp.exp(value)

    def log_jac_det(self, value, *inputs):
        return value


class LogExpM1(Transform):
    name = "log_exp_m1"

    def forward(self, value, *inputs):
        return jnp.log(-jnp.expm1(-value)) + value

    def backward(self, value, *inputs):
        return jax.nn.softplus(value)

    def log_jac_det(self, value, *inputs):
        return -jax.nn.softplus(-value)


class LogOddsTransform(Transform):
    name = "logodds"

    def forward(self, value, *inputs):
        return jnp.log(value) - jnp.log1p(-value)

    def backward(self, value, *inputs):
        return jax.nn.sigmoid(value)

    def log_jac_det(self, value, *inputs):
        return -jax.nn.softplus(-value) - jax.nn.softplus(value)


class Interval(Transform):
    """Map (lower, upper) to the real line; either bound may be None (half-bounded: a shifted log).

    `Interval(lower, upper)` with constants, or `Interval(bounds_fn=f)` where `f(*dist_params)` returns
    `(lower, upper)` (PyMC's signature passes rng and size first; both forms are accepted).
    """

    name = "interval"

    def __init__(self, lower=None, upper=None, *, bounds_fn=None):
        if bounds_fn is None:
            lower = None if lower is None or np.isinf(lower) else lower
            upper = None if upper is None or np.isinf(upper) else upper
            if lower is None and upper is None:
                raise ValueError("Interval transform: lower and upper bounds cannot both be None")
            bounds = (lower, upper)
            bounds_fn = lambda *inputs: bounds  # noqa: E731
        self.bounds_fn = bounds_fn

    def _bounds(self, inputs):
        try:
            a, b = self.bounds_fn(*inputs)
        except TypeError:  # PyMC-style bounds_fn(rng, size, *params)
            a, b = self.bounds_fn(None, None, *inputs)
        # constant infinite bounds mean "unbounded on that side" (PyMC folds such constants the same way)
        return _static_bound(a, -1), _static_bound(b, 1)

    def forward(self, value, *inputs):
        a, b = self._bounds(inputs)
        if a is not None and b is not None:
            fa, fb, both, lo_only, up_only = _runtime_bounds(a, b)
            lo_d, up_d = jnp.log(value - fa), jnp.log(fb - value)
            return jnp.where(both, lo_d - up_d, jnp.where(lo_only, lo_d, jnp.where(up_only, up_d, value)))
        if a is not None:  # entries of a bound array that are infinite are left unbounded
            fin, fa = _finite(a)
            return jnp.where(fin, jnp.log(value - fa), value)
        if b is not None:
            fin, fb = _finite(b)
            return jnp.where(fin, jnp.log(fb - value), value)
        return value

    def backward(self, value, *inputs):
        a, b = self._bounds(inputs)
        if a is not None and b is not None:
            fa, fb, both, lo_only, up_only = _runtime_bounds(a, b)
            ex = jnp.exp(value)
            return jnp.where(both, jax.nn.sigmoid(value) * (fb - fa) + fa,
                             jnp.where(lo_only, ex + fa, jnp.where(up_only, fb - ex, value)))
        if a is not None:
            fin, fa = _finite(a)
            return jnp.where(fin, jnp.exp(value) + fa, value)
        if b is not None:
            fin, fb = _finite(b)
            return jnp.where(fin, fb - jnp.exp(value), value)
        return value

    def log_jac_det(self, value, *inputs):
        a, b = self._bounds(inputs)
        if a is not None and b is not None:
            fa, fb, both, lo_only, up_only = _runtime_bounds(a, b)
            return jnp.where(both, jnp.log(fb - fa) - 2.0 * jax.nn.softplus(-value) - value,
                             jnp.where(lo_only | up_only, value, jnp.zeros_like(value)))
        if a is not None or b is not None:
            fin, _ = _finite(a if a is not None else b)
            return jnp.where(fin, value, jnp.zeros_like(value))
        return jnp.zeros_like(value)


def _static_bound(x, sign):
    """None for a bound that is None or a constant (untraced) array of -inf (sign -1) / +inf (sign 1)."""
    if x is None or isinstance(x, jax.core.Tracer):
        return x
    arr = np.asarray(x)
    if arr.size and np.all(np.isneginf(arr) if sign < 0 else np.isposinf(arr)):
        return None
    return x


def _finite(x):
    """(mask of finite entries, x with its infinite entries replaced by 0)."""
    if isinstance(x, (int, float)):  # constant scalar bound (finite: infinite ones became None)
        return True, x
    x = jnp.asarray(x)
    fin = jnp.isfinite(x)
    return fin, jnp.where(fin, x, 0.0)


def _runtime_bounds(a, b):
    """Bounds that may be infinite at run time: finite stand-ins (so unused branches and their gradients
    stay finite) and masks of which sides are bounded."""
    a, b = jnp.asarray(a), jnp.asarray(b)
    fin_a, fin_b = jnp.isfinite(a), jnp.isfinite(b)
    fa = jnp.where(fin_a, a, jnp.where(fin_b, b - 1.0, 0.0))
    fb = jnp.where(fin_b, b, fa + 1.0)
    return fa, fb, fin_a & fin_b, fin_a & ~fin_b, fin_b & ~fin_a


class SimplexTransform(Transform):
    """Simplex of K entries <-> R^(K-1) (PyMC's centred additive log-ratio)."""

    name = "simplex"
    ndim_supp = 1

    def forward(self, value, *inputs):
        log_value = jnp.log(value)
        shift = jnp.mean(log_value, -1, keepdims=True)
        return log_value[..., :-1] - shift

    def backward(self, value, *inputs):
        full = jnp.concatenate([value, -jnp.sum(value, -1, keepdims=True)], axis=-1)
        return jax.nn.softmax(full, axis=-1)

    def log_jac_det(self, value, *inputs):
        n = value.shape[-1] + 1
        sum_value = jnp.sum(value, -1, keepdims=True)
        expanded = jnp.concatenate([value + sum_value, jnp.zeros_like(sum_value)], -1)
        lse = jax.nn.logsumexp(expanded, -1, keepdims=True)
        res = jnp.log(n) + n * sum_value - n * lse
        return jnp.sum(res, -1)

    def unconstrained_shape(self, shape):
        return (*shape[:-1], shape[-1] - 1)


class SumTo1(Transform):
    name = "sumto1"
    ndim_supp = 1

    def forward(self, value, *inputs):
        return value[..., :-1]

    def backward(self, value, *inputs):
        return jnp.concatenate([value, 1 - jnp.sum(value, -1, keepdims=True)], -1)

    def log_jac_det(self, value, *inputs):
        return jnp.zeros(value.shape[:-1], value.dtype)

    def unconstrained_shape(self, shape):
        return (*shape[:-1], shape[-1] - 1)


class Ordered(Transform):
    """Increasing (or decreasing) vectors: first entry free, log of the gaps after it."""

    name = "ordered"
    ndim_supp = 1

    def __init__(self, positive=False, ascending=True):
        self.positive = positive
        self.ascending = ascending

    def backward(self, value, *inputs):
        if self.positive:
            x = jnp.exp(value)
        else:
            x = jnp.concatenate([value[..., :1], jnp.exp(value[..., 1:])], -1)
        x = jnp.cumsum(x, axis=-1)
        return x if self.ascending else x[..., ::-1]

    def forward(self, value, *inputs):
        if not self.ascending:
            value = value[..., ::-1]
        first = jnp.log(value[..., :1]) if self.positive else value[..., :1]
        return jnp.concatenate([first, jnp.log(jnp.diff(value, axis=-1))], -1)

    def log_jac_det(self, value, *inputs):
        if self.positive:
            return jnp.sum(value, axis=-1)
        return jnp.sum(value[..., 1:], axis=-1)


class CircularTransform(Transform):
    name = "circular"

    def forward(self, value, *inputs):
        return value

    def backward(self, value, *inputs):
        return jnp.arctan2(jnp.sin(value), jnp.cos(value))

    def log_jac_det(self, value, *inputs):
        return jnp.zeros_like(value)


class ZeroSumTransform(Transform):
    """Values summing to zero along `zerosum_axes` <-> one entry fewer along each (PyMC's Householder map)."""

    name = "zerosum"

    def __init__(self, zerosum_axes):
        self.zerosum_axes = tuple(int(a) for a in zerosum_axes)
        self.ndim_supp = len(self.zerosum_axes)

    @staticmethod
    def _extend(array, axis):
        n = array.shape[axis] + 1
        sum_vals = array.sum(axis, keepdims=True)
        norm = sum_vals / (np.sqrt(n) + n)
        fill = norm - sum_vals / np.sqrt(n)
        return jnp.concatenate([array, fill], axis=axis) - norm

    @staticmethod
    def _shrink(array, axis):
        axis = axis % array.ndim
        n = array.shape[axis]
        last = jnp.take(array, jnp.array([-1]), axis=axis)
        norm = (-last * np.sqrt(n)) / (np.sqrt(n) + n)
        return jax.lax.slice_in_dim(array, 0, n - 1, axis=axis) + norm

    def forward(self, value, *inputs):
        for axis in self.zerosum_axes:
            value = self._shrink(value, axis)
        return value

    def backward(self, value, *inputs):
        for axis in self.zerosum_axes:
            value = self._extend(value, axis)
        return value

    def log_jac_det(self, value, *inputs):
        return jnp.zeros_like(jnp.sum(value, axis=self.zerosum_axes))

    def unconstrained_shape(self, shape):
        shape = list(shape)
        for axis in self.zerosum_axes:
            shape[axis] -= 1
        return tuple(shape)


class CholeskyCovPacked(Transform):
    """Packed lower-triangular Cholesky factor: log of the diagonal entries, others unchanged."""

    name = "cholesky-cov-packed"
    ndim_supp = 1

    def __init__(self, n):
        self.n = int(n)
        self.diag_idxs = np.cumsum(np.arange(1, self.n + 1)) - 1

    def forward(self, value, *inputs):
        return value.at[..., self.diag_idxs].set(jnp.log(value[..., self.diag_idxs]))

    def backward(self, value, *inputs):
        return value.at[..., self.diag_idxs].set(jnp.exp(value[..., self.diag_idxs]))

    def log_jac_det(self, value, *inputs):
        return jnp.sum(value[..., self.diag_idxs], axis=-1)


def _spiral_positions(n):
    """(rows, cols) of the strictly lower triangle of an n x n matrix in the order in which PyMC's
    CholeskyCorrTransform fills it from the unconstrained vector (TensorFlow Probability's spiral fill)."""
    k = n - 1
    m = k * (k + 1) // 2
    idx = np.arange(m)
    filled = np.tril(np.concatenate([idx[k:], idx[::-1]]).reshape(k, k) + 1) - 1  # -1 off the triangle
    rows, cols = np.tril_indices(k)
    order = filled[rows, cols]
    pos_rows, pos_cols = np.empty(m, int), np.empty(m, int)
    pos_rows[order], pos_cols[order] = rows + 1, cols
    return pos_rows, pos_cols


class CholeskyCorrTransform(Transform):
    """Cholesky factor L of an n x n correlation matrix (lower triangular, unit rows) <-> R^(n(n-1)/2).

    Backward puts the unconstrained entries below the unit diagonal (PyMC's spiral order) and normalizes
    each row; the density is over the strictly lower entries of L."""

    name = "cholesky_corr"
    ndim_supp = 1

    def __init__(self, n, upper=False):
        if upper:
            raise NotImplementedError("CholeskyCorrTransform: only the lower-triangular factor is supported")
        self.n = int(n)
        self.upper = False
        self._rows, self._cols = _spiral_positions(self.n)

    def forward(self, value, *inputs):
        d = jnp.diagonal(value, axis1=-2, axis2=-1)
        return value[..., self._rows, self._cols] / d[..., self._rows]

    def backward(self, value, *inputs):
        n = self.n
        eye = jnp.eye(n, dtype=value.dtype)
        U = jnp.broadcast_to(eye, (*value.shape[:-1], n, n)).at[..., self._rows, self._cols].set(value)
        return U / jnp.linalg.norm(U, axis=-1, keepdims=True)

    def log_jac_det(self, value, *inputs):
        n = self.n
        U_norm2 = jnp.ones((*value.shape[:-1], n), value.dtype).at[..., self._rows].add(value**2)
        # log L_kk = -log |row k|; the map onto row k's k free entries has |det| = L_kk^(k + 2)
        return jnp.sum(-0.5 * jnp.arange(2, n + 2, dtype=value.dtype) * jnp.log(U_norm2), axis=-1)

    def unconstrained_shape(self, shape):
        return (*shape[:-2], self.n * (self.n - 1) // 2)

    def __repr__(self):
        return f"CholeskyCorrTransform(n={self.n})"


class CholeskyCovTransform(Transform):
    """Symmetric positive-definite n x n matrices X = L L^T <-> R^(n(n+1)/2): the lower triangle of L packed
    by rows, with the log of its diagonal."""

    name = "cholesky-cov"
    ndim_supp = 1

    def __init__(self, n):
        self.n = int(n)
        self.diag_idxs = np.cumsum(np.arange(1, self.n + 1)) - 1
        self.tril_idxs = np.tril_indices(self.n)

    def _chol(self, value):
        flat = value.at[..., self.diag_idxs].set(jnp.exp(value[..., self.diag_idxs]))
        L = jnp.zeros((*value.shape[:-1], self.n, self.n), value.dtype)
        return L.at[..., self.tril_idxs[0], self.tril_idxs[1]].set(flat)

    def forward(self, value, *inputs):
        L = jax.lax.linalg.cholesky(value, symmetrize_input=False)
        flat = L[..., self.tril_idxs[0], self.tril_idxs[1]]
        return flat.at[..., self.diag_idxs].set(jnp.log(flat[..., self.diag_idxs]))

    def backward(self, value, *inputs):
        L = self._chol(value)
        return L @ jnp.swapaxes(L, -1, -2)

    def log_jac_det(self, value, *inputs):
        n = self.n
        coeffs = jnp.arange(n + 1, 1, -1).astype(value.dtype)
        return n * np.log(2.0) + jnp.sum(coeffs * value[..., self.diag_idxs], axis=-1)

    def unconstrained_shape(self, shape):
        return (*shape[:-2], self.n * (self.n + 1) // 2)

    def __repr__(self):
        return f"CholeskyCovTransform(n={self.n})"


class Chain(Transform):
    """Apply transforms in order (forward); backward runs them in reverse."""

    name = "chain"

    def __init__(self, transform_list):
        self.transform_list = list(transform_list)
        self.ndim_supp = max(t.ndim_supp for t in self.transform_list)

    def forward(self, value, *inputs):
        for t in self.transform_list:
            value = t.forward(value, *inputs)
        return value

    def backward(self, value, *inputs):
        for t in reversed(self.transform_list):
            value = t.backward(value, *inputs)
        return value

    def log_jac_det(self, value, *inputs):
        total = 0.0
        ndim = None
        terms = []
        for t in reversed(self.transform_list):
            terms.append(t.log_jac_det(value, *inputs))
            value = t.backward(value, *inputs)
        ndim = min(jnp.ndim(d) for d in terms)
        for d in terms:
            extra = jnp.ndim(d) - ndim
            total = total + (jnp.sum(d, axis=tuple(range(-extra, 0))) if extra else d)
        return total

    def unconstrained_shape(self, shape):
        for t in self.transform_list:
            shape = t.unconstrained_shape(shape)
        return shape


log = LogTransform()
log_exp_m1 = LogExpM1()
logodds = LogOddsTransform()
simplex = SimplexTransform()
_sum_to_1 = SumTo1()
ordered = Ordered()
circular = CircularTransform()
univariate_ordered = ordered
multivariate_ordered = ordered


def __getattr__(name):
    if name == "sum_to_1":
        warnings.warn("The sum_to_1 transform is deprecated and will be removed in a future release. "
                      "Use the simplex transform instead.", FutureWarning, stacklevel=2)
        return _sum_to_1
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

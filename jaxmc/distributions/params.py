"""Parameter handling shared by the families' `dist()`: conversion to arrays, static integers, shapes, and
PyMC's alternative parameterizations (`lift`, `get_tau_sigma`)."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.graph import TensorVariable, apply, aval_of
from jaxmc.graph.traversal import convert_foreign


class StaticIntError(TypeError, NotImplementedError):
    """A model variable given where jaxmc needs a constant integer (shapes are static in jaxmc)."""


def as_param(x, name="param", *, integer=False, keep_bool=False, owner=None):
    """A parameter as the model expects it: model variables pass through, traced arrays keep their type
    (floats in floatX), numbers, arrays, pandas and scipy.sparse objects become jax arrays in floatX. With
    `integer`, integers (and booleans, unless `keep_bool`) become intX. `owner` (a family name) prefixes the
    error message of a non-numeric value."""
    x = convert_foreign(x)  # PyTensor expressions (pytensor_interop)
    if isinstance(x, TensorVariable):
        return x
    if isinstance(x, jax.core.Tracer):  # inside jit/grad/vmap: keep it traced
        return x.astype(config.floatX()) if jnp.issubdtype(x.dtype, jnp.floating) else x
    if hasattr(x, "toarray"):  # scipy.sparse
        x = x.toarray()
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    try:
        arr = np.asarray(x)
    except Exception:
        arr = np.asarray(x, dtype=object)
    if arr.dtype.kind not in "biuf":
        where = f"{owner}: " if owner else ""
        found = f"{type(x).__name__} {x!r:.80}" if owner else type(x).__name__
        raise TypeError(f"{where}parameter {name!r} must be numeric (a number, array, model variable or "
                        f"pm.Data), found {found}")
    if arr.dtype.kind == "f" or not integer:
        arr = arr.astype(config.floatX())
    elif not (keep_bool and arr.dtype.kind == "b"):
        arr = config.as_intX(arr, f"{owner + ': ' if owner else ''}parameter {name!r}")
    return jnp.asarray(arr)


def cast_int_constant(x):
    """PyMC converts integer parameters with `as_tensor_variable(x, dtype=int)`: integral float constants
    become integers; model variables are left alone."""
    x = convert_foreign(x)
    if isinstance(x, TensorVariable):
        return x
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    arr = np.asarray(x)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.floor(arr)):
        return config.as_intX(arr, "an integer parameter")
    return x


def static_int(x, what) -> int:
    """A Python int from a constant (model variables are not allowed: shapes are static in jaxmc)."""
    x = convert_foreign(x)
    if isinstance(x, TensorVariable):
        raise StaticIntError(f"{what} must be a constant integer, not a model variable (shapes are static in "
                             "jaxmc)")
    arr = np.asarray(x)
    if arr.size != 1 or arr.dtype.kind not in "biuf" or float(arr.reshape(())) != int(arr.reshape(())):
        raise TypeError(f"{what} must be an integer, found {x!r}")
    return int(arr.reshape(()))


def shape_of(x) -> tuple:
    """Static shape of a parameter (array or graph node)."""
    return tuple(aval_of(convert_foreign(x)).shape)


def to_shape(s) -> tuple | None:
    if s is None:
        return None
    if isinstance(s, (int, np.integer)):
        return (int(s),)
    return tuple(int(i) for i in s)


def exclusive(name_a, a, name_b, b):
    """Exactly one of two alternative parameters must be given."""
    if a is not None and b is not None:
        raise ValueError(f"Incompatible parametrization. Can't specify both {name_a} and {name_b}.")
    if a is None and b is None:
        raise ValueError(f"Incompatible parametrization. Must specify either {name_a} or {name_b}.")


def normalized_p(p):
    """PyMC's handling of constant probabilities `p` (last axis): negative entries raise, a sum other than 1
    warns and rescales."""
    p = convert_foreign(p)
    if isinstance(p, TensorVariable):
        return p
    p_ = np.asarray(p.to_numpy() if hasattr(p, "to_numpy") else p, dtype=float)
    if np.any(p_ < 0):
        raise ValueError(f"Negative `p` parameters are not valid, got: {p_}")
    p_sum_ = np.sum([p_], axis=-1)
    if not np.all(np.isclose(p_sum_, 1.0)):
        warnings.warn(
            f"`p` parameters sum to {p_sum_}, instead of 1.0. They will be automatically rescaled. "
            "You can rescale them directly to get rid of this warning.",
            UserWarning, stacklevel=3,
        )
        p_ = p_ / np.sum(p_, axis=-1, keepdims=True)
    return p_


def lift(fn, *args):
    """Apply `fn` to parameters that may be model variables (builds a graph node), JAX arrays (tracers when dist() is
    called inside jit/grad) or numbers/arrays (given to `fn` as float64 numpy arrays: with operators and `sign`, the
    result is computed in numpy, without an eager JAX operation to compile while the model is built)."""
    args = [convert_foreign(a) for a in args]
    if any(isinstance(a, TensorVariable) for a in args):
        return apply(fn, *args)
    return fn(*[a if isinstance(a, jax.Array) else np.asarray(a.to_numpy() if hasattr(a, "to_numpy") else a,
                                                               dtype=float) for a in args])


def sign(x):
    """The sign of a parameter in `lift`: numpy's for numpy values, JAX's for JAX arrays."""
    return np.sign(x) if isinstance(x, (np.ndarray, np.generic)) else jnp.sign(x)


def get_tau_sigma(tau=None, sigma=None):
    """PyMC's rule: give one of tau (precision) or sigma; default sigma = 1.

    As in PyMC, the sign is kept (a negative sigma or tau gives a negative value, which the parameter
    checks reject) instead of producing NaN or complex numbers."""
    if tau is not None and sigma is not None:
        raise ValueError("Can't pass both tau and sigma")
    if tau is None and sigma is None:
        return 1.0, 1.0
    if sigma is None:
        sigma = lift(lambda t: abs(t) ** -0.5 * sign(t), tau)
        return tau, sigma
    tau = lift(lambda s: s ** -2.0 * sign(s), sigma)
    return tau, sigma

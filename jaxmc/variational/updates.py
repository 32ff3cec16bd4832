"""PyMC's variational optimisers (`pm.adam`, `pm.adagrad_window`, ...) with their arguments and defaults, as optax
gradient transformations; PyMC's gradient norm constraints."""

from __future__ import annotations

import numbers
from typing import NamedTuple

import jax
import jax.numpy as jnp


class Optimizer:
    """An optimiser as `pm.fit(obj_optimizer=...)` takes it: PyMC's name and keyword arguments; `transform()`
    gives the optax GradientTransformation (updates to add to the parameters)."""

    def __init__(self, name: str, make, **kwargs):
        self.name, self._make, self.kwargs = name, make, kwargs

    def transform(self):
        return self._make(**self.kwargs)

    @property
    def key(self) -> tuple:
        """What identifies the compiled program of a fit using this optimiser."""
        return (self.name, tuple(sorted(self.kwargs.items())))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"pm.{self.name}({args})"


def _check(name: str, loss_or_grads, params, **kwargs) -> None:
    if loss_or_grads is not None or params is not None:
        raise TypeError(f"pm.{name}(loss_or_grads, params) builds PyTensor update expressions, which jaxmc does not "
                        f"use; call pm.{name}(learning_rate=...) and pass it as pm.fit(obj_optimizer=...)")
    for key, value in kwargs.items():
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"pm.{name}({key}=...) must be a number, found {type(value).__name__} {value!r}")
    lr = kwargs.get("learning_rate")
    if lr is not None and lr <= 0:
        raise ValueError(f"pm.{name}(learning_rate={lr!r}): the learning rate must be positive")
    for key in ("epsilon",):
        if key in kwargs and kwargs[key] < 0:
            raise ValueError(f"pm.{name}({key}={kwargs[key]!r}) must be non-negative")


class WindowState(NamedTuple):
    """The last `n_win` squared gradients of each parameter (a ring buffer) and the slot to write next."""

    accu: object
    i: jax.Array


def scale_by_window_rss(n_win: int = 10, epsilon: float = 0.1):
    """PyMC's windowed adagrad scaling: the gradient over sqrt(sum of the last n_win squared gradients + eps)."""
    import optax

    def init(params):
        return WindowState(jax.tree.map(lambda p: jnp.zeros((n_win, *jnp.shape(p)), jnp.result_type(p)), params),
                           jnp.zeros((), jnp.int32))

    def update(updates, state, params=None):
        accu = jax.tree.map(lambda a, g: a.at[state.i].set(g * g), state.accu, updates)
        out = jax.tree.map(lambda a, g: g / jnp.sqrt(a.sum(0) + epsilon), accu, updates)
        return out, WindowState(accu, (state.i + 1) % n_win)

    return optax.GradientTransformation(init, update)


def _window(learning_rate, epsilon, n_win):
    import optax

    return optax.chain(scale_by_window_rss(n_win, epsilon), optax.scale(-learning_rate))


def _optax(fn: str, **kw):
    import optax

    return getattr(optax, fn)(**kw)


def sgd(loss_or_grads=None, params=None, learning_rate=1e-3):
    """Stochastic gradient descent."""
    _check("sgd", loss_or_grads, params, learning_rate=learning_rate)
    return Optimizer("sgd", lambda learning_rate: _optax("sgd", learning_rate=learning_rate),
                     learning_rate=learning_rate)


def momentum(loss_or_grads=None, params=None, learning_rate=1e-3, momentum=0.9):
    """SGD with classical momentum."""
    _check("momentum", loss_or_grads, params, learning_rate=learning_rate, momentum=momentum)
    return Optimizer("momentum", lambda learning_rate, momentum: _optax("sgd", learning_rate=learning_rate,
                                                                        momentum=momentum),
                     learning_rate=learning_rate, momentum=momentum)


def nesterov_momentum(loss_or_grads=None, params=None, learning_rate=1e-3, momentum=0.9):
    """SGD with Nesterov momentum."""
    _check("nesterov_momentum", loss_or_grads, params, learning_rate=learning_rate, momentum=momentum)
    return Optimizer("nesterov_momentum",
                     lambda learning_rate, momentum: _optax("sgd", learning_rate=learning_rate, momentum=momentum,
                                                            nesterov=True),
                     learning_rate=learning_rate, momentum=momentum)


def adagrad(loss_or_grads=None, params=None, learning_rate=1.0, epsilon=1e-6):
    """Adagrad: the gradient over the root of the sum of all squared gradients so far."""
    _check("adagrad", loss_or_grads, params, learning_rate=learning_rate, epsilon=epsilon)
    return Optimizer("adagrad", lambda learning_rate, epsilon: _optax(
        "adagrad", learning_rate=learning_rate, eps=epsilon, initial_accumulator_value=0.0),
        learning_rate=learning_rate, epsilon=epsilon)


def adagrad_window(loss_or_grads=None, params=None, learning_rate=0.001, epsilon=0.1, n_win=10):
    """PyMC's default: adagrad over a window of the last `n_win` squared gradients."""
    _check("adagrad_window", loss_or_grads, params, learning_rate=learning_rate, epsilon=epsilon)
    if not isinstance(n_win, numbers.Integral) or isinstance(n_win, bool) or n_win < 1:
        raise ValueError(f"pm.adagrad_window(n_win={n_win!r}) must be a positive int")
    return Optimizer("adagrad_window", _window, learning_rate=learning_rate, epsilon=epsilon, n_win=int(n_win))


def rmsprop(loss_or_grads=None, params=None, learning_rate=1.0, rho=0.9, epsilon=1e-6):
    """RMSProp."""
    _check("rmsprop", loss_or_grads, params, learning_rate=learning_rate, rho=rho, epsilon=epsilon)
    return Optimizer("rmsprop", lambda learning_rate, rho, epsilon: _optax(
        "rmsprop", learning_rate=learning_rate, decay=rho, eps=epsilon),
        learning_rate=learning_rate, rho=rho, epsilon=epsilon)


def adadelta(loss_or_grads=None, params=None, learning_rate=1.0, rho=0.95, epsilon=1e-6):
    """Adadelta."""
    _check("adadelta", loss_or_grads, params, learning_rate=learning_rate, rho=rho, epsilon=epsilon)
    return Optimizer("adadelta", lambda learning_rate, rho, epsilon: _optax(
        "adadelta", learning_rate=learning_rate, rho=rho, eps=epsilon),
        learning_rate=learning_rate, rho=rho, epsilon=epsilon)


def adam(loss_or_grads=None, params=None, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """Adam."""
    _check("adam", loss_or_grads, params, learning_rate=learning_rate, beta1=beta1, beta2=beta2, epsilon=epsilon)
    return Optimizer("adam", lambda learning_rate, beta1, beta2, epsilon: _optax(
        "adam", learning_rate=learning_rate, b1=beta1, b2=beta2, eps=epsilon),
        learning_rate=learning_rate, beta1=beta1, beta2=beta2, epsilon=epsilon)


def adamax(loss_or_grads=None, params=None, learning_rate=0.002, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """Adamax (Adam with the infinity norm)."""
    _check("adamax", loss_or_grads, params, learning_rate=learning_rate, beta1=beta1, beta2=beta2,
           epsilon=epsilon)
    return Optimizer("adamax", lambda learning_rate, beta1, beta2, epsilon: _optax(
        "adamax", learning_rate=learning_rate, b1=beta1, b2=beta2, eps=epsilon),
        learning_rate=learning_rate, beta1=beta1, beta2=beta2, epsilon=epsilon)


def as_optimizer(value, where: str) -> Optimizer:
    """An `obj_optimizer=` argument: one of the optimisers above, called or not (`pm.adam` means its defaults)."""
    if isinstance(value, Optimizer):
        return value
    if callable(value) and getattr(value, "__module__", None) == __name__ and value.__name__ in NAMES:
        return value()
    raise TypeError(f"{where} must be one of jaxmc's optimisers ({', '.join('pm.' + n for n in NAMES)}), e.g. "
                    f"pm.adam(learning_rate=0.01); found {type(value).__name__} {value!r}")


NAMES = ("sgd", "momentum", "nesterov_momentum", "adagrad", "adagrad_window", "rmsprop", "adadelta", "adam",
         "adamax")


def total_norm_constraint(tensor_vars, max_norm, epsilon=1e-7, return_norm=False):
    """Rescale arrays together so that their joint L2 norm is at most `max_norm` (PyMC's formula)."""
    tensor_vars = list(tensor_vars)
    norm = jnp.sqrt(sum(jnp.sum(jnp.square(t)) for t in tensor_vars))
    scale = jnp.clip(norm, 0, max_norm) / (epsilon + norm)
    out = [t * scale for t in tensor_vars]
    return (out, norm) if return_norm else out


def norm_constraint(tensor_var, max_norm, norm_axes=None, epsilon=1e-7):
    """Rescale an array so that its norms over `norm_axes` are at most `max_norm` (PyMC's default axes: axis 0
    of a matrix, the trailing axes of a 3- to 5-d array)."""
    t = jnp.asarray(tensor_var)
    if norm_axes is None:
        if t.ndim == 2:
            norm_axes = (0,)
        elif t.ndim in (3, 4, 5):
            norm_axes = tuple(range(1, t.ndim))
        else:
            raise ValueError(f"norm_constraint: an array of {t.ndim} dimensions needs norm_axes=")
    norms = jnp.sqrt(jnp.sum(jnp.square(t), axis=norm_axes, keepdims=True))
    return t * (jnp.clip(norms, 0, max_norm) / (epsilon + norms))

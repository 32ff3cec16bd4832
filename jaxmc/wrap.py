"""`wrap_jax`: use any JAX function of arrays inside a model, like `pytensor.wrap_jax` / PyMC's `pm.wrap_jax`.

    @wrap_jax
    def kernel(x, lengthscale, amplitude):          # plain JAX: jnp, jax.scipy, jax.lax, equinox ...
        d2 = (x[:, None] - x[None, :]) ** 2
        return amplitude**2 * jnp.exp(-0.5 * d2 / lengthscale**2)

    with pm.Model():
        ell = pm.Gamma("ell", 2, 1)
        K = kernel(x, ell, 1.0)                    # a model variable of shape (n, n)

The wrapped function accepts model variables, data, numpy arrays and Python numbers, in any pytree
structure (tuples, lists, dicts), and returns model variables in the structure the JAX function returns.
With no model variable among the arguments it simply calls the function. JAX differentiates through it, so
it can be used anywhere in the log density; it must be traceable by `jax.jit` (no Python control flow on
the values: use `jnp.where`, `jax.lax.cond`, `jax.lax.scan`).
"""

from __future__ import annotations

import functools
from typing import Callable

from jaxmc.graph import apply

__all__ = ["wrap_jax"]


def wrap_jax(jax_function: Callable | None = None, *, allow_eval: bool = True, name: str | None = None):
    """Lift a JAX function of arrays into a function of model variables; usable as `@wrap_jax` or
    `wrap_jax(fn)` (and `@wrap_jax()`, as in PyTensor). `allow_eval` is accepted for PyTensor
    compatibility: jaxmc variables always have static shapes."""
    if jax_function is None:
        return functools.partial(wrap_jax, allow_eval=allow_eval, name=name)
    if not callable(jax_function):
        raise TypeError(f"wrap_jax expects a function, found {type(jax_function).__name__}")

    @functools.wraps(jax_function)
    def wrapped(*args, **kwargs):
        return apply(jax_function, *args, **kwargs)

    if name is not None:
        wrapped.__name__ = name
    wrapped.__wrapped_jax__ = jax_function
    return wrapped

"""Global settings: the float dtype of parameters, data and the sampler (float64 by default, as PyMC;
float32 selectable for GPUs). What jaxmc does to JAX and XLA process-wide is in `jaxmc.xla`."""

import os

from jaxmc import xla  # noqa: I001  (sets XLA_FLAGS before anything imports jax)

import jax
import jax.numpy as jnp
import numpy as np

_floatX = os.environ.get("JAXMC_FLOATX", "float64")
if _floatX not in ("float32", "float64"):
    raise ValueError(f"JAXMC_FLOATX must be 'float32' or 'float64', found {_floatX!r}")


def floatX() -> str:
    """The float dtype of parameters, data and the sampler ('float64' unless set)."""
    return _floatX


def intX() -> str:
    return "int64" if _floatX == "float64" else "int32"


def set_floatX(dtype: str) -> None:
    """Select 'float32' (GPU friendly) or 'float64' for models built afterwards (or set JAXMC_FLOATX)."""
    global _floatX
    if dtype not in ("float32", "float64"):
        raise ValueError(f"floatX must be 'float32' or 'float64', found {dtype!r}")
    _floatX = dtype


def as_floatX(x):
    """Cast floats (and bools/ints used as real parameters) to floatX; leave integer data alone."""
    x = np.asarray(x) if not isinstance(x, jax.Array) else x
    if jnp.issubdtype(x.dtype, jnp.floating):
        return x.astype(_floatX)
    return x


def compiler_options() -> dict:
    """XLA compile options for jaxmc's programs at the current floatX (`jaxmc.xla.compiler_options`)."""
    return xla.compiler_options(_floatX)

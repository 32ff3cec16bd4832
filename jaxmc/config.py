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


def as_intX(x, what: str) -> np.ndarray:
    """Integer values as an intX array; values intX cannot hold (above 2**31 in float32 mode) are refused, never
    wrapped. `what` names the values in the error (e.g. "Data 'ids'")."""
    arr = np.asarray(x)
    dt = np.dtype(intX())
    if arr.size and arr.dtype != dt:
        info = np.iinfo(dt)
        wide = arr.astype(np.float64) if arr.dtype.kind == "f" else arr  # (float32 rounds 2**31 - 1 up)
        if wide.min().item() < info.min or wide.max().item() > info.max:
            bad = wide[(wide < info.min) | (wide > info.max)].ravel()[:3]
            raise ValueError(
                f"{what} holds integers that {dt} (the integer type of floatX={_floatX}) cannot hold: "
                f"{[int(v) for v in bad]} outside [{info.min}, {info.max}]. Use floatX='float64', or store "
                "smaller values (e.g. codes from np.unique(values, return_inverse=True)).")
    return arr.astype(dt)


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

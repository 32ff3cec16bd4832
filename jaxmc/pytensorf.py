"""PyMC's `pymc.pytensorf` names that apply to jaxmc (`floatX`, `intX`: dtype casts); the PyTensor-graph
helpers raise NotImplementedError naming the JAX alternative."""

from __future__ import annotations

import numpy as np

from jaxmc import config
from jaxmc.pymc_names import NotInJaxmcError

__all__ = ["floatX", "intX"]

_ALTERNATIVES = {
    "gradient": "use jax.grad", "jacobian": "use jax.jacobian", "hessian": "use jax.hessian",
    "hessian_diag": "use jnp.diag(jax.hessian(f)(x))",
    "compile": "use jax.jit, or the model's compile_fn / compile_logp",
    "collect_default_updates": "jaxmc's pm.scan and pm.CustomDist need no random-generator updates",
    "constant_fold": "use .eval() on the expression",
    "make_shared_replacements": "jaxmc passes data as arguments of its programs (pm.Data)",
    "join_nonshared_inputs": "use model.compiled(): one flat vector of the free variables",
}


def floatX(X=None):
    """PyMC's `floatX(X)`: X cast to the float dtype (float64 unless set). Without X, the dtype's name, as
    `jaxmc.config.floatX()` (pytensor.config.floatX in PyMC)."""
    if X is None:
        return config.floatX()
    return _cast(X, config.floatX())


def intX(X=None):
    """PyMC's `intX(X)`: X cast to the integer dtype matching floatX (int64, or int32 with float32)."""
    if X is None:
        return config.intX()
    return _cast(X, config.intX())


def _cast(X, dtype):
    if hasattr(X, "astype"):
        return X.astype(dtype)
    return np.asarray(X, dtype=dtype)


def __getattr__(name):
    if name in _ALTERNATIVES or name in ("CallableTensor", "cont_inputs", "convert_data", "convert_observed_data",
                                         "inputvars"):
        why = _ALTERNATIVES.get(name, "jaxmc models are JAX programs, not PyTensor graphs")
        raise NotInJaxmcError(f"pymc.pytensorf.{name} is not implemented in jaxmc: {why}. The PyMC names jaxmc "
                              "has are listed in docs/pymc-api.md.")
    raise AttributeError(f"module 'jaxmc.pytensorf' has no attribute {name!r}")

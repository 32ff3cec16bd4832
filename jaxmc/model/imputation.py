"""Missing observed values, imputed as in PyMC: a free variable for the missing entries, an observed one for
the rest, and a Deterministic that puts them back together."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.exceptions import ImputationWarning
from jaxmc.graph import TensorVariable, apply
from jaxmc.model.context import UNSET
from jaxmc.model.named import Deterministic


def has_missing(observed) -> bool:
    """Whether observed data has missing entries (NaN, or masked entries of a masked array)."""
    if isinstance(observed, np.ma.MaskedArray):
        return bool(np.ma.getmaskarray(observed).any())
    return isinstance(observed, np.ndarray) and observed.dtype.kind == "f" and bool(np.isnan(observed).any())


def add_imputed(model, rv, name, *, dims, observed, transform=UNSET, default_transform=UNSET):
    """Observed data with missing entries (NaN or masked), as PyMC: a free `<name>_unobserved` variable
    for the missing entries, an observed `<name>_observed` one for the rest, and a Deterministic
    `<name>` (with the dims) that puts them back together."""
    dist = rv.owner
    if isinstance(observed, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(observed)
        values = np.asarray(observed.data, dtype=float)
    else:
        mask = np.isnan(observed)
        values = observed
    if dist.ndim_supp:
        mask = mask.any(axis=tuple(range(-dist.ndim_supp, 0)))
        if dist.ndim_supp and not np.array_equal(np.isnan(values).any(-1), np.isnan(values).all(-1)):
            raise ValueError(f"Variable {name!r}: a multivariate draw must be missing entirely or not at "
                             "all (some entries of a row are NaN, others are not)")
    warnings.warn(f"Data in {name} contains missing values and will be automatically imputed from the "
                  "sampling distribution.", ImputationWarning, stacklevel=3)
    full_shape, supp = rv.shape, rv.shape[len(rv.shape) - dist.ndim_supp:]
    k = dist.ndims_params or (0,) * len(dist.params)

    def part(sel):
        d = object.__new__(type(dist))
        d.__dict__.update(dist.__dict__)
        n = int(sel.sum())

        def pick(p, nd):
            shape = (*full_shape[: len(full_shape) - dist.ndim_supp], *jnp.shape(p)[jnp.ndim(p) - nd:])
            return jnp.broadcast_to(p, shape)[sel]

        d.params = [apply(pick, p, nd) if isinstance(p, TensorVariable) else pick(p, nd)
                    for p, nd in zip(dist.params, k)]
        d.shape, d.batch_shape, d.explicit_shape = (n, *supp), (n,), True
        node = TensorVariable(None, [], jax.ShapeDtypeStruct((n, *supp), rv.dtype), kind="rv")
        node.owner, node.model = d, None
        return node

    unobs = model.register_rv(part(mask), f"{name}_unobserved", transform=transform,
                             default_transform=default_transform)
    unobs.imputation_of = name  # its length is the number of missing values: predictive re-draws it if that changed
    obs = model.register_rv(part(~mask), f"{name}_observed", observed=values[~mask])
    dtype = rv.dtype

    def combine(u, o):
        return jnp.zeros(full_shape, dtype).at[mask].set(u).at[~mask].set(o)

    return Deterministic(name, apply(combine, unobs, obs), dims=dims, model=model)

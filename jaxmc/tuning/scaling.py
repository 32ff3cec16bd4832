"""PyMC's Hessian and scaling helpers of pymc.tuning: find_hessian, find_hessian_diag, guess_scaling (bounded
diagonal precision) and trace_cov (covariance of draws), on the compiled log density."""

from __future__ import annotations

import numpy as np

from jaxmc import cpu_ops
from jaxmc.graph import TensorVariable
from jaxmc.model import modelcontext


def find_hessian(point, vars=None, model=None, negate_output=True):
    """The Hessian of the model log density (with the Jacobian terms, as PyMC's `model.d2logp()`) at `point`
    ({value variable name: value}), over the unconstrained values of `vars` (default: every continuous free
    variable) in model order; negated (the precision) unless `negate_output=False`."""
    model = modelcontext(model)
    cm = model.compiled(jacobian=True)
    slots = _continuous_slots(model, cm, vars, "find_hessian")
    hessian = _program(model, cm, slots, "find_hessian")
    h = np.asarray(hessian(_flat(cm, point, "find_hessian"), model.data_values()))
    return -h if negate_output else h


def find_hessian_diag(point, vars=None, model=None, negate_output=True):
    """The diagonal of `find_hessian` (PyMC's `pm.find_hessian_diag`)."""
    return np.diag(find_hessian(point, vars=vars, model=model, negate_output=negate_output)).copy()


def guess_scaling(point, vars=None, model=None, scaling_bound=1e-8):
    """PyMC's guess of a diagonal precision at `point`: minus the Hessian's diagonal, its square root bounded
    to [scaling_bound, 1 / scaling_bound] (so flat or infinite curvature still gives a usable scale)."""
    model = modelcontext(model)
    h = -find_hessian_diag(point, vars, model=model, negate_output=False)
    return adjust_scaling(h, scaling_bound)


def adjust_scaling(s, scaling_bound):
    """A precision vector (or matrix, through its eigenvalues) with each scale bounded as in guess_scaling."""
    s = np.asarray(s)
    if s.ndim < 2:
        return adjust_precision(s, scaling_bound)
    val, vec = np.linalg.eigh(s)
    return vec @ np.diag(adjust_precision(val, scaling_bound)) @ vec.T


def adjust_precision(tau, scaling_bound=1e-8):
    with np.errstate(divide="ignore"):
        log_scale = np.log(np.sqrt(np.abs(tau)))
    return np.exp(np.clip(log_scale, np.log(scaling_bound), np.log(1.0 / scaling_bound))) ** 2


def trace_cov(trace, vars=None, model=None):
    """The covariance matrix of the flattened draws of `vars` (default: the model's free variables), from
    ArviZ data (chains and draws pooled), a MultiTrace or a dict {name: draws (draw first)}."""
    if vars is None:
        vars = modelcontext(model).free_RVs
    names = [v.name if isinstance(v, TensorVariable) else v for v in (vars if isinstance(vars, (list, tuple))
                                                                       else [vars])]
    columns = [_draws(trace, name) for name in names]
    return np.cov(np.concatenate(columns, axis=1).T)


def _draws(trace, name: str) -> np.ndarray:
    posterior = getattr(trace, "posterior", None)
    if posterior is not None:
        values = np.asarray(posterior[name])
        return values.reshape(values.shape[0] * values.shape[1], -1)
    values = np.asarray(trace[name])
    return values.reshape(values.shape[0], -1)


def _continuous_slots(model, cm, vars, where: str) -> list:
    if vars is None:
        return [s for s in cm.slots if not s.rv.owner.discrete]
    by_name = {s.rv.name: s for s in cm.slots} | {s.name: s for s in cm.slots}
    chosen = set()
    for var in vars if isinstance(vars, (list, tuple)) else [vars]:
        var = var.rv if isinstance(getattr(var, "rv", None), TensorVariable) else var
        name = var.name if isinstance(var, TensorVariable) else var
        slot = by_name.get(name) if isinstance(name, str) else None
        if slot is None or (isinstance(var, TensorVariable) and var is not slot.rv):
            raise ValueError(f"{where}(vars=...): {var!r} is not a free variable of this model; its free "
                             f"variables are {[s.rv.name for s in cm.slots]}")
        if slot.rv.owner.discrete:
            raise ValueError(f"{where}(vars=...): {name!r} is discrete; the Hessian is over continuous variables "
                             "only")
        chosen.add(slot.name)
    return [s for s in cm.slots if s.name in chosen]


def _flat(cm, point, where: str):
    if not hasattr(point, "items"):
        raise TypeError(f"{where}: point must be a dict {{value variable name: value}}, found "
                        f"{type(point).__name__}")
    names = {s.name for s in cm.slots} | {s.rv.name for s in cm.slots if s.transform is None}
    try:
        return cm.point_to_flat({k: v for k, v in point.items() if k in names})
    except KeyError as exc:
        raise KeyError(f"{where}: {exc.args[0]}") from None


def _program(model, cm, slots, kind: str):
    """The jitted Hessian over the slots' coordinates, `(x, data) -> (k, k)`, cached with the model."""
    import jax
    import jax.numpy as jnp

    idx = np.concatenate([np.arange(s.start, s.stop) for s in slots]) if slots else np.zeros(0, int)

    def build():
        moving = jnp.asarray(idx)

        def hessian(x, data):
            def logp(z):
                return cm.logp(x.at[moving].set(z), data)

            with cpu_ops.plain():  # forward-over-reverse: no custom gradients in the graph
                return jax.hessian(logp)(x[moving])

        return jax.jit(hessian)

    return model.program(kind, tuple(s.name for s in slots), build)

"""Where chains start: per-chain keys from the seed, initial points (support point or initvals, jittered),
and the error that names the variables when no finite start is found."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.sampling.settings import SamplingError
from jaxmc.seeds import seed_sequence


def chain_keys(random_seed, chains: int) -> np.ndarray:
    """Independent raw PRNG keys (uint32 pairs) per chain from the seed, made on the host (no compile); every
    entry of a sequence of ints counts (PyMC 6: the seed of one generator spawned per chain)."""
    seq = seed_sequence(random_seed, "pm.sample(random_seed=...)")
    return seq.generate_state(2 * chains, dtype=np.uint32).reshape(chains, 2)


def starting_points(model, cm, data, chains, initvals=None):
    """Per chain: the support points (or initvals) in the unconstrained space, and where to jitter them.

    The init program adds uniform(-1, 1) jitter to the continuous coordinates (none with initvals) and
    retries up to 10 times until the log density and its gradient are finite."""
    base = np.asarray(cm.initial_flat())
    jitter = np.ones(cm.size, base.dtype)
    for s in cm.slots:
        if s.rv.owner.discrete:
            jitter[s.start:s.stop] = 0.0  # discrete values start at their support point
    if initvals is None:
        return np.broadcast_to(base, (chains, cm.size)).copy(), jitter
    iv_list = initvals if isinstance(initvals, (list, tuple)) else [initvals] * chains
    if len(iv_list) != chains:
        raise ValueError(f"initvals: {len(iv_list)} dicts for {chains} chains")
    bases = []
    for iv in iv_list:
        if not isinstance(iv, dict):
            raise TypeError(f"initvals must be a dict {{variable name: value}} or a list of them (one per chain), "
                            f"found {type(iv).__name__}")
        point = cm.flat_to_point(base)
        for name, value in iv.items():
            name = getattr(name, "name", name)  # a variable as the key, as PyMC allows
            rv = model.named_vars.get(name)
            slot = cm.slot_of.get(rv) if rv is not None else None
            if slot is None:
                raise KeyError(f"initvals: {name!r} is not a free variable of the model; its free variables "
                               f"are {[s.rv.name for s in cm.slots]}")
            value = _initval_fitting(name, value, rv)
            u = slot.transform.forward(jnp.asarray(value), *_params_at(cm, rv, base, data)) \
                if slot.transform is not None else jnp.asarray(value)
            bad = np.flatnonzero(~np.isfinite(np.ravel(np.asarray(u))))
            if bad.size:
                raise ValueError(f"initvals[{name!r}] is not finite or outside the support of {name!r} "
                                 f"({type(rv.owner).__name__}) at flat position(s) {bad[:5].tolist()} (values "
                                 f"{np.ravel(value)[bad[:5]].tolist()}); give values inside it")
            point[slot.name] = np.broadcast_to(np.asarray(u), slot.shape)
        bases.append(np.asarray(cm.point_to_flat(point)))
    return np.stack(bases), jitter * 0.0


def _initval_fitting(name, value, rv):
    """An initval as an array of the variable's shape (a scalar broadcasts), or the error naming it."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"initvals[{name!r}] must be numeric, found {type(value).__name__} {value!r}") from None
    try:
        return np.broadcast_to(arr, rv.shape)
    except ValueError:
        raise ValueError(f"initvals[{name!r}] has shape {arr.shape} but {name!r} has shape {rv.shape}; give an "
                         "array of that shape (or a scalar)") from None


def find_start(logp, key, base, jitter, data, tries: int = 10):
    """In the init program: jittered starting point with finite log density ``logp(x, data)`` and gradient
    (or the last try)."""
    def attempt(carry):
        i, x, ok, key = carry
        key, sub = jax.random.split(key)
        cand = base + jax.random.uniform(sub, base.shape, base.dtype, -1.0, 1.0) * jitter
        lp, g = jax.value_and_grad(logp)(cand, data)
        good = jnp.isfinite(lp) & jnp.all(jnp.isfinite(g))
        return i + 1, cand, good, key

    _, x, ok, _ = jax.lax.while_loop(lambda c: (c[0] < tries) & ~c[2], attempt,
                                     (0, base, jnp.bool_(False), key))
    return x, ok


def start_failed(cm, x, ok, data, tries: int = 10):
    bad_chain = int(np.flatnonzero(~np.asarray(ok))[0])
    point = cm.flat_to_point(np.asarray(x)[bad_chain])
    terms = cm.point_function("terms")(point)
    bad = [k for k, v in terms.items() if not np.isfinite(v)]
    grad = np.asarray(jax.grad(cm.logp)(jnp.asarray(cm.point_to_flat(point)), data))
    bad_grad = [s.name for s in cm.slots if not np.all(np.isfinite(grad[s.start:s.stop]))]
    return SamplingError(
        "Initial evaluation of the model failed: no finite starting point after "
        f"{tries} tries. Log density not finite for {bad or 'none'}; gradient not finite for "
        f"{bad_grad or 'none'}. Starting point: "
        f"{ {k: np.round(v, 3).tolist() for k, v in point.items()} }. Use model.debug() to see why, "
        "or pass initvals=."
    )


def _params_at(cm, rv, flat, data):
    env, walked = cm.walk(flat, data)
    for r, _, params, _ in walked:
        if r is rv:
            return params
    return []

